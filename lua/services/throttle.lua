--- Attempt throttling over several counters at once (login: per IP, account and both;
-- share passwords: per share and per IP), with the rules of domain/throttle.lua and
-- the counters of repositories/throttle.lua.
local repositories = require("repositories")
local throttle = require("domain.throttle")
local throttle_repo = require("repositories.throttle")

local M = {}

--- Seconds to wait before another attempt: the longest of the counters.
-- @param keys { kind = counter key }
-- @param rules { kind = { free_failures, window_seconds, max_delay_seconds } }
-- @return seconds (0: go ahead) | nil, err
function M.wait(keys, rules, now)
  local wait = 0
  for kind, key in pairs(keys) do
    local counter, err = throttle_repo.find(key)
    if err then
      return nil, err
    end
    wait = math.max(wait, throttle.retry_after(counter, rules[kind], now))
  end
  return wait
end

--- Count one failure on every counter, in one transaction.
-- @return true | nil, err
function M.record_failure(keys, rules, now)
  return repositories.transaction(function()
    for kind, key in pairs(keys) do
      local counter, err = throttle_repo.find(key)
      if err then
        return nil, err
      end
      local ok, save_err = throttle_repo.save(key, throttle.record_failure(counter, rules[kind], now))
      if not ok then
        return nil, save_err
      end
    end
    return true
  end)
end

return M
