/* vm.c -- builds Lua VMs: the sandbox (STYLE.md section 6), a memory cap through
 * the allocator, an instruction budget through a count hook, a `require` limited to
 * lua/, config/ and core.*, and hot reload by generation number. */
#include "vm.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <lualib.h>

#include "config.h"
#include "log.h"

#define HOOK_EVERY 10000   /* instructions between budget checks */

struct vm {
    lua_State *L;
    unsigned generation;
    size_t mem_used, mem_limit;
    long long instructions_left;
    int handle_ref;        /* registry ref to app.handle */
};

static atomic_uint current_generation = 1;
static __thread vm *thread_vm;
static pthread_key_t thread_vm_key;   /* its destructor frees a thread's VM at exit */
static pthread_once_t thread_vm_key_once = PTHREAD_ONCE_INIT;

static void destroy_thread_vm(void *v) { vm_destroy(v); }
static void create_thread_vm_key(void) { pthread_key_create(&thread_vm_key, destroy_thread_vm); }

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    vm *v = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        v->mem_used -= old;
        return NULL;
    }
    if (nsize > old && v->mem_used - old + nsize > v->mem_limit)
        return NULL;   /* Lua raises "not enough memory" */
    void *grown = realloc(ptr, nsize);
    if (grown)
        v->mem_used = v->mem_used - old + nsize;
    return grown;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    vm *v;
    lua_getallocf(L, (void **)&v);
    v->instructions_left -= HOOK_EVERY;
    if (v->instructions_left < 0)
        luaL_error(L, "instruction budget exceeded");
}

int core_fail(lua_State *L, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lua_pushnil(L);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return 2;
}

static __thread const char *thread_request_id;
void core_set_request_id(const char *request_id) { thread_request_id = request_id; }
const char *core_request_id(void) { return thread_request_id; }

void core_open_primitives(lua_State *L) {
    static const luaL_Reg modules[] = {
        {"db", luaopen_core_db},     {"crypto", luaopen_core_crypto}, {"jwt", luaopen_core_jwt},
        {"log", luaopen_core_log},   {"time", luaopen_core_time},     {"json", luaopen_core_json},
        {"config", luaopen_core_config}, {NULL, NULL}};
    lua_newtable(L);
    for (const luaL_Reg *m = modules; m->name; m++) {
        m->func(L);
        lua_setfield(L, -2, m->name);
    }
    lua_setglobal(L, "core");
}

/* Reads a whole file into a malloc'd buffer; NULL when it cannot. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            char *grown = realloc(buf, cap = cap ? cap * 2 : 16384);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* Loads a source file as text only (never bytecode). [-0, +1] chunk or error message */
static int load_source(lua_State *L, const char *path, const char *chunkname) {
    size_t len;
    char *src = read_file(path, &len);
    if (!src) {
        lua_pushfstring(L, "cannot read %s: %s", path, strerror(errno));
        return LUA_ERRFILE;
    }
    int rc = luaL_loadbufferx(L, src, len, chunkname, "t");
    free(src);
    return rc;
}

/* require(name) for the sandbox: "core.x" -> core.x; "config.x" -> CONFIG_DIR/x.lua;
 * anything else -> LUA_DIR/name.lua or LUA_DIR/name/init.lua. Results are cached. */
static int sandbox_require(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "itcloud.loaded");
    if (lua_getfield(L, 2, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    if (!strncmp(name, "core.", 5)) {
        lua_getglobal(L, "core");
        lua_getfield(L, -1, name + 5);
        if (lua_isnil(L, -1))
            return luaL_error(L, "module '%s' not found", name);
        return 1;
    }
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
            return luaL_error(L, "module '%s': invalid name", name);
    char rel[PATH_MAX], path[PATH_MAX], chunk[PATH_MAX];
    const char *base = cfg.lua_dir, *mod = name;
    if (!strncmp(name, "config.", 7)) {
        base = cfg.config_dir;
        mod = name + 7;
    }
    snprintf(rel, sizeof(rel), "%s", mod);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    snprintf(path, sizeof(path), "%s/%s.lua", base, rel);
    struct stat st;
    if (stat(path, &st) != 0)
        snprintf(path, sizeof(path), "%s/%s/init.lua", base, rel);
    snprintf(chunk, sizeof(chunk), "@%s", path);
    if (load_source(L, path, chunk) != LUA_OK)
        return luaL_error(L, "module '%s': %s", name, lua_tostring(L, -1));
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

static int undeclared_global(lua_State *L) {
    return luaL_error(L, "undeclared global '%s'", lua_tostring(L, 2));
}

/* Opens the allowed libraries, removes what the sandbox must not have, installs
 * `core` and require, and makes undeclared globals raise. */
static void open_sandbox(lua_State *L) {
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},        {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_TABLIBNAME, luaopen_table},  {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
                                    {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    static const char *const removed[] = {"dofile", "loadfile", "load", "collectgarbage", NULL};
    for (const char *const *name = removed; *name; name++) {
        lua_pushnil(L);
        lua_setglobal(L, *name);
    }
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    core_open_primitives(L);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "itcloud.loaded");
    lua_pushcfunction(L, sandbox_require);
    lua_setglobal(L, "require");
}

static void make_globals_strict(lua_State *L) {
    lua_pushglobaltable(L);
    lua_newtable(L);
    lua_pushcfunction(L, undeclared_global);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, undeclared_global);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

vm *vm_create_app(char *err, size_t errlen) {
    vm *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->mem_limit = (size_t)cfg.lua_memory_limit_bytes;
    v->instructions_left = cfg.lua_instruction_limit;
    v->generation = atomic_load(&current_generation);
    v->L = lua_newstate(capped_alloc, v);
    if (!v->L) {
        free(v);
        snprintf(err, errlen, "cannot create a Lua state");
        return NULL;
    }
    lua_State *L = v->L;
    open_sandbox(L);
    lua_pushcfunction(L, traceback_handler);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "app");
    if (lua_pcall(L, 1, 1, 1) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        vm_destroy(v);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, "handle") != LUA_TFUNCTION) {
        snprintf(err, errlen, "lua/app.lua must return a table with a handle function");
        vm_destroy(v);
        return NULL;
    }
    v->handle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    make_globals_strict(L);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
    lua_gc(L, LUA_GCGEN, 0, 0);
    return v;
}

lua_State *vm_create_runner(void) {
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    core_open_primitives(L);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;./spec/?.lua;./?.lua;%s", cfg.lua_dir, cfg.lua_dir,
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    return L;
}

void vm_destroy(vm *v) {
    if (!v)
        return;
    if (v->L)
        lua_close(v->L);
    free(v);
}

lua_State *vm_lua(vm *v) { return v->L; }

int vm_dispatch(vm *v) {
    lua_State *L = v->L;
    int req = lua_gettop(L);
    v->instructions_left = cfg.lua_instruction_limit;
    lua_pushcfunction(L, traceback_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->handle_ref);
    lua_pushvalue(L, req);
    int rc = lua_pcall(L, 1, 3, req + 1);
    if (rc != LUA_OK) {
        log_write(LOG_ERROR, "vm", "request failed", NULL);
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_settop(L, req - 1);
        return -1;
    }
    lua_remove(L, req + 1);   /* the handler */
    lua_remove(L, req);       /* the request */
    return 0;
}

vm *vm_for_thread(void) {
    unsigned gen = atomic_load(&current_generation);
    if (thread_vm && thread_vm->generation == gen)
        return thread_vm;
    char err[2048];
    vm *fresh = vm_create_app(err, sizeof(err));
    if (!fresh) {
        log_fmt(LOG_ERROR, "vm", "rebuild failed, keeping the loaded code: %s", err);
        if (thread_vm)
            thread_vm->generation = gen;   /* don't retry on every request */
        return thread_vm;
    }
    vm_destroy(thread_vm);
    thread_vm = fresh;
    pthread_once(&thread_vm_key_once, create_thread_vm_key);
    pthread_setspecific(thread_vm_key, thread_vm);
    return thread_vm;
}

int vm_reload(void) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[2048];
    vm *probe = vm_create_app(err, sizeof(err));
    if (!probe) {
        log_fmt(LOG_ERROR, "vm", "reload failed, keeping the loaded code: %s", err);
        return -1;
    }
    vm_destroy(probe);
    atomic_fetch_add(&current_generation, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char fields[64];
    snprintf(fields, sizeof(fields), "duration_ms=%.1f",
             (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    log_write(LOG_INFO, "vm", "reloaded", fields);
    return 0;
}

/* Adds inotify watches on dir and every directory below it. */
static void watch_tree(int fd, const char *dir) {
    inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            watch_tree(fd, sub);
    }
    closedir(d);
}

static void *watch_loop(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        if (read(fd, buf, sizeof(buf)) <= 0)
            continue;
        /* let an editor finish writing a burst of files, then reload once */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, 50) > 0)
            if (read(fd, buf, sizeof(buf)) <= 0)
                break;
        vm_reload();
    }
    return NULL;
}

int vm_watch_sources(void) {
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0)
        return -1;
    watch_tree(fd, cfg.lua_dir);
    watch_tree(fd, cfg.config_dir);
    pthread_t t;
    if (pthread_create(&t, NULL, watch_loop, (void *)(intptr_t)fd) != 0)
        return -1;
    pthread_detach(t);
    return 0;
}
