-- infra.throttle_counters against the redis-server scripts/test-all starts (tagged
-- "redis"): the same counter shape as the database's, kept atomically.
local counters = require("infra.throttle_counters")
local redis_helper = require("helpers.redis")

describe("infra.throttle_counters #redis", function()
  if not redis_helper.available() then
    pending("needs the redis-server scripts/test-all starts (REDIS_URL)")
    return
  end

  before_each(redis_helper.flush)

  it("returns a bare nil for a key never seen", function()
    local counter, err = counters.find("spec:never")
    assert.is_nil(counter)
    assert.is_nil(err)
  end)

  it("counts failures from the window's first one to the last", function()
    assert.is_true(counters.record_failure("spec:a", 1000, 900))
    assert.is_true(counters.record_failure("spec:a", 1005, 900))
    assert.is_true(counters.record_failure("spec:a", 1010, 900))
    local counter = counters.find("spec:a")
    assert.same({ failures = 3, window_started_at = 1000, last_failure_at = 1010 }, counter)
    assert.equal("integer", math.type(counter.failures))
  end)

  it("counts every failure when several processes count at once", function()
    local binary = os.getenv("ITCLOUD_BIN") or "bin/itcloud"
    local clients = {}
    for i = 1, 4 do
      clients[i] = io.popen("KEY=spec:shared COUNT=50 " .. binary
        .. " run spec/helpers/counter_worker.lua 2>&1")
    end
    for _, client in ipairs(clients) do
      local output = client:read("a")
      assert.is_true(client:close(), output)
    end
    assert.equal(200, counters.find("spec:shared").failures)
  end)

  it("forgets a key on clear", function()
    assert.is_true(counters.record_failure("spec:b", 1000, 900))
    assert.is_true(counters.clear("spec:b"))
    assert.is_nil(counters.find("spec:b"))
  end)

  it("takes back one failure on forgive, never below none", function()
    assert.is_true(counters.record_failure("spec:c", 1000, 900))
    assert.is_true(counters.record_failure("spec:c", 1001, 900))
    assert.is_true(counters.forgive("spec:c"))
    assert.equal(1, counters.find("spec:c").failures)
    assert.is_true(counters.forgive("spec:c"))
    assert.is_true(counters.forgive("spec:c"))
    assert.equal(0, counters.find("spec:c").failures)
    assert.is_true(counters.forgive("spec:never"))
    assert.is_nil(counters.find("spec:never"))
  end)

  it("runs one holder at a time under locks on the keys, and frees them after", function()
    local inner
    local result = counters.locked({ "spec:l1", "spec:l2" }, function(x)
      inner = counters.locked({ "spec:l2" }, function()
        return "ran"
      end)
      return x * 2
    end, 21)
    assert.equal(42, result)
    assert.is_false(inner)
    assert.equal("ran", counters.locked({ "spec:l2" }, function()
      return "ran"
    end))
    -- an error inside still frees the locks
    assert.has_error(function()
      counters.locked({ "spec:l3" }, error, "boom")
    end)
    assert.equal("ran", counters.locked({ "spec:l3" }, function()
      return "ran"
    end))
  end)
end)
