--- SQL for albums and album_assets. Every query has the owner in its WHERE clause;
-- counts and covers consider only stored assets outside the trash.
local db = require("core.db")
local repositories = require("repositories")

local M = {}

-- The album's columns, its number of visible assets and its cover: the chosen one
-- while it is visible, else the newest visible asset.
local SUMMARY = "SELECT al.id, al.owner_id, al.title, al.description, al.cover_asset_id,"
  .. " al.created_at, al.updated_at,"
  .. " (SELECT count(*) FROM album_assets aa JOIN assets a ON a.id = aa.asset_id"
  .. "   WHERE aa.album_id = al.id AND a.status = 'ready' AND a.deleted_at IS NULL) AS asset_count,"
  .. " coalesce((SELECT a.id FROM assets a JOIN album_assets aa ON aa.asset_id = a.id"
  .. "   AND aa.album_id = al.id WHERE a.id = al.cover_asset_id AND a.status = 'ready'"
  .. "   AND a.deleted_at IS NULL),"
  .. "  (SELECT a.id FROM album_assets aa JOIN assets a ON a.id = aa.asset_id"
  .. "   WHERE aa.album_id = al.id AND a.status = 'ready' AND a.deleted_at IS NULL"
  .. "   ORDER BY a.sort_at DESC, a.id DESC LIMIT 1)) AS cover_id"
  .. " FROM albums al"

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

--- An album of `owner_id` with its count and cover id.
-- @return row | nil | nil, err
function M.find_owned(id, owner_id)
  return repositories.first(db.query(SUMMARY .. " WHERE al.id = ? AND al.owner_id = ?", id, owner_id))
end

--- The albums of `owner_id`, newest first, with counts and cover ids.
-- @return rows | nil, err
function M.list_owned(owner_id, limit)
  return db.query(SUMMARY .. " WHERE al.owner_id = ? ORDER BY al.created_at DESC, al.id DESC"
    .. " LIMIT ?", owner_id, limit)
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

--- Add assets to an album (ids already checked to be the owner's); present ones stay.
-- @return rows added | nil, err
function M.add_assets(album_id, asset_ids, now_iso)
  local rows = {}
  for i, asset_id in ipairs(asset_ids) do
    rows[i] = { album_id, asset_id, now_iso }
  end
  local values, args = repositories.values(rows)
  return repositories.count(db.exec("INSERT INTO album_assets (album_id, asset_id, added_at)"
    .. " VALUES " .. values .. " ON CONFLICT DO NOTHING", table.unpack(args)))
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

--- Bump updated_at (contents changed).
-- @return rows changed | nil, err
function M.touch(id, owner_id, now_iso)
  return repositories.count(db.exec("UPDATE albums SET updated_at = ? WHERE id = ? AND owner_id = ?",
    now_iso, id, owner_id))
end

return M
