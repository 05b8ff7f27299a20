-- GET /api/v1/jobs/stats against a real server whose policy names an operator.
local api = require("helpers.api")
local library = require("helpers.library")
local server_helper = require("helpers.server")

describe("jobs stats", function()
  local server, operator, member

  setup(function()
    core.db.exec("DELETE FROM jobs")
    local email
    server, email = server_helper.start_with_operator()
    operator = api.signup(server, email)
    member = api.signup(server)
  end)

  teardown(function()
    server.stop()
    core.db.exec("DELETE FROM jobs")
  end)

  it("counts jobs by kind and state for an operator, and refuses everyone else", function()
    library.upload(server, member, library.jpeg(1200))   -- queues one media job (no worker here)
    local res = server.request("GET", "/api/v1/jobs/stats", { headers = api.bearer(operator.token) })
    assert.equal(200, res.status)
    assert.equal(1, math.tointeger(res.json().jobs["media.process"].queued))
    local refused = server.request("GET", "/api/v1/jobs/stats", { headers = api.bearer(member.token) })
    assert.equal(403, refused.status)
    assert.equal(401, server.request("GET", "/api/v1/jobs/stats").status)
  end)
end)
