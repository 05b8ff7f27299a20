local throttling = require("services.throttle")

describe("services.throttle", function()
  local prefix = "spec-svc-throttle:" .. core.time.monotonic_ms() .. ":"
  local rules = {
    a = { free_failures = 1, window_seconds = 100, max_delay_seconds = 60 },
    b = { free_failures = 3, window_seconds = 100, max_delay_seconds = 60 },
  }

  teardown(function()
    core.db.exec("DELETE FROM auth_throttle WHERE key LIKE ?", prefix .. "%")
  end)

  it("lets a first attempt go ahead", function()
    assert.equal(0, throttling.wait({ a = prefix .. "fresh-a", b = prefix .. "fresh-b" }, rules, 1000))
  end)

  it("counts a failure on every counter and waits for the strictest", function()
    local keys = { a = prefix .. "x-a", b = prefix .. "x-b" }
    assert.is_true(throttling.record_failure(keys, rules, 1000))
    assert.is_true(throttling.record_failure(keys, rules, 1000))
    assert.equal(2, core.db.query("SELECT failures FROM auth_throttle WHERE key = ?", keys.b)[1].failures)
    -- a: two failures, one free: 2^1 s after the last; b: still within its free ones
    assert.equal(2, throttling.wait(keys, rules, 1000))
    assert.equal(0, throttling.wait({ b = keys.b }, rules, 1000))
    assert.equal(0, throttling.wait(keys, rules, 1002))
    -- a new window forgets the old failures
    assert.equal(0, throttling.wait(keys, rules, 1100))
  end)

  it("counts an attempt as it begins, and forgives it when it succeeds", function()
    local keys = { a = prefix .. "begin-a", b = prefix .. "begin-b" }
    assert.equal(0, throttling.begin(keys, rules, 1000))
    -- counted already: a second attempt in the same second waits
    assert.equal(1, throttling.begin(keys, rules, 1000))
    assert.is_true(throttling.forgive(keys))
    assert.equal(0, throttling.wait(keys, rules, 1000))
    assert.equal(0, core.db.query("SELECT failures FROM auth_throttle WHERE key = ?", keys.a)[1].failures)
    -- a refused attempt counts nothing
    assert.equal(0, throttling.begin(keys, rules, 1000))
    assert.equal(1, throttling.begin(keys, rules, 1000))
    assert.equal(1, core.db.query("SELECT failures FROM auth_throttle WHERE key = ?", keys.a)[1].failures)
  end)
end)
