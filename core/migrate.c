/* migrate.c -- numbered SQL files from MIGRATIONS_DIR applied in order and recorded
 * in schema_migrations with their SHA-256. NNNN_name.sql serves every engine;
 * NNNN_name.sqlite.sql / NNNN_name.postgres.sql are engine-specific. */
#include "migrate.h"

#include <dirent.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"

#define MAX_MIGRATIONS 1000

typedef struct {
    char file[256];
    char version[5];
    char checksum[65];
    char *sql;
} migration;

static const char CREATE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

static int compare_files(const void *a, const void *b) {
    return strcmp(((const migration *)a)->file, ((const migration *)b)->file);
}

/* True for NNNN_name.sql and NNNN_name.sqlite.sql, not for other engines' files. */
static int is_sqlite_migration(const char *name) {
    size_t n = strlen(name);
    if (n < 9 || strspn(name, "0123456789") != 4 || name[4] != '_' || strcmp(name + n - 4, ".sql"))
        return 0;
    const char *engine = strchr(name, '.');
    return engine == name + n - 4 || !strcmp(engine, ".sqlite.sql");
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Loads the migrations for this engine, sorted. Returns the count or -1. */
static int load_migrations(migration *out, int cap) {
    DIR *d = opendir(cfg.migrations_dir);
    if (!d) {
        log_fmt(LOG_ERROR, "migrate", "cannot open MIGRATIONS_DIR %s", cfg.migrations_dir);
        return -1;
    }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < cap) {
        if (!is_sqlite_migration(e->d_name) || strlen(e->d_name) >= sizeof(out->file))
            continue;
        migration *m = &out[count];
        snprintf(m->file, sizeof(m->file), "%s", e->d_name);
        memcpy(m->version, e->d_name, 4);
        m->version[4] = '\0';
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", cfg.migrations_dir, e->d_name);
        m->sql = read_all(path);
        if (!m->sql) {
            log_fmt(LOG_ERROR, "migrate", "cannot read %s", path);
            closedir(d);
            return -1;
        }
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *)m->sql, strlen(m->sql), digest);
        for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
            snprintf(m->checksum + 2 * i, 3, "%02x", digest[i]);
        count++;
    }
    closedir(d);
    qsort(out, (size_t)count, sizeof(*out), compare_files);
    for (int i = 1; i < count; i++) {
        if (!strcmp(out[i].version, out[i - 1].version)) {
            log_fmt(LOG_ERROR, "migrate", "two migrations share version %s", out[i].version);
            return -1;
        }
    }
    return count;
}

/* The recorded checksum of version into buf; 1 when applied, 0 when not, -1 on error. */
static int applied_checksum(sqlite3 *db, const char *version, char *buf, size_t cap) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT checksum FROM schema_migrations WHERE version = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, version, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

static int record(sqlite3 *db, const migration *m) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                           " VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, m->version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->checksum, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void free_migrations(migration *ms, int count) {
    for (int i = 0; i < count; i++)
        free(ms[i].sql);
    free(ms);
}

/* Shared walk of up and status: apply = 1 applies pending files. */
static int walk(int apply) {
    const char *path = config_sqlite_path();
    char err[512];
    sqlite3 *db = db_open_sqlite(path, err, sizeof(err));
    if (!db) {
        log_fmt(LOG_ERROR, "migrate", "%s", err);
        return -1;
    }
    migration *ms = calloc(MAX_MIGRATIONS, sizeof(*ms));
    int count = ms ? load_migrations(ms, MAX_MIGRATIONS) : -1;
    int result = count < 0 || sqlite3_exec(db, CREATE_TABLE, NULL, NULL, NULL) != SQLITE_OK ? -1 : 0;
    int applied_now = 0;
    for (int i = 0; result == 0 && i < count; i++) {
        migration *m = &ms[i];
        char *msg = NULL;
        /* BEGIN IMMEDIATE serialises concurrent migrators; the check happens inside it */
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
            log_fmt(LOG_ERROR, "migrate", "cannot begin: %s", msg ? msg : sqlite3_errmsg(db));
            sqlite3_free(msg);
            result = -1;
            break;
        }
        char recorded[65] = {0};
        int state = applied_checksum(db, m->version, recorded, sizeof(recorded));
        if (state == 1 && strcmp(recorded, m->checksum) != 0) {
            log_fmt(LOG_ERROR, "migrate",
                    "%s was edited after it was applied (checksum %s, recorded %s); "
                    "add a new migration instead", m->file, m->checksum, recorded);
            result = -1;
        } else if (state < 0) {
            log_fmt(LOG_ERROR, "migrate", "cannot read schema_migrations: %s", sqlite3_errmsg(db));
            result = -1;
        } else if (!apply) {
            printf("%s  %s\n", state == 1 ? "applied" : "pending", m->file);
        } else if (state == 0) {
            if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK || record(db, m) != 0) {
                log_fmt(LOG_ERROR, "migrate", "%s failed: %s", m->file,
                        msg ? msg : sqlite3_errmsg(db));
                sqlite3_free(msg);
                result = -1;
            } else {
                log_fmt(LOG_INFO, "migrate", "applied %s", m->file);
                applied_now++;
            }
        }
        sqlite3_exec(db, result == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    }
    if (apply && result == 0 && applied_now == 0)
        log_write(LOG_INFO, "migrate", "database is up to date", NULL);
    if (ms)
        free_migrations(ms, count > 0 ? count : 0);
    sqlite3_close(db);
    return result;
}

int migrate_up(void) { return walk(1); }
int migrate_status(void) { return walk(0); }
