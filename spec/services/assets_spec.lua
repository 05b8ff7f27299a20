-- services.assets with the real repositories on the shared spec database, and the local
-- storage backend; stand-ins (helpers.fixtures.load_with) for the policy and failures.
local assets = require("services.assets")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local cursor = require("infra.cursor")
local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")
local json = require("core.json")
local storage_keys = require("domain.storage_keys")

if core.storage.backend() ~= "local" then
  pending("services.assets specs need STORAGE_BACKEND=local (objects written as files)")
  return
end

local DAY = 86400

local function ids_of(items)
  local list = {}
  for i, item in ipairs(items) do
    list[i] = item.id
  end
  return list
end

local function row(asset)
  return assets_repo.find_owned(asset.id, asset.owner_id)
end

-- A ready asset with bytes in the store for every key it has.
local function stored_asset(owner, fields)
  local asset = fixtures.asset(owner, fields)
  for _, field in ipairs({ "storage_key_original", "storage_key_thumb", "storage_key_preview",
    "storage_key_poster", "staging_key" }) do
    if asset[field] then
      fixtures.put(asset[field], field .. " of " .. asset.id)
    end
  end
  return asset
end

local function ready(owner, fields)
  fields = fields or {}
  fields.status = fields.status or "ready"
  return stored_asset(owner, fields)
end

local function derivatives(owner, fields)
  local id = ids.uuid()
  local now = clock.iso()
  fields = fields or {}
  fields.id, fields.created_at = id, now
  fields.storage_key_thumb = storage_keys.derivative("thumb", owner.id, id, now)
  fields.storage_key_preview = storage_keys.derivative("preview", owner.id, id, now)
  fields.storage_key_poster = storage_keys.derivative("poster", owner.id, id, now)
  return ready(owner, fields)
end

local function all_bytes_gone(asset)
  for _, field in ipairs({ "storage_key_original", "storage_key_thumb", "storage_key_preview",
    "storage_key_poster", "staging_key" }) do
    if asset[field] then
      assert.is_nil(fixtures.stored(asset[field]), field .. " still stored")
    end
  end
end


-- list() answers its items as JSON text (rendered by the database); decode them for
-- the checks, keeping the raw value as raw_items
local function list(user, q)
  local page, err = assets.list(user, q)
  if page then
    page.raw_items = page.items
    page.items = json.decode(json.encode(page.items))
  end
  return page, err
end

describe("services.assets", function()
  teardown(function()
    fixtures.cleanup()
  end)

  describe("present", function()
    it("shows the public fields and never a storage key", function()
      local owner = fixtures.user("svc-assets")
      local asset = derivatives(owner, { captured_at = "2024-01-01T00:00:00.000Z", width = 4032,
        height = 3024, placeholder = "LKO2?U%2Tw=w" })
      asset.media_status = "ready"   -- as the media job leaves it
      local shown = assets.present(asset)
      assert.same({
        id = asset.id, type = "photo", status = "ready", original_filename = "photo.jpg",
        content_type = "image/jpeg", size_bytes = 100, sha256 = asset.sha256, width = 4032,
        height = 3024, captured_at = "2024-01-01T00:00:00.000Z", created_at = asset.created_at,
        updated_at = asset.updated_at, placeholder = "LKO2?U%2Tw=w", thumb_status = "ready",
        favorite = false,
      }, shown)
      for key in pairs(shown) do
        assert.is_nil(key:find("key", 1, true), key)
      end
    end)

    it("reports the thumbnail pending, failed with the asset, or ready", function()
      local owner = fixtures.user("svc-assets")
      assert.equal("pending", assets.present(fixtures.asset(owner)).thumb_status)
      assert.equal("pending", assets.present(fixtures.asset(owner, { status = "ready" })).thumb_status)
      local failed = fixtures.asset(owner, { status = "failed", failure_reason = "bad bytes" })
      assert.equal("failed", assets.present(failed).thumb_status)
      assert.equal("bad bytes", assets.present(failed).failure_reason)
      local made = fixtures.asset(owner, { status = "ready" })
      made.media_status = "ready"
      assert.equal("ready", assets.present(made).thumb_status)
      local unreadable = fixtures.asset(owner, { status = "ready" })
      unreadable.media_status, unreadable.media_error = "failed", "corrupt image"
      assert.equal("failed", assets.present(unreadable).thumb_status)
      assert.equal("corrupt image", assets.present(unreadable).media_error)
    end)
  end)

  describe("list", function()
    local owner, stranger, newest_first

    setup(function()
      owner, stranger = fixtures.user("svc-assets-list"), fixtures.user("svc-assets-list")
      newest_first = {}
      for day = 7, 1, -1 do
        local asset = fixtures.asset(owner, { status = "ready",
          captured_at = string.format("2024-01-%02dT10:00:00.000Z", day),
          type = day % 3 == 0 and "video" or "photo",
          content_type = day % 3 == 0 and "video/mp4" or "image/jpeg" })
        newest_first[#newest_first + 1] = asset.id
      end
      fixtures.asset(owner, { captured_at = "2024-01-08T00:00:00.000Z" })   -- uploading
      fixtures.asset(stranger, { status = "ready", captured_at = "2024-01-04T00:00:00.000Z" })
    end)

    it("pages newest first with a cursor, and no next_cursor on the last page", function()
      local seen, page_sizes, next_cursor = {}, {}, nil
      repeat
        local page = assert(list(owner, { limit = 3, cursor = next_cursor }))
        page_sizes[#page_sizes + 1] = #page.items
        for _, item in ipairs(page.items) do
          seen[#seen + 1] = item.id
          assert.is_nil(item.storage_key_original)
        end
        next_cursor = page.next_cursor
      until not next_cursor
      assert.same(newest_first, seen)
      assert.same({ 3, 3, 1 }, page_sizes)
    end)

    it("ends with an empty page when the last page was exactly full", function()
      local first = assert(list(owner, { limit = 7 }))
      assert.equal(7, #first.items)
      local last = assert(list(owner, { limit = 7, cursor = first.next_cursor }))
      assert.equal(0, #last.items)
      assert.is_nil(last.next_cursor)
      assert.equal("[]", json.encode(last.raw_items))
    end)

    it("gives items as a JSON array even when there are none", function()
      local page = assert(list(fixtures.user("svc-assets-list"), {}))
      assert.equal("[]", json.encode(page.raw_items))
      assert.is_nil(page.next_cursor)
    end)

    it("lists 100 by default", function()
      local many = fixtures.user("svc-assets-list")
      for _ = 1, 101 do
        fixtures.asset(many, { status = "ready" })
      end
      local page = assert(list(many, {}))
      assert.equal(100, #page.items)
      assert.is_string(page.next_cursor)
      assert.equal(1, #assert(list(many, { cursor = page.next_cursor })).items)
    end)

    it("filters by type, and the cursor carries on within the filter", function()
      local videos = assert(list(owner, { type = "video", limit = 1 }))
      assert.equal(1, #videos.items)
      assert.equal("video", videos.items[1].type)
      local rest = assert(list(owner, { type = "video", limit = 5,
        cursor = videos.next_cursor }))
      assert.equal(1, #rest.items)
      assert.equal("video", rest.items[1].type)
      assert.not_equal(videos.items[1].id, rest.items[1].id)
    end)

    it("filters by dates or date-times, from inclusive and to exclusive", function()
      local page = assert(list(owner, { from = "2024-01-03", to = "2024-01-05" }))
      assert.same({ newest_first[4], newest_first[5] }, ids_of(page.items))
      page = assert(list(owner, { from = "2024-01-06T10:00:00Z" }))
      assert.same({ newest_first[1], newest_first[2] }, ids_of(page.items))
      page = assert(list(owner, { to = "2024-01-02T10:00:00.000Z" }))
      assert.same({ newest_first[7] }, ids_of(page.items))
      page = assert(list(owner, { from = "2024-01-05", to = "2024-01-03" }))
      assert.equal(0, #page.items)
    end)

    it("keeps a cursor valid for the same filter spelled another way", function()
      local first = assert(list(owner, { from = "2024-01-02", limit = 2 }))
      local again = assert(list(owner, { from = "2024-01-02T00:00:00Z", limit = 2,
        cursor = first.next_cursor }))
      assert.same({ newest_first[3], newest_first[4] }, ids_of(again.items))
    end)

    it("refuses a from or to that is not a date, naming the field", function()
      for _, field in ipairs({ "from", "to" }) do
        for _, bad in ipairs({ "yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "" }) do
          local page, err = list(owner, { [field] = bad })
          assert.is_nil(page)
          assert.same({ code = "validation_error", field = field,
            message = "must be a date or an RFC 3339 date-time" }, err)
        end
      end
    end)

    it("lists the trash only with trashed = true", function()
      local user = fixtures.user("svc-assets-list")
      local kept = fixtures.asset(user, { status = "ready" })
      local trashed = fixtures.asset(user, { status = "ready", deleted_at = clock.iso() })
      assert.same({ kept.id }, ids_of(assert(list(user, {})).items))
      assert.same({ trashed.id }, ids_of(assert(list(user, { trashed = true })).items))
      -- only the boolean true means the trash
      assert.same({ kept.id }, ids_of(assert(list(user, { trashed = "true" })).items))
    end)

    it("refuses garbage, foreign, other-listing and malformed cursors with invalid_cursor", function()
      local c = assert(list(owner, { limit = 2 })).next_cursor
      local function refused(user, q)
        local page, err = list(user, q)
        assert.is_nil(page)
        assert.same({ code = "invalid_cursor",
          message = "the cursor is not valid for this listing" }, err)
      end
      refused(owner, { cursor = "garbage" })
      refused(owner, { cursor = c:sub(1, -2) })
      refused(owner, { cursor = string.rep("A", 600) })
      refused(stranger, { cursor = c })
      refused(owner, { cursor = c, trashed = true })
      refused(owner, { cursor = c, type = "photo" })
      refused(owner, { cursor = c, from = "2024-01-01" })
      refused(owner, { cursor = c, to = "2030-01-01" })
      -- signed for this listing, but not a position the service wrote
      refused(owner, { cursor = cursor.encode(owner.id, "library|||||||owner", { s = 1, i = "x" }) })
      refused(owner, { cursor = cursor.encode(owner.id, "library|||||||owner", { s = "x" }) })
      refused(owner, { cursor = cursor.encode(owner.id, "library|||||||owner", {}) })
      -- the same forgery shape with good fields is accepted: the scope is right
      local ok = list(owner, { cursor = cursor.encode(owner.id, "library|||||||owner",
        { s = "9999-01-01T00:00:00.000Z", i = "z" }) })
      assert.equal(7, #ok.items)
    end)

    it("answers unavailable when the database fails", function()
      local broken = fixtures.load_with("services.assets", {
        ["repositories.assets"] = { list_json = function() return nil, "database is locked" end },
      })
      local page, err = broken.list(owner, {})
      assert.is_nil(page)
      assert.equal("unavailable", err.code)
      assert.is_nil(err.message:find("locked", 1, true))
    end)
  end)

  describe("get", function()
    it("returns the user's asset in any state", function()
      local owner = fixtures.user("svc-assets")
      for _, fields in ipairs({ {}, { status = "ready" }, { status = "failed" },
        { status = "ready", deleted_at = clock.iso() } }) do
        local asset = fixtures.asset(owner, fields)
        assert.same(asset, assets.get(owner, asset.id))
      end
    end)

    it("answers not_found for another user's asset, the same as for a missing one", function()
      local owner, other = fixtures.user("svc-assets"), fixtures.user("svc-assets")
      local asset = fixtures.asset(owner, { status = "ready" })
      local found, err = assets.get(other, asset.id)
      assert.is_nil(found)
      local _, missing_err = assets.get(other, ids.uuid())
      assert.same({ code = "not_found", message = "asset not found" }, err)
      assert.same(err, missing_err)
    end)

    it("answers unavailable when the database fails", function()
      local broken = fixtures.load_with("services.assets", {
        ["repositories.assets"] = { find_owned = function() return nil, "disk I/O error" end },
      })
      local found, err = broken.get({ id = ids.uuid() }, ids.uuid())
      assert.is_nil(found)
      assert.equal("unavailable", err.code)
    end)
  end)

  describe("bulk", function()
    it("trashes several assets at once, counting each id once", function()
      local owner = fixtures.user("svc-assets-bulk")
      local a, b = ready(owner), ready(owner)
      assert.same({ changed = 2 }, assets.bulk(owner, "trash", { a.id, b.id, a.id }))
      assert.is_string(row(a).deleted_at)
      assert.is_string(row(b).deleted_at)
      -- the bytes stay while in the trash
      assert.is_string(fixtures.stored(a.storage_key_original))
    end)

    it("changes nothing at all when one id is not the user's", function()
      local owner, other = fixtures.user("svc-assets-bulk"), fixtures.user("svc-assets-bulk")
      local mine, theirs = ready(owner), ready(other)
      for _, action in ipairs({ "trash", "restore", "purge" }) do
        local result, err = assets.bulk(owner, action, { mine.id, theirs.id })
        assert.is_nil(result)
        assert.same({ code = "not_found", message = "asset not found" }, err)
        result, err = assets.bulk(owner, action, { mine.id, ids.uuid() })
        assert.is_nil(result)
        assert.equal("not_found", err.code)
      end
      assert.is_nil(row(mine).deleted_at)
      assert.is_nil(row(theirs).deleted_at)
      assert.is_string(fixtures.stored(theirs.storage_key_original))
    end)

    it("refuses to trash an upload or a failed asset, and trashes none of the list", function()
      local owner = fixtures.user("svc-assets-bulk")
      local good = ready(owner)
      for _, fields in ipairs({ {}, { status = "failed" } }) do
        local bad = fixtures.asset(owner, fields)
        local result, err = assets.bulk(owner, "trash", { good.id, bad.id })
        assert.is_nil(result)
        assert.same({ code = "not_ready",
          message = "only stored assets can be moved to the trash" }, err)
      end
      assert.is_nil(row(good).deleted_at)
    end)

    it("answers changed = 0 when everything is already in the trash", function()
      local owner = fixtures.user("svc-assets-bulk")
      local a = ready(owner, { deleted_at = "2024-01-01T00:00:00.000Z" })
      local b = ready(owner)
      assert.same({ changed = 1 }, assets.bulk(owner, "trash", { a.id, b.id }))
      assert.equal("2024-01-01T00:00:00.000Z", row(a).deleted_at)
      assert.same({ changed = 0 }, assets.bulk(owner, "trash", { a.id, b.id }))
    end)

    it("restores only from the trash: not_in_trash otherwise, and nothing changes", function()
      local owner = fixtures.user("svc-assets-bulk")
      local trashed = ready(owner, { deleted_at = clock.iso() })
      local outside = ready(owner)
      local result, err = assets.bulk(owner, "restore", { trashed.id, outside.id })
      assert.is_nil(result)
      assert.same({ code = "not_in_trash", message = "only assets in the trash can be restored" }, err)
      assert.is_string(row(trashed).deleted_at)
      assert.same({ changed = 1 }, assets.bulk(owner, "restore", { trashed.id }))
      assert.is_nil(row(trashed).deleted_at)
    end)

    it("purges only from the trash, deleting every stored object and then the row", function()
      local owner = fixtures.user("svc-assets-bulk")
      local a = derivatives(owner, { deleted_at = clock.iso() })
      local b = ready(owner, { deleted_at = clock.iso() })
      local outside = ready(owner)
      local result, err = assets.bulk(owner, "purge", { a.id, outside.id })
      assert.is_nil(result)
      assert.same({ code = "not_in_trash",
        message = "only assets in the trash can be deleted forever" }, err)
      assert.is_string(fixtures.stored(a.storage_key_original))
      assert.same({ changed = 2 }, assets.bulk(owner, "purge", { a.id, b.id }))
      assert.is_nil(row(a))
      assert.is_nil(row(b))
      all_bytes_gone(a)
      all_bytes_gone(b)
      assert.is_string(fixtures.stored(outside.storage_key_original))
    end)

    it("deletes the rows and leaves bytes storage could not delete to a later sweep", function()
      local owner = fixtures.user("svc-assets-bulk")
      local a = ready(owner, { deleted_at = clock.iso() })
      local b = ready(owner, { deleted_at = clock.iso() })
      local broken = fixtures.load_with("services.assets", {
        ["infra.storage"] = { delete = function() return nil, "storage delete failed: 503 SlowDown" end },
      })
      assert.same({ changed = 2 }, broken.bulk(owner, "purge", { a.id, b.id }))
      assert.is_nil(row(a))
      assert.is_nil(row(b))
      -- the objects wait in storage_sweeps, and the next sweep deletes them
      local waiting = core.db.query("SELECT count(*) AS n FROM storage_sweeps WHERE storage_key IN (?, ?)",
        a.storage_key_original, b.storage_key_original)[1].n
      assert.equal(2, waiting)
      assert.is_true(assets.sweep_due(clock.now() + 1) >= 2)
      all_bytes_gone(a)
      all_bytes_gone(b)
    end)
  end)

  describe("destroy", function()
    it("deletes every object an asset has, even after a missing derivative", function()
      local owner = fixtures.user("svc-assets-destroy")
      local id, now = ids.uuid(), clock.iso()
      -- no thumbnail, but a preview, a poster and a leftover staged upload
      local asset = stored_asset(owner, { id = id, created_at = now,
        storage_key_preview = storage_keys.derivative("preview", owner.id, id, now),
        storage_key_poster = storage_keys.derivative("poster", owner.id, id, now) })
      assert.is_string(asset.staging_key)
      assert.is_true(assets.destroy(asset, "uploading"))
      all_bytes_gone(asset)
      assert.is_nil(row(asset))
    end)

    it("destroys a row only while it is still in the given state", function()
      local owner = fixtures.user("svc-assets-destroy")
      local asset = fixtures.asset(owner, { status = "ready" })
      -- not in the trash (say a restore got there first): left alone
      assert.is_false(assets.destroy(asset, "trashed"))
      assert.is_table(row(asset))
      core.db.exec("UPDATE assets SET deleted_at = ? WHERE id = ?", clock.iso(), asset.id)
      assert.is_true(assets.destroy(asset, "trashed"))
      -- gone already: nothing to do, no error
      assert.is_false(assets.destroy(asset, "trashed"))
    end)
  end)

  describe("purge", function()
    it("deletes one trashed asset forever, and succeeds again when it is gone", function()
      local owner = fixtures.user("svc-assets-purge")
      local asset = derivatives(owner, { deleted_at = clock.iso() })
      assert.is_true(assets.purge(owner, asset.id))
      assert.is_nil(row(asset))
      all_bytes_gone(asset)
      assert.is_true(assets.purge(owner, asset.id))
      assert.is_true(assets.purge(owner, ids.uuid()))
    end)

    it("refuses an asset outside the trash with not_in_trash", function()
      local owner = fixtures.user("svc-assets-purge")
      local asset = ready(owner)
      local ok, err = assets.purge(owner, asset.id)
      assert.is_nil(ok)
      assert.equal("not_in_trash", err.code)
      assert.is_table(row(asset))
      local upload = fixtures.asset(owner)
      ok, err = assets.purge(owner, upload.id)
      assert.is_nil(ok)
      assert.equal("not_in_trash", err.code)
    end)

    it("succeeds when a concurrent purge deletes the asset between its two lookups", function()
      local owner = fixtures.user("svc-assets-purge")
      local asset = ready(owner, { deleted_at = clock.iso() })
      -- the row is found, then gone by the time the purge loads it again
      local racing = fixtures.load_with("services.assets", {
        ["repositories.assets"] = { find_many_owned = function() return {} end },
      })
      assert.is_true(racing.purge(owner, asset.id))
    end)

    it("answers another user's id like a missing one, and leaves it alone", function()
      local owner, other = fixtures.user("svc-assets-purge"), fixtures.user("svc-assets-purge")
      local theirs = ready(other, { deleted_at = clock.iso() })
      assert.is_true(assets.purge(owner, theirs.id))
      assert.is_table(row(theirs))
      assert.is_string(fixtures.stored(theirs.storage_key_original))
    end)
  end)

  describe("empty_trash", function()
    it("purges everything in the user's trash and nothing else", function()
      local owner, other = fixtures.user("svc-assets-empty"), fixtures.user("svc-assets-empty")
      local a = derivatives(owner, { deleted_at = clock.iso() })
      local b = ready(owner, { deleted_at = clock.iso() })
      local kept = ready(owner)
      local theirs = ready(other, { deleted_at = clock.iso() })
      assert.same({ changed = 2 }, assets.empty_trash(owner))
      assert.is_nil(row(a))
      assert.is_nil(row(b))
      all_bytes_gone(a)
      assert.is_table(row(kept))
      assert.is_table(row(theirs))
      assert.is_string(fixtures.stored(theirs.storage_key_original))
      assert.same({ changed = 0 }, assets.empty_trash(owner))
    end)
  end)

  describe("signed_url", function()
    local ttl = core.config.signed_url_ttl_seconds

    it("signs the original for download with its type and filename", function()
      local owner = fixtures.user("svc-assets-url")
      local asset = ready(owner, { original_filename = "Beach Day.jpg" })
      local signed = assert(assets.signed_url(owner, asset.id, "original", "attachment"))
      assert.equal(ttl, signed.expires_in)
      assert.equal(1, signed.url:find("/blobs/" .. asset.storage_key_original .. "?", 1, true))
      assert.matches("&ct=image%%2Fjpeg&", signed.url)
      assert.matches("&fn=Beach%%20Day%.jpg&", signed.url)
      assert.matches("&disp=attachment&", signed.url)
      local exp = tonumber(signed.url:match("exp=(%d+)"))
      assert.is_true(math.abs(exp - (os.time() + ttl)) <= 1)
    end)

    it("signs inline for showing and streaming", function()
      local owner = fixtures.user("svc-assets-url")
      local asset = ready(owner, { content_type = "video/mp4", type = "video",
        original_filename = "clip.mp4" })
      local signed = assert(assets.signed_url(owner, asset.id, "original", "inline"))
      assert.matches("&ct=video%%2Fmp4&", signed.url)
      assert.matches("&disp=inline&", signed.url)
    end)

    it("signs each derivative as a JPEG named after the original", function()
      local owner = fixtures.user("svc-assets-url")
      local asset = derivatives(owner, { original_filename = "IMG_0042.HEIC",
        content_type = "image/heic" })
      for kind, field in pairs({ thumb = "storage_key_thumb", preview = "storage_key_preview",
        poster = "storage_key_poster" }) do
        local signed = assert(assets.signed_url(owner, asset.id, kind, "attachment"))
        assert.equal(1, signed.url:find("/blobs/" .. asset[field] .. "?", 1, true), kind)
        assert.matches("&ct=image%%2Fjpeg&", signed.url)
        assert.matches("&fn=IMG_0042%-" .. kind .. "%.jpg&", signed.url)
      end
      local no_ext = derivatives(owner, { original_filename = "scan" })
      assert.matches("&fn=scan%-thumb%.jpg&", assets.signed_url(owner, no_ext.id, "thumb").url)
    end)

    it("answers not_found for a derivative that does not exist yet", function()
      local owner = fixtures.user("svc-assets-url")
      local asset = ready(owner)
      for _, kind in ipairs({ "thumb", "preview", "poster" }) do
        local signed, err = assets.signed_url(owner, asset.id, kind, "attachment")
        assert.is_nil(signed)
        assert.same({ code = "not_found", message = kind .. " not found" }, err)
      end
    end)

    it("answers not_found for an unknown kind", function()
      local owner = fixtures.user("svc-assets-url")
      local asset = ready(owner)
      for _, kind in ipairs({ "staging", "storage_key_original", "id" }) do
        local signed, err = assets.signed_url(owner, asset.id, kind, "attachment")
        assert.is_nil(signed)
        assert.equal("not_found", err.code)
      end
    end)

    it("answers not_found for uploads, failed assets and other users' assets", function()
      local owner, other = fixtures.user("svc-assets-url"), fixtures.user("svc-assets-url")
      for _, asset in ipairs({ fixtures.asset(owner), fixtures.asset(owner, { status = "failed" }) }) do
        local signed, err = assets.signed_url(owner, asset.id, "original", "attachment")
        assert.is_nil(signed)
        assert.same({ code = "not_found", message = "original not found" }, err)
      end
      local theirs = ready(other)
      local signed, err = assets.signed_url(owner, theirs.id, "original", "attachment")
      assert.is_nil(signed)
      assert.same({ code = "not_found", message = "asset not found" }, err)
      assert.is_nil((assets.signed_url(owner, ids.uuid(), "original", "attachment")))
    end)
  end)

  describe("usage", function()
    it("reports bytes and counts, and no quota by default", function()
      local owner = fixtures.user("svc-assets-usage")
      fixtures.asset(owner, { status = "ready", size_bytes = 1500 })
      fixtures.asset(owner, { status = "ready", size_bytes = 500, type = "video",
        content_type = "video/mp4", deleted_at = clock.iso() })
      fixtures.asset(owner, { size_bytes = 25 })
      fixtures.asset(owner, { status = "failed", size_bytes = 1000000 })
      -- the trashed video still takes space, but is counted as trash, not as a video
      assert.same({ used_bytes = 2025, photos = 1, videos = 0, trashed = 1,
        trash_retention_days = 30 }, assets.usage(owner))
      assert.is_nil(assets.usage(owner).quota_bytes)
    end)

    it("takes the quota from the policy, per user", function()
      local owner, big = fixtures.user("svc-assets-usage"), fixtures.user("svc-assets-usage")
      local with_quota = fixtures.load_with("services.assets", {
        ["infra.policy"] = { quota_bytes = function(user)
          return user.id == big.id and 10 * 1024 * 1024 or 5000
        end },
      })
      assert.equal(5000, with_quota.usage(owner).quota_bytes)
      assert.equal(10 * 1024 * 1024, with_quota.usage(big).quota_bytes)
    end)

    it("answers unavailable when the database fails", function()
      local broken = fixtures.load_with("services.assets", {
        ["repositories.assets"] = { usage = function() return nil, "database is locked" end },
      })
      local usage, err = broken.usage({ id = ids.uuid() })
      assert.is_nil(usage)
      assert.equal("unavailable", err.code)
    end)
  end)

  describe("purge_expired_trash", function()
    it("deletes for good what has been in the trash longer than the retention", function()
      local owner = fixtures.user("svc-assets-retention")
      local now = clock.now()
      local expired = derivatives(owner, { deleted_at = clock.iso(now - 31 * DAY) })
      local recent = ready(owner, { deleted_at = clock.iso(now - 29 * DAY) })
      local kept = ready(owner)
      assert.is_true(assets.purge_expired_trash(now) >= 1)
      assert.is_nil(row(expired))
      all_bytes_gone(expired)
      assert.is_table(row(recent))
      assert.is_string(fixtures.stored(recent.storage_key_original))
      assert.is_table(row(kept))
    end)

    it("follows the retention the policy sets", function()
      local owner = fixtures.user("svc-assets-retention")
      local now = clock.now()
      local two_days = ready(owner, { deleted_at = clock.iso(now - 2 * DAY - 60) })
      local today = ready(owner, { deleted_at = clock.iso(now - 3600) })
      local short = fixtures.load_with("services.assets", {
        ["infra.policy"] = { trash_retention_days = function() return 2 end },
      })
      assert.is_true(short.purge_expired_trash(now) >= 1)
      assert.is_nil(row(two_days))
      assert.is_table(row(today))
      -- a clock one day on makes today's expire too
      assert.is_true(short.purge_expired_trash(now + 2 * DAY) >= 1)
      assert.is_nil(row(today))
    end)

    it("drops the row even when storage cannot delete, and the sweep finishes later", function()
      local owner = fixtures.user("svc-assets-retention")
      local expired = ready(owner, { deleted_at = "2000-01-01T00:00:00.000Z" })
      local broken = fixtures.load_with("services.assets", {
        ["infra.storage"] = { delete = function() return nil, "storage delete failed: timeout" end },
      })
      assert.is_true(broken.purge_expired_trash(clock.now()) >= 1)
      assert.is_nil(row(expired))
      assert.is_string(fixtures.stored(expired.storage_key_original))
      assert.is_true(assets.sweep_due(clock.now() + 1) >= 1)
      assert.is_nil(fixtures.stored(expired.storage_key_original))
    end)
  end)
end)
