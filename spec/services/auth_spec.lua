-- services.auth with the real repositories on the shared spec database.
local api = require("helpers.api")
local auth = require("services.auth")
local tokens = require("infra.tokens")

local PASSWORD = api.PASSWORD

-- services.auth loaded over stand-ins for some of its modules: overrides maps a module
-- name to a table of functions that replace the real module's (the rest stay real).
local function auth_with(overrides)
  local saved = { ["services.auth"] = package.loaded["services.auth"] }
  for name, replacement in pairs(overrides) do
    saved[name] = package.loaded[name]
    package.loaded[name] = setmetatable(replacement, { __index = require(name) })
  end
  package.loaded["services.auth"] = nil
  local ok, loaded = pcall(require, "services.auth")
  for name, module in pairs(saved) do
    package.loaded[name] = module
  end
  assert(ok, loaded)
  return loaded
end

local function auth_with_policy(policy)
  return auth_with({ ["infra.policy"] = policy })
end

-- A clock that stands still until moved, so throttling waits are exact.
local function frozen_clock()
  local clock = { at = core.time.unix() }
  function clock.now()
    return clock.at
  end
  return clock
end

local ip_counter = 0
local function fresh_meta()
  ip_counter = ip_counter + 1
  return { ip = "203.0.113." .. ip_counter, user_agent = "spec-agent/" .. ip_counter }
end

local function session_row(raw)
  return core.db.query("SELECT * FROM sessions WHERE token_hash = ?", tokens.hash_refresh(raw))[1]
end

describe("services.auth", function()
  local emails = {}

  local function unique_email()
    local email = api.unique_email("svc-auth")
    emails[#emails + 1] = email
    return email
  end

  local function register(email)
    email = email or unique_email()
    return assert(auth.register({ email = email, password = PASSWORD })), email
  end

  local function login(email, meta)
    return assert(auth.login({ email = email, password = PASSWORD }, meta or fresh_meta()))
  end

  setup(function()
    core.db.exec("DELETE FROM auth_throttle")
  end)

  teardown(function()
    for _, email in ipairs(emails) do
      core.db.exec("DELETE FROM users WHERE lower(email) = lower(?)", email)
    end
    core.db.exec("DELETE FROM auth_throttle")
  end)

  describe("register", function()
    it("creates an active account with a normalised email and an argon2id hash", function()
      local email = unique_email()
      local user = assert(auth.register({ email = "  " .. email:upper() .. " ", password = PASSWORD }))
      assert.equal(email, user.email)
      assert.equal(0, user.token_epoch)
      assert.matches("^%x+%-%x+%-7%x+%-[89ab]%x+%-%x+$", user.id)
      local row = core.db.query("SELECT * FROM users WHERE id = ?", user.id)[1]
      assert.equal(email, row.email)
      assert.equal(1, row.is_active)
      assert.matches("^%$argon2id%$", row.password_hash)
      assert.is_true(core.crypto.verify_password(row.password_hash, PASSWORD))
    end)

    it("refuses an invalid email with a validation error on email", function()
      local user, err = auth.register({ email = "not an email", password = PASSWORD })
      assert.is_nil(user)
      assert.same({ code = "validation_error", field = "email", message = "must be a valid email address" },
        err)
    end)

    it("refuses a weak password with a validation error on password", function()
      local email = unique_email()
      local cases = {
        { "short", "password must be at least 8 characters long" },
        { "password1", "password is too easy to guess" },
        { email, "password is too easy to guess" },
        { string.rep("x", 1025), "password must be at most 1024 bytes long" },
      }
      for _, case in ipairs(cases) do
        local user, err = auth.register({ email = email, password = case[1] })
        assert.is_nil(user)
        assert.same({ code = "validation_error", field = "password", message = case[2] }, err)
      end
      assert.equal(0, core.db.query("SELECT count(*) AS n FROM users WHERE email = ?", email)[1].n)
    end)

    it("refuses a second account for the same email in any case", function()
      local _, email = register()
      local user, err = auth.register({ email = email:upper(), password = PASSWORD })
      assert.is_nil(user)
      assert.equal("email_taken", err.code)
      assert.equal(1, core.db.query("SELECT count(*) AS n FROM users WHERE lower(email) = ?",
        email)[1].n)
    end)

    it("refuses when registration is closed, before hashing anything", function()
      local closed = auth_with_policy({ registration_open = function() return false end })
      local email = unique_email()
      local user, err = closed.register({ email = email, password = PASSWORD })
      assert.is_nil(user)
      assert.same({ code = "registration_closed", message = "registration is closed" }, err)
      assert.is_nil(require("repositories.users").find_by_email(email))
    end)

    it("present_user never shows the hash or the epoch", function()
      local user = register()
      assert.same({ id = user.id, email = user.email, created_at = user.created_at },
        auth.present_user(user))
    end)
  end)

  describe("login", function()
    it("answers tokens and starts a session for the right password", function()
      local user, email = register()
      local meta = fresh_meta()
      local result = login(email:upper(), meta)
      assert.equal("Bearer", result.token_type)
      assert.equal(core.config.jwt_access_ttl_seconds, result.expires_in)
      assert.equal(core.config.jwt_refresh_ttl_seconds, result.refresh_expires_in)
      assert.same(auth.present_user(user), result.user)
      local claims = assert(tokens.verify_access(result.access_token))
      assert.equal(user.id, claims.sub)
      assert.equal(0, claims.ep)
      local row = session_row(result.refresh_token)
      assert.equal(user.id, row.user_id)
      assert.equal(row.id, row.family_id)
      assert.equal(meta.user_agent, row.user_agent)
      assert.is_nil(row.used_at)
      assert.is_nil(row.revoked_at)
    end)

    it("gives the same error for a wrong password and an unknown email (J7)", function()
      local _, email = register()
      local _, wrong = auth.login({ email = email, password = "wrong password" }, fresh_meta())
      local _, unknown = auth.login({ email = "nobody-" .. email, password = PASSWORD }, fresh_meta())
      local _, malformed = auth.login({ email = "not an email", password = PASSWORD }, fresh_meta())
      assert.same({ code = "invalid_credentials", message = "email or password is incorrect" }, wrong)
      assert.same(wrong, unknown)
      assert.same(wrong, malformed)
    end)

    it("refuses an inactive user with the same error, even with the right password", function()
      local user, email = register()
      core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", user.id)
      local result, err = auth.login({ email = email, password = PASSWORD }, fresh_meta())
      assert.is_nil(result)
      assert.equal("invalid_credentials", err.code)
    end)

    it("throttles repeated failures with Retry-After, even for the right password", function()
      local clock = frozen_clock()
      local timed = auth_with({ ["infra.clock"] = clock })
      local _, email = register()
      local meta = fresh_meta()
      local free = require("infra.policy").login_throttle().account_ip.free_failures
      for i = 1, free do
        local _, err = timed.login({ email = email, password = "wrong " .. i }, meta)
        assert.equal("invalid_credentials", err.code, "attempt " .. i)
      end
      local counter = require("repositories.throttle").find("account_ip:" .. email .. "|" .. meta.ip)
      assert.equal(free, counter.failures)
      assert.equal(clock.at, counter.last_failure_at)

      local result, err = timed.login({ email = email, password = PASSWORD }, meta)
      assert.is_nil(result)
      assert.same({ code = "rate_limited", message = "too many attempts, try again later",
        retry_after = 1 }, err)
      local status, _, headers = require("api.respond").error(err)
      assert.equal(429, status)
      assert.equal("1", headers["Retry-After"])

      -- once the wait has passed the right password works, and clears the account's
      -- counters (not the IP's)
      clock.at = clock.at + 1
      assert.truthy(timed.login({ email = email, password = PASSWORD }, meta))
      local throttle_repo = require("repositories.throttle")
      assert.is_nil(throttle_repo.find("account_ip:" .. email .. "|" .. meta.ip))
      assert.is_nil(throttle_repo.find("account:" .. email))
      assert.equal(free, throttle_repo.find("ip:" .. meta.ip).failures)
    end)

    it("doubles the wait with each further failure", function()
      local clock = frozen_clock()
      local strict = auth_with({
        ["infra.clock"] = clock,
        ["infra.policy"] = {
          login_throttle = function()
            local rule = { free_failures = 1, window_seconds = 900, max_delay_seconds = 6 }
            return { ip = rule, account_ip = rule, account = rule }
          end,
        },
      })
      local _, email = register()
      local meta = fresh_meta()
      local waits = {}
      for _ = 1, 4 do
        local _, err = strict.login({ email = email, password = "wrong" }, meta)
        assert.equal("invalid_credentials", err.code)
        _, err = strict.login({ email = email, password = "wrong" }, meta)
        assert.equal("rate_limited", err.code)
        waits[#waits + 1] = err.retry_after
        clock.at = clock.at + err.retry_after
      end
      assert.same({ 1, 2, 4, 6 }, waits)
    end)

    it("throttles by IP across accounts and by account across IPs", function()
      local strict = auth_with({
        ["infra.clock"] = frozen_clock(),
        ["infra.policy"] = {
          login_throttle = function()
            return {
              ip = { free_failures = 2, window_seconds = 900, max_delay_seconds = 60 },
              account_ip = { free_failures = 100, window_seconds = 900, max_delay_seconds = 60 },
              account = { free_failures = 3, window_seconds = 900, max_delay_seconds = 60 },
            }
          end,
        },
      })
      local meta = fresh_meta()
      strict.login({ email = unique_email(), password = "x" }, meta)
      strict.login({ email = unique_email(), password = "x" }, meta)
      local _, err = strict.login({ email = unique_email(), password = "x" }, meta)
      assert.equal("rate_limited", err.code)

      local _, email = register()
      for _ = 1, 3 do
        strict.login({ email = email, password = "x" }, fresh_meta())
      end
      _, err = strict.login({ email = email, password = PASSWORD }, fresh_meta())
      assert.equal("rate_limited", err.code)
    end)
  end)

  describe("refresh", function()
    it("rotates the refresh token within its family", function()
      local user, email = register()
      local first = login(email)
      local meta = fresh_meta()
      local second = assert(auth.refresh(first.refresh_token, meta))
      assert.are_not.equal(first.refresh_token, second.refresh_token)
      assert.same(auth.present_user(user), second.user)
      assert.equal(user.id, assert(tokens.verify_access(second.access_token)).sub)
      local old, new = session_row(first.refresh_token), session_row(second.refresh_token)
      assert.is_string(old.used_at)
      assert.equal(old.family_id, new.family_id)
      assert.equal(old.id, new.parent_id)
      assert.equal(meta.user_agent, new.user_agent)
      assert.is_nil(new.used_at)
      assert.truthy(assert(auth.refresh(second.refresh_token, fresh_meta())).refresh_token)
    end)

    it("tolerates a reuse within the grace period (two tabs refreshing at once)", function()
      local _, email = register()
      local first = login(email)
      local second = assert(auth.refresh(first.refresh_token, fresh_meta()))
      local again = assert(auth.refresh(first.refresh_token, fresh_meta()))
      assert.are_not.equal(second.refresh_token, again.refresh_token)
      assert.is_nil(session_row(second.refresh_token).revoked_at)
    end)

    it("revokes the whole family when a rotated token is reused after the grace (J5)", function()
      local _, email = register()
      local first = login(email)
      local second = assert(auth.refresh(first.refresh_token, fresh_meta()))
      local row = session_row(first.refresh_token)
      core.db.exec("UPDATE sessions SET used_at = ? WHERE id = ?",
        core.time.iso8601(core.time.unix() - 11), row.id)
      local result, err = auth.refresh(first.refresh_token, fresh_meta())
      assert.is_nil(result)
      assert.same({ code = "invalid_session", message = "the session has ended, sign in again" }, err)
      -- the victim's current token dies with the family
      result, err = auth.refresh(second.refresh_token, fresh_meta())
      assert.is_nil(result)
      assert.equal("invalid_session", err.code)
      local live = core.db.query("SELECT count(*) AS n FROM sessions WHERE family_id = ?"
        .. " AND revoked_at IS NULL", row.family_id)[1].n
      assert.equal(0, live)
    end)

    it("leaves the user's other sessions alone on reuse", function()
      local _, email = register()
      local stolen, other = login(email), login(email)
      assert(auth.refresh(stolen.refresh_token, fresh_meta()))
      core.db.exec("UPDATE sessions SET used_at = ? WHERE token_hash = ?",
        core.time.iso8601(core.time.unix() - 60), tokens.hash_refresh(stolen.refresh_token))
      assert.is_nil(auth.refresh(stolen.refresh_token, fresh_meta()))
      assert.truthy(auth.refresh(other.refresh_token, fresh_meta()))
    end)

    it("refuses unknown, malformed and missing tokens", function()
      for _, raw in ipairs({ string.rep("a", 43), "short", string.rep("b", 129), "" }) do
        local result, err = auth.refresh(raw, fresh_meta())
        assert.is_nil(result)
        assert.equal("invalid_session", err.code)
      end
      assert.equal("invalid_session", select(2, auth.refresh(nil, fresh_meta())).code)
      assert.equal("invalid_session", select(2, auth.refresh(42, fresh_meta())).code)
    end)

    it("refuses an expired session", function()
      local _, email = register()
      local first = login(email)
      core.db.exec("UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
        core.time.iso8601(core.time.unix() - 1), tokens.hash_refresh(first.refresh_token))
      assert.equal("invalid_session", select(2, auth.refresh(first.refresh_token, fresh_meta())).code)
    end)

    it("ends the session of a user who was disabled (J6)", function()
      local user, email = register()
      local first = login(email)
      core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", user.id)
      assert.equal("invalid_session", select(2, auth.refresh(first.refresh_token, fresh_meta())).code)
      assert.is_string(session_row(first.refresh_token).revoked_at)
    end)
  end)

  describe("logout", function()
    it("ends the family, and logging out again is fine", function()
      local _, email = register()
      local first = login(email)
      local second = assert(auth.refresh(first.refresh_token, fresh_meta()))
      assert.is_true(auth.logout(first.refresh_token))
      assert.equal("invalid_session", select(2, auth.refresh(second.refresh_token, fresh_meta())).code)
      assert.is_true(auth.logout(second.refresh_token))
      assert.is_true(auth.logout(first.refresh_token))
    end)

    it("ignores unknown, malformed and missing tokens", function()
      assert.is_true(auth.logout(string.rep("z", 43)))
      assert.is_true(auth.logout("short"))
      assert.is_true(auth.logout(nil))
      assert.is_true(auth.logout(string.rep("z", 500)))
    end)

    it("leaves other sessions of the user signed in", function()
      local _, email = register()
      local a, b = login(email), login(email)
      assert.is_true(auth.logout(a.refresh_token))
      assert.truthy(auth.refresh(b.refresh_token, fresh_meta()))
    end)
  end)

  describe("logout_everywhere", function()
    it("revokes every session and invalidates access tokens at once (J6)", function()
      local user, email = register()
      local a, b = login(email), login(email)
      assert.truthy(auth.authenticate(a.access_token))
      assert.is_true(auth.logout_everywhere(user))
      local found, err = auth.authenticate(a.access_token)
      assert.is_nil(found)
      assert.equal("invalid_token", err.code)
      assert.is_nil(auth.authenticate(b.access_token))
      assert.equal("invalid_session", select(2, auth.refresh(a.refresh_token, fresh_meta())).code)
      assert.equal("invalid_session", select(2, auth.refresh(b.refresh_token, fresh_meta())).code)
      assert.equal(1, core.db.query("SELECT token_epoch FROM users WHERE id = ?", user.id)[1].token_epoch)
      -- a new login works and carries the new epoch
      local fresh = login(email)
      assert.equal(1, tokens.verify_access(fresh.access_token).ep)
      assert.equal(user.id, assert(auth.authenticate(fresh.access_token)).id)
    end)
  end)

  describe("authenticate", function()
    it("returns the user row for a current access token", function()
      local user, email = register()
      local found = assert(auth.authenticate(login(email).access_token))
      assert.equal(user.id, found.id)
      assert.equal(email, found.email)
    end)

    it("refuses a token with another epoch", function()
      local user = register()
      local now = core.time.unix()
      for _, epoch in ipairs({ 1, -1 }) do
        local token = tokens.issue_access({ id = user.id, token_epoch = epoch }, now)
        assert.equal("invalid_token", select(2, auth.authenticate(token)).code)
      end
      local no_epoch = tokens.issue_access({ id = user.id }, now)
      assert.equal("invalid_token", select(2, auth.authenticate(no_epoch)).code)
    end)

    it("refuses garbage, expired tokens and tokens of unknown or inactive users", function()
      for _, garbage in ipairs({ "", "garbage", "a.b.c", string.rep("x", 5000) }) do
        local found, err = auth.authenticate(garbage)
        assert.is_nil(found)
        assert.same({ code = "invalid_token", message = "invalid or expired access token" }, err)
      end
      local user = register()
      local old = tokens.issue_access({ id = user.id, token_epoch = 0 }, core.time.unix() - 86400)
      assert.equal("invalid_token", select(2, auth.authenticate(old)).code)
      local ghost = tokens.issue_access({ id = "0190b4c2-7a1e-7000-8000-00000000dead", token_epoch = 0 },
        core.time.unix())
      assert.equal("invalid_token", select(2, auth.authenticate(ghost)).code)
      local current = tokens.issue_access({ id = user.id, token_epoch = 0 }, core.time.unix())
      core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", user.id)
      assert.equal("invalid_token", select(2, auth.authenticate(current)).code)
    end)
  end)

  describe("list_sessions", function()
    it("lists the user's live sessions, one per login", function()
      local user, email = register()
      local a = login(email, { ip = "198.51.100.7", user_agent = "Browser A" })
      login(email, { ip = "198.51.100.7", user_agent = "Browser B" })
      local result = assert(auth.list_sessions(user))
      assert.equal(core.config.jwt_refresh_ttl_seconds, result.refresh_ttl_seconds)
      local list = result.sessions
      assert.equal(2, #list)
      local agents = { list[1].user_agent, list[2].user_agent }
      table.sort(agents)
      assert.same({ "Browser A", "Browser B" }, agents)
      auth.logout(a.refresh_token)
      list = auth.list_sessions(user).sessions
      assert.equal(1, #list)
      assert.equal("Browser B", list[1].user_agent)
      assert.is_string(list[1].id)
      assert.is_string(list[1].created_at)
      assert.is_string(list[1].last_used_at)
    end)
  end)
end)
