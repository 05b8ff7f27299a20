--- /api/v1/jobs: queue statistics for operators.
local respond = require("api.respond")
local jobs = require("services.jobs")

return {
  {
    method = "GET",
    path = "/api/v1/jobs/stats",
    auth = "user",
    tag = "jobs",
    summary = "Jobs by kind and state (operators listed in config/policy.lua only)",
    responses = {
      [200] = { description = "`{kind: {state: count}}`" },
      [403] = { description = "Not an operator" },
    },
    handler = function(req)
      local stats, err = jobs.stats(req.user)
      if not stats then
        return respond.error(err)
      end
      return respond.json(200, { jobs = stats })
    end,
  },
}
