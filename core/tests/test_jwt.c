/* test_jwt.c -- core.jwt through a real lua_State: sign/verify round trips, and the hostile
 * tokens of SECURITY.md J1-J4 (alg none, algorithm confusion, tampering, bad shapes, time
 * and audience claims), built by hand with base64url and HMAC. */
#include <stdlib.h>

#include <jwt.h>

#include "harness.h"

static const unsigned char SECRET[32] = "0123456789abcdef0123456789abcdef";

/* HS512_TOKEN(payload_json) -> a token signed by libjwt with HS512 under SECRET (a test hook). */
static int hs512_token(lua_State *L) {
    const char *payload = luaL_checkstring(L, 1);
    jwt_t *jwt = NULL;
    char *tok = NULL;
    if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, payload) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS512, SECRET, sizeof(SECRET)) == 0)
        tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    if (tok == NULL)
        return luaL_error(L, "HS512_TOKEN failed");
    lua_pushstring(L, tok);
    free(tok);
    return 1;
}

/* LIBJWT_DECODES(token, use_key) -> whether libjwt 1.10.2 alone accepts the token, to show
 * that the module's own checks are what refuse it. */
static int libjwt_decodes(lua_State *L) {
    const char *tok = luaL_checkstring(L, 1);
    int use_key = lua_toboolean(L, 2);
    jwt_t *jwt = NULL;
    int rc = jwt_decode(&jwt, tok, use_key ? SECRET : NULL, use_key ? (int)sizeof(SECRET) : 0);
    jwt_free(jwt);
    lua_pushboolean(L, rc == 0);
    return 1;
}

/* Helpers shared by the chunks below: NOW, hand-built tokens, and expectations. */
static const char PRELUDE[] =
    "crypto, jwt = core.crypto, core.jwt\n"
    "b64 = crypto.base64url_encode\n"
    "NOW = 1700000000\n"
    "HS256 = '{\"alg\":\"HS256\",\"typ\":\"JWT\"}'\n"
    "function hand(header, payload, key)\n"
    "  local si = b64(header) .. '.' .. b64(payload)\n"
    "  return si .. '.' .. b64(crypto.hmac_sha256(key or SECRET, si))\n"
    "end\n"
    "function payload(extra)\n"
    "  return string.format('{\"sub\":\"u1\",\"typ\":\"access\",\"exp\":%d%s}', NOW + 60,\n"
    "    extra or '')\n"
    "end\n"
    "OPTS = {now = NOW}\n"
    "function refused(tok, want, opts)\n"
    "  local c, err = jwt.verify(tok, opts or OPTS)\n"
    "  if c ~= nil or err ~= (want or 'invalid token') then\n"
    "    print('#   ' .. tostring(tok):sub(1, 120) .. ' -> ' .. tostring(c) .. ', '\n"
    "      .. tostring(err))\n"
    "    return false\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "function accepted(tok, opts)\n"
    "  local c, err = jwt.verify(tok, opts or OPTS)\n"
    "  if not c then print('#   refused: ' .. tostring(err)) end\n"
    "  return c\n"
    "end\n"
    "return true\n";

static void check_without_secret(lua_State *L) {
    CHECK(run_lua(L, "local ok, err = pcall(jwt.sign, {sub = 'u1', exp = NOW + 60})\n"
                     "return not ok and err:find('server secret not set', 1, true) ~= nil"),
          "sign raises without a server secret");
    CHECK(run_lua(L, "return not pcall(jwt.verify, 'a.b.c', OPTS)"),
          "verify raises without a server secret");
}

static void check_round_trip(lua_State *L) {
    CHECK(run_lua(L, "GOOD = jwt.sign({sub = 'u1', typ = 'access', iss = 'itcloud', aud = 'web',\n"
                     "  exp = NOW + 60, iat = NOW, n = 7, f = 3.0, neg = -5,\n"
                     "  big = math.maxinteger, odd = (1 << 53) + 1,\n"
                     "  text = 'caf\\195\\169 \"q\" \\\\ \\n'})\n"
                     "local c = accepted(GOOD, {now = NOW, iss = 'itcloud', aud = 'web',\n"
                     "  typ = 'access'})\n"
                     "local n = 0\n"
                     "for _ in pairs(c) do n = n + 1 end\n"
                     "return n == 12 and c.sub == 'u1' and c.typ == 'access'\n"
                     "  and c.iss == 'itcloud' and c.aud == 'web' and c.exp == NOW + 60\n"
                     "  and math.type(c.exp) == 'integer'\n"
                     "  and c.iat == NOW and c.n == 7 and math.type(c.n) == 'integer'\n"
                     "  and c.f == 3 and math.type(c.f) == 'integer' and c.neg == -5\n"
                     "  and c.big == math.maxinteger and c.odd == (1 << 53) + 1\n"
                     "  and c.text == 'caf\\195\\169 \"q\" \\\\ \\n'"),
          "sign/verify round trip keeps strings and exact integers");
    CHECK(run_lua(L, "local h = GOOD:match('^([^.]+)')\n"
                     "local hdr = crypto.base64url_decode(h)\n"
                     "return hdr:find('\"alg\":\"HS256\"', 1, true)\n"
                     "  and hdr:find('\"typ\":\"JWT\"', 1, true)\n"
                     "  and select(2, GOOD:gsub('%.', '')) == 2"),
          "the header says alg HS256, typ JWT");
    CHECK(run_lua(L, "return accepted(hand(HS256, payload())) ~= nil"),
          "a hand-built HS256 token verifies (the builder below is sound)");
    CHECK(run_lua(L, "local t = jwt.sign({sub = 'u1', exp = os.time() + 60})\n"
                     "return jwt.verify(t) ~= nil and jwt.verify(t, {}) ~= nil\n"
                     "  and refused(jwt.sign({exp = os.time() - 3600}), 'token expired', {})"),
          "verify defaults to the clock and takes no opts");
    CHECK(run_lua(L, "local big = string.rep('x', 2500)\n"
                     "local c = accepted(jwt.sign({pad = big, exp = NOW + 60}))\n"
                     "return c and c.pad == big"),
          "a large but legal token verifies");
}

static void check_sign_arguments(lua_State *L) {
    CHECK(run_lua(L, "local bad = {\n"
                     "  {x = 1.5}, {x = true}, {x = {}}, {x = print}, {[1] = 'x'}, {[''] = 'x'},\n"
                     "  {x = 'a\\0b'}, {['a\\0b'] = 'x'}, {x = '\\255'}, {x = 0/0}, {x = 2^63},\n"
                     "  {[true] = 'x'}}\n"
                     "for i, claims in ipairs(bad) do\n"
                     "  if pcall(jwt.sign, claims) then\n"
                     "    print('#   case ' .. i)\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return not pcall(jwt.sign) and not pcall(jwt.sign, 'x')"),
          "sign raises on claims it cannot represent exactly");
    CHECK(run_lua(L, "local t = jwt.sign({})\n"
                     "return refused(t) and type(t) == 'string'"),
          "sign accepts an empty table; verify then refuses the missing exp");
}

static void check_alg_pinning(lua_State *L) {
    CHECK(run_lua(L, "local p = b64(payload())\n"
                     "for _, alg in ipairs({'none', 'None', 'nOnE', 'NONE'}) do\n"
                     "  local h = b64('{\"alg\":\"' .. alg .. '\",\"typ\":\"JWT\"}')\n"
                     "  local si = h .. '.' .. p\n"
                     "  local signed = si .. '.' .. b64(crypto.hmac_sha256(SECRET, si))\n"
                     "  if not (refused(si .. '.') and refused(si) and refused(signed)) then\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "alg none/None/nOnE is refused, with or without a trailing dot or a signature");
    CHECK(run_lua(L, "local h = b64('{\"alg\":\"none\",\"typ\":\"JWT\"}')\n"
                     "return LIBJWT_DECODES(h .. '.' .. b64(payload()) .. '.', false)"),
          "(libjwt without a key would accept that alg none token)");
    CHECK(run_lua(L, "local t = HS512_TOKEN(payload())\n"
                     "return LIBJWT_DECODES(t, true) and refused(t)"),
          "an HS512 token signed with the server secret is refused by the alg pin");
    CHECK(run_lua(L, "local rs = '{\"alg\":\"RS256\",\"typ\":\"JWT\"}'\n"
                     "local si = b64(rs) .. '.' .. b64(payload())\n"
                     "return refused(hand(rs, payload()))\n"
                     "  and refused(si .. '.' .. b64(string.rep('s', 256)))\n"
                     "  and refused(hand('{\"alg\":\"HS384\",\"typ\":\"JWT\"}', payload()))\n"
                     "  and refused(hand('{\"typ\":\"JWT\"}', payload()))\n"
                     "  and refused(hand('{\"alg\":\"HS256 \"}', payload()))\n"
                     "  and refused(hand('{\"alg\":[\"HS256\"]}', payload()))\n"
                     "  and refused(hand('not json', payload()))"),
          "RS256, HS384, missing or odd alg headers are refused");
    CHECK(run_lua(L, "return refused(hand(HS256, payload(), string.rep('k', 32)))\n"
                     "  and refused(hand(HS256, payload(), ''))"),
          "a token signed with another key is refused");
}

static void check_tampering(lua_State *L) {
    CHECK(run_lua(L, "local tok = hand(HS256, payload(',\"role\":\"user\"'))\n"
                     "local parts = {}\n"
                     "for seg in tok:gmatch('[^.]+') do parts[#parts + 1] = seg end\n"
                     "local count = 0\n"
                     "for which = 1, 3 do\n"
                     "  local raw = crypto.base64url_decode(parts[which])\n"
                     "  for i = 1, #raw do\n"
                     "    for bit = 0, 7 do\n"
                     "      local b = raw:byte(i) ~ (1 << bit)\n"
                     "      local p = {parts[1], parts[2], parts[3]}\n"
                     "      p[which] = b64(raw:sub(1, i - 1) .. string.char(b) .. raw:sub(i + 1))\n"
                     "      if not refused(table.concat(p, '.')) then return false end\n"
                     "      count = count + 1\n"
                     "    end\n"
                     "  end\n"
                     "end\n"
                     "print('#   ' .. count .. ' bit flips refused')\n"
                     "return accepted(tok) ~= nil"),
          "every single-bit flip in header, payload or signature is refused");
    CHECK(run_lua(L, "local t = hand(HS256, payload())\n"
                     "local h, p, s = t:match('^([^.]+)%.([^.]+)%.([^.]+)$')\n"
                     "local cases = {t .. '.', t .. '.x', 'x.' .. t, '.' .. t, t .. '..',\n"
                     "  h .. '.' .. p .. '.' .. s .. '.' .. s,\n"
                     "  h .. '.' .. p .. '.' .. p .. '.' .. s,\n"
                     "  h .. '..' .. p .. '.' .. s, h .. '.' .. p, h, '', '.', '..', '...',\n"
                     "  '.' .. p .. '.' .. s, h .. '..' .. s, h .. '.' .. p .. '.',\n"
                     "  p .. '.' .. h .. '.' .. s, h .. '.' .. p .. '.' .. s:sub(1, -2),\n"
                     "  h .. '.' .. p .. '.' .. s .. 'A', h .. '.' .. p .. '.' .. s:sub(1, 42)}\n"
                     "for _, c in ipairs(cases) do if not refused(c) then return false end end\n"
                     "return true"),
          "extra, missing, empty, swapped or truncated segments are refused");
    CHECK(run_lua(L, "local t = hand(HS256, payload())\n"
                     "local huge = t:gsub('%.', '.' .. string.rep('A', 100 * 1024) .. '.', 1)\n"
                     "local pad = hand(HS256,\n"
                     "  payload(',\"pad\":\"' .. string.rep('x', 3100) .. '\"'))\n"
                     "return #huge > 100 * 1024 and refused(huge)\n"
                     "  and #pad > 4096 and refused(pad)\n"
                     "  and refused(string.rep('A', 100 * 1024))"),
          "tokens over 4096 bytes (100 KB too) are refused before decoding");
    CHECK(run_lua(L, "local t = hand(HS256, payload())\n"
                     "local cases = {t .. '=', (t:gsub('%.', '=.', 1)), ' ' .. t, t .. ' ',\n"
                     "  t .. '\\n',\n"
                     "  t:sub(1, 10) .. '+' .. t:sub(12), t:sub(1, 10) .. '/' .. t:sub(12),\n"
                     "  t:sub(1, 10) .. '\\0' .. t:sub(12),\n"
                     "  t:sub(1, 10) .. '\\195\\169' .. t:sub(12),\n"
                     "  t:sub(1, -3) .. '*' .. t:sub(-1), 'Bearer ' .. t,\n"
                     "  (t:gsub('%.', ' . ', 1))}\n"
                     "for _, c in ipairs(cases) do if not refused(c) then return false end end\n"
                     "return true"),
          "non-base64url characters anywhere are refused");
    /* Signed over the odd text itself, so libjwt's lenient base64 would take several. */
    CHECK(run_lua(L, "local function signed(h, p)\n"
                     "  local si = h .. '.' .. p\n"
                     "  return si .. '.' .. b64(crypto.hmac_sha256(SECRET, si))\n"
                     "end\n"
                     "local h = b64(HS256)\n"
                     "local pl, p\n"
                     "for i = 1, 200 do\n"
                     "  pl = payload(',\"k\":\"' .. string.rep('?', i) .. '>\"')\n"
                     "  p = b64(pl)\n"
                     "  if #p % 4 == 2 and p:find('_') then break end\n"
                     "end\n"
                     "local function ins(c) return p:sub(1, 8) .. c .. p:sub(9) end\n"
                     "local cases = {signed(h, p .. '=='), signed(h, (p:gsub('_', '/'))),\n"
                     "  signed(h, ins('\\n')), signed(h, ins(' ')), signed(h, ins('*')),\n"
                     "  signed(h .. '=', p)}\n"
                     "local lenient = 0\n"
                     "for _, c in ipairs(cases) do\n"
                     "  if LIBJWT_DECODES(c, true) then lenient = lenient + 1 end\n"
                     "  if not refused(c) then return false end\n"
                     "end\n"
                     "print('#   libjwt alone accepts ' .. lenient .. ' of ' .. #cases)\n"
                     "return accepted(signed(h, p)) ~= nil"),
          "validly signed tokens with padding, +/ or stray bytes are refused by the shape check");
    CHECK(run_lua(L, "local k = b64('{\"alg\":\"HS256\"}')\n"
                     "return refused(hand(HS256, '[1,2]')) and refused(hand(HS256, '42'))\n"
                     "  and refused(hand(HS256, '{\"exp\":'))\n"
                     "  and refused(hand(HS256, payload(',\"admin\":true')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":null')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":[1]')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":{\"y\":1}')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":1.5')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":1e3')))\n"
                     "  and refused(hand(HS256, payload(',\"x\":99999999999999999999')))\n"
                     "  and accepted(hand(HS256, payload(',\"x\":0.0'))).x == 0"),
          "validly signed payloads holding anything sign would not produce are refused");
    CHECK(run_lua(L, "local dup = string.format(\n"
                     "  '{\"typ\":\"access\",\"exp\":%d,\"typ\":\"refresh\"}', NOW + 60)\n"
                     "local t = hand(HS256, dup)\n"
                     "local c = accepted(t, {now = NOW, typ = 'refresh'})\n"
                     "return refused(t, 'wrong token type', {now = NOW, typ = 'access'})\n"
                     "  and c and c.typ == 'refresh'"),
          "duplicate claim names: the checked value is the returned one");
}

static void check_claims(lua_State *L) {
    CHECK(run_lua(L, "local function tok(exp) return jwt.sign({exp = exp}) end\n"
                     "return refused(tok(NOW - 31), 'token expired')\n"
                     "  and refused(tok(NOW - 30), 'token expired')\n"
                     "  and accepted(tok(NOW - 29)) ~= nil\n"
                     "  and refused(tok(NOW), 'token expired', {now = NOW, leeway = 0})\n"
                     "  and accepted(tok(NOW + 1), {now = NOW, leeway = 0}) ~= nil\n"
                     "  and accepted(tok(NOW - 100), {now = NOW, leeway = 120}) ~= nil\n"
                     "  and refused(tok(-1), 'token expired')"),
          "exp must be after now - leeway (default leeway 30 s)");
    CHECK(run_lua(L, "local function tok(nbf) return jwt.sign({exp = NOW + 600, nbf = nbf}) end\n"
                     "return refused(tok(NOW + 31), 'token not yet valid')\n"
                     "  and refused(tok(NOW + 1), 'token not yet valid', {now = NOW, leeway = 0})\n"
                     "  and accepted(tok(NOW + 30)) ~= nil and accepted(tok(NOW - 5)) ~= nil"),
          "nbf in the future is refused");
    CHECK(run_lua(L, "local function tok(iat) return jwt.sign({exp = NOW + 600, iat = iat}) end\n"
                     "return refused(tok(NOW + 3600)) and accepted(tok(NOW + 30)) ~= nil"),
          "iat in the future is refused");
    CHECK(run_lua(L, "return refused(hand(HS256, '{\"sub\":\"u1\",\"typ\":\"access\"}'))\n"
                     "  and refused(jwt.sign({sub = 'u1', nbf = NOW}))\n"
                     "  and refused(jwt.sign({exp = tostring(NOW + 60)}))\n"
                     "  and refused(jwt.sign({exp = NOW + 60, nbf = 'now'}))\n"
                     "  and refused(jwt.sign({exp = NOW + 60, iat = 'x'}))\n"
                     "  and refused(hand(HS256, string.format('{\"exp\":%d.0}', NOW + 60)))"),
          "missing exp, or exp/nbf/iat that are not integers, are refused");
    CHECK(run_lua(L, "local t = jwt.sign({exp = NOW + 60, iss = 'itcloud', aud = 'web',\n"
                     "  typ = 'access'})\n"
                     "local bare = jwt.sign({exp = NOW + 60})\n"
                     "local o = function(k, v) local r = {now = NOW}; r[k] = v; return r end\n"
                     "return refused(t, 'wrong issuer', o('iss', 'evil'))\n"
                     "  and refused(t, 'wrong issuer', o('iss', 'itcloud\\0'))\n"
                     "  and refused(bare, 'wrong issuer', o('iss', 'itcloud'))\n"
                     "  and refused(t, 'wrong audience', o('aud', 'mobile'))\n"
                     "  and refused(bare, 'wrong audience', o('aud', 'web'))\n"
                     "  and refused(t, 'wrong token type', o('typ', 'refresh'))\n"
                     "  and refused(bare, 'wrong token type', o('typ', 'access'))\n"
                     "  and accepted(t, {now = NOW, iss = 'itcloud', aud = 'web',\n"
                     "    typ = 'access'})\n"
                     "  and accepted(bare) ~= nil"),
          "iss, aud and typ must match when opts name them");
    CHECK(run_lua(L, "local r = jwt.sign({sub = 'u1', typ = 'refresh', exp = NOW + 86400})\n"
                     "local s = jwt.sign({sub = 'u1', typ = 'share', exp = NOW + 60})\n"
                     "local n = jwt.sign({sub = 'u1', typ = 5, exp = NOW + 60})\n"
                     "local want = {now = NOW, typ = 'access'}\n"
                     "return refused(r, 'wrong token type', want)\n"
                     "  and refused(s, 'wrong token type', want)\n"
                     "  and refused(n, 'wrong token type', want)"),
          "refresh and share tokens are refused where an access token is expected");
    CHECK(run_lua(L, "local t = jwt.sign({exp = NOW + 60})\n"
                     "local bad = {'x', {leeway = 'x'}, {leeway = -1}, {leeway = 1.5},\n"
                     "  {leeway = 86401}, {now = 'x'}, {now = -1}, {now = 1.5}, {iss = 5},\n"
                     "  {aud = {}}, {typ = true}}\n"
                     "for i, opts in ipairs(bad) do\n"
                     "  if pcall(jwt.verify, t, opts) then\n"
                     "    print('#   case ' .. i)\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return not pcall(jwt.verify) and not pcall(jwt.verify, {}, OPTS)\n"
                     "  and accepted(t, {now = NOW, leeway = 5.0}) ~= nil"),
          "verify raises on wrong argument types");
}

int main(void) {
    lua_State *L = harness_state();
    lua_pushcfunction(L, hs512_token);
    lua_setglobal(L, "HS512_TOKEN");
    lua_pushcfunction(L, libjwt_decodes);
    lua_setglobal(L, "LIBJWT_DECODES");
    lua_pushlstring(L, (const char *)SECRET, sizeof(SECRET));
    lua_setglobal(L, "SECRET");
    CHECK(run_lua(L, PRELUDE), "test helpers load");

    check_without_secret(L);
    CHECK(core_set_server_secret(SECRET, sizeof(SECRET)) == 0, "server secret set");
    check_round_trip(L);
    check_sign_arguments(L);
    check_alg_pinning(L);
    check_tampering(L);
    check_claims(L);
    lua_close(L);
    return harness_done();
}
