--- Periodic clean-up, run by the housekeeping job (queued once per
-- HOUSEKEEPING_INTERVAL_SECONDS by services.schedule): uploads never finished, trashed
-- assets past the retention period, staging objects a replayed upload URL may have
-- written after finalize, expired refresh tokens, idle throttling counters, change-feed
-- entries past their retention, and finished jobs older than a week. Every step is also
-- safe when several processes run it at once (a row handled by one is simply gone for
-- the others).
local log = require("core.log")
local assets = require("services.assets")
local auth = require("services.auth")
local clock = require("infra.clock")
local jobs_repo = require("repositories.jobs")
local uploads = require("services.uploads")

local M = {}

-- finished jobs are kept this long (the periodic ones alone add one a period)
local DONE_JOBS_KEPT_SECONDS = 7 * 86400

-- Deletes finished jobs past their keeping time; a failure is logged, and the next
-- round tries again.
local function prune_finished_jobs(now)
  local count, err = jobs_repo.delete_done_before(clock.iso(now - DONE_JOBS_KEPT_SECONDS))
  if not count then
    log.error("finished jobs not pruned", { mod = "services.housekeeping", err = err })
    return 0
  end
  return count
end

--- One round of clean-up.
-- @return { stale_uploads = n, expired_trash = n, swept_objects = n, expired_sessions = n,
--   finished_jobs = n, old_changes = n }
function M.run()
  local now = clock.now()
  local result = {
    stale_uploads = uploads.clean_stale(now),
    expired_trash = assets.purge_expired_trash(now),
    swept_objects = assets.sweep_due(now),
    expired_sessions = auth.prune(now).sessions,
    finished_jobs = prune_finished_jobs(now),
    old_changes = assets.prune_changes(now),
  }
  for _, count in pairs(result) do
    if count > 0 then
      log.info("housekeeping", { mod = "services.housekeeping", stale_uploads = result.stale_uploads,
        expired_trash = result.expired_trash, swept_objects = result.swept_objects,
        expired_sessions = result.expired_sessions, finished_jobs = result.finished_jobs,
        old_changes = result.old_changes })
      break
    end
  end
  return result
end

return M
