local clock = require("infra.clock")

describe("infra.clock", function()
  it("now is whole seconds of the wall clock", function()
    local now = clock.now()
    assert.equal("integer", math.type(now))
    assert.is_true(math.abs(now - os.time()) <= 1)
  end)

  it("iso gives RFC 3339 UTC text with milliseconds", function()
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", clock.iso())
    assert.equal("1970-01-01T00:00:00.000Z", clock.iso(0))
    assert.equal("2023-11-14T22:13:20.000Z", clock.iso(1700000000))
    assert.equal("2023-11-14T22:13:20.250Z", clock.iso(1700000000.25))
  end)

  it("iso of now agrees with now", function()
    -- bracketed by two readings, so a pause of the (loaded) machine cannot fail it;
    -- now() is whole seconds from the kernel's coarse clock, which may trail the fine
    -- clock behind iso() by a tick, hence a second's slack on each side
    local before = clock.now() - 1
    local parsed = clock.parse(clock.iso())
    local after = clock.now() + 2
    assert.is_true(parsed >= before and parsed < after, ("%s not in [%s, %s)"):format(parsed, before, after))
  end)

  it("parse round-trips what iso writes", function()
    for _, t in ipairs({ 0, 1, 86399, 951782400, 1700000000, 4102444799 }) do
      assert.equal(t, clock.parse(clock.iso(t)))
    end
  end)

  it("text times sort like the seconds they stand for", function()
    local times = { 5, 1700000000.5, 1700000000, 59, 999999999.999, 1e9 }
    local texts = {}
    for i, t in ipairs(times) do
      texts[i] = clock.iso(t)
    end
    table.sort(times)
    table.sort(texts)
    for i, t in ipairs(times) do
      assert.equal(clock.iso(t), texts[i])
    end
  end)

  it("parse answers nil, err for text that is not a time", function()
    for _, bad in ipairs({ "", "yesterday", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00" }) do
      local t, err = clock.parse(bad)
      assert.is_nil(t, bad)
      assert.is_string(err)
    end
  end)
end)
