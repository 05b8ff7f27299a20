local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")
local shares_repo = require("repositories.shares")

describe("repositories.shares", function()
  local owner, other

  setup(function()
    owner = fixtures.user("repo-shares")
    other = fixtures.user("repo-shares")
  end)

  teardown(function()
    fixtures.cleanup()
  end)

  local function share(fields)
    local asset = fixtures.asset(owner, { status = "ready" })
    local row = { id = ids.uuid(), owner_id = owner.id, token_salt = "salt",
      token_hash = core.crypto.sha256_hex(ids.uuid()), asset_id = asset.id,
      created_at = core.time.iso8601() }
    for k, v in pairs(fields or {}) do
      row[k] = v
    end
    assert.is_true(shares_repo.insert(row))
    return row
  end

  it("finds a share by token hash with its owner's library_version, only for active owners", function()
    local s = share()
    local found = shares_repo.find_by_token_hash(s.token_hash)
    assert.equal(s.id, found.id)
    assert.equal("integer", math.type(found.library_version))
    assert.is_nil(shares_repo.find_by_token_hash(core.crypto.sha256_hex("other")))
    local carol = fixtures.user("repo-shares")
    local asset = fixtures.asset(carol, { status = "ready" })
    local hers = { id = ids.uuid(), owner_id = carol.id, token_salt = "s",
      token_hash = core.crypto.sha256_hex(ids.uuid()), asset_id = asset.id, created_at = "t" }
    shares_repo.insert(hers)
    core.db.exec("UPDATE users SET is_active = 0 WHERE id = ?", carol.id)
    assert.is_nil(shares_repo.find_by_token_hash(hers.token_hash))
  end)

  it("refuses a share of both an asset and an album, or of neither", function()
    local album = { id = ids.uuid() }
    core.db.exec("INSERT INTO albums (id, owner_id, title, created_at, updated_at) VALUES (?, ?, 'x', 't', 't')",
      album.id, owner.id)
    assert.is_nil(shares_repo.insert({ id = ids.uuid(), owner_id = owner.id, token_salt = "s",
      token_hash = "h1", asset_id = fixtures.asset(owner).id, album_id = album.id, created_at = "t" }))
    assert.is_nil(shares_repo.insert({ id = ids.uuid(), owner_id = owner.id, token_salt = "s",
      token_hash = "h2", created_at = "t" }))
  end)

  it("bumps the password version when the password changes, and only then", function()
    local s = share()
    local function version()
      return shares_repo.find_owned(s.id, owner.id).password_version
    end
    assert.equal(1, shares_repo.update(s.id, owner.id, { allow_download = true }, "t"))
    assert.equal(0, version())
    assert.equal(1, shares_repo.update(s.id, owner.id, { password_hash = "hash" }, "t"))
    assert.equal(1, version())
    assert.equal(1, shares_repo.update(s.id, owner.id, { password_hash = false }, "t"))
    assert.equal(2, version())
    local row = shares_repo.find_owned(s.id, owner.id)
    assert.is_nil(row.password_hash)
    assert.equal(1, row.allow_download)
  end)

  it("sets and clears the expiry", function()
    local s = share()
    shares_repo.update(s.id, owner.id, { expires_at = "2030-01-01T00:00:00.000Z" }, "t")
    assert.equal("2030-01-01T00:00:00.000Z", shares_repo.find_owned(s.id, owner.id).expires_at)
    shares_repo.update(s.id, owner.id, {}, "t")
    assert.equal("2030-01-01T00:00:00.000Z", shares_repo.find_owned(s.id, owner.id).expires_at)
    shares_repo.update(s.id, owner.id, { expires_at = false }, "t")
    assert.is_nil(shares_repo.find_owned(s.id, owner.id).expires_at)
  end)

  it("changes, revokes and lists only the owner's shares; revoked ones stay revoked", function()
    local s = share()
    assert.is_nil(shares_repo.find_owned(s.id, other.id))
    assert.is_nil(shares_repo.find_owned_by_token_hash(s.token_hash, other.id))
    assert.equal(0, shares_repo.update(s.id, other.id, { allow_download = true }, "t"))
    assert.equal(0, shares_repo.revoke(s.id, other.id, "t"))
    assert.same({}, shares_repo.list_owned(other.id, 10))
    assert.equal(1, shares_repo.revoke(s.id, owner.id, "t1"))
    assert.equal(0, shares_repo.revoke(s.id, owner.id, "t2"))
    assert.equal(0, shares_repo.update(s.id, owner.id, { allow_download = true }, "t"))
    assert.equal("t1", shares_repo.find_owned_by_token_hash(s.token_hash, owner.id).revoked_at)
  end)

  it("counts views", function()
    local s = share()
    shares_repo.record_view(s.id, "t1")
    shares_repo.record_view(s.id, "t2")
    local row = shares_repo.find_owned(s.id, owner.id)
    assert.equal(2, row.view_count)
    assert.equal("t2", row.last_viewed_at)
  end)

  it("goes with the asset it shares", function()
    local s = share()
    core.db.exec("DELETE FROM assets WHERE id = ?", s.asset_id)
    assert.is_nil(shares_repo.find_owned(s.id, owner.id))
  end)
end)
