--- SQL for albums and album_assets. Every query has the owner in its WHERE clause;
-- counts and covers consider only stored assets outside the trash.
local db = require("core.db")
local repositories = require("repositories")

local M = {}

-- The album's columns, its number of visible assets and its cover: the chosen one
-- while it is visible, else the newest visible asset (with what a thumbnail URL needs).
local SUMMARY_INNER = "SELECT al.id, al.owner_id, al.title, al.description, al.cover_asset_id,"
  .. " al.created_at, al.updated_at,"
  .. " (SELECT count(*) FROM album_assets aa JOIN assets a ON a.id = aa.asset_id"
  .. "   WHERE aa.album_id = al.id AND a.status = 'ready' AND a.deleted_at IS NULL) AS asset_count,"
  .. " coalesce((SELECT a.id FROM assets a JOIN album_assets aa ON aa.asset_id = a.id"
  .. "   AND aa.album_id = al.id WHERE a.id = al.cover_asset_id AND a.status = 'ready'"
  .. "   AND a.deleted_at IS NULL),"
  .. "  (SELECT a.id FROM album_assets aa JOIN assets a ON a.id = aa.asset_id"
  .. "   WHERE aa.album_id = al.id AND a.status = 'ready' AND a.deleted_at IS NULL"
  .. "   ORDER BY a.sort_at DESC, a.id DESC LIMIT 1)) AS cover_id"
  .. " FROM albums al WHERE "

local function summary(where, tail)
  return "SELECT x.*, c.placeholder AS cover_placeholder, c.storage_key_thumb AS cover_thumb_key,"
    .. " c.original_filename AS cover_filename FROM (" .. SUMMARY_INNER .. where .. ") x"
    .. " LEFT JOIN assets c ON c.id = x.cover_id" .. (tail or "")
end

--- Insert an album.
-- @return true | nil, err
function M.insert(album)
  local ok, err = db.exec("INSERT INTO albums (id, owner_id, title, description, created_at,"
    .. " updated_at) VALUES (?, ?, ?, ?, ?, ?)", album.id, album.owner_id, album.title,
    album.description, album.created_at, album.created_at)
  if not ok then
    return nil, err
  end
  return true
end

--- An album of `owner_id` with its count and cover (cover_id, cover_placeholder,
-- cover_thumb_key, cover_filename).
-- @return row | nil | nil, err
function M.find_owned(id, owner_id)
  return repositories.first(db.query(summary("al.id = ? AND al.owner_id = ?"), id, owner_id))
end

--- The albums of `owner_id`, newest first, with counts and covers.
-- @return rows | nil, err
function M.list_owned(owner_id, limit)
  return db.query(summary("al.owner_id = ?", " ORDER BY x.created_at DESC, x.id DESC LIMIT ?"),
    owner_id, limit)
end

--- Change title, description and cover (the fields given; cover_asset_id false clears it).
-- @return rows changed | nil, err
function M.update(id, owner_id, fields, now_iso)
  local cover = fields.cover_asset_id
  return repositories.count(db.exec("UPDATE albums SET title = coalesce(?, title),"
    .. " description = coalesce(?, description),"
    .. " cover_asset_id = CASE WHEN ? THEN ? ELSE cover_asset_id END, updated_at = ?"
    .. " WHERE id = ? AND owner_id = ?", fields.title, fields.description,
    cover ~= nil and 1 or 0, cover or nil, now_iso, id, owner_id))
end

--- Delete an album (its assets stay in the library).
-- @return rows changed | nil, err
function M.delete(id, owner_id)
  return repositories.count(db.exec("DELETE FROM albums WHERE id = ? AND owner_id = ?", id, owner_id))
end

--- Add assets of `owner_id` to an album (ids already checked); present ones stay.
-- @return rows added | nil, err
function M.add_assets(album_id, owner_id, asset_ids, now_iso)
  return repositories.count(db.exec("INSERT INTO album_assets (album_id, asset_id, added_at,"
    .. " sort_at) SELECT ?, id, ?, sort_at FROM assets WHERE owner_id = ? AND id IN ("
    .. string.rep("?", #asset_ids, ", ") .. ") ON CONFLICT DO NOTHING", album_id, now_iso,
    owner_id, table.unpack(asset_ids)))
end

--- Take assets out of an album.
-- @return rows removed | nil, err
function M.remove_assets(album_id, asset_ids)
  return repositories.count(db.exec("DELETE FROM album_assets WHERE album_id = ? AND asset_id IN ("
    .. string.rep("?", #asset_ids, ", ") .. ")", album_id, table.unpack(asset_ids)))
end

--- Whether a stored asset outside the trash is in the album.
-- @return boolean | nil, err
function M.has_visible_asset(album_id, asset_id)
  local rows, err = db.query("SELECT 1 AS found FROM album_assets aa JOIN assets a"
    .. " ON a.id = aa.asset_id WHERE aa.album_id = ? AND aa.asset_id = ?"
    .. " AND a.status = 'ready' AND a.deleted_at IS NULL", album_id, asset_id)
  if not rows then
    return nil, err
  end
  return rows[1] ~= nil
end

--- The ids of the owner's albums an asset is in, by title.
-- @return list of ids | nil, err
function M.ids_containing(asset_id, owner_id)
  local rows, err = db.query("SELECT al.id FROM album_assets aa JOIN albums al"
    .. " ON al.id = aa.album_id WHERE aa.asset_id = ? AND al.owner_id = ? ORDER BY al.title, al.id",
    asset_id, owner_id)
  return repositories.column(rows, err, "id")
end

--- Bump updated_at (contents changed).
-- @return rows changed | nil, err
function M.touch(id, owner_id, now_iso)
  return repositories.count(db.exec("UPDATE albums SET updated_at = ? WHERE id = ? AND owner_id = ?",
    now_iso, id, owner_id))
end

return M
