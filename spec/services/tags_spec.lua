-- services.tags on the shared spec database (the HTTP side: spec/api/collections_spec.lua).
local fixtures = require("helpers.fixtures")
local tags = require("services.tags")

describe("services.tags", function()
  local owner, other

  setup(function()
    owner = fixtures.user("svc-tags")
    other = fixtures.user("svc-tags")
  end)

  teardown(function()
    fixtures.cleanup()
  end)

  local function by_name(user)
    local list = {}
    for _, row in ipairs(assert(tags.list(user))) do
      list[row.name] = row
    end
    return list
  end

  it("makes a tag once per case-folded name and counts its assets", function()
    local a = fixtures.asset(owner, { status = "ready" })
    local b = fixtures.asset(owner, { status = "ready" })
    assert.same({ changed = 2 }, tags.change(owner, "attach", { "Sky", " sky " }, { a.id, b.id }))
    assert.equal(2, by_name(owner).Sky.asset_count)
    assert.same({ changed = 1 }, tags.change(owner, "detach", { "SKY" }, { a.id }))
    assert.equal(1, by_name(owner).Sky.asset_count)
    -- detaching a name nobody has is no error
    assert.same({ changed = 0 }, tags.change(owner, "detach", { "never" }, { a.id }))
  end)

  it("tags nothing when a name is bad or an asset is not the user's", function()
    local a = fixtures.asset(owner, { status = "ready" })
    local _, err = tags.change(owner, "attach", { "ok", "" }, { a.id })
    assert.equal("validation_error", err.code)
    assert.equal("names[1]", err.field)
    _, err = tags.change(owner, "attach", { "Theirs" }, { a.id, fixtures.asset(other, { status = "ready" }).id })
    assert.equal("not_found", err.code)
    assert.is_nil(by_name(owner).ok)
    assert.is_nil(by_name(owner).Theirs)
  end)

  it("renames and deletes only the user's tags", function()
    local a = fixtures.asset(owner, { status = "ready" })
    tags.change(owner, "attach", { "Old", "Busy" }, { a.id })
    local id = by_name(owner).Old.id
    assert.equal("tag_exists", select(2, tags.rename(owner, id, "busy")).code)
    assert.equal("not_found", select(2, tags.rename(other, id, "x")).code)
    assert.equal("not_found", select(2, tags.delete(other, id)).code)
    assert.equal("New", assert(tags.rename(owner, id, "New")).name)
    assert.is_true(tags.delete(owner, id))
    assert.is_nil(by_name(owner).New)
  end)
end)
