--- SQL for tags and asset_tags. Every query has the owner in its WHERE clause; counts
-- consider only stored assets outside the trash.
local db = require("core.db")
local repositories = require("repositories")

local M = {}

local SUMMARY = "SELECT t.id, t.name, t.created_at, t.updated_at,"
  .. " (SELECT count(*) FROM asset_tags at JOIN assets a ON a.id = at.asset_id"
  .. "   WHERE at.tag_id = t.id AND a.status = 'ready' AND a.deleted_at IS NULL) AS asset_count"
  .. " FROM tags t"

--- The tags of `owner_id` by name, with counts.
-- @return rows | nil, err
function M.list_owned(owner_id, limit)
  return db.query(SUMMARY .. " WHERE t.owner_id = ? ORDER BY t.name_key LIMIT ?", owner_id, limit)
end

--- A tag of `owner_id` with its count.
-- @return row | nil | nil, err
function M.find_owned(id, owner_id)
  local rows, err = db.query(SUMMARY .. " WHERE t.id = ? AND t.owner_id = ?", id, owner_id)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- The id of the owner's tag with this key, creating it when absent.
-- @return id | nil, err
function M.ensure(owner_id, name, key, new_id, now_iso)
  local ok, err = db.exec("INSERT INTO tags (id, owner_id, name, name_key, created_at,"
    .. " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner_id, name_key) DO NOTHING",
    new_id, owner_id, name, key, now_iso, now_iso)
  if not ok then
    return nil, err
  end
  local rows, find_err = db.query("SELECT id FROM tags WHERE owner_id = ? AND name_key = ?",
    owner_id, key)
  if not rows then
    return nil, find_err
  end
  return rows[1].id
end

--- The id of the owner's tag with this key, or nil.
-- @return id | nil | nil, err
function M.find_id_by_key(owner_id, key)
  local rows, err = db.query("SELECT id FROM tags WHERE owner_id = ? AND name_key = ?",
    owner_id, key)
  if not rows then
    return nil, err
  end
  return rows[1] and rows[1].id
end

--- Rename a tag.
-- @return rows changed | nil, err, code ("unique": the owner has a tag with that name)
function M.rename(id, owner_id, name, key, now_iso)
  return repositories.count(db.exec("UPDATE tags SET name = ?, name_key = ?, updated_at = ?"
    .. " WHERE id = ? AND owner_id = ?", name, key, now_iso, id, owner_id))
end

--- Delete a tag (its assets stay).
-- @return rows changed | nil, err
function M.delete(id, owner_id)
  return repositories.count(db.exec("DELETE FROM tags WHERE id = ? AND owner_id = ?", id, owner_id))
end

--- Attach a tag to assets of `owner_id` (ids already checked); present pairs stay.
-- @return rows added | nil, err
function M.attach(tag_id, owner_id, asset_ids)
  return repositories.count(db.exec("INSERT INTO asset_tags (tag_id, asset_id, sort_at)"
    .. " SELECT ?, id, sort_at FROM assets WHERE owner_id = ? AND id IN ("
    .. string.rep("?", #asset_ids, ", ") .. ") ON CONFLICT DO NOTHING", tag_id, owner_id,
    table.unpack(asset_ids)))
end

--- Detach a tag from assets.
-- @return rows removed | nil, err
function M.detach(tag_id, asset_ids)
  return repositories.count(db.exec("DELETE FROM asset_tags WHERE tag_id = ? AND asset_id IN ("
    .. string.rep("?", #asset_ids, ", ") .. ")", tag_id, table.unpack(asset_ids)))
end

--- The names of the tags on an asset of `owner_id`, sorted.
-- @return list of names | nil, err
function M.names_of(asset_id, owner_id)
  local rows, err = db.query("SELECT t.name FROM asset_tags at JOIN tags t ON t.id = at.tag_id"
    .. " WHERE at.asset_id = ? AND t.owner_id = ? ORDER BY t.name_key", asset_id, owner_id)
  return repositories.column(rows, err, "name")
end

return M
