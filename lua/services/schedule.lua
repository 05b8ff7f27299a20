--- The schedule of periodic jobs: housekeeping every HOUSEKEEPING_INTERVAL_SECONDS and
-- the integrity scrub every SCRUB_INTERVAL_SECONDS. Periods are aligned on the Unix
-- epoch (a daily scrub's period starts at 00:00 UTC). Each worker offers the current
-- period's jobs before it looks for work, and the queue takes one job per kind and
-- period, so however many workers (on however many machines) share the queue, each
-- task runs once per period. A period in which no worker ran is skipped.
local config = require("core.config")
local log = require("core.log")
local clock = require("infra.clock")
local jobs = require("services.jobs")

local M = {}

-- kind -> the core.config field holding its period in seconds
local PERIODIC = {
  { kind = "housekeeping", every = "housekeeping_interval_seconds" },
  { kind = "integrity.scrub", every = "scrub_interval_seconds" },
}

-- kind -> the start of the period this VM last offered (a cache: losing it costs one
-- more offer, which the queue turns down)
local offered = {}

--- Offer the current period's job of every periodic task (at most one database write
-- per task and period in each VM).
-- @param now seconds (default: the clock)
-- @return number of jobs queued by this call
function M.offer_due(now)
  now = now or clock.now()
  local queued = 0
  for _, task in ipairs(PERIODIC) do
    local every = config[task.every]
    local start = now - now % every
    if offered[task.kind] ~= start then
      local added, err = jobs.enqueue_periodic(task.kind, clock.iso(start))
      if added == nil then
        log.error("periodic job not queued", { mod = "services.schedule", kind = task.kind,
          err = err })
      else
        offered[task.kind] = start
        queued = queued + (added and 1 or 0)
      end
    end
  end
  return queued
end

return M
