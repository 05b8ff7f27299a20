/* test_db.c -- core.db through a real lua_State on a scratch SQLite file: typed rows,
 * `?` binding, failure codes, transactions and savepoints, the statement cache, and the
 * failure paths: bad DATABASE_URL, empty and multiple statements, a failing COMMIT, and
 * a query cut short by the memory cap. */
#include <stdlib.h>
#include <unistd.h>

#include "../config.h"
#include "../db.h"
#include "harness.h"

static char db_path[4096];

/* An allocator with a cap, as the server's VMs have; limit 0 = no cap. */
typedef struct {
    size_t used, limit;
} cap_state;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    cap_state *cap = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        cap->used -= old;
        return NULL;
    }
    if (cap->limit && nsize > old && cap->used - old + nsize > cap->limit)
        return NULL;
    void *grown = realloc(ptr, nsize);
    if (grown)
        cap->used = cap->used - old + nsize;
    return grown;
}

/* Runs SQL on a second connection of our own, as another process would. */
static int other_connection_exec(const char *sql) {
    char err[256];
    sqlite3 *db = db_open_sqlite(db_path, err, sizeof(err));
    if (!db) {
        printf("#   %s\n", err);
        return -1;
    }
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void check_rows_and_binding(lua_State *L) {
    CHECK(run_lua(L, "return core.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY,"
                     " name TEXT UNIQUE, i INTEGER, f REAL, s TEXT, b BLOB, n TEXT)') == 0"),
          "exec creates a table and reports 0 changes");
    CHECK(run_lua(L, "local changes, rowid = core.db.exec('INSERT INTO t (name, i, f, s, b, n)"
                     " VALUES (?, ?, ?, ?, ?, ?)', 'row', 42, 2.5, 'text', 'b\\0\\255', nil)\n"
                     "return changes == 1 and math.type(rowid) == 'integer'"),
          "exec returns changes and the last rowid");
    CHECK(run_lua(L, "local r = core.db.query('SELECT i, f, s, b, n FROM t WHERE name = ?',"
                     " 'row')\n"
                     "local row = r[1]\n"
                     "return #r == 1 and row.i == 42 and math.type(row.i) == 'integer'\n"
                     "  and row.f == 2.5 and math.type(row.f) == 'float' and row.s == 'text'\n"
                     "  and row.b == 'b\\0\\255' and row.n == nil and rawlen(row) == 0"),
          "query returns typed values; NULL leaves the key out");
    CHECK(run_lua(L, "local r = core.db.query('SELECT typeof(?) AS a, ? AS b, ? AS c,"
                     " typeof(?) AS d,"
                     " typeof(?) AS e', nil, true, false, 1, 1.0)[1]\n"
                     "return r.a == 'null' and r.b == 1 and r.c == 0 and r.d == 'integer'"
                     " and r.e == 'real'"),
          "binds nil, booleans, integers and floats");
    CHECK(run_lua(L, "local r = core.db.query('SELECT ? AS big, ? AS small', math.maxinteger,"
                     " math.mininteger)[1]\n"
                     "return r.big == math.maxinteger and r.small == math.mininteger"),
          "64-bit integers are exact both ways");
    CHECK(run_lua(L, "local r = core.db.query('SELECT * FROM t WHERE name = ?', \"' OR 1=1 --\")\n"
                     "return #r == 0"),
          "bound SQL is data");
    CHECK(run_lua(L, "local ok1, e1 = pcall(core.db.query, 'SELECT ?, ?', 1)\n"
                     "local ok2 = pcall(core.db.query, 'SELECT ?', 1, 2)\n"
                     "local ok3 = pcall(core.db.exec, 'SELECT ?')\n"
                     "return not ok1 and e1:find('wrong number of parameters', 1, true) ~= nil\n"
                     "  and not ok2 and not ok3"),
          "the wrong number of parameters raises");
    CHECK(run_lua(L, "local ok, e = pcall(core.db.query, 'SELECT ?', {})\n"
                     "return not ok and e:find('must be nil, boolean, number or string', 1, true)"
                     " ~= nil and core.db.query('SELECT ? AS v', 3)[1].v == 3"),
          "an unbindable value raises, and the statement works afterwards");
    CHECK(run_lua(L, "return not pcall(core.db.query) and not pcall(core.db.exec, {})"),
          "SQL that is not a string raises");
}

static void check_failures(lua_State *L) {
    CHECK(run_lua(L, "local ok, err, code = core.db.exec('INSERT INTO t (name) VALUES (?)',"
                     " 'row')\n"
                     "return ok == nil and err:find('^sqlite: UNIQUE constraint failed') ~= nil"
                     " and code == 'unique'"),
          "a unique violation returns nil, err, 'unique'");
    CHECK(run_lua(L, "core.db.exec('CREATE TABLE nn (v TEXT NOT NULL)')\n"
                     "local ok, err, code = core.db.exec('INSERT INTO nn (v) VALUES (?)', nil)\n"
                     "return ok == nil and code == 'constraint'"),
          "a NOT NULL violation returns code 'constraint'");
    CHECK(run_lua(L, "local rows, err, code = core.db.query('SELEC 1')\n"
                     "return rows == nil and err:find('syntax error', 1, true) ~= nil"
                     " and code == 'error'"),
          "bad SQL returns nil, err, 'error'");
    CHECK(run_lua(L, "for _ = 1, 3 do\n"
                     "  local r, err = core.db.query('')\n"
                     "  if r ~= nil or err ~= 'sqlite: no SQL statement' then return false end\n"
                     "  if core.db.exec('   -- nothing') ~= nil then return false end\n"
                     "end\n"
                     "return true"),
          "empty SQL is refused every time (it once crashed on the second call)");
    CHECK(run_lua(L, "local ok, err = core.db.exec(\"INSERT INTO t (name) VALUES ('m1');"
                     " INSERT INTO t (name) VALUES ('m2')\")\n"
                     "local n = core.db.query(\"SELECT count(*) AS n FROM t"
                     " WHERE name LIKE 'm_'\")[1].n\n"
                     "return ok == nil and err == 'sqlite: one SQL statement per call' and n == 0\n"
                     "  and core.db.query('SELECT 1 AS a\\0; SELECT 2') == nil\n"
                     "  and core.db.query('SELECT 1 AS a; ')[1].a == 1"),
          "several statements (or a NUL byte) are refused, a trailing ';' is fine");
}

static void check_transactions(lua_State *L) {
    CHECK(run_lua(L, "local a, b = core.db.transaction(function(x)\n"
                     "  core.db.exec('INSERT INTO t (name) VALUES (?)', x)\n"
                     "  return 'done', 7\n"
                     "end, 'tx1')\n"
                     "return a == 'done' and b == 7"
                     " and #core.db.query(\"SELECT 1 FROM t WHERE name = 'tx1'\") == 1"),
          "transaction commits and returns fn's results");
    CHECK(run_lua(L, "local ok, err = core.db.transaction(function()\n"
                     "  core.db.exec(\"INSERT INTO t (name) VALUES ('tx2')\")\n"
                     "  return nil, 'no'\n"
                     "end)\n"
                     "return ok == nil and err == 'no'"
                     " and #core.db.query(\"SELECT 1 FROM t WHERE name = 'tx2'\") == 0"),
          "transaction rolls back on nil, err");
    CHECK(run_lua(L, "local marker = {}\n"
                     "local ok, err = pcall(core.db.transaction, function()\n"
                     "  core.db.exec(\"INSERT INTO t (name) VALUES ('tx3')\")\n"
                     "  error(marker)\n"
                     "end)\n"
                     "return not ok and err == marker"
                     " and #core.db.query(\"SELECT 1 FROM t WHERE name = 'tx3'\") == 0"),
          "transaction rolls back and re-raises the same error object");
    CHECK(run_lua(L, "local r = core.db.transaction(function()\n"
                     "  core.db.exec(\"INSERT INTO t (name) VALUES ('outer')\")\n"
                     "  core.db.transaction(function()\n"
                     "    core.db.exec(\"INSERT INTO t (name) VALUES ('inner')\")\n"
                     "    return nil, 'inner no'\n"
                     "  end)\n"
                     "  pcall(core.db.transaction, function()\n"
                     "    core.db.exec(\"INSERT INTO t (name) VALUES ('inner2')\")\n"
                     "    error('x')\n"
                     "  end)\n"
                     "  return core.db.transaction(function()\n"
                     "    core.db.exec(\"INSERT INTO t (name) VALUES ('inner3')\")\n"
                     "    return 'ok'\n"
                     "  end)\n"
                     "end)\n"
                     "local function has(n)\n"
                     "  return #core.db.query('SELECT 1 FROM t WHERE name = ?', n)\n"
                     "end\n"
                     "return r == 'ok' and has('outer') == 1 and has('inner') == 0"
                     " and has('inner2') == 0 and has('inner3') == 1"),
          "nested transactions are savepoints");
    CHECK(run_lua(L, "core.db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY)')\n"
                     "core.db.exec('CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER"
                     " REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)')\n"
                     "local ok, err = core.db.transaction(function()\n"
                     "  core.db.exec('INSERT INTO c (p_id) VALUES (99)')\n"
                     "  return true\n"
                     "end)\n"
                     "return ok == nil"
                     " and err == 'sqlite: commit failed: FOREIGN KEY constraint failed'\n"
                     "  and #core.db.query('SELECT * FROM c') == 0\n"
                     "  and core.db.transaction(function() return 'next' end) == 'next'"),
          "a failing COMMIT returns its own message, rolls back, and leaves no transaction");
    CHECK(run_lua(L, "return not pcall(core.db.transaction, 'x')"),
          "transaction raises without a function");
}

static void check_statement_cache(lua_State *L) {
    CHECK(run_lua(L, "for round = 1, 3 do\n"
                     "  for k = 1, 400 do\n"
                     "    local v = core.db.query('SELECT ? + ' .. k .. ' AS v', round)[1].v\n"
                     "    if v ~= round + k then return false end\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "400 distinct statements through 128 cache slots give the right answers");
    CHECK(run_lua(L, "local sql = 'SELECT ? AS a, ? AS b'\n"
                     "local r1 = core.db.query(sql, 1, 'x')[1]\n"
                     "local r2 = core.db.query(sql, nil, nil)[1]\n"
                     "return r1.a == 1 and r1.b == 'x' and r2.a == nil and r2.b == nil"),
          "a cached statement gets fresh bindings");
    CHECK(run_lua(L, "return core.db.ping() == true and core.db.driver() == 'sqlite'"),
          "ping and driver");
}

/* A query cut short by the memory cap must not leave its statement open: that would pin
 * the connection to an old snapshot, hiding later writes from every other query. */
static void check_memory_error_mid_query(void) {
    cap_state cap = {0, 0};
    lua_State *L = lua_newstate(capped_alloc, &cap);
    luaL_openlibs(L);
    core_open_primitives(L);
    CHECK(run_lua(L, "return core.db.transaction(function()\n"
                     "  core.db.exec('CREATE TABLE big (v TEXT)')\n"
                     "  for i = 1, 4000 do\n"
                     "    core.db.exec('INSERT INTO big (v) VALUES (?)',"
                     " string.rep('v', 200) .. i)\n"
                     "  end\n"
                     "  return true\n"
                     "end)"),
          "4000 rows inserted");
    lua_gc(L, LUA_GCCOLLECT, 0);
    cap.limit = cap.used + 256 * 1024;
    CHECK(run_lua(L, "local ok, err = pcall(core.db.query, 'SELECT v FROM big')\n"
                     "return not ok and tostring(err):find('not enough memory', 1, true) ~= nil"),
          "a query bigger than the memory cap raises 'not enough memory'");
    cap.limit = 0;
    CHECK(other_connection_exec("INSERT INTO big (v) VALUES ('from elsewhere')") == 0,
          "another connection writes a row");
    CHECK(run_lua(L, "return core.db.query('SELECT count(*) AS n FROM big')[1].n == 4001"),
          "the next query sees the new row (no stale snapshot)");
    CHECK(run_lua(L, "return core.db.exec(\"INSERT INTO big (v) VALUES ('here')\") == 1"),
          "and the connection can still write");
    CHECK(run_lua(L, "return #core.db.query('SELECT v FROM big') == 4002"),
          "the interrupted statement itself runs again from the start");
    lua_close(L);
}

static void check_bad_database_url(void) {
    const char *saved = cfg.database_url;
    cfg.database_url = "sqlite:/nonexistent-itcloud-dir/sub/x.db";
    lua_State *L = harness_state();
    CHECK(run_lua(L, "local ok, err = pcall(core.db.ping)\n"
                     "return not ok and err:find('core.db: cannot open', 1, true) ~= nil"),
          "an unopenable database raises, naming the problem");
    lua_close(L);
    cfg.database_url = "postgres://localhost/itcloud";
    L = harness_state();
    CHECK(run_lua(L, "local ok, err = pcall(core.db.query, 'SELECT 1')\n"
                     "return not ok and err:find('unsupported DATABASE_URL', 1, true) ~= nil"),
          "an unsupported DATABASE_URL raises");
    lua_close(L);
    cfg.database_url = saved;
}

int main(void) {
    char dir[] = "/tmp/itcloud-test-db.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char url[4200];
    snprintf(db_path, sizeof(db_path), "%s/test.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", db_path);
    setenv("DATA_DIR", dir, 1);
    setenv("DATABASE_URL", url, 1);
    setenv("APP_ENV", "test", 1);
    setenv("LOG_LEVEL", "error", 1);
    char err[512];
    CHECK(config_load(err, sizeof(err)) == 0, "config loads");

    lua_State *L = harness_state();
    check_rows_and_binding(L);
    check_failures(L);
    check_transactions(L);
    check_statement_cache(L);
    lua_close(L);
    check_memory_error_mid_query();
    check_bad_database_url();

    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return harness_done();
}
