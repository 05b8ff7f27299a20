--- Domain errors: plain tables { code = "...", message = "..." } that services
-- return as `nil, err`. Only api/respond.lua maps codes to HTTP statuses.
local M = {}

--- Build an error with a code, a message and optional extra fields.
-- @return table { code, message, ... }
function M.new(code, message, extra)
  local err = { code = code, message = message }
  for key, value in pairs(extra or {}) do
    err[key] = value
  end
  return err
end

--- Something the caller may not see or that does not exist (the same answer for both).
function M.not_found(what)
  return M.new("not_found", (what or "resource") .. " not found")
end

--- Input that breaks a rule; `field` names the offending input.
function M.validation(field, message)
  return M.new("validation_error", message, { field = field })
end

--- Missing or bad credentials.
function M.unauthorized(message, code)
  return M.new(code or "unauthorized", message or "authentication required")
end

--- Authenticated but not allowed (CSRF checks, closed registration).
function M.forbidden(code, message)
  return M.new(code, message)
end

--- The request conflicts with what exists (a taken email).
function M.conflict(code, message)
  return M.new(code, message)
end

--- Too many attempts; retry_after is whole seconds.
function M.rate_limited(retry_after)
  return M.new("rate_limited", "too many attempts, try again later", { retry_after = retry_after })
end

--- A dependency failed (database, storage); details go to the log, not here.
function M.unavailable(message)
  return M.new("unavailable", message or "service temporarily unavailable")
end

return M
