/* mod_redis.c -- `core.redis`: a blocking hiredis client for the Redis named by
 * REDIS_URL (the URL, and so its password, never reaches Lua). Commands are argument
 * arrays, never formatted strings; every call has a time limit; a connection that
 * failed is dropped and made again by the next command. Relies on hiredis 0.14. */
#include <errno.h>
#include <limits.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "config.h"
#include "core.h"

#define CLIENT_MT "core.redis.client"
#define REPLY_MT "core.redis.reply"
#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TIMEOUT_MS 600000
#define MAX_ARGS 1024
#define MAX_REPLY_DEPTH 8

typedef struct {
    char host[256];
    int port;
    char user[256];
    char password[512];
    int db;
} redis_url;

typedef struct {
    redisContext *ctx;   /* NULL while disconnected (after a failure) */
    long timeout_ms;
    int closed;
} client;

/* Owns a reply while it is turned into Lua values, so a raise frees it. */
typedef struct {
    redisReply *reply;
} reply_box;

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies [src, src+len) to dst (NUL-terminated), decoding %XX; -1 when it does not fit,
 * is badly encoded or would hold a NUL. */
static int copy_decoded(char *dst, size_t cap, const char *src, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_value(src[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(src[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || n + 1 >= cap)
            return -1;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return 0;
}

/* Parses redis://[user[:password]@]host[:port][/db] (user and password %-decoded). */
static int parse_url(const char *text, redis_url *url, char *err, size_t errlen) {
    memset(url, 0, sizeof(*url));
    url->port = 6379;
    if (!strncmp(text, "rediss://", 9)) {
        snprintf(err, errlen, "REDIS_URL: TLS (rediss://) is not supported, got a rediss URL");
        return -1;
    }
    if (strncmp(text, "redis://", 8) != 0) {
        snprintf(err, errlen, "REDIS_URL must look like redis://[:password@]host[:port][/db]");
        return -1;
    }
    const char *p = text + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        if (copy_decoded(url->user, sizeof(url->user), p, (size_t)(user_end - p)) != 0 ||
            (colon && copy_decoded(url->password, sizeof(url->password), colon + 1,
                                   (size_t)(at - colon - 1)) != 0)) {
            snprintf(err, errlen, "REDIS_URL: the user or password is too long or badly encoded");
            return -1;
        }
        p = at + 1;
    }
    const char *host_end;
    if (*p == '[') {                        /* [IPv6 address] */
        host_end = strchr(p, ']');
        if (!host_end) {
            snprintf(err, errlen, "REDIS_URL: unclosed [ in the host");
            return -1;
        }
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    size_t host_len = (size_t)(host_end - p);
    if (host_len == 0 || host_len >= sizeof(url->host)) {
        snprintf(err, errlen, "REDIS_URL: the host is missing or too long");
        return -1;
    }
    memcpy(url->host, p, host_len);
    url->host[host_len] = '\0';
    p = host_end + (*host_end == ']');
    char *end;
    if (*p == ':') {
        errno = 0;
        long port = strtol(p + 1, &end, 10);
        if (errno || end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "REDIS_URL: the port must be a number from 1 to 65535");
            return -1;
        }
        url->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        errno = 0;
        long db = strtol(p + 1, &end, 10);
        if (errno || end == p + 1 || *end || db < 0 || db > 1000000) {
            snprintf(err, errlen, "REDIS_URL: the database after / must be a number");
            return -1;
        }
        url->db = (int)db;
    } else if (*p && strcmp(p, "/") != 0) {
        snprintf(err, errlen, "REDIS_URL: unexpected \"%s\" after the host", p);
        return -1;
    }
    return 0;
}

int core_redis_check_url(const char *text, char *err, size_t errlen) {
    redis_url url;
    int rc = parse_url(text, &url, err, errlen);
    memset(url.password, 0, sizeof(url.password));
    return rc;
}

static struct timeval timeval_ms(long ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* The message for a context that failed; a read past the time limit says so. */
static const char *context_error(const redisContext *ctx) {
    if (ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
        return "timed out";
    return ctx->errstr[0] ? ctx->errstr : "connection failed";
}

/* Runs one command on a fresh connection during set-up; 0 when it did not fail. */
static int setup_command(redisContext *ctx, int argc, const char **argv, char *err, size_t errlen) {
    redisReply *reply = redisCommandArgv(ctx, argc, argv, NULL);
    if (!reply) {
        snprintf(err, errlen, "%s", context_error(ctx));
        return -1;
    }
    int failed = reply->type == REDIS_REPLY_ERROR;
    if (failed)
        snprintf(err, errlen, "%s refused: %s", argv[0], reply->str);
    freeReplyObject(reply);
    return failed ? -1 : 0;
}

/* Connects to REDIS_URL with the client's time limit, authenticates and selects the
 * database. Returns the context, or NULL with a message in err. */
static redisContext *open_context(long timeout_ms, char *err, size_t errlen) {
    redis_url url;
    if (parse_url(cfg.redis_url, &url, err, errlen) != 0)
        return NULL;
    struct timeval tv = timeval_ms(timeout_ms);
    redisContext *ctx = redisConnectWithTimeout(url.host, url.port, tv);
    if (!ctx) {
        snprintf(err, errlen, "cannot allocate a connection");
        return NULL;
    }
    if (ctx->err) {
        snprintf(err, errlen, "%s", context_error(ctx));
        goto fail;
    }
    if (redisSetTimeout(ctx, tv) != REDIS_OK) {
        snprintf(err, errlen, "cannot set the time limit");
        goto fail;
    }
    redisEnableKeepAlive(ctx);
    if (url.password[0]) {
        int with_user = url.user[0] != '\0';   /* an ACL user, else the default user */
        const char *auth[] = {"AUTH", with_user ? url.user : url.password, url.password};
        if (setup_command(ctx, with_user ? 3 : 2, auth, err, errlen) != 0)
            goto fail;
    }
    if (url.db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", url.db);
        const char *select[] = {"SELECT", db};
        if (setup_command(ctx, 2, select, err, errlen) != 0)
            goto fail;
    }
    memset(url.password, 0, sizeof(url.password));
    return ctx;
fail:
    memset(url.password, 0, sizeof(url.password));
    redisFree(ctx);
    return NULL;
}

/* Whether a connection that sat idle was closed by the server (a restart, an idle
 * time-out, CLIENT KILL): its end of stream, or bytes nobody asked for, are waiting. */
static int peer_closed(const redisContext *ctx) {
    char byte;
    ssize_t n = recv(ctx->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static long check_timeout(lua_State *L, int arg, long fallback) {
    if (lua_isnoneornil(L, arg))
        return fallback;
    lua_Integer ms = luaL_checkinteger(L, arg);
    luaL_argcheck(L, ms >= 1 && ms <= MAX_TIMEOUT_MS, arg, "timeout_ms must be 1..600000");
    return (long)ms;
}

/* redis.configured() -> boolean: whether REDIS_URL is set. */
static int redis_configured(lua_State *L) {
    lua_pushboolean(L, cfg.redis_url && cfg.redis_url[0]);
    return 1;
}

/* redis.connect([{timeout_ms = 1000}]) -> client | nil, err
 * Connects to REDIS_URL. timeout_ms limits the connect and each command. Raises when
 * REDIS_URL is not set. The client belongs to the calling VM (hiredis contexts are not
 * thread-safe); close() it, or let it be collected. */
static int redis_connect(lua_State *L) {
    long timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_getfield(L, 1, "timeout_ms");
        timeout_ms = check_timeout(L, -1, DEFAULT_TIMEOUT_MS);
        lua_pop(L, 1);
    }
    if (!cfg.redis_url || !cfg.redis_url[0])
        return luaL_error(L, "core.redis: REDIS_URL is not set");
    client *cl = lua_newuserdatauv(L, sizeof(*cl), 0);
    cl->ctx = NULL;
    cl->closed = 0;
    cl->timeout_ms = timeout_ms;
    luaL_setmetatable(L, CLIENT_MT);
    char err[512];
    cl->ctx = open_context(timeout_ms, err, sizeof(err));
    if (!cl->ctx)
        return core_fail(L, "redis: %s", err);
    return 1;
}

/* [-0, +1] pushes a reply as Lua values: strings and statuses as strings, integers,
 * arrays as sequences (a nil inside one as false), an error inside one as {error = msg};
 * a nil reply as nil. */
static void push_reply(lua_State *L, const redisReply *r, int depth) {
    luaL_checkstack(L, 3, "redis reply too deep");
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        lua_pushlstring(L, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        lua_pushinteger(L, (lua_Integer)r->integer);
        break;
    case REDIS_REPLY_ERROR:
        lua_createtable(L, 0, 1);
        lua_pushlstring(L, r->str, r->len);
        lua_setfield(L, -2, "error");
        break;
    case REDIS_REPLY_ARRAY:
        if (depth >= MAX_REPLY_DEPTH)
            luaL_error(L, "core.redis: reply nested more than %d deep", MAX_REPLY_DEPTH);
        lua_createtable(L, r->elements > INT_MAX ? INT_MAX : (int)r->elements, 0);
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_NIL)
                lua_pushboolean(L, 0);
            else
                push_reply(L, r->element[i], depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    default:
        lua_pushnil(L);
    }
}

static client *check_open(lua_State *L) {
    client *cl = luaL_checkudata(L, 1, CLIENT_MT);
    if (cl->closed)
        luaL_error(L, "core.redis: the client is closed");
    return cl;
}

/* client:command({name, arg...} [, timeout_ms]) -> reply | nil | nil, err
 * Sends one command; each argument is a string or a number, sent as its bytes (never
 * formatted into a command line). timeout_ms overrides the client's limit for this
 * call (a BLPOP that waits needs more than its own wait). A nil reply (a missing key,
 * a BLPOP that timed out) is a bare nil; a Redis error reply is nil, "redis: ERR ...";
 * a connection failure or timeout is nil, "redis: ..." and drops the connection, and the
 * next command connects again (as does one on a connection the server has closed since,
 * e.g. by restarting). Raises on a closed client or a bad argument. */
static int client_command(lua_State *L) {
    client *cl = check_open(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    long timeout_ms = check_timeout(L, 3, cl->timeout_ms);
    lua_Integer argc = luaL_len(L, 2);
    luaL_argcheck(L, argc >= 1 && argc <= MAX_ARGS, 2, "1 to 1024 arguments");
    luaL_checkstack(L, (int)argc + 4, "too many redis arguments");
    /* the argument vectors live in a userdata, so a raise below frees them */
    const char **argv = lua_newuserdatauv(L, (size_t)argc * (sizeof(char *) + sizeof(size_t)), 0);
    size_t *lens = (size_t *)(argv + argc);
    int first = lua_gettop(L) + 1;
    for (lua_Integer i = 1; i <= argc; i++) {
        int type = lua_geti(L, 2, i);
        if (type != LUA_TSTRING && type != LUA_TNUMBER)
            return luaL_argerror(L, 2, "arguments must be strings or numbers");
        argv[i - 1] = lua_tolstring(L, first + (int)i - 1, &lens[i - 1]);   /* kept on the stack */
    }
    reply_box *box = lua_newuserdatauv(L, sizeof(*box), 0);
    box->reply = NULL;
    luaL_setmetatable(L, REPLY_MT);
    char err[512];
    if (cl->ctx && peer_closed(cl->ctx)) {
        redisFree(cl->ctx);
        cl->ctx = NULL;
    }
    if (!cl->ctx && !(cl->ctx = open_context(cl->timeout_ms, err, sizeof(err))))
        return core_fail(L, "redis: %s", err);
    if (timeout_ms != cl->timeout_ms)
        redisSetTimeout(cl->ctx, timeval_ms(timeout_ms));
    box->reply = redisCommandArgv(cl->ctx, (int)argc, argv, lens);
    if (!box->reply) {
        snprintf(err, sizeof(err), "%s", context_error(cl->ctx));
        redisFree(cl->ctx);                 /* a failed context is dead: connect again next time */
        cl->ctx = NULL;
        return core_fail(L, "redis: %s", err);
    }
    if (timeout_ms != cl->timeout_ms)
        redisSetTimeout(cl->ctx, timeval_ms(cl->timeout_ms));
    if (box->reply->type == REDIS_REPLY_ERROR)
        return core_fail(L, "redis: %s", box->reply->str);
    if (box->reply->type == REDIS_REPLY_NIL)
        return 0;
    push_reply(L, box->reply, 0);
    freeReplyObject(box->reply);
    box->reply = NULL;
    return 1;
}

/* client:close() -- ends the connection; calling it twice is harmless. */
static int client_close(lua_State *L) {
    client *cl = luaL_checkudata(L, 1, CLIENT_MT);
    if (cl->ctx)
        redisFree(cl->ctx);
    cl->ctx = NULL;
    cl->closed = 1;
    return 0;
}

static int reply_gc(lua_State *L) {
    reply_box *box = luaL_checkudata(L, 1, REPLY_MT);
    if (box->reply)
        freeReplyObject(box->reply);
    box->reply = NULL;
    return 0;
}

static const luaL_Reg redis_funcs[] = {
    {"configured", redis_configured}, {"connect", redis_connect}, {NULL, NULL}};
static const luaL_Reg client_methods[] = {
    {"command", client_command}, {"close", client_close}, {NULL, NULL}};
static const luaL_Reg client_meta[] = {
    {"__gc", client_close}, {"__close", client_close}, {NULL, NULL}};
static const luaL_Reg reply_meta[] = {{"__gc", reply_gc}, {NULL, NULL}};

int luaopen_core_redis(lua_State *L) {
    luaL_newmetatable(L, REPLY_MT);
    luaL_setfuncs(L, reply_meta, 0);
    lua_pop(L, 1);
    luaL_newmetatable(L, CLIENT_MT);
    luaL_setfuncs(L, client_meta, 0);
    luaL_newlib(L, client_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, redis_funcs);
    return 1;
}
