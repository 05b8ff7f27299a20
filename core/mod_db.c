/* mod_db.c -- `core.db`: the database for Lua. Each VM owns one connection to
 * DATABASE_URL, opened on first use, with a cache of prepared statements; values
 * bind through `?` and rows come back as tables with typed values. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "db.h"

#define CONN_MT "core.db.connection"      /* metatable */
#define CONN_KEY "core.db.current"        /* registry slot of the VM's connection */
#define STMT_CACHE_SLOTS 128

typedef struct {
    char *sql;            /* owned copy, NULL = empty slot */
    sqlite3_stmt *stmt;
} cached_stmt;

typedef struct {
    sqlite3 *db;          /* NULL = closed */
    int tx_depth;         /* open transactions: 1 = BEGIN, deeper = savepoints */
    sqlite3_stmt *stepping;   /* a query whose row loop may have raised (out of memory) */
    cached_stmt cache[STMT_CACHE_SLOTS];
} connection;

sqlite3 *db_open_sqlite(const char *path, char *err, size_t errlen) {
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "unknown error");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static uint32_t hash_sql(const char *s, size_t n) {
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void connection_release(connection *c) {
    for (int i = 0; i < STMT_CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
        c->cache[i].stmt = NULL;
        c->cache[i].sql = NULL;
    }
    c->stepping = NULL;
    sqlite3_close(c->db);
    c->db = NULL;
}

/* __gc / __close of the VM's connection; harmless twice. */
static int connection_gc(lua_State *L) {
    connection_release(luaL_checkudata(L, 1, CONN_MT));
    return 0;
}

/* [-0, +0] The VM's connection, opened from DATABASE_URL on first use. Raises when
 * the database cannot be opened: nothing can work without it. A query left mid-step
 * by an error (memory) is reset first: left alone it would hold a read transaction,
 * and every later read on the connection would see that old snapshot. */
static connection *get_connection(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, CONN_KEY) == LUA_TUSERDATA) {
        connection *c = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (c->stepping) {
            sqlite3_reset(c->stepping);
            sqlite3_clear_bindings(c->stepping);
            c->stepping = NULL;
        }
        return c;
    }
    lua_pop(L, 1);
    connection *c = lua_newuserdatauv(L, sizeof(*c), 0);
    memset(c, 0, sizeof(*c));
    luaL_setmetatable(L, CONN_MT);
    const char *path = config_sqlite_path();
    char err[512];
    if (!path)
        luaL_error(L, "core.db: unsupported DATABASE_URL");
    c->db = db_open_sqlite(path, err, sizeof(err));
    if (!c->db)
        luaL_error(L, "core.db: %s", err);
    lua_setfield(L, LUA_REGISTRYINDEX, CONN_KEY);
    return c;
}

/* A prepared statement for sql, from the cache or newly prepared into it. SQL with
 * no statement, or more than one, is refused (SQLite would silently run only the
 * first). On failure *err is a message valid until the next sqlite call. */
static sqlite3_stmt *prepare_cached(connection *c, const char *sql, size_t len, const char **err) {
    if (len > INT_MAX - 1 || strlen(sql) != len) {
        *err = "SQL text holds a NUL byte or is too long";
        return NULL;
    }
    cached_stmt *slot = &c->cache[hash_sql(sql, len) % STMT_CACHE_SLOTS];
    if (slot->sql && !strcmp(slot->sql, sql)) {
        sqlite3_reset(slot->stmt);
        sqlite3_clear_bindings(slot->stmt);
        return slot->stmt;
    }
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(c->db, sql, (int)len + 1, &stmt, &tail) != SQLITE_OK) {
        *err = sqlite3_errmsg(c->db);
        return NULL;
    }
    if (!stmt) {
        *err = "no SQL statement";
        return NULL;
    }
    while (tail && *tail && strchr(" \t\r\n;", *tail))
        tail++;
    if (tail && *tail) {
        sqlite3_finalize(stmt);
        *err = "one SQL statement per call";
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(stmt);
        *err = "out of memory";
        return NULL;
    }
    sqlite3_finalize(slot->stmt);
    free(slot->sql);
    slot->sql = copy;
    slot->stmt = stmt;
    return stmt;
}

/* Binds Lua arguments first..top to the statement's `?` parameters. Strings are bound
 * without copying: they stay alive for the call, and the statement is reset before
 * returning. Returns NULL or an error message. */
static const char *bind_args(lua_State *L, sqlite3_stmt *stmt, int first) {
    int top = lua_gettop(L);
    if (top - first + 1 != sqlite3_bind_parameter_count(stmt))
        return "wrong number of parameters";
    for (int i = first; i <= top; i++) {
        int p = i - first + 1, rc;
        switch (lua_type(L, i)) {
        case LUA_TNIL: rc = sqlite3_bind_null(stmt, p); break;
        case LUA_TBOOLEAN: rc = sqlite3_bind_int(stmt, p, lua_toboolean(L, i)); break;
        case LUA_TNUMBER:
            rc = lua_isinteger(L, i) ? sqlite3_bind_int64(stmt, p, lua_tointeger(L, i))
                                     : sqlite3_bind_double(stmt, p, lua_tonumber(L, i));
            break;
        case LUA_TSTRING: {
            size_t n;
            const char *s = lua_tolstring(L, i, &n);
            rc = sqlite3_bind_text64(stmt, p, s, n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
        default: return "parameters must be nil, boolean, number or string";
        }
        if (rc != SQLITE_OK)
            return "bind failed";
    }
    return NULL;
}

/* Pushes nil, message, code for a failed statement; code is "unique", "constraint",
 * "busy" or "error". Returns 3. */
static int push_db_error(lua_State *L, connection *c, const char *msg) {
    int ext = sqlite3_extended_errcode(c->db);
    const char *code = "error";
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = "unique";
    else if ((ext & 0xff) == SQLITE_CONSTRAINT)
        code = "constraint";
    else if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED)
        code = "busy";
    lua_pushnil(L);
    lua_pushfstring(L, "sqlite: %s", msg);
    lua_pushstring(L, code);
    return 3;
}

static void push_column(lua_State *L, sqlite3_stmt *stmt, int col) {
    switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: lua_pushinteger(L, sqlite3_column_int64(stmt, col)); break;
    case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(stmt, col)); break;
    case SQLITE_NULL: lua_pushnil(L); break;
    default: {
        const void *data = sqlite3_column_blob(stmt, col);
        lua_pushlstring(L, data ? data : "", (size_t)sqlite3_column_bytes(stmt, col));
    }
    }
}

/* The statement for argument 1 (from the cache) with arguments 2.. bound. NULL after
 * pushing nil, err, code when SQLite refuses the SQL (the caller returns 3); raises
 * on wrong parameters, which are programming errors. */
static sqlite3_stmt *prepare_bound(lua_State *L, connection *c, const char *who) {
    size_t len;
    const char *sql = luaL_checklstring(L, 1, &len);
    const char *err = NULL;
    sqlite3_stmt *stmt = prepare_cached(c, sql, len, &err);
    if (!stmt) {
        push_db_error(L, c, err);
        return NULL;
    }
    if ((err = bind_args(L, stmt, 2)) != NULL) {
        sqlite3_clear_bindings(stmt);
        luaL_error(L, "%s: %s", who, err);
    }
    return stmt;
}

/* core.db.query(sql, ...) -> rows | nil, err, code
 * rows is an array of tables keyed by column name; SQL NULL leaves the key out. */
static int db_query(lua_State *L) {
    connection *c = get_connection(L);
    sqlite3_stmt *stmt = prepare_bound(L, c, "core.db.query");
    if (!stmt)
        return 3;
    int ncols = sqlite3_column_count(stmt);
    int names = lua_gettop(L) + 1;
    luaL_checkstack(L, ncols + 4, "too many columns");
    for (int i = 0; i < ncols; i++)
        lua_pushstring(L, sqlite3_column_name(stmt, i));
    lua_newtable(L);
    int rows = lua_gettop(L), rc;
    lua_Integer n = 0;
    c->stepping = stmt;   /* the loop below allocates, so it may raise */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        lua_createtable(L, 0, ncols);
        for (int i = 0; i < ncols; i++) {
            if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
                continue;
            lua_pushvalue(L, names + i);
            push_column(L, stmt, i);
            lua_rawset(L, -3);
        }
        lua_rawseti(L, rows, ++n);
    }
    c->stepping = NULL;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE)
        return push_db_error(L, c, sqlite3_errmsg(c->db));
    return 1;
}

/* core.db.exec(sql, ...) -> changes, last_insert_rowid | nil, err, code */
static int db_exec(lua_State *L) {
    connection *c = get_connection(L);
    sqlite3_stmt *stmt = prepare_bound(L, c, "core.db.exec");
    if (!stmt)
        return 3;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE)
        return push_db_error(L, c, sqlite3_errmsg(c->db));
    lua_pushinteger(L, sqlite3_changes64(c->db));
    lua_pushinteger(L, sqlite3_last_insert_rowid(c->db));
    return 2;
}

static int run_simple(connection *c, const char *sql) {
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL);
}

/* Continuation of db_transaction after fn returned or raised. */
static int finish_transaction(lua_State *L, int status, lua_KContext ctx) {
    connection *c = (connection *)ctx;
    int depth = c->tx_depth--;
    char sql[96];
    int failed = status != LUA_OK && status != LUA_YIELD;
    /* fn returned nil, err: roll back and pass the failure on */
    int declined = !failed && lua_gettop(L) >= 2 && lua_isnil(L, 1) && !lua_isnil(L, 2);
    if (failed || declined) {
        if (depth == 1) {
            run_simple(c, "ROLLBACK");
        } else {
            snprintf(sql, sizeof(sql), "ROLLBACK TO sp%d; RELEASE sp%d", depth, depth);
            run_simple(c, sql);
        }
        if (failed)
            return lua_error(L);
        return lua_gettop(L);
    }
    if (depth == 1) {
        if (run_simple(c, "COMMIT") != SQLITE_OK) {
            /* copy the message first: the ROLLBACK replaces it */
            lua_settop(L, 0);
            lua_pushnil(L);
            lua_pushfstring(L, "sqlite: commit failed: %s", sqlite3_errmsg(c->db));
            run_simple(c, "ROLLBACK");
            return 2;
        }
    } else {
        snprintf(sql, sizeof(sql), "RELEASE sp%d", depth);
        run_simple(c, sql);
    }
    return lua_gettop(L);
}

/* core.db.transaction(fn, ...) -> fn's results | nil, err
 * Runs fn(...) inside BEGIN IMMEDIATE ... COMMIT (a savepoint when nested). When fn
 * returns nil, err the work is rolled back and nil, err returned; when fn raises,
 * it is rolled back and the error raised again. */
static int db_transaction(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    connection *c = get_connection(L);
    int depth = c->tx_depth + 1;
    int rc;
    if (depth == 1) {
        rc = run_simple(c, "BEGIN IMMEDIATE");
    } else {
        char sql[32];
        snprintf(sql, sizeof(sql), "SAVEPOINT sp%d", depth);
        rc = run_simple(c, sql);
    }
    if (rc != SQLITE_OK)
        return push_db_error(L, c, sqlite3_errmsg(c->db));
    c->tx_depth = depth;
    int nargs = lua_gettop(L) - 1;
    lua_KContext ctx = (lua_KContext)c;
    return finish_transaction(L, lua_pcallk(L, nargs, LUA_MULTRET, 0, ctx, finish_transaction), ctx);
}

/* core.db.ping() -> true | nil, err */
static int db_ping(lua_State *L) {
    connection *c = get_connection(L);
    if (run_simple(c, "SELECT 1") != SQLITE_OK)
        return core_fail(L, "sqlite: %s", sqlite3_errmsg(c->db));
    lua_pushboolean(L, 1);
    return 1;
}

/* core.db.driver() -> "sqlite" */
static int db_driver(lua_State *L) {
    lua_pushliteral(L, "sqlite");
    return 1;
}

static const luaL_Reg db_funcs[] = {{"query", db_query},
                                    {"exec", db_exec},
                                    {"transaction", db_transaction},
                                    {"ping", db_ping},
                                    {"driver", db_driver},
                                    {NULL, NULL}};
static const luaL_Reg conn_meta[] = {{"__gc", connection_gc}, {"__close", connection_gc},
                                     {NULL, NULL}};

int luaopen_core_db(lua_State *L) {
    luaL_newmetatable(L, CONN_MT);
    luaL_setfuncs(L, conn_meta, 0);
    lua_pop(L, 1);
    luaL_newlib(L, db_funcs);
    return 1;
}
