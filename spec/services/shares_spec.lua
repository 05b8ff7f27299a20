-- services.shares on the shared spec database: what a share serves, its policy and
-- passwords (the HTTP side is spec/api/shares_spec.lua), and F6: the media job's
-- thumbnails and previews, which shares hand out, carry no EXIF (so no GPS) even when
-- the original has it.
local assets_repo = require("repositories.assets")
local fixtures = require("helpers.fixtures")
local jobs = require("services.jobs")
local media = require("services.media")
local shares = require("services.shares")

local PASSWORD = "a long share password"
local VISITOR = { ip = "198.51.100.7" }

describe("services.shares", function()
  local owner

  setup(function()
    owner = fixtures.user("svc-shares")
  end)

  teardown(function()
    core.db.exec("DELETE FROM jobs")
    fixtures.cleanup()
  end)

  local function ready_asset(fields)
    local f = { status = "ready" }
    for k, v in pairs(fields or {}) do
      f[k] = v
    end
    return fixtures.asset(owner, f)
  end

  it("makes a token that opens the share, and a list entry that gives it again", function()
    local asset = ready_asset()
    local share = assert(shares.create(owner, { asset_id = asset.id }))
    local shown = shares.present(share)
    assert.equal("active", shown.state)
    local opened = assert(shares.open(shown.token, nil, {}, VISITOR))
    assert.equal("asset", opened.share.type)
    assert.equal(asset.id, core.json.decode(core.json.encode(opened.asset)).id)
  end)

  it("answers not_found for a trashed, foreign or unfinished asset", function()
    local other = fixtures.user("svc-shares")
    for _, asset in ipairs({ ready_asset({ deleted_at = "2024-01-01T00:00:00.000Z" }),
      fixtures.asset(owner), fixtures.asset(other, { status = "ready" }) }) do
      local share, err = shares.create(owner, { asset_id = asset.id })
      assert.is_nil(share)
      assert.equal("not_found", err.code)
    end
  end)

  it("counts one view per visitor address, however many times it opens the share", function()
    local share = shares.present(assert(shares.create(owner, { asset_id = ready_asset().id })))
    for _ = 1, 3 do
      assert(shares.open(share.token, nil, {}, VISITOR))
    end
    assert(shares.open(share.token, nil, {}, { ip = "198.51.100.8" }))
    -- a later page is no new visit
    assert(shares.open(share.token, nil, { cursor = "x" }, { ip = "198.51.100.9" }))
    local row = core.db.query("SELECT view_count FROM shares WHERE id = ?", share.id)[1]
    assert.equal(2, row.view_count)
  end)

  it("unlocks with the right password only, and the session follows the password", function()
    local share = shares.present(assert(shares.create(owner, { asset_id = ready_asset().id,
      password = PASSWORD })))
    local _, locked = shares.open(share.token, nil, {}, VISITOR)
    assert.equal("share_locked", locked.code)
    local _, wrong = shares.unlock(share.token, "nope nope nope", { ip = "192.0.2.1" })
    assert.equal("invalid_share_password", wrong.code)
    local result = assert(shares.unlock(share.token, PASSWORD, { ip = "192.0.2.2" }))
    assert.truthy(shares.open(share.token, result.share_session, {}, VISITOR))
    assert(shares.update(owner, share.id, { password = PASSWORD }))
    local _, again = shares.open(share.token, result.share_session, {}, VISITOR)
    assert.equal("share_locked", again.code)
    local _, no_password = shares.unlock(shares.present(assert(shares.create(owner,
      { asset_id = ready_asset().id }))).token, PASSWORD, { ip = "192.0.2.3" })
    assert.equal("no_password", no_password.code)
  end)

  if core.storage.backend() == "local" and os.execute("command -v exiftool >/dev/null") then
    it("re-encodes thumbnails and previews without the original's GPS EXIF (F6)", function()
      core.db.exec("DELETE FROM jobs")
      local dir = os.tmpname()
      os.remove(dir)
      local path = dir .. ".jpg"
      assert(os.execute("cp spec/fixtures/gradient-3000x2000.jpg " .. path))
      assert(os.execute("exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N"
        .. " -GPSLongitude=2.2945 -GPSLongitudeRef=E " .. path))
      local file = assert(io.open(path, "rb"))
      local bytes = file:read("a")
      file:close()
      os.remove(path)
      assert.is_near(48.8584, core.image.exif(bytes).gps_latitude, 0.001)
      local asset = ready_asset({ size_bytes = #bytes })
      fixtures.put(asset.storage_key_original, bytes)
      media.asset_ready(asset)
      assert.is_true(jobs.run_one())
      local row = assets_repo.find_owned(asset.id, owner.id)
      assert.is_near(48.8584, row.gps_latitude, 0.001)
      for _, key in ipairs({ row.storage_key_thumb, row.storage_key_preview }) do
        local derived = assert(fixtures.stored(key))
        local exif = core.image.exif(derived)
        assert.is_true(exif == nil or exif.gps_latitude == nil, key)
        assert.is_nil(derived:find("GPS", 1, true))
      end
      -- and the share's own view of the asset leaves the position out
      local share = shares.present(assert(shares.create(owner, { asset_id = asset.id })))
      local opened = core.json.decode(core.json.encode(assert(shares.open(share.token, nil, {}, VISITOR)).asset))
      assert.is_nil(opened.gps_latitude)
    end)
  end

  -- the media job reads the original in this process, as the F6 spec above does
  if core.storage.backend() == "local" then
    it("reads again (migration 0013) what download shares offer that was read before locations", function()
      core.db.exec("DELETE FROM jobs")
      local photo = ready_asset({ size_bytes = 0 })
      local fixture = assert(io.open("spec/fixtures/gradient-400x300.jpg", "rb"))
      local bytes = fixture:read("a")
      fixture:close()
      core.db.exec("UPDATE assets SET size_bytes = ? WHERE id = ?", #bytes, photo.id)
      fixtures.put(photo.storage_key_original, bytes)
      local unshared = ready_asset()
      -- as the media job left them before location_read existed
      core.db.exec("UPDATE assets SET media_status = 'ready', location_read = 0 WHERE id IN (?, ?)",
        photo.id, unshared.id)
      local share = shares.present(assert(shares.create(owner, { asset_id = photo.id, allow_download = true })))
      local _, err = shares.download_url(share.token, nil, {})
      assert.equal("location_withheld", err.code)

      local file = assert(io.open("migrations/0013_reread_shared_locations.sqlite.sql"))
      local sql = file:read("a"):gsub("%-%-[^\n]*\n", "")
      file:close()
      assert(core.db.exec(sql))
      -- (other specs' shares on this database may get jobs too: only these two matter)
      local function queued_for(asset)
        return core.db.query("SELECT payload FROM jobs WHERE state = 'queued' AND payload LIKE ?",
          "%" .. asset.id .. "%")
      end
      local queued = queued_for(photo)
      assert.equal(1, #queued)
      assert.same({ asset_id = photo.id, owner_id = owner.id }, core.json.decode(queued[1].payload))
      assert.equal(0, #queued_for(unshared))
      core.db.exec("DELETE FROM jobs WHERE payload NOT LIKE ?", "%" .. photo.id .. "%")
      assert.is_true(jobs.run_one())
      assert.equal(1, assets_repo.find_owned(photo.id, owner.id).location_read)
      assert.truthy(shares.download_url(share.token, nil, {}))
    end)
  end
end)
