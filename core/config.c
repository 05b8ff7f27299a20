/* config.c -- reads, validates and defaults the environment once at start, and
 * exposes it to Lua as the read-only table `core.config`. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

config cfg;

typedef enum { OPT_STRING, OPT_INT, OPT_BOOL, OPT_INT64 } opt_type;

typedef struct {
    const char *name;      /* environment variable */
    opt_type type;
    const char *fallback;  /* default as text; NULL = computed later */
    long min, max;         /* for OPT_INT */
    size_t offset;         /* into cfg */
} option;

#define OPT(name, type, def, min, max, field) {name, type, def, min, max, offsetof(config, field)}

static const option options[] = {
    OPT("APP_ENV", OPT_STRING, "dev", 0, 0, app_env),
    OPT("HOST", OPT_STRING, "127.0.0.1", 0, 0, host),
    OPT("PORT", OPT_INT, "8080", 0, 65535, port),
    OPT("DATA_DIR", OPT_STRING, "./data", 0, 0, data_dir),
    OPT("DATABASE_URL", OPT_STRING, NULL, 0, 0, database_url),
    OPT("JWT_ISSUER", OPT_STRING, "itcloud", 0, 0, jwt_issuer),
    OPT("JWT_AUDIENCE", OPT_STRING, "itcloud-api", 0, 0, jwt_audience),
    OPT("JWT_ACCESS_TTL_SECONDS", OPT_INT, "900", 30, 86400, jwt_access_ttl_seconds),
    OPT("JWT_REFRESH_TTL_SECONDS", OPT_INT, "2592000", 300, 31536000, jwt_refresh_ttl_seconds),
    OPT("CORS_ORIGINS", OPT_STRING, "", 0, 0, cors_origins),
    OPT("LOG_LEVEL", OPT_STRING, "info", 0, 0, log_level),
    OPT("HTTP_THREADS", OPT_INT, NULL, 1, 256, http_threads),
    OPT("MAX_JSON_BODY_BYTES", OPT_INT, "1048576", 1024, 67108864, max_json_body_bytes),
    OPT("MAX_CONNECTIONS", OPT_INT, "1024", 4, 60000, max_connections),
    OPT("MAX_CONNECTIONS_PER_IP", OPT_INT, "128", 1, 60000, max_connections_per_ip),
    OPT("HEADER_TIMEOUT_SECONDS", OPT_INT, "10", 1, 3600, header_timeout_seconds),
    OPT("BODY_TIMEOUT_SECONDS", OPT_INT, "30", 1, 86400, body_timeout_seconds),
    OPT("IDLE_TIMEOUT_SECONDS", OPT_INT, "60", 1, 3600, idle_timeout_seconds),
    OPT("LUA_MEMORY_LIMIT_BYTES", OPT_INT, "67108864", 4194304, 4294967296, lua_memory_limit_bytes),
    OPT("LUA_INSTRUCTION_LIMIT", OPT_INT, "100000000", 100000, 100000000000, lua_instruction_limit),
    OPT("ARGON2_MAX_CONCURRENCY", OPT_INT, "2", 1, 64, argon2_max_concurrency),
    OPT("AUTO_MIGRATE", OPT_BOOL, "true", 0, 0, auto_migrate),
    OPT("COOKIE_SECURE", OPT_BOOL, NULL, 0, 0, cookie_secure),
    OPT("STATIC_DIR", OPT_STRING, "./static", 0, 0, static_dir),
    OPT("LUA_DIR", OPT_STRING, "./lua", 0, 0, lua_dir),
    OPT("CONFIG_DIR", OPT_STRING, "./config", 0, 0, config_dir),
    OPT("MIGRATIONS_DIR", OPT_STRING, "./migrations", 0, 0, migrations_dir),
    OPT("TRUSTED_PROXIES", OPT_STRING, "", 0, 0, trusted_proxies),
    OPT("SHUTDOWN_GRACE_SECONDS", OPT_INT, "10", 0, 600, shutdown_grace_seconds),
    OPT("STORAGE_BACKEND", OPT_STRING, "local", 0, 0, storage_backend),
    OPT("S3_ENDPOINT_URL", OPT_STRING, "", 0, 0, s3_endpoint_url),
    OPT("S3_PUBLIC_ENDPOINT_URL", OPT_STRING, "", 0, 0, s3_public_endpoint_url),
    OPT("S3_REGION", OPT_STRING, "us-east-1", 0, 0, s3_region),
    OPT("S3_ACCESS_KEY_ID", OPT_STRING, "", 0, 0, s3_access_key_id),
    OPT("S3_SECRET_ACCESS_KEY", OPT_STRING, "", 0, 0, s3_secret_access_key),
    OPT("MEDIA_BUCKET", OPT_STRING, "itcloud-media", 0, 0, media_bucket),
    OPT("SIGNED_URL_TTL_SECONDS", OPT_INT, "600", 10, 604800, signed_url_ttl_seconds),
    OPT("MAX_UPLOAD_SIZE_BYTES", OPT_INT64, "10737418240", 1, 5497558138880, max_upload_size_bytes),
    OPT("MULTIPART_THRESHOLD_BYTES", OPT_INT64, "67108864", 5242880, 5368709120,
        multipart_threshold_bytes),
    OPT("MULTIPART_PART_SIZE_BYTES", OPT_INT64, "16777216", 5242880, 5368709120,
        multipart_part_size_bytes),
    OPT("UPLOAD_EXPIRY_SECONDS", OPT_INT, "86400", 60, 604800, upload_expiry_seconds),
    OPT("HOUSEKEEPING_INTERVAL_SECONDS", OPT_INT, "300", 1, 86400, housekeeping_interval_seconds),
    OPT("WORKER_PROCESSES", OPT_INT, "1", 0, 64, worker_processes),
    OPT("JOB_MAX_ATTEMPTS", OPT_INT, "3", 1, 100, job_max_attempts),
    OPT("JOB_LEASE_SECONDS", OPT_INT, "30", 5, 86400, job_lease_seconds),
    OPT("MAX_IMAGE_PIXELS", OPT_INT64, "100000000", 1, 268435456, max_image_pixels),
    OPT("WORKER_MEMORY_LIMIT_BYTES", OPT_INT64, "2147483648", 268435456, 1099511627776,
        worker_memory_limit_bytes),
    OPT("JOB_TIMEOUT_SECONDS", OPT_INT, "300", 5, 86400, job_timeout_seconds),
    OPT("SCRUB_INTERVAL_SECONDS", OPT_INT, "86400", 1, 31536000, scrub_interval_seconds),
    OPT("SCRUB_PERCENT", OPT_INT, "5", 0, 100, scrub_percent),
    OPT("SCRUB_MIN_ORIGINALS", OPT_INT, "100", 0, 100000000, scrub_min_originals),
    OPT("JOB_POLL_INTERVAL_MS", OPT_INT, "300", 10, 3600000, job_poll_interval_ms),
    OPT("REDIS_URL", OPT_STRING, "", 0, 0, redis_url),
};
#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static int parse_long(const char *text, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *text, bool *out) {
    if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no")) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Fills the defaults that depend on other values. */
static void apply_computed_defaults(const char *set[OPTION_COUNT]) {
    static char db_url[4096];
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (set[i])
            continue;
        if (!strcmp(options[i].name, "DATABASE_URL")) {
            snprintf(db_url, sizeof(db_url), "sqlite:%s/itcloud.db", cfg.data_dir);
            cfg.database_url = db_url;
        } else if (!strcmp(options[i].name, "HTTP_THREADS")) {
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            cfg.http_threads = cores > 0 ? cores : 1;
        } else if (!strcmp(options[i].name, "COOKIE_SECURE")) {
            cfg.cookie_secure = !strcmp(cfg.app_env, "prod");
        }
    }
}

int config_load(char *err, size_t errlen) {
    const char *set[OPTION_COUNT] = {0};
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option *o = &options[i];
        const char *text = getenv(o->name);
        if (text && *text == '\0' && o->type != OPT_STRING)
            text = NULL;
        set[i] = text;
        if (!text)
            text = o->fallback;
        if (!text)
            continue;
        char *field = (char *)&cfg + o->offset;
        if (o->type == OPT_STRING) {
            *(const char **)field = text;
        } else if (o->type == OPT_INT || o->type == OPT_INT64) {
            long v;
            if (parse_long(text, &v) != 0 || v < o->min || v > o->max) {
                snprintf(err, errlen, "%s must be an integer from %ld to %ld, got \"%s\"", o->name,
                         o->min, o->max, text);
                return -1;
            }
            if (o->type == OPT_INT64)
                *(long long *)field = v;
            else
                *(long *)field = v;
        } else if (parse_bool(text, (bool *)field) != 0) {
            snprintf(err, errlen, "%s must be true or false, got \"%s\"", o->name, text);
            return -1;
        }
    }
    if (strcmp(cfg.app_env, "dev") && strcmp(cfg.app_env, "test") && strcmp(cfg.app_env, "prod")) {
        snprintf(err, errlen, "APP_ENV must be dev, test or prod, got \"%s\"", cfg.app_env);
        return -1;
    }
    if (strcmp(cfg.log_level, "debug") && strcmp(cfg.log_level, "info") &&
        strcmp(cfg.log_level, "warn") && strcmp(cfg.log_level, "error")) {
        snprintf(err, errlen, "LOG_LEVEL must be debug, info, warn or error, got \"%s\"",
                 cfg.log_level);
        return -1;
    }
    if (strcmp(cfg.storage_backend, "local") && strcmp(cfg.storage_backend, "s3")) {
        snprintf(err, errlen, "STORAGE_BACKEND must be local or s3, got \"%s\"", cfg.storage_backend);
        return -1;
    }
    if (!strcmp(cfg.storage_backend, "s3") &&
        (!*cfg.s3_endpoint_url || !*cfg.s3_access_key_id || !*cfg.s3_secret_access_key)) {
        snprintf(err, errlen, "STORAGE_BACKEND=s3 needs S3_ENDPOINT_URL, S3_ACCESS_KEY_ID and "
                              "S3_SECRET_ACCESS_KEY");
        return -1;
    }
    if (cfg.multipart_part_size_bytes > cfg.multipart_threshold_bytes) {
        snprintf(err, errlen, "MULTIPART_PART_SIZE_BYTES must not exceed MULTIPART_THRESHOLD_BYTES");
        return -1;
    }
    if (*cfg.redis_url && core_redis_check_url(cfg.redis_url, err, errlen) != 0)
        return -1;
    apply_computed_defaults(set);
    if (strncmp(cfg.database_url, "sqlite:", 7) != 0 || cfg.database_url[7] == '\0') {
        snprintf(err, errlen, "DATABASE_URL must be sqlite:PATH, got \"%s\"", cfg.database_url);
        return -1;
    }
    return 0;
}

const char *config_sqlite_path(void) {
    if (strncmp(cfg.database_url, "sqlite:", 7) != 0)
        return NULL;
    const char *path = cfg.database_url + 7;
    if (!strncmp(path, "//", 2))    /* sqlite:///abs/path and sqlite://rel are accepted too */
        path += 2;
    return path;
}

/* Reads the dev secret file, or creates it with 48 random bytes (hex) readable by
 * the owner only. */
static int load_dev_secret(char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/jwt_secret", cfg.data_dir);
    char hex[97] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, hex, sizeof(hex) - 1);
        close(fd);
        if (n >= 64)
            return core_set_server_secret((unsigned char *)hex, (size_t)n) == 0
                       ? 0
                       : (snprintf(err, errlen, "%s holds a secret that is too short", path), -1);
    }
    unsigned char raw[48];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        snprintf(err, errlen, "cannot generate a dev JWT secret");
        return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, hex, 96) != 96 || fsync(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return core_set_server_secret((unsigned char *)hex, 96);
}

int config_load_secret(char *err, size_t errlen) {
    const char *secret = getenv("JWT_SECRET");
    if (secret && *secret) {
        if (core_set_server_secret((const unsigned char *)secret, strlen(secret)) != 0) {
            snprintf(err, errlen, "JWT_SECRET must be at least 32 bytes");
            return -1;
        }
        return 0;
    }
    if (!strcmp(cfg.app_env, "prod")) {
        snprintf(err, errlen, "JWT_SECRET is required when APP_ENV=prod (at least 32 bytes)");
        return -1;
    }
    if (mkdir(cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create DATA_DIR %s: %s", cfg.data_dir, strerror(errno));
        return -1;
    }
    return load_dev_secret(err, errlen);
}

/* core.config -- read-only table of the settings, keys in lower case
 * (core.config.jwt_access_ttl_seconds). Secrets (names with SECRET, and REDIS_URL, which
 * may hold a password) are left out; core.redis.configured() tells whether Redis is set. */
static int config_readonly(lua_State *L) {
    return luaL_error(L, "core.config is read-only");
}

int luaopen_core_config(lua_State *L) {
    lua_newuserdatauv(L, 0, 0);            /* proxy: a userdata, so rawset cannot write */
    lua_newtable(L);                       /* metatable */
    lua_createtable(L, 0, OPTION_COUNT);   /* values */
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option *o = &options[i];
        if (strstr(o->name, "SECRET") || !strcmp(o->name, "REDIS_URL"))
            continue;
        char key[64];
        size_t n = strlen(o->name);
        for (size_t j = 0; j <= n && j < sizeof(key); j++)
            key[j] = (char)(o->name[j] >= 'A' && o->name[j] <= 'Z' ? o->name[j] + 32 : o->name[j]);
        const char *field = (const char *)&cfg + o->offset;
        if (o->type == OPT_STRING)
            lua_pushstring(L, *(const char *const *)field);
        else if (o->type == OPT_INT)
            lua_pushinteger(L, *(const long *)field);
        else if (o->type == OPT_INT64)
            lua_pushinteger(L, *(const long long *)field);
        else
            lua_pushboolean(L, *(const bool *)field);
        lua_setfield(L, -2, key);
    }
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, config_readonly);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    return 1;
}
