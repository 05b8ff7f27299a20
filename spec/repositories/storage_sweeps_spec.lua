-- repositories.storage_sweeps against the real database.
local sweeps = require("repositories.storage_sweeps")

describe("repositories.storage_sweeps", function()
  local KEY_A, KEY_B = "staging/spec-sweeps/a", "staging/spec-sweeps/b"

  after_each(function()
    core.db.exec("DELETE FROM storage_sweeps WHERE storage_key LIKE 'staging/spec-sweeps/%'")
  end)

  it("returns only keys whose time has come, oldest first, up to the limit", function()
    assert.is_true(sweeps.schedule(KEY_B, "2001-01-01T00:00:00.000Z"))
    assert.is_true(sweeps.schedule(KEY_A, "2000-01-01T00:00:00.000Z"))
    assert.is_true(sweeps.schedule("staging/spec-sweeps/later", "2999-01-01T00:00:00.000Z"))
    local due = assert(sweeps.due("2002-01-01T00:00:00.000Z", 10))
    local mine = {}
    for _, row in ipairs(due) do
      if row.storage_key:find("spec-sweeps", 1, true) then
        mine[#mine + 1] = row.storage_key
      end
    end
    assert.same({ KEY_A, KEY_B }, mine)
    assert.equal(1, #assert(sweeps.due("2002-01-01T00:00:00.000Z", 1)))
  end)

  it("moves a key's time when it is scheduled again, and forgets it on remove", function()
    sweeps.schedule(KEY_A, "2000-01-01T00:00:00.000Z")
    sweeps.schedule(KEY_A, "2999-01-01T00:00:00.000Z")
    for _, row in ipairs(assert(sweeps.due("2500-01-01T00:00:00.000Z", 1000))) do
      assert.not_equal(KEY_A, row.storage_key)
    end
    assert.is_true(sweeps.remove(KEY_A))
    assert.equal(0, core.db.query("SELECT count(*) AS n FROM storage_sweeps WHERE storage_key = ?",
      KEY_A)[1].n)
  end)
end)
