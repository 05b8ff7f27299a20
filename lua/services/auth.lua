--- Accounts and sign-in: registration, login with throttling, access tokens,
-- rotating refresh tokens with reuse detection, logout.
local config = require("core.config")
local log = require("core.log")
local clock = require("infra.clock")
local email_rules = require("domain.email")
local errors = require("domain.errors")
local address_key = require("domain.throttle").address_key
local ids = require("infra.ids")
local passwords = require("infra.passwords")
local policy = require("infra.policy")
local repositories = require("repositories")
local sessions_repo = require("repositories.sessions")
local throttle = require("services.throttle")
local throttle_repo = require("repositories.throttle")
local tokens = require("infra.tokens")
local users_repo = require("repositories.users")

local M = {}

-- A rotated refresh token presented again within this many seconds is taken as two
-- tabs refreshing at once, not as theft.
local REUSE_GRACE_SECONDS = 10

local INVALID_CREDENTIALS = "email or password is incorrect"

--- The public view of a user row (never the hash).
function M.present_user(user)
  return { id = user.id, email = user.email, created_at = user.created_at }
end

local function db_failure(what, err)
  log.error(what, { mod = "services.auth", err = err })
  return nil, errors.unavailable()
end

--- Create an account.
-- @param input { email, password }
-- @return user | nil, err (validation_error | registration_closed | email_taken | unavailable)
function M.register(input)
  local email, problem = email_rules.normalize(input.email)
  if not email then
    return nil, errors.validation("email", problem)
  end
  if not policy.registration_open(email) then
    return nil, errors.forbidden("registration_closed", "registration is closed")
  end
  problem = policy.password_problem(input.password, email)
  if problem then
    return nil, errors.validation("password", "password " .. problem)
  end
  local hash, err = passwords.hash(input.password)
  if not hash then
    return nil, errors.unavailable("cannot hash the password now, try again")
  end
  local now = clock.iso()
  local user = { id = ids.uuid(), email = email, password_hash = hash, created_at = now }
  local ok, insert_err, code = users_repo.insert(user)
  if not ok then
    if code == "unique" then
      return nil, errors.conflict("email_taken", "an account with this email already exists")
    end
    return db_failure("user insert failed", insert_err)
  end
  log.info("user registered", { mod = "services.auth", user_id = user.id })
  user.token_epoch = 0
  return user
end

-- Sign-in stops when its attempts cannot be counted (fail closed): 503 with a
-- Retry-After, never an unthrottled password check. The counters: the address (an IPv6
-- one by its /64), the account from that address, and the account.
local function throttle_keys(email, ip)
  ip = address_key(ip)
  return {
    ip = "ip:" .. ip,
    account_ip = "account_ip:" .. email .. "|" .. ip,
    account = "account:" .. email,
  }
end

-- Starts a refresh-token family for a user; returns the raw token.
local function start_session(user, user_agent, now)
  local raw, hash = tokens.new_refresh()
  local id = ids.uuid()
  local ok, err = sessions_repo.insert({
    id = id,
    family_id = id,
    user_id = user.id,
    token_hash = hash,
    user_agent = user_agent,
    created_at = clock.iso(),
    expires_at = clock.iso(now + config.jwt_refresh_ttl_seconds),
  })
  if not ok then
    return nil, err
  end
  return raw
end

local function token_answer(user, refresh_token, now)
  local access, expires_in = tokens.issue_access(user, now)
  return {
    access_token = access,
    token_type = "Bearer",
    expires_in = expires_in,
    user = M.present_user(user),
    refresh_token = refresh_token,
    refresh_expires_in = config.jwt_refresh_ttl_seconds,
  }
end

--- Sign in. Unknown email and wrong password take the same time and give the same
-- error; repeated failures are throttled per IP, per account and per both.
-- @param input { email, password }
-- @param meta { ip, user_agent }
-- @return { access_token, token_type, expires_in, user, refresh_token, refresh_expires_in }
--   | nil, err (invalid_credentials | rate_limited | unavailable)
function M.login(input, meta)
  local email = email_rules.normalize(input.email) or input.email:lower()
  local now = clock.now()
  local keys = throttle_keys(email, meta.ip)
  local wait, err = throttle.begin(keys, policy.login_throttle(), now)
  if not wait then
    return throttle.unavailable("sign-in", "throttle update failed", err)
  end
  if wait > 0 then
    return nil, errors.rate_limited(wait)
  end
  -- the attempt is counted already: a wrong password leaves it counted, anything that
  -- stops short of judging the password takes it back
  local user
  user, err = users_repo.find_by_email(email)
  if err then
    throttle.forgive(keys)
    return db_failure("user lookup failed", err)
  end
  local verified, verify_err = passwords.verify(user and user.password_hash, input.password)
  if verified == nil then
    throttle.forgive(keys)
    log.warn("password verification failed", { mod = "services.auth", err = verify_err })
    return nil, errors.unavailable("cannot check the password now, try again")
  end
  if not verified or not user or user.is_active ~= 1 then
    return nil, errors.unauthorized(INVALID_CREDENTIALS, "invalid_credentials")
  end
  throttle.forgive({ ip = keys.ip })
  throttle.clear({ keys.account_ip, keys.account })
  if passwords.needs_rehash(user.password_hash) then
    local rehashed = passwords.hash(input.password)
    if rehashed then
      users_repo.update_password_hash(user.id, rehashed, clock.iso())
    end
  end
  local refresh
  refresh, err = start_session(user, meta.user_agent, now)
  if not refresh then
    return db_failure("session insert failed", err)
  end
  log.info("user logged in", { mod = "services.auth", user_id = user.id })
  return token_answer(user, refresh, now)
end

local function invalid_session()
  return nil, errors.unauthorized("the session has ended, sign in again", "invalid_session")
end

--- Exchange a refresh token for a new access token and a rotated refresh token. A
-- token already rotated (outside a short grace period) revokes its whole family.
-- @return same shape as login | nil, err (invalid_session | unavailable)
function M.refresh(raw_token, meta)
  if type(raw_token) ~= "string" or #raw_token < 32 or #raw_token > 128 then
    return invalid_session()
  end
  local now = clock.now()
  local result, err = repositories.transaction(function()
    local session, find_err = sessions_repo.find_by_token_hash(tokens.hash_refresh(raw_token))
    if find_err then
      return nil, find_err
    end
    if not session or session.revoked_at or clock.parse(session.expires_at) <= now then
      return { ended = true }
    end
    local now_iso = clock.iso()
    if session.used_at then
      if now - clock.parse(session.used_at) > REUSE_GRACE_SECONDS then
        sessions_repo.revoke_family(session.family_id, now_iso)
        log.warn("refresh token reused, family revoked",
          { mod = "services.auth", user_id = session.user_id, family_id = session.family_id })
        return { ended = true, reused = true }
      end
    else
      local marked, mark_err = sessions_repo.mark_used(session.id, now_iso)
      if marked == nil then
        return nil, mark_err
      end
    end
    local user, user_err = users_repo.find_active(session.user_id)
    if user_err then
      return nil, user_err
    end
    if not user then
      sessions_repo.revoke_family(session.family_id, now_iso)
      return { ended = true }
    end
    local raw, hash = tokens.new_refresh()
    local ok, insert_err = sessions_repo.insert({
      id = ids.uuid(),
      family_id = session.family_id,
      user_id = user.id,
      token_hash = hash,
      parent_id = session.id,
      user_agent = meta.user_agent,
      created_at = now_iso,
      expires_at = clock.iso(now + config.jwt_refresh_ttl_seconds),
    })
    if not ok then
      return nil, insert_err
    end
    return { user = user, refresh = raw }
  end)
  if not result then
    return db_failure("refresh failed", err)
  end
  if result.ended then
    return invalid_session()
  end
  return token_answer(result.user, result.refresh, now)
end

--- End the session (refresh family) a refresh token belongs to. Unknown tokens are
-- ignored: logging out twice is not an error.
-- @return true | nil, err (unavailable)
function M.logout(raw_token)
  if type(raw_token) ~= "string" or #raw_token < 32 or #raw_token > 128 then
    return true
  end
  local session, err = sessions_repo.find_by_token_hash(tokens.hash_refresh(raw_token))
  if err then
    return db_failure("logout lookup failed", err)
  end
  if session then
    local ok, revoke_err = sessions_repo.revoke_family(session.family_id, clock.iso())
    if not ok then
      return db_failure("logout failed", revoke_err)
    end
  end
  return true
end

--- End every session of a user and invalidate their access tokens at once.
-- @return true | nil, err (unavailable)
function M.logout_everywhere(user)
  local now_iso = clock.iso()
  local ok, err = repositories.transaction(function()
    local revoked, revoke_err = sessions_repo.revoke_all_for_user(user.id, now_iso)
    if not revoked then
      return nil, revoke_err
    end
    return users_repo.bump_token_epoch(user.id, now_iso)
  end)
  if not ok then
    return db_failure("logout everywhere failed", err)
  end
  return true
end

--- A user's signed-in sessions (devices), newest activity first.
-- @return { sessions = list of { id, created_at, last_used_at, user_agent },
--   refresh_ttl_seconds } | nil, err
function M.list_sessions(user)
  local rows, err = sessions_repo.list_active_families(user.id, clock.iso())
  if not rows then
    return db_failure("session list failed", err)
  end
  local list = {}
  for i, row in ipairs(rows) do
    list[i] = {
      id = row.family_id,
      created_at = row.created_at,
      last_used_at = row.last_used_at,
      user_agent = row.user_agent,
    }
  end
  return { sessions = list, refresh_ttl_seconds = config.jwt_refresh_ttl_seconds }
end

--- The user an access token belongs to, if the token is valid and still current.
-- @return user | nil, err (unauthorized | unavailable)
function M.authenticate(access_token)
  local claims = tokens.verify_access(access_token)
  if not claims or type(claims.sub) ~= "string" then
    return nil, errors.unauthorized("invalid or expired access token", "invalid_token")
  end
  local user, err = users_repo.find_active(claims.sub)
  if err then
    return db_failure("user lookup failed", err)
  end
  if not user or user.token_epoch ~= claims.ep then
    return nil, errors.unauthorized("invalid or expired access token", "invalid_token")
  end
  return user
end

--- Housekeeping: forget refresh tokens past their expiry and throttling counters idle
-- longer than any throttling window.
-- @return { sessions = n, throttle = n }
function M.prune(now)
  local longest = policy.longest_throttle_window()
  local sessions, err = sessions_repo.delete_expired(clock.iso(now))
  if not sessions then
    log.error("session prune failed", { mod = "services.auth", err = err })
  end
  local counters, throttle_err = throttle_repo.delete_older_than(now - longest)
  if not counters then
    log.error("throttle prune failed", { mod = "services.auth", err = throttle_err })
  end
  return { sessions = sessions or 0, throttle = counters or 0 }
end

return M
