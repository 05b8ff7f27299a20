-- services.jobs: lease renewal by the worker's heartbeat, on the shared spec database.
local clock = require("infra.clock")
local config = require("core.config")
local current_job = require("infra.current_job")
local jobs = require("services.jobs")
local jobs_repo = require("repositories.jobs")

local function job_row(id)
  return core.db.query("SELECT state, lease_owner, lease_expires_at FROM jobs WHERE id = ?", id)[1]
end

-- A housekeeping job claimed by `owner` with a lease of a second.
local function claimed_job(owner)
  assert(jobs.enqueue("housekeeping", {}))
  local now = clock.now() + 1   -- past the job's run_after, which has milliseconds
  return assert(jobs_repo.claim(owner, clock.iso(now), clock.iso(now + 1)))
end

describe("services.jobs", function()
  before_each(function()
    core.db.exec("DELETE FROM jobs")   -- leftovers of other specs are not ours to run
  end)

  after_each(function()
    current_job.clear()
  end)

  teardown(function()
    core.db.exec("DELETE FROM jobs")
  end)

  it("renews nothing while no job runs", function()
    assert.is_false(jobs.renew_lease())
  end)

  it("extends the lease of the running job by JOB_LEASE_SECONDS from now", function()
    local job = claimed_job("worker-here")
    local before = job_row(job.id).lease_expires_at
    current_job.set(job.id, "worker-here")
    assert.is_true(jobs.renew_lease())
    local row = job_row(job.id)
    assert.equal("worker-here", row.lease_owner)
    assert.is_true(row.lease_expires_at > before)
    assert.is_true(clock.parse(row.lease_expires_at) >= clock.now() + config.job_lease_seconds - 1)
  end)

  it("leaves alone a lease another worker took over, and a finished job", function()
    local job = claimed_job("worker-here")
    -- the lease ran out and another worker claimed the job
    local taken = jobs_repo.claim("worker-there", clock.iso(clock.now() + 3),
      clock.iso(clock.now() + 60))
    assert.equal(job.id, taken.id)
    local lease = job_row(job.id).lease_expires_at
    current_job.set(job.id, "worker-here")
    assert.is_false(jobs.renew_lease())
    local row = job_row(job.id)
    assert.same({ "worker-there", lease }, { row.lease_owner, row.lease_expires_at })

    assert.equal(1, jobs_repo.complete(job.id, "worker-there", clock.iso()))
    current_job.set(job.id, "worker-there")
    assert.is_false(jobs.renew_lease())
    assert.equal("done", job_row(job.id).state)
  end)

  it("names the job to the heartbeat while its handler runs, and only then", function()
    local seen
    package.loaded["jobs.housekeeping"] = {
      run = function()
        seen = { current_job.get() }
        return true
      end,
    }
    local ok, err = pcall(function()
      assert(jobs.enqueue("housekeeping", {}))
      assert.is_true(jobs.run_one("worker-here"))
    end)
    package.loaded["jobs.housekeeping"] = nil
    assert(ok, err)
    local job = core.db.query("SELECT id, state, attempts FROM jobs")[1]
    assert.same({ job.id, "worker-here" }, seen)
    assert.same({ "done", 1 }, { job.state, job.attempts })
    assert.is_nil(current_job.get())
  end)
end)
