--- Readiness: GET /readyz answers 200 when the Lua app and the database answer.
-- (/healthz, "the process is alive", is answered by the core without Lua.)
local errors = require("domain.errors")
local respond = require("api.respond")
local health = require("services.health")

return {
  {
    method = "GET",
    path = "/readyz",
    auth = "none",
    tag = "health",
    summary = "Ready to serve: the database answers",
    responses = { [200] = { description = "Ready" }, [503] = { description = "Not ready" } },
    handler = function()
      local ok = health.ready()
      if not ok then
        return respond.error(errors.unavailable("database unavailable"))
      end
      return respond.json(200, { status = "ready" })
    end,
  },
}
