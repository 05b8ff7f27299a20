--- Readiness of the service's dependencies.
local log = require("core.log")
local repositories = require("repositories")

local M = {}

--- Whether the database answers.
-- @return true | nil
function M.ready()
  local ok, err = repositories.ping()
  if not ok then
    log.error("database not ready", { mod = "services.health", err = err })
    return nil
  end
  return true
end

return M
