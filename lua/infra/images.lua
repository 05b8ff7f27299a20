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

local EXIF_HEADER = "Exif\0\0"

-- The EXIF blocks of a PNG (eXIf chunks) or a WebP (EXIF chunks), each as an
-- "Exif\0\0" block, and whether the file has compressed text (zTXt, compressed iTXt)
-- that could hold metadata no one can search without inflating it.
local function chunk_exif(bytes)
  local blocks, compressed_text = {}, false
  local png = bytes:sub(1, 8) == "\137PNG\r\n\26\n"
  local webp = bytes:sub(1, 4) == "RIFF" and bytes:sub(9, 12) == "WEBP"
  local pos = png and 9 or webp and 13 or nil
  while pos and pos + 8 <= #bytes do
    local size, kind
    if png then
      size, kind = string.unpack(">I4", bytes, pos), bytes:sub(pos + 4, pos + 7)
    else
      kind, size = bytes:sub(pos, pos + 3), string.unpack("<I4", bytes, pos + 4)
    end
    local data = bytes:sub(pos + 8, pos + 7 + size)
    if kind == "eXIf" or kind == "EXIF" then
      blocks[#blocks + 1] = data:sub(1, 6) == EXIF_HEADER and data or EXIF_HEADER .. data
    elseif kind == "zTXt" or (kind == "iTXt" and data:match("^[^%z]*%z\1")) then
      compressed_text = true
    end
    pos = pos + 8 + size + (png and 4 or size % 2)
  end
  return blocks, compressed_text
end

local MAX_EMBEDDED = 16
-- The most of an EXIF block the core reads (a JPEG APP1 segment's limit).
local EXIF_MAX_BYTES = 65535

-- Every place a TIFF header (EXIF's own) starts in a file, each as an "Exif\0\0" block
-- from there: how HEIC and other containers carry EXIF (at most 16).
local function embedded_tiff(bytes)
  local blocks = {}
  for _, header in ipairs({ "MM\0*", "II*\0" }) do
    local at = bytes:find(header, 1, true)
    while at and #blocks < MAX_EMBEDDED do
      blocks[#blocks + 1] = EXIF_HEADER .. bytes:sub(at, at + EXIF_MAX_BYTES)
      at = bytes:find(header, at + 1, true)
    end
  end
  return blocks
end

-- A coordinate as XMP writes it ("48,51.498N", "48,51,29.88N"), or nil.
local function xmp_coordinate(text)
  local degrees, minutes, seconds, hemisphere = text:match("^(%d+),([%d.]+),?([%d.]*)([NSEW])$")
  minutes, seconds = tonumber(minutes), tonumber(seconds ~= "" and seconds or "0")
  if not (degrees and minutes and seconds) then
    return nil
  end
  local value = tonumber(degrees) + minutes / 60 + seconds / 3600
  return (hemisphere == "S" or hemisphere == "W") and -value or value
end

-- The XMP position of a file: lat, lon | nil, and whether any XMP GPS field is there.
local function xmp_position(bytes)
  local function field(name)
    return bytes:match(name .. '="([^"]*)"') or bytes:match(name .. ">([^<]*)<")
  end
  local present = bytes:find("GPSLatitude", 1, true) or bytes:find("GPSLongitude", 1, true)
  local lat, lon = field("GPSLatitude"), field("GPSLongitude")
  lat, lon = lat and xmp_coordinate(lat), lon and xmp_coordinate(lon)
  if lat and lon and math.abs(lat) <= 90 and math.abs(lon) <= 180 then
    return lat, lon, true
  end
  return nil, nil, present ~= nil
end

--- EXIF metadata of a JPEG, PNG, WebP or HEIC file, with the position from its EXIF
-- or XMP, or nil when the file has none. `location_unknown` is set when the file may
-- hold a position that could not be read (EXIF or XMP GPS fields that do not parse,
-- compressed PNG text, a core that cannot read EXIF): it must count as located.
function M.exif(bytes)
  if not image.exif then
    return { orientation = 1, location_unknown = true }
  end
  local exif = image.exif(bytes)
  local blocks, compressed_text = chunk_exif(bytes)
  for _, block in ipairs(embedded_tiff(bytes)) do
    blocks[#blocks + 1] = block
  end
  for _, block in ipairs(blocks) do
    if exif and exif.gps_latitude then
      break
    end
    exif = image.exif(block) or exif
  end
  local lat, lon, xmp_gps = xmp_position(bytes)
  if (#blocks > 0 and not exif) or compressed_text or (xmp_gps and not lat) then
    exif = exif or { orientation = 1 }
    exif.location_unknown = true
  end
  if lat and not (exif and exif.gps_latitude) then
    exif = exif or { orientation = 1 }
    exif.gps_latitude, exif.gps_longitude = lat, lon
  end
  return exif
end

return M
