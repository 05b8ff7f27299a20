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

local M = {}

local THUMB_SIDE, THUMB_QUALITY = 512, 80
local PREVIEW_SIDE, PREVIEW_QUALITY = 2048, 85
local PLACEHOLDER_SIDE = 32
-- core.storage.read reads at most this much; larger originals wait for streaming decode
local MAX_ORIGINAL_BYTES = 64 * 1024 * 1024
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

-- A BlurHash of the picture, so the grid can paint its colours before the thumbnail
-- arrives (computed on a 32 px copy: the hash only keeps the broad shapes).
local function make_placeholder(bitmap, orientation)
  local tiny = bitmap:thumbnail(PLACEHOLDER_SIDE)
  local turned = tiny:orient(orientation)
  tiny:close()
  local hash = turned.blurhash and turned:blurhash(4, 3) or nil
  turned:close()
  return hash
end

local function encode_side(bitmap, side, quality, orientation)
  local small = bitmap:thumbnail(side)
  local turned = small:orient(orientation)
  small:close()
  local bytes = turned:encode_jpeg(quality)
  turned:close()
  return bytes
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
  if not DECODABLE[asset.content_type] then
    assets_repo.set_media_failed(asset.id, asset.owner_id,
      "no thumbnailer for " .. asset.content_type .. " yet", clock.iso())
    return true
  end
  if asset.size_bytes > MAX_ORIGINAL_BYTES then
    assets_repo.set_media_failed(asset.id, asset.owner_id, "the original is too large to read",
      clock.iso())
    return true
  end
  local bytes, read_err = storage.read(asset.storage_key_original, 0, asset.size_bytes)
  if not bytes then
    return nil, read_err
  end
  local info, info_err = images.info(bytes)
  if not info then
    return nil, info_err
  end
  local exif = images.exif(bytes)
  local orientation = exif and math.tointeger(exif.orientation) or 1
  if orientation < 1 or orientation > 8 or ORIENTED_BY_DECODER[asset.content_type] then
    orientation = 1
  end
  local longest = math.max(info.width, info.height)
  local bitmap, decode_err = images.decode(bytes, config.max_image_pixels,
    math.min(longest, PREVIEW_SIDE))
  if not bitmap then
    return nil, decode_err
  end
  local thumb = encode_side(bitmap, THUMB_SIDE, THUMB_QUALITY, orientation)
  local placeholder = make_placeholder(bitmap, orientation)
  local preview = longest > PREVIEW_SIDE and encode_side(bitmap, PREVIEW_SIDE, PREVIEW_QUALITY,
    orientation) or nil
  bitmap:close()

  local thumb_key = storage_keys.derivative("thumb", asset.owner_id, asset.id, asset.created_at)
  local ok, put_err = storage.put(thumb_key, thumb, "image/jpeg")
  if not ok then
    return nil, put_err
  end
  local preview_key
  if preview then
    preview_key = storage_keys.derivative("preview", asset.owner_id, asset.id, asset.created_at)
    ok, put_err = storage.put(preview_key, preview, "image/jpeg")
    if not ok then
      return nil, put_err
    end
  end
  local turned = orientation >= 5
  exif = exif or {}
  local changed, set_err = assets_repo.set_media(asset.id, asset.owner_id, {
    width = turned and info.height or info.width,
    height = turned and info.width or info.height,
    captured_at = capture_time(exif),
    storage_key_thumb = thumb_key,
    storage_key_preview = preview_key,
    placeholder = placeholder,
    camera_make = exif.make,
    camera_model = exif.model,
    lens_model = exif.lens_model,
    exposure_time = exif.exposure_time,
    f_number = exif.f_number,
    iso = exif.iso,
    focal_length = exif.focal_length,
    gps_latitude = exif.gps_latitude,
    gps_longitude = exif.gps_longitude,
  }, clock.iso())
  if not changed then
    return nil, set_err
  end
  log.info("media ready", { mod = "services.media", asset_id = asset.id, preview = preview ~= nil })
  return true
end

--- The job failed for good: the asset shows why.
function M.process_failed(payload, reason)
  assets_repo.set_media_failed(payload.asset_id, payload.owner_id, reason, clock.iso())
end

return M
