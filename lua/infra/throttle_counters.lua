--- Throttling counters in Redis, one hash per key that expires with its window, so
-- every `serve` process sees the same counts without touching the database. The same
-- counter shape as the database's (domain.throttle judges both).
local redis = require("infra.redis")

local M = {}

local PREFIX = "itcloud:throttle:"

-- One failure, atomically: concurrent failures all count, and the first one of a
-- window starts it and sets its expiry (the window ends with the key).
local RECORD_FAILURE = [[
local failures = redis.call("HINCRBY", KEYS[1], "failures", 1)
if failures == 1 then
  redis.call("HSET", KEYS[1], "window_started_at", ARGV[1])
  redis.call("EXPIRE", KEYS[1], ARGV[2])
end
redis.call("HSET", KEYS[1], "last_failure_at", ARGV[1])
return failures
]]

--- The counter of a key.
-- @return { failures, window_started_at, last_failure_at } | nil when absent | nil, err
function M.find(key)
  local fields, err = redis.command({ "HMGET", PREFIX .. key, "failures", "window_started_at",
    "last_failure_at" })
  if not fields then
    return nil, err
  end
  local failures, started, last = tonumber(fields[1]), tonumber(fields[2]), tonumber(fields[3])
  if not (failures and started and last) then
    return nil
  end
  return { failures = failures, window_started_at = started, last_failure_at = last }
end

--- Count one failure at `now` (whole seconds) in a window of `window_seconds`.
-- @return true | nil, err
function M.record_failure(key, now, window_seconds)
  local failures, err = redis.command({ "EVAL", RECORD_FAILURE, 1, PREFIX .. key, now,
    window_seconds })
  if not failures then
    return nil, err
  end
  return true
end

--- Forget a key's failures.
-- @return true | nil, err
function M.clear(key)
  local deleted, err = redis.command({ "DEL", PREFIX .. key })
  if not deleted then
    return nil, err
  end
  return true
end

return M
