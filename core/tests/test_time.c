/* test_time.c -- core.time through a real lua_State: the clocks, RFC 3339 text written
 * with milliseconds and checked against strftime, parsing with offsets and bare dates,
 * and the refusals (impossible dates, malformed text, NUL bytes, out-of-range times). */
#include <stdlib.h>
#include <time.h>

#include "harness.h"

/* Pushes T and EXPECTED (strftime's text for whole seconds T) as globals. */
static void set_expected(lua_State *L, time_t t) {
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    lua_pushinteger(L, (lua_Integer)t);
    lua_setglobal(L, "T");
    lua_pushstring(L, buf);
    lua_setglobal(L, "EXPECTED");
}

static void check_clocks(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)time(NULL));
    lua_setglobal(L, "C_NOW");
    CHECK(run_lua(L, "local now, unix = core.time.now(), core.time.unix()\n"
                     "return math.type(now) == 'float' and math.type(unix) == 'integer'\n"
                     "  and math.abs(unix - C_NOW) <= 1 and math.abs(now - unix) < 2"),
          "now and unix follow the wall clock");
    CHECK(run_lua(L, "local a = core.time.monotonic_ms()\n"
                     "for _ = 1, 10000 do\n"
                     "  local b = core.time.monotonic_ms()\n"
                     "  if b < a then return false end\n"
                     "  a = b\n"
                     "end\n"
                     "return math.type(a) == 'integer'"),
          "monotonic_ms never goes back");
}

static void check_iso8601(lua_State *L) {
    int agreed = 1;
    unsigned seed = 12345;
    for (int i = 0; i < 2000 && agreed; i++) {
        seed = seed * 1103515245u + 12345u;
        time_t t = (time_t)((unsigned long long)seed * 4099u % 253402300799ull);
        set_expected(L, t);
        agreed = run_lua(L, "return core.time.iso8601(T) == EXPECTED"
                            " and core.time.parse_iso8601(EXPECTED) == T");
        if (!agreed)
            printf("#   t = %lld\n", (long long)t);
    }
    CHECK(agreed, "iso8601 agrees with strftime and parse_iso8601 inverts it (2000 times)");
    CHECK(run_lua(L, "return core.time.iso8601(0) == '1970-01-01T00:00:00.000Z'\n"
                     "  and core.time.iso8601(1700000000.25) == '2023-11-14T22:13:20.250Z'\n"
                     "  and core.time.iso8601(0.9996) == '1970-01-01T00:00:01.000Z'\n"
                     "  and core.time.iso8601(253402300799) == '9999-12-31T23:59:59.000Z'"),
          "iso8601 always writes milliseconds, rounding into the next second");
    CHECK(run_lua(L, "return core.time.iso8601():match("
                     "'^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$') ~= nil"),
          "iso8601 of now has the same shape");
    CHECK(run_lua(L, "return core.time.iso8601(-1) == '1969-12-31T23:59:59.000Z'"),
          "iso8601 writes times before 1970");
    CHECK(run_lua(L, "return not pcall(core.time.iso8601, -62135596801)"
                     " and not pcall(core.time.iso8601, 253402300800)\n"
                     "  and not pcall(core.time.iso8601, 0/0)"
                     " and not pcall(core.time.iso8601, math.huge)\n"
                     "  and not pcall(core.time.iso8601, 'x')"),
          "iso8601 raises outside years 1..9999 and for non-numbers");
}

static void check_parse(lua_State *L) {
    CHECK(run_lua(L, "local p = core.time.parse_iso8601\n"
                     "local utc = p('2024-06-01T12:00:00Z')\n"
                     "return utc == 1717243200 and math.type(utc) == 'integer'\n"
                     "  and p('2024-06-01T14:00:00+02:00') == utc\n"
                     "  and p('2024-06-01T06:30:00-05:30') == utc\n"
                     "  and p('2024-06-01t12:00:00z') == utc and p('2024-06-01 12:00:00Z') == utc"),
          "offsets, lower-case t/z and a space separator");
    CHECK(run_lua(L, "local p = core.time.parse_iso8601\n"
                     "return p('2024-01-01') == 1704067200 and p('1969-12-31') == -86400\n"
                     "  and p('2024-01-01T00:00:00.5Z') == 1704067200.5\n"
                     "  and math.type(p('2024-01-01T00:00:00.000Z')) == 'integer'"),
          "bare dates are midnight UTC; fractions give floats");
    CHECK(run_lua(L, "local p = core.time.parse_iso8601\n"
                     "return p('2024-02-29') ~= nil and p('2000-02-29') ~= nil\n"
                     "  and p('2023-02-29') == nil and p('1900-02-29') == nil"),
          "leap years");
    CHECK(run_lua(L, "local bad = {'', 'garbage', '2024-02-30', '2024-04-31', '2024-13-01',\n"
                     "  '2024-00-01', '2024-01-00', '0000-01-01', '2024-01-01T24:00:00Z',\n"
                     "  '2024-01-01T00:60:00Z', '2024-01-01T00:00:61Z', '2024-01-01T00:00:00',\n"
                     "  '2024-01-01T00:00Z', '2024-01-01T00:00:00+2400',\n"
                     "  '2024-01-01T00:00:00+24:00',\n"
                     "  '2024-01-01T00:00:00.Z', '2024-01-01T00:00:00Zjunk', '2024-1-1',\n"
                     "  ' 2024-01-01', '2024-01-01 ', '2024-01-01T', '2024',\n"
                     "  '2024-01-01T00:00:00.' .. string.rep('1', 30) .. 'Z'}\n"
                     "for _, text in ipairs(bad) do\n"
                     "  local t, err = core.time.parse_iso8601(text)\n"
                     "  if t ~= nil or err ~= 'invalid date-time' then\n"
                     "    print('#   accepted ' .. text)\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "impossible or malformed text gives nil, 'invalid date-time'");
    CHECK(run_lua(L, "local p = core.time.parse_iso8601\n"
                     "return p('2024-01-01\\0') == nil and p('2024-01-01\\0T00:00:00Z') == nil\n"
                     "  and p('2024-01-01T00:00:00Z\\0x') == nil"),
          "a NUL byte anywhere is refused");
    CHECK(run_lua(L, "return not pcall(core.time.parse_iso8601)"
                     " and not pcall(core.time.parse_iso8601, {})"),
          "parse raises for a non-string");
}

int main(void) {
    lua_State *L = harness_state();
    check_clocks(L);
    check_iso8601(L);
    check_parse(L);
    lua_close(L);
    return harness_done();
}
