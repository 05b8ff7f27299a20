/* mod_log.c -- `core.log`: Lua's side of log.c. Fields become logfmt pairs in
 * sorted key order; the current request id is added by log.c. */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"

static int compare_keys(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a field name can be written as a logfmt key as it is: 1-64 of
 * [A-Za-z0-9_.-]. Other names are left out, so no field can forge a line or a pair. */
static int is_safe_key(const char *key, size_t len) {
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

/* [-0, +0] Formats the string-keyed entries of the table at `idx` (but "mod") into buf:
 * at most 64 of them, with safe names (is_safe_key). */
static void format_fields(lua_State *L, int idx, char *buf, size_t cap) {
    const char *keys[64];
    int count = 0;
    buf[0] = '\0';
    if (lua_type(L, idx) != LUA_TTABLE)
        return;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (count == 64) {
            lua_pop(L, 2);   /* lua_next left key and value */
            break;
        }
        size_t len;
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *key = lua_tolstring(L, -2, &len);
            if (strcmp(key, "mod") != 0 && is_safe_key(key, len))
                keys[count++] = key;   /* anchored by the table */
        }
        lua_pop(L, 1);
    }
    qsort(keys, (size_t)count, sizeof(keys[0]), compare_keys);
    size_t len = 0;
    for (int i = 0; i < count; i++) {
        lua_getfield(L, idx, keys[i]);
        const char *v = luaL_tolstring(L, -1, NULL);
        len = log_append_field(buf, cap, len, keys[i], v);
        lua_pop(L, 2);
    }
}

/* Shared body of core.log.<level>(msg, fields?): module name from fields.mod or "lua". */
static int log_at(lua_State *L, log_level level) {
    const char *msg = luaL_checkstring(L, 1);
    if (!log_enabled(level))
        return 0;
    const char *mod = "lua";
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "mod");
        if (lua_type(L, -1) == LUA_TSTRING)
            mod = lua_tostring(L, -1);
        lua_pop(L, 1);   /* the string stays alive: the table holds it */
    }
    char fields[4096];
    format_fields(L, 2, fields, sizeof(fields));
    log_write(level, mod, msg, fields);
    return 0;
}

/* core.log.debug/info/warn/error(msg, fields?) -> nothing */
static int log_debug(lua_State *L) { return log_at(L, LOG_DEBUG); }
static int log_info(lua_State *L) { return log_at(L, LOG_INFO); }
static int log_warn(lua_State *L) { return log_at(L, LOG_WARN); }
static int log_error(lua_State *L) { return log_at(L, LOG_ERROR); }

/* core.log.enabled(level) -> boolean */
static int log_is_enabled(lua_State *L) {
    static const char *const names[] = {"debug", "info", "warn", "error", NULL};
    lua_pushboolean(L, log_enabled((log_level)luaL_checkoption(L, 1, NULL, names)));
    return 1;
}

static const luaL_Reg log_funcs[] = {{"debug", log_debug}, {"info", log_info},
                                     {"warn", log_warn},   {"error", log_error},
                                     {"enabled", log_is_enabled}, {NULL, NULL}};

int luaopen_core_log(lua_State *L) {
    luaL_newlib(L, log_funcs);
    return 1;
}
