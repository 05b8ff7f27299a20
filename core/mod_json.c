/* mod_json.c -- `core.json`: decoding through lua-cjson (a private instance with a
 * depth cap of 64 and NaN/Infinity/hex refused), encoding here, because cjson 2.1.0
 * cannot tell an empty array from an empty object. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
/* lua-cjson.h needs lua.h first */
#include <lua-cjson.h>

#define JSON_MAX_DEPTH 64
#define ARRAY_MT "core.json.array"
#define RAW_MT "core.json.raw"
#define OUTBUF_MT "core.json.outbuf"

typedef struct { char *data; size_t len, cap; } outbuf;

static int outbuf_free(lua_State *L) {
    outbuf *b = luaL_checkudata(L, 1, OUTBUF_MT);
    free(b->data);
    b->data = NULL;
    return 0;
}

static void put(lua_State *L, outbuf *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            luaL_error(L, "json encode: out of memory");   /* b->data is still owned by b */
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_string(lua_State *L, outbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    put(L, b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            /* control characters, DEL and HTML-significant characters as \u escapes */
            if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
                u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            put(L, b, s + i - run, run);
            run = 0;
            put(L, b, esc, strlen(esc));
        } else {
            run++;
        }
    }
    put(L, b, s + n - run, run);
    put(L, b, "\"", 1);
}

static void put_number(lua_State *L, outbuf *b, int idx) {
    char num[40];
    int n;
    if (lua_isinteger(L, idx)) {
        n = snprintf(num, sizeof(num), LUA_INTEGER_FMT, lua_tointeger(L, idx));
    } else {
        double d = lua_tonumber(L, idx);
        if (!isfinite(d))
            luaL_error(L, "json encode: cannot encode NaN or infinity");
        n = snprintf(num, sizeof(num), "%.15g", d);
        if (strtod(num, NULL) != d)
            n = snprintf(num, sizeof(num), "%.17g", d);
    }
    put(L, b, num, (size_t)n);
}

/* Returns the array length when the table at idx is a sequence 1..n, else -1. */
static lua_Integer sequence_length(lua_State *L, int idx) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return -1;
        }
        count++;
    }
    return count == n ? n : -1;
}

static void encode_value(lua_State *L, outbuf *b, int idx, int depth);

/* depth counts the tables around this one: the outermost is 0. Like the decoder,
 * allow JSON_MAX_DEPTH levels of nesting, so whatever encode writes decode reads. */
static void encode_table(lua_State *L, outbuf *b, int idx, int depth) {
    if (depth >= JSON_MAX_DEPTH)
        luaL_error(L, "json encode: nesting deeper than %d", JSON_MAX_DEPTH);
    luaL_checkstack(L, 4, "json encode");
    if (lua_getmetatable(L, idx)) {   /* core.json.raw: JSON text written as it is */
        luaL_getmetatable(L, RAW_MT);
        int is_raw = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
        if (is_raw) {
            size_t len;
            lua_rawgeti(L, idx, 1);
            const char *text = lua_tolstring(L, -1, &len);
            put(L, b, text, len);
            lua_pop(L, 1);
            return;
        }
    }
    lua_Integer n = sequence_length(L, idx);
    if (n == 0) {   /* empty: an array only when marked with core.json.array */
        int is_array = 0;
        if (lua_getmetatable(L, idx)) {
            luaL_getmetatable(L, ARRAY_MT);
            is_array = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
        }
        put(L, b, is_array ? "[]" : "{}", 2);
        return;
    }
    if (n > 0) {
        put(L, b, "[", 1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1)
                put(L, b, ",", 1);
            lua_rawgeti(L, idx, i);
            encode_value(L, b, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        put(L, b, "]", 1);
        return;
    }
    put(L, b, "{", 1);
    int first = 1;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int value_idx = lua_gettop(L);
        if (!first)
            put(L, b, ",", 1);
        first = 0;
        size_t klen;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *key = lua_tolstring(L, -2, &klen);
            put_string(L, b, key, klen);
        } else if (lua_isinteger(L, -2)) {
            const char *key = lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -2));
            put_string(L, b, key, strlen(key));
            lua_pop(L, 1);
        } else {
            luaL_error(L, "json encode: object keys must be strings");
        }
        put(L, b, ":", 1);
        encode_value(L, b, value_idx, depth + 1);
        lua_pop(L, 1);
    }
    put(L, b, "}", 1);
}

static void encode_value(lua_State *L, outbuf *b, int idx, int depth) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_string(L, b, s, n);
        break;
    }
    case LUA_TNUMBER: put_number(L, b, idx); break;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx))
            put(L, b, "true", 4);
        else
            put(L, b, "false", 5);
        break;
    case LUA_TNIL: put(L, b, "null", 4); break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {   /* core.json.null */
            put(L, b, "null", 4);
            break;
        }
        /* fallthrough */
    default:
        if (lua_type(L, idx) == LUA_TTABLE) {
            encode_table(L, b, idx, depth);
            break;
        }
        luaL_error(L, "json encode: cannot encode a %s", luaL_typename(L, idx));
    }
}

/* core.json.encode(value) -> string. Raises on values JSON cannot hold (functions,
 * NaN, nesting over 64, non-string keys). Empty tables are objects unless marked
 * with core.json.array. */
static int json_encode(lua_State *L) {
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    outbuf *b = lua_newuserdatauv(L, sizeof(*b), 0);
    b->data = NULL;
    b->len = b->cap = 0;
    luaL_setmetatable(L, OUTBUF_MT);
    encode_value(L, b, 1, 0);
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    free(b->data);
    b->data = NULL;
    return 1;
}

/* core.json.decode(text) -> value | nil, err. JSON null becomes core.json.null. */
static int json_decode(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        return core_fail(L, "invalid json: %s", msg ? msg : "decode failed");
    }
    return 1;
}

/* core.json.array(t?) -> t marked so that it encodes as [] when empty */
static int json_array(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_setmetatable(L, ARRAY_MT);
    return 1;
}

/* core.json.raw(text) -> a value that encodes as `text` itself. For JSON made by a
 * trusted producer (the database's JSON functions); it is not checked. */
static int json_raw(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    luaL_setmetatable(L, RAW_MT);
    return 1;
}

int luaopen_core_json(lua_State *L) {
    luaL_newmetatable(L, OUTBUF_MT);
    lua_pushcfunction(L, outbuf_free);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, ARRAY_MT);
    lua_pop(L, 1);
    luaL_newmetatable(L, RAW_MT);
    lua_pop(L, 1);

    lua_newtable(L);                               /* core.json */
    luaopen_cjson(L);                              /* a fresh instance keeps settings private */
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    lua_remove(L, -2);
    lua_getfield(L, -1, "decode_max_depth");
    lua_pushinteger(L, JSON_MAX_DEPTH);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "decode_invalid_numbers");
    lua_pushboolean(L, 0);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "null");
    lua_setfield(L, -3, "null");
    lua_getfield(L, -1, "decode");
    lua_pushcclosure(L, json_decode, 1);
    lua_setfield(L, -3, "decode");
    lua_pop(L, 1);
    lua_pushcfunction(L, json_encode);
    lua_setfield(L, -2, "encode");
    lua_pushcfunction(L, json_array);
    lua_setfield(L, -2, "array");
    lua_pushcfunction(L, json_raw);
    lua_setfield(L, -2, "raw");
    return 1;
}
