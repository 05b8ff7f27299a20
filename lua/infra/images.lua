--- Images through core.image: header info, decoding with a pixel budget (fitted into a
-- box while decoding), thumbnails, orientation and JPEG encoding.
local image = require("core.image")

local M = {}

--- Format and size from the header alone.
-- @return { format, width, height } | nil, err
function M.info(bytes)
  return image.info(bytes)
end

--- Decode, refusing more than `max_pixels` before any pixel is decoded, into a bitmap
-- fitted into a `fit` x `fit` box (a JPEG decodes straight to a smaller DCT scale, and
-- its rows are resampled as they arrive); colours come converted to sRGB.
-- bitmap:source_size() gives the stored picture's size.
-- @return bitmap | nil, err
function M.decode(bytes, max_pixels, fit)
  return image.decode(bytes, { max_pixels = max_pixels, fit = fit })
end

--- The same, from a file (a JPEG is read in small pieces, never held whole).
-- @return bitmap | nil, err
function M.decode_file(path, max_pixels, fit)
  return image.decode_file(path, { max_pixels = max_pixels, fit = fit })
end

--- EXIF metadata, or nil when the file has none (or the core cannot read EXIF yet).
function M.exif(bytes)
  if image.exif then
    return image.exif(bytes)
  end
  return nil
end

return M
