local cursor = require("infra.cursor")
local ids = require("infra.ids")

local USER = ids.uuid()
local OTHER = ids.uuid()
local SCOPE = "library|||"
local POSITION = { s = "2024-01-07T10:00:00.000Z", i = "0190b4c2-7a1e-7abc-8def-0123456789ab" }

local B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- A signature made the way infra.cursor makes one, to reach the checks behind it with
-- payloads encode() would never produce.
local function forge(user_id, scope, payload)
  local mac = core.crypto.keyed_hmac("cursor", user_id .. "\n" .. scope .. "\n" .. payload)
  return payload .. "." .. core.crypto.base64url_encode(mac:sub(1, 16))
end

-- decode must answer nil for `input` without raising.
local function refused(input, label)
  local ok, result = pcall(cursor.decode, USER, SCOPE, input)
  assert.is_true(ok, "raised on " .. (label or string.format("%q", tostring(input))) .. ": "
    .. tostring(result))
  assert.is_nil(result, label or string.format("%q", tostring(input)))
end

describe("infra.cursor", function()
  it("round-trips a position for the same user and scope", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    assert.same(POSITION, cursor.decode(USER, SCOPE, c))
    local numbers = { n = 42, f = 1.5, s = "x" }
    assert.same(numbers, cursor.decode(USER, SCOPE, cursor.encode(USER, SCOPE, numbers)))
  end)

  it("is opaque URL-safe text: base64url payload, a dot, a base64url signature", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    assert.matches("^[%w_-]+%.[%w_-]+$", c)
    assert.is_nil(c:find("=", 1, true))
    assert.is_nil(c:find(POSITION.i, 1, true), "the position is not in clear text")
    assert.is_true(#c <= 512)
  end)

  it("is deterministic (no state to keep between requests)", function()
    assert.equal(cursor.encode(USER, SCOPE, POSITION), cursor.encode(USER, SCOPE, POSITION))
  end)

  it("is bound to the user", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    assert.is_nil(cursor.decode(OTHER, SCOPE, c))
    assert.is_nil(cursor.decode("", SCOPE, c))
  end)

  it("is bound to the listing it came from", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    for _, scope in ipairs({ "trash|||", "library|photo||", "library||2024-01-01T00:00:00.000Z|",
      "library||", "", "library|||x" }) do
      assert.is_nil(cursor.decode(USER, scope, c), scope)
    end
  end)

  it("keeps user and scope apart, so no split of one string fits another", function()
    local c = cursor.encode("ab", "c", POSITION)
    assert.is_nil(cursor.decode("a", "bc", c))
    assert.is_nil(cursor.decode("abc", "", c))
    assert.same(POSITION, cursor.decode("ab", "c", c))
  end)

  it("refuses the payload of one cursor with the signature of another", function()
    local a = cursor.encode(USER, SCOPE, POSITION)
    local b = cursor.encode(USER, SCOPE, { s = POSITION.s, i = "0" })
    local a_payload = a:match("^(.-)%.")
    local b_signature = b:match("%.(.*)$")
    refused(a_payload .. "." .. b_signature, "spliced")
  end)

  it("refuses every single-character change anywhere in the cursor", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    local tried = 0
    for i = 1, #c do
      for j = 1, #B64URL + 1 do
        local replacement = j <= #B64URL and B64URL:sub(j, j) or "."
        if replacement ~= c:sub(i, i) then
          refused(c:sub(1, i - 1) .. replacement .. c:sub(i + 1), "change at " .. i)
          tried = tried + 1
        end
      end
    end
    assert.is_true(tried > 1000)
  end)

  it("refuses every bit flip in every byte of the cursor", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    for i = 1, #c do
      for bit = 0, 7 do
        local flipped = string.char(c:byte(i) ~ (1 << bit))
        refused(c:sub(1, i - 1) .. flipped .. c:sub(i + 1), "bit " .. bit .. " of byte " .. i)
      end
    end
  end)

  it("refuses every truncation and any appended text", function()
    local c = cursor.encode(USER, SCOPE, POSITION)
    for n = 0, #c - 1 do
      refused(c:sub(1, n), "prefix of " .. n)
      refused(c:sub(n + 2), "suffix from " .. (n + 2))
    end
    for _, tail in ipairs({ "A", "=", "==", ".", ".x", "\n", " ", "\0", "%00" }) do
      refused(c .. tail, "appended " .. string.format("%q", tail))
      refused(tail .. c, "prepended " .. string.format("%q", tail))
    end
  end)

  it("refuses cursors longer than 512 bytes, even correctly signed ones", function()
    local accepted, refused_count = 0, 0
    for n = 300, 420 do
      local c = cursor.encode(USER, SCOPE, { s = string.rep("x", n), i = "y" })
      local position = cursor.decode(USER, SCOPE, c)
      if #c <= 512 then
        assert.equal(string.rep("x", n), position.s)
        accepted = accepted + 1
      else
        assert.is_nil(position, #c .. " bytes")
        refused_count = refused_count + 1
      end
    end
    assert.is_true(accepted > 0 and refused_count > 0)
    refused(string.rep("A", 400) .. "." .. string.rep("A", 200), "601 bytes")
    refused(string.rep("A", 1024 * 1024), "a megabyte")
  end)

  it("refuses what is not a string", function()
    for _, input in ipairs({ 42, 0.5, true, false, {}, print, core.json.null }) do
      refused(input, type(input))
    end
    refused(nil, "nil")
  end)

  it("refuses garbage shapes", function()
    for _, input in ipairs({ "", ".", "..", "a.", ".a", "a.b.c", "a..b", "a b.c", "a.b c",
      "a+b.c", "a/b.c", "a=.b", "a.b=", "\xff\xfe.\x00", "é.é", "garbage",
      "eyJzIjoxfQ", "eyJzIjoxfQ.", "eyJzIjoxfQ.AAAAAAAAAAAAAAAAAAAAAA" }) do
      refused(input)
    end
  end)

  it("refuses a correctly signed payload that is not base64url, JSON, or an object", function()
    -- control: the forged signature is the real one for a good payload
    local good = cursor.encode(USER, SCOPE, POSITION)
    assert.equal(good, forge(USER, SCOPE, good:match("^(.-)%.")))
    local b64 = core.crypto.base64url_encode
    for _, payload in ipairs({
      "A", "AAAAA", "-_-_-",                         -- not decodable base64url
      b64("not json"), b64("{\"s\":"), b64(""), b64("\0\1\2"),
      b64("42"), b64("\"text\""), b64("null"), b64("true"),
    }) do
      refused(forge(USER, SCOPE, payload), "signed " .. payload)
    end
  end)

  it("refuses positions that are JSON but not objects, even from encode", function()
    for _, position in ipairs({ 42, "text", true }) do
      refused(cursor.encode(USER, SCOPE, position), tostring(position))
    end
  end)

  it("never raises and never accepts on thousands of random inputs", function()
    math.randomseed(20240517)
    local function random_from(alphabet, n)
      local chars = {}
      for k = 1, n do
        local at = math.random(#alphabet)
        chars[k] = alphabet:sub(at, at)
      end
      return table.concat(chars)
    end
    local bytes = {}
    for b = 0, 255 do
      bytes[#bytes + 1] = string.char(b)
    end
    local all_bytes = table.concat(bytes)
    for _ = 1, 2000 do
      refused(random_from(all_bytes, math.random(0, 700)), "random bytes")
    end
    for _ = 1, 2000 do
      local left, right = math.random(0, 400), math.random(0, 40)
      refused(random_from(B64URL, left) .. "." .. random_from(B64URL, right), "random cursor")
    end
    -- random payloads with a real signature: decodes or refuses, never raises
    for _ = 1, 500 do
      local payload = random_from(B64URL, math.random(1, 100))
      local ok, result = pcall(cursor.decode, USER, SCOPE, forge(USER, SCOPE, payload))
      assert.is_true(ok, tostring(result))
      assert.is_true(result == nil or type(result) == "table")
    end
  end)
end)
