-- services.schedule: periodic jobs offered by every worker VM, queued once per period
-- by the queue's unique (kind, period) slot, on the shared spec database.
local fixtures = require("helpers.fixtures")

local HOUR = 3600

local function periodic_rows()
  return core.db.query("SELECT kind, schedule_slot, state FROM jobs"
    .. " WHERE schedule_slot IS NOT NULL ORDER BY kind, schedule_slot")
end

describe("services.schedule", function()
  before_each(function()
    core.db.exec("DELETE FROM jobs")
  end)

  teardown(function()
    core.db.exec("DELETE FROM jobs")
  end)

  -- a fresh copy of the module: what another worker VM has
  local function another_worker()
    return fixtures.load_with("services.schedule", {})
  end

  it("queues each periodic task once per period, however many workers offer it", function()
    local now = 1800000000 + 5 * 60   -- 5 minutes into a day that starts at 1799971200
    local first, second = another_worker(), another_worker()
    assert.equal(2, first.offer_due(now))
    assert.equal(0, first.offer_due(now + 1))    -- this VM remembers what it offered
    assert.equal(0, second.offer_due(now + 2))   -- another VM is turned down by the queue
    assert.same({
      { kind = "housekeeping", schedule_slot = "2027-01-15T08:05:00.000Z", state = "queued" },
      { kind = "integrity.scrub", schedule_slot = "2027-01-15T00:00:00.000Z", state = "queued" },
    }, periodic_rows())
  end)

  it("queues the next period's job when the period turns", function()
    local now = 1800000000
    local worker = another_worker()
    worker.offer_due(now)
    assert.equal(1, worker.offer_due(now + core.config.housekeeping_interval_seconds))
    assert.equal(2, another_worker().offer_due(now + 24 * HOUR))   -- a day later: both
    local kinds = {}
    for _, row in ipairs(periodic_rows()) do
      kinds[row.kind] = (kinds[row.kind] or 0) + 1
    end
    assert.same({ housekeeping = 3, ["integrity.scrub"] = 2 }, kinds)
  end)

  it("offers again later when the database refused the offer", function()
    local failing = true
    local offers = 0
    local worker = fixtures.load_with("services.schedule", {
      ["core.log"] = { error = function() end },
      ["services.jobs"] = { enqueue_periodic = function()
        offers = offers + 1
        if failing then
          return nil, "database is locked"
        end
        return true
      end },
    })
    assert.equal(0, worker.offer_due(1800000000))
    failing = false
    assert.equal(2, worker.offer_due(1800000001))
    assert.equal(0, worker.offer_due(1800000002))
    assert.equal(4, offers)
  end)
end)
