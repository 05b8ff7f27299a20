/* core.h -- what the C core's files share: the primitive modules' entry points,
 * the failure helper, and the per-thread request context. Relies on Lua 5.4. */
#ifndef ITCLOUD_CORE_H
#define ITCLOUD_CORE_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

#define ITCLOUD_VERSION "0.1.0"

/* Pushes nil and a formatted message; returns 2 so callers can `return core_fail(...)`. */
int core_fail(lua_State *L, const char *fmt, ...);

/* Primitive modules handed to Lua as fields of the global `core`. */
int luaopen_core_db(lua_State *L);
int luaopen_core_crypto(lua_State *L);
int luaopen_core_jwt(lua_State *L);
int luaopen_core_log(lua_State *L);
int luaopen_core_time(lua_State *L);
int luaopen_core_json(lua_State *L);
int luaopen_core_config(lua_State *L);
int luaopen_core_storage(lua_State *L);
int luaopen_core_image(lua_State *L);
int luaopen_core_process(lua_State *L);
int luaopen_core_redis(lua_State *L);
int luaopen_core_worker(lua_State *L);

/* Checks a REDIS_URL (redis://[user[:password]@]host[:port][/db]) at start-up.
 * Returns 0, or -1 with a message naming REDIS_URL. (mod_redis.c) */
int core_redis_check_url(const char *url, char *err, size_t errlen);

/* Installs every primitive as a field of a new global table `core`. [-0, +0] */
void core_open_primitives(lua_State *L);

/* The server secret (JWT_SECRET) stays in C; Lua never sees it. The bytes are copied.
 * core.jwt signs with it; core_derive_key gives every other use its own key.
 * Returns 0, or -1 when the secret is shorter than 32 bytes. (mod_crypto.c) */
int core_set_server_secret(const unsigned char *secret, size_t len);
/* The secret set above (NULL, *len = 0 before it is set). Owned by the core. */
const unsigned char *core_server_secret(size_t *len);
/* Derives a 32-byte key for `purpose` from the server secret with HMAC-SHA256, so
 * cursors, share sessions and blob URLs never share a key with JWTs. */
void core_derive_key(const char *purpose, unsigned char out[32]);

/* Caps how many argon2 hashes run at once in this process (default 2). */
void core_crypto_set_hash_concurrency(int max_concurrent);

/* The request being served on this thread, for log lines; NULL outside a request. */
void core_set_request_id(const char *request_id);
const char *core_request_id(void);

#endif
