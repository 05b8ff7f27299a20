/* config.h -- the process configuration, read once from the environment at start
 * (config_load) and read-only afterwards. Lua sees it as `core.config`. */
#ifndef ITCLOUD_CONFIG_H
#define ITCLOUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *app_env;           /* dev | test | prod */
    const char *host;
    long port;
    const char *data_dir;
    const char *database_url;      /* sqlite:PATH (PostgreSQL later) */
    const char *jwt_issuer;
    const char *jwt_audience;
    long jwt_access_ttl_seconds;
    long jwt_refresh_ttl_seconds;
    const char *cors_origins;      /* comma-separated allowed Origins */
    const char *log_level;
    long http_threads;
    long max_json_body_bytes;
    long max_connections;
    long max_connections_per_ip;
    long header_timeout_seconds;   /* absolute deadline for the request head */
    long body_timeout_seconds;     /* absolute deadline for a request body */
    long idle_timeout_seconds;     /* keep-alive inactivity */
    long lua_memory_limit_bytes;
    long lua_instruction_limit;
    long argon2_max_concurrency;
    bool auto_migrate;
    bool cookie_secure;
    const char *static_dir;
    const char *lua_dir;
    const char *config_dir;
    const char *migrations_dir;
    const char *trusted_proxies;   /* comma-separated peer IPs allowed to set X-Forwarded-For */
    long shutdown_grace_seconds;
    const char *storage_backend;   /* local | s3 */
    const char *s3_endpoint_url;
    const char *s3_public_endpoint_url;
    const char *s3_region;
    const char *s3_access_key_id;
    const char *s3_secret_access_key;
    const char *media_bucket;
    long signed_url_ttl_seconds;
    long long max_upload_size_bytes;
    long long multipart_threshold_bytes;
    long long multipart_part_size_bytes;
    long upload_expiry_seconds;    /* an upload not finalized by then is cleaned up */
    long housekeeping_interval_seconds;  /* period of the housekeeping job */
    long worker_processes;         /* children of serve that run jobs */
    long job_max_attempts;
    long job_lease_seconds;
    long long max_image_pixels;
    long long worker_memory_limit_bytes;
    long job_timeout_seconds;
    long scrub_interval_seconds;   /* period of the integrity scrub job */
    long scrub_percent;            /* share of the originals each scrub re-reads */
    long scrub_min_originals;      /* and at least this many */
    long job_poll_interval_ms;     /* how often an idle worker looks at the jobs table */
    const char *redis_url;         /* empty: no Redis (kept from Lua: it may hold a password) */
} config;

extern config cfg;

/* Reads and validates every variable. On a bad value writes a message naming the
 * variable to `err` and returns -1. */
int config_load(char *err, size_t errlen);

/* Resolves the server secret: JWT_SECRET, or in dev/test a random one kept in
 * DATA_DIR/jwt_secret. Returns -1 with a message when none is usable. */
int config_load_secret(char *err, size_t errlen);

/* The SQLite file named by DATABASE_URL, or NULL when it names another engine. */
const char *config_sqlite_path(void);

#endif
