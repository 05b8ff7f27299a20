--- Attempt throttling without hard lockout: after `free_failures` failures inside a
-- window, each further attempt waits 2^(extra failures) seconds after the last
-- failure, capped at `max_delay_seconds`. Pure arithmetic; counters live in the
-- database.
local M = {}

--- Seconds a caller must still wait, 0 when an attempt may go ahead.
-- @param counter { failures, window_started_at, last_failure_at } or nil
-- @param rule { free_failures, window_seconds, max_delay_seconds }
-- @param now whole seconds
function M.retry_after(counter, rule, now)
  if not counter or now - counter.window_started_at >= rule.window_seconds then
    return 0
  end
  local extra = counter.failures - rule.free_failures
  if extra < 0 then
    return 0
  end
  local delay = math.min(2 ^ extra, rule.max_delay_seconds)
  local wait = math.ceil(counter.last_failure_at + delay - now)
  return wait > 0 and math.tointeger(wait) or 0
end

--- The counter after one more failure at `now` (a new window when the old one ended).
function M.record_failure(counter, rule, now)
  if not counter or now - counter.window_started_at >= rule.window_seconds then
    return { failures = 1, window_started_at = now, last_failure_at = now }
  end
  return {
    failures = counter.failures + 1,
    window_started_at = counter.window_started_at,
    last_failure_at = now,
  }
end

return M
