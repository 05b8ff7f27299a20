--- The housekeeping job, queued once per HOUSEKEEPING_INTERVAL_SECONDS by
-- services.schedule: one round of services.housekeeping.
local housekeeping = require("services.housekeeping")

local M = {}

--- Run one round. @return true
function M.run()
  housekeeping.run()
  return true
end

--- Nothing to tell anyone: the next period runs another round.
function M.failed()
end

return M
