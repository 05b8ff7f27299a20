-- Hostile files (SECURITY.md F2, F3, F6) uploaded through the real API and worked by
-- serve's supervised worker: decompression-bomb headers, a PNG whose IDAT claims
-- 1 GiB, truncated and corrupt files of each decoded format, and a JPEG with malformed
-- EXIF. Each job ends: failed with its reason on the asset, or ready when the file is
-- decodable after all; the API answers throughout, a worker is still there, and the
-- ordinary photos queued alongside get their thumbnails. Tagged "storage".
local api = require("helpers.api")
local hostile = require("helpers.hostile_media")
local library = require("helpers.library")
local server_helper = require("helpers.server")
local socket = require("socket")

local TYPES = {
  jpg = { "image/jpeg", "photo.jpg" }, png = { "image/png", "image.png" },
  gif = { "image/gif", "anim.gif" }, bmp = { "image/bmp", "scan.bmp" },
  webp = { "image/webp", "image.webp" }, heic = { "image/heic", "IMG_0001.HEIC" },
}

local CORRUPT_DECODES = { bmp = true, webp = true }


-- name -> { ext, bytes, "failed" | "ready" (what the job must come to) }
local function hostile_files()
  local base = {}
  for ext in pairs(TYPES) do
    base[ext] = ext == "heic" and hostile.heic() or hostile.picture(ext)
  end
  local files = {
    ["png header 50000x50000"] = { "png", hostile.png_claiming(base.png, 50000, 50000), "failed" },
    ["png header 20000x20000"] = { "png", hostile.png_claiming(base.png, 20000, 20000), "failed" },
    ["jpeg header 65535x65535"] = { "jpg", hostile.jpeg_claiming(base.jpg, 65535, 65535), "failed" },
    ["png whose IDAT claims 1 GiB"] = { "png", hostile.png_idat_claiming(base.png, 2 ^ 30),
      "failed" },
    -- 16 MB of pixels from 16 KB of zlib: within the pixel budget, so it is decoded
    ["png whose small IDAT inflates to 16 MB"] = { "png",
      hostile.picture("png", "color=black:size=4000x4000 -pix_fmt gray"), "ready" },
    ["jpeg with malformed exif"] = { "jpg", hostile.jpeg_malformed_exif(base.jpg), "ready" },
  }
  for ext in pairs(TYPES) do
    files[ext .. " cut in half"] = { ext, hostile.truncated(base[ext], 0.5), "failed" }
    files[ext .. " cut after its header"] = { ext, hostile.truncated(base[ext], 0.1), "failed" }
    -- BMP and lossy WebP have no checksums or entropy coding to trip over: garbled
    -- pixels still decode
    files[ext .. " with a corrupt middle"] = { ext, hostile.corrupt(base[ext]),
      CORRUPT_DECODES[ext] and "ready" or "failed" }
  end
  return files
end

describe("hostile media through serve and its worker #storage", function()
  local server, account

  setup(function()
    -- one try per job, so a file that fails is failed for good at once
    server = server_helper.start_with_workers({ env = { JOB_MAX_ATTEMPTS = 1 } })
    account = api.signup(server)
  end)

  teardown(function()
    server.stop()
  end)

  local function asset_of(id)
    return server.request("GET", "/api/v1/assets/" .. id, { headers = api.bearer(account.token) })
      .json().asset
  end

  it("fails each undecodable file with a reason, keeps the API up and the queue going", function()
    local uploaded = {}
    local gradient = assert(io.open("spec/fixtures/gradient-400x300.jpg", "rb"))
    local gradient_bytes = gradient:read("a")
    gradient:close()
    local i = 0
    for name, file in pairs(hostile_files()) do
      local ext, bytes, expect = file[1], file[2], file[3]
      local asset = library.upload(server, account, bytes,
        { content_type = TYPES[ext][1], filename = TYPES[ext][2] })
      uploaded[name] = { id = asset.id, expect = expect }
      i = i + 1
      if i % 6 == 0 then   -- an ordinary photo queued between the hostile ones
        local photo = library.upload(server, account, gradient_bytes .. string.rep("\0", i))
        uploaded["ordinary photo " .. i] = { id = photo.id, expect = "ready" }
      end
    end

    local results, pending = {}, nil
    for _ = 1, 600 do
      pending = 0
      for name, entry in pairs(uploaded) do
        if not results[name] then
          local asset = asset_of(entry.id)
          if asset.thumb_status ~= "pending" then
            results[name] = asset
          else
            pending = pending + 1
          end
        end
      end
      if pending == 0 then
        break
      end
      assert.equal(200, server.request("GET", "/healthz").status)
      socket.sleep(0.1)
    end
    assert.equal(0, pending, "some hostile files were never finished")

    local outcomes = {}
    for name, entry in pairs(uploaded) do
      local asset = results[name]
      outcomes[name] = asset.thumb_status
      assert.equal("ready", asset.status, name .. ": the original stays downloadable")
      if asset.thumb_status == "failed" then
        assert.is_string(asset.media_error, name)
        assert.is_true(#asset.media_error > 0, name)
      else
        assert.equal("ready", asset.thumb_status, name)
        local thumb = library.download(server, account, entry.id, "thumb")
        assert.equal("jpeg", core.image.info(thumb).format, name)
      end
      assert.equal(entry.expect, asset.thumb_status, name .. ": " .. tostring(asset.media_error))
    end
    -- the bombs were refused from their headers, before any pixel was decoded
    for _, name in ipairs({ "png header 50000x50000", "png header 20000x20000",
      "jpeg header 65535x65535" }) do
      assert.equal("image too large", results[name].media_error)
    end
    -- the malformed EXIF was read within bounds: the 4 KB Make cut short, the Model
    -- that runs past the segment dropped, the picture's own size kept
    local exif = results["jpeg with malformed exif"]
    assert.is_true(#exif.camera_make <= 256 and exif.camera_make:match("^M+$") ~= nil)
    assert.is_nil(exif.camera_model)
    assert.same({ 64, 48 }, { math.tointeger(exif.width), math.tointeger(exif.height) })
    assert.equal(200, server.request("GET", "/healthz").status)
    assert.equal(1, #server.worker_pids())
  end)
end)
