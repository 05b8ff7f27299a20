local log = core.log

describe("core.log", function()
  it("has a function per level", function()
    for _, level in ipairs({ "debug", "info", "warn", "error" }) do
      assert.is_function(log[level])
    end
  end)

  it("enabled answers for LOG_LEVEL", function()
    local order = { debug = 1, info = 2, warn = 3, error = 4 }
    local configured = order[core.config.log_level]
    for level, rank in pairs(order) do
      assert.equal(rank >= configured, log.enabled(level), level)
    end
  end)

  it("enabled raises on an unknown level", function()
    assert.has_error(function() log.enabled("verbose") end)
    assert.has_error(function() log.enabled() end)
  end)

  it("takes a message alone, or with fields of any type", function()
    local co = coroutine.create(function() end)
    local with_tostring = setmetatable({}, { __tostring = function() return "custom" end })
    local named = setmetatable({}, { __name = "thing" })
    for _, level in ipairs({ "debug", "info", "warn", "error" }) do
      assert.has_no.errors(function()
        log[level]("spec message")
        log[level]("spec message", nil)
        log[level]("spec message", {
          s = "text with spaces and \"quotes\" and \n newline",
          i = 42, f = 1.5, nan = 0 / 0, inf = math.huge, yes = true, no = false,
          t = {}, fn = print, co = co, ud = io.stdout, custom = with_tostring, named = named,
          empty = "", nul = "a\0b", mod = "spec.log", [1] = "positional", [true] = "odd key",
        })
      end)
    end
  end)

  it("ignores fields that are not a table", function()
    assert.has_no.errors(function()
      log.error("spec message", "not a table")
      log.error("spec message", 42)
    end)
  end)

  it("takes exactly 64 fields, and more", function()
    for _, size in ipairs({ 63, 64, 65, 200 }) do
      local fields = { mod = "spec.log" }
      for i = 1, size do
        fields["k" .. i] = i
      end
      assert.has_no.errors(function() log.error("many fields", fields) end, "size " .. size)
    end
  end)

  it("takes very long messages and values", function()
    assert.has_no.errors(function()
      log.error(string.rep("m", 20000), { v = string.rep("v", 20000), w = string.rep("\1", 5000) })
    end)
  end)

  it("takes field names that are not safe logfmt keys", function()
    assert.has_no.errors(function()
      log.error("odd names", { ["a b"] = 1, ["x\nlevel=error msg=forged"] = 2, [""] = 3,
        ["k=v"] = 4, [string.rep("k", 100)] = 5 })
    end)
  end)

  it("raises without a message (a programming error)", function()
    assert.has_error(function() log.info() end)
    assert.has_error(function() log.info({}) end)
  end)
end)
