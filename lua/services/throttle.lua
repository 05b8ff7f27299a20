--- Attempt throttling (sign-in, and any other guessable secret): failure counters per
-- key, judged by domain.throttle. The counters live in Redis when REDIS_URL is set
-- (shared by every process, expiring by themselves) and in the database otherwise.
-- When the store cannot be read or written, callers get an error and must refuse the
-- attempt: a limit is never skipped because its counters are out of reach.
local log = require("core.log")
local errors = require("domain.errors")
local redis = require("infra.redis")
local redis_counters = require("infra.throttle_counters")
local repositories = require("repositories")
local throttle = require("domain.throttle")
local throttle_repo = require("repositories.throttle")

local M = {}

-- How long a client is told to wait while the counters are out of reach.
local UNAVAILABLE_RETRY_SECONDS = 5
-- How long an attempt waits while another attempt on the same counters is being counted.
local LOCKED_RETRY_SECONDS = 1

-- Where counters are read and cleared: both stores answer find(key) and clear(key).
local function store()
  return redis.configured() and redis_counters or throttle_repo
end

-- Runs fn(kind, key) for each counter, stopping at the first failure.
local function each_counter(keys, fn)
  for kind, key in pairs(keys) do
    local ok, err = fn(kind, key)
    if not ok then
      return nil, err
    end
  end
  return true
end

--- Seconds to wait before another attempt: the longest over the counters.
-- @param keys { kind = key }
-- @param rules { kind = { free_failures, window_seconds, max_delay_seconds } }
-- @param now whole seconds
-- @return seconds (0 when an attempt may go ahead) | nil, err
function M.wait(keys, rules, now)
  local wait = 0
  for kind, key in pairs(keys) do
    local counter, err = store().find(key)
    if err then
      return nil, err
    end
    wait = math.max(wait, throttle.retry_after(counter, rules[kind], now))
  end
  return wait
end

--- Count one failure on every counter.
-- @return true | nil, err
function M.record_failure(keys, rules, now)
  if redis.configured() then
    return each_counter(keys, function(kind, key)
      return redis_counters.record_failure(key, now, rules[kind].window_seconds)
    end)
  end
  return repositories.transaction(each_counter, keys, function(kind, key)
    local counter, err = throttle_repo.find(key)
    if err then
      return nil, err
    end
    return throttle_repo.save(key, throttle.record_failure(counter, rules[kind], now))
  end)
end

-- M.wait, then, when the attempt may go ahead, one failure counted on every counter.
local function check_and_count(keys, rules, now)
  local wait, err = M.wait(keys, rules, now)
  if not wait or wait > 0 then
    return wait, err
  end
  local ok, record_err = M.record_failure(keys, rules, now)
  if not ok then
    return nil, record_err
  end
  return 0
end

--- Start an attempt at a guessable secret: the seconds to wait as M.wait says, or 0
-- with the attempt already counted as a failure on every counter. The check and the
-- count are one step (a write transaction, or short Redis locks on the keys; an attempt
-- that finds a key locked waits a second), and both come before the slow check of the
-- secret (a password hash), so attempts sent at once cannot all pass the wait before
-- any of them is counted. M.forgive takes the count back for one that succeeds.
-- @return seconds (0: go ahead, counted) | nil, err
function M.begin(keys, rules, now)
  if not redis.configured() then
    return repositories.transaction(check_and_count, keys, rules, now)
  end
  local list = {}
  for _, key in pairs(keys) do
    list[#list + 1] = key
  end
  table.sort(list)
  local wait, err = redis_counters.locked(list, check_and_count, keys, rules, now)
  if wait == false then
    return LOCKED_RETRY_SECONDS
  end
  return wait, err
end

--- Take back the failure M.begin counted, for an attempt that succeeded or could not
-- be judged.
-- @param keys { kind = key }
-- @return true | nil, err
function M.forgive(keys)
  return each_counter(keys, function(_, key)
    return store().forgive(key)
  end)
end

--- Forget the failures of some counters (after a success).
-- @param keys a list of keys
-- @return true | nil, err
function M.clear(keys)
  return each_counter(keys, function(_, key)
    return store().clear(key)
  end)
end

--- The error for an attempt refused because its counters cannot be read or written
-- (fail closed: 503 with Retry-After, nothing the client did caused it); logs `err`.
-- @param action what is paused, for the message ("sign-in")
-- @param what what failed, for the log
-- @return nil, error
function M.unavailable(action, what, err)
  log.error(what, { mod = "services.throttle", err = err })
  return nil, errors.new("unavailable", action .. " is paused because attempts cannot be counted"
    .. " right now, try again shortly", { retry_after = UNAVAILABLE_RETRY_SECONDS })
end

return M
