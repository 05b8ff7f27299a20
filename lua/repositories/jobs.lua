--- SQL for the jobs table: the durable queue.
local db = require("core.db")

local M = {}

--- Insert a queued job.
-- @param job { id, kind, payload (JSON text), run_after, created_at }
-- @return true | nil, err
function M.insert(job)
  local ok, err = db.exec("INSERT INTO jobs (id, kind, payload, state, attempts, run_after,"
    .. " created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)",
    job.id, job.kind, job.payload, job.run_after, job.created_at, job.created_at)
  if not ok then
    return nil, err
  end
  return true
end

--- Insert the job of one period of a periodic task, unless that period has one.
-- @param job { id, kind, payload (JSON text), schedule_slot, run_after, created_at }
-- @return true (inserted) | false (the period had its job) | nil, err
function M.insert_periodic(job)
  local count, err = db.exec("INSERT INTO jobs (id, kind, payload, state, attempts, run_after,"
    .. " schedule_slot, created_at, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?)"
    .. " ON CONFLICT DO NOTHING",
    job.id, job.kind, job.payload, job.run_after, job.schedule_slot, job.created_at,
    job.created_at)
  if not count then
    return nil, err
  end
  return count > 0
end

--- Claim the next job that is due, or one whose lease ran out (its worker died), in
-- one statement: two workers can never claim the same job.
-- @return { id, kind, payload, attempts } | nil when there is none | nil, err
function M.claim(owner, now_iso, lease_until_iso)
  local rows, err = db.query("UPDATE jobs SET state = 'running', lease_owner = ?,"
    .. " lease_expires_at = ?, attempts = attempts + 1, updated_at = ?"
    .. " WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= ?)"
    .. " OR (state = 'running' AND lease_expires_at < ?) ORDER BY run_after LIMIT 1)"
    .. " RETURNING id, kind, payload, attempts",
    owner, lease_until_iso, now_iso, now_iso, now_iso)
  if not rows then
    return nil, err
  end
  return rows[1]
end

--- Extend a running job's lease to `lease_until_iso` (only while `owner` holds it).
-- @return rows changed (0: the job finished, or another worker took it) | nil, err
function M.renew(id, owner, lease_until_iso)
  return db.exec("UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ?"
    .. " AND state = 'running'", lease_until_iso, id, owner)
end

--- Mark a job done (only by the worker holding its lease).
-- @return rows changed | nil, err
function M.complete(id, owner, now_iso)
  return db.exec("UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires_at = NULL,"
    .. " last_error = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?", now_iso, id, owner)
end

--- Put a job back in the queue for later, or fail it for good when `retry_at` is nil.
-- @return rows changed | nil, err
function M.fail(id, owner, last_error, retry_at, now_iso)
  return db.exec("UPDATE jobs SET state = ?, run_after = coalesce(?, run_after),"
    .. " lease_owner = NULL, lease_expires_at = NULL, last_error = ?, updated_at = ?"
    .. " WHERE id = ? AND lease_owner = ?", retry_at and "queued" or "failed", retry_at,
    last_error, now_iso, id, owner)
end

--- Counts by kind and state.
-- @return rows { kind, state, count } | nil, err
function M.stats()
  return db.query("SELECT kind, state, count(*) AS count FROM jobs GROUP BY kind, state"
    .. " ORDER BY kind, state")
end

--- Forget finished jobs last changed before `before_iso`.
-- @return rows deleted | nil, err
function M.delete_done_before(before_iso)
  return db.exec("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", before_iso)
end

return M
