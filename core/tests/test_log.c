/* test_log.c -- core.log and log.c through a real lua_State, reading what they write to
 * stderr: the logfmt shape (ts, level, mod, req, msg, then the fields in byte order),
 * quoting and escaping (checked exactly and by a decoding round trip), the module name
 * from fields.mod, level filtering, unsafe field names left out, non-string values, the
 * 64-field cap, and lines or fields that fill their buffers to the last byte. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../log.h"
#include "harness.h"

/* Sanitizer reports go to fd 2; while it is captured they are sent to the real stderr. */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static FILE *capture_file;
static int saved_stderr = -1;

/* Points fd 2 at a fresh temp file. 0 | -1. */
static int capture_begin(void) {
    fflush(stderr);
    capture_file = tmpfile();
    if (!capture_file)
        return -1;
    saved_stderr = dup(STDERR_FILENO);
    if (saved_stderr < 0 || dup2(fileno(capture_file), STDERR_FILENO) < 0) {
        if (saved_stderr >= 0)
            close(saved_stderr);
        saved_stderr = -1;
        fclose(capture_file);
        capture_file = NULL;
        return -1;
    }
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
    return 0;
}

/* Restores fd 2 and returns what was written meanwhile: malloc'd, NUL-terminated, *len
 * bytes before the NUL (NULL when it cannot be read). */
static char *capture_end(size_t *len) {
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)STDERR_FILENO);
    close(saved_stderr);
    saved_stderr = -1;
    *len = 0;
    char *out = NULL;
    long size = -1;
    if (fseek(capture_file, 0, SEEK_END) == 0)
        size = ftell(capture_file);
    if (size >= 0 && fseek(capture_file, 0, SEEK_SET) == 0 && (out = malloc((size_t)size + 1))) {
        *len = fread(out, 1, (size_t)size, capture_file);
        out[*len] = '\0';
    }
    fclose(capture_file);
    capture_file = NULL;
    return out;
}

/* capture(fn) -> text written to stderr while fn ran, ok, err (fn runs under pcall). */
static int l_capture(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    if (capture_begin() != 0)
        return luaL_error(L, "capture: %s", strerror(errno));
    int ok = lua_pcall(L, 0, 0, 0) == LUA_OK;
    if (ok)
        lua_pushnil(L);
    size_t n;
    char *out = capture_end(&n);
    lua_pushlstring(L, out ? out : "", n);
    free(out);
    lua_pushboolean(L, ok);
    lua_rotate(L, -3, -1);   /* err, out, ok -> out, ok, err */
    return 3;
}

/* Lua helpers: parse() decodes one logfmt line (quoted values unescaped) into a list
 * of {key, value}; log1(fn) runs fn, insists on exactly one line and returns the list,
 * a key -> value map and the raw line; keys() lists the keys in order. */
static const char *const PRELUDE =
    "function parse(line)\n"
    "  local kv, pos = {}, 1\n"
    "  while pos <= #line do\n"
    "    local k, p = line:match('^([^=%s\"]+)=()', pos)\n"
    "    if not k then return nil, 'no key=value at byte ' .. pos end\n"
    "    local v\n"
    "    if line:sub(p, p) == '\"' then\n"
    "      local q, buf = p + 1, {}\n"
    "      while true do\n"
    "        local c = line:sub(q, q)\n"
    "        if c == '' then return nil, 'unterminated quote' end\n"
    "        if c == '\"' then break end\n"
    "        if c == '\\\\' then\n"
    "          local e = line:sub(q + 1, q + 1)\n"
    "          if e == 'n' then buf[#buf + 1] = '\\n'; q = q + 2\n"
    "          elseif e == 'x' then\n"
    "            local hex = line:sub(q + 2, q + 3)\n"
    "            if not hex:match('^%x%x$') then return nil, 'bad \\\\x escape' end\n"
    "            buf[#buf + 1] = string.char(tonumber(hex, 16)); q = q + 4\n"
    "          elseif e == '\"' or e == '\\\\' then buf[#buf + 1] = e; q = q + 2\n"
    "          else return nil, 'bad escape at byte ' .. q end\n"
    "        else\n"
    "          buf[#buf + 1] = c; q = q + 1\n"
    "        end\n"
    "      end\n"
    "      v, pos = table.concat(buf), q + 1\n"
    "    else\n"
    "      v, pos = line:match('^([^ ]*)()', p)\n"
    "    end\n"
    "    kv[#kv + 1] = {k, v}\n"
    "    if pos <= #line then\n"
    "      if line:sub(pos, pos) ~= ' ' then return nil, 'no space at byte ' .. pos end\n"
    "      pos = pos + 1\n"
    "      if pos > #line then return nil, 'trailing space' end\n"
    "    end\n"
    "  end\n"
    "  return kv\n"
    "end\n"
    "function log1(fn)\n"
    "  local out, ok, err = capture(fn)\n"
    "  if not ok then error('log call raised: ' .. tostring(err), 2) end\n"
    "  local line = out:match('^([^\\n]*)\\n$')\n"
    "  if not line then error(string.format('not one line: %q', out), 2) end\n"
    "  local kv, perr = parse(line)\n"
    "  if not kv then error(perr .. ' in ' .. string.format('%q', line), 2) end\n"
    "  local map = {}\n"
    "  for _, p in ipairs(kv) do map[p[1]] = p[2] end\n"
    "  return kv, map, line\n"
    "end\n"
    "function keys(kv)\n"
    "  local list = {}\n"
    "  for _, p in ipairs(kv) do list[#list + 1] = p[1] end\n"
    "  return table.concat(list, ' ')\n"
    "end\n"
    "return true";

static void check_shape(lua_State *L) {
    CHECK(run_lua(L, "local kv, map, line = log1(function()\n"
                     "  core.log.info('hello world', {mod = 'auth', b = 2, a = 'x'})\n"
                     "end)\n"
                     "return line:match('^ts=%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ"
                     " level=info mod=auth msg=\"hello world\" a=x b=2$') ~= nil\n"
                     "  and keys(kv) == 'ts level mod msg a b'"),
          "ts, level, mod, msg, then the fields; mod is not repeated among them");
    CHECK(run_lua(L, "local _, map = log1(function() core.log.warn('m') end)\n"
                     "local ts = core.time.parse_iso8601(map.ts)\n"
                     "return ts ~= nil and math.abs(ts - core.time.now()) < 2"
                     " and map.level == 'warn'"),
          "ts is the current UTC time");
    CHECK(run_lua(L, "for _, fields in ipairs({false, {}, {mod = 5, x = 1}, {mod = {}},"
                     " {mod = true}}) do\n"
                     "  local kv, map = log1(function()\n"
                     "    core.log.info('m', fields or nil)\n"
                     "  end)\n"
                     "  if map.mod ~= 'lua' then return false end\n"
                     "  local n = 0\n"
                     "  for _, p in ipairs(kv) do if p[1] == 'mod' then n = n + 1 end end\n"
                     "  if n ~= 1 then return false end\n"
                     "end\n"
                     "return true"),
          "without a string fields.mod the module is lua, and mod appears once");
    CHECK(run_lua(L, "local _, map, line = log1(function()\n"
                     "  core.log.info('m', {mod = 'my \"mod\"\\n'})\n"
                     "end)\n"
                     "return map.mod == 'my \"mod\"\\n'"
                     " and line:find(' mod=\"my \\\\\"mod\\\\\"\\\\n\" ', 1, true) ~= nil"),
          "fields.mod is quoted and escaped like any value");
    CHECK(run_lua(L, "local kv, map = log1(function() core.log.info('m', 'not a table') end)\n"
                     "local kv2 = log1(function() core.log.info('m', 7) end)\n"
                     "return keys(kv) == 'ts level mod msg' and map.mod == 'lua'"
                     " and keys(kv2) == 'ts level mod msg'"),
          "fields that are not a table are ignored");
    CHECK(run_lua(L, "local _, map = log1(function() core.log.info(42) end)\n"
                     "local out = capture(function()\n"
                     "  assert(not pcall(core.log.info))\n"
                     "  assert(not pcall(core.log.info, {}))\n"
                     "  assert(not pcall(core.log.error, nil, {a = 1}))\n"
                     "  assert(not pcall(core.log.debug, {}))   -- raises even when dropped\n"
                     "end)\n"
                     "return map.msg == '42' and out == ''"),
          "msg must be a string (or number); otherwise it raises and writes nothing");

    core_set_request_id("9f2c-req");
    CHECK(run_lua(L, "local kv, map = log1(function() core.log.info('m', {z = 1}) end)\n"
                     "return keys(kv) == 'ts level mod req msg z' and map.req == '9f2c-req'"),
          "the request id goes between mod and msg");
    core_set_request_id(NULL);
    CHECK(run_lua(L, "local kv = log1(function() core.log.info('m') end)\n"
                     "return keys(kv) == 'ts level mod msg'"),
          "no req outside a request");
}

static void check_sorting_and_names(lua_State *L) {
    CHECK(run_lua(L, "local kv = log1(function()\n"
                     "  core.log.info('m', {b = 1, aa = 1, ['a.b'] = 1, ['a-b'] = 1, a = 1,"
                     " ['_x'] = 1, B = 1, ['0'] = 1, Z9 = 1})\n"
                     "end)\n"
                     "return keys(kv) == 'ts level mod msg 0 B Z9 _x a a-b a.b aa b'"),
          "fields come in byte order of their names");
    CHECK(run_lua(L, "local fields = {['a b'] = 1, ['a=b'] = 1, ['a\"b'] = 1, ['a\\nb'] = 1,\n"
                     "  [''] = 1, [string.rep('k', 65)] = 1, ['caf\\195\\169'] = 1,"
                     " ['a\\0b'] = 1,\n"
                     "  ['a/b'] = 1, ['a:b'] = 1, ['a\\\\b'] = 1, ['\\127'] = 1,\n"
                     "  [1] = 'positional', [true] = 1, [2.5] = 1, [print] = 1,\n"
                     "  ok = 1, [string.rep('k', 64)] = 1, ['A.z-_9'] = 1}\n"
                     "local kv, map, line = log1(function() core.log.info('m', fields) end)\n"
                     "return keys(kv) == 'ts level mod msg A.z-_9 ' .. string.rep('k', 64)"
                     " .. ' ok'\n"
                     "  and not line:find('positional', 1, true)"),
          "names outside [A-Za-z0-9_.-], empty or longer than 64 bytes are left out");
}

static void check_quoting(lua_State *L) {
    CHECK(run_lua(L, "local values = {\n"
                     "  {'plain', 'abc', 'plain=abc'},\n"
                     "  {'empty', '', 'empty=\"\"'},\n"
                     "  {'space', 'a b', 'space=\"a b\"'},\n"
                     "  {'quote', 'say \"hi\"', 'quote=\"say \\\\\"hi\\\\\"\"'},\n"
                     "  {'bs', 'C:\\\\dir', 'bs=\"C:\\\\\\\\dir\"'},\n"
                     "  {'eq', 'a=b', 'eq=\"a=b\"'},\n"
                     "  {'nl', 'one\\ntwo', 'nl=\"one\\\\ntwo\"'},\n"
                     "  {'cr', 'a\\rb', 'cr=\"a\\\\x0db\"'},\n"
                     "  {'tab', 'a\\tb', 'tab=\"a\\\\x09b\"'},\n"
                     "  {'esc', '\\27[31m', 'esc=\"\\\\x1b[31m\"'},\n"
                     "  {'del', 'x\\127', 'del=\"x\\\\x7f\"'},\n"
                     "  {'utf8', 'caf\\195\\169', 'utf8=caf\\195\\169'},\n"
                     "  {'lead', ' x', 'lead=\" x\"'},\n"
                     "  {'url', 'https://x.test/a?b=c', 'url=\"https://x.test/a?b=c\"'},\n"
                     "}\n"
                     "for _, v in ipairs(values) do\n"
                     "  local _, map, line = log1(function() core.log.info('m', {[v[1]] = v[2]})"
                     " end)\n"
                     "  if not line:find(' ' .. v[3], 1, true) or map[v[1]] ~= v[2]"
                     " or line:sub(-#v[3] - 1) ~= ' ' .. v[3] then\n"
                     "    print(string.format('#   %s: %q', v[1], line))\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "values are quoted when needed and escape quotes, backslashes, newlines, controls");
    CHECK(run_lua(L, "local _, map, line = log1(function()\n"
                     "  core.log.error('first line\\nlevel=error mod=forged msg=\"x\"')\n"
                     "end)\n"
                     "return map.msg == 'first line\\nlevel=error mod=forged msg=\"x\"'"
                     " and map.mod == 'lua' and map.level == 'error'"),
          "a message cannot start a second line or forge pairs");
    CHECK(run_lua(L, "math.randomseed(20240601)\n"
                     "for i = 1, 500 do\n"
                     "  local bytes = {}\n"
                     "  for j = 1, math.random(0, 40) do bytes[j] = math.random(1, 255) end\n"
                     "  local s = string.char(table.unpack(bytes))\n"
                     "  local _, map, line = log1(function() core.log.info(s, {v = s}) end)\n"
                     "  if map.msg ~= s or map.v ~= s or line:find('[%z\\1-\\31\\127]') then\n"
                     "    print(string.format('#   %q -> %q', s, line))\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "500 random byte strings decode back exactly; no raw control byte in the line");
    CHECK(run_lua(L, "local out = capture(function() core.log.info('a\\0b', {v = 'x\\0y'}) end)\n"
                     "local _, map = log1(function() core.log.info('a\\0b', {v = 'x\\0y'}) end)\n"
                     "return not out:find('\\0', 1, true) and map.msg:sub(1, 1) == 'a'"
                     " and map.v:sub(1, 1) == 'x'"),
          "a NUL byte in msg or a value never reaches the line");
}

static void check_values(lua_State *L) {
    CHECK(run_lua(L, "local fields = {i = 42, f = 2.5, whole = 3.0, neg = -1,"
                     " big = math.maxinteger,\n"
                     "  yes = true, no = false, inf = math.huge, nan = 0/0, tbl = {},"
                     " fn = print,\n"
                     "  co = coroutine.create(print),"
                     " obj = setmetatable({}, {__tostring = function() return 'obj!' end}),\n"
                     "  named = setmetatable({}, {__name = 'Thing'})}\n"
                     "local _, m = log1(function() core.log.info('m', fields) end)\n"
                     "return m.i == '42' and m.f == '2.5' and m.whole == '3.0' and m.neg == '-1'\n"
                     "  and m.big == '9223372036854775807' and m.yes == 'true'"
                     " and m.no == 'false'\n"
                     "  and m.inf == 'inf' and m.nan:match('^%-?nan$') ~= nil\n"
                     "  and m.tbl:match('^table: ') ~= nil"
                     " and m.fn:match('^%a+: ') ~= nil\n"
                     "  and m.co:match('^thread: ') ~= nil and m.obj == 'obj!'"
                     " and m.named:match('^Thing: ') ~= nil"),
          "non-string values are formatted with tostring's rules, without raising");
    /* A __tostring that raises (or returns a non-string) may raise through core.log, but
     * must leave no partial line and the logger working. */
    CHECK(run_lua(L, "local bad = setmetatable({}, {__tostring = function() error('boom') end})\n"
                     "local odd = setmetatable({}, {__tostring = function() return {} end})\n"
                     "for _, v in ipairs({bad, odd}) do\n"
                     "  local out = capture(function() pcall(core.log.info, 'm', {a = 1, v = v})"
                     " end)\n"
                     "  if out ~= '' and not out:match('^[^\\n]*\\n$') then return false end\n"
                     "end\n"
                     "local _, map = log1(function() core.log.info('after', {a = 1}) end)\n"
                     "return map.msg == 'after' and map.a == '1'"),
          "a raising __tostring leaves no partial line and the logger working");
}

static void check_levels(lua_State *L) {
    log_set_level("warn");
    CHECK(run_lua(L, "local out = capture(function()\n"
                     "  core.log.debug('d', {a = 1})\n"
                     "  core.log.info('i', {a = 1})\n"
                     "end)\n"
                     "local _, w = log1(function() core.log.warn('w') end)\n"
                     "local _, e = log1(function() core.log.error('e') end)\n"
                     "return out == '' and w.level == 'warn' and e.level == 'error'"),
          "LOG_LEVEL=warn drops debug and info, writes warn and error");
    CHECK(run_lua(L, "local e = core.log.enabled\n"
                     "return e('debug') == false and e('info') == false and e('warn') == true"
                     " and e('error') == true"),
          "enabled follows the level");
    CHECK(!log_enabled(LOG_INFO) && log_enabled(LOG_WARN), "log_enabled agrees in C");
    log_set_level("bogus");
    log_set_level(NULL);
    CHECK(run_lua(L, "return core.log.enabled('info') == false"
                     " and core.log.enabled('warn') == true"),
          "an unknown level name (or NULL) changes nothing");
    log_set_level("error");
    CHECK(run_lua(L, "local out = capture(function() core.log.warn('w') end)\n"
                     "local _, e = log1(function() core.log.error('e') end)\n"
                     "return out == '' and e.level == 'error'"
                     " and core.log.enabled('warn') == false"),
          "LOG_LEVEL=error drops warn");
    log_set_level("debug");
    CHECK(run_lua(L, "local _, d = log1(function() core.log.debug('d', {x = 'y'}) end)\n"
                     "return d.level == 'debug' and d.x == 'y'"
                     " and core.log.enabled('debug') == true"),
          "LOG_LEVEL=debug writes debug lines");
    log_set_level("info");
    CHECK(run_lua(L, "return not pcall(core.log.enabled, 'bogus')"
                     " and not pcall(core.log.enabled)\n"
                     "  and not pcall(core.log.enabled, 'INFO')"
                     " and not pcall(core.log.enabled, {})"),
          "enabled raises for an unknown level name");
}

static void check_field_cap(lua_State *L) {
    CHECK(run_lua(L, "local fields = {}\n"
                     "for i = 1, 64 do fields[string.format('f%02d', i)] = 'v' .. i end\n"
                     "local kv, map = log1(function() core.log.info('m', fields) end)\n"
                     "if #kv ~= 4 + 64 then return false end\n"
                     "for i = 1, 64 do\n"
                     "  local p = kv[4 + i]\n"
                     "  if p[1] ~= string.format('f%02d', i) or p[2] ~= 'v' .. i then"
                     " return false end\n"
                     "end\n"
                     "return true"),
          "exactly 64 fields are all written, in order");
    CHECK(run_lua(L, "local fields = {mod = 'cap'}\n"
                     "for i = 1, 64 do fields[string.format('f%02d', i)] = i end\n"
                     "local kv, map = log1(function() core.log.info('m', fields) end)\n"
                     "return #kv == 4 + 64 and map.mod == 'cap' and map.f01 == '1'"
                     " and map.f64 == '64'"),
          "mod does not count against the 64");
    CHECK(run_lua(L, "for _, n in ipairs({65, 100, 1000}) do\n"
                     "  local fields = {}\n"
                     "  for i = 1, n do fields[string.format('f%04d', i)] = 'v' .. i end\n"
                     "  local kv = log1(function() core.log.info('m', fields) end)\n"
                     "  if #kv ~= 4 + 64 then return false end\n"
                     "  local last = ''\n"
                     "  for i = 5, #kv do\n"
                     "    local k, v = kv[i][1], kv[i][2]\n"
                     "    if not (k > last) or fields[k] ~= v then return false end\n"
                     "    last = k\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "more than 64 fields: 64 of them, whole, sorted and matching their values");
    CHECK(run_lua(L, "local fields = {}\n"
                     "for i = 1, 64 do fields['a b ' .. i] = 1 end\n"
                     "for i = 1, 10 do fields['ok' .. i] = i end\n"
                     "local kv = log1(function() core.log.info('m', fields) end)\n"
                     "return #kv == 4 + 10"),
          "left-out names do not use up the 64");
}

/* Messages and fields larger than the buffers: one line, at most 8192 bytes. */
static void check_big_lines(lua_State *L) {
    CHECK(run_lua(L, "for _, msg in ipairs({string.rep('x', 20000), string.rep('a b', 5000),\n"
                     "    string.rep('\\n', 5000), string.rep('\\1', 5000)}) do\n"
                     "  local out = capture(function() core.log.info(msg, {k = 'v'}) end)\n"
                     "  if not out:match('^[^\\n]*\\n$') or #out > 8192"
                     " or not out:find(' msg=', 1, true) then return false end\n"
                     "end\n"
                     "return true"),
          "a huge message is cut to one line of at most 8192 bytes");
    CHECK(run_lua(L, "local fields = {}\n"
                     "for i = 1, 64 do fields[string.format('f%02d', i)] ="
                     " string.rep('x y', 100) end\n"
                     "local out = capture(function() core.log.info('m', fields) end)\n"
                     "local line = out:match('^([^\\n]*)\\n$')\n"
                     "return line ~= nil and #out <= 8192 and line:find(' msg=m f01=\"', 1, true)"
                     " ~= nil"),
          "64 big fields are cut to one line of at most 8192 bytes");
    CHECK(run_lua(L, "local mod = string.rep('m', 20000)\n"
                     "local out = capture(function() core.log.info('a b', {mod = mod, k = 1})"
                     " end)\n"
                     "return out:match('^[^\\n]*\\n$') ~= nil and #out <= 8192"),
          "a huge fields.mod is cut to one line of at most 8192 bytes");
}

/* log_append_field into buffers of every small size, with a canary after `cap`: the
 * result always fits, is NUL-terminated, and nothing past cap is touched. */
static void check_append_field_bounds(void) {
    static const char *const values[] = {"v", "plain-value", "", "a b", "q\"q", "\n\n\n",
                                         "\x01\x02\x03", "x"};
    int ok = 1;
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        for (size_t cap = 1; cap <= 40; cap++) {
            for (size_t start = 0; start < cap && start < 12; start++) {
                char buf[64];
                memset(buf, 0xAA, sizeof(buf));
                memset(buf, 'p', start);
                buf[start] = '\0';
                size_t len = log_append_field(buf, cap, start, "key", values[v]);
                int bad = len >= cap || strlen(buf) != len;
                for (size_t i = cap; i < sizeof(buf); i++)
                    bad |= (unsigned char)buf[i] != 0xAA;
                if (bad && ok) {
                    printf("#   value %zu cap %zu start %zu -> len %zu\n", v, cap, start, len);
                    ok = 0;
                }
            }
        }
    }
    CHECK(ok, "log_append_field never writes past cap and always NUL-terminates");
    char buf[128] = "x";
    size_t len = log_append_field(buf, sizeof(buf), 1, "a", "b c\"\\\n\t");
    CHECK(len == strlen(buf) && !strcmp(buf, "x a=\"b c\\\"\\\\\\n\\x09\""),
          "log_append_field escapes as documented");
}

/* The value that needs quotes starting exactly at the end of the buffer: every length
 * of fields.mod (line buffer) and of a first field (fields buffer) around the edge. */
static void check_exact_fit(lua_State *L) {
    CHECK(run_lua(L, "for _, level in ipairs({'info', 'error'}) do\n"
                     "  for n = 8120, 8191 do\n"
                     "    local out = capture(function()\n"
                     "      core.log[level]('a b', {mod = string.rep('m', n)})\n"
                     "    end)\n"
                     "    if not out:match('^[^\\n]*\\n$') or #out > 8192 then\n"
                     "      print('#   mod length ' .. n .. ': ' .. #out .. ' bytes')\n"
                     "      return false\n"
                     "    end\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "a quoted msg right at the end of the line buffer stays in bounds");
    CHECK(run_lua(L, "for n = 4060, 4100 do\n"
                     "  local out = capture(function()\n"
                     "    core.log.info('m', {a = string.rep('v', n), b = 'x y', c = 'z'})\n"
                     "  end)\n"
                     "  if not out:match('^[^\\n]*\\n$') or #out > 8192 then\n"
                     "    print('#   first value length ' .. n .. ': ' .. #out .. ' bytes')\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "a quoted field right at the end of the fields buffer stays in bounds");
}

/* log.c's C entry points. */
static void check_c_api(void) {
    size_t n = 0;
    char *out = NULL;
    if (capture_begin() == 0) {
        log_fmt(LOG_WARN, "server", "listening on %s:%d", "0.0.0.0", 8080);
        log_write(LOG_INFO, "c", "m", "a=1");
        log_write(LOG_INFO, "c", "m", " b=2");
        log_write(LOG_INFO, "c", "m", "");
        log_write(LOG_INFO, "c", "m", NULL);
        log_write(LOG_DEBUG, "c", "dropped", NULL);
        log_fmt(LOG_DEBUG, "c", "dropped %d", 1);
        out = capture_end(&n);
    }
    const char *want[] = {" level=warn mod=server msg=\"listening on 0.0.0.0:8080\"\n",
                          " level=info mod=c msg=m a=1\n", " level=info mod=c msg=m b=2\n",
                          " level=info mod=c msg=m\n", " level=info mod=c msg=m\n"};
    int ok = out != NULL;
    const char *p = out;
    for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++) {
        const char *nl = strchr(p, '\n');
        const char *rest = strstr(p, " level=");
        ok = nl && rest && rest < nl && !strncmp(p, "ts=", 3) &&
             (size_t)(nl + 1 - rest) == strlen(want[i]) && !strncmp(rest, want[i], strlen(want[i]));
        if (ok)
            p = nl + 1;
    }
    CHECK(ok && *p == '\0', "log_fmt and log_write write one line each; debug is dropped");
    if (!ok && out)
        printf("#   got: %s", out);
    free(out);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);   /* TAP lines survive a sanitizer abort */
    log_set_level("info");
    core_set_request_id(NULL);
    lua_State *L = harness_state();
    lua_pushcfunction(L, l_capture);
    lua_setglobal(L, "capture");
    CHECK(run_lua(L, PRELUDE), "helpers load");
    check_shape(L);
    check_sorting_and_names(L);
    check_quoting(L);
    check_values(L);
    check_levels(L);
    check_field_cap(L);
    check_big_lines(L);
    check_c_api();
    check_append_field_bounds();
    check_exact_fit(L);
    lua_close(L);
    return harness_done();
}
