--- The job this worker process is running, through core.worker: one slot shared by the
-- process's threads, so the lease heartbeat (its own thread and VM) can find the job
-- the runner's thread is busy with.
local worker = require("core.worker")

local M = {}

--- Record the job being run and the lease owner it was claimed as.
function M.set(job_id, owner)
  worker.set_current_job(job_id, owner)
end

--- Forget it: the job's handler returned.
function M.clear()
  worker.set_current_job(nil)
end

--- The job being run.
-- @return job_id, owner | nil when none is
function M.get()
  return worker.current_job()
end

return M
