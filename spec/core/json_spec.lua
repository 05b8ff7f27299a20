local json = core.json

local function nest(levels, leaf)
  local root = {}
  local current = root
  for _ = 2, levels do
    current[1] = {}
    current = current[1]
  end
  current[1] = leaf
  return root
end

local function decode_ok(text)
  local value, err = json.decode(text)
  assert.is_nil(err)
  return value
end

local function refuses(text)
  local value, err = json.decode(text)
  assert.is_nil(value, "decoded " .. text:sub(1, 40))
  assert.matches("^invalid json: ", err)
end

describe("core.json", function()
  describe("encode", function()
    it("encodes nested objects and arrays", function()
      local text = json.encode({ user = { id = "u1", tags = { "a", "b" }, n = 3, ok = true } })
      assert.same({ user = { id = "u1", tags = { "a", "b" }, n = 3, ok = true } }, decode_ok(text))
      assert.equal('["x",1,false,{"k":"v"}]', json.encode({ "x", 1, false, { k = "v" } }))
    end)

    it("writes sequences as arrays and anything else as objects", function()
      assert.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
      assert.equal('{"1":1,"3":3}', json.encode({ [1] = 1, [3] = 3 }))
      local mixed = decode_ok(json.encode({ 1, 2, name = "x" }))
      assert.same({ ["1"] = 1, ["2"] = 2, name = "x" }, mixed)
      assert.equal('{"0":"zero"}', json.encode({ [0] = "zero" }))
    end)

    it("writes an empty table as {} and core.json.array() as []", function()
      assert.equal("{}", json.encode({}))
      assert.equal("[]", json.encode(json.array()))
      assert.equal("[]", json.encode(json.array({})))
      local text = json.encode({ items = json.array(), meta = {} })
      assert.truthy(text:find('"items":[]', 1, true))
      assert.truthy(text:find('"meta":{}', 1, true))
    end)

    it("array() marks an existing table, which still encodes its items", function()
      local list = { "a" }
      assert.equal(list, json.array(list))
      assert.equal('["a"]', json.encode(list))
      assert.has_error(function() json.array("x") end)
    end)

    it("escapes quotes, backslashes and control characters", function()
      assert.equal([["a\"b\\c"]], json.encode('a"b\\c'))
      assert.equal([["\n\r\t\u0000\u0001\u001f\u007f"]], json.encode("\n\r\t\0\1\31\127"))
      assert.equal("a\0b\1", decode_ok(json.encode("a\0b\1")))
    end)

    it("escapes <, > and & so JSON can sit inside HTML", function()
      local text = json.encode("</script><b>&amp;")
      assert.is_nil(text:find("[<>&]"))
      assert.equal([["\u003c/script\u003e\u003cb\u003e\u0026amp;"]], text)
      assert.equal("</script><b>&amp;", decode_ok(text))
    end)

    it("passes UTF-8 through", function()
      assert.equal('"h\xc3\xa9 \xe2\x82\xac"', json.encode("h\xc3\xa9 \xe2\x82\xac"))
    end)

    it("escapes keys too", function()
      assert.equal([[{"a\"\u003c":1}]], json.encode({ ['a"<'] = 1 }))
      assert.equal([[{"\n":1}]], json.encode({ ["\n"] = 1 }))
    end)

    it("writes integers as integers and floats so they round-trip", function()
      assert.equal("0", json.encode(0))
      assert.equal("-42", json.encode(-42))
      assert.equal("9223372036854775807", json.encode(math.maxinteger))
      assert.equal("0.1", json.encode(0.1))
      assert.equal("1.5", json.encode(1.5))
      assert.equal(0.1, decode_ok(json.encode(0.1)))
      assert.equal(1e300, decode_ok(json.encode(1e300)))
      assert.equal(1 / 3, decode_ok(json.encode(1 / 3)))
      assert.equal(5e-324, decode_ok(json.encode(5e-324)))
      assert.equal(2 ^ 53 + 0.0, decode_ok(json.encode(2 ^ 53)))
    end)

    it("writes booleans, nil and core.json.null", function()
      assert.equal("true", json.encode(true))
      assert.equal("false", json.encode(false))
      assert.equal("null", json.encode(nil))
      assert.equal("null", json.encode(json.null))
      assert.equal("[null]", json.encode({ json.null }))
    end)

    it("raises on NaN and infinities", function()
      for _, bad in ipairs({ 0 / 0, math.huge, -math.huge }) do
        assert.has_error(function() json.encode(bad) end,
          "json encode: cannot encode NaN or infinity")
        assert.has_error(function() json.encode({ x = { bad } }) end)
      end
    end)

    it("raises on functions, coroutines and userdata", function()
      assert.has_error(function() json.encode(print) end, "json encode: cannot encode a function")
      assert.has_error(function() json.encode({ f = function() end }) end)
      assert.has_error(function() json.encode(coroutine.create(print)) end)
      assert.has_error(function() json.encode(io.stdout) end)
    end)

    it("raises on keys that are not strings or integers", function()
      assert.has_error(function() json.encode({ [1.5] = 1 }) end,
        "json encode: object keys must be strings")
      assert.has_error(function() json.encode({ [true] = 1, a = 1 }) end)
      assert.has_error(function() json.encode({ [{}] = 1 }) end)
    end)

    it("encodes 64 levels of nesting and raises beyond", function()
      assert.matches("^%[+1%]+$", json.encode(nest(64, 1)))
      assert.has_error(function() json.encode(nest(65, 1)) end,
        "json encode: nesting deeper than 64")
      assert.has_error(function() json.encode(nest(1000, 1)) end)
    end)

    it("writes only what decode reads back (the depth caps agree)", function()
      for levels = 62, 66 do
        local ok, text = pcall(json.encode, nest(levels, 1))
        if ok then
          assert.is_table(json.decode(text), "levels " .. levels)
        end
      end
    end)

    it("raises on a table that contains itself, instead of looping", function()
      local loop = {}
      loop.self = loop
      assert.has_error(function() json.encode(loop) end, "json encode: nesting deeper than 64")
    end)

    it("raises when called without a value", function()
      assert.has_error(function() json.encode() end)
    end)

    it("handles long strings", function()
      local long = string.rep("abc\"<", 100000)
      assert.equal(long, decode_ok(json.encode(long)))
    end)
  end)

  describe("decode", function()
    it("decodes objects, arrays, strings, numbers and booleans", function()
      assert.same({ a = { 1, 2, { b = "c" } }, t = true, f = false },
        decode_ok('{"a":[1,2,{"b":"c"}],"t":true,"f":false}'))
      assert.equal("é€", decode_ok('"\\u00e9\\u20ac"'))
      assert.equal(-1.25e-3, decode_ok("-1.25e-3"))
      assert.equal("x", decode_ok('  "x"  '))
    end)

    it("decodes null as the core.json.null sentinel, not nil", function()
      local value = decode_ok('{"a":null}')
      assert.equal(json.null, value.a)
      assert.is_not_nil(value.a)
      assert.equal(json.null, decode_ok("null"))
      assert.same({ json.null, 1 }, decode_ok("[null,1]"))
    end)

    it("returns nil, err for garbage instead of raising", function()
      for _, garbage in ipairs({ "", " ", "{", "}", "[1,]", "{'a':1}", "{a:1}", "tru",
        '"unterminated', "[1 2]", "\0", '{"a":1}x', "1 2", "\255\254" }) do
        refuses(garbage)
      end
    end)

    it("refuses NaN, Infinity and hex numbers", function()
      for _, text in ipairs({ "NaN", "-NaN", "Infinity", "-Infinity", "[Infinity]", "0x10",
        '{"id":0x1F}', "nan", "inf" }) do
        refuses(text)
      end
    end)

    it("decodes numbers as Lua numbers; too-large ones become inf for the schema to refuse", function()
      assert.equal(9007199254740992.0, decode_ok("9007199254740993"))
      assert.equal(math.huge, decode_ok("1e400"))
    end)

    it("refuses lone surrogates", function()
      refuses('"\\ud800"')
      refuses('"\\udc00x"')
      assert.equal("\xf0\x9f\x98\x80", decode_ok('"\\ud83d\\ude00"'))
    end)

    it("decodes 64 levels of nesting and refuses deeper, fast", function()
      assert.is_table(decode_ok(string.rep("[", 64) .. string.rep("]", 64)))
      refuses(string.rep("[", 65) .. string.rep("]", 65))
      refuses(string.rep('{"a":', 65) .. "1" .. string.rep("}", 65))
      local start = core.time.monotonic_ms()
      refuses(string.rep("[", 100000))
      refuses(string.rep('{"a":', 100000))
      assert.is_true(core.time.monotonic_ms() - start < 1000)
    end)

    it("keeps the last of duplicate keys", function()
      assert.equal("admin", decode_ok('{"role":"user","role":"admin"}').role)
    end)

    it("raises when given something other than a string", function()
      assert.has_error(function() json.decode(nil) end)
      assert.has_error(function() json.decode({}) end)
    end)

    it("round-trips what encode writes", function()
      local value = { s = "a\"b\\c\n<>&", n = { 1, 2.5, -3 }, nested = { deeper = { true, false } },
        empty = {}, list = json.array() }
      local back = decode_ok(json.encode(value))
      assert.same({ s = value.s, n = value.n, nested = value.nested, empty = {}, list = {} }, back)
    end)
  end)

  describe("raw", function()
    it("writes trusted JSON text as it is, where a value goes", function()
      local raw = core.json.raw('[{"a":1},{"b":"<x>"}]')
      assert.equal('{"items":[{"a":1},{"b":"<x>"}]}', core.json.encode({ items = raw }))
      assert.equal('[]', core.json.encode(core.json.raw("[]")))
    end)

    it("raises on a non-string", function()
      assert.has_error(function() core.json.raw({}) end)
    end)
  end)
end)
