--- SQL for the sessions table: one row per refresh token, grouped in families (one
-- family per login).
local db = require("core.db")

local M = {}

--- Insert a refresh-token row.
-- @param s { id, family_id, user_id, token_hash, parent_id?, user_agent?, created_at, expires_at }
-- @return true | nil, err
function M.insert(s)
  local ok, err = db.exec("INSERT INTO sessions (id, family_id, user_id, token_hash, parent_id,"
    .. " user_agent, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    s.id, s.family_id, s.user_id, s.token_hash, s.parent_id, s.user_agent, s.created_at,
    s.expires_at, s.created_at)
  if not ok then
    return nil, err
  end
  return true
end

--- Find the row of a refresh token by its hash (its own revoked_at tells whether its
-- family was revoked: revoking marks every row of the family).
-- @return row | nil when absent | nil, err
function M.find_by_token_hash(token_hash)
  local rows, err = db.query("SELECT id, family_id, user_id, created_at, expires_at, used_at,"
    .. " revoked_at FROM sessions WHERE token_hash = ?", token_hash)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- Mark a token as used (rotated) unless it already was.
-- @return true when this call marked it, false when it was already used | nil, err
function M.mark_used(id, now_iso)
  local changed, err = db.exec("UPDATE sessions SET used_at = ?, last_used_at = ?"
    .. " WHERE id = ? AND used_at IS NULL", now_iso, now_iso, id)
  if not changed then
    return nil, err
  end
  return changed == 1
end

--- Revoke every token of a family.
-- @return true | nil, err
function M.revoke_family(family_id, now_iso)
  local ok, err = db.exec("UPDATE sessions SET revoked_at = ? WHERE family_id = ?"
    .. " AND revoked_at IS NULL", now_iso, family_id)
  if not ok then
    return nil, err
  end
  return true
end

--- Revoke every token of a user.
-- @return true | nil, err
function M.revoke_all_for_user(user_id, now_iso)
  local ok, err = db.exec("UPDATE sessions SET revoked_at = ? WHERE user_id = ?"
    .. " AND revoked_at IS NULL", now_iso, user_id)
  if not ok then
    return nil, err
  end
  return true
end

--- A user's live sessions, one row per family (its newest token), newest first.
-- @return rows | nil, err
function M.list_active_families(user_id, now_iso)
  return db.query("SELECT family_id, min(created_at) AS created_at, max(last_used_at)"
    .. " AS last_used_at, (SELECT newest.user_agent FROM sessions AS newest"
    .. " WHERE newest.family_id = sessions.family_id"
    .. " ORDER BY newest.created_at DESC, newest.id DESC LIMIT 1) AS user_agent FROM sessions"
    .. " WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?"
    .. " GROUP BY family_id ORDER BY last_used_at DESC", user_id, now_iso)
end

--- Delete refresh-token rows past their expiry (they can never be used again).
-- @return rows deleted | nil, err
function M.delete_expired(now_iso)
  return db.exec("DELETE FROM sessions WHERE expires_at < ?", now_iso)
end

return M
