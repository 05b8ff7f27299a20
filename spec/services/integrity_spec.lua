-- services.integrity: the scrub against real stored originals (on either backend,
-- written and damaged through core.storage) on the shared spec database, whose other
-- assets are set aside as checked, and its report.
local assets_repo = require("repositories.assets")
local fixtures = require("helpers.fixtures")
local integrity = require("services.integrity")

local FAR_FUTURE = "9999-01-01T00:00:00.000Z"

local keys_made = {}

-- A ready asset whose original holds `bytes` (with their real hash and size).
local function original(owner, bytes)
  local asset = fixtures.asset(owner, { status = "ready", size_bytes = #bytes,
    sha256 = core.crypto.sha256_hex(bytes) })
  assert(core.storage.put(asset.storage_key_original, bytes, "image/jpeg"))
  keys_made[#keys_made + 1] = asset.storage_key_original
  return asset
end

local function integrity_of(asset)
  local row = core.db.query("SELECT integrity_status, integrity_checked_at FROM assets"
    .. " WHERE id = ?", asset.id)[1]
  return row.integrity_status, row.integrity_checked_at
end

local function queued_scrubs()
  return core.db.query("SELECT payload FROM jobs WHERE kind = 'integrity.scrub'"
    .. " AND state = 'queued'")
end

-- integrity over stand-ins for what a test watches
local function wired(overrides)
  return fixtures.load_with("services.integrity", overrides)
end

describe("services.integrity", function()
  local owner

  before_each(function()
    core.db.exec("DELETE FROM jobs")
    -- the other specs' originals are not in this store: checked, as far as we care
    core.db.exec("UPDATE assets SET integrity_checked_at = ?, integrity_status = 'ok'"
      .. " WHERE integrity_checked_at IS NULL OR integrity_checked_at < ?", FAR_FUTURE, FAR_FUTURE)
    owner = fixtures.user("svc-integrity")
  end)

  teardown(function()
    for _, key in ipairs(keys_made) do
      core.storage.delete(key)
    end
    core.db.exec("DELETE FROM jobs")
    fixtures.cleanup()
  end)

  it("finds intact originals intact, and reports no problem", function()
    local a = original(owner, "first original " .. core.crypto.random_bytes(64))
    -- larger than a piece of either backend (1 MiB local reads, 8 MiB S3 ranges)
    local b = original(owner, string.rep("x", 9 * 1024 * 1024 + 7))
    local found = integrity.scrub({ remaining = 2 })
    assert.same({ ok = 2, mismatch = 0, missing = 0, remaining = 0 }, found)
    assert.equal("ok", integrity_of(a))
    assert.equal("ok", integrity_of(b))
    local report = wired({ ["infra.policy"] = { is_operator = function() return true end } })
      .report({ id = owner.id })
    assert.equal(0, report.mismatch)
    assert.equal(0, report.missing)
    assert.equal(0, report.unchecked)
    assert.same({}, report.problems)
  end)

  it("records and logs an original whose bytes changed, and one that is gone", function()
    local intact = original(owner, "intact " .. core.crypto.random_bytes(32))
    local corrupt = original(owner, "corrupt " .. core.crypto.random_bytes(32))
    local gone = original(owner, "gone " .. core.crypto.random_bytes(32))
    -- one flipped byte, same size; and a deleted object
    local bytes = assert(core.storage.read(corrupt.storage_key_original, 0, 1000))
    local flipped = bytes:sub(1, 9) .. string.char(bytes:byte(10) ~ 1) .. bytes:sub(11)
    assert(core.storage.put(corrupt.storage_key_original, flipped, "image/jpeg"))
    assert(core.storage.delete(gone.storage_key_original))

    local errors_logged = {}
    local scrub = wired({ ["core.log"] = {
      error = function(msg, fields) errors_logged[#errors_logged + 1] = { msg, fields } end,
      info = function() end,
    } })
    assert.same({ ok = 1, mismatch = 1, missing = 1, remaining = 0 }, scrub.scrub({ remaining = 3 }))
    assert.equal("ok", integrity_of(intact))
    assert.equal("mismatch", integrity_of(corrupt))
    assert.equal("missing", integrity_of(gone))
    table.sort(errors_logged, function(x, y) return x[2].status < y[2].status end)
    assert.same({
      { "original failed its integrity check", { mod = "services.integrity",
        asset_id = corrupt.id, owner_id = owner.id, status = "mismatch" } },
      { "original failed its integrity check", { mod = "services.integrity",
        asset_id = gone.id, owner_id = owner.id, status = "missing" } },
    }, errors_logged)

    local report = wired({ ["infra.policy"] = { is_operator = function() return true end } })
      .report({ id = owner.id })
    assert.is_true(report.mismatch >= 1 and report.missing >= 1)
    local listed = {}
    for _, problem in ipairs(report.problems) do
      listed[problem.asset_id] = problem.status
    end
    assert.same({ corrupt = "mismatch", gone = "missing" },
      { corrupt = listed[corrupt.id], gone = listed[gone.id] })
    assert.is_nil(listed[intact.id])
  end)

  it("takes the originals checked longest ago first, so every one gets its turn", function()
    local never = original(owner, "never checked " .. core.crypto.random_bytes(16))
    local older = original(owner, "checked long ago " .. core.crypto.random_bytes(16))
    local newer = original(owner, "checked lately " .. core.crypto.random_bytes(16))
    assets_repo.set_integrity(older.id, owner.id, "ok", "2001-01-01T00:00:00.000Z")
    assets_repo.set_integrity(newer.id, owner.id, "ok", "2002-01-01T00:00:00.000Z")
    integrity.scrub({ remaining = 1 })
    local _, never_at = integrity_of(never)
    assert.is_not_nil(never_at)
    assert.equal("2001-01-01T00:00:00.000Z", select(2, integrity_of(older)))
    integrity.scrub({ remaining = 1 })
    assert.is_not.equal("2001-01-01T00:00:00.000Z", select(2, integrity_of(older)))
    assert.equal("2002-01-01T00:00:00.000Z", select(2, integrity_of(newer)))
    integrity.scrub({ remaining = 1 })
    assert.is_not.equal("2002-01-01T00:00:00.000Z", select(2, integrity_of(newer)))
  end)

  it("leaves the rest of its sample to a follow-up job when its time is up", function()
    original(owner, "one " .. core.crypto.random_bytes(16))
    original(owner, "two " .. core.crypto.random_bytes(16))
    original(owner, "three " .. core.crypto.random_bytes(16))
    -- a clock that jumps a minute at each reading: the budget (half of the 300 s limit)
    -- runs out after two originals
    local t = 1800000000
    local scrub = wired({ ["infra.clock"] = { now = function()
      t = t + 60
      return t
    end } })
    local found = scrub.scrub({ remaining = 3 })
    assert.equal(3, found.ok + found.remaining)
    assert.is_true(found.remaining >= 1)
    local queued = queued_scrubs()
    assert.equal(1, #queued)
    assert.same({ remaining = found.remaining }, core.json.decode(queued[1].payload))
  end)

  it("records no finding and fails the job when storage cannot be read", function()
    local asset = original(owner, "unreadable " .. core.crypto.random_bytes(16))
    local scrub = wired({ ["infra.storage"] = { sha256 = function()
      return nil, "storage hash failed: s3 get failed: 503 SlowDown"
    end } })
    local found, err = scrub.scrub({ remaining = 1 })
    assert.is_nil(found)
    assert.equal("cannot read an original: storage hash failed: s3 get failed: 503 SlowDown", err)
    assert.is_nil(integrity_of(asset))
    assert.same({}, queued_scrubs())
  end)

  it("lets the next scrub go past an original a scrub died reading", function()
    local fatal = original(owner, "too big to read in time " .. core.crypto.random_bytes(16))
    local next_one = original(owner, "next in line " .. core.crypto.random_bytes(16))
    -- the worker is ended in the middle of the first read (here: the read raises)
    local dying = wired({ ["infra.storage"] = { sha256 = function()
      error("worker ended by its time limit")
    end } })
    assert.has_error(function() dying.scrub({ remaining = 2 }) end)
    local status, at = integrity_of(fatal)
    assert.is_nil(status)                 -- no finding for it ...
    assert.is_string(at)                  -- ... but its turn is taken
    assert.same({ ok = 1, mismatch = 0, missing = 0, remaining = 0 },
      integrity.scrub({ remaining = 1 }))
    assert.equal("ok", integrity_of(next_one))
    assert.is_nil(integrity_of(fatal))
  end)

  it("samples SCRUB_PERCENT of the originals, at least SCRUB_MIN_ORIGINALS, at most all", function()
    local function sample(percent, minimum, total)
      return wired({ ["core.config"] = setmetatable({ scrub_percent = percent,
        scrub_min_originals = minimum }, { __index = core.config }) }).sample_size(total)
    end
    assert.equal(50, sample(5, 0, 1000))
    assert.equal(51, sample(5, 0, 1001))     -- rounded up: a small library is not skipped
    assert.equal(100, sample(5, 100, 1000))
    assert.equal(40, sample(5, 100, 40))
    assert.equal(0, sample(0, 0, 1000))      -- both 0: the scrub is off
    assert.equal(1000, sample(100, 0, 1000))
  end)

  it("shows its report to operators only", function()
    local report, err = integrity.report({ id = owner.id, email = owner.email })
    assert.is_nil(report)
    assert.equal("forbidden", err.code)
  end)
end)
