local schema = require("api.schema")

-- Stands in for cjson.null: any unique value works.
local NULL = setmetatable({}, { __name = "null" })
local JSON = { null = NULL }
local QUERY = { from_query = true }

local function accepts(s, value, opts)
  local cleaned, err = schema.validate(s, value, opts)
  assert.is_nil(err)
  return cleaned
end

local function rejects(s, value, field, message, opts)
  local cleaned, err = schema.validate(s, value, opts)
  assert.is_nil(cleaned)
  assert.is_table(err)
  assert.are.same({ field = field, message = message }, err)
end

describe("api.schema", function()
  describe("constructors", function()
    it("raises on unknown options, with a hint for optional", function()
      assert.has_error(function() schema.string({ minLength = 1 }) end,
        'schema.string: unknown option "minLength"')
      assert.has_error(function() schema.integer({ optional = true }) end,
        'schema.integer: unknown option "optional" (fields are optional unless'
          .. " listed in the object's required list)")
    end)

    it("raises on malformed bounds", function()
      assert.has_error(function() schema.string({ min = -1 }) end)
      assert.has_error(function() schema.string({ max = 1.5 }) end)
      assert.has_error(function() schema.string({ min = 3, max = 2 }) end)
      assert.has_error(function() schema.integer({ min = "1" }) end)
      assert.has_error(function() schema.number({ max = 0 / 0 }) end)
      assert.has_error(function() schema.number({ min = math.huge }) end)
      assert.has_error(function() schema.array(schema.string(), { min_items = -1 }) end)
    end)

    it("raises on a bad enum, format, pattern or nullable flag", function()
      assert.has_error(function() schema.string({ enum = {} }) end)
      assert.has_error(function() schema.string({ enum = { 1 } }) end)
      assert.has_error(function() schema.string({ format = "ipv4" }) end)
      assert.has_error(function() schema.string({ pattern = "[a-" }) end)
      assert.has_error(function() schema.string({ nullable = "yes" }) end)
    end)

    it("raises on non-schema children and undeclared required fields", function()
      assert.has_error(function() schema.array({}) end, "schema.array: item schema expected")
      assert.has_error(function() schema.object({ a = "string" }) end)
      assert.has_error(function() schema.object(schema.string()) end)
      assert.has_error(function()
        schema.object({ a = schema.string() }, { required = { "b" } })
      end, 'schema.object: required field "b" is not declared')
    end)

    it("refuses nullable array items", function()
      assert.has_error(function() schema.array(schema.string({ nullable = true })) end,
        "schema.array: items cannot be nullable")
    end)

    it("recognises its own schemas", function()
      assert.is_true(schema.is_schema(schema.boolean()))
      assert.is_false(schema.is_schema({ kind = "string" }))
      assert.is_false(schema.is_schema(nil))
    end)

    it("raises when validate is given something other than a schema", function()
      assert.has_error(function() schema.validate({ kind = "string" }, "x") end,
        "schema.validate: schema expected")
    end)
  end)

  describe("string", function()
    it("accepts strings and returns them untrimmed", function()
      assert.are.equal("  hi  ", accepts(schema.string(), "  hi  "))
      assert.are.equal("", accepts(schema.string(), ""))
    end)

    it("rejects other types, including {} and booleans", function()
      local s = schema.string()
      rejects(s, {}, "", "must be a string")
      rejects(s, { "a" }, "", "must be a string")
      rejects(s, 12, "", "must be a string")
      rejects(s, true, "", "must be a string")
    end)

    it("rejects invalid UTF-8", function()
      local s = schema.string()
      rejects(s, "\xff", "", "must be valid UTF-8")
      rejects(s, "ab\xc0\xaf", "", "must be valid UTF-8") -- overlong "/"
      rejects(s, "\xe0\x80\x80", "", "must be valid UTF-8") -- overlong NUL
      rejects(s, "\xed\xa0\x80", "", "must be valid UTF-8") -- lone surrogate U+D800
      rejects(s, "\xed\xbf\xbf", "", "must be valid UTF-8") -- lone surrogate U+DFFF
      rejects(s, "\xf4\x90\x80\x80", "", "must be valid UTF-8") -- above U+10FFFF
      rejects(s, "\xe2\x82", "", "must be valid UTF-8") -- truncated
    end)

    it("accepts valid multi-byte UTF-8", function()
      local text = "h\xc3\xa9 \xf0\x9f\x93\xb7" -- "hé 📷"
      assert.are.equal(text, accepts(schema.string(), text))
    end)

    it("rejects NUL bytes anywhere", function()
      local s = schema.string()
      rejects(s, "\0", "", "must not contain NUL bytes")
      rejects(s, "a\0b", "", "must not contain NUL bytes")
      rejects(s, "abc\0", "", "must not contain NUL bytes")
    end)

    it("counts length in characters, not bytes", function()
      local s = schema.string({ min = 2, max = 3 })
      assert.are.equal("\xc3\xa9\xc3\xa9\xc3\xa9", accepts(s, "\xc3\xa9\xc3\xa9\xc3\xa9"))
      rejects(s, "\xf0\x9f\x93\xb7", "", "must be at least 2 characters long")
      rejects(s, "abcd", "", "must be at most 3 characters long")
      rejects(schema.string({ min = 1 }), "", "", "must be at least 1 characters long")
    end)

    it("anchors patterns", function()
      local s = schema.string({ pattern = "[a-z]+" })
      assert.are.equal("abc", accepts(s, "abc"))
      rejects(s, "abc1", "", "has an invalid format")
      rejects(s, "1abc", "", "has an invalid format")
      rejects(s, "", "", "has an invalid format")
    end)

    it("does not double anchors the caller wrote", function()
      assert.are.equal("ab", accepts(schema.string({ pattern = "^ab$" }), "ab"))
      local dollar = schema.string({ pattern = "%d+%$" }) -- literal $ at the end
      assert.are.equal("12$", accepts(dollar, "12$"))
      rejects(dollar, "12$x", "", "has an invalid format")
    end)

    it("checks enums exactly", function()
      local s = schema.string({ enum = { "asc", "desc" } })
      assert.are.equal("desc", accepts(s, "desc"))
      rejects(s, "DESC", "", "must be one of: asc, desc")
      rejects(s, "asc ", "", "must be one of: asc, desc")
    end)

    it("checks the email format", function()
      local s = schema.string({ format = "email" })
      assert.are.equal("a.b+c@example.co.uk", accepts(s, "a.b+c@example.co.uk"))
      for _, bad in ipairs({
        "a", "a@", "@b.c", "a@b", "a@@b.c", "a b@c.de", "a@b..c", ".a@b.cd", "a.@b.cd",
        "a..b@c.de", "a@-b.cd", "a@b-.cd", "a@1.2", "\xc3\xa9@b.cd", string.rep("a", 65) .. "@b.cd",
        "a@" .. string.rep("b", 64) .. ".cd",
      }) do
        rejects(s, bad, "", "must be a valid email address")
      end
    end)

    it("checks the date-time format", function()
      local s = schema.string({ format = "date-time" })
      for _, good in ipairs({
        "2025-03-02T10:15:04Z", "2025-03-02T10:15:04.120Z", "2024-02-29T00:00:00+01:00",
        "2025-12-31T23:59:59.123456789-23:59",
      }) do
        assert.are.equal(good, accepts(s, good))
      end
      for _, bad in ipairs({
        "2025-03-02", "2025-03-02 10:15:04Z", "2025-03-02t10:15:04z", "2025-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-03-02T24:00:00Z",
        "2025-03-02T10:60:00Z", "2025-03-02T10:15:60Z", "2025-03-02T10:15:04",
        "2025-03-02T10:15:04.Z",
        "2025-03-02T10:15:04.1234567890Z", "2025-03-02T10:15:04+0100", "2025-03-02T10:15:04+24:00",
        "2025-03-02T10:15:04Zjunk", "2025-03-00T10:15:04Z",
      }) do
        rejects(s, bad, "", "must be an RFC 3339 date-time")
      end
    end)

    it("checks the uuid format", function()
      local s = schema.string({ format = "uuid" })
      assert.are.equal("0f8fad5b-d9cb-469f-a165-70867728950e",
        accepts(s, "0f8fad5b-d9cb-469f-a165-70867728950e"))
      assert.are.equal("0F8FAD5B-D9CB-469F-A165-70867728950E",
        accepts(s, "0F8FAD5B-D9CB-469F-A165-70867728950E"))
      rejects(s, "0f8fad5bd9cb469fa16570867728950e", "", "must be a UUID")
      rejects(s, "0f8fad5b-d9cb-469f-a165-70867728950g", "", "must be a UUID")
      rejects(s, "{0f8fad5b-d9cb-469f-a165-70867728950e}", "", "must be a UUID")
    end)

    it("passes SQL-looking text through untouched", function()
      for _, probe in ipairs({ "' OR 1=1--", "1;DROP", '")', "%", "_", "\\" }) do
        assert.are.equal(probe, accepts(schema.string({ max = 20 }), probe))
      end
    end)
  end)

  describe("integer", function()
    local s = schema.integer()

    it("accepts integral floats and converts them", function()
      local n = accepts(s, 12.0)
      assert.are.equal(12, n)
      assert.are.equal("integer", math.type(n))
      assert.are.equal("integer", math.type(accepts(s, -0.0)))
      assert.are.equal(7, accepts(s, 7))
    end)

    it("accepts the safe range edges", function()
      assert.are.equal(9007199254740991, accepts(s, 9007199254740991.0))
      assert.are.equal(-9007199254740991, accepts(s, -9007199254740991))
    end)

    it("rejects 2^53 and beyond, where floats lose precision", function()
      -- cjson turns 9007199254740993 into this float, which equals 2^53.
      rejects(s, 9007199254740993.0, "", "is out of range")
      rejects(s, 2.0 ^ 53, "", "is out of range")
      rejects(s, 9007199254740993, "", "is out of range")
      rejects(s, 1e300, "", "is out of range")
      rejects(s, math.mininteger, "", "is out of range")
    end)

    it("rejects inf (1e400), NaN and fractions", function()
      rejects(s, math.huge, "", "is out of range")
      rejects(s, -math.huge, "", "is out of range")
      rejects(s, 0 / 0, "", "must be an integer")
      rejects(s, 1.5, "", "must be an integer")
      rejects(s, 1e-300, "", "must be an integer")
    end)

    it("rejects non-numbers", function()
      rejects(s, "12", "", "must be an integer")
      rejects(s, true, "", "must be an integer")
      rejects(s, {}, "", "must be an integer")
    end)

    it("checks min and max", function()
      local ranged = schema.integer({ min = 1, max = 100 })
      assert.are.equal(1, accepts(ranged, 1.0))
      assert.are.equal(100, accepts(ranged, 100))
      rejects(ranged, 0, "", "must be at least 1")
      rejects(ranged, 101.0, "", "must be at most 100")
    end)
  end)

  describe("number", function()
    local s = schema.number({ min = -1.5, max = 10 })

    it("accepts finite numbers in range", function()
      assert.are.equal(2.5, accepts(s, 2.5))
      assert.are.equal(-1.5, accepts(s, -1.5))
      assert.are.equal(3, accepts(s, 3))
    end)

    it("rejects NaN, inf and non-numbers", function()
      rejects(schema.number(), 0 / 0, "", "must be a finite number")
      rejects(schema.number(), math.huge, "", "must be a finite number")
      rejects(schema.number(), -math.huge, "", "must be a finite number")
      rejects(s, "2.5", "", "must be a number")
      rejects(s, {}, "", "must be a number")
    end)

    it("checks min and max", function()
      rejects(s, -2, "", "must be at least -1.5")
      rejects(s, 10.5, "", "must be at most 10")
    end)
  end)

  describe("boolean", function()
    it("accepts only true and false", function()
      assert.is_true(accepts(schema.boolean(), true))
      assert.is_false(accepts(schema.boolean(), false))
      rejects(schema.boolean(), 1, "", "must be a boolean")
      rejects(schema.boolean(), "true", "", "must be a boolean")
      rejects(schema.boolean(), {}, "", "must be a boolean")
    end)
  end)

  describe("null", function()
    it("rejects the sentinel unless nullable", function()
      rejects(schema.string(), NULL, "", "must not be null", JSON)
      rejects(schema.integer(), NULL, "", "must not be null", JSON)
      rejects(schema.object({}), NULL, "", "must not be null", JSON)
      rejects(schema.array(schema.string()), NULL, "", "must not be null", JSON)
    end)

    it("turns null into nil when nullable", function()
      local cleaned, err = schema.validate(schema.string({ nullable = true }), NULL, JSON)
      assert.is_nil(cleaned)
      assert.is_nil(err)
    end)

    it("drops a nullable null field from the cleaned object", function()
      local s = schema.object({
        description = schema.string({ nullable = true }),
        title = schema.string(),
      }, { required = { "description" } })
      assert.are.same({ title = "x" }, accepts(s, { description = NULL, title = "x" }, JSON))
    end)

    it("rejects a null field that is not nullable, even when optional", function()
      local s = schema.object({ id = schema.integer() })
      rejects(s, { id = NULL }, "id", "must not be null", JSON)
    end)

    it("works with cjson.null and a decoded body", function()
      local cjson = require("cjson")
      local s = schema.object({
        password = schema.string({ min = 1 }),
        name = schema.string({ nullable = true }),
      }, { required = { "password" } })
      rejects(s, cjson.decode('{"password":null}'), "password", "must not be null",
        { null = cjson.null })
      assert.are.same({ password = "x" },
        accepts(s, cjson.decode('{"password":"x","name":null}'), { null = cjson.null }))
    end)

    it("does not know null without opts.null", function()
      rejects(schema.string({ nullable = true }), NULL, "", "must be a string")
    end)

    it("reports a missing root value as required", function()
      rejects(schema.object({}), nil, "", "is required")
    end)
  end)

  describe("array", function()
    local s = schema.array(schema.integer(), { min_items = 1, max_items = 3 })

    it("accepts sequences and cleans each item", function()
      local cleaned = accepts(s, { 1.0, 2.0 })
      assert.are.same({ 1, 2 }, cleaned)
      assert.are.equal("integer", math.type(cleaned[1]))
    end)

    it("accepts an empty table as an empty array", function()
      assert.are.same({}, accepts(schema.array(schema.string()), {}))
    end)

    it("checks item counts", function()
      rejects(s, {}, "", "must have at least 1 items")
      rejects(s, { 1, 2, 3, 4 }, "", "must have at most 3 items")
    end)

    it("rejects objects, sparse tables and other types", function()
      rejects(s, { a = 1 }, "", "must be an array")
      rejects(s, { 1, 2, x = 3 }, "", "must be an array")
      rejects(s, { [1] = 1, [3] = 3 }, "", "must be an array")
      rejects(s, { [0] = 1 }, "", "must be an array")
      rejects(s, { ["1"] = 1 }, "", "must be an array") -- cjson's {"1": 1}
      rejects(s, "1", "", "must be an array")
    end)

    it("names the failing item with a 0-based index", function()
      rejects(s, { 1, 2.5 }, "[1]", "must be an integer")
    end)
  end)

  describe("object", function()
    local s = schema.object({
      name = schema.string({ min = 1 }),
      size = schema.integer({ min = 0 }),
      public = schema.boolean(),
    }, { required = { "name", "size" } })

    it("accepts declared fields and returns only them", function()
      assert.are.same({ name = "a", size = 3 }, accepts(s, { name = "a", size = 3.0 }))
      assert.are.same({ name = "a", size = 0, public = false },
        accepts(s, { name = "a", size = 0, public = false }))
    end)

    it("reports missing required fields", function()
      rejects(s, { size = 1 }, "name", "is required")
      rejects(s, { name = "a" }, "size", "is required")
    end)

    it("rejects unknown fields (mass assignment)", function()
      rejects(s, { name = "a", size = 1, owner_id = 2 }, "owner_id", "unknown field")
      rejects(s, { name = "a", size = 1, role = "admin", quota = 1 }, "quota", "unknown field")
    end)

    it("hides hostile unknown field names", function()
      rejects(s, { name = "a", size = 1, ["a\0b"] = 1 }, "?", "unknown field")
      rejects(s, { name = "a", size = 1, ["\xff"] = 1 }, "?", "unknown field")
      rejects(s, { name = "a", size = 1, [string.rep("x", 65)] = 1 }, "?", "unknown field")
    end)

    it("accepts an empty table as an empty object", function()
      assert.are.same({}, accepts(schema.object({ a = schema.string() }), {}))
    end)

    it("rejects arrays, mixed tables and other types", function()
      rejects(s, { 1, 2 }, "", "must be an object")
      rejects(s, { "a", name = "a", size = 1 }, "", "must be an object")
      rejects(s, "x", "", "must be an object")
      rejects(s, true, "", "must be an object")
    end)

    it("reports the first failing field in name order", function()
      rejects(s, { name = "", size = -1 }, "name", "must be at least 1 characters long")
    end)

    it("builds dotted and indexed paths for nested errors", function()
      local nested = schema.object({
        a = schema.object({
          b = schema.object({ c = schema.integer() }, { required = { "c" } }),
        }, { required = { "b" } }),
        items = schema.array(schema.object({
          name = schema.string({ max = 5 }),
          tags = schema.array(schema.string()),
        }, { required = { "name" } })),
      })
      rejects(nested, { a = { b = { c = "1" } } }, "a.b.c", "must be an integer")
      rejects(nested, { a = { b = {} } }, "a.b.c", "is required")
      rejects(nested, { a = {} }, "a.b", "is required")
      rejects(nested, { a = { b = { c = 1, d = 2 } } }, "a.b.d", "unknown field")
      local items = { { name = "a" }, { name = "b" }, { name = "toolong" } }
      rejects(nested, { items = items }, "items[2].name", "must be at most 5 characters long")
      rejects(nested, { items = { { name = "a" }, {} } }, "items[1].name", "is required")
      rejects(nested, { items = { { name = "a", tags = { "x", "\xff" } } } },
        "items[0].tags[1]", "must be valid UTF-8")
      rejects(nested, { items = { { name = "a", extra = true } } }, "items[0].extra",
        "unknown field")
      rejects(nested, { items = { 1 } }, "items[0]", "must be an object")
    end)

    it("copies instead of returning the input", function()
      local input = { name = "a", size = 1 }
      local cleaned = accepts(s, input)
      assert.are_not.equal(input, cleaned)
    end)
  end)

  describe("hostile JSON decoded by cjson", function()
    local cjson = require("cjson")
    local opts = { null = cjson.null }
    local s = schema.object({
      id = schema.integer({ min = 1 }),
      name = schema.string({ max = 100 }),
    }, { required = { "id" } })

    local function decode(text)
      local decoder = cjson.new()
      return decoder.decode(text)
    end

    it("rejects numbers that are not safe integers", function()
      rejects(s, decode('{"id":1e400}'), "id", "is out of range", opts)
      rejects(s, decode('{"id":-1e400}'), "id", "is out of range", opts)
      rejects(s, decode('{"id":9007199254740993}'), "id", "is out of range", opts)
      rejects(s, decode('{"id":NaN}'), "id", "must be an integer", opts)
      rejects(s, decode('{"id":Infinity}'), "id", "is out of range", opts)
      rejects(s, decode('{"id":1.5}'), "id", "must be an integer", opts)
      assert.are.same({ id = 16 }, accepts(s, decode('{"id":0x10}'), opts)) -- decoder's job
    end)

    it("rejects wrong JSON types", function()
      rejects(s, decode('{"id":null}'), "id", "must not be null", opts)
      rejects(s, decode('{"id":true}'), "id", "must be an integer", opts)
      rejects(s, decode('{"id":{}}'), "id", "must be an integer", opts)
      rejects(s, decode('{"id":"1"}'), "id", "must be an integer", opts)
      rejects(s, decode('{"id":1,"name":{}}'), "name", "must be a string", opts)
      rejects(s, decode('{"id":1,"name":[]}'), "name", "must be a string", opts)
      rejects(s, decode('[1]'), "", "must be an object", opts)
      rejects(s, decode('null'), "", "must not be null", opts)
    end)

    it("rejects escaped NUL and surrogates in strings", function()
      rejects(s, decode('{"id":1,"name":"a\\u0000b"}'), "name", "must not contain NUL bytes", opts)
      -- cjson refuses an escaped lone surrogate itself, but passes raw bytes on.
      assert.is_false(pcall(decode, '{"id":1,"name":"\\ud800"}'))
      rejects(s, decode('{"id":1,"name":"\xed\xa0\x80"}'), "name", "must be valid UTF-8", opts)
      rejects(s, decode('{"id":1,"name":"\xc0\xaf"}'), "name", "must be valid UTF-8", opts)
      rejects(s, decode('{"id":1,"name":"\xff"}'), "name", "must be valid UTF-8", opts)
    end)

    it("keeps the last duplicate key, as cjson does", function()
      assert.are.same({ id = 2 }, accepts(s, decode('{"id":1,"id":2}'), opts))
    end)
  end)

  describe("from_query", function()
    local s = schema.object({
      limit = schema.integer({ min = 1, max = 100 }),
      offset = schema.integer(),
      ratio = schema.number(),
      trashed = schema.boolean(),
      q = schema.string({ max = 10 }),
      ids = schema.array(schema.integer()),
    })

    it("parses integers, numbers and booleans from strings", function()
      local cleaned = accepts(s, {
        limit = "12", offset = "-3", ratio = "0.25", trashed = "true", q = "12",
      }, QUERY)
      assert.are.same({ limit = 12, offset = -3, ratio = 0.25, trashed = true, q = "12" }, cleaned)
      assert.are.equal("integer", math.type(cleaned.limit))
      assert.is_false(accepts(s, { trashed = "false" }, QUERY).trashed)
      assert.are.same({ offset = 0 }, accepts(s, { offset = "0" }, QUERY))
      assert.are.same({ ratio = 3 }, accepts(s, { ratio = "3" }, QUERY))
    end)

    it("rejects loose integer spellings", function()
      for _, bad in ipairs({
        "12abc", "1e3", " 1", "1 ", "+1", "01", "0x10", "1.0", "", "-", "inf", "nan", "１",
      }) do
        rejects(s, { offset = bad }, "offset", "must be an integer", QUERY)
      end
    end)

    it("rejects loose number spellings", function()
      for _, bad in ipairs({ "1e3", "1.", ".5", "0x1p4", " 1", "+1", "01.5", "inf", "nan", "" }) do
        rejects(s, { ratio = bad }, "ratio", "must be a number", QUERY)
      end
    end)

    it("rejects loose boolean spellings", function()
      for _, bad in ipairs({ "1", "0", "yes", "True", "TRUE", "" }) do
        rejects(s, { trashed = bad }, "trashed", "must be a boolean", QUERY)
      end
    end)

    it("still applies ranges and the safe integer limit", function()
      rejects(s, { limit = "0" }, "limit", "must be at least 1", QUERY)
      rejects(s, { limit = "101" }, "limit", "must be at most 100", QUERY)
      rejects(s, { offset = "9007199254740992" }, "offset", "is out of range", QUERY)
      rejects(s, { offset = "99999999999999999999999" }, "offset", "is out of range", QUERY)
    end)

    it("takes one or repeated values for arrays", function()
      assert.are.same({ ids = { 7 } }, accepts(s, { ids = "7" }, QUERY))
      assert.are.same({ ids = { 7, 8 } }, accepts(s, { ids = { "7", "8" } }, QUERY))
      rejects(s, { ids = { "7", "x" } }, "ids[1]", "must be an integer", QUERY)
    end)

    it("rejects unknown parameters and NUL bytes", function()
      rejects(s, { limit = "1", sort = "name" }, "sort", "unknown field", QUERY)
      rejects(s, { q = "a\0" }, "q", "must not contain NUL bytes", QUERY)
    end)

    it("does not parse strings without from_query", function()
      rejects(s, { limit = "12" }, "limit", "must be an integer")
    end)
  end)

  describe("to_json_schema", function()
    it("describes strings", function()
      assert.are.same({
        type = "string",
        minLength = 1,
        maxLength = 200,
        format = "email",
        description = "login name",
      }, schema.to_json_schema(schema.string({
        min = 1, max = 200, format = "email", description = "login name",
      })))
      assert.are.same({ type = "string", enum = { "asc", "desc" } },
        schema.to_json_schema(schema.string({ enum = { "asc", "desc" } })))
      assert.are.same({ type = "string", ["x-lua-pattern"] = "[a-z]+" },
        schema.to_json_schema(schema.string({ pattern = "[a-z]+" })))
    end)

    it("describes numbers and booleans", function()
      assert.are.same({ type = "integer", minimum = 1, maximum = 100 },
        schema.to_json_schema(schema.integer({ min = 1, max = 100 })))
      assert.are.same({ type = "number", minimum = 0.5 },
        schema.to_json_schema(schema.number({ min = 0.5 })))
      assert.are.same({ type = "boolean" }, schema.to_json_schema(schema.boolean()))
    end)

    it("describes nullable values with a null type", function()
      assert.are.same({ type = { "string", "null" } },
        schema.to_json_schema(schema.string({ nullable = true })))
      assert.are.same({
        type = { "object", "null" },
        properties = {},
        additionalProperties = false,
      }, schema.to_json_schema(schema.object({}, { nullable = true })))
      assert.are.same({
        anyOf = { { type = "string", enum = { "a" } }, { type = "null" } },
        description = "d",
      }, schema.to_json_schema(schema.string({
        enum = { "a" }, nullable = true, description = "d",
      })))
    end)

    it("describes arrays and objects", function()
      local s = schema.object({
        title = schema.string({ max = 200 }),
        asset_ids = schema.array(schema.integer({ min = 1 }), { min_items = 1, max_items = 500 }),
      }, { required = { "title" } })
      assert.are.same({
        type = "object",
        properties = {
          title = { type = "string", maxLength = 200 },
          asset_ids = {
            type = "array",
            items = { type = "integer", minimum = 1 },
            minItems = 1,
            maxItems = 500,
          },
        },
        required = { "title" },
        additionalProperties = false,
      }, schema.to_json_schema(s))
    end)

    it("omits an empty required list", function()
      assert.is_nil(schema.to_json_schema(schema.object({ a = schema.string() })).required)
    end)

    it("returns tables cjson encodes as the intended JSON", function()
      local cjson = require("cjson")
      local s = schema.object({
        tags = schema.array(schema.string(), { max_items = 0 }),
        empty = schema.object({}),
      }, { required = { "tags" } })
      local round_trip = cjson.decode(cjson.encode(schema.to_json_schema(s)))
      assert.are.same({ "tags" }, round_trip.required)
      assert.are.same({}, round_trip.properties.empty.properties)
      assert.is_false(round_trip.additionalProperties)
      assert.are.equal(0, round_trip.properties.tags.maxItems)
    end)

    it("returns fresh tables", function()
      local s = schema.string({ enum = { "a" } })
      local first = schema.to_json_schema(s)
      first.enum[1] = "changed"
      assert.are.same({ "a" }, schema.to_json_schema(s).enum)
    end)

    it("raises on something other than a schema", function()
      assert.has_error(function() schema.to_json_schema({ type = "string" }) end,
        "schema.to_json_schema: schema expected")
    end)
  end)
end)
