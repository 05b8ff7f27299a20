--- SQL for asset_changes, the change feed written by database triggers (one row per
-- asset added, changed, trashed, restored or purged).
local db = require("core.db")
local assets_repo = require("repositories.assets")

local M = {}

--- Changes of `owner_id` after `after_seq`, oldest first, each with the asset's owner
-- JSON when the asset still exists.
-- @return rows { seq, asset_id, kind, at, json? } | nil, err
function M.after(owner_id, after_seq, limit)
  return db.query("SELECT c.seq, c.asset_id, c.kind, c.at, (SELECT "
    .. assets_repo.view_sql("owner")
    .. " FROM assets WHERE assets.id = c.asset_id AND assets.owner_id = c.owner_id) AS json"
    .. " FROM asset_changes c WHERE c.owner_id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?",
    owner_id, after_seq, limit)
end

--- The newest change number of `owner_id` (0 when none).
-- @return seq | nil, err
function M.head(owner_id)
  local rows, err = db.query("SELECT coalesce(max(seq), 0) AS seq FROM asset_changes"
    .. " WHERE owner_id = ?", owner_id)
  if not rows then
    return nil, err
  end
  return rows[1].seq
end

--- Forget changes recorded before `before_iso`.
-- @return rows deleted | nil, err
function M.delete_older_than(before_iso, limit)
  return db.exec("DELETE FROM asset_changes WHERE seq IN (SELECT seq FROM asset_changes"
    .. " WHERE at < ? LIMIT ?)", before_iso, limit)
end

return M
