--- SQL for the auth_throttle counters (failed attempts per key).
local db = require("core.db")

local M = {}

--- The counter of a key.
-- @return { failures, window_started_at, last_failure_at } | nil when absent | nil, err
function M.find(key)
  local rows, err = db.query("SELECT failures, window_started_at, last_failure_at"
    .. " FROM auth_throttle WHERE key = ?", key)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- Store a counter.
-- @return true | nil, err
function M.save(key, counter)
  local ok, err = db.exec("INSERT INTO auth_throttle (key, failures, window_started_at,"
    .. " last_failure_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
    .. " failures = excluded.failures, window_started_at = excluded.window_started_at,"
    .. " last_failure_at = excluded.last_failure_at",
    key, counter.failures, counter.window_started_at, counter.last_failure_at)
  if not ok then
    return nil, err
  end
  return true
end

--- Take back one failure of a key (one counted ahead of an attempt that succeeded).
-- @return true | nil, err
function M.forgive(key)
  local ok, err = db.exec("UPDATE auth_throttle SET failures = failures - 1 WHERE key = ?"
    .. " AND failures > 0", key)
  if not ok then
    return nil, err
  end
  return true
end

--- Forget a key's failures.
-- @return true | nil, err
function M.clear(key)
  local ok, err = db.exec("DELETE FROM auth_throttle WHERE key = ?", key)
  if not ok then
    return nil, err
  end
  return true
end

--- Delete counters whose last failure is older than `before` (whole seconds).
-- @return rows deleted | nil, err
function M.delete_older_than(before)
  return db.exec("DELETE FROM auth_throttle WHERE last_failure_at < ?", before)
end

return M
