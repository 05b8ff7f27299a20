-- Finalize to thumbnail end to end through `serve` and its supervised worker process,
-- on the storage backend the environment names. Tagged "storage".
local api = require("helpers.api")
local fixtures = require("helpers.fixtures")
local hostile = require("helpers.hostile_media")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")


describe("media pipeline #storage", function()
  local server, account

  setup(function()
    server = server_helper.start_with_workers({ env = { JOB_LEASE_SECONDS = 5 } })
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  local function wait_thumb(asset_id, tries)
    for _ = 1, tries or 150 do
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

  -- A one-second MP4 from ffmpeg's test pattern, uploaded; `args` adds metadata.
  local function upload_clip(args)
    local path = os.tmpname()
    assert(os.execute("ffmpeg -v error -y -f lavfi -i testsrc=duration=1:size=160x120:rate=10"
      .. " -pix_fmt yuv420p " .. (args or "") .. " -f mp4 " .. path))
    local file = io.open(path, "rb")
    local bytes = file:read("a")
    file:close()
    os.remove(path)
    local asset = library.upload(server, account, bytes, { filename = "clip.mp4", content_type = "video/mp4" })
    return assert(wait_thumb(asset.id), "no poster within 15 s"), bytes
  end

  -- A new share's answer for `kind` (original by default), and what it shows.
  local function share_original(fields, kind)
    local share = server.request("POST", "/api/v1/shares", { headers = api.bearer(account.token),
      json = fields }).json().share
    local res = server.request("GET", "/api/v1/shares/" .. share.token .. "/download-url?kind="
      .. (kind or "original"))
    return res, server.request("GET", "/api/v1/shares/" .. share.token).json()
  end

  it("reads a video's location, and a share plays it only when it has none (F6)", function()
    local located = upload_clip("-metadata location=+48.8583+002.2945/")
    assert.same({ 48.8583, 2.2945 }, { located.gps_latitude, located.gps_longitude })
    local plain, plain_bytes = upload_clip()
    assert.equal("ready", plain.thumb_status)
    assert.is_nil(plain.gps_latitude)

    local res, view = share_original({ asset_id = plain.id, allow_download = true })
    assert.equal(200, res.status, res.body)
    assert.equal(plain_bytes, library.fetch(server, "GET", res.json().url).body)
    assert.equal(plain.id, view.asset.id)
    -- a player streams it, inline and by ranges, under the same conditions
    res = share_original({ asset_id = plain.id, allow_download = true }, "stream")
    assert.equal(200, res.status, res.body)
    local part = library.fetch(server, "GET", res.json().url, { headers = { Range = "bytes=0-99" } })
    assert.equal(206, part.status)
    assert.equal(plain_bytes:sub(1, 100), part.body)
    res = share_original({ asset_id = plain.id }, "stream")
    assert.equal(403, res.status)
    assert.equal("download_not_allowed", res.json().error.code)

    for _, kind in ipairs({ "original", "stream" }) do
      res, view = share_original({ asset_id = located.id, allow_download = true }, kind)
      assert.equal(403, res.status)
      assert.equal("location_withheld", res.json().error.code)
      assert.is_nil(view.asset.gps_latitude)
    end

    res, view = share_original({ asset_id = located.id, allow_download = true, include_location = true })
    assert.equal(200, res.status, res.body)
    assert.equal(48.8583, view.asset.gps_latitude)

    -- a video processed before locations were read may hold one
    assert(core.db.exec("UPDATE assets SET location_read = 0 WHERE id = ?", plain.id))
    assert.equal(403, share_original({ asset_id = plain.id, allow_download = true }).status)
  end)

  -- A small picture in `ext`'s format from ffmpeg (or the HEIC fixture), with what
  -- exiftool writes into it (`tags`, none when nil).
  local function picture(ext, tags)
    local bytes = ext == "heic" and hostile.heic() or hostile.picture(ext)
    return tags and hostile.tagged(bytes, ext, tags) or bytes
  end

  if os.execute("command -v exiftool >/dev/null") then
    it("finds the position of HEIC, PNG and WebP photos and XMP, and shares no such original (F6)", function()
      local exif_gps = "-GPSLatitude=48.8583 -GPSLatitudeRef=N -GPSLongitude=2.2945 -GPSLongitudeRef=E"
      local cases = {
        { "heic", "image/heic", exif_gps }, { "png", "image/png", exif_gps },
        { "webp", "image/webp", exif_gps },
        { "jpg", "image/jpeg", "-XMP-exif:GPSLatitude=48.8583 -XMP-exif:GPSLongitude=2.2945" },
      }
      for _, case in ipairs(cases) do
        local asset = library.upload(server, account, picture(case[1], case[3]),
          { filename = "located." .. case[1], content_type = case[2] })
        local done = assert(wait_thumb(asset.id), "no thumbnail within 15 s")
        assert.equal("ready", done.thumb_status, case[1])
        assert.is_near(48.8583, done.gps_latitude, 0.0001, case[1])
        assert.is_near(2.2945, done.gps_longitude, 0.0001, case[1])
        local res = share_original({ asset_id = asset.id, allow_download = true })
        assert.equal(403, res.status, case[1])
        assert.equal("location_withheld", res.json().error.code)
      end
      -- the same formats without a position are shared
      for _, case in ipairs(cases) do
        local asset = library.upload(server, account, picture(case[1]),
          { filename = "plain." .. case[1], content_type = case[2] })
        assert.equal("ready", assert(wait_thumb(asset.id), "no thumbnail within 15 s").thumb_status)
        local res = share_original({ asset_id = asset.id, allow_download = true })
        assert.equal(200, res.status, case[1] .. " " .. res.body)
      end
    end)
  end

  it("restarts a worker killed with SIGKILL, and the queue goes on", function()
    local before = server.worker_pids()
    assert.equal(1, #before)
    os.execute("kill -KILL " .. before[1])
    local after
    for _ = 1, 50 do
      after = server.worker_pids()
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

  it("finishes a job whose worker was killed with SIGKILL in the middle of it", function()
    local photo = fixtures.file("gradient-3000x2000.jpg")
    local function job_of(asset_id)
      return core.db.query("SELECT state, attempts, lease_owner FROM jobs WHERE payload LIKE ?",
        "%" .. asset_id .. "%")[1]
    end
    local function dead(pid)
      local file = io.open("/proc/" .. pid .. "/stat")
      if not file then
        return true
      end
      local state = file:read("a"):match("^%d+ %b() (%a)")
      file:close()
      return state == "Z"
    end
    -- catch the worker while it holds the job; when the job finished first, try again
    local asset, killed
    for try = 1, 10 do
      asset = library.upload(server, account, photo .. string.rep("\0", try))
      local running = false
      local give_up = socket.gettime() + 5
      while socket.gettime() < give_up do
        local job = job_of(asset.id)
        running = job and job.state == "running"
        if running or (job and job.state == "done") then
          break
        end
      end
      if running then
        local pid = server.worker_pids()[1]
        os.execute("kill -KILL " .. pid)
        while not dead(pid) do
          socket.sleep(0.01)
        end
        -- a dead worker writes nothing more: if the job is still running, it died with it
        if job_of(asset.id).state == "running" then
          killed = true
          break
        end
      end
      assert(wait_thumb(asset.id))
    end
    assert.is_true(killed, "the worker was never caught in the middle of a job")
    -- serve starts another worker, which takes the job over once its lease (5 s) is out
    local done = assert(wait_thumb(asset.id, 300), "the job was not taken over")
    assert.equal("ready", done.thumb_status)
    local job = job_of(asset.id)
    assert.same({ "done", 2 }, { job.state, job.attempts })
    assert.equal(512, core.image.info(library.download(server, account, asset.id, "thumb")).width)
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
