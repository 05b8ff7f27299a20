local time = core.time

local function invalid(text)
  local t, err = time.parse_iso8601(text)
  assert.is_nil(t, "accepted " .. string.format("%q", text))
  assert.equal("invalid date-time", err)
end

describe("core.time", function()
  describe("clocks", function()
    it("now is float seconds near the wall clock, unix whole seconds", function()
      local now, unix = time.now(), time.unix()
      assert.equal("float", math.type(now))
      assert.equal("integer", math.type(unix))
      assert.is_true(math.abs(now - unix) < 2)
      assert.is_true(math.abs(unix - os.time()) <= 1)
    end)

    it("monotonic_ms is an integer that never goes back", function()
      local previous = time.monotonic_ms()
      assert.equal("integer", math.type(previous))
      for _ = 1, 1000 do
        local current = time.monotonic_ms()
        assert.is_true(current >= previous)
        previous = current
      end
    end)
  end)

  describe("iso8601", function()
    it("always writes milliseconds and Z", function()
      assert.equal("1970-01-01T00:00:00.000Z", time.iso8601(0))
      assert.equal("2000-02-29T12:34:56.000Z", time.iso8601(951827696))
      assert.equal("2023-11-14T22:13:20.007Z", time.iso8601(1700000000.007))
      assert.equal("9999-12-31T23:59:59.000Z", time.iso8601(253402300799))
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", time.iso8601())
    end)

    it("rounds to the nearest millisecond, carrying into the second", function()
      assert.equal("1970-01-01T00:00:01.000Z", time.iso8601(0.9996))
      assert.equal("1970-01-01T00:00:00.999Z", time.iso8601(0.9994))
    end)

    it("of now is close to now", function()
      assert.is_true(math.abs(time.parse_iso8601(time.iso8601()) - time.now()) < 1)
    end)

    it("writes times before 1970, down to year 1", function()
      assert.equal("1969-12-31T23:59:59.000Z", time.iso8601(-1))
      assert.equal("1965-06-01T12:00:00.500Z", time.iso8601(time.parse_iso8601("1965-06-01T12:00:00Z") + 0.5))
      assert.equal("0001-01-01T00:00:00.000Z", time.iso8601(-62135596800))
    end)

    it("raises for times it cannot write", function()
      assert.has_error(function() time.iso8601(-62135596801) end)
      assert.has_error(function() time.iso8601(253402300800) end)
      assert.has_error(function() time.iso8601(0 / 0) end)
      assert.has_error(function() time.iso8601(math.huge) end)
      assert.has_error(function() time.iso8601("soon") end)
    end)
  end)

  describe("parse_iso8601", function()
    it("round-trips iso8601", function()
      for _, t in ipairs({ 0, 1, 951827696, 1700000000, 4102444800, 253402300799 }) do
        local back = time.parse_iso8601(time.iso8601(t))
        assert.equal(t, back)
        assert.equal("integer", math.type(back))
      end
      for _, t in ipairs({ 1700000000.123, 0.5, 1.001 }) do
        assert.is_true(math.abs(time.parse_iso8601(time.iso8601(t)) - t) < 0.0005)
      end
    end)

    it("returns a float only when there is a fraction", function()
      assert.equal("integer", math.type(time.parse_iso8601("2024-01-01T00:00:00.000Z")))
      local t = time.parse_iso8601("2024-01-01T00:00:00.25Z")
      assert.equal(1704067200.25, t)
      assert.equal(1704067200 + 0.123456789, time.parse_iso8601("2024-01-01T00:00:00.123456789123Z"))
    end)

    it("applies offsets", function()
      local utc = time.parse_iso8601("2024-06-01T12:00:00Z")
      assert.equal(utc, time.parse_iso8601("2024-06-01T14:00:00+02:00"))
      assert.equal(utc, time.parse_iso8601("2024-06-01T06:30:00-05:30"))
      assert.equal(utc, time.parse_iso8601("2024-06-01T12:00:00+00:00"))
      assert.equal(utc, time.parse_iso8601("2024-06-01T12:00:00-00:00"))
      assert.equal(time.parse_iso8601("2024-01-01T00:00:00Z"),
        time.parse_iso8601("2023-12-31T23:00:00-01:00"))
    end)

    it("accepts a lower-case t and z, and a space separator", function()
      local t = time.parse_iso8601("2024-06-01T12:00:00Z")
      assert.equal(t, time.parse_iso8601("2024-06-01t12:00:00z"))
      assert.equal(t, time.parse_iso8601("2024-06-01 12:00:00Z"))
    end)

    it("reads a bare date as midnight UTC", function()
      assert.equal(1704067200, time.parse_iso8601("2024-01-01"))
      assert.equal(0, time.parse_iso8601("1970-01-01"))
      assert.equal(-86400, time.parse_iso8601("1969-12-31"))
    end)

    it("knows leap years", function()
      assert.equal(time.parse_iso8601("2024-03-01") - 86400, time.parse_iso8601("2024-02-29"))
      assert.is_number(time.parse_iso8601("2000-02-29T00:00:00Z"))
      invalid("2023-02-29")
      invalid("1900-02-29")
      invalid("2100-02-29T00:00:00Z")
    end)

    it("refuses impossible dates and times", function()
      invalid("2024-02-30")
      invalid("2024-04-31")
      invalid("2024-13-01")
      invalid("2024-00-10")
      invalid("2024-01-00")
      invalid("2024-01-32")
      invalid("0000-01-01")
      invalid("2024-01-01T24:00:00Z")
      invalid("2024-01-01T23:60:00Z")
      invalid("2024-01-01T23:59:61Z")
      invalid("2024-01-01T00:00:00+24:00")
      invalid("2024-01-01T00:00:00+05:60")
    end)

    it("refuses text that is not RFC 3339", function()
      for _, text in ipairs({
        "", "garbage", "2024", "2024-01", "2024-1-01", "24-01-01", "2024/01/01",
        "2024-01-01T", "2024-01-01T12", "2024-01-01T12:00", "2024-01-01T12:00:00",
        "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00ZZ", "2024-01-01T12:00:00+0200",
        "2024-01-01T12:00:00+02", "2024-01-01T12:00:00 Z", " 2024-01-01", "2024-01-01 ",
        "+2024-01-01", "２０２４-01-01", "2024-01-01T12:00:00Z\n",
      }) do
        invalid(text)
      end
    end)

    it("refuses text with a NUL byte, even after a valid date", function()
      invalid("2024-01-01\0")
      invalid("2024-01-01\0T00:00:00Z")
      invalid("2024-01-01T00:00:00Z\0junk")
    end)

    it("refuses text longer than 40 bytes", function()
      invalid("2024-01-01T00:00:00." .. string.rep("1", 30) .. "Z")
    end)

    it("raises when given something other than a string", function()
      assert.has_error(function() time.parse_iso8601(nil) end)
      assert.has_error(function() time.parse_iso8601({}) end)
    end)
  end)
end)
