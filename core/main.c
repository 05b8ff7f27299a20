/* main.c -- the `itcloud` binary: serve | migrate [up|status] | run FILE.lua [args] |
 * version. Loads the configuration once, then hands over to the subcommand. */
#include <argon2.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <malloc.h>

#include <lualib.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "migrate.h"
#include "server.h"
#include "vm.h"
#include "worker.h"

static int usage(void) {
    fprintf(stderr,
            "usage: itcloud serve | worker | migrate [up|status] | run FILE.lua [args...] | version\n");
    return 2;
}

static int print_version(void) {
    printf("itcloud %s\n", ITCLOUD_VERSION);
    printf("lua %s\nlibmicrohttpd %s\nsqlite %s\nopenssl %s\n", LUA_RELEASE, MHD_get_version(),
           sqlite3_libversion(), OpenSSL_version(OPENSSL_VERSION));
    return 0;
}

static int message_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

/* `itcloud run FILE [args]`: arg[0] = FILE, arg[1..] = args; exit status 0 unless the
 * file raises (busted's runner exits by itself with its own status). */
static int run_file(int argc, char **argv) {
    if (argc < 3)
        return usage();
    lua_State *L = vm_create_runner();
    lua_createtable(L, argc - 3, 1);
    for (int i = 2; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 2);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, message_handler);
    if (luaL_loadfile(L, argv[2]) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    luaL_checkstack(L, argc, "too many arguments");   /* one slot per argument */
    for (int i = 3; i < argc; i++)
        lua_pushstring(L, argv[i]);
    int rc = lua_pcall(L, argc - 3, 1, 1);
    int status = 0;
    if (rc != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        status = 1;
    } else if (lua_isinteger(L, -1)) {
        status = (int)lua_tointeger(L, -1);
    }
    lua_close(L);
    return status;
}

static int ensure_data_dir(void) {
    if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        log_fmt(LOG_ERROR, "main", "cannot create DATA_DIR %s: %s", cfg.data_dir, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) {
        /* Big blocks (argon2's 19 MiB per hash) always come from mmap and go back to the
         * system when freed; glibc would otherwise raise its threshold after the first
         * one and keep every later block resident in a thread arena. Two arenas suffice
         * for the HTTP threads. */
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
        mallopt(M_ARENA_MAX, 2);
    } else {
        /* A worker (and `run`, which benchmarks and specs use) decodes one picture after
         * another: a progressive JPEG's coefficients alone are 36 MB for 12 MP. Kept in
         * the heap, the next job reuses those pages instead of faulting in fresh ones,
         * which was a third of such a decode. */
        mallopt(M_MMAP_THRESHOLD, 128 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
    if (!strcmp(cmd, "version"))
        return print_version();
    char err[512];
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "itcloud: configuration error: %s\n", err);
        return 1;
    }
    log_set_level(cfg.log_level);
    if (config_load_secret(err, sizeof(err)) != 0) {
        fprintf(stderr, "itcloud: configuration error: %s\n", err);
        return 1;
    }
    core_crypto_set_hash_concurrency((int)cfg.argon2_max_concurrency);
    if (!strcmp(cmd, "run"))
        return run_file(argc, argv);
    if (ensure_data_dir() != 0)
        return 1;
    if (!strcmp(cmd, "migrate")) {
        const char *sub = argc > 2 ? argv[2] : "up";
        if (!strcmp(sub, "up"))
            return migrate_up() == 0 ? 0 : 1;
        if (!strcmp(sub, "status"))
            return migrate_status() == 0 ? 0 : 1;
        return usage();
    }
    if (!strcmp(cmd, "worker"))
        return worker_run();
    if (!strcmp(cmd, "serve")) {
        if (cfg.auto_migrate && migrate_up() != 0)
            return 1;
        return server_run();
    }
    return usage();
}
