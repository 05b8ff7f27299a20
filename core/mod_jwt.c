/* mod_jwt.c -- HS256 JSON Web Tokens under the server secret, exposed as "core.jwt".
 * libjwt 1.10.2 encodes and checks signatures; this file pins the shape, the algorithm and
 * the claims itself (SECURITY.md, "Pinning with the 1.x API"). lua-cjson reads the claims. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jwt.h>

#include "core.h"
#include <lua-cjson.h>                  /* needs lua.h first */

#define SCRATCH_MT     "core.jwt.scratch"
#define TOKEN_MAX      4096             /* bytes; ours are a few hundred */
#define LEEWAY_DEFAULT 30               /* seconds of clock skew allowed on exp, nbf and iat */
#define LEEWAY_MAX     86400
#define NOW_MAX        ((lua_Integer)1 << 53)

/* libjwt memory held while Lua may raise; freed by scratch_release or by the GC. */
typedef struct {
    jwt_t *jwt;
    char *str;                          /* from jwt_encode_str / jwt_get_grants_json */
} scratch;

static void scratch_release(scratch *s) {
    jwt_free(s->jwt);                   /* both accept NULL */
    free(s->str);
    s->jwt = NULL;
    s->str = NULL;
}

/* __gc / __close of a scratch; harmless to run twice. */
static int scratch_close(lua_State *L) {
    scratch_release(luaL_checkudata(L, 1, SCRATCH_MT));
    return 0;
}

/* [-0, +1] pushes an empty scratch */
static scratch *scratch_new(lua_State *L) {
    scratch *s = lua_newuserdatauv(L, sizeof(*s), 0);
    s->jwt = NULL;
    s->str = NULL;
    luaL_setmetatable(L, SCRATCH_MT);
    return s;
}

/* The server secret, or a raised error naming `fn` when it is not set yet. */
static const unsigned char *check_secret(lua_State *L, const char *fn, int *len) {
    size_t n;
    const unsigned char *key = core_server_secret(&n);
    if (key == NULL || n == 0 || n > INT_MAX)
        luaL_error(L, "jwt.%s: server secret not set", fn);
    *len = (int)n;
    return key;
}

static int is_b64url_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* True when t is at most TOKEN_MAX bytes of exactly three non-empty base64url segments.
 * libjwt's own base64 decoder skips characters it does not know, so this comes first. */
static int token_shape_ok(const char *t, size_t len) {
    size_t seg = 0;
    int dots = 0;
    if (len > TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (seg == 0 || seg % 4 == 1 || ++dots > 2)
                return 0;
            seg = 0;
        } else if (is_b64url_char((unsigned char)t[i])) {
            seg++;
        } else {
            return 0;
        }
    }
    return dots == 2 && seg > 0 && seg % 4 != 1;
}

/* jwt.sign(claims) -> token. claims maps non-empty names to strings or integers (floats with
 * an integral value count as integers); anything else raises, as does a missing server
 * secret. The header is {"alg":"HS256","typ":"JWT"}. The library adds no claims itself. */
static int jwt_sign(lua_State *L) {
    int key_len;
    luaL_checktype(L, 1, LUA_TTABLE);
    const unsigned char *key = check_secret(L, "sign", &key_len);
    scratch *s = scratch_new(L);
    if (jwt_new(&s->jwt) != 0)
        return luaL_error(L, "jwt.sign: out of memory");
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {       /* [claims, scratch, name, value] */
        size_t name_len, len;
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "jwt.sign: claim names must be strings");
        const char *name = lua_tolstring(L, -2, &name_len);
        if (name_len == 0 || memchr(name, '\0', name_len) != NULL)
            return luaL_error(L, "jwt.sign: claim names must be non-empty and NUL-free");
        int rc, is_int = 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *val = lua_tolstring(L, -1, &len);
            if (memchr(val, '\0', len) != NULL)
                return luaL_error(L, "jwt.sign: claim '%s' holds a NUL byte", name);
            rc = jwt_add_grant(s->jwt, name, val);
        } else {
            lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_int) : 0;
#if LONG_MAX < LLONG_MAX
            is_int = is_int && v >= LONG_MIN && v <= LONG_MAX;
#endif
            if (!is_int)
                return luaL_error(L, "jwt.sign: claim '%s' must be a string or an integer", name);
            rc = jwt_add_grant_int(s->jwt, name, (long)v);
        }
        if (rc != 0)                    /* jansson refuses strings that are not UTF-8 */
            return luaL_error(L, "jwt.sign: cannot add claim '%s' (not UTF-8?)", name);
        lua_pop(L, 1);
    }
    if (jwt_set_alg(s->jwt, JWT_ALG_HS256, key, key_len) != 0 ||
        jwt_add_header(s->jwt, "typ", "JWT") != 0)
        return luaL_error(L, "jwt.sign: out of memory");
    s->str = jwt_encode_str(s->jwt);
    if (s->str == NULL)
        return luaL_error(L, "jwt.sign: cannot encode token");
    lua_pushstring(L, s->str);
    scratch_release(s);
    return 1;
}

/* Pushes opts[name] (nil without opts) and returns its index when it is a string, 0 when it
 * is nil. Raises on other types. [-0, +1] */
static int opt_string(lua_State *L, int opts, const char *name) {
    if (opts == 0) {
        lua_pushnil(L);
        return 0;
    }
    int t = lua_getfield(L, opts, name);
    if (t != LUA_TNIL && t != LUA_TSTRING)
        luaL_error(L, "jwt.verify: opts.%s must be a string", name);
    return t == LUA_TNIL ? 0 : lua_gettop(L);
}

/* Reads opts[name] as an integer in [lo, hi], or def when absent. Raises otherwise. */
static lua_Integer opt_integer(lua_State *L, int opts, const char *name, lua_Integer def,
                               lua_Integer lo, lua_Integer hi) {
    if (opts == 0)
        return def;
    int t = lua_getfield(L, opts, name), ok = 0;
    lua_Integer v = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &ok) : def;
    if (t != LUA_TNIL && (!ok || v < lo || v > hi))
        luaL_error(L, "jwt.verify: opts.%s must be an integer in [%I, %I]", name, lo, hi);
    lua_pop(L, 1);
    return v;
}

/* Turns the claims table at `claims` into what sign accepts: strings stay, and JSON integers
 * become exact Lua integers. cjson reads every number as a float, so the value comes from
 * libjwt's parse (the one the signature covered); libjwt reads a JSON real as 0, so a real
 * shows up as a mismatch with cjson's float (0.0 passes as 0, the same value). Returns 0, or
 * -1 when a claim has any other type, which sign never produces. [-0, +0] */
static int normalise_claims(lua_State *L, int claims, jwt_t *jwt) {
    lua_pushnil(L);
    while (lua_next(L, claims) != 0) {  /* [.., name, value] */
        int t = lua_type(L, -1);
        if (lua_type(L, -2) != LUA_TSTRING || (t != LUA_TSTRING && t != LUA_TNUMBER)) {
            lua_pop(L, 2);
            return -1;
        }
        if (t == LUA_TNUMBER) {
            long v = jwt_get_grant_int(jwt, lua_tostring(L, -2));
            if ((lua_Number)v != lua_tonumber(L, -1)) {
                lua_pop(L, 2);
                return -1;
            }
            lua_pushvalue(L, -2);
            lua_pushinteger(L, (lua_Integer)v);
            lua_rawset(L, claims);      /* replacing an existing field keeps lua_next valid */
        }
        lua_pop(L, 1);
    }
    return 0;
}

/* Reads integer claim `name`: 1 and *out when present, 0 when absent. [-0, +0] */
static int claim_int(lua_State *L, int claims, const char *name, lua_Integer *out) {
    int present = lua_getfield(L, claims, name) != LUA_TNIL;
    *out = lua_tointeger(L, -1);        /* normalise_claims left only integers and strings */
    int ok = !present || lua_isinteger(L, -1);
    lua_pop(L, 1);
    return ok ? present : -1;
}

/* True when claim `name` is a string equal to the string at index `want`. */
static int claim_equals(lua_State *L, int claims, const char *name, int want) {
    int ok = lua_getfield(L, claims, name) == LUA_TSTRING && lua_rawequal(L, -1, want);
    lua_pop(L, 1);
    return ok;
}

/* jwt.verify(token, [opts]) -> claims | nil, err
 * opts: iss, aud, typ (strings: when given, the claim must be present and equal), leeway
 * (seconds, default 30), now (unix seconds, default the clock). Requires an HS256 signature
 * by the server secret and an integer exp > now - leeway; nbf and iat, when present, must
 * be integers <= now + leeway. err is one of "invalid token", "token expired", "token not yet
 * valid", "wrong issuer", "wrong audience", "wrong token type". Raises on bad argument types
 * or when no server secret is set. */
static int jwt_verify(lua_State *L) {
    size_t len;
    int key_len;
    const char *token = luaL_checklstring(L, 1, &len);
    int opts = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        opts = 2;
    }
    lua_settop(L, 2);
    int want_iss = opt_string(L, opts, "iss");
    int want_aud = opt_string(L, opts, "aud");
    int want_typ = opt_string(L, opts, "typ");
    lua_Integer leeway = opt_integer(L, opts, "leeway", LEEWAY_DEFAULT, 0, LEEWAY_MAX);
    lua_Integer now = opt_integer(L, opts, "now", (lua_Integer)time(NULL), 0, NOW_MAX);
    const unsigned char *key = check_secret(L, "verify", &key_len);

    if (!token_shape_ok(token, len))
        return core_fail(L, "invalid token");
    scratch *s = scratch_new(L);
    /* With a non-empty key, libjwt refuses alg "none" in any case and checks the signature
     * with the algorithm the header names; the pin below keeps only HS256. */
    if (jwt_decode(&s->jwt, token, key, key_len) != 0 || s->jwt == NULL ||
        jwt_get_alg(s->jwt) != JWT_ALG_HS256)
        return core_fail(L, "invalid token");

    /* Read the claims from libjwt's own parse, re-serialised, so no second parser can
     * disagree with what was checked (duplicate names: libjwt's choice wins). */
    s->str = jwt_get_grants_json(s->jwt, NULL);
    if (s->str == NULL)
        return core_fail(L, "invalid token");
    lua_pushvalue(L, lua_upvalueindex(1));      /* cjson.decode */
    lua_pushstring(L, s->str);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        return core_fail(L, "invalid token");
    int claims = lua_gettop(L);
    if (normalise_claims(L, claims, s->jwt) != 0)
        return core_fail(L, "invalid token");
    scratch_release(s);

    lua_Integer exp, nbf, iat;
    if (claim_int(L, claims, "exp", &exp) != 1)
        return core_fail(L, "invalid token");
    int has_nbf = claim_int(L, claims, "nbf", &nbf);
    int has_iat = claim_int(L, claims, "iat", &iat);
    if (has_nbf < 0 || has_iat < 0)
        return core_fail(L, "invalid token");
    if (exp <= now - leeway)
        return core_fail(L, "token expired");
    if (has_nbf && nbf > now + leeway)
        return core_fail(L, "token not yet valid");
    if (has_iat && iat > now + leeway)
        return core_fail(L, "invalid token");
    if (want_iss && !claim_equals(L, claims, "iss", want_iss))
        return core_fail(L, "wrong issuer");
    if (want_aud && !claim_equals(L, claims, "aud", want_aud))
        return core_fail(L, "wrong audience");
    if (want_typ && !claim_equals(L, claims, "typ", want_typ))
        return core_fail(L, "wrong token type");
    lua_settop(L, claims);
    return 1;
}

static const luaL_Reg jwt_funcs[] = {{"sign", jwt_sign}, {"verify", jwt_verify}, {NULL, NULL}};
static const luaL_Reg scratch_meta[] = {{"__gc", scratch_close}, {"__close", scratch_close},
                                        {NULL, NULL}};

/* require "core.jwt" -> the jwt table; its functions share cjson.decode as upvalue 1. */
int luaopen_core_jwt(lua_State *L) {
    luaL_newmetatable(L, SCRATCH_MT);
    luaL_setfuncs(L, scratch_meta, 0);
    lua_pop(L, 1);
    luaL_newlibtable(L, jwt_funcs);
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_getfield(L, -1, "decode");
    lua_remove(L, -2);
    luaL_setfuncs(L, jwt_funcs, 1);
    return 1;
}
