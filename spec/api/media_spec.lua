-- Finalize to thumbnail end to end through `serve` and its supervised worker process,
-- on the storage backend the environment names. Tagged "storage".
local api = require("helpers.api")
local fixtures = require("helpers.fixtures")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")

local function worker_pids(server)
  local handle = io.popen("pgrep -P " .. server.pid)
  local pids = {}
  for line in handle:lines() do
    pids[#pids + 1] = tonumber(line)
  end
  handle:close()
  return pids
end

describe("media pipeline #storage", function()
  local server, account

  setup(function()
    core.db.exec("DELETE FROM jobs")
    server = server_helper.start({ env = { WORKER_PROCESSES = 1, JOB_LEASE_SECONDS = 5 } })
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
    core.db.exec("DELETE FROM jobs")
  end)

  local function wait_thumb(asset_id)
    for _ = 1, 150 do
      local asset = server.request("GET", "/api/v1/assets/" .. asset_id,
        { headers = api.bearer(account.token) }).json().asset
      if asset.thumb_status ~= "pending" then
        return asset
      end
      socket.sleep(0.1)
    end
    return nil
  end

  it("turns a finalized photo into a thumbnail and a preview", function()
    local asset = library.upload(server, account, fixtures.file("gradient-3000x2000.jpg"))
    assert.equal("pending", asset.thumb_status)
    local done = assert(wait_thumb(asset.id), "no thumbnail within 15 s")
    assert.equal("ready", done.thumb_status)
    assert.equal(3000, math.tointeger(done.width))
    local thumb = library.download(server, account, asset.id, "thumb")
    assert.same({ format = "jpeg", width = 512, height = 341 }, core.image.info(thumb))
    local preview = library.download(server, account, asset.id, "preview")
    assert.equal(2048, core.image.info(preview).width)
  end)

  it("turns a finalized video into a poster and a thumbnail, with its duration", function()
    local path = os.tmpname()
    assert(os.execute("ffmpeg -v error -y -f lavfi -i testsrc=duration=3:size=320x240:rate=10"
      .. " -pix_fmt yuv420p -f mp4 " .. path))
    local file = io.open(path, "rb")
    local bytes = file:read("a")
    file:close()
    os.remove(path)
    local asset = library.upload(server, account, bytes, { filename = "clip.mp4", content_type = "video/mp4" })
    assert.equal("video", asset.type)
    local done = assert(wait_thumb(asset.id), "no poster within 15 s")
    assert.equal("ready", done.thumb_status)
    assert.is_true(math.abs(done.duration_ms - 3000) <= 100)
    local poster = library.download(server, account, asset.id, "poster")
    assert.same({ format = "jpeg", width = 320, height = 240 }, core.image.info(poster))
    -- and the original streams with Range, as a video player asks
    local url = server.request("GET", "/api/v1/assets/" .. asset.id .. "/stream-url",
      { headers = api.bearer(account.token) }).json().url
    local part = library.fetch(server, "GET", url, { headers = { Range = "bytes=0-99" } })
    assert.equal(206, part.status)
    assert.equal(bytes:sub(1, 100), part.body)
  end)

  it("restarts a worker killed with SIGKILL, and the queue goes on", function()
    local before = worker_pids(server)
    assert.equal(1, #before)
    os.execute("kill -KILL " .. before[1])
    local after
    for _ = 1, 50 do
      after = worker_pids(server)
      if #after == 1 and after[1] ~= before[1] then
        break
      end
      socket.sleep(0.1)
    end
    assert.equal(1, #after)
    assert.not_equal(before[1], after[1])
    local asset = library.upload(server, account, fixtures.file("gradient-400x300.jpg"))
    assert.equal("ready", assert(wait_thumb(asset.id)).thumb_status)
  end)

  it("shows job statistics to operators only", function()
    assert.equal(403, server.request("GET", "/api/v1/jobs/stats", { headers = api.bearer(account.token) }).status)
  end)

  it("takes over a job whose worker died holding it, once the lease runs out", function()
    -- a job claimed by a worker that no longer exists (its lease expired a minute ago)
    local asset = library.upload(server, account, library.jpeg(5000))
    core.db.exec("UPDATE jobs SET state = 'running', lease_owner = 'worker-gone',"
      .. " lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE payload LIKE ?", "%" .. asset.id .. "%")
    -- the live worker claims it again; this JPEG is only magic bytes, so it ends failed
    -- after its attempts, with the reason on the asset
    core.db.exec("UPDATE jobs SET attempts = ? WHERE payload LIKE ?",
      core.config.job_max_attempts - 1, "%" .. asset.id .. "%")
    local done = assert(wait_thumb(asset.id), "the orphaned job was never taken over")
    assert.equal("failed", done.thumb_status)
    assert.is_string(done.media_error)
    assert.equal("ready", done.status)
  end)
end)
