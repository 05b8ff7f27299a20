--- /api/v1/auth: register, login, refresh, logout, me, sessions.
local http = require("api.http")
local respond = require("api.respond")
local s = require("api.schema")
local auth = require("services.auth")

local credentials = s.object({
  email = s.string({ min = 3, max = 254, description = "Email address (case-insensitive)" }),
  password = s.string({ min = 1, max = 4096 }),
}, { required = { "email", "password" } })

local user_schema = s.object({
  id = s.string({ format = "uuid" }),
  email = s.string({}),
  created_at = s.string({ format = "date-time" }),
}, { required = { "id", "email", "created_at" } })

local token_schema = s.object({
  access_token = s.string({}),
  token_type = s.string({ enum = { "Bearer" } }),
  expires_in = s.integer({}),
  user = user_schema,
}, { required = { "access_token", "token_type", "expires_in", "user" } })

local function meta(req)
  return { ip = req.remote_addr, user_agent = (req.headers["user-agent"] or ""):sub(1, 256) }
end

-- The token answer as JSON, with the refresh token only in its cookie.
local function token_response(result)
  local cookie = http.refresh_cookie(result.refresh_token, result.refresh_expires_in)
  return respond.json(200, {
    access_token = result.access_token,
    token_type = result.token_type,
    expires_in = result.expires_in,
    user = result.user,
  }, { ["Set-Cookie"] = cookie })
end

local clear_cookie = { ["Set-Cookie"] = http.refresh_cookie(nil) }

return {
  {
    method = "POST",
    path = "/api/v1/auth/register",
    auth = "none",
    tag = "auth",
    summary = "Create an account",
    body = credentials,
    responses = {
      [201] = { description = "The new account", schema = s.object({ user = user_schema }) },
      [403] = { description = "Registration is closed" },
      [409] = { description = "The email is taken" },
    },
    handler = function(req)
      local user, err = auth.register(req.input)
      if not user then
        return respond.error(err)
      end
      return respond.json(201, { user = auth.present_user(user) })
    end,
  },
  {
    method = "POST",
    path = "/api/v1/auth/login",
    auth = "none",
    tag = "auth",
    summary = "Sign in; the refresh token comes as an HttpOnly cookie",
    body = credentials,
    responses = {
      [200] = { description = "Signed in", schema = token_schema },
      [401] = { description = "Email or password is incorrect" },
      [429] = { description = "Too many attempts; see Retry-After" },
    },
    handler = function(req)
      local result, err = auth.login(req.input, meta(req))
      if not result then
        return respond.error(err)
      end
      return token_response(result)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/auth/refresh",
    auth = "refresh_cookie",
    tag = "auth",
    summary = "New access token; rotates the refresh cookie",
    responses = {
      [200] = { description = "Refreshed", schema = token_schema },
      [401] = { description = "The session has ended" },
      [403] = { description = "Origin or X-Requested-With missing" },
    },
    handler = function(req)
      local result, err = auth.refresh(http.cookie(req, http.REFRESH_COOKIE), meta(req))
      if not result then
        return respond.error(err, clear_cookie)
      end
      return token_response(result)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/auth/logout",
    auth = "refresh_cookie",
    tag = "auth",
    summary = "End this session",
    responses = { [204] = { description = "Signed out" } },
    handler = function(req)
      local ok, err = auth.logout(http.cookie(req, http.REFRESH_COOKIE))
      if not ok then
        return respond.error(err)
      end
      return respond.empty(204, clear_cookie)
    end,
  },
  {
    method = "POST",
    path = "/api/v1/auth/logout-all",
    auth = "user",
    tag = "auth",
    summary = "End every session of this account and invalidate its access tokens",
    responses = { [204] = { description = "Signed out everywhere" } },
    handler = function(req)
      local ok, err = auth.logout_everywhere(req.user)
      if not ok then
        return respond.error(err)
      end
      return respond.empty(204, clear_cookie)
    end,
  },
  {
    method = "GET",
    path = "/api/v1/auth/me",
    auth = "user",
    tag = "auth",
    summary = "The signed-in user",
    responses = { [200] = { description = "The user", schema = s.object({ user = user_schema }) } },
    handler = function(req)
      return respond.json(200, { user = auth.present_user(req.user) })
    end,
  },
  {
    method = "GET",
    path = "/api/v1/auth/sessions",
    auth = "user",
    tag = "auth",
    summary = "Signed-in sessions (devices) of this account",
    responses = { [200] = { description = "Sessions" } },
    handler = function(req)
      local result, err = auth.list_sessions(req.user)
      if not result then
        return respond.error(err)
      end
      result.sessions = respond.array(result.sessions)
      return respond.json(200, result)
    end,
  },
}
