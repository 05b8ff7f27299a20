-- Sign-in throttling with its counters in Redis, against the redis-server
-- scripts/test-all starts (tagged "redis"): the same 429s as with the database, and
-- 503 (fail closed) while Redis is down.
local api = require("helpers.api")
local redis_helper = require("helpers.redis")
local server_helper = require("helpers.server")

if not redis_helper.available() then
  pending("sign-in on Redis needs the redis-server scripts/test-all starts (REDIS_URL)")
  return
end

describe("sign-in throttling on Redis #redis", function()
  local server

  setup(function()
    redis_helper.flush()
    server = server_helper.start()
  end)

  teardown(function()
    redis_helper.start()
    server.stop()
  end)

  local function login(email, password)
    return server.request("POST", "/api/v1/auth/login",
      { json = { email = email, password = password } })
  end

  it("answers 429 with Retry-After after repeated failures, counting in Redis", function()
    local email = api.unique_email("brute")
    api.signup(server, email)
    local last
    for i = 1, 8 do
      last = login(email, "guess " .. i)
    end
    assert.equal(429, last.status)
    assert.is_truthy(tonumber(last.headers["retry-after"]))
    assert.equal(429, login(email, api.PASSWORD).status)
    assert.equal(0, core.db.query("SELECT count(*) AS n FROM auth_throttle WHERE key LIKE ?",
      "%" .. email .. "%")[1].n)
  end)

  it("refuses sign-in with 503 and Retry-After while attempts cannot be counted", function()
    local account = api.signup(server)
    redis_helper.stop()
    for _, password in ipairs({ api.PASSWORD, "wrong password here" }) do
      local res = login(account.email, password)
      assert.equal(503, res.status)
      assert.equal("unavailable", res.json().error.code)
      assert.truthy(res.json().error.message:find("try again", 1, true))
      assert.equal("5", res.headers["retry-after"])
    end
    redis_helper.start()
    assert.is_string(api.login(server, account.email).token)
  end)
end)
