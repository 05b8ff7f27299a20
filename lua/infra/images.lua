--- Images through core.image: header info, decoding with a pixel budget (scaled for
-- the size wanted), thumbnails, orientation and JPEG encoding.
local image = require("core.image")

local M = {}

--- Format and size from the header alone.
-- @return { format, width, height } | nil, err
function M.info(bytes)
  return image.info(bytes)
end

--- Decode, refusing more than `max_pixels` before any pixel is decoded; `target` lets a
-- JPEG decode straight to a smaller scale whose longest side is at least `target`.
-- @return bitmap | nil, err
function M.decode(bytes, max_pixels, target)
  return image.decode(bytes, { max_pixels = max_pixels, target = target })
end

--- EXIF metadata, or nil when the file has none (or the core cannot read EXIF yet).
function M.exif(bytes)
  if image.exif then
    return image.exif(bytes)
  end
  return nil
end

return M
