-- services.uploads with the real repositories on the shared spec database and the local
-- storage backend. The browser's PUT is played by writing the bytes straight to the
-- staging key's file (helpers.fixtures.put), which is what a finished PUT leaves.
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")
local uploads = require("services.uploads")

if core.storage.backend() ~= "local" then
  pending("services.uploads specs need STORAGE_BACKEND=local (single PUT to a staging key)")
  return
end

-- `size` bytes that sniff as a JPEG, random after the magic (a new sha256 each time).
local function jpeg(size)
  local chunks = { "\xff\xd8\xff\xe0\x00\x10JFIF\x00" }
  local length = #chunks[1]
  while length < size do
    chunks[#chunks + 1] = core.crypto.random_bytes(1024)
    length = length + 1024
  end
  return table.concat(chunks):sub(1, size)
end

local PNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" .. string.rep("\0", 200)

local function input_for(bytes, fields)
  local input = {
    filename = "photo.jpg",
    content_type = "image/jpeg",
    size_bytes = #bytes,
    sha256 = core.crypto.sha256_hex(bytes),
  }
  for key, value in pairs(fields or {}) do
    input[key] = value
  end
  return input
end

local function row(asset_id, owner)
  return assets_repo.find_owned(asset_id, owner.id)
end

local function count_rows(owner)
  return core.db.query("SELECT count(*) AS n FROM assets WHERE owner_id = ?", owner.id)[1].n
end

-- Create an upload of `bytes` and send them; returns the create answer and the row.
local function staged(owner, bytes, fields, service)
  local created = assert((service or uploads).create(owner, input_for(bytes, fields)))
  local asset = row(created.asset.id, owner)
  fixtures.put(asset.staging_key, bytes)
  return created, asset
end

-- uploads and assets over the same stand-in policy.
local function with_policy(policy)
  local assets = fixtures.load_with("services.assets", { ["infra.policy"] = policy })
  return fixtures.load_with("services.uploads", { ["infra.policy"] = policy,
    ["services.assets"] = assets })
end

describe("services.uploads", function()
  teardown(function()
    fixtures.cleanup()
  end)

  describe("create", function()
    it("starts an upload: a row, a staging key, and a signed PUT for exactly those bytes", function()
      local owner = fixtures.user("svc-uploads")
      local bytes = jpeg(1234)
      local before = clock.now()
      local result, created = uploads.create(owner, input_for(bytes, { filename = "Beach.jpg" }))
      assert.is_true(created)
      assert.is_false(result.duplicate)
      local asset = result.asset
      assert.matches("^%x+%-%x+%-7%x+%-[89ab]%x+%-%x+$", asset.id)
      assert.equal("uploading", asset.status)
      assert.equal("photo", asset.type)
      assert.equal("Beach.jpg", asset.original_filename)
      assert.equal(1234, asset.size_bytes)
      assert.equal(core.crypto.sha256_hex(bytes), asset.sha256)
      assert.equal("pending", asset.thumb_status)
      assert.is_nil(asset.staging_key)
      assert.is_nil(asset.storage_key_original)

      local stored = row(asset.id, owner)
      assert.equal("staging/" .. owner.id .. "/" .. asset.id, stored.staging_key)
      assert.matches("^u/" .. owner.id:gsub("%-", "%%-") .. "/o/%d%d%d%d/%d%d/"
        .. asset.id:gsub("%-", "%%-") .. "%.jpg$", stored.storage_key_original)
      assert.is_nil(stored.multipart_upload_id)
      assert.equal(stored.created_at, stored.sort_at)
      local expires = clock.parse(stored.upload_expires_at)
      assert.is_true(expires >= before + core.config.upload_expiry_seconds
        and expires <= clock.now() + core.config.upload_expiry_seconds)

      local upload = result.upload
      assert.equal("PUT", upload.method)
      assert.same({ ["Content-Type"] = "image/jpeg" }, upload.headers)
      assert.equal(core.config.signed_url_ttl_seconds, upload.expires_in)
      assert.equal(1, upload.url:find("/blobs/" .. stored.staging_key .. "?", 1, true))
      assert.matches("&ct=image%%2Fjpeg&cl=1234&sig=", upload.url)
      -- the URL points at the staging key, never at the final one
      assert.is_nil(upload.url:find(stored.storage_key_original, 1, true))
    end)

    it("files a video as a video, under the extension of its type", function()
      local owner = fixtures.user("svc-uploads")
      local result = assert(uploads.create(owner, input_for("x", { content_type = "video/quicktime",
        filename = "clip.MOV", size_bytes = 5000 })))
      assert.equal("video", result.asset.type)
      assert.matches("%.mov$", row(result.asset.id, owner).storage_key_original)
    end)

    it("keeps a capture time, normalised to UTC, as the sort time", function()
      local owner = fixtures.user("svc-uploads")
      local result = assert(uploads.create(owner, input_for(jpeg(100),
        { captured_at = "2024-05-01T12:00:00+02:00" })))
      assert.equal("2024-05-01T10:00:00.000Z", result.asset.captured_at)
      assert.equal("2024-05-01T10:00:00.000Z", row(result.asset.id, owner).sort_at)
    end)

    it("stores the hash in lower case", function()
      local owner = fixtures.user("svc-uploads")
      local bytes = jpeg(100)
      local result = assert(uploads.create(owner, input_for(bytes,
        { sha256 = core.crypto.sha256_hex(bytes):upper() })))
      assert.equal(core.crypto.sha256_hex(bytes), result.asset.sha256)
    end)

    it("refuses types it does not store, empty files and files over the limit", function()
      local owner = fixtures.user("svc-uploads")
      local cases = {
        { { content_type = "text/html" }, { code = "validation_error", field = "content_type",
          message = "this type of file cannot be stored" } },
        { { content_type = "image/svg+xml" }, { code = "validation_error", field = "content_type",
          message = "this type of file cannot be stored" } },
        { { size_bytes = 0 }, { code = "validation_error", field = "size_bytes",
          message = "the file is empty" } },
        { { size_bytes = -5 }, { code = "validation_error", field = "size_bytes",
          message = "the file is empty" } },
        { { size_bytes = core.config.max_upload_size_bytes + 1 }, { code = "file_too_large",
          message = "the file is larger than this server accepts" } },
        { { captured_at = "last summer" }, { code = "validation_error", field = "captured_at",
          message = "must be an RFC 3339 date-time" } },
      }
      for _, case in ipairs(cases) do
        local result, err = uploads.create(owner, input_for(jpeg(100), case[1]))
        assert.is_nil(result)
        assert.same(case[2], err)
      end
      assert.equal(0, count_rows(owner))
    end)

    it("accepts a file of exactly the largest size", function()
      local owner = fixtures.user("svc-uploads")
      local result = assert(uploads.create(owner, input_for("x",
        { size_bytes = core.config.max_upload_size_bytes })))
      assert.equal(core.config.max_upload_size_bytes, result.asset.size_bytes)
    end)

    it("refuses what the operator's check_upload refuses, with its reason", function()
      local owner = fixtures.user("svc-uploads")
      local seen
      local strict = with_policy({ upload_problem = function(user, upload)
        seen = { user = user.id, content_type = upload.content_type }
        return upload.content_type:match("^video/") and "videos are not allowed here" or nil
      end })
      local result, err = strict.create(owner, input_for("x", { content_type = "video/mp4",
        size_bytes = 10 }))
      assert.is_nil(result)
      assert.same({ code = "upload_refused", message = "videos are not allowed here" }, err)
      assert.same({ user = owner.id, content_type = "video/mp4" }, seen)
      assert.is_true(select(2, strict.create(owner, input_for(jpeg(10)))))
    end)

    it("answers an already stored file as a duplicate, without a new row or URL", function()
      local owner, other = fixtures.user("svc-uploads"), fixtures.user("svc-uploads")
      local bytes = jpeg(500)
      local existing = fixtures.asset(owner, { status = "ready",
        sha256 = core.crypto.sha256_hex(bytes) })
      local rows_before = count_rows(owner)
      for _, sha in ipairs({ existing.sha256, existing.sha256:upper() }) do
        local result, created = uploads.create(owner, input_for(bytes, { sha256 = sha }))
        assert.is_false(created)
        assert.is_true(result.duplicate)
        assert.equal(existing.id, result.asset.id)
        assert.equal("ready", result.asset.status)
        assert.is_nil(result.upload)
      end
      assert.equal(rows_before, count_rows(owner))
      -- only ready copies count: an upload of the same bytes in progress is no duplicate
      local again = assert(uploads.create(other, input_for(bytes)))
      assert.is_false(again.duplicate)
      assert.is_false(assert(uploads.create(other, input_for(bytes))).duplicate)
      -- and another user's copy is not this user's
      assert.is_false(assert(uploads.create(fixtures.user("svc-uploads"), input_for(bytes))).duplicate)
    end)

    it("refuses an upload that would exceed the quota; exactly full is fine", function()
      local owner = fixtures.user("svc-uploads")
      local limited = with_policy({ quota_bytes = function() return 1000 end })
      fixtures.asset(owner, { status = "ready", size_bytes = 400 })
      fixtures.asset(owner, { size_bytes = 100 })   -- in progress: counts
      fixtures.asset(owner, { status = "failed", size_bytes = 5000 })   -- failed: does not
      local result, err = limited.create(owner, input_for(jpeg(501)))
      assert.is_nil(result)
      assert.same({ code = "quota_exceeded",
        message = "this upload would exceed your storage quota" }, err)
      local rows_before = count_rows(owner)
      assert.is_true(select(2, limited.create(owner, input_for(jpeg(500)))))
      assert.equal(rows_before + 1, count_rows(owner))
      result, err = limited.create(owner, input_for(jpeg(1)))
      assert.is_nil(result)
      assert.equal("quota_exceeded", err.code)
    end)

    it("answers a duplicate even when the quota is full", function()
      local owner = fixtures.user("svc-uploads")
      local bytes = jpeg(300)
      fixtures.asset(owner, { status = "ready", size_bytes = 300,
        sha256 = core.crypto.sha256_hex(bytes) })
      local full = with_policy({ quota_bytes = function() return 300 end })
      local result = assert(full.create(owner, input_for(bytes)))
      assert.is_true(result.duplicate)
    end)

    it("answers unavailable when the database fails", function()
      local owner = fixtures.user("svc-uploads")
      local broken = fixtures.load_with("services.uploads", {
        ["repositories.assets"] = { insert = function() return nil, "database is locked" end },
      })
      local result, err = broken.create(owner, input_for(jpeg(100)))
      assert.is_nil(result)
      assert.equal("unavailable", err.code)
      assert.equal(0, count_rows(owner))
    end)
  end)

  describe("finalize", function()
    it("answers upload_incomplete before the bytes are there, and finishes after", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(2000)
      local created = assert(uploads.create(owner, input_for(bytes)))
      local result, err = uploads.finalize(owner, created.asset.id)
      assert.is_nil(result)
      assert.same({ code = "upload_incomplete", message = "the file has not been uploaded yet" }, err)
      local asset = row(created.asset.id, owner)
      assert.equal("uploading", asset.status)

      fixtures.put(asset.staging_key, bytes)
      result = assert(uploads.finalize(owner, created.asset.id))
      assert.is_false(result.duplicate)
      assert.equal("ready", result.asset.status)
      assert.equal(created.asset.id, result.asset.id)
      local done = row(created.asset.id, owner)
      assert.equal("ready", done.status)
      assert.is_nil(done.staging_key)
      assert.is_nil(done.upload_expires_at)
      -- moved where no upload URL points
      assert.is_nil(fixtures.stored(asset.staging_key))
      assert.equal(bytes, fixtures.stored(done.storage_key_original))
    end)

    it("answers a second finalize with the same asset, changing nothing", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(900)
      local created = staged(owner, bytes)
      local first = assert(uploads.finalize(owner, created.asset.id))
      local stored = row(created.asset.id, owner)
      local second = assert(uploads.finalize(owner, created.asset.id, {}))
      assert.same(first, second)
      assert.same(stored, row(created.asset.id, owner))
      assert.equal(bytes, fixtures.stored(stored.storage_key_original))
    end)

    it("finishes when an earlier finalize moved the bytes but did not get to mark them", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(700)
      local created = assert(uploads.create(owner, input_for(bytes)))
      local asset = row(created.asset.id, owner)
      fixtures.put(asset.storage_key_original, bytes)
      local result = assert(uploads.finalize(owner, asset.id))
      assert.equal("ready", result.asset.status)
      assert.equal(bytes, fixtures.stored(asset.storage_key_original))
    end)

    it("fails an upload whose size is not the announced one, and drops its bytes", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(1000)
      local created = assert(uploads.create(owner, input_for(bytes)))
      local asset = row(created.asset.id, owner)
      fixtures.put(asset.staging_key, bytes:sub(1, 999))
      local result, err = uploads.finalize(owner, asset.id)
      assert.is_nil(result)
      local reason = "the stored file has 999 bytes, 1000 were announced"
      assert.same({ code = "upload_rejected", message = reason }, err)
      local failed = row(asset.id, owner)
      assert.equal("failed", failed.status)
      assert.equal(reason, failed.failure_reason)
      assert.is_nil(failed.staging_key)
      assert.is_nil(fixtures.stored(asset.staging_key))
      assert.is_nil(fixtures.stored(asset.storage_key_original))
      -- failed is final: finalize says so again, abort has nothing to cancel
      result, err = uploads.finalize(owner, asset.id)
      assert.is_nil(result)
      assert.same({ code = "upload_rejected", message = reason }, err)
      local ok, abort_err = uploads.abort(owner, asset.id)
      assert.is_nil(ok)
      assert.equal("not_uploading", abort_err.code)
    end)

    it("fails an upload that is larger than announced", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(100)
      local created = assert(uploads.create(owner, input_for(bytes)))
      fixtures.put(row(created.asset.id, owner).staging_key, bytes .. "extra")
      local _, err = uploads.finalize(owner, created.asset.id)
      assert.same({ code = "upload_rejected",
        message = "the stored file has 105 bytes, 100 were announced" }, err)
    end)

    it("fails an upload whose content is not a photo or video at all", function()
      local owner = fixtures.user("svc-uploads-fin")
      local html = "<html><script>alert(document.cookie)</script></html>" .. string.rep(" ", 64)
      local created, asset = staged(owner, html, { filename = "cat.jpg" })
      local result, err = uploads.finalize(owner, created.asset.id)
      assert.is_nil(result)
      assert.same({ code = "upload_rejected", message = "the file is not a recognised photo or video" },
        err)
      assert.equal("failed", row(asset.id, owner).status)
      assert.is_nil(fixtures.stored(asset.staging_key))
      assert.is_nil(fixtures.stored(asset.storage_key_original))
    end)

    it("fails an upload whose content is another type than declared", function()
      local owner = fixtures.user("svc-uploads-fin")
      local created, asset = staged(owner, PNG)
      local _, err = uploads.finalize(owner, created.asset.id)
      assert.same({ code = "upload_rejected",
        message = "the file's content does not match image/jpeg" }, err)
      assert.equal("the file's content does not match image/jpeg", row(asset.id, owner).failure_reason)
    end)

    it("keeps the first of two uploads of one file; the second answers it as a duplicate", function()
      local owner = fixtures.user("svc-uploads-fin")
      local bytes = jpeg(1500)
      local first, first_row = staged(owner, bytes)
      local second, second_row = staged(owner, bytes)
      assert.is_false(second.duplicate)
      assert.not_equal(first.asset.id, second.asset.id)
      assert.equal("ready", assert(uploads.finalize(owner, first.asset.id)).asset.status)
      local result = assert(uploads.finalize(owner, second.asset.id))
      assert.is_true(result.duplicate)
      assert.equal(first.asset.id, result.asset.id)
      assert.equal("ready", result.asset.status)
      assert.is_nil(row(second.asset.id, owner))
      assert.is_nil(fixtures.stored(second_row.staging_key))
      assert.is_nil(fixtures.stored(second_row.storage_key_original))
      assert.equal(bytes, fixtures.stored(first_row.storage_key_original))
      -- finalizing the vanished second upload again is not_found
      local again, err = uploads.finalize(owner, second.asset.id)
      assert.is_nil(again)
      assert.equal("not_found", err.code)
    end)

    it("answers not_found for another user's upload and leaves it alone", function()
      local owner, other = fixtures.user("svc-uploads-fin"), fixtures.user("svc-uploads-fin")
      local created, asset = staged(owner, jpeg(300))
      local result, err = uploads.finalize(other, created.asset.id)
      assert.is_nil(result)
      assert.same({ code = "not_found", message = "asset not found" }, err)
      assert.equal("uploading", row(asset.id, owner).status)
      assert.is_string(fixtures.stored(asset.staging_key))
      assert.equal("not_found", select(2, uploads.finalize(owner, ids.uuid())).code)
    end)

    it("hands each asset to media processing once, when it becomes ready", function()
      local owner = fixtures.user("svc-uploads-fin")
      local handed = {}
      local watched = fixtures.load_with("services.uploads", {
        ["services.media"] = { asset_ready = function(asset)
          handed[#handed + 1] = asset
          return true
        end },
      })
      local created = staged(owner, jpeg(400))
      assert(watched.finalize(owner, created.asset.id))
      assert(watched.finalize(owner, created.asset.id))
      assert.equal(1, #handed)
      assert.equal(created.asset.id, handed[1].id)
      assert.equal("ready", handed[1].status)
      assert.is_string(handed[1].storage_key_original)
      -- a rejected upload is never handed over
      local bad = staged(owner, PNG)
      assert.is_nil(watched.finalize(owner, bad.asset.id))
      assert.equal(1, #handed)
    end)

    it("stays uploading when the hand-off fails, and a retry finishes it", function()
      local owner = fixtures.user("svc-uploads-fin")
      local failing = fixtures.load_with("services.uploads", {
        ["services.media"] = { asset_ready = function() return nil, "media queue is full" end },
      })
      local bytes = jpeg(450)
      local created = staged(owner, bytes)
      local result, err = failing.finalize(owner, created.asset.id)
      assert.is_nil(result)
      assert.equal("unavailable", err.code)
      assert.equal("uploading", row(created.asset.id, owner).status)
      local done = assert(uploads.finalize(owner, created.asset.id))
      assert.equal("ready", done.asset.status)
      assert.equal(bytes, fixtures.stored(row(created.asset.id, owner).storage_key_original))
    end)

    it("answers unavailable when storage does not answer, and a retry finishes", function()
      local owner = fixtures.user("svc-uploads-fin")
      for name, stand_in in pairs({
        head = { head = function() return nil, "storage head failed: timeout" end },
        read = { read = function() return nil, "storage read failed: timeout" end },
        move = { move = function() return nil, "storage move failed: EIO" end },
      }) do
        local bytes = jpeg(350)
        local created, asset = staged(owner, bytes)
        local broken = fixtures.load_with("services.uploads", { ["infra.storage"] = stand_in })
        local result, err = broken.finalize(owner, created.asset.id)
        assert.is_nil(result, name)
        assert.same({ code = "unavailable", message = "storage is not answering, try again" }, err)
        assert.equal("uploading", row(asset.id, owner).status)
        -- the bytes are still there, staged or already moved into place
        assert.equal(bytes, fixtures.stored(asset.staging_key)
          or fixtures.stored(asset.storage_key_original), name)
        local done = assert(uploads.finalize(owner, created.asset.id))
        assert.equal("ready", done.asset.status, name)
        assert.equal(bytes, fixtures.stored(asset.storage_key_original), name)
      end
    end)
  end)

  describe("parts", function()
    it("gives a single-PUT upload no parts and a fresh URL", function()
      local owner = fixtures.user("svc-uploads-parts")
      local created = assert(uploads.create(owner, input_for(jpeg(600))))
      local result = assert(uploads.parts(owner, created.asset.id))
      assert.same({}, result.parts)
      assert.equal("PUT", result.upload.method)
      assert.equal(1, result.upload.url:find("/blobs/staging/" .. owner.id .. "/" .. created.asset.id
        .. "?", 1, true))
    end)

    it("answers not_uploading once finished, not_found for others", function()
      local owner, other = fixtures.user("svc-uploads-parts"), fixtures.user("svc-uploads-parts")
      local created = staged(owner, jpeg(650))
      assert.equal("not_found", select(2, uploads.parts(other, created.asset.id)).code)
      assert(uploads.finalize(owner, created.asset.id))
      local result, err = uploads.parts(owner, created.asset.id)
      assert.is_nil(result)
      assert.same({ code = "not_uploading", message = "this upload is already finished" }, err)
    end)
  end)

  describe("abort", function()
    it("drops the upload's row and its staged bytes", function()
      local owner = fixtures.user("svc-uploads-abort")
      local created, asset = staged(owner, jpeg(800))
      assert.is_true(uploads.abort(owner, created.asset.id))
      assert.is_nil(row(asset.id, owner))
      assert.is_nil(fixtures.stored(asset.staging_key))
      local again, err = uploads.abort(owner, created.asset.id)
      assert.is_nil(again)
      assert.equal("not_found", err.code)
    end)

    it("refuses a finished upload with not_uploading and keeps it", function()
      local owner = fixtures.user("svc-uploads-abort")
      local created = staged(owner, jpeg(820))
      assert(uploads.finalize(owner, created.asset.id))
      local ok, err = uploads.abort(owner, created.asset.id)
      assert.is_nil(ok)
      assert.same({ code = "not_uploading", message = "this upload is already finished" }, err)
      local asset = row(created.asset.id, owner)
      assert.equal("ready", asset.status)
      assert.is_string(fixtures.stored(asset.storage_key_original))
    end)

    it("answers not_found for another user's upload and leaves it alone", function()
      local owner, other = fixtures.user("svc-uploads-abort"), fixtures.user("svc-uploads-abort")
      local created, asset = staged(owner, jpeg(840))
      local ok, err = uploads.abort(other, created.asset.id)
      assert.is_nil(ok)
      assert.equal("not_found", err.code)
      assert.is_table(row(asset.id, owner))
      assert.is_string(fixtures.stored(asset.staging_key))
    end)

    it("ends the upload even when storage cannot delete the bytes, leaving them to a sweep", function()
      local owner = fixtures.user("svc-uploads-abort")
      local created, asset = staged(owner, jpeg(860))
      local broken_assets = fixtures.load_with("services.assets", {
        ["infra.storage"] = {
          delete = function() return nil, "storage delete failed: 500" end,
          multipart_abort = function() return true end,
        },
      })
      local broken = fixtures.load_with("services.uploads", { ["services.assets"] = broken_assets })
      assert.is_true(broken.abort(owner, created.asset.id))
      assert.is_nil(row(asset.id, owner))
      local waiting = core.db.query("SELECT count(*) AS n FROM storage_sweeps WHERE storage_key = ?",
        asset.staging_key)[1].n
      assert.equal(1, waiting)
    end)
  end)

  describe("clean_stale", function()
    it("removes uploads past their deadline, bytes and row, and keeps the rest", function()
      local owner = fixtures.user("svc-uploads-stale")
      local expired_sent, expired_sent_row = staged(owner, jpeg(100))
      local expired_empty = assert(uploads.create(owner, input_for(jpeg(110))))
      local fresh, fresh_row = staged(owner, jpeg(120))
      local finished = staged(owner, jpeg(130))
      assert(uploads.finalize(owner, finished.asset.id))
      for _, id in ipairs({ expired_sent.asset.id, expired_empty.asset.id }) do
        core.db.exec("UPDATE assets SET upload_expires_at = ? WHERE id = ?",
          "2000-01-01T00:00:00.000Z", id)
      end
      assert.is_true(uploads.clean_stale(clock.now()) >= 2)
      assert.is_nil(row(expired_sent.asset.id, owner))
      assert.is_nil(row(expired_empty.asset.id, owner))
      assert.is_nil(fixtures.stored(expired_sent_row.staging_key))
      assert.is_table(row(fresh.asset.id, owner))
      assert.is_string(fixtures.stored(fresh_row.staging_key))
      assert.equal("ready", row(finished.asset.id, owner).status)
    end)

    it("removes an upload once its deadline has passed by the clock it is given", function()
      local owner = fixtures.user("svc-uploads-stale")
      local created, asset = staged(owner, jpeg(140))
      assert.is_table(row(asset.id, owner))
      local later = clock.now() + core.config.upload_expiry_seconds + 1
      assert.is_true(uploads.clean_stale(later) >= 1)
      assert.is_nil(row(created.asset.id, owner))
      assert.is_nil(fixtures.stored(asset.staging_key))
    end)
  end)
end)
