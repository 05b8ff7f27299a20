/* harness.h -- a tiny TAP harness for the C tests: each check prints one
 * "ok N - name" or "not ok N - name" line; run_lua() runs a chunk in a state
 * that has the global `core`. */
#ifndef ITCLOUD_TEST_HARNESS_H
#define ITCLOUD_TEST_HARNESS_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "../core.h"

static int harness_count = 0;
static int harness_failed = 0;

/* Records one check as a TAP line. */
#define CHECK(cond, name)                                                                  \
    do {                                                                                   \
        harness_count++;                                                                   \
        if (cond) {                                                                        \
            printf("ok %d - %s\n", harness_count, name);                                   \
        } else {                                                                           \
            harness_failed++;                                                              \
            printf("not ok %d - %s\n#   at %s:%d\n", harness_count, name, __FILE__, __LINE__); \
        }                                                                                  \
    } while (0)

/* A state with the standard libraries and `core`, as `itcloud run` gives. */
static lua_State *harness_state(void) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    core_open_primitives(L);
    return L;
}

/* Runs `code`; the chunk passes when it returns true. Prints the Lua error on failure. */
static int run_lua(lua_State *L, const char *code) {
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        printf("#   lua error: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 0;
    }
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok;
}

/* Prints the TAP plan and returns the process exit status. */
static int harness_done(void) {
    printf("1..%d\n", harness_count);
    return harness_failed == 0 ? 0 : 1;
}

#endif
