/* server.c -- HTTP through libmicrohttpd's thread pool: JSON API requests go to the
 * calling thread's Lua VM, static files and /healthz are served in C. Enforces body
 * caps, absolute header/body deadlines (a reaper thread shuts slow sockets down),
 * per-IP connection limits and a graceful drain on SIGTERM. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blobs.h"
#include "config.h"
#include "localstore.h"
#include "log.h"
#include "responses.h"
#include "vm.h"
#include "worker.h"

#define MAX_TRACKED_FDS 65536
#define MAX_REQUEST_HEAD_BYTES (32 * 1024)   /* request line and headers */

/* Per-request state, from the first access-handler call to completion. */
typedef struct {
    struct timespec started;
    char request_id[17];
    char *body;
    size_t body_len, body_cap;
    bool body_too_large;
    bool is_api;
    bool is_blob;          /* /blobs/: handled by blobs.c, which owns `blob` */
    void *blob;
    int status;            /* for the access log */
} request_state;

/* Deadlines for the reaper, indexed by socket fd. 0 = not tracked. */
typedef struct {
    long long deadline_ms;
} tracked_socket;

static tracked_socket tracked[MAX_TRACKED_FDS];
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stopping;
static atomic_int requests_in_flight;   /* drained before stopping */

/* 'wasm-unsafe-eval' lets the web app compile its SHA-256 WebAssembly (upload hashing);
 * it allows no string-to-code evaluation. */
static const char SECURITY_CSP[] =
    "default-src 'self'; img-src 'self' data: blob: https: http:; media-src 'self' blob: https: "
    "http:; connect-src 'self' https: http:; style-src 'self' 'unsafe-inline'; script-src 'self' "
    "'wasm-unsafe-eval'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

static long long monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_deadline(int fd, long long deadline_ms) {
    if (fd < 0 || fd >= MAX_TRACKED_FDS)
        return;
    pthread_mutex_lock(&tracked_lock);
    tracked[fd].deadline_ms = deadline_ms;
    pthread_mutex_unlock(&tracked_lock);
}

static int connection_fd(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

/* MHD tells us when a connection opens and closes; a new connection has until the
 * header deadline to send its request head. The entry is cleared before MHD closes
 * the fd, so the reaper never touches a reused descriptor. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    int fd = connection_fd(c);
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        set_deadline(fd, monotonic_ms() + cfg.header_timeout_seconds * 1000);
    else
        set_deadline(fd, 0);
}

/* Shuts down sockets whose head or body did not arrive before its deadline; MHD then
 * sees the connection end and cleans it up in its own thread. */
static void *reaper_loop(void *arg) {
    while (!stopping) {
        usleep(250 * 1000);
        long long now = monotonic_ms();
        pthread_mutex_lock(&tracked_lock);
        for (int fd = 0; fd < MAX_TRACKED_FDS; fd++) {
            if (tracked[fd].deadline_ms != 0 && tracked[fd].deadline_ms < now) {
                shutdown(fd, SHUT_RDWR);
                tracked[fd].deadline_ms = 0;
                log_fmt(LOG_INFO, "server", "closed a connection past its deadline (fd %d)", fd);
            }
        }
        pthread_mutex_unlock(&tracked_lock);
    }
    return NULL;
}

/* --- responses ------------------------------------------------------------------ */

static void add_security_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Content-Security-Policy", SECURITY_CSP);
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result queue(struct MHD_Connection *c, request_state *rs, int status,
                             struct MHD_Response *r) {
    if (r == NULL)
        return MHD_NO;   /* out of memory: drop the connection */
    add_security_headers(r);
    if (rs) {
        MHD_add_response_header(r, "X-Request-Id", rs->request_id);
        rs->status = status;
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Queues {"error":{"code":..,"message":..}} with the given status. */
static enum MHD_Result queue_error(struct MHD_Connection *c, request_state *rs, int status,
                                   const char *code, const char *message) {
    struct MHD_Response *r = response_json_error(code, message);
    if (r == NULL)
        return MHD_NO;
    if (status == 413 || status == 400 || status == 431)
        MHD_add_response_header(r, "Connection", "close");
    return queue(c, rs, status, r);
}

/* --- static files --------------------------------------------------------------- */

static const struct { const char *ext, *type; } mime_types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".map", "application/json"},
    {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"}, {".gif", "image/gif"}, {".webp", "image/webp"},
    {".ico", "image/x-icon"}, {".woff", "font/woff"}, {".woff2", "font/woff2"},
    {".ttf", "font/ttf"}, {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"}, {".wasm", "application/wasm"},
};

static const char *mime_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
            if (!strcasecmp(dot, mime_types[i].ext))
                return mime_types[i].type;
    return "application/octet-stream";
}

/* A Vite-style hashed name ("index-3fA9_x2B.js"): eight or more [A-Za-z0-9_-] after
 * the last '-' and before the extension. Such files never change. */
static bool is_hashed_name(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.'), *dash = strrchr(base, '-');
    if (!dot || !dash || dash > dot || dot - dash - 1 < 8)
        return false;
    for (const char *p = dash + 1; p < dot; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Maps a URL path to a regular file under STATIC_DIR; rejects dot segments. */
static bool static_path(const char *url, char *out, size_t cap) {
    if (url[0] != '/' || strstr(url, "/.") || strchr(url, '\\') || strlen(url) > 1024)
        return false;
    snprintf(out, cap, "%s%s", cfg.static_dir, url);
    struct stat st;
    return stat(out, &st) == 0 && S_ISREG(st.st_mode);
}

static enum MHD_Result serve_static(struct MHD_Connection *c, request_state *rs, const char *url) {
    char path[PATH_MAX];
    bool is_index = false;
    if (!strcmp(url, "/") || !static_path(url, path, sizeof(path))) {
        /* SPA fallback: unknown non-API paths get the app's index.html */
        snprintf(path, sizeof(path), "%s/index.html", cfg.static_dir);
        is_index = true;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return queue_error(c, rs, 404, "not_found", "no such page");
    }
    char etag[64];
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *r;
    int status;
    if (inm && strstr(inm, etag)) {
        close(fd);
        r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        status = 304;
    } else {
        r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        MHD_add_response_header(r, "Content-Type", mime_for(path));
        status = 200;
    }
    MHD_add_response_header(r, "ETag", etag);
    if (is_index || strstr(path, "index.html"))
        MHD_add_response_header(r, "Cache-Control", "no-cache");
    else if (is_hashed_name(path))
        MHD_add_response_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    else
        MHD_add_response_header(r, "Cache-Control", "public, max-age=300");
    return queue(c, rs, status, r);
}

/* --- the Lua side ------------------------------------------------------------------ */

static bool peer_is_trusted(const char *ip) {
    const char *list = cfg.trusted_proxies;
    size_t n = strlen(ip);
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        while (len && *list == ' ')
            list++, len--;
        if (len == n && !strncmp(list, ip, n))
            return true;
        list = end ? end + 1 : NULL;
    }
    return false;
}

/* Every X-Forwarded-For line, joined with commas in the order received. */
typedef struct {
    char text[4096];
    size_t len;
    bool too_long;
} forwarded_for;

static enum MHD_Result collect_forwarded_for(void *cls, enum MHD_ValueKind kind, const char *key,
                                             const char *value) {
    forwarded_for *f = cls;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    size_t n = strlen(value);
    if (f->len + n + 2 > sizeof(f->text)) {
        f->too_long = true;
        return MHD_NO;
    }
    if (f->len > 0)
        f->text[f->len++] = ',';
    memcpy(f->text + f->len, value, n + 1);
    f->len += n;
    return MHD_YES;
}

/* The client address: the peer, or, when the peer is a trusted proxy, the nearest
 * X-Forwarded-For entry (from the right, across every such header line) that is not
 * itself a trusted proxy. Anything malformed or oversized falls back to the last hop
 * that can be vouched for. */
static void client_address(struct MHD_Connection *c, char *out, size_t cap) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
    if (!peer_is_trusted(out))
        return;
    forwarded_for xff = {.len = 0, .too_long = false};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_forwarded_for, &xff);
    if (xff.len == 0 || xff.too_long)
        return;   /* no header, or more than a proxy chain can be: trust only the peer */
    /* from the right: the nearest hop that is not one of our proxies is the client */
    for (;;) {
        char *comma = strrchr(xff.text, ',');
        char *entry = comma ? comma + 1 : xff.text;
        while (*entry == ' ' || *entry == '\t')
            entry++;
        char *end = entry + strlen(entry);
        while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        unsigned char addr[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, entry, addr) != 1 && inet_pton(AF_INET6, entry, addr) != 1)
            return;   /* not an address: keep the last hop we can vouch for */
        snprintf(out, cap, "%s", entry);
        if (!peer_is_trusted(entry) || !comma)
            return;
        *comma = '\0';
    }
}

static enum MHD_Result add_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value) {
    lua_State *L = cls;
    if (!key)
        return MHD_YES;
    char lower[256];
    size_t n = strlen(key);
    if (n >= sizeof(lower))
        return MHD_YES;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)((kind == MHD_HEADER_KIND && key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32
                                                                                        : key[i]);
    if (kind == MHD_HEADER_KIND && lua_getfield(L, -1, lower) == LUA_TSTRING) {
        /* a repeated header: join with ", " as HTTP allows */
        lua_pushfstring(L, "%s, %s", lua_tostring(L, -1), value ? value : "");
        lua_setfield(L, -3, lower);
        lua_pop(L, 1);
        return MHD_YES;
    }
    if (kind == MHD_HEADER_KIND)
        lua_pop(L, 1);
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, lower);
    return MHD_YES;
}

/* What build_request needs, passed through vm_dispatch. */
typedef struct {
    struct MHD_Connection *c;
    request_state *rs;
    const char *method, *url;
} request_source;

/* [-1, +1] build_request(source) -> the request table handed to app.handle. Runs in
 * protected mode (vm_dispatch), so an allocation failure is an ordinary error. */
static int build_request(lua_State *L) {
    const request_source *src = lua_touserdata(L, 1);
    struct MHD_Connection *c = src->c;
    request_state *rs = src->rs;
    const char *method = src->method, *url = src->url;
    lua_createtable(L, 0, 9);
    lua_pushstring(L, method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, url);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, rs->request_id);
    lua_setfield(L, -2, "request_id");
    char ip[INET6_ADDRSTRLEN + 1];
    client_address(c, ip, sizeof(ip));
    lua_pushstring(L, ip);
    lua_setfield(L, -2, "remote_addr");
    lua_newtable(L);
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_kv, L);
    lua_setfield(L, -2, "headers");
    lua_newtable(L);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_kv, L);
    lua_setfield(L, -2, "query");
    if (rs->body_len > 0 || rs->body) {
        lua_pushlstring(L, rs->body ? rs->body : "", rs->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_newtable(L);
    lua_setfield(L, -2, "ctx");
    return 1;
}

static enum MHD_Result dispatch_to_lua(struct MHD_Connection *c, request_state *rs,
                                       const char *method, const char *url) {
    vm *v = vm_for_thread();
    if (!v)
        return queue_error(c, rs, 503, "unavailable", "the application failed to load");
    lua_State *L = vm_lua(v);
    int base = lua_gettop(L);
    core_set_request_id(rs->request_id);
    request_source src = {c, rs, method, url};
    int rc = vm_dispatch(v, build_request, &src);
    core_set_request_id(NULL);
    if (rc != 0) {
        lua_settop(L, base);
        return queue_error(c, rs, 500, "internal", "internal server error");
    }
    int status = (int)lua_tointeger(L, -3);
    size_t len = 0;
    const char *body = lua_tolstring(L, -2, &len);
    if (status < 100 || status > 599) {
        lua_settop(L, base);
        log_write(LOG_ERROR, "server", "handler returned no valid status", NULL);
        return queue_error(c, rs, 500, "internal", "internal server error");
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                const char *value = lua_tostring(L, -1);
                if (!strchr(value, '\r') && !strchr(value, '\n'))
                    MHD_add_response_header(r, lua_tostring(L, -2), value);
            } else if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE) {
                /* several values (Set-Cookie) */
                for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
                    MHD_add_response_header(r, lua_tostring(L, -3), lua_tostring(L, -1));
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, base);
    return queue(c, rs, status, r);
}

/* --- the access handler --------------------------------------------------------------- */

/* /api/docs is a page of the web app (Swagger UI), not an API call. */
static bool is_lua_path(const char *url) {
    if (!strcmp(url, "/api/docs") || !strncmp(url, "/api/docs/", 10))
        return false;
    return !strncmp(url, "/api/", 5) || !strcmp(url, "/api") || !strcmp(url, "/readyz");
}

/* Counts header fields named `name` and remembers the last value. */
typedef struct { const char *name; int count; const char *value; } header_count;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value) {
    header_count *hc = cls;
    if (key && !strcasecmp(key, hc->name)) {
        hc->count++;
        hc->value = value;
    }
    return MHD_YES;
}

/* Refuses framing that could smuggle a second request past a proxy: both
 * Content-Length and Transfer-Encoding, repeated Content-Length, or a transfer
 * coding other than plain "chunked". Returns NULL or the problem. */
static const char *framing_problem(struct MHD_Connection *c) {
    header_count cl = {"Content-Length", 0, NULL}, te = {"Transfer-Encoding", 0, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &cl);
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &te);
    if (cl.count > 1)
        return "repeated Content-Length";
    if (te.count > 1 || (te.count == 1 && strcasecmp(te.value, "chunked") != 0))
        return "unsupported Transfer-Encoding";
    if (cl.count && te.count)
        return "both Content-Length and Transfer-Encoding";
    return NULL;
}

/* Hands a /blobs/ request to blobs.c with the request id set for its headers and logs. */
static enum MHD_Result call_blobs(struct MHD_Connection *c, request_state *rs, const char *url,
                                  const char *method, const char *upload_data,
                                  size_t *upload_data_size) {
    core_set_request_id(rs->request_id);
    enum MHD_Result ret = blobs_handle(c, url, method, upload_data, upload_data_size, &rs->blob);
    core_set_request_id(NULL);
    return ret;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls) {
    request_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof(*rs));
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        atomic_fetch_add(&requests_in_flight, 1);
        clock_gettime(CLOCK_MONOTONIC, &rs->started);
        unsigned char raw[8];
        RAND_bytes(raw, sizeof(raw));
        for (int i = 0; i < 8; i++)
            snprintf(rs->request_id + 2 * i, 3, "%02x", raw[i]);
        rs->is_api = is_lua_path(url);
        rs->is_blob = !strncmp(url, "/blobs/", 7);
        int fd = connection_fd(c);
        const char *problem = framing_problem(c);
        if (problem)
            return queue_error(c, rs, 400, "bad_request", problem);
        /* the pool is larger than any head needs (it is the upload read buffer), so the
         * head's own limit is checked here */
        const union MHD_ConnectionInfo *head =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (head && head->header_size > MAX_REQUEST_HEAD_BYTES)
            return queue_error(c, rs, 431, "headers_too_large", "the request head is too large");
        /* the head has arrived: now the body has its own deadline */
        set_deadline(fd, monotonic_ms() + cfg.body_timeout_seconds * 1000);
        if (rs->is_blob) {
            enum MHD_Result ret = call_blobs(c, rs, url, method, upload_data, upload_data_size);
            /* an accepted PUT streams its body to disk with no size cap and no absolute
             * deadline: MHD's idle timeout still cuts a stalled upload */
            if (!strcmp(method, "PUT") && blobs_status(&rs->blob) == 0)
                set_deadline(fd, 0);
            return ret;
        }
        if (rs->is_api) {
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
            if (cl) {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(cl, &end, 10);
                if (errno || end == cl || *end || n > (unsigned long long)cfg.max_json_body_bytes)
                    return queue_error(c, rs, 413, "payload_too_large",
                                       "the request body is too large");
            }
        }
        return MHD_YES;
    }
    if (rs->is_blob) {
        if (*upload_data_size == 0)
            set_deadline(connection_fd(c), 0);   /* the whole request is in */
        return call_blobs(c, rs, url, method, upload_data, upload_data_size);
    }
    if (*upload_data_size > 0) {
        if (rs->is_api && !rs->body_too_large) {
            size_t n = *upload_data_size;
            if (rs->body_len + n > (size_t)cfg.max_json_body_bytes) {
                rs->body_too_large = true;
                free(rs->body);
                rs->body = NULL;
                rs->body_len = 0;
            } else {
                if (rs->body_len + n > rs->body_cap) {
                    size_t cap = rs->body_cap ? rs->body_cap : 4096;
                    while (cap < rs->body_len + n)
                        cap *= 2;
                    char *grown = realloc(rs->body, cap);
                    if (!grown)
                        return MHD_NO;
                    rs->body = grown;
                    rs->body_cap = cap;
                }
                memcpy(rs->body + rs->body_len, upload_data, n);
                rs->body_len += n;
            }
        }
        /* past the cap the rest is read and dropped (memory stays flat, the body
         * deadline bounds the time), so the client can still read the 413: closing
         * while it sends would reset the connection and lose the answer */
        *upload_data_size = 0;
        return MHD_YES;
    }
    set_deadline(connection_fd(c), 0);   /* the whole request is in */
    if (rs->body_too_large)
        return queue_error(c, rs, 413, "payload_too_large", "the request body is too large");
    if (!strcmp(url, "/healthz")) {
        static const char ok[] = "{\"status\":\"ok\"}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/json");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        return queue(c, rs, 200, r);
    }
    if (rs->is_api)
        return dispatch_to_lua(c, rs, method, url);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return queue_error(c, rs, 405, "method_not_allowed", "method not allowed");
    return serve_static(c, rs, url);
}

/* Writes the access-log line and frees the request state. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    request_state *rs = *con_cls;
    /* a kept-alive connection owes its next request head within the header deadline
     * (cleared again when the connection closes) */
    set_deadline(connection_fd(c), monotonic_ms() + cfg.header_timeout_seconds * 1000);
    if (!rs)
        return;
    if (rs->is_blob) {
        if (blobs_status(&rs->blob) != 0)
            rs->status = blobs_status(&rs->blob);
        blobs_completed(&rs->blob, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - rs->started.tv_sec) * 1e3 +
                (double)(now.tv_nsec - rs->started.tv_nsec) / 1e6;
    if (log_enabled(LOG_INFO)) {
        char fields[256];
        snprintf(fields, sizeof(fields), "status=%d duration_ms=%.2f%s", rs->status, ms,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true");
        core_set_request_id(rs->request_id);
        log_write(LOG_INFO, "access", "request", fields);
        core_set_request_id(NULL);
    }
    free(rs->body);
    free(rs);
    *con_cls = NULL;
    atomic_fetch_sub(&requests_in_flight, 1);
}

static void on_mhd_panic(void *cls, const char *file, unsigned int line, const char *reason) {
    log_fmt(LOG_ERROR, "server", "libmicrohttpd panic at %s:%u: %s", file, line,
            reason ? reason : "");
    abort();
}

int server_run(void) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);   /* every thread inherits the mask */
    signal(SIGPIPE, SIG_IGN);

    char err[2048];
    vm *probe = vm_create_app(err, sizeof(err));
    if (!probe) {
        log_fmt(LOG_ERROR, "server", "the application failed to load: %s", err);
        return 1;
    }
    vm_destroy(probe);
    /* workers first: forking is simplest before any thread exists */
    if (cfg.worker_processes > 0 && workers_start((int)cfg.worker_processes) != 0)
        log_write(LOG_ERROR, "server", "cannot start the workers", NULL);

    char media_dir[PATH_MAX];
    unsigned char blob_url_key[32];
    snprintf(media_dir, sizeof(media_dir), "%s/media", cfg.data_dir);
    core_derive_key("blob-url", blob_url_key);
    int store_rc = localstore_init(media_dir, blob_url_key);
    OPENSSL_cleanse(blob_url_key, sizeof(blob_url_key));
    if (store_rc != 0) {
        log_fmt(LOG_ERROR, "server", "cannot open the local store: %s", localstore_error());
        return 1;
    }

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port)};
    if (inet_pton(AF_INET, cfg.host, &addr.sin_addr) != 1) {
        log_fmt(LOG_ERROR, "server", "HOST must be an IPv4 address, got %s", cfg.host);
        return 1;
    }
    MHD_set_panic_func(on_mhd_panic, NULL);
    pthread_t reaper;
    pthread_create(&reaper, NULL, reaper_loop, NULL);
    /* Each connection's memory pool is also its read buffer: 128 KiB lets uploads to
     * /blobs arrive in large pieces (1.3 GB/s to disk here, against 0.7 with 32 KiB)
     * while 64 busy API connections stay near 22 MB resident. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO, 0, NULL,
        NULL, handle_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg.http_threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg.max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg.idle_timeout_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)128 * 1024,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)2 * 1024 * 1024, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, NULL, MHD_OPTION_END);
    if (!d) {
        log_fmt(LOG_ERROR, "server", "cannot listen on %s:%ld: %s", cfg.host, cfg.port,
                strerror(errno));
        stopping = 1;
        pthread_join(reaper, NULL);
        return 1;
    }
    const union MHD_DaemonInfo *bound = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char fields[128];
    snprintf(fields, sizeof(fields), "host=%s port=%u threads=%ld env=%s", cfg.host,
             bound ? bound->port : (unsigned)cfg.port, cfg.http_threads, cfg.app_env);
    log_write(LOG_INFO, "server", "listening", fields);
    if (!strcmp(cfg.app_env, "dev") && vm_watch_sources() != 0)
        log_write(LOG_WARN, "server", "cannot watch sources; SIGHUP still reloads", NULL);

    for (;;) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig == SIGHUP) {
            vm_reload();
            workers_reload();
            continue;
        }
        if (sig == SIGCHLD) {
            workers_restart_exited();
            continue;
        }
        break;
    }
    log_write(LOG_INFO, "server", "draining", NULL);
    MHD_quiesce_daemon(d);   /* stop accepting; requests in flight finish, idle sockets close */
    long long give_up = monotonic_ms() + cfg.shutdown_grace_seconds * 1000;
    while (monotonic_ms() < give_up && atomic_load(&requests_in_flight) > 0)
        usleep(10 * 1000);
    MHD_stop_daemon(d);
    workers_stop(cfg.shutdown_grace_seconds * 1000);
    stopping = 1;
    pthread_join(reaper, NULL);
    log_write(LOG_INFO, "server", "stopped", NULL);
    return 0;
}
