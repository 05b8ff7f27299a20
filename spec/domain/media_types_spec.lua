local media_types = require("domain.media_types")

-- The first bytes of real files of each kind, padded to SNIFF_BYTES as a read would be.
local function pad(head)
  return head .. string.rep("\0", math.max(0, media_types.SNIFF_BYTES - #head))
end

-- An ISO base media head: an `ftyp` box of `size` bytes with this major brand.
local function ftyp(brand, size)
  size = size or 24
  return pad(string.pack(">I4", size) .. "ftyp" .. brand .. "\0\0\0\0" .. brand .. "isom")
end

local JPEG = pad("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
local JPEG_EXIF = pad("\xff\xd8\xff\xe1\x2a\x1eExif\x00\x00MM\x00\x2a")
local PNG = pad("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06")
local GIF87 = pad("GIF87a\x01\x00\x01\x00\x80\x00\x00")
local GIF89 = pad("GIF89a\x01\x00\x01\x00\x80\x00\x00")
local WEBP = pad("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
-- "BM", file size, two reserved words, pixel offset, then the DIB header's own size
local BMP = pad("BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00")
local BMP_CORE = pad("BM\x1e\x00\x00\x00\x00\x00\x00\x00\x1a\x00\x00\x00\x0c\x00\x00\x00\x01\x00")
local BMP_V5 = pad("BM\x8a\x00\x00\x00\x00\x00\x00\x00\x7a\x00\x00\x00\x7c\x00\x00\x00\x01\x00")
local EBML = pad("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04")

local STORED = media_types.all()

local HEIF_TYPES = { "image/heic", "image/heif", "image/avif" }
local ISO_VIDEO_TYPES = { "video/mp4", "video/quicktime", "video/3gpp" }
local HEIF_BRANDS = { "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif",
  "avis" }
local ISO_VIDEO_BRANDS = { "qt  ", "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1",
  "M4V ", "dash", "3gp4", "3gp5", "3gp6", "3g2a", "MSNV", "XAVC" }

-- Asserts that `head` matches exactly the declared types in `accepted` among every
-- type the library stores.
local function matches_only(head, accepted, label)
  local set = {}
  for _, t in ipairs(accepted) do
    set[t] = true
  end
  for _, declared in ipairs(STORED) do
    local ok, reason = media_types.content_matches(declared, head)
    if set[declared] then
      assert.is_true(ok, (label or "") .. " should match " .. declared .. ": " .. tostring(reason))
      assert.is_nil(reason)
    else
      assert.is_false(ok, (label or "") .. " should not match " .. declared)
      assert.equal("the file's content does not match " .. declared, reason)
    end
  end
end

local function unrecognised(head, label)
  for _, declared in ipairs(STORED) do
    local ok, reason = media_types.content_matches(declared, head)
    assert.is_false(ok, (label or string.format("%q", head)) .. " declared " .. declared)
    assert.equal("the file is not a recognised photo or video", reason)
  end
end

describe("domain.media_types", function()
  describe("describe and all", function()
    it("gives the kind and key extension of every stored type", function()
      local expected = {
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
      for content_type, description in pairs(expected) do
        assert.same(description, media_types.describe(content_type), content_type)
      end
      local count = 0
      for _ in pairs(expected) do
        count = count + 1
      end
      assert.equal(count, #STORED)
    end)

    it("knows nothing of types it does not store, nor of other spellings", function()
      for _, content_type in ipairs({ "text/html", "image/svg+xml", "application/zip",
        "application/pdf", "application/octet-stream", "image/JPEG", "image/jpeg ",
        "image/jpeg; charset=utf-8", "image/jpg", "video/avi", "", "image/tiff" }) do
        assert.is_nil(media_types.describe(content_type), content_type)
      end
      assert.is_nil(media_types.describe(nil))
    end)

    it("lists every stored type once, sorted, each one described", function()
      local seen = {}
      for i, content_type in ipairs(STORED) do
        assert.is_nil(seen[content_type])
        seen[content_type] = true
        assert.is_table(media_types.describe(content_type))
        if i > 1 then
          assert.is_true(STORED[i - 1] < content_type)
        end
      end
    end)

    it("gives a fresh list each time, so a caller cannot change the next one", function()
      local list = media_types.all()
      list[1] = "text/html"
      assert.not_equal("text/html", media_types.all()[1])
    end)
  end)

  describe("content_matches", function()
    it("needs no more than SNIFF_BYTES of the file", function()
      assert.equal(32, media_types.SNIFF_BYTES)
      for _, head in ipairs({ JPEG, PNG, GIF89, WEBP, BMP, EBML, ftyp("heic"), ftyp("isom") }) do
        assert.equal(media_types.SNIFF_BYTES, #head)
      end
    end)

    it("recognises JPEG (JFIF and Exif) as image/jpeg only", function()
      matches_only(JPEG, { "image/jpeg" }, "jfif")
      matches_only(JPEG_EXIF, { "image/jpeg" }, "exif")
    end)

    it("recognises PNG as image/png only", function()
      matches_only(PNG, { "image/png" })
    end)

    it("recognises GIF87a and GIF89a as image/gif only", function()
      matches_only(GIF87, { "image/gif" }, "87a")
      matches_only(GIF89, { "image/gif" }, "89a")
    end)

    it("recognises WebP as image/webp only, and not other RIFF files", function()
      matches_only(WEBP, { "image/webp" })
      unrecognised(pad("RIFF\x24\x00\x00\x00AVI LIST"), "avi")
      unrecognised(pad("RIFF\x24\x00\x00\x00WAVEfmt "), "wav")
    end)

    it("recognises BMP with each DIB header size as image/bmp only", function()
      matches_only(BMP, { "image/bmp" }, "BITMAPINFOHEADER")
      matches_only(BMP_CORE, { "image/bmp" }, "BITMAPCOREHEADER")
      matches_only(BMP_V5, { "image/bmp" }, "BITMAPV5HEADER")
    end)

    it("recognises EBML as webm or matroska, nothing else", function()
      matches_only(EBML, { "video/webm", "video/x-matroska" })
    end)

    it("recognises every HEIF and AVIF brand as heic, heif or avif only", function()
      for _, brand in ipairs(HEIF_BRANDS) do
        matches_only(ftyp(brand), HEIF_TYPES, brand)
      end
    end)

    it("recognises every MP4, QuickTime and 3GP brand as one of those only", function()
      for _, brand in ipairs(ISO_VIDEO_BRANDS) do
        matches_only(ftyp(brand), ISO_VIDEO_TYPES, brand)
      end
    end)

    it("accepts ftyp boxes of the sizes cameras and phones write", function()
      for _, size in ipairs({ 16, 20, 24, 28, 32, 44, 64, 256 }) do
        matches_only(ftyp("heic", size), HEIF_TYPES, "heic " .. size)
        matches_only(ftyp("qt  ", size), ISO_VIDEO_TYPES, "qt " .. size)
      end
    end)

    it("refuses ISO files of brands it does not store (audio, raw, JPEG 2000)", function()
      for _, brand in ipairs({ "M4A ", "M4B ", "crx ", "jp2 ", "f4v ", "HEIC", "ISOM", "    ",
        "\0\0\0\0" }) do
        unrecognised(ftyp(brand), brand)
      end
    end)

    it("refuses a declared type that disagrees with the content", function()
      local cases = {
        { "image/png", JPEG }, { "image/jpeg", PNG }, { "image/gif", WEBP },
        { "image/webp", GIF89 }, { "image/jpeg", BMP }, { "image/heic", ftyp("isom") },
        { "video/mp4", ftyp("heic") }, { "image/avif", ftyp("mp42") },
        { "video/quicktime", EBML }, { "video/webm", ftyp("isom") }, { "video/mp4", JPEG },
        { "image/jpeg", EBML },
      }
      for _, case in ipairs(cases) do
        local ok, reason = media_types.content_matches(case[1], case[2])
        assert.is_false(ok, case[1])
        assert.equal("the file's content does not match " .. case[1], reason)
      end
    end)

    it("refuses a declared type the library does not store, whatever the content", function()
      for _, declared in ipairs({ "text/html", "image/svg+xml", "application/octet-stream" }) do
        local ok, reason = media_types.content_matches(declared, JPEG)
        assert.is_false(ok)
        assert.equal("the file's content does not match " .. declared, reason)
      end
    end)

    it("refuses truncated heads of every format", function()
      local heads = {
        "", "\xff", "\xff\xd8", "\x89PNG\r\n\x1a", "\x89PNG", "GIF89", "GIF8", "RIFF",
        "RIFF\x24\x00\x00\x00WEB", "BM", "BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00",
        "BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00", "\x1a\x45\xdf",
        "\x00\x00\x00\x18ftyp", "\x00\x00\x00\x18ftyphei", "\x00\x00\x00\x18fty",
      }
      for _, head in ipairs(heads) do
        unrecognised(head)
      end
    end)

    it("treats a missing head as an unrecognised file", function()
      local ok, reason = media_types.content_matches("image/jpeg", nil)
      assert.is_false(ok)
      assert.equal("the file is not a recognised photo or video", reason)
    end)

    it("refuses HTML, SVG, XML, ZIP, PDF and executables whatever they claim to be", function()
      local heads = {
        "<html><script>alert(1)</script></html>",
        "<!DOCTYPE html><html><body>",
        "  \n\t<script>alert(document.cookie)</script>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\">",
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">",
        "PK\x03\x04\x14\x00\x00\x00\x08\x00", "PK\x05\x06\x00\x00\x00\x00",
        "%PDF-1.7\n%\xe2\xe3\xcf\xd3", "MZ\x90\x00\x03\x00\x00\x00", "\x7fELF\x02\x01\x01",
        "#!/bin/sh\nrm -rf /", "{\"json\": true}", string.rep("\0", 32),
        "\xef\xbb\xbf<html>", "\xfe\xff\x00<\x00h\x00t\x00m\x00l",
      }
      for _, head in ipairs(heads) do
        unrecognised(pad(head))
      end
    end)

    it("refuses a magic number that is not at the very start", function()
      for _, head in ipairs({ " " .. JPEG, "\n" .. PNG, "<html>" .. GIF89, "\0" .. EBML,
        "<!-- x -->" .. WEBP }) do
        unrecognised(head:sub(1, media_types.SNIFF_BYTES))
      end
    end)

    it("refuses text that merely starts with BM (no BMP header follows)", function()
      unrecognised(pad("BMW <script>alert(1)</script>"), "BMW text")
      unrecognised(pad("BM<html><body onload=alert(1)>"), "BM html")
      -- a BMP header whose DIB size is not one BMP defines
      local dib_41 = "BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x29\x00\x00\x00"
      unrecognised(pad(dib_41), "dib 41")
    end)

    it("refuses text in front of ftyp (the box size must be a real one)", function()
      unrecognised(pad("<b> ftypisom<script>alert(1)</script>"), "html before ftyp")
      unrecognised(pad("<p>\nftypheic<svg onload=alert(1)>"), "html before heic")
      unrecognised(pad("    ftypmp42"), "spaces before ftyp")
      unrecognised(ftyp("isom", 8), "ftyp box smaller than its header")
      unrecognised(ftyp("isom", 0), "ftyp box of size 0")
      unrecognised(ftyp("isom", 1), "ftyp box with a 64-bit size")
      unrecognised(ftyp("heic", 0x01000018), "ftyp box of 16 MB")
    end)
  end)
end)
