--- Media types the library stores: their kind (photo or video), the file extension of
-- their storage key, and recognition of a file's real type from its first bytes
-- (magic numbers), so a declared type can be checked against the content.
local M = {}

local TYPES = {
  ["image/jpeg"] = { kind = "photo", ext = ".jpg" },
  ["image/png"] = { kind = "photo", ext = ".png" },
  ["image/gif"] = { kind = "photo", ext = ".gif" },
  ["image/webp"] = { kind = "photo", ext = ".webp" },
  ["image/heic"] = { kind = "photo", ext = ".heic" },
  ["image/heif"] = { kind = "photo", ext = ".heif" },
  ["image/avif"] = { kind = "photo", ext = ".avif" },
  ["image/bmp"] = { kind = "photo", ext = ".bmp" },
  ["video/mp4"] = { kind = "video", ext = ".mp4" },
  ["video/quicktime"] = { kind = "video", ext = ".mov" },
  ["video/3gpp"] = { kind = "video", ext = ".3gp" },
  ["video/webm"] = { kind = "video", ext = ".webm" },
  ["video/x-matroska"] = { kind = "video", ext = ".mkv" },
}

-- ISO base media "ftyp" brands and the declared types they agree with.
local HEIF = { ["image/heic"] = true, ["image/heif"] = true, ["image/avif"] = true }
local ISO_VIDEO = { ["video/mp4"] = true, ["video/quicktime"] = true, ["video/3gpp"] = true }
local BRANDS = {
  heic = HEIF, heix = HEIF, hevc = HEIF, hevx = HEIF, heim = HEIF, heis = HEIF,
  mif1 = HEIF, msf1 = HEIF, avif = HEIF, avis = HEIF,
  ["qt  "] = ISO_VIDEO, isom = ISO_VIDEO, iso2 = ISO_VIDEO, iso4 = ISO_VIDEO, iso5 = ISO_VIDEO,
  iso6 = ISO_VIDEO, mp41 = ISO_VIDEO, mp42 = ISO_VIDEO, avc1 = ISO_VIDEO, ["M4V "] = ISO_VIDEO,
  dash = ISO_VIDEO, ["3gp4"] = ISO_VIDEO, ["3gp5"] = ISO_VIDEO, ["3gp6"] = ISO_VIDEO,
  ["3g2a"] = ISO_VIDEO, MSNV = ISO_VIDEO, XAVC = ISO_VIDEO,
}

--- How many leading bytes sniff() needs.
M.SNIFF_BYTES = 32

--- The description of a content type, or nil when the library does not store it.
-- @return { kind = "photo" | "video", ext = ".jpg" } | nil
function M.describe(content_type)
  return TYPES[content_type]
end

--- Every content type the library can store.
function M.all()
  local list = {}
  for content_type in pairs(TYPES) do
    list[#list + 1] = content_type
  end
  table.sort(list)
  return list
end

-- The sizes of the DIB header that follows a BMP's file header (core, OS/2 short,
-- INFO, V2, V3, OS/2 v2, V4, V5). Without one, "BM" could start any text file.
local DIB_SIZES = { [12] = true, [16] = true, [40] = true, [52] = true, [56] = true,
  [64] = true, [108] = true, [124] = true }

-- Whether the head starts with a plausible ftyp box: its big-endian size covers at
-- least size, type, major brand and minor version, and is small (brands are a short
-- list). Without this, any four bytes -- text too -- could precede "ftyp".
local function ftyp_box(head)
  if #head < 12 or head:sub(5, 8) ~= "ftyp" then
    return false
  end
  local size = string.unpack(">I4", head)
  return size >= 16 and size <= 4096
end

-- The declared types a file's first bytes agree with, or nil when unrecognised.
local function compatible_types(head)
  if head:sub(1, 3) == "\xff\xd8\xff" then
    return { ["image/jpeg"] = true }
  elseif head:sub(1, 8) == "\x89PNG\r\n\x1a\n" then
    return { ["image/png"] = true }
  elseif head:sub(1, 6) == "GIF87a" or head:sub(1, 6) == "GIF89a" then
    return { ["image/gif"] = true }
  elseif head:sub(1, 4) == "RIFF" and head:sub(9, 12) == "WEBP" then
    return { ["image/webp"] = true }
  elseif head:sub(1, 2) == "BM" and #head >= 18 and DIB_SIZES[string.unpack("<I4", head, 15)] then
    return { ["image/bmp"] = true }
  elseif head:sub(1, 4) == "\x1a\x45\xdf\xa3" then
    return { ["video/webm"] = true, ["video/x-matroska"] = true }
  elseif ftyp_box(head) then
    return BRANDS[head:sub(9, 12)]
  end
  return nil
end

--- Whether a file whose first bytes are `head` is really of the declared type.
-- @return true | false, reason
function M.content_matches(declared, head)
  local types = compatible_types(head or "")
  if not types then
    return false, "the file is not a recognised photo or video"
  end
  if not types[declared] then
    return false, "the file's content does not match " .. declared
  end
  return true
end

return M
