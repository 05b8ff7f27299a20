--- Tokens: signed JWT access tokens (core.jwt, HS256 pinned, type "access") and opaque
-- refresh tokens (256 random bits, stored only as their SHA-256).
local config = require("core.config")
local crypto = require("core.crypto")
local jwt = require("core.jwt")
local time = require("core.time")

local M = {}

-- Access tokens already verified in this VM, by their exact text. A browser sends the
-- same token for its whole lifetime, so this spares the signature check and JSON
-- parse on nearly every request. A cache that is safe to lose: cleared when full.
local VERIFIED_MAX = 4096
local verified, verified_count = {}, 0

--- Sign an access token for a user.
-- @param user { id, token_epoch }
-- @param now whole seconds
-- @return token, expires_in
function M.issue_access(user, now)
  local ttl = config.jwt_access_ttl_seconds
  local token = jwt.sign({
    iss = config.jwt_issuer,
    aud = config.jwt_audience,
    sub = user.id,
    typ = "access",
    ep = user.token_epoch,
    iat = now,
    exp = now + ttl,
  })
  return token, ttl
end

--- Verify an access token.
-- @return claims (shared, read-only) | nil, err
function M.verify_access(token)
  local cached = verified[token]
  if cached and cached.exp > time.unix() then
    return cached
  end
  local claims, err = jwt.verify(token,
    { iss = config.jwt_issuer, aud = config.jwt_audience, typ = "access" })
  if not claims then
    return nil, err
  end
  if verified_count >= VERIFIED_MAX then
    verified, verified_count = {}, 0
  end
  verified[token] = claims
  verified_count = verified_count + 1
  return claims
end

--- A new refresh token and the hash under which it is stored.
-- @return raw_token, token_hash
function M.new_refresh()
  local raw = crypto.random_token(32)
  return raw, M.hash_refresh(raw)
end

--- The stored form of a refresh token.
function M.hash_refresh(raw)
  return crypto.sha256_hex(raw)
end

return M
