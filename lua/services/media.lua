--- Media processing: finalize hands each ready asset over (asset_ready queues a job in
-- the same transaction), and the job makes the thumbnail (longest side 512) and, for
-- photos larger than that, a preview (longest side 2048), with EXIF orientation
-- applied, and records dimensions, the capture time and camera metadata (EXIF).
local config = require("core.config")
local log = require("core.log")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local images = require("infra.images")
local jobs = require("services.jobs")
local storage = require("infra.storage")
local storage_keys = require("domain.storage_keys")
local video = require("infra.video")

local M = {}

local THUMB_SIDE, THUMB_QUALITY = 512, 80
local PREVIEW_SIDE, PREVIEW_QUALITY = 2048, 85
local PLACEHOLDER_SIDE = 32
-- core.storage.read reads at most this much; larger originals are decoded from their file
-- on the local backend, and wait for streaming reads on S3
local MAX_ORIGINAL_BYTES = 64 * 1024 * 1024
-- a JPEG's EXIF (APP1) comes before its pixels, within the first segments
local EXIF_HEAD_BYTES = 256 * 1024
local DECODABLE = { ["image/jpeg"] = true, ["image/png"] = true, ["image/webp"] = true,
  ["image/gif"] = true, ["image/bmp"] = true, ["image/heic"] = true, ["image/heif"] = true }
-- libheif applies a HEIC's own rotation and mirroring: EXIF orientation must not turn
-- the picture a second time
local ORIENTED_BY_DECODER = { ["image/heic"] = true, ["image/heif"] = true }

--- Called once, inside finalize's transaction, when an asset became ready.
-- @return true | nil, err
function M.asset_ready(asset)
  return jobs.enqueue("media.process", { asset_id = asset.id, owner_id = asset.owner_id })
end

-- "2024:05:01 10:00:00"-style or RFC 3339 capture time from EXIF, as stored text.
local function capture_time(exif)
  if type(exif.captured_at) ~= "string" then
    return nil
  end
  local text = exif.captured_at:gsub("^(%d%d%d%d):(%d%d):(%d%d)", "%1-%2-%3")
  local seconds = clock.parse(text) or clock.parse(text .. "Z")
  return seconds and clock.iso(seconds) or nil
end

local function encode_oriented(bitmap, quality, orientation)
  local upright = bitmap:orient(orientation)
  local bytes = upright:encode_jpeg(quality)
  upright:close()
  return bytes
end

-- From a bitmap decoded into the preview box, writes the thumbnail (and the preview when
-- the stored picture is larger than that box), and makes the placeholder. Returns the
-- fields for set_media.
local function make_derivatives(asset, bitmap, orientation)
  local width, height = bitmap:source_size()
  -- the thumbnail, and from it (not from the full picture again) the BlurHash the grid
  -- paints before thumbnails arrive: the hash keeps only broad shapes
  local small = bitmap:thumbnail(THUMB_SIDE)
  local upright = small:orient(orientation)
  small:close()
  local thumb = upright:encode_jpeg(THUMB_QUALITY)
  local tiny = upright:thumbnail(PLACEHOLDER_SIDE)
  upright:close()
  local placeholder = tiny:blurhash(4, 3)
  tiny:close()
  local preview = math.max(width, height) > PREVIEW_SIDE
    and encode_oriented(bitmap, PREVIEW_QUALITY, orientation) or nil
  bitmap:close()
  local made = { source_width = width, source_height = height, placeholder = placeholder }
  made.storage_key_thumb = storage_keys.derivative("thumb", asset.owner_id, asset.id, asset.created_at)
  local ok, put_err = storage.put(made.storage_key_thumb, thumb, "image/jpeg")
  if not ok then
    return nil, put_err
  end
  if preview then
    made.storage_key_preview = storage_keys.derivative("preview", asset.owner_id, asset.id,
      asset.created_at)
    ok, put_err = storage.put(made.storage_key_preview, preview, "image/jpeg")
    if not ok then
      return nil, put_err
    end
  end
  return made
end

-- Stores what the job found and made.
local function record(asset, made)
  local changed, set_err = assets_repo.set_media(asset.id, asset.owner_id, made, clock.iso())
  if not changed then
    return nil, set_err
  end
  log.info("media ready", { mod = "services.media", asset_id = asset.id,
    preview = made.storage_key_preview ~= nil, poster = made.storage_key_poster ~= nil })
  return true
end

-- A video: ffprobe for its facts, ffmpeg for a frame about a second in (the first
-- frame of shorter clips), which becomes the poster and goes through the photo path.
local function process_video(asset)
  local input = storage.local_path(asset.storage_key_original)
    or storage.presign_get(asset.storage_key_original, { ttl = 900,
      content_type = asset.content_type, disposition = "inline" })
  local facts, probe_err = video.probe(input)
  if not facts then
    return nil, probe_err
  end
  local at = facts.duration_ms >= 2000 and 1 or 0
  local frame, frame_err = video.frame(input, at)
  if not frame and at > 0 then
    frame, frame_err = video.frame(input, 0)
  end
  if not frame then
    return nil, frame_err
  end
  local bitmap, decode_err = images.decode(frame, config.max_image_pixels, PREVIEW_SIDE)
  if not bitmap then
    return nil, decode_err
  end
  local made, err = make_derivatives(asset, bitmap, 1)
  if not made then
    return nil, err
  end
  made.storage_key_poster = storage_keys.derivative("poster", asset.owner_id, asset.id,
    asset.created_at)
  local ok, put_err = storage.put(made.storage_key_poster, frame, "image/jpeg")
  if not ok then
    return nil, put_err
  end
  made.width, made.height = made.source_width, made.source_height
  made.duration_ms = facts.duration_ms
  made.gps_latitude, made.gps_longitude = facts.gps_latitude, facts.gps_longitude
  made.location_read = facts.location_read
  made.captured_at = facts.created_at and capture_time({ captured_at = facts.created_at })
  return record(asset, made)
end

--- Make the derivatives of one asset (the media.process job).
-- @param payload { asset_id, owner_id }
-- @return true | nil, reason (retried, then failed for good)
function M.process(payload)
  local asset, err = assets_repo.find_owned(payload.asset_id, payload.owner_id)
  if err then
    return nil, "asset lookup failed: " .. err
  end
  if not asset or asset.status ~= "ready" then
    return true   -- purged or never finished: nothing to make
  end
  if asset.type == "video" then
    return process_video(asset)
  end
  if not DECODABLE[asset.content_type] then
    assets_repo.set_media_failed(asset.id, asset.owner_id,
      "no thumbnailer for " .. asset.content_type .. " yet", clock.iso())
    return true
  end
  -- on the local backend the original is a file the decoder reads itself; on S3 it is
  -- read into memory whole
  local path = storage.local_path(asset.storage_key_original)
  if not path and asset.size_bytes > MAX_ORIGINAL_BYTES then
    assets_repo.set_media_failed(asset.id, asset.owner_id, "the original is too large to read",
      clock.iso())
    return true
  end
  local bytes, read_err = storage.read(asset.storage_key_original, 0,
    path and math.min(asset.size_bytes, EXIF_HEAD_BYTES) or asset.size_bytes)
  if not bytes then
    return nil, read_err
  end
  local exif = images.exif(bytes) or {}
  local orientation = math.tointeger(exif.orientation) or 1
  if orientation < 1 or orientation > 8 or ORIENTED_BY_DECODER[asset.content_type] then
    orientation = 1
  end
  local bitmap, decode_err
  if path then
    bitmap, decode_err = images.decode_file(path, config.max_image_pixels, PREVIEW_SIDE)
  else
    bitmap, decode_err = images.decode(bytes, config.max_image_pixels, PREVIEW_SIDE)
  end
  if not bitmap then
    return nil, decode_err
  end
  local made, err_make = make_derivatives(asset, bitmap, orientation)
  if not made then
    return nil, err_make
  end
  local turned = orientation >= 5
  made.width = turned and made.source_height or made.source_width
  made.height = turned and made.source_width or made.source_height
  made.captured_at = capture_time(exif)
  made.camera_make, made.camera_model, made.lens_model = exif.make, exif.model, exif.lens_model
  made.exposure_time, made.f_number, made.iso = exif.exposure_time, exif.f_number, exif.iso
  made.focal_length = exif.focal_length
  made.gps_latitude, made.gps_longitude = exif.gps_latitude, exif.gps_longitude
  made.location_read = not exif.location_unknown
  return record(asset, made)
end

--- The job failed for good: the asset shows why.
function M.process_failed(payload, reason)
  assets_repo.set_media_failed(payload.asset_id, payload.owner_id, reason, clock.iso())
end

return M
