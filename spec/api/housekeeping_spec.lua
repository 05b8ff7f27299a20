-- The serve process's housekeeping timer against a real server: uploads never
-- finalized past their deadline, and trash past the retention, lose bytes and rows.
local api = require("helpers.api")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")

local function wait_for(fn)
  for _ = 1, 100 do
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
    server = server_helper.start({ env = { HOUSEKEEPING_INTERVAL_SECONDS = 1 } })
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  it("removes an upload left unfinished past its deadline, bytes and row", function()
    local bytes = library.jpeg(700)
    local created = library.create(server, account, bytes).json()
    library.send(server, created.upload, bytes)
    core.db.exec("UPDATE assets SET upload_expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?",
      created.asset.id)
    local staged = "staging/" .. account.user.id .. "/" .. created.asset.id
    assert.is_true(stored(server, staged), "the staged bytes should be stored before clean-up")
    assert.is_true(wait_for(function() return row_count(created.asset.id) == 0 end))
    -- the bytes go right after the row (on S3, a DELETE away)
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
end)
