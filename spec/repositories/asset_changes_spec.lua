local changes_repo = require("repositories.asset_changes")
local fixtures = require("helpers.fixtures")

describe("repositories.asset_changes", function()
  local owner

  setup(function()
    owner = fixtures.user("repo-changes")
  end)

  teardown(function()
    fixtures.cleanup()
  end)

  it("records what triggers see: added, changed, trashed, restored, purged", function()
    local head = changes_repo.head(owner.id)
    local uploading = fixtures.asset(owner)
    assert.equal(head, changes_repo.head(owner.id))   -- an upload in progress is no change yet
    core.db.exec("UPDATE assets SET status = 'ready' WHERE id = ?", uploading.id)
    core.db.exec("UPDATE assets SET favorite = 1 WHERE id = ?", uploading.id)
    core.db.exec("UPDATE assets SET deleted_at = 'x' WHERE id = ?", uploading.id)
    core.db.exec("UPDATE assets SET deleted_at = NULL WHERE id = ?", uploading.id)
    core.db.exec("DELETE FROM assets WHERE id = ?", uploading.id)
    local rows = changes_repo.after(owner.id, head, 100)
    local kinds = {}
    for i, row in ipairs(rows) do
      kinds[i] = row.kind
      assert.equal(uploading.id, row.asset_id)
    end
    assert.same({ "added", "changed", "trashed", "restored", "purged" }, kinds)
    assert.is_nil(rows[1].json)   -- each change comes with the asset as it is now: gone
    assert.equal(rows[5].seq, changes_repo.head(owner.id))
  end)

  it("comes with the asset's owner JSON while it exists", function()
    local head = changes_repo.head(owner.id)
    local asset = fixtures.asset(owner, { status = "ready" })
    local rows = changes_repo.after(owner.id, head, 10)
    assert.equal(asset.id, core.json.decode(rows[1].json).id)
  end)

  it("pages by sequence and forgets old entries", function()
    local head = changes_repo.head(owner.id)
    fixtures.asset(owner, { status = "ready" })
    fixtures.asset(owner, { status = "ready" })
    local first = changes_repo.after(owner.id, head, 1)
    assert.equal(1, #first)
    assert.is_true(#changes_repo.after(owner.id, first[1].seq, 10) >= 1)
    assert.is_true(changes_repo.delete_older_than("9999-01-01T00:00:00.000Z", 100000) >= 2)
    assert.same({}, changes_repo.after(owner.id, head, 10))
  end)
end)
