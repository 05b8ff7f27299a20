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

/* One file of a source snapshot: its path as `require` builds it, and its text. */
typedef struct {
    char *path;
    char *text;
    size_t len;
} source_file;

/* Every .lua file under LUA_DIR and CONFIG_DIR, read at one moment. VMs load from a
 * snapshot, never from disk, so all threads run exactly the code a reload checked,
 * even if the files change again before a thread rebuilds. Shared, refcounted. */
typedef struct {
    atomic_int refs;
    unsigned generation;
    int count, cap;
    source_file *files;
} source_set;

struct vm {
    lua_State *L;
    source_set *sources;
    size_t mem_used, mem_limit;
    long long instructions_left;
    int handle_ref;        /* registry ref to app.handle */
    int app_ref;           /* registry ref to the app module */
};

static source_set *published;   /* the snapshot new VMs load; guarded by published_lock */
static pthread_mutex_t published_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint published_generation;   /* written under published_lock */
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

/* Counts instructions in steps of HOOK_EVERY. Once the budget is spent it fires on
 * every instruction, so a pcall in Lua cannot swallow the error and carry on. */
static void budget_hook(lua_State *L, lua_Debug *ar) {
    vm *v;
    lua_getallocf(L, (void **)&v);
    v->instructions_left -= HOOK_EVERY;
    if (v->instructions_left < 0) {
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "instruction budget exceeded");
    }
}

/* A fresh budget for the next request or periodic call. */
static void reset_budget(vm *v) {
    v->instructions_left = cfg.lua_instruction_limit;
    lua_sethook(v->L, budget_hook, LUA_MASKCOUNT, HOOK_EVERY);
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
        {"config", luaopen_core_config}, {"storage", luaopen_core_storage},
        {"image", luaopen_core_image},     {"process", luaopen_core_process},
        {"redis", luaopen_core_redis},   {"worker", luaopen_core_worker}, {NULL, NULL}};
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

static void source_set_release(source_set *set) {
    if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
        return;
    for (int i = 0; i < set->count; i++) {
        free(set->files[i].path);
        free(set->files[i].text);
    }
    free(set->files);
    free(set);
}

/* Adds every .lua file under dir (recursively) to set. Returns -1 on a read error. */
static int snapshot_tree(source_set *set, const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;   /* a missing folder simply has no modules */
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = snapshot_tree(set, path);
            continue;
        }
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".lua") != 0)
            continue;
        if (set->count == set->cap) {
            int cap = set->cap ? set->cap * 2 : 64;
            source_file *grown = realloc(set->files, (size_t)cap * sizeof(*grown));
            if (!grown) {
                rc = -1;
                break;
            }
            set->files = grown;
            set->cap = cap;
        }
        source_file *f = &set->files[set->count];
        f->text = read_file(path, &f->len);
        f->path = strdup(path);
        if (!f->text || !f->path) {
            free(f->text);
            free(f->path);
            rc = -1;
            break;
        }
        set->count++;
    }
    closedir(d);
    return rc;
}

/* Reads LUA_DIR and CONFIG_DIR into a new snapshot (one reference held). */
static source_set *snapshot_sources(char *err, size_t errlen) {
    source_set *set = calloc(1, sizeof(*set));
    if (!set || snapshot_tree(set, cfg.lua_dir) != 0 || snapshot_tree(set, cfg.config_dir) != 0) {
        snprintf(err, errlen, "cannot read the Lua sources: %s", strerror(errno));
        if (set) {
            atomic_store(&set->refs, 1);
            source_set_release(set);
        }
        return NULL;
    }
    atomic_store(&set->refs, 1);
    return set;
}

static const source_file *find_source(const source_set *set, const char *path) {
    for (int i = 0; i < set->count; i++)
        if (!strcmp(set->files[i].path, path))
            return &set->files[i];
    return NULL;
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
    vm *v;
    lua_getallocf(L, (void **)&v);
    snprintf(path, sizeof(path), "%s/%s.lua", base, rel);
    const source_file *file = find_source(v->sources, path);
    if (!file) {
        snprintf(path, sizeof(path), "%s/%s/init.lua", base, rel);
        file = find_source(v->sources, path);
    }
    if (!file)
        return luaL_error(L, "module '%s' not found", name);
    snprintf(chunk, sizeof(chunk), "@%s", path);
    if (luaL_loadbufferx(L, file->text, file->len, chunk, "t") != LUA_OK)
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
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");   /* setmetatable(_G, nil) cannot undo it */
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

static int traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

/* Builds an app VM from `sources` (taking a reference of its own). */
static vm *create_app_from(source_set *sources, char *err, size_t errlen) {
    vm *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_fetch_add(&sources->refs, 1);
    v->sources = sources;
    v->mem_limit = (size_t)cfg.lua_memory_limit_bytes;
    v->instructions_left = cfg.lua_instruction_limit;
    v->L = lua_newstate(capped_alloc, v);
    if (!v->L) {
        vm_destroy(v);
        snprintf(err, errlen, "cannot create a Lua state");
        return NULL;
    }
    lua_State *L = v->L;
    open_sandbox(L);
    reset_budget(v);   /* loading the app and the policy has a budget too */
    lua_pushcfunction(L, traceback_handler);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "app");
    if (lua_pcall(L, 1, 1, 1) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        vm_destroy(v);
        return NULL;
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushvalue(L, -1);
        v->app_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, "handle") != LUA_TFUNCTION) {
        snprintf(err, errlen, "lua/app.lua must return a table with a handle function");
        vm_destroy(v);
        return NULL;
    }
    v->handle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    make_globals_strict(L);
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
    /* os.exit always closes the state, so resources held by core (the database
     * connection) are released: busted exits through os.exit */
    (void)luaL_dostring(L, "local exit = os.exit; os.exit = function(code) exit(code, true) end");
    return L;
}

/* Takes a reference to the published snapshot, reading the sources on first use. */
static source_set *acquire_published(char *err, size_t errlen) {
    pthread_mutex_lock(&published_lock);
    if (!published) {
        published = snapshot_sources(err, errlen);
        if (published)
            published->generation = atomic_fetch_add(&published_generation, 1) + 1;
    }
    source_set *set = published;
    if (set)
        atomic_fetch_add(&set->refs, 1);
    pthread_mutex_unlock(&published_lock);
    return set;
}

vm *vm_create_app(char *err, size_t errlen) {
    source_set *sources = acquire_published(err, errlen);
    if (!sources)
        return NULL;
    vm *v = create_app_from(sources, err, errlen);
    source_set_release(sources);
    return v;
}

void vm_destroy(vm *v) {
    if (!v)
        return;
    if (v->L)
        lua_close(v->L);
    source_set_release(v->sources);
    free(v);
}

lua_State *vm_lua(vm *v) { return v->L; }

int vm_dispatch(vm *v, lua_CFunction build_request, void *arg) {
    lua_State *L = v->L;
    reset_budget(v);
    /* the request table is built inside a protected call: running out of memory there
     * is an error like any other, not a panic */
    lua_pushcfunction(L, build_request);
    lua_pushlightuserdata(L, arg);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        log_fmt(LOG_ERROR, "vm", "cannot build the request: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    int req = lua_gettop(L);
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

int vm_call_app(vm *v, const char *function) {
    lua_State *L = v->L;
    int base = lua_gettop(L);
    reset_budget(v);
    lua_pushcfunction(L, traceback_handler);
    lua_rawgeti(L, LUA_REGISTRYINDEX, v->app_ref);
    if (lua_getfield(L, -1, function) != LUA_TFUNCTION) {
        lua_settop(L, base);
        log_fmt(LOG_ERROR, "vm", "app.%s is not a function", function);
        return -1;
    }
    lua_remove(L, -2);
    int rc = lua_pcall(L, 0, 1, base + 1);
    int result = -1;
    if (rc != LUA_OK) {
        log_fmt(LOG_ERROR, "vm", "app.%s failed", function);
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
    } else {
        lua_Integer n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        result = n < 0 ? 0 : (n > INT_MAX ? INT_MAX : (int)n);
    }
    lua_settop(L, base);
    return result;
}

vm *vm_for_thread(void) {
    unsigned gen = atomic_load(&published_generation);
    if (thread_vm && thread_vm->sources->generation == gen)
        return thread_vm;
    char err[2048];
    vm *fresh = vm_create_app(err, sizeof(err));
    if (!fresh) {
        /* the snapshot loaded in the reload's check, so this is memory or similar */
        log_fmt(LOG_ERROR, "vm", "rebuild failed, keeping the loaded code: %s", err);
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
    source_set *sources = snapshot_sources(err, sizeof(err));
    vm *probe = sources ? create_app_from(sources, err, sizeof(err)) : NULL;
    if (!probe) {
        log_fmt(LOG_ERROR, "vm", "reload failed, keeping the loaded code: %s", err);
        source_set_release(sources);
        return -1;
    }
    vm_destroy(probe);
    pthread_mutex_lock(&published_lock);
    source_set *old = published;
    sources->generation = atomic_fetch_add(&published_generation, 1) + 1;
    published = sources;
    pthread_mutex_unlock(&published_lock);
    source_set_release(old);
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
