-- The integrity scrub end to end: a serve process with its worker and its own fresh
-- database (so its library holds only what this spec uploads), the scrub due every
-- second over all originals, and the operator's GET /api/v1/jobs/stats. Tagged
-- "storage": originals are damaged on whichever backend the environment names.
local api = require("helpers.api")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local storage_keys = require("domain.storage_keys")
local socket = require("socket")

describe("integrity scrub #storage", function()
  local server, database_dir, operator, member

  setup(function()
    database_dir = server_helper.temp_dir()
    local email
    server, email = server_helper.start_with_operator({ env = {
      DATABASE_URL = "sqlite:" .. database_dir .. "/itcloud.db", WORKER_PROCESSES = 1,
      SCRUB_INTERVAL_SECONDS = 1, SCRUB_PERCENT = 100 } })
    operator = api.signup(server, email)
    member = api.signup(server)
  end)

  teardown(function()
    server.stop()
    os.execute("rm -rf " .. database_dir)
  end)

  local function report()
    local res = server.request("GET", "/api/v1/jobs/stats", { headers = api.bearer(operator.token) })
    assert.equal(200, res.status)
    return res.json().integrity
  end

  -- the report once `test` holds for it (or the last one, after about 30 s: a scrub runs
  -- every second, but on a loaded machine the jobs before it can take a while)
  local function report_after(test)
    for _ = 1, 600 do
      local r = report()
      if test(r) then
        return r
      end
      socket.sleep(0.05)
    end
    return report()
  end

  it("reports an intact library as intact, then a changed and a missing original", function()
    local assets = {}
    for i = 1, 3 do
      assets[i] = library.upload(server, member, library.jpeg(2000 + i))
    end
    local intact = report_after(function(r) return r.ok == 3 end)
    assert.same({ originals = 3, ok = 3, mismatch = 0, missing = 0, unchecked = 0, problems = {} },
      intact)

    local function key(asset)
      return storage_keys.original(member.user.id, asset.id, asset.created_at, ".jpg")
    end
    -- one original loses a byte's worth of its content (same size), another is deleted
    if core.storage.backend() == "s3" then
      local bytes = assert(core.storage.read(key(assets[1]), 0, 10000))
      assert(core.storage.put(key(assets[1]), bytes:sub(1, -2) .. "!", "image/jpeg"))
      assert(core.storage.delete(key(assets[2])))
    else
      local path = server.data_dir .. "/media/" .. key(assets[1])
      local file = assert(io.open(path, "r+b"))
      file:seek("set", 100)
      file:write("\0")
      file:close()
      assert(os.remove(server.data_dir .. "/media/" .. key(assets[2])))
    end

    local damaged = report_after(function(r) return r.mismatch == 1 and r.missing == 1 end)
    assert.same({ 1, 1, 1 }, { damaged.ok, damaged.mismatch, damaged.missing })
    local listed = {}
    for _, problem in ipairs(damaged.problems) do
      listed[problem.asset_id] = problem.status
      assert.equal(member.user.id, problem.owner_id)
      assert.is_string(problem.checked_at)
    end
    assert.same({ [assets[1].id] = "mismatch", [assets[2].id] = "missing" }, listed)
    local logged = {}
    for line in server.log():gmatch("[^\n]+") do
      if line:find("level=error", 1, true) and line:find("original failed its integrity check", 1, true) then
        logged[line:match("asset_id=([%w-]+)")] = line:match("status=(%w+)")
      end
    end
    assert.same(listed, logged)
    -- jobs/stats still counts the queue too, and the scrub ran as jobs of its own kind
    local stats = server.request("GET", "/api/v1/jobs/stats", { headers = api.bearer(operator.token) })
    assert.is_true(stats.json().jobs["integrity.scrub"].done >= 2)
  end)
end)
