--- Share-link tokens and share sessions.
--
-- A link's token is HMAC-SHA256(key derived from the server secret, share id + salt),
-- 256 bits in base64url: the database keeps the salt and the token's SHA-256 only,
-- so a leaked database yields no working link, while the owner's list can show the
-- link again. Links are looked up by that hash (an index lookup on a value the
-- caller cannot steer, so no timing oracle on the token's bytes).
--
-- A share session is what unlocking a password-protected share gives: a signed,
-- short-lived value bound to the share and its password version, so a new password
-- or a revoke ends every session at once. It travels in the X-Share-Session header,
-- never in a URL or a cookie.
local crypto = require("core.crypto")
local json = require("core.json")

local M = {}

M.SESSION_TTL_SECONDS = 3600
M.SESSION_HEADER = "x-share-session"

local SESSION_MAX_LENGTH = 512

--- A new random salt for a share (128 bits).
function M.new_salt()
  return crypto.random_token(16)
end

--- The token of a share.
function M.token(share_id, salt)
  return crypto.base64url_encode(crypto.keyed_hmac("share-token", share_id .. "\n" .. salt))
end

--- The stored form of a token (any string: a malformed one simply matches nothing).
function M.hash(token)
  return crypto.sha256_hex(token)
end

local function session_mac(payload)
  return crypto.base64url_encode(crypto.keyed_hmac("share-session", payload))
end

--- A session for an unlocked share.
-- @param now whole seconds
-- @return session, expires_in
function M.issue_session(share_id, password_version, now)
  local payload = crypto.base64url_encode(json.encode({ s = share_id, v = password_version,
    e = now + M.SESSION_TTL_SECONDS }))
  return payload .. "." .. session_mac(payload), M.SESSION_TTL_SECONDS
end

--- Whether `session` is a live session for this share and password version.
function M.session_valid(session, share_id, password_version, now)
  if type(session) ~= "string" or #session > SESSION_MAX_LENGTH then
    return false
  end
  local payload, mac = session:match("^([%w%-_]+)%.([%w%-_]+)$")
  if not payload or not crypto.constant_time_equal(mac, session_mac(payload)) then
    return false
  end
  local text = crypto.base64url_decode(payload)
  local claims = text and json.decode(text)
  return type(claims) == "table" and claims.s == share_id and claims.v == password_version
    and type(claims.e) == "number" and claims.e > now
end

return M
