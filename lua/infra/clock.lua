--- The clock, through core.time: whole seconds for arithmetic, RFC 3339 text (always
-- with milliseconds, so it sorts) for storage.
local time = require("core.time")

local M = {}

--- Whole seconds since the epoch.
function M.now()
  return time.unix()
end

--- RFC 3339 UTC text for `seconds` (default: now, with milliseconds).
function M.iso(seconds)
  return time.iso8601(seconds)
end

--- Seconds since the epoch for stored RFC 3339 text.
-- @return number | nil, err
function M.parse(text)
  return time.parse_iso8601(text)
end

return M
