--- SQL for storage_sweeps: storage keys to delete after a point in time.
local db = require("core.db")

local M = {}

--- Schedule `key` for deletion after `after_iso` (a later schedule wins).
-- @return true | nil, err
function M.schedule(key, after_iso)
  local ok, err = db.exec("INSERT INTO storage_sweeps (storage_key, sweep_after) VALUES (?, ?)"
    .. " ON CONFLICT (storage_key) DO UPDATE SET sweep_after = excluded.sweep_after",
    key, after_iso)
  if not ok then
    return nil, err
  end
  return true
end

--- Keys whose time has come, oldest first.
-- @return rows { storage_key } | nil, err
function M.due(now_iso, limit)
  return db.query("SELECT storage_key FROM storage_sweeps WHERE sweep_after <= ?"
    .. " ORDER BY sweep_after LIMIT ?", now_iso, limit)
end

--- Forget a key once its object is gone.
-- @return true | nil, err
function M.remove(key)
  local ok, err = db.exec("DELETE FROM storage_sweeps WHERE storage_key = ?", key)
  if not ok then
    return nil, err
  end
  return true
end

return M
