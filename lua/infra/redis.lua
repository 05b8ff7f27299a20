--- The VM's connection to Redis (REDIS_URL), made on first use and again after a
-- failure. The connection is module state, a cache that is safe to lose: a reload
-- builds a fresh VM and with it a fresh connection. Redis going away and coming back
-- is logged here, once each way, so callers that fall back or fail closed need not
-- log every failed call.
local log = require("core.log")
local redis = require("core.redis")

local M = {}

-- limit for connecting and for each command, unless a caller asks for more
local TIMEOUT_MS = 500

local client
local failing = false

local function failed(err)
  if not failing then
    failing = true
    log.warn("redis unavailable", { mod = "infra.redis", err = err })
  end
  return nil, err
end

--- Whether REDIS_URL is set.
function M.configured()
  return redis.configured()
end

--- Run one command, an array {name, arg...} of strings and numbers.
-- @param timeout_ms optional limit for this call (a blocking command needs more than
--   its own wait)
-- @return reply | nil for a nil reply | nil, err (Redis down, timed out, error reply)
function M.command(args, timeout_ms)
  if not client then
    local err
    client, err = redis.connect({ timeout_ms = TIMEOUT_MS })
    if not client then
      return failed(err)
    end
  end
  local reply, err = client:command(args, timeout_ms)
  if err then
    return failed(err)
  end
  if failing then
    failing = false
    log.info("redis is back", { mod = "infra.redis" })
  end
  return reply
end

return M
