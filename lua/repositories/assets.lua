--- SQL for the assets table. Every query that reads or changes a user's asset has the
-- owner in its WHERE clause.
local db = require("core.db")
local repositories = require("repositories")

local M = {}

local COLUMNS = "id, owner_id, type, status, original_filename, content_type, size_bytes,"
  .. " sha256, width, height, duration_ms, captured_at, sort_at, created_at, updated_at,"
  .. " deleted_at, storage_key_original, storage_key_thumb, storage_key_preview,"
  .. " storage_key_poster, placeholder, staging_key, multipart_upload_id, upload_expires_at,"
  .. " failure_reason, media_status, media_error, camera_make, camera_model, lens_model,"
  .. " exposure_time, f_number, iso, focal_length, gps_latitude, gps_longitude, favorite,"
  .. " location_read"

--- Insert an asset row.
-- @return true | nil, err, code
function M.insert(a)
  local ok, err, code = db.exec("INSERT INTO assets (id, owner_id, type, status,"
    .. " original_filename, content_type, size_bytes, sha256, captured_at, sort_at, created_at,"
    .. " updated_at, storage_key_original, staging_key, multipart_upload_id, upload_expires_at)"
    .. " VALUES (?, ?, ?, 'uploading', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    a.id, a.owner_id, a.type, a.original_filename, a.content_type, a.size_bytes, a.sha256,
    a.captured_at, a.sort_at, a.created_at, a.created_at, a.storage_key_original, a.staging_key,
    a.multipart_upload_id, a.upload_expires_at)
  if not ok then
    return nil, err, code
  end
  return true
end

--- An asset of `owner_id` in any state.
-- @return row | nil when absent | nil, err
function M.find_owned(id, owner_id)
  return repositories.first(db.query("SELECT " .. COLUMNS .. " FROM assets WHERE id = ? AND owner_id = ?",
    id, owner_id))
end

--- The ready asset of `owner_id` with this content hash.
-- @return row | nil | nil, err
function M.find_ready_by_sha256(owner_id, sha256)
  return repositories.first(db.query("SELECT " .. COLUMNS .. " FROM assets WHERE owner_id = ? AND sha256 = ?"
    .. " AND status = 'ready'", owner_id, sha256))
end

--- Mark an uploading asset ready (only from 'uploading').
-- @return rows changed (0 or 1) | nil, err, code ("unique": a ready copy exists)
function M.mark_ready(id, owner_id, now_iso)
  return repositories.count(db.exec("UPDATE assets SET status = 'ready', staging_key = NULL,"
    .. " multipart_upload_id = NULL, upload_expires_at = NULL, updated_at = ?"
    .. " WHERE id = ? AND owner_id = ? AND status = 'uploading'", now_iso, id, owner_id))
end

--- Mark an uploading asset failed with a reason.
-- @return rows changed | nil, err
function M.mark_failed(id, owner_id, reason, now_iso)
  return repositories.count(db.exec("UPDATE assets SET status = 'failed', failure_reason = ?,"
    .. " staging_key = NULL, multipart_upload_id = NULL, upload_expires_at = NULL, updated_at = ?"
    .. " WHERE id = ? AND owner_id = ? AND status = 'uploading'", reason, now_iso, id, owner_id))
end

-- The state a row must still be in for delete_in_state to remove it.
local STATE_CONDITIONS = {
  trashed = " AND deleted_at IS NOT NULL",
  uploading = " AND status = 'uploading'",
  failed = " AND status = 'failed'",
}

--- Record what media processing found and made for a ready asset. A capture time
-- from the file is kept only when the upload named none, and then orders the library.
-- @param m { width, height, captured_at?, storage_key_thumb, storage_key_preview?,
--   storage_key_poster?, duration_ms?, placeholder?,
--   camera_make?, camera_model?, lens_model?, exposure_time?, f_number?, iso?,
--   focal_length?, gps_latitude?, gps_longitude?, location_read? (a video's tags were
--   read for a position) }
-- @return rows changed | nil, err
function M.set_media(id, owner_id, m, now_iso)
  return repositories.count(db.exec("UPDATE assets SET width = ?, height = ?, storage_key_thumb = ?,"
    .. " storage_key_preview = ?, storage_key_poster = ?, duration_ms = ?, placeholder = ?,"
    .. " media_status = 'ready', media_error = NULL,"
    .. " camera_make = ?, camera_model = ?, lens_model = ?, exposure_time = ?, f_number = ?,"
    .. " iso = ?, focal_length = ?, gps_latitude = ?, gps_longitude = ?, location_read = ?,"
    .. " sort_at = CASE WHEN captured_at IS NULL AND ? IS NOT NULL THEN ? ELSE sort_at END,"
    .. " captured_at = coalesce(captured_at, ?), updated_at = ?"
    .. " WHERE id = ? AND owner_id = ? AND status = 'ready'", m.width, m.height,
    m.storage_key_thumb, m.storage_key_preview, m.storage_key_poster, m.duration_ms,
    m.placeholder, m.camera_make, m.camera_model, m.lens_model,
    m.exposure_time, m.f_number, m.iso, m.focal_length, m.gps_latitude, m.gps_longitude,
    m.location_read and 1 or 0, m.captured_at, m.captured_at, m.captured_at, now_iso, id, owner_id))
end

--- Record that media processing failed for good.
-- @return rows changed | nil, err
function M.set_media_failed(id, owner_id, reason, now_iso)
  return repositories.count(db.exec("UPDATE assets SET media_status = 'failed', media_error = ?,"
    .. " updated_at = ? WHERE id = ? AND owner_id = ?", reason, now_iso, id, owner_id))
end

--- Delete a row for good, only while it is still in `state` ("trashed", "uploading" or
-- "failed"), so a restore or a finalize that got there first wins.
-- @return rows changed (0 or 1) | nil, err
function M.delete_in_state(id, owner_id, state)
  local condition = STATE_CONDITIONS[state]
  if not condition then
    error("assets.delete_in_state: unknown state " .. tostring(state), 2)
  end
  return repositories.count(db.exec("DELETE FROM assets WHERE id = ? AND owner_id = ?" .. condition,
    id, owner_id))
end

--- Move ready assets to the trash, or bring them back.
-- @param trashed true to trash, false to restore
-- @return rows changed | nil, err
function M.set_trashed(ids, owner_id, trashed, now_iso)
  local placeholders = string.rep("?", #ids, ", ")
  if trashed then
    return repositories.count(db.exec("UPDATE assets SET deleted_at = ?, updated_at = ? WHERE owner_id = ?"
      .. " AND status = 'ready' AND deleted_at IS NULL AND id IN (" .. placeholders .. ")",
      now_iso, now_iso, owner_id, table.unpack(ids)))
  end
  return repositories.count(db.exec("UPDATE assets SET deleted_at = NULL, updated_at = ? WHERE owner_id = ?"
    .. " AND deleted_at IS NOT NULL AND id IN (" .. placeholders .. ")",
    now_iso, owner_id, table.unpack(ids)))
end

--- The assets among `ids` that `owner_id` owns.
-- @return rows | nil, err
function M.find_many_owned(ids, owner_id)
  return db.query("SELECT " .. COLUMNS .. " FROM assets WHERE owner_id = ? AND id IN ("
    .. string.rep("?", #ids, ", ") .. ")", owner_id, table.unpack(ids))
end

-- Fields every JSON view of a row has, rendered by the database.
local BASE_FIELDS = "'id', id, 'type', type, 'original_filename', original_filename,"
  .. " 'content_type', content_type, 'size_bytes', size_bytes, 'width', width,"
  .. " 'height', height, 'duration_ms', duration_ms, 'captured_at', captured_at,"
  .. " 'created_at', created_at, 'placeholder', placeholder, 'camera_make', camera_make,"
  .. " 'camera_model', camera_model, 'lens_model', lens_model, 'exposure_time', exposure_time,"
  .. " 'f_number', f_number, 'iso', iso, 'focal_length', focal_length"
local LOCATION_FIELDS = ", 'gps_latitude', gps_latitude, 'gps_longitude', gps_longitude"

-- The JSON views of a row (json_patch onto {} drops the nulls, as a Lua table would):
-- listing pages skip building Lua tables and encoding. The owner sees everything; a
-- share's visitor sees no hash, state or bookkeeping, and the location only when the
-- owner chose to include it.
local VIEWS = {
  owner = "json_patch('{}', json_object(" .. BASE_FIELDS .. LOCATION_FIELDS
    .. ", 'status', status, 'sha256', sha256, 'updated_at', updated_at,"
    .. " 'deleted_at', deleted_at, 'failure_reason', failure_reason, 'media_error', media_error,"
    .. " 'favorite', json(CASE WHEN favorite = 1 THEN 'true' ELSE 'false' END),"
    .. " 'thumb_status', CASE WHEN status = 'failed' THEN 'failed' ELSE media_status END))",
  shared = "json_patch('{}', json_object(" .. BASE_FIELDS .. "))",
  shared_with_location = "json_patch('{}', json_object(" .. BASE_FIELDS .. LOCATION_FIELDS .. "))",
}

--- The SQL expression rendering a row as the JSON of a view.
-- @param view "owner" | "shared" | "shared_with_location"
function M.view_sql(view)
  return VIEWS[view] or error("assets.view_sql: unknown view " .. tostring(view), 2)
end

-- The tag with a name key of an owner, for listings (two arguments: owner, key).
local TAG_ID = "(SELECT id FROM tags WHERE owner_id = ? AND name_key = ?)"

--- A page of the library or the trash, newest first (keyset pagination), each row as
-- its JSON text plus its position. An album's or a tag's page is read from its
-- membership table's (sort_at, asset_id) index, so it costs the same in any library.
-- @param q { owner_id, trashed, type?, from?, to?, album_id?, tag_key?, favorite?,
--   after = { sort_at, id }?, limit, view = "owner" | "shared" | "shared_with_location" }
-- @return rows { json, sort_at, id } | nil, err
function M.list_json(q)
  local view = M.view_sql(q.view or "owner")
  local from, sort_at, id = "assets a", "a.sort_at", "a.id"
  local where, args = {}, {}
  if q.album_id or q.tag_key then
    -- CROSS JOIN keeps the membership table outside: its index gives the order
    if q.album_id then
      from = "album_assets m CROSS JOIN assets a ON a.id = m.asset_id"
      where[1] = "m.album_id = ?"
      args[1] = q.album_id
    else
      from = "asset_tags m CROSS JOIN assets a ON a.id = m.asset_id"
      where[1] = "m.tag_id = " .. TAG_ID
      args[1], args[2] = q.owner_id, q.tag_key
    end
    sort_at, id = "m.sort_at", "m.asset_id"
  end
  where[#where + 1] = "a.owner_id = ?"
  args[#args + 1] = q.owner_id
  where[#where + 1] = "a.status = 'ready'"
  where[#where + 1] = q.trashed and "a.deleted_at IS NOT NULL" or "a.deleted_at IS NULL"
  if q.type then
    where[#where + 1] = "a.type = ?"
    args[#args + 1] = q.type
  end
  if q.from then
    where[#where + 1] = sort_at .. " >= ?"
    args[#args + 1] = q.from
  end
  if q.to then
    where[#where + 1] = sort_at .. " < ?"
    args[#args + 1] = q.to
  end
  if q.favorite then
    where[#where + 1] = "a.favorite = 1"
  end
  if q.album_id and q.tag_key then
    where[#where + 1] = "a.id IN (SELECT asset_id FROM asset_tags WHERE tag_id = " .. TAG_ID .. ")"
    args[#args + 1] = q.owner_id
    args[#args + 1] = q.tag_key
  end
  if q.after then
    -- a row value, so the index seeks straight to the position (an OR would scan)
    where[#where + 1] = "(" .. sort_at .. ", " .. id .. ") < (?, ?)"
    args[#args + 1] = q.after.sort_at
    args[#args + 1] = q.after.id
  end
  args[#args + 1] = q.limit
  return db.query("SELECT " .. view .. " AS json, a.sort_at, a.id FROM " .. from .. " WHERE "
    .. table.concat(where, " AND ") .. " ORDER BY " .. sort_at .. " DESC, " .. id
    .. " DESC LIMIT ?", table.unpack(args))
end

--- One stored asset outside the trash, as a view's JSON text (for shares).
-- @return row { json } | nil | nil, err
function M.find_visible_json(id, owner_id, view)
  return repositories.first(db.query("SELECT " .. M.view_sql(view) .. " AS json FROM assets WHERE id = ?"
    .. " AND owner_id = ? AND status = 'ready' AND deleted_at IS NULL", id, owner_id))
end

--- Mark or unmark assets of `owner_id` as favourites.
-- @return rows changed | nil, err
function M.set_favorite(ids, owner_id, favorite, now_iso)
  return repositories.count(db.exec("UPDATE assets SET favorite = ?, updated_at = ? WHERE owner_id = ?"
    .. " AND favorite <> ? AND id IN (" .. string.rep("?", #ids, ", ") .. ")",
    favorite and 1 or 0, now_iso, owner_id, favorite and 1 or 0, table.unpack(ids)))
end

--- Bytes and counts a user holds (uploads in progress count against the quota).
-- @return { bytes, photos, videos, trashed } | nil, err
function M.usage(owner_id)
  return repositories.first(db.query("SELECT coalesce(sum(size_bytes), 0) AS bytes,"
    .. " coalesce(sum(CASE WHEN type = 'photo' AND status = 'ready' AND deleted_at IS NULL"
    .. " THEN 1 ELSE 0 END), 0) AS photos,"
    .. " coalesce(sum(CASE WHEN type = 'video' AND status = 'ready' AND deleted_at IS NULL"
    .. " THEN 1 ELSE 0 END), 0) AS videos,"
    .. " coalesce(sum(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS trashed"
    .. " FROM assets WHERE owner_id = ? AND status IN ('uploading', 'ready')", owner_id))
end

--- Uploads whose deadline passed, oldest first.
-- @return rows | nil, err
function M.find_stale_uploads(now_iso, limit)
  return db.query("SELECT " .. COLUMNS .. " FROM assets WHERE status = 'uploading'"
    .. " AND upload_expires_at < ? ORDER BY upload_expires_at LIMIT ?", now_iso, limit)
end

--- Failed uploads last changed before `before_iso` (kept a while so their reason can
-- be read), oldest first.
-- @return rows | nil, err
function M.find_old_failures(before_iso, limit)
  return db.query("SELECT " .. COLUMNS .. " FROM assets WHERE status = 'failed'"
    .. " AND updated_at < ? ORDER BY updated_at LIMIT ?", before_iso, limit)
end

--- Trashed assets deleted before `before_iso`.
-- @return rows | nil, err
function M.find_expired_trash(before_iso, limit)
  return db.query("SELECT " .. COLUMNS .. " FROM assets WHERE deleted_at IS NOT NULL"
    .. " AND deleted_at < ? ORDER BY deleted_at LIMIT ?", before_iso, limit)
end

--- The ids of up to `limit` trashed assets of a user.
-- @return rows | nil, err
function M.trashed_ids(owner_id, limit)
  return db.query("SELECT id FROM assets WHERE owner_id = ? AND deleted_at IS NOT NULL LIMIT ?",
    owner_id, limit)
end

--- The number of stored originals (ready assets, trashed ones included).
-- @return count | nil, err
function M.count_originals()
  local row, err = repositories.first(db.query("SELECT count(*) AS count FROM assets WHERE status = 'ready'"))
  if not row then
    return nil, err
  end
  return row.count
end

--- Up to `limit` stored originals whose integrity was checked longest ago (never
-- checked first): what the scrub reads next.
-- @return rows { id, owner_id, storage_key_original, sha256, size_bytes } | nil, err
function M.find_integrity_due(limit)
  return db.query("SELECT id, owner_id, storage_key_original, sha256, size_bytes FROM assets"
    .. " WHERE status = 'ready' ORDER BY integrity_checked_at ASC NULLS FIRST, id LIMIT ?", limit)
end

--- Record that the scrub reads an asset's original now, and what it found ("ok" |
-- "mismatch" | "missing"; nil keeps the last finding while the read is under way).
-- @return rows changed | nil, err
function M.set_integrity(id, owner_id, status, now_iso)
  return repositories.count(db.exec("UPDATE assets SET integrity_status = coalesce(?, integrity_status),"
    .. " integrity_checked_at = ? WHERE id = ? AND owner_id = ?", status, now_iso, id, owner_id))
end

--- Stored originals by integrity status ("unchecked" for those never checked).
-- @return rows { status, count } | nil, err
function M.integrity_counts()
  return db.query("SELECT coalesce(integrity_status, 'unchecked') AS status, count(*) AS count"
    .. " FROM assets WHERE status = 'ready' GROUP BY coalesce(integrity_status, 'unchecked')")
end

--- Up to `limit` stored originals whose last check found a problem, latest first.
-- @return rows { id, owner_id, integrity_status, integrity_checked_at } | nil, err
function M.find_integrity_problems(limit)
  return db.query("SELECT id, owner_id, integrity_status, integrity_checked_at FROM assets"
    .. " WHERE status = 'ready' AND integrity_status IN ('mismatch', 'missing')"
    .. " ORDER BY integrity_checked_at DESC, id LIMIT ?", limit)
end

return M
