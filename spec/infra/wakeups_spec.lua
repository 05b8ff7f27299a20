-- infra.wakeups against the redis-server scripts/test-all starts (tagged "redis").
local redis_helper = require("helpers.redis")
local wakeups = require("infra.wakeups")

describe("infra.wakeups #redis", function()
  if not redis_helper.available() then
    pending("needs the redis-server scripts/test-all starts (REDIS_URL)")
    return
  end

  before_each(redis_helper.flush)

  it("wakes one waiter per notification", function()
    assert.is_true(wakeups.enabled())
    assert.is_true(wakeups.notify())
    assert.is_true(wakeups.wait(1))
    assert.is_false(wakeups.wait(0.05))      -- the token was taken
  end)

  it("keeps at most 64 tokens, so stale ones stay few", function()
    for _ = 1, 100 do
      assert.is_true(wakeups.notify())
    end
    local woken = 0
    while wakeups.wait(0.01) do
      woken = woken + 1
    end
    assert.equal(64, woken)
  end)

  it("reports an outage instead of waiting", function()
    redis_helper.stop()
    local ok, err = wakeups.notify()
    local woken, wait_err = wakeups.wait(0.05)
    redis_helper.start()
    assert.is_nil(ok)
    assert.is_string(err)
    assert.is_nil(woken)
    assert.is_string(wait_err)
  end)
end)
