--- Hostile media for specs (SECURITY.md F2, F3, F6), each a few KB, made from small
-- well-formed pictures (ffmpeg's test pattern; the HEIC from spec/fixtures) by patching
-- headers, cutting and overwriting bytes: decompression-bomb headers, a PNG whose IDAT
-- claims 1 GiB, truncated and corrupt files of every decoded format, and JPEGs with
-- malformed EXIF.
local M = {}

local CRC_TABLE = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    c = (c & 1) == 1 and (0xEDB88320 ~ (c >> 1)) or (c >> 1)
  end
  CRC_TABLE[n] = c
end

-- CRC-32 as PNG chunks carry it.
local function crc32(bytes)
  local c = 0xFFFFFFFF
  for i = 1, #bytes do
    c = CRC_TABLE[(c ~ bytes:byte(i)) & 0xFF] ~ (c >> 8)
  end
  return c ~ 0xFFFFFFFF
end

local function read_file(path)
  local file = assert(io.open(path, "rb"))
  local bytes = file:read("a")
  file:close()
  return bytes
end

--- A small picture from ffmpeg's test pattern, encoded by the extension of `ext`
-- ("jpg", "png", "gif", "bmp", "webp"); `source` overrides the lavfi input.
function M.picture(ext, source)
  local base = os.tmpname()
  local path = base .. "." .. ext
  assert(os.execute("ffmpeg -v error -y -f lavfi -i " .. (source or "testsrc=size=64x48:rate=1")
    .. " -frames:v 1 " .. path))
  local bytes = read_file(path)
  os.remove(path)
  os.remove(base)
  return bytes
end

--- `bytes` (a file with the extension `ext`) after exiftool wrote `tags` into it
-- ("-GPSLatitude=48.8583 ...").
function M.tagged(bytes, ext, tags)
  local base = os.tmpname()
  local path = base .. "." .. ext
  local file = assert(io.open(path, "wb"))
  file:write(bytes)
  file:close()
  assert(os.execute("exiftool -q -overwrite_original " .. tags .. " " .. path))
  bytes = read_file(path)
  os.remove(path)
  os.remove(base)
  return bytes
end

--- The 64x48 HEIC of spec/fixtures.
function M.heic()
  return read_file("spec/fixtures/quadrants-64x48.heic")
end

--- `bytes` cut to their first `share` (0..1).
function M.truncated(bytes, share)
  return bytes:sub(1, math.floor(#bytes * share))
end

--- `bytes` with the middle fifth overwritten by a fixed pseudo-random pattern (the
-- headers stay, so the file still sniffs as its type).
function M.corrupt(bytes)
  local from, to = math.floor(#bytes * 0.4), math.floor(#bytes * 0.6)
  local noise, x = {}, 12345
  for i = 1, to - from do
    x = (x * 1103515245 + 12345) % 2147483648
    noise[i] = string.char(x >> 16 & 0xFF)
  end
  return bytes:sub(1, from) .. table.concat(noise) .. bytes:sub(to + 1)
end

--- A PNG whose IHDR (with a correct CRC) claims width x height.
function M.png_claiming(png, width, height)
  local ihdr = "IHDR" .. string.pack(">I4I4", width, height) .. png:sub(25, 29)
  return png:sub(1, 12) .. ihdr .. string.pack(">I4", crc32(ihdr)) .. png:sub(34)
end

--- A PNG whose IDAT chunk claims `length` bytes (far more than the file holds).
function M.png_idat_claiming(png, length)
  local at = assert(png:find("IDAT", 1, true), "no IDAT")
  return png:sub(1, at - 5) .. string.pack(">I4", length) .. png:sub(at)
end

--- A JPEG whose baseline frame header (SOF0) claims width x height.
function M.jpeg_claiming(jpeg, width, height)
  local at = assert(jpeg:find("\xff\xc0", 3, true), "no SOF0")
  -- marker, length (2), precision (1), then height and width
  return jpeg:sub(1, at + 4) .. string.pack(">I2I2", height, width) .. jpeg:sub(at + 9)
end

--- A JPEG with an APP1 EXIF segment after SOI that is malformed on purpose: IFD0
-- has a 4 KB Make string, a Model whose count runs far past the segment, an EXIF and a
-- GPS sub-IFD that point back at IFD0, and a next-IFD link to itself (a loop).
function M.jpeg_malformed_exif(jpeg)
  local entries = {
    string.pack("<I2I2I4I4", 0x010F, 2, 4096, 0),           -- Make, offset patched below
    string.pack("<I2I2I4I4", 0x0110, 2, 0x7FFFFFFF, 8),     -- Model: 2 GB from offset 8
    string.pack("<I2I2I4I4", 0x8769, 4, 1, 8),              -- EXIF IFD -> IFD0
    string.pack("<I2I2I4I4", 0x8825, 4, 1, 8),              -- GPS IFD -> IFD0
  }
  local ifd_size = 2 + 12 * #entries + 4
  local make_offset = 8 + ifd_size
  entries[1] = string.pack("<I2I2I4I4", 0x010F, 2, 4096, make_offset)
  local tiff = "II*\0" .. string.pack("<I4", 8) .. string.pack("<I2", #entries)
    .. table.concat(entries) .. string.pack("<I4", 8) .. string.rep("M", 4095) .. "\0"
  local body = "Exif\0\0" .. tiff
  return jpeg:sub(1, 2) .. "\xff\xe1" .. string.pack(">I2", #body + 2) .. body .. jpeg:sub(3)
end

return M
