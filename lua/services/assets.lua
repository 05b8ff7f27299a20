--- The library: listing with cursors, one asset, trash and restore, purge, signed
-- download and stream URLs, usage.
local config = require("core.config")
local json = require("core.json")
local log = require("core.log")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local repositories = require("repositories")
local cursor = require("infra.cursor")
local errors = require("domain.errors")
local policy = require("infra.policy")
local storage = require("infra.storage")
local sweeps_repo = require("repositories.storage_sweeps")

local M = {}

local DEFAULT_LIMIT = 100

-- Listing pages already rendered in this VM, keyed by user, library version and the
-- exact query. The version (kept by database triggers, read with the user on every
-- request) changes with any change to the user's assets, so a cached page is never
-- served stale, across threads and processes alike. A cache safe to lose.
local PAGE_CACHE_MAX_BYTES = 8 * 1024 * 1024   -- per VM; cleared when full
local PAGE_CACHE_MAX_PAGE = 512 * 1024          -- larger pages are not kept
local page_cache, page_cache_bytes = {}, 0
local MAX_BATCH = 500   -- ids per statement when emptying the trash

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
    thumb_status = a.status == "failed" and "failed" or (a.media_status or "pending"),
  }
end

local function scope_of(q)
  return table.concat({ q.trashed and "trash" or "library", q.type or "", q.from or "", q.to or "" }, "|")
end

--- A page of the user's library (or trash), newest first. Pages are cached per VM
-- under the user's library_version (when the user row carries it).
-- @param q { trashed?, type?, from?, to?, cursor?, limit? } (from/to RFC 3339 or dates)
-- @return { items, next_cursor } | nil, err (invalid_cursor | validation_error | unavailable)
function M.list(user, q)
  local query = { owner_id = user.id, trashed = q.trashed == true, type = q.type,
    limit = q.limit or DEFAULT_LIMIT }
  for _, field in ipairs({ "from", "to" }) do
    if q[field] then
      local seconds = clock.parse(q[field])
      if not seconds then
        return nil, errors.validation(field, "must be a date or an RFC 3339 date-time")
      end
      query[field] = clock.iso(seconds)
    end
  end
  local scope = scope_of(query)
  local cache_key = user.library_version and table.concat({ user.id, user.library_version,
    scope, query.limit, q.cursor or "" }, "|")
  local cached = cache_key and page_cache[cache_key]
  if cached then
    return cached
  end
  if q.cursor then
    local position = cursor.decode(user.id, scope, q.cursor)
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
  local items = json.raw(text)
  local next_cursor
  if #rows == query.limit then
    local last = rows[#rows]
    next_cursor = cursor.encode(user.id, scope, { s = last.sort_at, i = last.id })
  end
  local page = { items = items, next_cursor = next_cursor }
  local size = #text + (cache_key and #cache_key or 0)
  if cache_key and size <= PAGE_CACHE_MAX_PAGE then
    if page_cache_bytes + size > PAGE_CACHE_MAX_BYTES then
      page_cache, page_cache_bytes = {}, 0
    end
    page_cache[cache_key] = page
    page_cache_bytes = page_cache_bytes + size
  end
  return page
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

-- Loads every id or fails the whole call with not_found.
local function load_all(user, ids)
  local rows, err = assets_repo.find_many_owned(ids, user.id)
  if not rows then
    return nil, err
  end
  local by_id = {}
  for _, row in ipairs(rows) do
    by_id[row.id] = row
  end
  local list = {}
  for i, id in ipairs(ids) do
    if not by_id[id] then
      return nil, nil, errors.not_found("asset")
    end
    list[i] = by_id[id]
  end
  return list
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
-- (else not_found and nothing changes); trash needs ready assets outside the trash,
-- restore and purge need trashed ones.
-- @param action "trash" | "restore" | "purge"
-- @return { changed = n } | nil, err
function M.bulk(user, action, ids)
  ids = unique(ids)
  local list, err, domain_err = load_all(user, ids)
  if not list then
    if domain_err then
      return nil, domain_err
    end
    return db_failure("bulk lookup failed", err)
  end
  for _, asset in ipairs(list) do
    local in_trash = asset.deleted_at ~= nil
    if action == "trash" and asset.status ~= "ready" then
      return nil, errors.conflict("not_ready", "only stored assets can be moved to the trash")
    end
    if (action == "restore" or action == "purge") and not in_trash then
      return nil, errors.conflict("not_in_trash", "only assets in the trash can be " ..
        (action == "restore" and "restored" or "deleted forever"))
    end
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

--- A short-lived URL for one stored form of an asset.
-- @param kind "original" | "thumb" | "preview" | "poster"
-- @param disposition "attachment" (download) or "inline" (show, stream)
-- @return { url, expires_in } | nil, err (not_found | unavailable)
function M.signed_url(user, asset_id, kind, disposition)
  local asset, err = M.get(user, asset_id)
  if not asset then
    return nil, err
  end
  local key = KIND_KEYS[kind] and asset[KIND_KEYS[kind]]
  if asset.status ~= "ready" or not key then
    return nil, errors.not_found(kind)
  end
  local ttl = config.signed_url_ttl_seconds
  local content_type = kind == "original" and asset.content_type or "image/jpeg"
  local filename = asset.original_filename
  if kind ~= "original" then
    filename = (filename:match("^(.*)%.[^.]*$") or filename) .. "-" .. kind .. ".jpg"
  end
  local url = storage.presign_get(key, { ttl = ttl, content_type = content_type,
    filename = filename, disposition = disposition })
  return { url = url, expires_in = ttl }
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
