local assets = require("repositories.assets")
local clock = require("infra.clock")
local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")
local storage_keys = require("domain.storage_keys")

-- A row as services.uploads.create builds it.
local function new_row(owner, fields)
  local id = ids.uuid()
  local now = clock.iso()
  local row = {
    id = id,
    owner_id = owner.id,
    type = "photo",
    original_filename = "IMG_0001.JPG",
    content_type = "image/jpeg",
    size_bytes = 2048,
    sha256 = fixtures.sha256(),
    sort_at = now,
    created_at = now,
    storage_key_original = storage_keys.original(owner.id, id, now, ".jpg"),
    staging_key = storage_keys.staging(owner.id, id),
    upload_expires_at = clock.iso(clock.now() + 3600),
  }
  for key, value in pairs(fields or {}) do
    row[key] = value
  end
  return row
end

local function ids_of(rows)
  local list = {}
  for i, row in ipairs(rows) do
    list[i] = row.id
  end
  return list
end

-- The rows of `rows` whose id is in `wanted`, in order.
local function only(rows, wanted)
  local set, list = {}, {}
  for _, id in ipairs(wanted) do
    set[id] = true
  end
  for _, row in ipairs(rows) do
    if set[row.id] then
      list[#list + 1] = row.id
    end
  end
  return list
end


-- list_json answers each row as its public JSON; decode it (plus the position) for checks
local function list(q)
  local rows, err = assets.list_json(q)
  if not rows then
    return nil, err
  end
  for i, row in ipairs(rows) do
    local item = core.json.decode(row.json)
    item.sort_at = row.sort_at
    rows[i] = item
  end
  return rows
end

describe("repositories.assets", function()
  teardown(function()
    fixtures.cleanup()
  end)

  describe("insert and find_owned", function()
    it("inserts an uploading row and finds it for its owner", function()
      local owner = fixtures.user("repo-assets")
      local row = new_row(owner, { captured_at = "2024-01-02T03:04:05.000Z",
        sort_at = "2024-01-02T03:04:05.000Z" })
      assert.is_true(assets.insert(row))
      local found = assets.find_owned(row.id, owner.id)
      for _, column in ipairs({ "id", "owner_id", "type", "original_filename", "content_type",
        "size_bytes", "sha256", "captured_at", "sort_at", "created_at", "storage_key_original",
        "staging_key", "upload_expires_at" }) do
        assert.equal(row[column], found[column], column)
      end
      assert.equal("uploading", found.status)
      assert.equal(row.created_at, found.updated_at)
      assert.equal("integer", math.type(found.size_bytes))
      for _, column in ipairs({ "deleted_at", "width", "height", "duration_ms", "storage_key_thumb",
        "storage_key_preview", "storage_key_poster", "placeholder", "multipart_upload_id",
        "failure_reason" }) do
        assert.is_nil(found[column], column)
      end
    end)

    it("answers a bare nil for another owner's asset and for a missing id", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local row = new_row(owner)
      assert.is_true(assets.insert(row))
      local found, err = assets.find_owned(row.id, other.id)
      assert.is_nil(found)
      assert.is_nil(err)
      found, err = assets.find_owned(ids.uuid(), owner.id)
      assert.is_nil(found)
      assert.is_nil(err)
      assert.is_nil(assets.find_owned("' OR '1'='1", owner.id))
      assert.is_nil(assets.find_owned(row.id, "' OR '1'='1"))
    end)

    it("refuses a duplicate id with code unique", function()
      local owner = fixtures.user("repo-assets")
      local row = new_row(owner)
      assert.is_true(assets.insert(row))
      local again = new_row(owner, { id = row.id })
      local ok, err, code = assets.insert(again)
      assert.is_nil(ok)
      assert.is_string(err)
      assert.equal("unique", code)
    end)

    it("refuses a row without a required value, and one of an unknown owner", function()
      local owner = fixtures.user("repo-assets")
      local row = new_row(owner)
      row.sha256 = nil
      local ok, err, code = assets.insert(row)
      assert.is_nil(ok)
      assert.matches("NOT NULL", err)
      assert.equal("constraint", code)
      ok, err, code = assets.insert(new_row({ id = ids.uuid() }))
      assert.is_nil(ok)
      assert.is_string(err)
      assert.equal("constraint", code)
      ok, _, code = assets.insert(new_row(owner, { type = "document" }))
      assert.is_nil(ok)
      assert.equal("constraint", code)
    end)
  end)

  describe("mark_ready and mark_failed", function()
    it("marks an uploading row ready once and drops its upload bookkeeping", function()
      local owner = fixtures.user("repo-assets")
      local row = new_row(owner, { multipart_upload_id = "mp-1" })
      assert.is_true(assets.insert(row))
      local later = clock.iso(clock.now() + 5)
      assert.equal(1, assets.mark_ready(row.id, owner.id, later))
      local found = assets.find_owned(row.id, owner.id)
      assert.equal("ready", found.status)
      assert.equal(later, found.updated_at)
      assert.is_nil(found.staging_key)
      assert.is_nil(found.multipart_upload_id)
      assert.is_nil(found.upload_expires_at)
      assert.equal(row.storage_key_original, found.storage_key_original)
      assert.equal(0, assets.mark_ready(row.id, owner.id, clock.iso()))
      assert.equal(later, assets.find_owned(row.id, owner.id).updated_at)
    end)

    it("changes nothing for another owner", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local row = new_row(owner)
      assert.is_true(assets.insert(row))
      assert.equal(0, assets.mark_ready(row.id, other.id, clock.iso()))
      assert.equal(0, assets.mark_failed(row.id, other.id, "nope", clock.iso()))
      assert.equal("uploading", assets.find_owned(row.id, owner.id).status)
    end)

    it("marks an uploading row failed with its reason, and only from uploading", function()
      local owner = fixtures.user("repo-assets")
      local row = new_row(owner)
      assert.is_true(assets.insert(row))
      assert.equal(1, assets.mark_failed(row.id, owner.id, "too short", clock.iso()))
      local found = assets.find_owned(row.id, owner.id)
      assert.equal("failed", found.status)
      assert.equal("too short", found.failure_reason)
      assert.is_nil(found.staging_key)
      assert.is_nil(found.upload_expires_at)
      -- failed is final: neither ready nor failed again
      assert.equal(0, assets.mark_ready(row.id, owner.id, clock.iso()))
      assert.equal(0, assets.mark_failed(row.id, owner.id, "again", clock.iso()))
      assert.equal("too short", assets.find_owned(row.id, owner.id).failure_reason)
      -- and a ready row cannot fail
      local ready = fixtures.asset(owner, { status = "ready" })
      assert.equal(0, assets.mark_failed(ready.id, owner.id, "late", clock.iso()))
      assert.equal("ready", assets.find_owned(ready.id, owner.id).status)
    end)

    it("keeps one ready row per content hash and user: the second gets code unique", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local sha = fixtures.sha256()
      local first, second = new_row(owner, { sha256 = sha }), new_row(owner, { sha256 = sha })
      assert.is_true(assets.insert(first))
      assert.is_true(assets.insert(second))   -- two uploads of one file may run at once
      assert.equal(1, assets.mark_ready(first.id, owner.id, clock.iso()))
      local count, err, code = assets.mark_ready(second.id, owner.id, clock.iso())
      assert.is_nil(count)
      assert.is_string(err)
      assert.equal("unique", code)
      assert.equal("uploading", assets.find_owned(second.id, owner.id).status)
      -- the same file of another user, and failed copies, are no conflict
      local theirs = new_row(other, { sha256 = sha })
      assert.is_true(assets.insert(theirs))
      assert.equal(1, assets.mark_ready(theirs.id, other.id, clock.iso()))
      assert.equal(1, assets.mark_failed(second.id, owner.id, "duplicate", clock.iso()))
    end)

    it("find_ready_by_sha256 finds only the owner's ready row", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local sha = fixtures.sha256()
      local row = new_row(owner, { sha256 = sha })
      assert.is_true(assets.insert(row))
      local found, err = assets.find_ready_by_sha256(owner.id, sha)
      assert.is_nil(found)
      assert.is_nil(err)
      assets.mark_ready(row.id, owner.id, clock.iso())
      assert.equal(row.id, assets.find_ready_by_sha256(owner.id, sha).id)
      assert.is_nil(assets.find_ready_by_sha256(other.id, sha))
      assert.is_nil(assets.find_ready_by_sha256(owner.id, fixtures.sha256()))
    end)
  end)

  describe("delete_in_state", function()
    it("deletes the owner's row once, only while it is in the state named", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local row = fixtures.asset(owner, { status = "ready", deleted_at = clock.iso() })
      assert.equal(0, assets.delete_in_state(row.id, other.id, "trashed"))
      assert.equal(0, assets.delete_in_state(row.id, owner.id, "uploading"))
      assert.equal(0, assets.delete_in_state(row.id, owner.id, "failed"))
      assert.is_table(assets.find_owned(row.id, owner.id))
      assert.equal(1, assets.delete_in_state(row.id, owner.id, "trashed"))
      assert.is_nil(assets.find_owned(row.id, owner.id))
      assert.equal(0, assets.delete_in_state(row.id, owner.id, "trashed"))
      assert.has_error(function() assets.delete_in_state(row.id, owner.id, "any") end)
    end)
  end)

  describe("set_trashed and find_many_owned", function()
    it("trashes ready rows outside the trash and restores trashed ones", function()
      local owner = fixtures.user("repo-assets")
      local a = fixtures.asset(owner, { status = "ready" })
      local b = fixtures.asset(owner, { status = "ready" })
      local uploading = fixtures.asset(owner)
      local failed = fixtures.asset(owner, { status = "failed" })
      local at = "2024-06-01T12:00:00.000Z"
      assert.equal(2, assets.set_trashed({ a.id, b.id, uploading.id, failed.id }, owner.id, true, at))
      local found = assets.find_owned(a.id, owner.id)
      assert.equal(at, found.deleted_at)
      assert.equal(at, found.updated_at)
      assert.is_nil(assets.find_owned(uploading.id, owner.id).deleted_at)
      assert.is_nil(assets.find_owned(failed.id, owner.id).deleted_at)
      -- already in the trash: unchanged, deleted_at kept
      assert.equal(0, assets.set_trashed({ a.id }, owner.id, true, "2025-01-01T00:00:00.000Z"))
      assert.equal(at, assets.find_owned(a.id, owner.id).deleted_at)
      assert.equal(1, assets.set_trashed({ a.id, uploading.id }, owner.id, false, clock.iso()))
      assert.is_nil(assets.find_owned(a.id, owner.id).deleted_at)
      assert.equal(0, assets.set_trashed({ a.id }, owner.id, false, clock.iso()))
    end)

    it("changes nothing of another owner's", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local theirs = fixtures.asset(other, { status = "ready" })
      assert.equal(0, assets.set_trashed({ theirs.id }, owner.id, true, clock.iso()))
      assert.is_nil(assets.find_owned(theirs.id, other.id).deleted_at)
      local trashed = fixtures.asset(other, { status = "ready", deleted_at = clock.iso() })
      assert.equal(0, assets.set_trashed({ trashed.id }, owner.id, false, clock.iso()))
      assert.is_string(assets.find_owned(trashed.id, other.id).deleted_at)
    end)

    it("find_many_owned returns only the owner's rows among the ids", function()
      local owner, other = fixtures.user("repo-assets"), fixtures.user("repo-assets")
      local a = fixtures.asset(owner, { status = "ready" })
      local b = fixtures.asset(owner)
      local theirs = fixtures.asset(other, { status = "ready" })
      local rows = assert(assets.find_many_owned({ a.id, b.id, theirs.id, ids.uuid() }, owner.id))
      local got = ids_of(rows)
      table.sort(got)
      local expected = { a.id, b.id }
      table.sort(expected)
      assert.same(expected, got)
      assert.same({}, assets.find_many_owned({ theirs.id }, owner.id))
    end)
  end)

  describe("list", function()
    local owner, other, order, by_name

    -- Ten ready photos and videos; three share one sort_at, so the id breaks the tie.
    setup(function()
      owner, other = fixtures.user("repo-assets-list"), fixtures.user("repo-assets-list")
      by_name = {}
      local specs = {
        { "p1", "photo", "2024-01-01T10:00:00.000Z" },
        { "v1", "video", "2024-01-02T10:00:00.000Z" },
        { "tie1", "photo", "2024-01-03T10:00:00.000Z" },
        { "tie2", "video", "2024-01-03T10:00:00.000Z" },
        { "tie3", "photo", "2024-01-03T10:00:00.000Z" },
        { "p4", "photo", "2024-01-04T00:00:00.000Z" },
        { "p5", "photo", "2024-02-01T00:00:00.000Z" },
        { "v2", "video", "2024-02-15T08:30:00.000Z" },
        { "p6", "photo", "2024-03-01T00:00:00.000Z" },
        { "p7", "photo", "2025-01-01T00:00:00.000Z" },
      }
      for _, s in ipairs(specs) do
        by_name[s[1]] = fixtures.asset(owner, { status = "ready", type = s[2], sort_at = s[3],
          content_type = s[2] == "photo" and "image/jpeg" or "video/mp4" })
      end
      -- not listed: uploading, failed, trashed (except in the trash), another user's
      by_name.uploading = fixtures.asset(owner, { sort_at = "2024-01-05T00:00:00.000Z" })
      by_name.failed = fixtures.asset(owner, { status = "failed",
        sort_at = "2024-01-05T00:00:00.000Z" })
      by_name.trashed = fixtures.asset(owner, { status = "ready", sort_at = "2024-01-05T00:00:00.000Z",
        deleted_at = clock.iso() })
      by_name.theirs = fixtures.asset(other, { status = "ready", sort_at = "2024-01-05T00:00:00.000Z" })
      -- expected order: sort_at descending, then id descending
      local rows = {}
      for _, s in ipairs(specs) do
        rows[#rows + 1] = by_name[s[1]]
      end
      table.sort(rows, function(x, y)
        if x.sort_at ~= y.sort_at then
          return x.sort_at > y.sort_at
        end
        return x.id > y.id
      end)
      order = ids_of(rows)
    end)

    it("lists the owner's ready assets outside the trash, newest first, ties by id", function()
      local rows = assert(list({ owner_id = owner.id, limit = 100 }))
      assert.same(order, ids_of(rows))
      assert.equal(by_name.p7.id, rows[1].id)
      -- the three of 2024-01-03 come in descending id order
      local ties = {}
      for _, row in ipairs(rows) do
        if row.sort_at == "2024-01-03T10:00:00.000Z" then
          ties[#ties + 1] = row.id
        end
      end
      assert.equal(3, #ties)
      assert.is_true(ties[1] > ties[2] and ties[2] > ties[3])
    end)

    it("pages by keyset with every page size, without gaps or repeats, even across ties", function()
      for limit = 1, 11 do
        local seen, after = {}, nil
        for _ = 1, 20 do
          local rows = assert(list({ owner_id = owner.id, limit = limit, after = after }))
          for _, row in ipairs(rows) do
            seen[#seen + 1] = row.id
          end
          if #rows < limit then
            break
          end
          local last = rows[#rows]
          after = { sort_at = last.sort_at, id = last.id }
        end
        assert.same(order, seen, "limit " .. limit)
      end
    end)

    it("continues after a position inside a tie", function()
      local tie_ids = { by_name.tie1.id, by_name.tie2.id, by_name.tie3.id }
      table.sort(tie_ids)
      local rows = assert(list({ owner_id = owner.id, limit = 100,
        after = { sort_at = "2024-01-03T10:00:00.000Z", id = tie_ids[3] } }))
      local expected = {}
      local started = false
      for _, id in ipairs(order) do
        if started then
          expected[#expected + 1] = id
        end
        started = started or id == tie_ids[3]
      end
      assert.same(expected, ids_of(rows))
      assert.equal(tie_ids[2], rows[1].id)
    end)

    it("filters by type", function()
      local videos = ids_of(assert(list({ owner_id = owner.id, type = "video", limit = 100 })))
      assert.same({ by_name.v2.id, by_name.tie2.id, by_name.v1.id }, videos)
      local photos = assert(list({ owner_id = owner.id, type = "photo", limit = 100 }))
      assert.equal(7, #photos)
      for _, row in ipairs(photos) do
        assert.equal("photo", row.type)
      end
    end)

    it("filters by date: from inclusive, to exclusive", function()
      local rows = assert(list({ owner_id = owner.id, limit = 100,
        from = "2024-01-03T10:00:00.000Z", to = "2024-02-01T00:00:00.000Z" }))
      local got = ids_of(rows)
      assert.equal(4, #got)   -- the three ties and p4; p5 sits exactly on `to`
      assert.equal(by_name.p4.id, got[1])
      rows = assert(list({ owner_id = owner.id, limit = 100,
        from = "2025-01-01T00:00:00.000Z" }))
      assert.same({ by_name.p7.id }, ids_of(rows))
      rows = assert(list({ owner_id = owner.id, limit = 100, to = "2024-01-02T10:00:00.001Z" }))
      assert.same({ by_name.v1.id, by_name.p1.id }, ids_of(rows))
      assert.same({}, list({ owner_id = owner.id, limit = 100,
        from = "2024-03-01T00:00:00.000Z", to = "2024-03-01T00:00:00.000Z" }))
    end)

    it("lists the trash only with trashed = true, with the same filters", function()
      local trash = assert(list({ owner_id = owner.id, trashed = true, limit = 100 }))
      assert.same({ by_name.trashed.id }, ids_of(trash))
      assert.same({}, list({ owner_id = owner.id, trashed = true, type = "video", limit = 100 }))
      assert.same({ by_name.theirs.id }, ids_of(list({ owner_id = other.id, limit = 100 })))
    end)

    it("treats SQL in filter values as data", function()
      assert.same({}, list({ owner_id = "' OR 1=1 --", limit = 100 }))
      assert.same({}, list({ owner_id = owner.id, type = "photo' OR '1'='1", limit = 100 }))
    end)
  end)

  describe("usage", function()
    it("sums the bytes of uploads and stored assets (trash included), counts by kind outside the trash", function()
      local owner = fixtures.user("repo-assets-usage")
      fixtures.asset(owner, { status = "ready", size_bytes = 1000 })
      fixtures.asset(owner, { status = "ready", size_bytes = 2000, type = "video",
        content_type = "video/mp4" })
      fixtures.asset(owner, { status = "ready", size_bytes = 400, deleted_at = clock.iso() })
      fixtures.asset(owner, { size_bytes = 30 })                      -- uploading: counts in bytes
      fixtures.asset(owner, { status = "failed", size_bytes = 99999 }) -- failed: not at all
      fixtures.asset(fixtures.user("repo-assets-usage"), { status = "ready", size_bytes = 7 })
      local usage = assert(assets.usage(owner.id))
      assert.equal(3430, usage.bytes)
      assert.equal(1, usage.photos)
      assert.equal(1, usage.videos)
      assert.equal(1, usage.trashed)
      for _, field in ipairs({ "bytes", "photos", "videos", "trashed" }) do
        assert.equal("integer", math.type(usage[field]), field)
      end
    end)

    it("is all zeros, as integers, for a user with nothing", function()
      local usage = assert(assets.usage(fixtures.user("repo-assets-usage").id))
      assert.same({ bytes = 0, photos = 0, videos = 0, trashed = 0 }, usage)
      assert.equal("integer", math.type(usage.bytes))
    end)
  end)

  describe("housekeeping queries", function()
    it("finds uploads past their deadline, oldest first, up to the limit", function()
      local owner = fixtures.user("repo-assets-stale")
      local oldest = fixtures.asset(owner, { upload_expires_at = "2000-01-01T00:00:00.000Z" })
      local older = fixtures.asset(owner, { upload_expires_at = "2000-01-02T00:00:00.000Z" })
      local fresh = fixtures.asset(owner, { upload_expires_at = clock.iso(clock.now() + 600) })
      local ready = fixtures.asset(owner, { status = "ready",
        upload_expires_at = "2000-01-01T00:00:00.000Z" })
      local now = clock.iso()
      local rows = assert(assets.find_stale_uploads(now, 1000))
      assert.same({ oldest.id, older.id }, only(rows, { oldest.id, older.id, fresh.id, ready.id }))
      assert.equal(oldest.id, assets.find_stale_uploads(now, 1)[1].id)
      -- the deadline itself is not past
      assert.same({}, only(assets.find_stale_uploads("2000-01-01T00:00:00.000Z", 1000), { oldest.id }))
    end)

    it("finds trash deleted before the cutoff, oldest first, any user", function()
      local owner, other = fixtures.user("repo-assets-trash"), fixtures.user("repo-assets-trash")
      local old = fixtures.asset(owner, { status = "ready", deleted_at = "2000-01-01T00:00:00.000Z" })
      local theirs = fixtures.asset(other, { status = "ready",
        deleted_at = "2000-01-03T00:00:00.000Z" })
      local recent = fixtures.asset(owner, { status = "ready", deleted_at = clock.iso() })
      local kept = fixtures.asset(owner, { status = "ready" })
      local rows = assert(assets.find_expired_trash("2001-01-01T00:00:00.000Z", 1000))
      assert.same({ old.id, theirs.id }, only(rows, { old.id, theirs.id, recent.id, kept.id }))
      assert.same({ old.id }, ids_of(assets.find_expired_trash("2000-01-01T00:00:00.001Z", 1)))
      assert.same({}, only(assets.find_expired_trash("2000-01-01T00:00:00.000Z", 1000), { old.id }))
    end)

    it("lists the ids of a user's trash", function()
      local owner = fixtures.user("repo-assets-trash")
      local a = fixtures.asset(owner, { status = "ready", deleted_at = clock.iso() })
      local b = fixtures.asset(owner, { status = "ready", deleted_at = clock.iso() })
      fixtures.asset(owner, { status = "ready" })
      fixtures.asset(fixtures.user("repo-assets-trash"), { status = "ready", deleted_at = clock.iso() })
      local got = ids_of(assert(assets.trashed_ids(owner.id, 10)))
      table.sort(got)
      local expected = { a.id, b.id }
      table.sort(expected)
      assert.same(expected, got)
      assert.equal(1, #assert(assets.trashed_ids(owner.id, 1)))
      assert.same({}, assets.trashed_ids(fixtures.user("repo-assets-trash").id, 10))
    end)
  end)
end)
