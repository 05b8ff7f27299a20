-- services.throttle on the store the environment gives it: the database without
-- REDIS_URL, Redis with it (the "redis" describe, run by scripts/test-all against its
-- redis-server), with the same behaviour on both.
local redis_helper = require("helpers.redis")
local throttle = require("services.throttle")

local RULES = {
  ip = { free_failures = 2, window_seconds = 900, max_delay_seconds = 60 },
  account = { free_failures = 3, window_seconds = 60, max_delay_seconds = 30 },
}
local NOW = 1700000000

local prefix = "spec-services-throttle:" .. core.time.monotonic_ms() .. ":"
local serial = 0

local function fresh_keys()
  serial = serial + 1
  return { ip = prefix .. "ip:" .. serial, account = prefix .. "account:" .. serial }
end

local function fail_times(keys, count, now)
  for _ = 1, count do
    assert.is_true(throttle.record_failure(keys, RULES, now))
  end
end

-- The behaviour both stores share.
local function behaves_as_a_throttle()
  it("lets attempts through until a counter passes its free failures", function()
    local keys = fresh_keys()
    assert.equal(0, throttle.wait(keys, RULES, NOW))
    fail_times(keys, 1, NOW)
    assert.equal(0, throttle.wait(keys, RULES, NOW))
    fail_times(keys, 1, NOW)
    assert.equal(1, throttle.wait(keys, RULES, NOW))    -- ip: 2 failures, 0 free left
    fail_times(keys, 2, NOW)
    assert.equal(4, throttle.wait(keys, RULES, NOW))    -- ip: 2^2; account: 2^1
  end)

  it("takes the longest wait of the counters and counts it down", function()
    local keys = fresh_keys()
    fail_times(keys, 6, NOW)                            -- ip: 2^4 = 16; account: 2^3
    assert.equal(16, throttle.wait(keys, RULES, NOW))
    assert.equal(6, throttle.wait(keys, RULES, NOW + 10))
  end)

  it("clears counters after a success", function()
    local keys = fresh_keys()
    fail_times(keys, 6, NOW)
    assert.is_true(throttle.clear({ keys.ip, keys.account }))
    assert.equal(0, throttle.wait(keys, RULES, NOW))
  end)
end

describe("services.throttle", function()
  if core.redis.configured() then
    pending("the database store is used only without REDIS_URL")
    return
  end

  teardown(function()
    core.db.exec("DELETE FROM auth_throttle WHERE key LIKE ?", prefix .. "%")
  end)

  behaves_as_a_throttle()
end)

describe("services.throttle on Redis #redis", function()
  if not redis_helper.available() then
    pending("needs the redis-server scripts/test-all starts (REDIS_URL)")
    return
  end

  behaves_as_a_throttle()

  it("keeps the counters in Redis, expiring with their window, not in the database", function()
    local keys = fresh_keys()
    fail_times(keys, 1, NOW)
    local client <close> = assert(core.redis.connect())
    local ttl = client:command({ "TTL", "itcloud:throttle:" .. keys.account })
    assert.is_true(ttl > 0 and ttl <= RULES.account.window_seconds)
    assert.equal(0, core.db.query("SELECT count(*) AS n FROM auth_throttle WHERE key LIKE ?",
      prefix .. "%")[1].n)
  end)

  it("fails closed: with Redis stopped, nothing is judged or counted", function()
    local keys = fresh_keys()
    redis_helper.stop()
    local wait, err = throttle.wait(keys, RULES, NOW)
    local recorded, record_err = throttle.record_failure(keys, RULES, NOW)
    redis_helper.start()
    assert.is_nil(wait)
    assert.is_string(err)
    assert.is_nil(recorded)
    assert.is_string(record_err)
    assert.equal(0, throttle.wait(keys, RULES, NOW))    -- and back once Redis is
  end)
end)
