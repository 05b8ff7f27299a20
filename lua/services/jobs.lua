--- The job queue: enqueue (inside the caller's transaction), and run one job at a time
-- with a lease, retries with exponential back-off, and a final failure after
-- JOB_MAX_ATTEMPTS that the job's handler is told about.
local config = require("core.config")
local json = require("core.json")
local log = require("core.log")
local clock = require("infra.clock")
local current_job = require("infra.current_job")
local errors = require("domain.errors")
local ids = require("infra.ids")
local jobs_repo = require("repositories.jobs")
local policy = require("infra.policy")
local wakeups = require("infra.wakeups")

local M = {}

-- Job kinds and the modules that run them (jobs/*.lua: run(payload), failed(payload, err)).
local HANDLERS = {
  ["media.process"] = "jobs.media",
  ["housekeeping"] = "jobs.housekeeping",
  ["integrity.scrub"] = "jobs.integrity",
}

-- The name this VM's leases carry (one VM runs one job at a time; the heartbeat, in
-- another VM, renews what current_job names, owner included).
local WORKER_ID = "worker-" .. ids.uuid()

local WORKER_LOST = "the worker running it stopped (a crash, or the memory or time limit)"
local BACKOFF_BASE_SECONDS = 10
local BACKOFF_MAX_SECONDS = 3600

--- Queue a job. Call it inside the transaction that makes it necessary, so the job
-- exists exactly when the change does; then, once that transaction committed, call
-- wake_workers().
-- @return true | nil, err
function M.enqueue(kind, payload)
  if not HANDLERS[kind] then
    error("jobs.enqueue: unknown kind " .. tostring(kind), 2)
  end
  local now = clock.iso()
  return jobs_repo.insert({ id = ids.uuid(), kind = kind, payload = json.encode(payload),
    run_after = now, created_at = now })
end

--- Queue the job of one period (`slot`, e.g. its start time) of a periodic task,
-- unless some worker already queued it: however many offer it, it runs once.
-- @return true (queued now) | false (the period had its job) | nil, err
function M.enqueue_periodic(kind, slot)
  if not HANDLERS[kind] then
    error("jobs.enqueue_periodic: unknown kind " .. tostring(kind), 2)
  end
  local now = clock.iso()
  return jobs_repo.insert_periodic({ id = ids.uuid(), kind = kind, payload = "{}",
    schedule_slot = slot, run_after = now, created_at = now })
end

--- Tell an idle worker that jobs are waiting (with Redis). Call it after the
-- transaction that queued them committed: a worker woken earlier would not see them.
-- Best effort: without Redis, or with Redis down, workers find the jobs at their next
-- poll (infra.redis logs the outage).
function M.wake_workers()
  if wakeups.enabled() then
    wakeups.notify()
  end
end

--- Wait up to `seconds` for wake_workers(), for an idle worker.
-- @return "woken" | "waited" | nil when there is nothing to wait on (no Redis, or
--   Redis down): the worker sleeps instead
function M.wait_for_work(seconds)
  if not wakeups.enabled() then
    return nil
  end
  local woken = wakeups.wait(seconds)
  if woken then
    log.debug("woken for jobs", { mod = "services.jobs", worker = WORKER_ID })
    return "woken"
  end
  return woken == false and "waited" or nil
end

--- Claim and run one due job (as `worker`, default this VM's name).
-- @return true when a job ran (whatever its outcome), false when none was due | nil, err
function M.run_one(worker)
  worker = worker or WORKER_ID
  local now = clock.now()
  local job, err = jobs_repo.claim(worker, clock.iso(), clock.iso(now + config.job_lease_seconds))
  if err then
    return nil, err
  end
  if not job then
    return false
  end
  local handler = require(HANDLERS[job.kind])
  local payload = json.decode(job.payload)
  -- a claim past the last attempt takes over a job whose worker died on that attempt
  -- (a decoder crash, the memory or the time limit): run again, it could kill workers
  -- for ever, so it fails for good here
  local ok, result, reason = true, nil, WORKER_LOST
  if job.attempts <= config.job_max_attempts then
    -- while the handler runs, the worker's heartbeat renews the lease (renew_lease)
    current_job.set(job.id, worker)
    -- a job runner is one of the two places that catch errors (STYLE.md section 4)
    ok, result, reason = pcall(handler.run, payload)
    current_job.clear()
  end
  if ok and result then
    jobs_repo.complete(job.id, worker, clock.iso())
    return true
  end
  local message = ok and tostring(reason or "the job failed") or tostring(result)
  if not ok then
    log.error("job raised", { mod = "services.jobs", job_id = job.id, kind = job.kind, err = message })
  end
  if job.attempts >= config.job_max_attempts then
    jobs_repo.fail(job.id, worker, message, nil, clock.iso())
    pcall(handler.failed, payload, message)
    log.warn("job failed for good", { mod = "services.jobs", job_id = job.id, kind = job.kind,
      attempts = job.attempts })
  else
    local delay = math.min(BACKOFF_BASE_SECONDS * 2 ^ (job.attempts - 1), BACKOFF_MAX_SECONDS)
    jobs_repo.fail(job.id, worker, message, clock.iso(now + math.floor(delay)), clock.iso())
  end
  return true
end

--- Extend the lease of the job this process is running (run_one names it), by
-- JOB_LEASE_SECONDS from now: called by the worker's heartbeat thread every third of
-- that, so a job keeps its lease however long its handler works, and loses it within
-- a lease once its worker is gone.
-- @return true (renewed) | false (no job running, or its lease is no longer ours) | nil, err
function M.renew_lease()
  local job_id, owner = current_job.get()
  if not job_id then
    return false
  end
  local lease_until = clock.iso(clock.now() + config.job_lease_seconds)
  local count, err = jobs_repo.renew(job_id, owner, lease_until)
  if not count then
    log.warn("job lease not renewed", { mod = "services.jobs", job_id = job_id, err = err })
    return nil, err
  end
  if count == 0 and current_job.get() == job_id then
    log.warn("job lease lost: the job is no longer this worker's", { mod = "services.jobs",
      job_id = job_id })
  end
  return count > 0
end

--- Run due jobs until none is left or `max_jobs` have run.
-- @return number of jobs run
function M.run_due(max_jobs)
  local count = 0
  while count < max_jobs do
    local ran, err = M.run_one()
    if not ran then
      if err then
        log.error("job claim failed", { mod = "services.jobs", err = err })
      end
      break
    end
    count = count + 1
  end
  return count
end

--- Counts by kind and state, for operators only.
-- @return { kind = { state = count } } | nil, err (forbidden | unavailable)
function M.stats(user)
  if not policy.is_operator(user) then
    return nil, errors.forbidden("forbidden", "only operators may see job statistics")
  end
  local rows, err = jobs_repo.stats()
  if not rows then
    log.error("job stats failed", { mod = "services.jobs", err = err })
    return nil, errors.unavailable()
  end
  local stats = {}
  for _, row in ipairs(rows) do
    stats[row.kind] = stats[row.kind] or {}
    stats[row.kind][row.state] = row.count
  end
  return stats
end

return M
