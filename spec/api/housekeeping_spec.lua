-- The housekeeping job against a real server and its worker: uploads never finalized
-- past their deadline, and trash past the retention, lose bytes and rows; and with
-- several workers in several serve processes, each period's round runs once.
local api = require("helpers.api")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")

-- Whether fn() comes true within about 30 s: a round and its storage requests are
-- quick, but on a loaded machine (and on S3, where each is a request with retries)
-- they can take seconds.
local function wait_for(fn)
  for _ = 1, 600 do
    if fn() then
      return true
    end
    socket.sleep(0.05)
  end
  return false
end

-- Whether an object is stored: a file in the server's own DATA_DIR for the local
-- backend, a HEAD through core.storage (the same bucket as the server's) for S3.
local function stored(server, key)
  if core.storage.backend() == "s3" then
    return core.storage.head(key) ~= nil
  end
  local file = io.open(server.data_dir .. "/media/" .. key, "rb")
  if file then
    file:close()
  end
  return file ~= nil
end

local function row_count(id)
  local rows = assert(core.db.query("SELECT count(*) AS n FROM assets WHERE id = ?", id))
  return rows[1].n
end

describe("housekeeping", function()
  local server, account

  setup(function()
    server = server_helper.start_with_workers({ env = { HOUSEKEEPING_INTERVAL_SECONDS = 1 } })
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  it("removes an upload left unfinished past its deadline, bytes and row", function()
    local bytes = library.jpeg(700)
    local created = library.create(server, account, bytes).json()
    library.send(server, created.upload, bytes)
    local staged = "staging/" .. account.user.id .. "/" .. created.asset.id
    -- looked at before the deadline passes: from then on, a round may remove it any time
    assert.is_true(stored(server, staged), "the staged bytes should be stored before clean-up")
    core.db.exec("UPDATE assets SET upload_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?",
      created.asset.id)
    assert.is_true(wait_for(function() return row_count(created.asset.id) == 0 end))
    -- the row goes first, its bytes right after (on S3, a request later)
    assert.is_true(wait_for(function() return not stored(server, staged) end))
  end)

  it("keeps uploads still within their deadline", function()
    local created = library.create(server, account, library.jpeg(701)).json()
    socket.sleep(1.5)
    assert.equal(1, row_count(created.asset.id))
  end)

  it("deletes for good what stayed in the trash past the retention", function()
    local old = library.upload(server, account, library.jpeg(702))
    local recent = library.upload(server, account, library.jpeg(703))
    server.request("DELETE", "/api/v1/assets/" .. old.id, { headers = api.bearer(account.token) })
    server.request("DELETE", "/api/v1/assets/" .. recent.id, { headers = api.bearer(account.token) })
    core.db.exec("UPDATE assets SET deleted_at = '2000-01-01T00:00:00.000Z' WHERE id = ?", old.id)
    assert.is_true(wait_for(function() return row_count(old.id) == 0 end))
    assert.equal(1, row_count(recent.id))
  end)

  it("sweeps what a replayed upload URL writes after finalize, once the URL has expired", function()
    local bytes = library.jpeg(704)
    local created = library.create(server, account, bytes).json()
    library.send(server, created.upload, bytes)
    assert.equal(200, library.finalize(server, account, created.asset.id).status)
    -- the replay is accepted by storage (the URL is still valid) ...
    library.send(server, created.upload, bytes)
    local staged = "staging/" .. account.user.id .. "/" .. created.asset.id
    assert.is_true(stored(server, staged))
    -- ... and swept once the sweep is due (here: made due at once)
    core.db.exec("UPDATE storage_sweeps SET sweep_after = '2000-01-01T00:00:00.000Z'")
    assert.is_true(wait_for(function() return not stored(server, staged) end))
  end)

  it("runs each period's round once, with three workers in two serve processes", function()
    local second = server_helper.start({ env = { HOUSEKEEPING_INTERVAL_SECONDS = 1,
      WORKER_PROCESSES = 2 } })
    local first_slot = core.time.iso8601(core.time.unix() + 1)
    local function rounds()
      return core.db.query("SELECT schedule_slot, state, attempts FROM jobs"
        .. " WHERE kind = 'housekeeping' AND schedule_slot >= ? ORDER BY schedule_slot", first_slot)
    end
    local finished = wait_for(function()
      local rows = rounds()
      return #rows >= 3 and rows[3].state == "done"
    end)
    second.stop()
    assert.is_true(finished, "three periods should have had their round by now")
    local seen = {}
    for _, row in ipairs(rounds()) do
      assert.is_nil(seen[row.schedule_slot], "two rounds for " .. row.schedule_slot)
      seen[row.schedule_slot] = true
      if row.state == "done" then
        assert.equal(1, row.attempts)   -- claimed by one worker, never taken over
      end
    end
  end)
end)
