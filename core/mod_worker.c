/* mod_worker.c -- `core.worker`: the job this process is running, in one slot shared by
 * all its threads (each with its own Lua VM), so the worker's lease heartbeat
 * (worker.c) can renew that job's lease while the job's own thread is busy in C. */
#include <pthread.h>
#include <string.h>

#include "core.h"

#define JOB_TEXT_MAX 128   /* job ids and lease owners are short generated names */

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static char current_id[JOB_TEXT_MAX], current_owner[JOB_TEXT_MAX];   /* "" = none */

/* worker.set_current_job(id, owner) -- records the job this process runs and the lease
 * owner it was claimed as; worker.set_current_job(nil) clears it. Raises on text of
 * 128 bytes or more, or holding a NUL byte. */
static int worker_set_current_job(lua_State *L) {
    size_t id_len, owner_len = 0;
    const char *id = luaL_optlstring(L, 1, "", &id_len);
    const char *owner = id_len > 0 ? luaL_checklstring(L, 2, &owner_len) : "";
    luaL_argcheck(L, id_len < JOB_TEXT_MAX && strlen(id) == id_len, 1, "not a job id");
    luaL_argcheck(L, owner_len < JOB_TEXT_MAX && strlen(owner) == owner_len, 2,
                  "not a lease owner");
    pthread_mutex_lock(&current_lock);
    memcpy(current_id, id, id_len + 1);
    memcpy(current_owner, owner, owner_len + 1);
    pthread_mutex_unlock(&current_lock);
    return 0;
}

/* worker.current_job() -> id, owner | nil when this process runs no job */
static int worker_current_job(lua_State *L) {
    char id[JOB_TEXT_MAX], owner[JOB_TEXT_MAX];
    pthread_mutex_lock(&current_lock);
    memcpy(id, current_id, sizeof(id));
    memcpy(owner, current_owner, sizeof(owner));
    pthread_mutex_unlock(&current_lock);
    if (id[0] == '\0') {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, id);
    lua_pushstring(L, owner);
    return 2;
}

static const luaL_Reg worker_funcs[] = {{"set_current_job", worker_set_current_job},
                                        {"current_job", worker_current_job},
                                        {NULL, NULL}};

int luaopen_core_worker(lua_State *L) {
    luaL_newlib(L, worker_funcs);
    return 1;
}
