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

-- The 16-bit groups of a colon-separated list ("2001:db8"), or nil when one is not hex.
local function hex_groups(list)
  local groups = {}
  if list == "" then
    return groups
  end
  for group in (list .. ":"):gmatch("(.-):") do
    if not group:match("^%x%x?%x?%x?$") then
      return nil
    end
    groups[#groups + 1] = tonumber(group, 16)
  end
  return groups
end

-- The eight 16-bit groups of an IPv6 address in text ("2001:db8::1"), or nil.
local function ipv6_groups(text)
  local head, tail = text:match("^(.-)::(.*)$")
  local groups, after = hex_groups(head or text), hex_groups(tail or "")
  if not groups or not after then
    return nil
  end
  local missing = 8 - #groups - #after
  if (tail and missing < 1) or (not tail and missing ~= 0) then
    return nil
  end
  for _ = 1, missing do
    groups[#groups + 1] = 0
  end
  table.move(after, 1, #after, #groups + 1, groups)
  return groups
end

--- The part of a client address that throttling counts by: an IPv4 address as it is,
-- an IPv6 address by its /64 network (one subscriber's usual allocation, so rotating
-- through it gains nothing); an IPv4-mapped IPv6 address as its IPv4 address.
function M.address_key(ip)
  local mapped = ip:match("^::[fF][fF][fF][fF]:(%d+%.%d+%.%d+%.%d+)$")
  if mapped then
    return mapped
  end
  local groups = ip:find(":", 1, true) and ipv6_groups(ip)
  if not groups then
    return ip
  end
  return string.format("%x:%x:%x:%x::/64", groups[1], groups[2], groups[3], groups[4])
end

return M
