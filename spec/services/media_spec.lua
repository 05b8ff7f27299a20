-- services.media: the hand-off from finalize (a queued job) and the media.process job
-- itself, run through services.jobs on the shared spec database and the local store.
local assets_repo = require("repositories.assets")
local fixtures = require("helpers.fixtures")
local jobs = require("services.jobs")
local media = require("services.media")

if core.storage.backend() ~= "local" then
  pending("services.media specs write originals straight into the local store")
  return
end

-- A ready asset whose original holds `bytes`.
local function stored_photo(owner, bytes, fields)
  local f = { status = "ready", size_bytes = #bytes }
  for key, value in pairs(fields or {}) do
    f[key] = value
  end
  local asset = fixtures.asset(owner, f)
  fixtures.put(asset.storage_key_original, bytes)
  return asset
end

local function job_rows(asset)
  return core.db.query("SELECT state, attempts, last_error FROM jobs WHERE payload LIKE ?",
    "%" .. asset.id .. "%")
end

describe("services.media", function()
  before_each(function()
    core.db.exec("DELETE FROM jobs")   -- leftovers of other specs are not ours to run
  end)

  teardown(function()
    core.db.exec("DELETE FROM jobs")
    fixtures.cleanup()
  end)

  it("queues one media.process job when an asset becomes ready", function()
    local asset = fixtures.asset(fixtures.user("svc-media"), { status = "ready" })
    assert.is_true(media.asset_ready(asset))
    local rows = job_rows(asset)
    assert.equal(1, #rows)
    assert.equal("queued", rows[1].state)
  end)

  it("makes a 512 px thumbnail and a 2048 px preview, and records the dimensions", function()
    local owner = fixtures.user("svc-media")
    local asset = stored_photo(owner, fixtures.file("gradient-3000x2000.jpg"))
    media.asset_ready(asset)
    assert.is_true(jobs.run_one())
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.equal("ready", row.media_status)
    assert.equal(3000, row.width)
    assert.equal(2000, row.height)
    local thumb = core.image.decode(assert(fixtures.stored(row.storage_key_thumb)), {})
    assert.same({ 512, 341 }, { thumb:size() })
    -- the red marker of the source's top-left corner is still top-left (pixels, not just size)
    local r, g = thumb:pixel(10, 10)
    assert.is_true(r > 200 and g < 60, string.format("r=%d g=%d", r, g))
    thumb:close()
    local preview = core.image.info(assert(fixtures.stored(row.storage_key_preview)))
    assert.equal(2048, preview.width)
    assert.equal("done", job_rows(asset)[1].state)
    -- a BlurHash placeholder (4x3 components: 4 + 2*12 characters)
    assert.equal(28, #row.placeholder)
    assert.equal("L", row.placeholder:sub(1, 1))
  end)

  it("applies the EXIF orientation and takes the capture time when the upload had none", function()
    local owner = fixtures.user("svc-media")
    local asset = stored_photo(owner, fixtures.file("gradient-3000x2000.jpg"))
    local images = require("infra.images")
    local rotated = fixtures.load_with("services.media", {
      ["infra.images"] = {
        info = images.info,
        decode = images.decode,
        decode_file = images.decode_file,
        exif = function()
          return { orientation = 6, captured_at = "2019-07-04T10:00:00+02:00", make = "Canon",
            model = "EOS R5", lens_model = "RF24-105mm", exposure_time = "1/125", f_number = 4.0,
            iso = 200, focal_length = 50.0, gps_latitude = -33.8568, gps_longitude = 151.2153 }
        end,
      },
    })
    assert.is_true(rotated.process({ asset_id = asset.id, owner_id = owner.id }))
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.same({ 2000, 3000 }, { row.width, row.height })
    assert.equal("2019-07-04T08:00:00.000Z", row.captured_at)
    assert.equal(row.captured_at, row.sort_at)
    assert.same({ "Canon", "EOS R5", "RF24-105mm", "1/125", 4.0, 200, 50.0, -33.8568, 151.2153 },
      { row.camera_make, row.camera_model, row.lens_model, row.exposure_time, row.f_number,
        row.iso, row.focal_length, row.gps_latitude, row.gps_longitude })
    local shown = require("services.assets").present(row)
    assert.equal("EOS R5", shown.camera_model)
    assert.equal(-33.8568, shown.gps_latitude)
    local thumb = core.image.decode(fixtures.stored(row.storage_key_thumb), {})
    assert.same({ 341, 512 }, { thumb:size() })
    -- orientation 6 turns the picture clockwise: the red top-left corner is now top-right
    local r, g = thumb:pixel(330, 10)
    assert.is_true(r > 200 and g < 60, string.format("r=%d g=%d", r, g))
    thumb:close()
  end)

  it("fails for good, without running it again, a job whose worker died on its last try", function()
    local owner = fixtures.user("svc-media")
    local asset = stored_photo(owner, fixtures.file("gradient-400x300.jpg"))
    media.asset_ready(asset)
    -- the last attempt's worker crashed: its lease ran out with the job still running
    core.db.exec("UPDATE jobs SET state = 'running', attempts = ?, lease_owner = 'worker-gone',"
      .. " lease_expires_at = '2000-01-01T00:00:00.000Z' WHERE payload LIKE ?",
      core.config.job_max_attempts, "%" .. asset.id .. "%")
    assert.is_true(jobs.run_one())
    local job = job_rows(asset)[1]
    assert.equal("failed", job.state)
    assert.equal("the worker running it stopped (a crash, or the memory or time limit)",
      job.last_error)
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.equal("failed", row.media_status)   -- not run again: this photo would decode
    assert.equal(job.last_error, row.media_error)
    assert.is_false(jobs.run_one())            -- and nothing is left to claim
  end)

  it("makes no preview for a photo no larger than the thumbnail box allows", function()
    local owner = fixtures.user("svc-media")
    local asset = stored_photo(owner, fixtures.file("gradient-400x300.jpg"))
    media.asset_ready(asset)
    assert.is_true(jobs.run_one())
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.equal("ready", row.media_status)
    assert.is_nil(row.storage_key_preview)
    assert.same({ 400, 300 }, { core.image.decode(fixtures.stored(row.storage_key_thumb), {}):size() })
  end)

  it("retries a file it cannot decode, then marks it failed with the reason", function()
    local owner = fixtures.user("svc-media")
    local broken = fixtures.file("gradient-400x300.jpg"):sub(1, 600)
    local asset = stored_photo(owner, broken)
    media.asset_ready(asset)
    assert.is_true(jobs.run_one())
    local rows = job_rows(asset)
    assert.equal("queued", rows[1].state)
    assert.equal(1, rows[1].attempts)
    for _ = 2, core.config.job_max_attempts do
      core.db.exec("UPDATE jobs SET run_after = '2000-01-01T00:00:00.000Z' WHERE state = 'queued'")
      assert.is_true(jobs.run_one())
    end
    assert.equal("failed", job_rows(asset)[1].state)
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.equal("failed", row.media_status)
    assert.is_string(row.media_error)
    assert.equal("ready", row.status)   -- the original stays downloadable
  end)

  -- A test video made by ffmpeg itself (its test pattern), `seconds` long.
  local function make_video(owner, seconds)
    local asset = fixtures.asset(owner, { status = "ready", type = "video", content_type = "video/mp4" })
    local path = core.storage.local_path(asset.storage_key_original)
    assert(os.execute("mkdir -p " .. path:match("^(.*)/") .. " && ffmpeg -v error -y -f lavfi -i"
      .. " testsrc=duration=" .. seconds .. ":size=320x240:rate=10 -pix_fmt yuv420p -f mp4 " .. path))
    local file = io.open(path, "rb")
    local size = #file:read("a")
    file:close()
    core.db.exec("UPDATE assets SET size_bytes = ? WHERE id = ?", size, asset.id)
    return asset
  end

  it("makes a poster about a second into a video, and its thumbnail, with the duration", function()
    local owner = fixtures.user("svc-media")
    local asset = make_video(owner, 3)
    assert.is_true(media.process({ asset_id = asset.id, owner_id = owner.id }))
    local row = assets_repo.find_owned(asset.id, owner.id)
    assert.equal("ready", row.media_status)
    assert.same({ 320, 240 }, { row.width, row.height })
    assert.is_true(math.abs(row.duration_ms - 3000) <= 100, tostring(row.duration_ms))
    assert.same({ format = "jpeg", width = 320, height = 240 },
      core.image.info(assert(fixtures.stored(row.storage_key_poster))))
    assert.equal(320, core.image.info(assert(fixtures.stored(row.storage_key_thumb))).width)
  end)

  it("takes the first frame of a clip shorter than two seconds", function()
    local owner = fixtures.user("svc-media")
    local asset = make_video(owner, 0.5)
    assert.is_true(media.process({ asset_id = asset.id, owner_id = owner.id }))
    assert.is_string(assets_repo.find_owned(asset.id, owner.id).storage_key_poster)
  end)

  it("fails a broken video with the reason (to be retried), never hangs", function()
    local owner = fixtures.user("svc-media")
    local asset = fixtures.asset(owner, { status = "ready", type = "video", content_type = "video/mp4" })
    fixtures.put(asset.storage_key_original, "\0\0\0\24ftypisom" .. string.rep("x", 500))
    local ok, reason = media.process({ asset_id = asset.id, owner_id = owner.id })
    assert.is_nil(ok)
    assert.is_string(reason)
  end)

  it("marks types it has no thumbnailer for, and skips assets that are gone", function()
    local owner = fixtures.user("svc-media")
    local tiff = fixtures.asset(owner, { status = "ready", content_type = "image/tiff" })
    assert.is_true(media.process({ asset_id = tiff.id, owner_id = owner.id }))
    local row = assets_repo.find_owned(tiff.id, owner.id)
    assert.equal("failed", row.media_status)
    assert.matches("no thumbnailer", row.media_error)
    assert.is_true(media.process({ asset_id = "01900000-0000-7000-8000-000000000000", owner_id = owner.id }))
  end)

  it("has nothing to run when the queue is empty", function()
    assert.is_false(jobs.run_one())
    assert.equal(0, jobs.run_due(5))
  end)
end)
