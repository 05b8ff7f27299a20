local throttle = require("repositories.throttle")

describe("repositories.throttle", function()
  local prefix = "spec-repo-throttle:" .. core.time.monotonic_ms() .. ":"

  teardown(function()
    core.db.exec("DELETE FROM auth_throttle WHERE key LIKE ?", prefix .. "%")
  end)

  it("returns a bare nil for a key never seen", function()
    local counter, err = throttle.find(prefix .. "unknown")
    assert.is_nil(counter)
    assert.is_nil(err)
  end)

  it("saves and finds a counter with integer fields", function()
    local key = prefix .. "a"
    assert.is_true(throttle.save(key, { failures = 3, window_started_at = 1000, last_failure_at = 1010 }))
    local counter = throttle.find(key)
    assert.same({ failures = 3, window_started_at = 1000, last_failure_at = 1010 }, counter)
    assert.equal("integer", math.type(counter.failures))
  end)

  it("overwrites on a second save (upsert)", function()
    local key = prefix .. "b"
    assert.is_true(throttle.save(key, { failures = 1, window_started_at = 1, last_failure_at = 1 }))
    assert.is_true(throttle.save(key, { failures = 9, window_started_at = 2, last_failure_at = 3 }))
    assert.same({ failures = 9, window_started_at = 2, last_failure_at = 3 }, throttle.find(key))
    local rows = core.db.query("SELECT count(*) AS n FROM auth_throttle WHERE key = ?", key)
    assert.equal(1, rows[1].n)
  end)

  it("keeps keys apart, including ones that differ only in case or by wildcards", function()
    assert.is_true(throttle.save(prefix .. "K", { failures = 1, window_started_at = 1, last_failure_at = 1 }))
    assert.is_true(throttle.save(prefix .. "%", { failures = 2, window_started_at = 1, last_failure_at = 1 }))
    assert.equal(1, throttle.find(prefix .. "K").failures)
    assert.is_nil(throttle.find(prefix .. "k"))
    assert.equal(2, throttle.find(prefix .. "%").failures)
    assert.is_nil(throttle.find(prefix .. "_"))
  end)

  it("clears a key, and clearing twice is fine", function()
    local key = prefix .. "c"
    assert.is_true(throttle.save(key, { failures = 1, window_started_at = 1, last_failure_at = 1 }))
    assert.is_true(throttle.clear(key))
    assert.is_nil(throttle.find(key))
    assert.is_true(throttle.clear(key))
  end)

  it("returns nil, err when a counter is incomplete", function()
    local ok, err = throttle.save(prefix .. "d", { failures = 1 })
    assert.is_nil(ok)
    assert.matches("NOT NULL", err)
    assert.is_nil(throttle.find(prefix .. "d"))
  end)

  it("deletes counters idle since before a time, and keeps recent ones", function()
    assert.is_true(throttle.save(prefix .. "idle", { failures = 1, window_started_at = 5, last_failure_at = 10 }))
    local now = core.time.unix()
    assert.is_true(throttle.save(prefix .. "recent", { failures = 1, window_started_at = now, last_failure_at = now }))
    assert.is_true(throttle.delete_older_than(now - 60) >= 1)
    assert.is_nil(throttle.find(prefix .. "idle"))
    assert.is_table(throttle.find(prefix .. "recent"))
  end)
end)
