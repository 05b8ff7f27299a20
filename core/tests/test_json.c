/* test_json.c -- core.json through a real lua_State: encoding of tables, strings and
 * numbers, the empty-array marker, the depth caps of both directions, the refusals
 * (NaN, Infinity, hex, garbage), the null sentinel, and errors raised mid-encode
 * (the output buffer must not leak). */
#include <stdlib.h>

#include "harness.h"

/* Helpers for the chunks below: NEST(n) builds n nested arrays around 1. */
static const char PRELUDE[] =
    "json = core.json\n"
    "function NEST(n)\n"
    "  local root = {}\n"
    "  local cur = root\n"
    "  for _ = 2, n do cur[1] = {}; cur = cur[1] end\n"
    "  cur[1] = 1\n"
    "  return root\n"
    "end\n"
    "function REFUSED(text)\n"
    "  local v, err = json.decode(text)\n"
    "  if v ~= nil or type(err) ~= 'string' or not err:find('^invalid json: ') then\n"
    "    print('#   accepted: ' .. text:sub(1, 40))\n"
    "    return false\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "return true";

static void check_encode(lua_State *L) {
    CHECK(run_lua(L, "return json.encode({1, 'two', true, false}) == '[1,\"two\",true,false]'"),
          "a sequence encodes as an array");
    CHECK(run_lua(L, "return json.encode({a = {b = {c = 1}}}) == '{\"a\":{\"b\":{\"c\":1}}}'"),
          "nested objects");
    CHECK(run_lua(L, "return json.encode({[1] = 'a', [3] = 'c'}) == '{\"1\":\"a\",\"3\":\"c\"}'"),
          "a sparse table encodes as an object with string keys");
    CHECK(run_lua(L, "return json.encode({}) == '{}' and json.encode(json.array()) == '[]'\n"
                     "  and json.encode({list = json.array({})}) == '{\"list\":[]}'"),
          "{} is an object, core.json.array() an empty array");
    CHECK(run_lua(L, "return json.encode('a\"b\\\\c\\n\\r\\t\\0\\1\\31\\127')\n"
                     "  == '\"a\\\\\"b\\\\\\\\c\\\\n\\\\r\\\\t'\n"
                     "  .. '\\\\u0000\\\\u0001\\\\u001f\\\\u007f\"'"),
          "quotes, backslashes and control characters are escaped");
    CHECK(run_lua(L, "return json.encode('<a>&') == '\"\\\\u003ca\\\\u003e\\\\u0026\"'"),
          "<, > and & are escaped");
    CHECK(run_lua(L, "return json.encode(42) == '42' and json.encode(-7) == '-7'\n"
                     "  and json.encode(math.mininteger) == '-9223372036854775808'\n"
                     "  and json.encode(0.1) == '0.1' and json.encode(1e300) == '1e+300'\n"
                     "  and json.decode(json.encode(1/3)) == 1/3\n"
                     "  and json.decode(json.encode(5e-324)) == 5e-324"),
          "integers stay integers; floats round-trip");
    CHECK(run_lua(L, "return json.encode(nil) == 'null' and json.encode(json.null) == 'null'"),
          "nil and the null sentinel encode as null");
    CHECK(run_lua(L, "for _, v in ipairs({0/0, math.huge, -math.huge}) do\n"
                     "  local ok, err = pcall(json.encode, {x = v})\n"
                     "  if ok or not err:find('NaN or infinity', 1, true) then return false end\n"
                     "end\n"
                     "return true"),
          "NaN and infinities raise");
    CHECK(run_lua(L, "return not pcall(json.encode, print)\n"
                     "  and not pcall(json.encode, {f = print})\n"
                     "  and not pcall(json.encode, {[1.5] = 1})\n"
                     "  and not pcall(json.encode, {[{}] = 1})\n"
                     "  and not pcall(json.encode, io.stdout) and not pcall(json.encode)"),
          "functions, userdata, odd keys and no argument raise");
    CHECK(run_lua(L, "local ok64 = pcall(json.encode, NEST(64))\n"
                     "local ok65, err = pcall(json.encode, NEST(65))\n"
                     "local loop = {}; loop[1] = loop\n"
                     "return ok64 and not ok65 and err:find('nesting deeper than 64', 1, true)\n"
                     "  and not pcall(json.encode, loop) and not pcall(json.encode, NEST(100000))"),
          "encode allows 64 levels and raises beyond, also for cycles");
    CHECK(run_lua(L, "for n = 60, 70 do\n"
                     "  local ok, text = pcall(json.encode, NEST(n))\n"
                     "  if ok and json.decode(text) == nil then return false end\n"
                     "end\n"
                     "return true"),
          "whatever encode writes, decode reads");
    CHECK(run_lua(L, "local big = string.rep('x', 1 << 20)\n"
                     "for _ = 1, 20 do\n"
                     "  if pcall(json.encode, {big, big, big, print}) then return false end\n"
                     "end\n"
                     "collectgarbage()\n"
                     "return #json.encode({big}) == (1 << 20) + 4"),
          "an error mid-encode leaves no buffer behind (LeakSanitizer checks at exit)");
}

static void check_decode(lua_State *L) {
    CHECK(run_lua(L, "local v = json.decode('{\"a\":[1,2,{\"b\":\"c\"}],\"t\":true,\"n\":null}')\n"
                     "return v.a[3].b == 'c' and v.t == true and v.n == json.null and #v.a == 3"),
          "decodes objects, arrays and null as the sentinel");
    CHECK(run_lua(L, "return json.null ~= nil and json.decode('null') == json.null\n"
                     "  and type(json.null) == 'userdata'"),
          "null is a non-nil lightuserdata");
    CHECK(run_lua(L, "for _, t in ipairs({'', ' ', '{', '[1,]', \"{'a':1}\", '{a:1}', 'tru',\n"
                     "  '\"open', '1 2', '{\"a\":1}x', '\\0'}) do\n"
                     "  if not REFUSED(t) then return false end\n"
                     "end\n"
                     "return true"),
          "garbage gives nil, err");
    CHECK(run_lua(L, "for _, t in ipairs({'NaN', 'Infinity', '-Infinity', '[NaN]', '0x10',\n"
                     "  '{\"n\":0x1F}', 'inf', 'nan'}) do\n"
                     "  if not REFUSED(t) then return false end\n"
                     "end\n"
                     "return true"),
          "NaN, Infinity and hex numbers are refused");
    CHECK(run_lua(L, "return json.decode(string.rep('[', 64) .. string.rep(']', 64)) ~= nil\n"
                     "  and REFUSED(string.rep('[', 65) .. string.rep(']', 65))\n"
                     "  and REFUSED(string.rep('{\"a\":', 65) .. '1' .. string.rep('}', 65))\n"
                     "  and REFUSED(string.rep('[', 1000000))"),
          "decode allows 64 levels and refuses deeper");
    CHECK(run_lua(L, "return REFUSED('\"\\\\ud800\"')\n"
                     "  and json.decode('\"\\\\u00e9\"') == '\\195\\169'"),
          "lone surrogates are refused, other escapes decoded");
    CHECK(run_lua(L, "return not pcall(json.decode) and not pcall(json.decode, {})"),
          "decode raises for a non-string");
    CHECK(run_lua(L, "local v = {s = 'a\"<>&\\0', n = {1, 2.5}, e = {}, l = json.array()}\n"
                     "local back = json.decode(json.encode(v))\n"
                     "return back.s == v.s and back.n[2] == 2.5 and next(back.e) == nil"
                     " and next(back.l) == nil"),
          "round trip");
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(run_lua(L, PRELUDE), "test helpers load");
    check_encode(L);
    check_decode(L);
    lua_close(L);
    return harness_done();
}
