-- infra.redis against the redis-server scripts/test-all starts (tagged "redis"): one
-- connection per VM, nil replies, and a connection made again after an outage.
local redis = require("infra.redis")
local redis_helper = require("helpers.redis")

describe("infra.redis #redis", function()
  if not redis_helper.available() then
    pending("needs the redis-server scripts/test-all starts (REDIS_URL)")
    return
  end

  setup(redis_helper.flush)

  it("runs commands as argument arrays, a missing value being a bare nil", function()
    assert.is_true(redis.configured())
    assert.equal("OK", redis.command({ "SET", "spec:infra:redis", "a b\r\nc" }))
    assert.equal("a b\r\nc", redis.command({ "GET", "spec:infra:redis" }))
    local value, err = redis.command({ "GET", "spec:infra:missing" })
    assert.is_nil(value)
    assert.is_nil(err)
  end)

  it("fails while Redis is down and works again once it is back", function()
    redis_helper.stop()
    local value, err = redis.command({ "PING" })
    local again, again_err = redis.command({ "PING" })
    redis_helper.start()
    assert.is_nil(value)
    assert.is_string(err)
    assert.is_nil(again)
    assert.is_string(again_err)
    assert.equal("PONG", redis.command({ "PING" }))
  end)
end)
