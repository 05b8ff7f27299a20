--- The media.process job: derivatives and metadata for one asset.
local media = require("services.media")

local M = {}

--- Run the job. @return true | nil, reason
function M.run(payload)
  return media.process(payload)
end

--- Called once when the job has failed for good.
function M.failed(payload, reason)
  media.process_failed(payload, reason)
end

return M
