--- The integrity.scrub job, queued once per SCRUB_INTERVAL_SECONDS by services.schedule
-- (and again by itself when a period's sample takes longer than one job may run).
local integrity = require("services.integrity")

local M = {}

--- Run (part of) a scrub. @return true | nil, reason
function M.run(payload)
  local found, err = integrity.scrub(payload)
  if not found then
    return nil, err
  end
  return true
end

--- Nothing to undo: every original checked so far is recorded on its asset, and the
-- next period goes on from the ones checked longest ago.
function M.failed()
end

return M
