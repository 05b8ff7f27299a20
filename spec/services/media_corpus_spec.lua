-- The media corpus (spec/fixtures/media, made by scripts/make-media-fixtures) through the
-- media.process job: every picture is the same quadrant picture as displayed (800x600, red
-- top-left, green top-right, blue bottom-left, white bottom-right), stored in another
-- format, turned or mirrored with an EXIF orientation, so the thumbnail's size and its
-- sampled quadrants say whether it was decoded, turned and coloured right. Each file goes
-- through both ways the job reads an original: from its file (the local backend) and
-- from memory (as on S3).
local assets_repo = require("repositories.assets")
local fixtures = require("helpers.fixtures")
local jobs = require("services.jobs")
local media = require("services.media")

if core.storage.backend() ~= "local" then
  pending("the corpus specs write originals straight into the local store")
  return
end

local TYPES = { jpg = "image/jpeg", png = "image/png", gif = "image/gif", webp = "image/webp",
  heic = "image/heic", mp4 = "video/mp4", mov = "video/quicktime" }

-- A ready asset of `owner` whose original is the corpus file `name`.
local function stored(owner, name)
  local bytes = fixtures.file("media/" .. name)
  local ext = name:match("%.(%w+)$")
  local asset = fixtures.asset(owner, { status = "ready", size_bytes = #bytes,
    content_type = TYPES[ext], type = TYPES[ext]:match("^video") and "video" or "photo",
    original_filename = name })
  fixtures.put(asset.storage_key_original, bytes)
  return asset
end

local RED, GREEN, BLUE, WHITE = { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }, { 255, 255, 255 }

-- The thumbnail's colour at the middle of each quadrant, against `want` (tl, tr, bl, br).
local function assert_quadrants(thumb, want, label)
  local w, h = thumb:size()
  local spots = { { w // 4, h // 4 }, { 3 * w // 4, h // 4 }, { w // 4, 3 * h // 4 },
    { 3 * w // 4, 3 * h // 4 } }
  for i, spot in ipairs(spots) do
    local got = { thumb:pixel(spot[1], spot[2]) }
    for c = 1, 3 do
      assert(math.abs(got[c] - want[i][c]) <= 40, string.format(
        "%s: quadrant %d at %d,%d is %d,%d,%d, want %d,%d,%d", label, i, spot[1], spot[2],
        got[1], got[2], got[3], want[i][1], want[i][2], want[i][3]))
    end
  end
end

-- Runs the job of a stored asset with `service` and returns its row and thumbnail bitmap.
local function process(service, owner, asset)
  assert.is_true(service.process({ asset_id = asset.id, owner_id = owner.id }))
  local row = assets_repo.find_owned(asset.id, owner.id)
  assert.equal("ready", row.media_status, row.media_error)
  local thumb = assert(core.image.decode(assert(fixtures.stored(row.storage_key_thumb))))
  return row, thumb
end

-- services.media as on S3: no local file, the original read into memory
local in_memory = fixtures.load_with("services.media", {
  ["infra.storage"] = { local_path = function() return nil end },
})

local UPRIGHT = { RED, GREEN, BLUE, WHITE }
local PICTURES = {
  "orient-1.jpg", "orient-2.jpg", "orient-3.jpg", "orient-4.jpg", "orient-5.jpg",
  "orient-6.jpg", "orient-7.jpg", "orient-8.jpg", "progressive.jpg", "cmyk.jpg", "16bit.png",
  "quadrants.gif", "quadrants.webp", "quadrants.heic",
}

describe("the media corpus", function()
  local owner

  setup(function()
    owner = fixtures.user("corpus")
  end)

  teardown(function()
    core.db.exec("DELETE FROM jobs")
    fixtures.cleanup()
  end)

  for _, way in ipairs({ { "from its file", media }, { "from memory", in_memory } }) do
    for _, name in ipairs(PICTURES) do
      it(name .. ", read " .. way[1] .. ": a 512x384 upright thumbnail and its size", function()
        local row, thumb = process(way[2], owner, stored(owner, name))
        assert.same({ 512, 384 }, { thumb:size() })
        assert_quadrants(thumb, UPRIGHT, name)
        thumb:close()
        assert.same({ 800, 600 }, { row.width, row.height })
        assert.is_nil(row.storage_key_preview)        -- no larger than the preview box
        assert.equal(28, #row.placeholder)
      end)
    end
  end

  it("goes through the queue like any upload (asset_ready, then a worker's run)", function()
    core.db.exec("DELETE FROM jobs")
    local asset = stored(owner, "orient-8.jpg")
    media.asset_ready(asset)
    assert.is_true(jobs.run_one())
    local row = assets_repo.find_owned(asset.id, owner.id)
    local thumb = core.image.decode(fixtures.stored(row.storage_key_thumb))
    assert_quadrants(thumb, UPRIGHT, "orient-8.jpg")
    thumb:close()
  end)

  it("flattens a transparent quadrant onto white in the JPEG thumbnail", function()
    local _, thumb = process(media, owner, stored(owner, "alpha.png"))
    assert.same({ 512, 384 }, { thumb:size() })
    assert_quadrants(thumb, { RED, WHITE, BLUE, WHITE }, "alpha.png")
    thumb:close()
  end)

  it("records the camera, exposure, place and capture time from EXIF", function()
    local row = process(media, owner, stored(owner, "orient-6.jpg"))
    assert.equal("2021-06-15T12:30:00.000Z", row.captured_at)
    assert.equal(row.captured_at, row.sort_at)
    assert.same({ "Fixture Optics", "FX-6", "1/250", 2.8, 400, 35.0 },
      { row.camera_make, row.camera_model, row.exposure_time, row.f_number, row.iso,
        row.focal_length })
    assert.is_true(math.abs(row.gps_latitude - 48.8584) < 1e-4)
    assert.is_true(math.abs(row.gps_longitude - 2.2945) < 1e-4)
  end)

  for _, name in ipairs({ "clip.mp4", "clip.mov" }) do
    it(name .. ": a poster, its thumbnail, the duration and the creation time", function()
      local row, thumb = process(media, owner, stored(owner, name))
      assert.same({ 320, 240 }, { thumb:size() })
      thumb:close()
      assert.same({ 320, 240 }, { row.width, row.height })
      assert.is_true(math.abs(row.duration_ms - 3000) <= 100, tostring(row.duration_ms))
      assert.equal("2020-01-02T03:04:05.000Z", row.captured_at)
      local poster = core.image.info(assert(fixtures.stored(row.storage_key_poster)))
      assert.same({ format = "jpeg", width = 320, height = 240 }, poster)
    end)
  end
end)
