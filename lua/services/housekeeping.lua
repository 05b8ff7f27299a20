--- Periodic clean-up, run by the serve process's timer: uploads never finished,
-- trashed assets past the retention period, staging objects a replayed upload URL may
-- have written after finalize, expired refresh tokens, idle throttling counters and
-- change-feed entries past their retention. Every step is safe when several
-- processes run it at once (a row handled by one is simply gone for the others).
local log = require("core.log")
local assets = require("services.assets")
local auth = require("services.auth")
local clock = require("infra.clock")
local uploads = require("services.uploads")

local M = {}

--- One round of clean-up.
-- @return { stale_uploads = n, expired_trash = n, swept_objects = n, expired_sessions = n,
--   old_changes = n }
function M.run()
  local now = clock.now()
  local result = {
    stale_uploads = uploads.clean_stale(now),
    expired_trash = assets.purge_expired_trash(now),
    swept_objects = assets.sweep_due(now),
    expired_sessions = auth.prune(now).sessions,
    old_changes = assets.prune_changes(now),
  }
  for _, count in pairs(result) do
    if count > 0 then
      log.info("housekeeping", { mod = "services.housekeeping", stale_uploads = result.stale_uploads,
        expired_trash = result.expired_trash, swept_objects = result.swept_objects,
        expired_sessions = result.expired_sessions, old_changes = result.old_changes })
      break
    end
  end
  return result
end

return M
