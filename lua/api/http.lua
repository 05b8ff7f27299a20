--- HTTP details shared by the API: cookies, the bearer token, and the Origin checks
-- behind CORS and CSRF protection.
local config = require("core.config")

local M = {}

M.REFRESH_COOKIE = "itcloud_refresh"
M.REFRESH_COOKIE_PATH = "/api/v1/auth"

local allowed_origins = {}
for origin in (config.cors_origins or ""):gmatch("[^,%s]+") do
  allowed_origins[origin:gsub("/+$", "")] = true
end

--- The value of one cookie from the Cookie header, or nil.
function M.cookie(req, name)
  local header = req.headers.cookie
  if not header then
    return nil
  end
  for pair in header:gmatch("[^;]+") do
    local key, value = pair:match("^%s*([^=%s]+)%s*=%s*(.-)%s*$")
    if key == name then
      return value
    end
  end
  return nil
end

--- The Set-Cookie value that stores a refresh token (or clears it when token is nil).
function M.refresh_cookie(token, max_age)
  local parts = {
    M.REFRESH_COOKIE .. "=" .. (token or ""),
    "Path=" .. M.REFRESH_COOKIE_PATH,
    "HttpOnly",
    "SameSite=Strict",
    "Max-Age=" .. (token and max_age or 0),
  }
  if config.cookie_secure then
    parts[#parts + 1] = "Secure"
  end
  return table.concat(parts, "; ")
end

--- The bearer token of the Authorization header, or nil. The scheme name is
-- case-insensitive (RFC 7235 section 2.1).
function M.bearer_token(req)
  local header = req.headers.authorization
  if not header then
    return nil
  end
  local scheme, token = header:match("^(%a+)%s+([%w%-_%.]+)%s*$")
  if not scheme or scheme:lower() ~= "bearer" then
    return nil
  end
  return token
end

--- Whether a cross-origin browser may call the API from `origin` (CORS_ORIGINS).
function M.is_cors_origin(origin)
  return origin ~= nil and allowed_origins[origin] == true
end

--- Whether the request's Origin is this server itself or an allowed origin. Browsers
-- always send Origin on POST, and a page cannot forge it.
function M.origin_allowed(req)
  local origin = req.headers.origin
  if not origin then
    return false
  end
  if allowed_origins[origin] then
    return true
  end
  local host = origin:match("^https?://([^/]+)$")
  return host ~= nil and host == req.headers.host
end

--- CSRF defence for cookie-authenticated calls: an allowed Origin plus a custom
-- header, which a cross-site form cannot send without a CORS preflight.
function M.csrf_ok(req)
  return M.origin_allowed(req) and (req.headers["x-requested-with"] or "") ~= ""
end

--- Headers that let an allowed cross-origin page read the answer.
function M.cors_headers(req)
  local origin = req.headers.origin
  if not M.is_cors_origin(origin) then
    return nil
  end
  return {
    ["Access-Control-Allow-Origin"] = origin,
    ["Access-Control-Allow-Credentials"] = "true",
    ["Vary"] = "Origin",
  }
end

return M
