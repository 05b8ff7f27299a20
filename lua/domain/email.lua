--- Email addresses as account names: normalised to lower case and checked for a
-- plausible shape (one @, a dot in the domain, no spaces or control characters).
local M = {}

local MAX_LENGTH = 254

--- Normalise an address for storage and lookup.
-- @return string | nil, message
function M.normalize(raw)
  local email = raw:match("^%s*(.-)%s*$"):lower()
  if #email == 0 or #email > MAX_LENGTH then
    return nil, "must be a valid email address"
  end
  local pattern = "^[%w%.%%%+%-_!#$&'*/=?^`{|}~]+@[%w%-]+%.[%w%.%-]+$"
  if not email:match(pattern) or email:find("..", 1, true) then
    return nil, "must be a valid email address"
  end
  local domain = email:match("@(.+)$")
  if domain:sub(1, 1) == "." or domain:sub(-1) == "." or domain:sub(1, 1) == "-" then
    return nil, "must be a valid email address"
  end
  return email
end

return M
