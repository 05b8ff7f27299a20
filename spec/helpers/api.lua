--- Account helpers for API specs: register, log in, and the headers a browser sends.
local M = {}

local counter = 0

--- A unique email for this run.
function M.unique_email(prefix)
  counter = counter + 1
  return string.format("%s-%d-%d@example.com", prefix or "user", os.time(), counter)
end

M.PASSWORD = "correct horse battery"

--- Register and log in a new user.
-- @return { email, token, cookie (refresh token), user }
function M.signup(server, email, password)
  email = email or M.unique_email()
  password = password or M.PASSWORD
  local res = server.request("POST", "/api/v1/auth/register", {
    json = { email = email, password = password },
  })
  assert(res.status == 201, "register failed: " .. res.status .. " " .. res.body)
  return M.login(server, email, password)
end

--- Log in; asserts success.
function M.login(server, email, password)
  local res = server.request("POST", "/api/v1/auth/login", {
    json = { email = email, password = password or M.PASSWORD },
  })
  assert(res.status == 200, "login failed: " .. res.status .. " " .. res.body)
  local body = res.json()
  return {
    email = email,
    token = body.access_token,
    user = body.user,
    cookie = (res.headers["set-cookie"] or ""):match("itcloud_refresh=([^;]*)"),
  }
end

--- Headers of an authenticated call.
function M.bearer(token)
  return { Authorization = "Bearer " .. token }
end

--- Headers a same-origin browser page sends with the refresh cookie.
function M.cookie_headers(server, cookie)
  return {
    Cookie = "itcloud_refresh=" .. cookie,
    Origin = "http://127.0.0.1:" .. server.port,
    ["X-Requested-With"] = "itcloud",
  }
end

return M
