-- infra.images.exif: where a file's position may hide, and when it must count as
-- unknown. Files come from ffmpeg's test pattern, patched by hand.
local hostile = require("helpers.hostile_media")
local images = require("infra.images")

describe("infra.images.exif", function()
  -- A PNG with one more chunk after its header chunk (the CRC is not checked here).
  local function png_with_chunk(kind, data)
    local png = hostile.picture("png")
    local ihdr_end = 8 + 8 + 13 + 4
    return png:sub(1, ihdr_end) .. string.pack(">I4", #data) .. kind .. data .. "\0\0\0\0"
      .. png:sub(ihdr_end + 1)
  end

  it("knows a file without metadata holds no position", function()
    for _, ext in ipairs({ "png", "jpg", "webp" }) do
      local exif = images.exif(hostile.picture(ext)) or {}
      assert.is_nil(exif.gps_latitude, ext)
      assert.is_nil(exif.location_unknown, ext)
    end
  end)

  it("reads an XMP position in either of its notations", function()
    local jpeg = hostile.picture("jpg")
    local exif = images.exif(jpeg .. '<x exif:GPSLatitude="48,51.498N" exif:GPSLongitude="2,17.67W"/>')
    assert.is_near(48.8583, exif.gps_latitude, 0.0001)
    assert.is_near(-2.2945, exif.gps_longitude, 0.0001)
    exif = images.exif(jpeg .. "<exif:GPSLatitude>33,30,0S</exif:GPSLatitude>"
      .. "<exif:GPSLongitude>70,15,0E</exif:GPSLongitude>")
    assert.same({ -33.5, 70.25 }, { exif.gps_latitude, exif.gps_longitude })
  end)

  it("counts a position it cannot read as unknown", function()
    local jpeg = hostile.picture("jpg")
    assert.is_true(images.exif(jpeg .. '<x exif:GPSLatitude="somewhere"/>').location_unknown)
    assert.is_true(images.exif(jpeg .. "Exif\0\0MM\0*" .. string.rep("\255", 64)).location_unknown)
    -- compressed PNG text may hold anything
    assert.is_true(images.exif(png_with_chunk("zTXt", "Raw profile type exif\0\0xyz")).location_unknown)
    assert.is_true(images.exif(png_with_chunk("iTXt", "XML:com.adobe.xmp\0\1\0\0\0xyz")).location_unknown)
    assert.is_nil((images.exif(png_with_chunk("iTXt", "Comment\0\0\0\0\0plain")) or {}).location_unknown)
  end)
end)
