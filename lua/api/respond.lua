--- Responses: JSON bodies and the one mapping from domain error codes to HTTP
-- statuses. Handlers return respond.json(...) or respond.error(err).
local json = require("core.json")

local M = {}

local STATUS_BY_CODE = {
  validation_error = 400,
  invalid_json = 400,
  bad_request = 400,
  unauthorized = 401,
  invalid_token = 401,
  invalid_credentials = 401,
  invalid_session = 401,
  share_locked = 401,
  invalid_share_password = 401,
  forbidden = 403,
  csrf_failed = 403,
  origin_not_allowed = 403,
  registration_closed = 403,
  shares_disabled = 403,
  download_not_allowed = 403,
  location_withheld = 403,
  not_found = 404,
  method_not_allowed = 405,
  invalid_cursor = 400,
  cursor_expired = 410,
  email_taken = 409,
  conflict = 409,
  not_uploading = 409,
  not_in_trash = 409,
  not_ready = 409,
  tag_exists = 409,
  share_revoked = 409,
  no_password = 409,
  upload_incomplete = 409,
  payload_too_large = 413,
  file_too_large = 413,
  quota_exceeded = 413,
  upload_refused = 422,
  upload_rejected = 422,
  unsupported_media_type = 415,
  rate_limited = 429,
  unavailable = 503,
}

local JSON_HEADERS = { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }

--- A JSON response.
-- @param headers optional extra headers (values may be lists, as for Set-Cookie)
-- @return status, body, headers
function M.json(status, data, headers)
  local all = {}
  for name, value in pairs(JSON_HEADERS) do
    all[name] = value
  end
  for name, value in pairs(headers or {}) do
    all[name] = value
  end
  return status, json.encode(data), all
end

--- Mark a list so it is written as a JSON array even when empty.
function M.array(list)
  return json.array(list)
end

--- An empty response (204 and the like).
function M.empty(status, headers)
  local all = { ["Cache-Control"] = "no-store" }
  for name, value in pairs(headers or {}) do
    all[name] = value
  end
  return status, "", all
end

--- The HTTP status for a domain error code (500 for codes nobody mapped).
function M.status_for(code)
  return STATUS_BY_CODE[code] or 500
end

--- A service's answer as a response: its error, 204 (or `status`) for a bare true,
-- else the result as JSON with `status` (200 by default).
-- @param result table | true | nil
function M.outcome(result, err, status)
  if not result then
    return M.error(err)
  end
  if result == true then
    return M.empty(status or 204)
  end
  return M.json(status or 200, result)
end

--- A service's rows as { items = [present(row), ...] }, or its error.
function M.items(rows, err, present)
  if not rows then
    return M.error(err)
  end
  local items = {}
  for i, row in ipairs(rows) do
    items[i] = present(row)
  end
  return M.json(200, { items = M.array(items) })
end

--- An error response {"error": {"code", "message", "field"?}} with the mapped status.
-- @param err domain error { code, message, field?, retry_after? }
function M.error(err, headers)
  local status = M.status_for(err.code)
  local body = { code = err.code, message = err.message, field = err.field }
  local extra = {}
  for name, value in pairs(headers or {}) do
    extra[name] = value
  end
  if err.retry_after then
    extra["Retry-After"] = tostring(err.retry_after)
  end
  if status == 401 and not extra["WWW-Authenticate"] then
    extra["WWW-Authenticate"] = "Bearer"
  end
  return M.json(status, { error = body }, extra)
end

return M
