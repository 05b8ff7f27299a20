--- Identifiers: UUID version 7 (a millisecond timestamp, then random bits), so new
-- rows land at the end of indexes and ids sort by creation time.
local crypto = require("core.crypto")
local time = require("core.time")

local M = {}

--- A new UUIDv7 as lower-case text.
-- @return string "0190b4c2-7a1e-7xxx-yxxx-xxxxxxxxxxxx"
function M.uuid()
  local ms = math.floor(time.now() * 1000)
  local rand = crypto.random_bytes(10)
  local b = { rand:byte(1, 10) }
  local hex = string.format("%012x", ms)
  local version = 0x70 | (b[1] & 0x0f)
  local variant = 0x80 | (b[3] & 0x3f)
  return string.format("%s-%s-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
    hex:sub(1, 8), hex:sub(9, 12), version, b[2], variant, b[4],
    b[5], b[6], b[7], b[8], b[9], b[10])
end

return M
