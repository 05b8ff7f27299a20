--- The library: listing with cursors, one asset, trash and restore, purge, signed
-- download and stream URLs, usage.
local config = require("core.config")
local json = require("core.json")
local log = require("core.log")
local albums_repo = require("repositories.albums")
local assets_repo = require("repositories.assets")
local changes_repo = require("repositories.asset_changes")
local clock = require("infra.clock")
local repositories = require("repositories")
local cursor = require("infra.cursor")
local errors = require("domain.errors")
local names = require("domain.names")
local policy = require("infra.policy")
local storage = require("infra.storage")
local sweeps_repo = require("repositories.storage_sweeps")
local tags_repo = require("repositories.tags")
local page_cache = require("infra.page_cache")

local M = {}

local DEFAULT_LIMIT = 100

local MAX_BATCH = 500   -- ids per statement when emptying the trash
-- The change feed keeps this many days; an older position must reload the library.
M.CHANGES_RETENTION_DAYS = 90
local CHANGES_SCOPE = "changes"

local function db_failure(what, err)
  log.error(what, { mod = "services.assets", err = err })
  return nil, errors.unavailable()
end

--- The public view of an asset row.
function M.present(a)
  return {
    id = a.id,
    type = a.type,
    status = a.status,
    original_filename = a.original_filename,
    content_type = a.content_type,
    size_bytes = a.size_bytes,
    sha256 = a.sha256,
    width = a.width,
    height = a.height,
    duration_ms = a.duration_ms,
    captured_at = a.captured_at,
    created_at = a.created_at,
    updated_at = a.updated_at,
    deleted_at = a.deleted_at,
    placeholder = a.placeholder,
    failure_reason = a.failure_reason,
    media_error = a.media_error,
    camera_make = a.camera_make,
    camera_model = a.camera_model,
    lens_model = a.lens_model,
    exposure_time = a.exposure_time,
    f_number = a.f_number,
    iso = a.iso,
    focal_length = a.focal_length,
    gps_latitude = a.gps_latitude,
    gps_longitude = a.gps_longitude,
    favorite = a.favorite == 1,
    thumb_status = a.status == "failed" and "failed" or (a.media_status or "pending"),
  }
end

-- Everything a page depends on besides the owner, the cursor and the limit.
local function scope_of(q)
  return table.concat({ q.trashed and "trash" or "library", q.type or "", q.from or "",
    q.to or "", q.album_id or "", q.tag_key or "", q.favorite and "fav" or "",
    q.view or "owner" }, "|")
end

--- The filters of a listing as the repository takes them.
-- @param q { trashed?, type?, from?, to?, tag?, favorite?, limit? } (from/to RFC 3339
--   or dates; tag a name)
-- @return query | nil, err (validation_error)
function M.filters(owner_id, q)
  local query = { owner_id = owner_id, trashed = q.trashed == true, type = q.type,
    favorite = q.favorite == true, limit = q.limit or DEFAULT_LIMIT }
  for _, field in ipairs({ "from", "to" }) do
    if q[field] then
      local seconds = clock.parse(q[field])
      if not seconds then
        return nil, errors.validation(field, "must be a date or an RFC 3339 date-time")
      end
      query[field] = clock.iso(seconds)
    end
  end
  if q.tag then
    local _, key = names.tag(q.tag)
    if not key then
      return nil, errors.validation("tag", "must be a tag name")
    end
    query.tag_key = key
  end
  return query
end

--- A page of a listing, newest first, from the page cache when it holds it.
-- @param subject whom cursors are bound to: a user id, or "share:" .. a share id
-- @param version the owner's library_version (nil: the page is not cached)
-- @param query from M.filters, plus album_id? and view?
-- @return { items, next_cursor } | nil, err (invalid_cursor | unavailable)
function M.page(subject, version, query, cursor_text)
  local scope = scope_of(query)
  local cache_key = version and table.concat({ subject, version, scope, query.limit,
    cursor_text or "" }, "|")
  local cached = cache_key and page_cache.get(cache_key)
  if cached then
    return cached
  end
  if cursor_text then
    local position = cursor.decode(subject, scope, cursor_text)
    if not position or type(position.s) ~= "string" or type(position.i) ~= "string" then
      return nil, errors.new("invalid_cursor", "the cursor is not valid for this listing")
    end
    query.after = { sort_at = position.s, id = position.i }
  end
  local rows, err = assets_repo.list_json(query)
  if not rows then
    return db_failure("asset list failed", err)
  end
  local texts = {}
  for i, row in ipairs(rows) do
    texts[i] = row.json
  end
  local text = "[" .. table.concat(texts, ",") .. "]"
  local next_cursor
  if #rows == query.limit then
    local last = rows[#rows]
    next_cursor = cursor.encode(subject, scope, { s = last.sort_at, i = last.id })
  end
  local page = { items = json.raw(text), next_cursor = next_cursor }
  if cache_key then
    page_cache.put(cache_key, page, #text)
  end
  return page
end

--- A page of the user's library (or trash, an album, a tag, the favourites), newest
-- first. Pages are cached per VM under the user's library_version.
-- @param q { trashed?, type?, from?, to?, album_id?, tag?, favorite?, cursor?, limit? }
-- @return { items, next_cursor } | nil, err (not_found: not the user's album |
--   invalid_cursor | validation_error | unavailable)
function M.list(user, q)
  local query, err = M.filters(user.id, q)
  if not query then
    return nil, err
  end
  if q.album_id then
    local album, album_err = albums_repo.find_owned(q.album_id, user.id)
    if album_err then
      return db_failure("album lookup failed", album_err)
    end
    if not album then
      return nil, errors.not_found("album")
    end
    query.album_id = album.id
  end
  return M.page(user.id, user.library_version, query, q.cursor)
end

--- One asset of the user (in the library, the trash, or still uploading).
-- @return asset row | nil, err (not_found | unavailable)
function M.get(user, asset_id)
  local asset, err = assets_repo.find_owned(asset_id, user.id)
  if err then
    return db_failure("asset lookup failed", err)
  end
  if not asset then
    return nil, errors.not_found("asset")
  end
  return asset
end

--- One asset of the user as the viewer shows it: its public view plus the names of its
-- tags and the ids of the albums it is in.
-- @return { asset } | nil, err (not_found | unavailable)
function M.describe(user, asset_id)
  local asset, err = M.get(user, asset_id)
  if not asset then
    return nil, err
  end
  local shown = M.present(asset)
  local tags, tags_err = tags_repo.names_of(asset.id, user.id)
  if not tags then
    return db_failure("tag lookup failed", tags_err)
  end
  local album_ids, albums_err = albums_repo.ids_containing(asset.id, user.id)
  if not album_ids then
    return db_failure("album lookup failed", albums_err)
  end
  shown.tags, shown.album_ids = json.array(tags), json.array(album_ids)
  return { asset = shown }
end

local function unique(ids)
  local seen, list = {}, {}
  for _, id in ipairs(ids) do
    if not seen[id] then
      seen[id] = true
      list[#list + 1] = id
    end
  end
  return list
end

--- Every asset named, each once, all the user's: one foreign or missing id fails the
-- whole call with not_found.
-- @return list of rows (in the order of first mention) | nil, err (not_found | unavailable)
function M.get_all(user, ids)
  ids = unique(ids)
  local rows, err = assets_repo.find_many_owned(ids, user.id)
  if not rows then
    return db_failure("bulk lookup failed", err)
  end
  local by_id = {}
  for _, row in ipairs(rows) do
    by_id[row.id] = row
  end
  local list = {}
  for i, id in ipairs(ids) do
    if not by_id[id] then
      return nil, errors.not_found("asset")
    end
    list[i] = by_id[id]
  end
  return list
end

--- Deletes `key` now and again once every upload URL that could write it has expired
-- (a replayed upload could put the bytes back). Used for staging keys.
-- @return true | nil, err
function M.sweep_later(key)
  storage.delete(key)
  return sweeps_repo.schedule(key, clock.iso(clock.now() + config.signed_url_ttl_seconds + 60))
end

--- Housekeeping: delete the objects whose sweep is due.
-- @return number swept
function M.sweep_due(now)
  local rows, err = sweeps_repo.due(clock.iso(now), 100)
  if not rows then
    log.error("sweep lookup failed", { mod = "services.assets", err = err })
    return 0
  end
  local swept = 0
  for _, row in ipairs(rows) do
    if storage.delete(row.storage_key) and sweeps_repo.remove(row.storage_key) then
      swept = swept + 1
    end
  end
  return swept
end

local STORED_KEYS = { "storage_key_original", "storage_key_thumb", "storage_key_preview",
  "storage_key_poster" }

--- Delete an asset for good, if it is still in `state` ("trashed", "uploading" or
-- "failed"): the row goes first (so a restore or finalize that got there first wins),
-- in the same transaction as a sweep for each of its objects; then the objects are
-- deleted, and a failure there is retried by housekeeping, never lost track of. A
-- staging key is swept again once its upload URL has expired.
-- @return true (destroyed) | false (no longer in that state) | nil, err
function M.destroy(asset, state)
  local now = clock.now()
  local later = clock.iso(now + config.signed_url_ttl_seconds + 60)
  local deleted, err = repositories.transaction(function()
    local count, delete_err = assets_repo.delete_in_state(asset.id, asset.owner_id, state)
    if not count then
      return nil, delete_err
    end
    if count == 0 then
      return false
    end
    for _, field in ipairs(STORED_KEYS) do
      if asset[field] then
        local ok, sweep_err = sweeps_repo.schedule(asset[field], clock.iso(now))
        if not ok then
          return nil, sweep_err
        end
      end
    end
    if asset.staging_key then
      local ok, sweep_err = sweeps_repo.schedule(asset.staging_key, later)
      if not ok then
        return nil, sweep_err
      end
    end
    return true
  end)
  if deleted == nil then
    return nil, err
  end
  if not deleted then
    return false
  end
  for _, field in ipairs(STORED_KEYS) do
    if asset[field] and storage.delete(asset[field]) then
      sweeps_repo.remove(asset[field])
    end
  end
  if asset.staging_key then
    storage.delete(asset.staging_key)
  end
  if asset.multipart_upload_id then
    storage.multipart_abort(asset.storage_key_original, asset.multipart_upload_id)
  end
  return true
end

--- Apply one action to several assets, all or nothing: every id must be the user's
-- (else not_found and nothing changes); trash and (un)favourite need stored assets,
-- trash outside the trash, restore and purge need trashed ones.
-- @param action "trash" | "restore" | "purge" | "favorite" | "unfavorite"
-- @return { changed = n } | nil, err
function M.bulk(user, action, ids)
  local list, err = M.get_all(user, ids)
  if not list then
    return nil, err
  end
  for _, asset in ipairs(list) do
    local in_trash = asset.deleted_at ~= nil
    if action ~= "restore" and action ~= "purge" and asset.status ~= "ready" then
      return nil, errors.conflict("not_ready", "only stored assets can be " ..
        (action == "trash" and "moved to the trash" or "marked"))
    end
    if (action == "restore" or action == "purge") and not in_trash then
      return nil, errors.conflict("not_in_trash", "only assets in the trash can be " ..
        (action == "restore" and "restored" or "deleted forever"))
    end
  end
  if action == "favorite" or action == "unfavorite" then
    local ready = {}
    for i, asset in ipairs(list) do
      ready[i] = asset.id
    end
    local count, update_err = assets_repo.set_favorite(ready, user.id, action == "favorite",
      clock.iso())
    if not count then
      return db_failure("bulk " .. action .. " failed", update_err)
    end
    return { changed = count }
  end
  local now_iso = clock.iso()
  if action == "trash" or action == "restore" then
    local pending = {}
    for _, asset in ipairs(list) do
      if (action == "trash") ~= (asset.deleted_at ~= nil) then
        pending[#pending + 1] = asset.id
      end
    end
    if #pending == 0 then
      return { changed = 0 }
    end
    local count, update_err = assets_repo.set_trashed(pending, user.id, action == "trash", now_iso)
    if not count then
      return db_failure("bulk " .. action .. " failed", update_err)
    end
    return { changed = count }
  end
  local count = 0
  for _, asset in ipairs(list) do
    local destroyed, destroy_err = M.destroy(asset, "trashed")
    if destroyed == nil then
      log.error("purge failed", { mod = "services.assets", asset_id = asset.id, err = destroy_err })
      return nil, errors.unavailable("the database is not answering; nothing more was deleted")
    end
    if destroyed then
      count = count + 1
    end
  end
  return { changed = count }
end

--- Delete forever one asset that is in the trash. Purging an id that is already gone
-- succeeds, so a retried call is harmless.
-- @return true | nil, err
function M.purge(user, asset_id)
  local asset, err = assets_repo.find_owned(asset_id, user.id)
  if err then
    return db_failure("asset lookup failed", err)
  end
  if not asset then
    return true
  end
  local result, bulk_err = M.bulk(user, "purge", { asset_id })
  if not result then
    if bulk_err.code == "not_found" then
      return true   -- a concurrent purge got there first
    end
    return nil, bulk_err
  end
  return true
end

--- Delete forever everything in the user's trash, a batch at a time.
-- @return { changed = n } | nil, err
function M.empty_trash(user)
  local total = 0
  while true do
    local rows, err = assets_repo.trashed_ids(user.id, MAX_BATCH)
    if not rows then
      return db_failure("trash lookup failed", err)
    end
    if #rows == 0 then
      return { changed = total }
    end
    local ids = {}
    for i, row in ipairs(rows) do
      ids[i] = row.id
    end
    local result, bulk_err = M.bulk(user, "purge", ids)
    if not result then
      return nil, bulk_err
    end
    total = total + result.changed
  end
end

local KIND_KEYS = { original = "storage_key_original", thumb = "storage_key_thumb",
  preview = "storage_key_preview", poster = "storage_key_poster" }

--- A short-lived URL for one stored form of an asset row.
-- @param kind "original" | "thumb" | "preview" | "poster"
-- @param disposition "attachment" (download) or "inline" (show, stream)
-- @return { url, expires_in } | nil, err (not_found: no such form)
function M.url_for(asset, kind, disposition, ttl)
  local key = KIND_KEYS[kind] and asset[KIND_KEYS[kind]]
  if asset.status ~= "ready" or not key then
    return nil, errors.not_found(kind)
  end
  local content_type = kind == "original" and asset.content_type or "image/jpeg"
  local filename = asset.original_filename
  if kind ~= "original" then
    filename = (filename:match("^(.*)%.[^.]*$") or filename) .. "-" .. kind .. ".jpg"
  end
  local url = storage.presign_get(key, { ttl = ttl, content_type = content_type,
    filename = filename, disposition = disposition })
  return { url = url, expires_in = ttl }
end

--- A short-lived URL for one stored form of an asset of the user.
-- @return { url, expires_in } | nil, err (not_found | unavailable)
function M.signed_url(user, asset_id, kind, disposition)
  local asset, err = M.get(user, asset_id)
  if not asset then
    return nil, err
  end
  return M.url_for(asset, kind, disposition, config.signed_url_ttl_seconds)
end

-- A change-feed position for the user: the last change number and when it was given.
local function changes_cursor(user, seq, now)
  return cursor.encode(user.id, CHANGES_SCOPE, { q = seq, t = now })
end

--- What happened to the user's assets after a position of the change feed: added,
-- changed, trashed, restored or purged, oldest first, each with the asset as it is
-- now (absent once purged). Without `since`, no changes and the position of now: a
-- client lists the library, then follows the feed from there.
-- @param q { since?, limit? }
-- @return { changes, next_since, has_more } | nil, err (invalid_cursor | cursor_expired |
--   unavailable)
function M.changes(user, q)
  local now = clock.now()
  local after
  if q.since then
    local position = cursor.decode(user.id, CHANGES_SCOPE, q.since) or {}
    local seq = type(position.q) == "number" and math.tointeger(position.q)
    local issued = type(position.t) == "number" and math.tointeger(position.t)
    if not seq or not issued then
      return nil, errors.new("invalid_cursor", "the cursor is not valid for this listing")
    end
    if now - issued > M.CHANGES_RETENTION_DAYS * 86400 then
      return nil, errors.new("cursor_expired", "this position is too old: reload the library")
    end
    after = seq
  else
    local head, err = changes_repo.head(user.id)
    if not head then
      return db_failure("change feed failed", err)
    end
    return { changes = json.array({}), next_since = changes_cursor(user, head, now), has_more = false }
  end
  local limit = q.limit or DEFAULT_LIMIT
  local rows, err = changes_repo.after(user.id, after, limit)
  if not rows then
    return db_failure("change feed failed", err)
  end
  local list = {}
  for i, row in ipairs(rows) do
    list[i] = { kind = row.kind, asset_id = row.asset_id, at = row.at,
      asset = row.json and json.raw(row.json) or nil }
    after = row.seq
  end
  return { changes = json.array(list), next_since = changes_cursor(user, after, now),
    has_more = #rows == limit }
end

--- Housekeeping: forget change-feed entries older than the retention.
-- @return number forgotten
function M.prune_changes(now)
  local count, err = changes_repo.delete_older_than(
    clock.iso(now - M.CHANGES_RETENTION_DAYS * 86400), 10000)
  if not count then
    log.error("change feed prune failed", { mod = "services.assets", err = err })
    return 0
  end
  return count
end

--- Bytes and counts used, the quota (nil when unlimited),
-- and how many days the trash keeps things (the app shows the days left).
-- @return { used_bytes, quota_bytes, photos, videos, trashed, trash_retention_days } | nil, err
function M.usage(user)
  local row, err = assets_repo.usage(user.id)
  if not row then
    return db_failure("usage failed", err)
  end
  return {
    used_bytes = row.bytes,
    quota_bytes = policy.quota_bytes(user),
    photos = row.photos,
    videos = row.videos,
    trashed = row.trashed,
    trash_retention_days = policy.trash_retention_days(),
  }
end

--- Housekeeping: purge trashed assets older than the retention, a batch at a time.
-- Safe with several processes: a row deleted by another is simply gone.
-- @return number purged
function M.purge_expired_trash(now)
  local cutoff = clock.iso(now - policy.trash_retention_days() * 86400)
  local rows, err = assets_repo.find_expired_trash(cutoff, 100)
  return M.destroy_all(rows, err, "trashed", "expired trash")
end

--- Destroy each row of a housekeeping batch still in `state`, logging what fails.
-- @param rows, err a repository's answer (rows, or nil and the error)
-- @return number destroyed
function M.destroy_all(rows, err, state, what)
  if not rows then
    log.error("housekeeping lookup failed", { mod = "services.assets", what = what, err = err })
    return 0
  end
  local count = 0
  for _, asset in ipairs(rows) do
    local destroyed, destroy_err = M.destroy(asset, state)
    if destroyed then
      count = count + 1
    elseif destroyed == nil then
      log.error("housekeeping delete failed", { mod = "services.assets", what = what,
        asset_id = asset.id, err = destroy_err })
    end
  end
  return count
end

return M
