local health = require("services.health")

-- services.health over a stand-in repositories module.
local function health_with(repositories)
  local saved_repos, saved_health = package.loaded["repositories"], package.loaded["services.health"]
  package.loaded["repositories"] = repositories
  package.loaded["services.health"] = nil
  local ok, loaded = pcall(require, "services.health")
  package.loaded["repositories"], package.loaded["services.health"] = saved_repos, saved_health
  assert(ok, loaded)
  return loaded
end

describe("services.health", function()
  it("is ready when the real database answers", function()
    assert.is_true(health.ready())
  end)

  it("is not ready, with a bare nil, when the database does not answer", function()
    local calls = 0
    local down = health_with({
      ping = function()
        calls = calls + 1
        return nil, "sqlite: disk I/O error"
      end,
    })
    local ok, err = down.ready()
    assert.is_nil(ok)
    assert.is_nil(err)   -- the reason goes to the log, not to the caller
    assert.equal(1, calls)
  end)

  it("lets a raised error through (only the dispatcher catches)", function()
    local broken = health_with({ ping = function() error("bug in ping") end })
    assert.has_error(function() broken.ready() end, "bug in ping")
  end)
end)
