--- The integrity scrub: each period (SCRUB_INTERVAL_SECONDS, a day by default) it
-- re-reads a sample of the stored originals, those checked longest ago first (never
-- checked before all others), so in time every original is read again. Each goes
-- through SHA-256 in storage's own pieces and is compared with the hash and size
-- recorded at upload; a mismatch or a missing object is logged as an error and kept on
-- the asset for the operators' report, never ignored.
local config = require("core.config")
local log = require("core.log")
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local errors = require("domain.errors")
local policy = require("infra.policy")
local storage = require("infra.storage")
local jobs = require("services.jobs")

local M = {}

local BATCH = 100
local REPORTED_PROBLEMS = 100

--- How many originals one period re-reads out of `total`: SCRUB_PERCENT of them
-- (rounded up), at least SCRUB_MIN_ORIGINALS, at most all.
function M.sample_size(total)
  local share = (total * config.scrub_percent + 99) // 100
  return math.min(total, math.max(share, config.scrub_min_originals))
end

-- Seconds one scrub job may read before it hands the rest of its period to a follow-up
-- job: well inside the wall-clock limit of a job (its worker renews the lease meanwhile).
local function time_budget()
  return math.max(1, config.job_timeout_seconds // 2)
end

-- "ok" | "mismatch" | "missing" for one original | nil, err when storage failed.
local function check(asset)
  local hex, size = storage.sha256(asset.storage_key_original)
  if hex == nil and size == nil then
    return "missing"
  end
  if hex == nil then
    return nil, "cannot read an original: " .. size
  end
  if hex ~= asset.sha256 or size ~= asset.size_bytes then
    return "mismatch"
  end
  return "ok"
end

-- Stores `status` (nil: only the time) on the asset.
-- @return status or true | nil, reason
local function record(asset, status)
  local ok, err = assets_repo.set_integrity(asset.id, asset.owner_id, status, clock.iso())
  if not ok then
    return nil, "cannot record a check: " .. err
  end
  return status or true
end

--- Re-read originals (the integrity.scrub job): a period's sample, or `remaining` of
-- it when a job before ran out of time.
-- @param payload { remaining? }
-- @return { ok, mismatch, missing, remaining } | nil, reason (storage or database
--   unavailable: the job is retried; the original it was reading keeps its last
--   finding and waits for its next turn)
function M.scrub(payload)
  local remaining = math.tointeger(payload.remaining)
  if not remaining then
    local total, err = assets_repo.count_originals()
    if not total then
      return nil, "cannot count originals: " .. err
    end
    remaining = M.sample_size(total)
  end
  local found = { ok = 0, mismatch = 0, missing = 0 }
  local deadline = clock.now() + time_budget()
  while remaining > 0 and clock.now() < deadline do
    local due, err = assets_repo.find_integrity_due(math.min(remaining, BATCH))
    if not due then
      return nil, "cannot list originals: " .. err
    end
    if #due == 0 then
      break
    end
    for _, asset in ipairs(due) do
      if clock.now() >= deadline then
        break
      end
      -- its turn is taken before the read: an original the job dies on (one too large
      -- to read within the job's time limit) waits for its next turn instead of
      -- stopping every scrub after it
      local status, reason = record(asset, nil)
      if status then
        status, reason = check(asset)
      end
      if status then
        status, reason = record(asset, status)
      end
      if not status then
        return nil, reason
      end
      if status ~= "ok" then
        log.error("original failed its integrity check", { mod = "services.integrity",
          asset_id = asset.id, owner_id = asset.owner_id, status = status })
      end
      found[status] = found[status] + 1
      remaining = remaining - 1
    end
  end
  if remaining > 0 then
    local ok, err = jobs.enqueue("integrity.scrub", { remaining = remaining })
    if not ok then
      return nil, "cannot queue the rest of the scrub: " .. err
    end
  end
  found.remaining = remaining
  log.info("integrity scrub", { mod = "services.integrity", ok = found.ok,
    mismatch = found.mismatch, missing = found.missing, remaining = remaining })
  return found
end

--- What the scrubs found: stored originals by status (ok, mismatch, missing,
-- unchecked) and the latest problems, for operators only.
-- @return { originals, ok, mismatch, missing, unchecked, problems = { {asset_id,
--   owner_id, status, checked_at} } } | nil, err (forbidden | unavailable)
function M.report(user)
  if not policy.is_operator(user) then
    return nil, errors.forbidden("forbidden", "only operators may see the integrity report")
  end
  local counts, err = assets_repo.integrity_counts()
  local problems, problems_err = assets_repo.find_integrity_problems(REPORTED_PROBLEMS)
  if not counts or not problems then
    log.error("integrity report failed", { mod = "services.integrity", err = err or problems_err })
    return nil, errors.unavailable()
  end
  local report = { originals = 0, ok = 0, mismatch = 0, missing = 0, unchecked = 0,
    problems = {} }
  for _, row in ipairs(counts) do
    report[row.status] = row.count
    report.originals = report.originals + row.count
  end
  for _, row in ipairs(problems) do
    report.problems[#report.problems + 1] = { asset_id = row.id, owner_id = row.owner_id,
      status = row.integrity_status, checked_at = row.integrity_checked_at }
  end
  return report
end

return M
