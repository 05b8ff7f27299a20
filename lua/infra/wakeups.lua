--- Wake-ups for idle workers over Redis: whoever queues jobs pushes a token on a list
-- and an idle worker blocks on it (BLPOP), so a job starts at once instead of at the
-- next poll. Only a signal: the jobs table stays the queue, and a lost token costs a
-- poll interval, never a job.
local redis = require("infra.redis")

local M = {}

local KEY = "itcloud:jobs:wake"
-- tokens kept at most: enough to wake every worker, while stale ones stay few
local MAX_TOKENS = 64
-- how much longer than a BLPOP's own wait its reply may take
local WAIT_MARGIN_MS = 1000

--- Whether wake-ups are on (REDIS_URL is set).
function M.enabled()
  return redis.configured()
end

--- Wake one idle worker.
-- @return true | nil, err
function M.notify()
  local length, err = redis.command({ "LPUSH", KEY, "1" })
  if not length then
    return nil, err
  end
  if length > MAX_TOKENS then
    redis.command({ "LTRIM", KEY, 0, MAX_TOKENS - 1 })
  end
  return true
end

--- Wait up to `seconds` (fractions allowed) for a wake-up.
-- @return true when woken, false when the time passed | nil, err
function M.wait(seconds)
  local reply, err = redis.command({ "BLPOP", KEY, string.format("%.3f", seconds) },
    math.ceil(seconds * 1000) + WAIT_MARGIN_MS)
  if err then
    return nil, err
  end
  return reply ~= nil
end

return M
