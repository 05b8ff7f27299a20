/* test_worker.c -- core.worker through real lua_States: the current-job slot is one per
 * process (another thread, with its own state, reads what this one set), clearing it,
 * and the refusals (text too long, NUL bytes, a job without an owner). */
#include <pthread.h>

#include "harness.h"

/* Reads the slot from a state of its own, on another thread: "id owner" or "none". */
static void *read_slot(void *out) {
    lua_State *L = harness_state();
    int rc = luaL_dostring(L, "local id, owner = core.worker.current_job()\n"
                              "return id and (id .. ' ' .. owner) or 'none'");
    snprintf(out, 256, "%s", rc == LUA_OK ? lua_tostring(L, -1) : "error");
    lua_close(L);
    return NULL;
}

static void seen_from_another_thread(char *out) {
    pthread_t t;
    pthread_create(&t, NULL, read_slot, out);
    pthread_join(t, NULL);
}

int main(void) {
    lua_State *L = harness_state();
    char seen[256];

    CHECK(run_lua(L, "return core.worker.current_job() == nil"), "no job before one is set");
    CHECK(run_lua(L, "core.worker.set_current_job('job-1', 'worker-a')\n"
                     "local id, owner = core.worker.current_job()\n"
                     "return id == 'job-1' and owner == 'worker-a'"),
          "current_job gives back the job and its lease owner");
    seen_from_another_thread(seen);
    CHECK(strcmp(seen, "job-1 worker-a") == 0, "another thread's state sees the same job");
    CHECK(run_lua(L, "core.worker.set_current_job(nil)\n"
                     "return core.worker.current_job() == nil"),
          "set_current_job(nil) clears it");
    seen_from_another_thread(seen);
    CHECK(strcmp(seen, "none") == 0, "and another thread sees it cleared");
    CHECK(run_lua(L, "core.worker.set_current_job('job-2', 'worker-a')\n"
                     "local ok1 = pcall(core.worker.set_current_job, string.rep('x', 128), 'w')\n"
                     "local ok2 = pcall(core.worker.set_current_job, 'job-3', string.rep('w', 128))\n"
                     "local ok3 = pcall(core.worker.set_current_job, 'job\\0', 'w')\n"
                     "local ok4 = pcall(core.worker.set_current_job, 'job-3')\n"
                     "return not (ok1 or ok2 or ok3 or ok4)"
                     " and core.worker.current_job() == 'job-2'"),
          "too long text, NUL bytes and a missing owner raise and leave the slot as it was");
    CHECK(run_lua(L, "core.worker.set_current_job(string.rep('j', 127), string.rep('w', 127))\n"
                     "local id, owner = core.worker.current_job()\n"
                     "return #id == 127 and #owner == 127"),
          "127 bytes fit");

    lua_close(L);
    return harness_done();
}
