--- SQL for shares. Owner queries carry the owner in their WHERE clause; the public
-- lookup goes by token hash and only finds shares of active accounts.
local db = require("core.db")
local repositories = require("repositories")

local M = {}

local COLUMNS = "s.id, s.owner_id, s.token_salt, s.asset_id, s.album_id, s.expires_at,"
  .. " s.revoked_at, s.password_hash, s.password_version, s.allow_download,"
  .. " s.include_location, s.view_count, s.last_viewed_at, s.created_at, s.updated_at"

-- The owner's list also names what each share covers.
local OWNER_SELECT = "SELECT " .. COLUMNS .. ", al.title AS album_title,"
  .. " a.original_filename AS asset_filename FROM shares s"
  .. " LEFT JOIN albums al ON al.id = s.album_id LEFT JOIN assets a ON a.id = s.asset_id"

--- Insert a share.
-- @return true | nil, err
function M.insert(s)
  local ok, err = db.exec("INSERT INTO shares (id, owner_id, token_salt, token_hash, asset_id,"
    .. " album_id, expires_at, password_hash, allow_download, include_location, created_at,"
    .. " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", s.id, s.owner_id,
    s.token_salt, s.token_hash, s.asset_id, s.album_id, s.expires_at, s.password_hash,
    s.allow_download and 1 or 0, s.include_location and 1 or 0, s.created_at, s.created_at)
  if not ok then
    return nil, err
  end
  return true
end

-- What a visitor's request needs of a share (read on every public request).
local PUBLIC_COLUMNS = "s.id, s.owner_id, s.asset_id, s.album_id, s.expires_at, s.revoked_at,"
  .. " s.password_hash, s.password_version, s.allow_download, s.include_location,"
  .. " u.library_version, u.email AS owner_email, u.created_at AS owner_created_at"

--- The share with this token hash, with its owner's library_version, email and
-- created_at (for the policy, never for visitors), when its owner's account is active
-- (revoked and expired ones too: the caller decides).
-- @return row | nil | nil, err
function M.find_by_token_hash(token_hash)
  return repositories.first(db.query("SELECT " .. PUBLIC_COLUMNS .. " FROM shares s"
    .. " JOIN users u ON u.id = s.owner_id AND u.is_active = 1 WHERE s.token_hash = ?",
    token_hash))
end

--- A share of `owner_id` by id.
-- @return row | nil | nil, err
function M.find_owned(id, owner_id)
  return repositories.first(db.query(OWNER_SELECT .. " WHERE s.id = ? AND s.owner_id = ?", id, owner_id))
end

--- A share of `owner_id` by token hash.
-- @return row | nil | nil, err
function M.find_owned_by_token_hash(token_hash, owner_id)
  return repositories.first(db.query(OWNER_SELECT .. " WHERE s.token_hash = ? AND s.owner_id = ?",
    token_hash, owner_id))
end

--- The shares of `owner_id`, newest first.
-- @return rows | nil, err
function M.list_owned(owner_id, limit)
  return db.query(OWNER_SELECT .. " WHERE s.owner_id = ? ORDER BY s.created_at DESC, s.id DESC"
    .. " LIMIT ?", owner_id, limit)
end

--- Change expiry, password, downloads and location (the fields given; `expires_at`
-- false clears it; a new password_hash, or false to remove it, bumps the version).
-- @return rows changed | nil, err
function M.update(id, owner_id, f, now_iso)
  local password_changed = f.password_hash ~= nil
  local function flag(value)
    if value == nil then
      return nil
    end
    return value and 1 or 0
  end
  return repositories.count(db.exec("UPDATE shares SET"
    .. " expires_at = CASE WHEN ? THEN ? ELSE expires_at END,"
    .. " password_hash = CASE WHEN ? THEN ? ELSE password_hash END,"
    .. " password_version = password_version + ?,"
    .. " allow_download = coalesce(?, allow_download),"
    .. " include_location = coalesce(?, include_location), updated_at = ?"
    .. " WHERE id = ? AND owner_id = ? AND revoked_at IS NULL",
    f.expires_at ~= nil and 1 or 0, f.expires_at or nil,
    password_changed and 1 or 0, f.password_hash or nil, password_changed and 1 or 0,
    flag(f.allow_download), flag(f.include_location), now_iso, id, owner_id))
end

--- Revoke a share (once; a revoked share stays revoked).
-- @return rows changed | nil, err
function M.revoke(id, owner_id, now_iso)
  return repositories.count(db.exec("UPDATE shares SET revoked_at = ?, updated_at = ?"
    .. " WHERE id = ? AND owner_id = ? AND revoked_at IS NULL", now_iso, now_iso, id, owner_id))
end

--- Count one visit.
-- @return rows changed | nil, err
function M.record_view(id, now_iso)
  return repositories.count(db.exec("UPDATE shares SET view_count = view_count + 1, last_viewed_at = ?"
    .. " WHERE id = ?", now_iso, id))
end

return M
