-- services.albums on the shared spec database (the HTTP side: spec/api/collections_spec.lua).
local albums = require("services.albums")
local fixtures = require("helpers.fixtures")

describe("services.albums", function()
  local owner, other

  setup(function()
    owner = fixtures.user("svc-albums")
    other = fixtures.user("svc-albums")
  end)

  teardown(function()
    fixtures.cleanup()
  end)

  it("creates with a cleaned title and presents counts and the cover", function()
    local album = assert(albums.create(owner, { title = "  Road   trip " }))
    assert.equal("Road trip", album.title)
    local asset = fixtures.asset(owner, { status = "ready", storage_key_thumb = "u/x/t/1.jpg" })
    assert.same({ changed = 1 }, albums.add_assets(owner, album.id, { asset.id, asset.id }))
    local shown = albums.present(assert(albums.get(owner, album.id)))
    assert.equal(1, shown.asset_count)
    assert.equal(asset.id, shown.cover.asset_id)
    assert.is_string(shown.cover.thumb_url)
  end)

  it("adds nothing when one id is foreign, missing or still uploading", function()
    local album = assert(albums.create(owner, { title = "Strict" }))
    local mine = fixtures.asset(owner, { status = "ready" })
    for _, bad in ipairs({ fixtures.asset(other, { status = "ready" }).id,
      "00000000-0000-7000-8000-000000000000", fixtures.asset(owner).id }) do
      local result, err = albums.add_assets(owner, album.id, { mine.id, bad })
      assert.is_nil(result)
      assert.is_truthy(err.code == "not_found" or err.code == "not_ready")
    end
    assert.equal(0, albums.get(owner, album.id).asset_count)
  end)

  it("answers not_found for another user's album everywhere", function()
    local album = assert(albums.create(owner, { title = "Mine" }))
    local asset = fixtures.asset(other, { status = "ready" })
    for _, result in ipairs({
      { albums.get(other, album.id) },
      { albums.update(other, album.id, { title = "x" }) },
      { albums.delete(other, album.id) },
      { albums.add_assets(other, album.id, { asset.id }) },
      { albums.remove_assets(other, album.id, { asset.id }) },
    }) do
      assert.is_nil(result[1])
      assert.equal("not_found", result[2].code)
    end
    assert.equal("Mine", albums.get(owner, album.id).title)
  end)
end)
