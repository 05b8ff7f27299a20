--- Throttling counters in Redis, one hash per key that expires with its window, so
-- every `serve` process sees the same counts without touching the database. The same
-- counter shape as the database's (domain.throttle judges both).
local crypto = require("core.crypto")
local redis = require("infra.redis")

local M = {}

local PREFIX = "itcloud:throttle:"
local LOCK_PREFIX = "itcloud:throttle-lock:"
-- A lock left by a process that died holding it lapses after this long.
local LOCK_MS = 5000

-- Deletes a lock only while it is still the holder's.
local UNLOCK = [[
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0
]]

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

-- One failure taken back, when the key (its window) still exists.
local FORGIVE = [[
local failures = tonumber(redis.call("HGET", KEYS[1], "failures"))
if failures and failures > 0 then
  return redis.call("HINCRBY", KEYS[1], "failures", -1)
end
return 0
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

--- Take back one failure of a key (one counted ahead of an attempt that succeeded).
-- @return true | nil, err
function M.forgive(key)
  local left, err = redis.command({ "EVAL", FORGIVE, 1, PREFIX .. key })
  if not left then
    return nil, err
  end
  return true
end

--- Run fn(...) holding a short lock on every key, so that a check of the counters and
-- the count that follows it are one step for all processes. Nothing waits for a lock.
-- @param keys a list of keys
-- @return fn's results | false when another attempt holds one of the keys | nil, err
function M.locked(keys, fn, ...)
  local token = crypto.random_token(16)
  local held = {}
  local function release()
    for _, key in ipairs(held) do
      redis.command({ "EVAL", UNLOCK, 1, LOCK_PREFIX .. key, token })
    end
  end
  for _, key in ipairs(keys) do
    local reply, err = redis.command({ "SET", LOCK_PREFIX .. key, token, "NX", "PX", LOCK_MS })
    if reply == nil then
      release()
      if err then
        return nil, err
      end
      return false
    end
    held[#held + 1] = key
  end
  local results = table.pack(pcall(fn, ...))
  release()
  if not results[1] then
    error(results[2], 0)
  end
  return table.unpack(results, 2, results.n)
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
