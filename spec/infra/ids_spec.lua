local ids = require("infra.ids")
local socket = require("socket")

local SHAPE = "^(%x%x%x%x%x%x%x%x)%-(%x%x%x%x)%-(%x%x%x%x)%-(%x%x%x%x)%-(%x%x%x%x%x%x%x%x%x%x%x%x)$"

describe("infra.ids", function()
  describe("uuid", function()
    it("has the 8-4-4-4-12 lower-case hex shape", function()
      for _ = 1, 200 do
        local id = ids.uuid()
        assert.equal(36, #id)
        assert.matches(SHAPE, id)
        assert.equal(id:lower(), id)
      end
    end)

    it("sets version 7 and the RFC 9562 variant bits", function()
      for _ = 1, 500 do
        local id = ids.uuid()
        local _, _, version_group, variant_group = id:match(SHAPE)
        assert.equal("7", version_group:sub(1, 1))
        local variant = tonumber(variant_group:sub(1, 1), 16)
        assert.equal(0x8, variant & 0xc, id)   -- 10xx
      end
    end)

    it("leaves the other bits random (both values of each variable bit appear)", function()
      local seen_or, seen_and = 0, 0xf
      for _ = 1, 200 do
        local nibble = tonumber(ids.uuid():sub(16, 16), 16)   -- the nibble after the 7
        seen_or, seen_and = seen_or | nibble, seen_and & nibble
      end
      assert.equal(0xf, seen_or)
      assert.equal(0, seen_and)
    end)

    it("starts with the current Unix time in milliseconds", function()
      local before = math.floor(core.time.now() * 1000)
      local id = ids.uuid()
      local after = math.floor(core.time.now() * 1000)
      local ms = tonumber(id:sub(1, 8) .. id:sub(10, 13), 16)
      assert.is_true(ms >= before and ms <= after, ("%d not in [%d, %d]"):format(ms, before, after))
    end)

    it("sorts by creation time as text across milliseconds", function()
      local previous = ids.uuid()
      for _ = 1, 20 do
        socket.sleep(0.002)
        local id = ids.uuid()
        assert.is_true(previous < id, previous .. " >= " .. id)
        previous = id
      end
    end)

    it("does not repeat, even many in the same millisecond", function()
      local seen, count = {}, 20000
      for _ = 1, count do
        local id = ids.uuid()
        assert.is_nil(seen[id], "duplicate " .. id)
        seen[id] = true
      end
    end)
  end)
end)
