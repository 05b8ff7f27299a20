-- Jobs with Redis, against the redis-server scripts/test-all starts (tagged "redis"):
-- an idle worker starts a queued job at once, two workers share one queue without
-- running a job twice, and with Redis stopped no job is lost (workers poll).
local api = require("helpers.api")
local library = require("helpers.library")
local redis_helper = require("helpers.redis")
local server_helper = require("helpers.server")
local socket = require("socket")

if not redis_helper.available() then
  pending("jobs with Redis need the redis-server scripts/test-all starts (REDIS_URL)")
  return
end

local next_side = 100

-- `count` real photos, each new in this file: the 400x300 fixture scaled to sizes not
-- used before (an account's second copy of a file is a duplicate, not a new job).
local function photos(count)
  local file = assert(io.open("spec/fixtures/gradient-400x300.jpg", "rb"))
  local source <close> = assert(core.image.decode(file:read("a")))
  file:close()
  local list = {}
  for i = 1, count do
    next_side = next_side + 1
    local small <close> = source:thumbnail(next_side)
    list[i] = small:encode_jpeg(85)
  end
  return list
end

-- Polls check() every 0.1 s for up to `seconds`; returns its first truthy result.
local function wait_until(seconds, check)
  for _ = 1, seconds * 10 do
    local result = check()
    if result then
      return result
    end
    socket.sleep(0.1)
  end
  return nil
end

local function asset_of(server, account, id)
  return server.request("GET", "/api/v1/assets/" .. id, { headers = api.bearer(account.token) })
    .json().asset
end

local function all_done(server, account, assets)
  for _, asset in ipairs(assets) do
    if asset_of(server, account, asset.id).thumb_status == "pending" then
      return false
    end
  end
  return true
end

local function upload_all(server, account, list)
  local assets = {}
  for i, bytes in ipairs(list) do
    assets[i] = library.upload(server, account, bytes)
  end
  return assets
end

local function count_lines(text, needle)
  local count = 0
  for _ in text:gmatch(needle) do
    count = count + 1
  end
  return count
end

describe("workers woken through Redis #redis", function()
  local server, account

  setup(function()
    core.db.exec("DELETE FROM jobs")
    redis_helper.flush()
    server = server_helper.start()
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
    core.db.exec("DELETE FROM jobs")
  end)

  it("starts a queued job at once, long before the idle worker's next poll", function()
    local worker = server.start_worker({ JOB_POLL_INTERVAL_MS = 3600000, LOG_LEVEL = "debug" })
    finally(worker.stop)
    local first, second = table.unpack(photos(2))
    local one = library.upload(server, account, first)
    assert(wait_until(60, function() return all_done(server, account, { one }) end),
      "the first job never ran")
    -- the worker is idle now and its next poll is an hour away: only a wake-up starts this
    local two = library.upload(server, account, second)
    local done = wait_until(60, function() return all_done(server, account, { two }) end)
    worker.stop()
    assert(done, "the job waited for a poll:\n" .. worker.log())
    assert.equal("ready", asset_of(server, account, two.id).thumb_status)
    assert.truthy(worker.log():find("woken for jobs", 1, true))
  end)

  it("shares one queue between two worker processes: each job runs exactly once", function()
    core.db.exec("DELETE FROM jobs")
    local owner = api.signup(server)
    local workers = {
      server.start_worker({ JOB_POLL_INTERVAL_MS = 2000 }),
      server.start_worker({ JOB_POLL_INTERVAL_MS = 2000 }),
    }
    finally(function()
      for _, worker in ipairs(workers) do
        worker.stop()
      end
    end)
    local assets = upload_all(server, owner, photos(40))
    local done = wait_until(120, function() return all_done(server, owner, assets) end)
    for _, worker in ipairs(workers) do
      worker.stop()
    end
    assert(done, "jobs left undone")
    for _, asset in ipairs(assets) do
      local current = asset_of(server, owner, asset.id)
      assert.equal("ready", current.thumb_status)
      assert.is_string(current.placeholder)
    end
    -- (the workers also queue the periodic jobs, housekeeping and the scrub)
    local jobs = core.db.query("SELECT state, attempts, last_error FROM jobs"
      .. " WHERE kind = 'media.process'")
    assert.equal(40, #jobs)
    for _, job in ipairs(jobs) do
      assert.same({ state = "done", attempts = 1 }, { state = job.state, attempts = job.attempts })
    end
    -- each photo processed by one worker, once: one "media ready" line per asset over
    -- both logs, one thumbnail file per photo, and no error
    local processed = {}
    for _, worker in ipairs(workers) do
      local log = worker.log()
      assert.equal(0, count_lines(log, "level=error"))
      for id in log:gmatch('msg="media ready" asset_id=(%S+)') do
        processed[id] = (processed[id] or 0) + 1
      end
    end
    for _, asset in ipairs(assets) do
      assert.equal(1, processed[asset.id], asset.id)
    end
    local handle = io.popen("find '" .. server.data_dir .. "/media/u/" .. owner.user.id
      .. "/t' -type f | wc -l")
    assert.equal(40, tonumber(handle:read("a")))
    handle:close()
  end)
end)

describe("with Redis stopped #redis", function()
  local server, account

  setup(function()
    core.db.exec("DELETE FROM jobs")
    redis_helper.flush()
    server = server_helper.start({ env = { WORKER_PROCESSES = 1, JOB_POLL_INTERVAL_MS = 200 } })
    account = api.signup(server)
  end)

  teardown(function()
    redis_helper.start()
    server.stop()
    core.db.exec("DELETE FROM jobs")
  end)

  it("still runs the jobs queued meanwhile, by polling, and nothing is lost", function()
    local list = photos(4)
    redis_helper.stop()
    local assets = upload_all(server, account, { list[1], list[2], list[3] })
    assert(wait_until(60, function() return all_done(server, account, assets) end),
      "jobs queued while Redis was down were never run")
    redis_helper.start()
    assets[4] = library.upload(server, account, list[4])
    assert(wait_until(60, function() return all_done(server, account, assets) end))
    for _, asset in ipairs(assets) do
      assert.equal("ready", asset_of(server, account, asset.id).thumb_status)
    end
    local counts = core.db.query("SELECT count(*) AS n FROM jobs WHERE state = 'done'"
      .. " AND kind = 'media.process'")
    assert.equal(4, counts[1].n)
    assert.truthy(server.log():find("redis unavailable", 1, true))
  end)
end)
