local albums_repo = require("repositories.albums")
local fixtures = require("helpers.fixtures")
local ids = require("infra.ids")

describe("repositories.albums", function()
  local owner, other

  setup(function()
    owner = fixtures.user("repo-albums")
    other = fixtures.user("repo-albums")
  end)

  teardown(function()
    fixtures.cleanup()
  end)

  local function album(title)
    local row = { id = ids.uuid(), owner_id = owner.id, title = title or "A", description = "",
      created_at = core.time.iso8601() }
    assert.is_true(albums_repo.insert(row))
    return row
  end

  local function ready(sort_at, fields)
    local f = { status = "ready", sort_at = sort_at }
    for k, v in pairs(fields or {}) do
      f[k] = v
    end
    return fixtures.asset(owner, f)
  end

  it("counts only stored assets outside the trash, and covers with the newest of them", function()
    local a = album()
    local old = ready("2020-01-01T00:00:00.000Z")
    local new = ready("2021-01-01T00:00:00.000Z")
    local trashed = ready("2022-01-01T00:00:00.000Z", { deleted_at = "2023-01-01T00:00:00.000Z" })
    local uploading = fixtures.asset(owner)
    assert.equal(4, albums_repo.add_assets(a.id, owner.id, { old.id, new.id, trashed.id, uploading.id }, "t"))
    local row = albums_repo.find_owned(a.id, owner.id)
    assert.equal(2, row.asset_count)
    assert.equal(new.id, row.cover_id)
    assert.equal(1, albums_repo.update(a.id, owner.id, { cover_asset_id = old.id }, "t"))
    assert.equal(old.id, albums_repo.find_owned(a.id, owner.id).cover_id)
    assert.equal(1, albums_repo.update(a.id, owner.id, { cover_asset_id = false }, "t"))
    assert.equal(new.id, albums_repo.find_owned(a.id, owner.id).cover_id)
    assert.is_true(albums_repo.has_visible_asset(a.id, old.id))
    assert.is_false(albums_repo.has_visible_asset(a.id, trashed.id))
  end)

  it("adds idempotently and removes", function()
    local a = album()
    local p = ready("2020-01-01T00:00:00.000Z")
    assert.equal(1, albums_repo.add_assets(a.id, owner.id, { p.id }, "t"))
    assert.equal(0, albums_repo.add_assets(a.id, owner.id, { p.id }, "t"))
    assert.equal(1, albums_repo.remove_assets(a.id, { p.id }))
    assert.equal(0, albums_repo.remove_assets(a.id, { p.id }))
  end)

  it("finds, changes and deletes only the owner's albums", function()
    local a = album("Mine")
    assert.is_nil(albums_repo.find_owned(a.id, other.id))
    assert.equal(0, albums_repo.update(a.id, other.id, { title = "Theirs" }, "t"))
    assert.equal(0, albums_repo.delete(a.id, other.id))
    assert.equal("Mine", albums_repo.find_owned(a.id, owner.id).title)
    assert.same({}, albums_repo.list_owned(other.id, 10))
  end)

  it("loses a purged asset from its albums, and keeps assets when an album goes", function()
    local a = album()
    local p = ready("2020-01-01T00:00:00.000Z")
    albums_repo.add_assets(a.id, owner.id, { p.id }, "t")
    assert.equal(1, albums_repo.delete(a.id, owner.id))
    assert.truthy(core.db.query("SELECT id FROM assets WHERE id = ?", p.id)[1])
    local b = album()
    albums_repo.add_assets(b.id, owner.id, { p.id }, "t")
    assert(core.db.exec("DELETE FROM assets WHERE id = ?", p.id))
    assert.equal(0, albums_repo.find_owned(b.id, owner.id).asset_count)
  end)

  it("adds only the owner's assets, and keeps each one's sort_at in step with the asset", function()
    local a = album()
    local p = ready("2020-01-01T00:00:00.000Z")
    local theirs = fixtures.asset(other, { status = "ready" })
    assert.equal(1, albums_repo.add_assets(a.id, owner.id, { p.id, theirs.id }, "t"))
    local function copied()
      return core.db.query("SELECT sort_at FROM album_assets WHERE asset_id = ?", p.id)[1].sort_at
    end
    assert.equal("2020-01-01T00:00:00.000Z", copied())
    assert(core.db.exec("UPDATE assets SET sort_at = '2019-05-05T00:00:00.000Z' WHERE id = ?", p.id))
    assert.equal("2019-05-05T00:00:00.000Z", copied())
  end)

  it("bumps the owner's library_version when an album or its contents change", function()
    local function version()
      return core.db.query("SELECT library_version FROM users WHERE id = ?", owner.id)[1].library_version
    end
    local before = version()
    local a = album()
    local p = ready("2020-01-01T00:00:00.000Z")
    local after_insert = version()
    assert.is_true(after_insert > before)
    albums_repo.add_assets(a.id, owner.id, { p.id }, "t")
    assert.is_true(version() > after_insert)
    local v = version()
    albums_repo.update(a.id, owner.id, { title = "B" }, "t")
    assert.is_true(version() > v)
  end)
end)
