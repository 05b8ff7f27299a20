--- SQL for the users table.
local db = require("core.db")

local M = {}

local COLUMNS = "id, email, password_hash, is_active, token_epoch, library_version, created_at,"
  .. " updated_at"

--- Insert a user.
-- @param user { id, email, password_hash, created_at }
-- @return true | nil, err, code ("unique" when the email is taken)
function M.insert(user)
  local ok, err, code = db.exec("INSERT INTO users (id, email, password_hash, is_active,"
    .. " token_epoch, created_at, updated_at) VALUES (?, ?, ?, 1, 0, ?, ?)",
    user.id, user.email, user.password_hash, user.created_at, user.created_at)
  if not ok then
    return nil, err, code
  end
  return true
end

--- Find a user by normalised email (active or not).
-- @return row | nil when absent | nil, err on database failure
function M.find_by_email(email)
  local rows, err = db.query("SELECT " .. COLUMNS .. " FROM users WHERE lower(email) = ?", email)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- Find an active user by id.
-- @return row | nil when absent | nil, err
function M.find_active(id)
  local rows, err = db.query("SELECT " .. COLUMNS .. " FROM users WHERE id = ? AND is_active = 1", id)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- Replace a user's password hash (rehash on login when parameters change).
-- @return true | nil, err
function M.update_password_hash(id, password_hash, now_iso)
  local ok, err = db.exec("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
    password_hash, now_iso, id)
  if not ok then
    return nil, err
  end
  return true
end

--- Invalidate every access token of a user at once (log out everywhere).
-- @return true | nil, err
function M.bump_token_epoch(id, now_iso)
  local ok, err = db.exec("UPDATE users SET token_epoch = token_epoch + 1, updated_at = ?"
    .. " WHERE id = ?", now_iso, id)
  if not ok then
    return nil, err
  end
  return true
end

return M
