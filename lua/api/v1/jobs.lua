--- /api/v1/jobs: queue statistics and the integrity scrub's findings, for operators.
local respond = require("api.respond")
local integrity = require("services.integrity")
local jobs = require("services.jobs")

return {
  {
    method = "GET",
    path = "/api/v1/jobs/stats",
    auth = "user",
    tag = "jobs",
    summary = "Jobs by kind and state, and what the integrity scrub found"
      .. " (operators listed in config/policy.lua only)",
    responses = {
      [200] = { description = "`{jobs: {kind: {state: count}}, integrity: {originals, ok,"
        .. " mismatch, missing, unchecked, problems: [{asset_id, owner_id, status, checked_at}]}}`" },
      [403] = { description = "Not an operator" },
    },
    handler = function(req)
      local stats, err = jobs.stats(req.user)
      if not stats then
        return respond.error(err)
      end
      local report, report_err = integrity.report(req.user)
      if not report then
        return respond.error(report_err)
      end
      report.problems = respond.array(report.problems)
      return respond.json(200, { jobs = stats, integrity = report })
    end,
  },
}
