-- services.housekeeping: one round with the real services on the shared spec database
-- (its own rows, dated far in the past so they come first), and its wiring over
-- stand-ins.
local assets_repo = require("repositories.assets")
local clock = require("infra.clock")
local fixtures = require("helpers.fixtures")
local housekeeping = require("services.housekeeping")

if core.storage.backend() ~= "local" then
  pending("services.housekeeping specs need STORAGE_BACKEND=local (objects written as files)")
  return
end

local DAY = 86400

local function row(asset)
  return assets_repo.find_owned(asset.id, asset.owner_id)
end

-- An asset with its bytes in the store.
local function stored(owner, fields)
  local asset = fixtures.asset(owner, fields)
  fixtures.put(asset.staging_key or asset.storage_key_original, "bytes of " .. asset.id)
  return asset
end

describe("services.housekeeping", function()
  teardown(function()
    fixtures.cleanup()
  end)

  it("removes stale uploads and expired trash, bytes and rows, and keeps the rest", function()
    local owner = fixtures.user("svc-housekeeping")
    local now = clock.now()
    local stale = stored(owner, { upload_expires_at = "2000-01-01T00:00:00.000Z" })
    local pending = stored(owner, { upload_expires_at = clock.iso(now + 3600) })
    local expired = stored(owner, { status = "ready", deleted_at = "2000-01-01T00:00:00.000Z" })
    local trashed = stored(owner, { status = "ready", deleted_at = clock.iso(now - DAY) })
    local kept = stored(owner, { status = "ready" })

    local result = housekeeping.run()
    assert.is_true(result.stale_uploads >= 1)
    assert.is_true(result.expired_trash >= 1)
    assert.equal("integer", math.type(result.stale_uploads))
    assert.equal("integer", math.type(result.expired_trash))

    assert.is_nil(row(stale))
    assert.is_nil(fixtures.stored(stale.staging_key))
    assert.is_nil(row(expired))
    assert.is_nil(fixtures.stored(expired.storage_key_original))
    for _, asset in ipairs({ pending, trashed, kept }) do
      assert.is_table(row(asset))
      assert.is_string(fixtures.stored(asset.staging_key or asset.storage_key_original))
    end
  end)

  it("finds nothing more to do on the next round", function()
    local owner = fixtures.user("svc-housekeeping")
    stored(owner, { upload_expires_at = "2000-01-01T00:00:00.000Z" })
    stored(owner, { status = "ready", deleted_at = "2000-01-01T00:00:00.000Z" })
    housekeeping.run()
    local again = housekeeping.run()
    assert.same({ 0, 0, 0 }, { again.stale_uploads, again.expired_trash, again.swept_objects })
  end)

  it("runs both steps with one reading of the clock and reports their counts", function()
    local calls = {}
    local wired = fixtures.load_with("services.housekeeping", {
      ["infra.clock"] = { now = function() return 1700000000 end },
      ["services.uploads"] = { clean_stale = function(now)
        calls[#calls + 1] = { "clean_stale", now }
        return 3
      end },
      ["services.assets"] = {
        purge_expired_trash = function(now)
          calls[#calls + 1] = { "purge_expired_trash", now }
          return 2
        end,
        sweep_due = function(now)
          calls[#calls + 1] = { "sweep_due", now }
          return 1
        end,
        prune_changes = function(now)
          calls[#calls + 1] = { "prune_changes", now }
          return 5
        end,
      },
      ["services.auth"] = { prune = function(now)
        calls[#calls + 1] = { "prune", now }
        return { sessions = 4, throttle = 0 }
      end },
    })
    assert.same({ stale_uploads = 3, expired_trash = 2, swept_objects = 1, expired_sessions = 4,
      old_changes = 5 }, wired.run())
    assert.same({ { "clean_stale", 1700000000 }, { "purge_expired_trash", 1700000000 },
      { "sweep_due", 1700000000 }, { "prune", 1700000000 }, { "prune_changes", 1700000000 } }, calls)
  end)

  it("logs a round that removed something, and stays quiet otherwise", function()
    local logged = {}
    local function wired(stale, expired)
      return fixtures.load_with("services.housekeeping", {
        ["core.log"] = { info = function(msg, fields) logged[#logged + 1] = { msg, fields } end },
        ["services.uploads"] = { clean_stale = function() return stale end },
        ["services.assets"] = {
          purge_expired_trash = function() return expired end,
          sweep_due = function() return 0 end,
          prune_changes = function() return 0 end,
        },
        ["services.auth"] = { prune = function() return { sessions = 0, throttle = 0 } end },
      })
    end
    wired(0, 0).run()
    assert.same({}, logged)
    wired(1, 0).run()
    wired(0, 4).run()
    assert.same({
      { "housekeeping", { mod = "services.housekeeping", stale_uploads = 1, expired_trash = 0,
        swept_objects = 0, expired_sessions = 0, old_changes = 0 } },
      { "housekeeping", { mod = "services.housekeeping", stale_uploads = 0, expired_trash = 4,
        swept_objects = 0, expired_sessions = 0, old_changes = 0 } },
    }, logged)
  end)
end)
