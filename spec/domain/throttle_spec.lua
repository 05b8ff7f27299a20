local throttle = require("domain.throttle")

local RULE = { free_failures = 3, window_seconds = 900, max_delay_seconds = 60 }

describe("domain.throttle", function()
  describe("retry_after", function()
    it("lets a caller with no counter go ahead", function()
      assert.equal(0, throttle.retry_after(nil, RULE, 1000))
    end)

    it("lets the free failures through without waiting", function()
      for failures = 1, RULE.free_failures - 1 do
        local counter = { failures = failures, window_started_at = 1000, last_failure_at = 1000 }
        assert.equal(0, throttle.retry_after(counter, RULE, 1000))
      end
    end)

    it("waits 2^n seconds after the last failure for n failures beyond the free ones", function()
      local cases = { [3] = 1, [4] = 2, [5] = 4, [6] = 8, [8] = 32 }
      for failures, delay in pairs(cases) do
        local counter = { failures = failures, window_started_at = 1000, last_failure_at = 1010 }
        assert.equal(delay, throttle.retry_after(counter, RULE, 1010), "failures " .. failures)
      end
    end)

    it("counts the wait down from the last failure", function()
      local counter = { failures = 6, window_started_at = 1000, last_failure_at = 1010 }
      assert.equal(8, throttle.retry_after(counter, RULE, 1010))
      assert.equal(5, throttle.retry_after(counter, RULE, 1013))
      assert.equal(1, throttle.retry_after(counter, RULE, 1017))
      assert.equal(0, throttle.retry_after(counter, RULE, 1018))
      assert.equal(0, throttle.retry_after(counter, RULE, 1100))
    end)

    it("caps the delay at max_delay_seconds, even for huge failure counts", function()
      local counter = { failures = 40, window_started_at = 1000, last_failure_at = 1000 }
      assert.equal(60, throttle.retry_after(counter, RULE, 1000))
      counter.failures = 5000    -- 2^4997 is inf as a float
      assert.equal(60, throttle.retry_after(counter, RULE, 1000))
    end)

    it("returns an integer, for a Retry-After header", function()
      local counter = { failures = 7, window_started_at = 1000, last_failure_at = 1000 }
      local wait = throttle.retry_after(counter, RULE, 1003)
      assert.equal("integer", math.type(wait))
      assert.equal(13, wait)
    end)

    it("forgets a counter once its window has ended", function()
      local counter = { failures = 50, window_started_at = 1000, last_failure_at = 1899 }
      assert.equal(60, throttle.retry_after(counter, RULE, 1899))
      assert.equal(0, throttle.retry_after(counter, RULE, 1900))
    end)

    it("with no free failures, waits from the first one", function()
      local strict = { free_failures = 0, window_seconds = 60, max_delay_seconds = 10 }
      local counter = { failures = 1, window_started_at = 0, last_failure_at = 0 }
      assert.equal(2, throttle.retry_after(counter, strict, 0))
    end)

    it("with max_delay_seconds 0, never makes anyone wait", function()
      local off = { free_failures = 0, window_seconds = 60, max_delay_seconds = 0 }
      local counter = { failures = 30, window_started_at = 0, last_failure_at = 0 }
      assert.equal(0, throttle.retry_after(counter, off, 0))
    end)
  end)

  describe("record_failure", function()
    it("starts a window at the first failure", function()
      assert.same({ failures = 1, window_started_at = 500, last_failure_at = 500 },
        throttle.record_failure(nil, RULE, 500))
    end)

    it("counts failures inside the window, keeping its start", function()
      local counter = throttle.record_failure(nil, RULE, 500)
      counter = throttle.record_failure(counter, RULE, 510)
      counter = throttle.record_failure(counter, RULE, 1399)
      assert.same({ failures = 3, window_started_at = 500, last_failure_at = 1399 }, counter)
    end)

    it("starts a new window when the old one has ended", function()
      local counter = { failures = 30, window_started_at = 500, last_failure_at = 1300 }
      assert.same({ failures = 1, window_started_at = 1400, last_failure_at = 1400 },
        throttle.record_failure(counter, RULE, 1400))
    end)

    it("does not modify the counter it was given", function()
      local counter = { failures = 2, window_started_at = 500, last_failure_at = 510 }
      throttle.record_failure(counter, RULE, 520)
      assert.same({ failures = 2, window_started_at = 500, last_failure_at = 510 }, counter)
    end)

    it("together with retry_after, throttles the attempt after the free failures", function()
      local counter, now = nil, 10000
      for _ = 1, RULE.free_failures - 1 do
        counter = throttle.record_failure(counter, RULE, now)
        assert.equal(0, throttle.retry_after(counter, RULE, now))
      end
      counter = throttle.record_failure(counter, RULE, now)
      assert.equal(1, throttle.retry_after(counter, RULE, now))
      counter = throttle.record_failure(counter, RULE, now + 1)
      assert.equal(2, throttle.retry_after(counter, RULE, now + 1))
    end)
  end)

  describe("address_key", function()
    it("keeps IPv4 addresses and counts IPv6 ones by their /64", function()
      assert.equal("10.1.2.3", throttle.address_key("10.1.2.3"))
      assert.equal("10.1.2.3", throttle.address_key("::ffff:10.1.2.3"))
      assert.equal("2001:db8:0:0::/64", throttle.address_key("2001:db8::1"))
      assert.equal("2001:db8:0:0::/64", throttle.address_key("2001:DB8:0:0:ffff:1:2:3"))
      assert.equal("2001:db8:0:1::/64", throttle.address_key("2001:db8:0:1::"))
      assert.equal("0:0:0:0::/64", throttle.address_key("::1"))
      assert.equal("fe80:0:0:0::/64", throttle.address_key("fe80::1:2"))
    end)

    it("leaves anything else as it is", function()
      for _, other in ipairs({ "unknown", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3",
        "12345::1", "1:::2", "fe80::1%eth0", "1:2:3:4:5:6:7:8::" }) do
        assert.equal(other, throttle.address_key(other))
      end
    end)
  end)
end)
