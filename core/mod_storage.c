/* mod_storage.c -- `core.storage`: one interface over the two object stores, the local
 * one (files under DATA_DIR/media, URLs signed for the core's /blobs endpoint) and S3
 * (SigV4 pre-signed URLs, server-side calls through libcurl). STORAGE_BACKEND picks. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "blobs.h"
#include "config.h"
#include "core.h"
#include "localstore.h"
#include "s3.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_failed;
static s3_config s3;

static int is_s3(void) { return !strcmp(cfg.storage_backend, "s3"); }

static void init_backend(void) {
    if (is_s3()) {
        s3.endpoint = cfg.s3_endpoint_url;
        s3.public_endpoint = *cfg.s3_public_endpoint_url ? cfg.s3_public_endpoint_url : NULL;
        s3.region = cfg.s3_region;
        s3.access_key = cfg.s3_access_key_id;
        s3.secret_key = cfg.s3_secret_access_key;
        s3.bucket = cfg.media_bucket;
        s3.timeout_ms = 30000;
        s3.max_retries = 3;
        init_failed = s3_global_init() != 0;
        return;
    }
    char root[PATH_MAX];
    snprintf(root, sizeof(root), "%s/media", cfg.data_dir);
    unsigned char key[32];
    core_derive_key("blob-url", key);
    init_failed = localstore_init(root, key) != 0;
}

/* [-0, +0] Initialises the backend once per process; raises when it cannot. */
static void ensure_backend(lua_State *L) {
    pthread_once(&init_once, init_backend);
    if (init_failed)
        luaL_error(L, "core.storage: the %s backend failed to initialise", cfg.storage_backend);
}

static const char *check_key(lua_State *L, int idx) {
    size_t len;
    const char *key = luaL_checklstring(L, idx, &len);
    luaL_argcheck(L, strlen(key) == len && localstore_key_valid(key), idx, "invalid storage key");
    return key;
}

#define OWNED_MT "core.storage.owned"

/* [-0, +1] A userdata that owns one malloc'd block and frees it when collected, so
 * memory from a C call is never lost if pushing its contents raises (STYLE.md 5). */
static void **push_owner(lua_State *L) {
    void **slot = lua_newuserdatauv(L, sizeof(void *), 0);
    *slot = NULL;
    luaL_setmetatable(L, OWNED_MT);
    return slot;
}

static int owner_gc(lua_State *L) {
    void **slot = luaL_checkudata(L, 1, OWNED_MT);
    free(*slot);
    *slot = NULL;
    return 0;
}

/* A URL lifetime in seconds: 1 second to 7 days, as SigV4 allows. */
static int check_ttl(lua_State *L, int idx) {
    lua_Integer ttl = luaL_checkinteger(L, idx);
    luaL_argcheck(L, ttl >= 1 && ttl <= 604800, idx, "ttl must be 1 to 604800 seconds");
    return (int)ttl;
}

/* Pushes the URL held by `owner` and frees it; raises when signing failed (bad input
 * is a bug). */
static int push_url(lua_State *L, void **owner) {
    if (!*owner)
        return luaL_error(L, "core.storage: cannot sign the URL");
    lua_pushstring(L, *owner);
    free(*owner);
    *owner = NULL;
    return 1;
}

/* storage.backend() -> "local" | "s3" */
static int storage_backend(lua_State *L) {
    lua_pushstring(L, cfg.storage_backend);
    return 1;
}

/* storage.supports_multipart() -> boolean */
static int storage_supports_multipart(lua_State *L) {
    lua_pushboolean(L, is_s3());
    return 1;
}

/* storage.presign_put(key, content_type, size_bytes, ttl) -> url
 * The upload must carry exactly this Content-Type and Content-Length. */
static int storage_presign_put(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *content_type = luaL_checkstring(L, 2);
    lua_Integer size = luaL_checkinteger(L, 3);
    int ttl = check_ttl(L, 4);
    ensure_backend(L);
    if (is_s3()) {
        char length[32];
        snprintf(length, sizeof(length), "%lld", (long long)size);
        s3_kv headers[] = {{"content-type", content_type}, {"content-length", length}};
        void **owner = push_owner(L);
        *owner = s3_presign_url(&s3, "PUT", key, NULL, 0, headers, 2, ttl, time(NULL));
        return push_url(L, owner);
    }
    localstore_grant g = {.content_type = content_type, .content_length = size};
    void **owner = push_owner(L);
    *owner = localstore_presign("PUT", key, &g, time(NULL), ttl);
    return push_url(L, owner);
}

/* storage.presign_get(key, {ttl, content_type?, filename?, disposition?}) -> url
 * disposition "inline" shows or streams; anything else downloads (attachment). */
static int storage_presign_get(lua_State *L) {
    const char *key = check_key(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "ttl");
    lua_getfield(L, 2, "content_type");
    lua_getfield(L, 2, "filename");
    lua_getfield(L, 2, "disposition");
    int ttl = check_ttl(L, lua_gettop(L) - 3);
    const char *content_type = luaL_optstring(L, -3, "application/octet-stream");
    const char *filename = luaL_optstring(L, -2, NULL);
    int is_inline = lua_isstring(L, -1) && !strcmp(lua_tostring(L, -1), "inline");
    ensure_backend(L);
    if (is_s3()) {
        char disposition[2048];
        blobs_content_disposition(is_inline ? "inline" : "attachment", filename, disposition,
                                  sizeof(disposition));
        s3_kv query[] = {{"response-content-disposition", disposition},
                         {"response-content-type", content_type}};
        void **owner = push_owner(L);
        *owner = s3_presign_url(&s3, "GET", key, query, 2, NULL, 0, ttl, time(NULL));
        return push_url(L, owner);
    }
    localstore_grant g = {.content_type = content_type, .filename = filename,
                          .inline_disposition = is_inline};
    void **owner = push_owner(L);
    *owner = localstore_presign("GET", key, &g, time(NULL), ttl);
    return push_url(L, owner);
}

/* storage.head(key) -> {size, etag} | nil (absent) | nil, err */
static int storage_head(lua_State *L) {
    const char *key = check_key(L, 1);
    ensure_backend(L);
    long long size;
    char etag[128];
    int rc;
    char err[256] = "";
    if (is_s3()) {
        s3_object o = {.size = 0};
        rc = s3_head(&s3, key, &o, err, sizeof(err));
        size = o.size;
        snprintf(etag, sizeof(etag), "%s", rc == 0 ? o.etag : "");
    } else {
        char local_etag[LOCALSTORE_ETAG_LEN];
        rc = localstore_head(key, &size, local_etag);
        snprintf(etag, sizeof(etag), "%s", rc == 0 ? local_etag : "");
        snprintf(err, sizeof(err), "%s", localstore_error());
    }
    if (rc == 1) {
        lua_pushnil(L);
        return 1;
    }
    if (rc != 0)
        return core_fail(L, "storage head failed: %s", err);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, size);
    lua_setfield(L, -2, "size");
    lua_pushstring(L, etag);
    lua_setfield(L, -2, "etag");
    return 1;
}

/* storage.read(key, offset, length) -> bytes | nil, err ("not found" when absent) */
static int storage_read(lua_State *L) {
    const char *key = check_key(L, 1);
    lua_Integer offset = luaL_checkinteger(L, 2);
    lua_Integer length = luaL_checkinteger(L, 3);
    luaL_argcheck(L, offset >= 0, 2, "negative offset");
    luaL_argcheck(L, length > 0 && length <= 64 * 1024 * 1024, 3, "length out of range");
    ensure_backend(L);
    char *data = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc;
    if (is_s3()) {
        rc = s3_get_range(&s3, key, offset, length, &data, &n, err, sizeof(err));
    } else {
        rc = localstore_read(key, offset, (size_t)length, &data, &n);
        snprintf(err, sizeof(err), "%s", rc == 1 ? "not found" : localstore_error());
    }
    void **owner = push_owner(L);
    *owner = data;
    if (rc != 0)
        return core_fail(L, "storage read failed: %s", err);
    lua_pushlstring(L, data, n);
    free(data);
    *owner = NULL;
    return 1;
}

#define HASH_LOCAL_CHUNK (1024 * 1024)
#define HASH_S3_CHUNK (8LL * 1024 * 1024)

/* Feeds the local object `key` to md through one descriptor, a piece at a time.
 * 0 | 1 absent | -1 with err set. */
static int local_object_hash(const char *key, EVP_MD_CTX *md, long long *size, char *err,
                             size_t errlen) {
    int fd;
    long long expected;
    int rc = localstore_open(key, &fd, &expected, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "%s", localstore_error());
        return rc;
    }
    char *buf = malloc(HASH_LOCAL_CHUNK);
    rc = buf ? 0 : -1;
    if (!buf)
        snprintf(err, errlen, "out of memory");
    *size = 0;
    while (rc == 0) {
        ssize_t n = read(fd, buf, HASH_LOCAL_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read object: %s", strerror(errno));
            rc = -1;
        } else if (n == 0) {
            break;
        } else {
            EVP_DigestUpdate(md, buf, (size_t)n);
            *size += n;
        }
    }
    free(buf);
    close(fd);
    return rc;
}

/* Feeds the S3 object `key` to md through ranged GETs of HASH_S3_CHUNK bytes.
 * 0 | 1 absent | -1 with err set (also when the object changes size meanwhile). */
static int s3_object_hash(const char *key, EVP_MD_CTX *md, long long *size, char *err,
                          size_t errlen) {
    s3_object o = {.size = 0};
    int rc = s3_head(&s3, key, &o, err, errlen);
    if (rc != 0)
        return rc;
    if (o.size < 0) {
        snprintf(err, errlen, "s3 head gave no size");
        return -1;
    }
    for (*size = 0; *size < o.size;) {
        long long want = o.size - *size < HASH_S3_CHUNK ? o.size - *size : HASH_S3_CHUNK;
        char *data = NULL;
        size_t n = 0;
        if (s3_get_range(&s3, key, *size, want, &data, &n, err, errlen) != 0)
            return -1;
        EVP_DigestUpdate(md, data, n);
        free(data);
        if ((long long)n != want) {
            snprintf(err, errlen, "the object changed while it was read");
            return -1;
        }
        *size += (long long)n;
    }
    return 0;
}

/* storage.sha256(key) -> hex, size | nil (absent) | nil, err
 * The SHA-256 of a whole object, read in pieces (1 MiB from the local file, 8 MiB
 * ranges from S3), so an original of any size is checked in bounded memory. */
static int storage_sha256(lua_State *L) {
    const char *key = check_key(L, 1);
    ensure_backend(L);
    char err[256] = "";
    long long size = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
    if (rc != 0)
        snprintf(err, sizeof(err), "cannot start a digest");
    if (rc == 0)
        rc = is_s3() ? s3_object_hash(key, md, &size, err, sizeof(err))
                     : local_object_hash(key, md, &size, err, sizeof(err));
    if (rc == 0 && EVP_DigestFinal_ex(md, digest, &digest_len) != 1) {
        snprintf(err, sizeof(err), "cannot finish the digest");
        rc = -1;
    }
    EVP_MD_CTX_free(md);
    if (rc == 1) {
        lua_pushnil(L);
        return 1;
    }
    if (rc != 0)
        return core_fail(L, "storage hash failed: %s", err);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned int i = 0; i < digest_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    lua_pushstring(L, hex);
    lua_pushinteger(L, size);
    return 2;
}

/* storage.put(key, bytes, content_type) -> true | nil, err
 * Writes a whole (small) object from the server side: thumbnails, previews, posters. */
static int storage_put(lua_State *L) {
    const char *key = check_key(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    const char *content_type = luaL_checkstring(L, 3);
    ensure_backend(L);
    char err[256] = "";
    int rc;
    if (is_s3()) {
        rc = s3_put(&s3, key, data, len, content_type, err, sizeof(err));
    } else {
        rc = localstore_put(key, data, len);
        snprintf(err, sizeof(err), "%s", localstore_error());
    }
    if (rc != 0)
        return core_fail(L, "storage put failed: %s", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* storage.local_path(key) -> path | nil
 * The file holding an object on the local backend (for helper programs such as
 * ffprobe); nil on S3, where a signed URL stands in. */
static int storage_local_path(lua_State *L) {
    const char *key = check_key(L, 1);
    ensure_backend(L);
    if (is_s3()) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushfstring(L, "%s/media/%s", cfg.data_dir, key);
    return 1;
}

/* storage.delete(key) -> true | nil, err (an absent object is deleted already) */
static int storage_delete(lua_State *L) {
    if (lua_isnoneornil(L, 1)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    const char *key = check_key(L, 1);
    ensure_backend(L);
    char err[256] = "";
    int rc;
    if (is_s3()) {
        rc = s3_delete(&s3, key, err, sizeof(err));
    } else {
        rc = localstore_delete(key);
        snprintf(err, sizeof(err), "%s", localstore_error());
    }
    if (rc != 0)
        return core_fail(L, "storage delete failed: %s", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* storage.move(from_key, to_key) -> true | nil, err
 * A rename on the local store; a server-side copy then a delete on S3. */
static int storage_move(lua_State *L) {
    const char *from = check_key(L, 1);
    const char *to = check_key(L, 2);
    ensure_backend(L);
    char err[256] = "";
    int rc;
    if (is_s3()) {
        rc = s3_copy(&s3, from, to, err, sizeof(err));
        if (rc == 0)
            s3_delete(&s3, from, err, sizeof(err));   /* a leftover is swept later */
    } else {
        rc = localstore_rename(from, to);
        snprintf(err, sizeof(err), "%s", rc == 1 ? "not found" : localstore_error());
    }
    if (rc != 0)
        return core_fail(L, "storage move failed: %s", err);
    lua_pushboolean(L, 1);
    return 1;
}

static int needs_s3(lua_State *L) {
    return core_fail(L, "multipart uploads need the s3 backend");
}

/* storage.multipart_create(key, content_type) -> upload_id | nil, err */
static int storage_multipart_create(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *content_type = luaL_checkstring(L, 2);
    ensure_backend(L);
    if (!is_s3())
        return needs_s3(L);
    char upload_id[256], err[256];
    if (s3_multipart_create(&s3, key, content_type, upload_id, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    lua_pushstring(L, upload_id);
    return 1;
}

/* storage.presign_part(key, upload_id, part_number, size_bytes, ttl) -> url */
static int storage_presign_part(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *upload_id = luaL_checkstring(L, 2);
    lua_Integer part = luaL_checkinteger(L, 3);
    lua_Integer size = luaL_checkinteger(L, 4);
    int ttl = check_ttl(L, 5);
    luaL_argcheck(L, part >= 1 && part <= S3_MAX_PARTS, 3, "part number out of range");
    ensure_backend(L);
    if (!is_s3())
        return luaL_error(L, "core.storage: multipart uploads need the s3 backend");
    char number[16], length[32];
    snprintf(number, sizeof(number), "%lld", (long long)part);
    snprintf(length, sizeof(length), "%lld", (long long)size);
    s3_kv query[] = {{"partNumber", number}, {"uploadId", upload_id}};
    s3_kv headers[] = {{"content-length", length}};
    void **owner = push_owner(L);
    *owner = s3_presign_url(&s3, "PUT", key, query, 2, headers, 1, ttl, time(NULL));
    return push_url(L, owner);
}

/* storage.list_parts(key, upload_id) -> {{part_number, etag, size}, ...} | nil, err */
static int storage_list_parts(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *upload_id = luaL_checkstring(L, 2);
    ensure_backend(L);
    if (!is_s3())
        return needs_s3(L);
    s3_part *parts = NULL;
    int n = 0;
    char err[256];
    if (s3_list_parts(&s3, key, upload_id, &parts, &n, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    void **owner = push_owner(L);   /* the parts are freed even if a push below raises */
    *owner = parts;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, parts[i].part_number);
        lua_setfield(L, -2, "part_number");
        lua_pushstring(L, parts[i].etag);
        lua_setfield(L, -2, "etag");
        lua_pushinteger(L, parts[i].size);
        lua_setfield(L, -2, "size");
        lua_rawseti(L, -2, i + 1);
    }
    free(parts);
    *owner = NULL;
    return 1;
}

/* storage.multipart_complete(key, upload_id, parts) -> true | nil, err
 * parts: {{part_number, etag}, ...} in ascending part order. */
static int storage_multipart_complete(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *upload_id = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 3);
    luaL_argcheck(L, n >= 1 && n <= S3_MAX_PARTS, 3, "1 to 10000 parts");
    ensure_backend(L);
    if (!is_s3())
        return needs_s3(L);
    s3_part *parts = lua_newuserdatauv(L, (size_t)n * sizeof(*parts), 0);   /* GC owns it */
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 3, i + 1);
        luaL_checktype(L, -1, LUA_TTABLE);
        lua_getfield(L, -1, "part_number");
        lua_getfield(L, -2, "etag");
        parts[i].part_number = (int)luaL_checkinteger(L, -2);
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%s", luaL_checkstring(L, -1));
        parts[i].size = 0;
        lua_pop(L, 3);
    }
    char etag[128], err[256];
    if (s3_multipart_complete(&s3, key, upload_id, parts, (int)n, etag, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    lua_pushboolean(L, 1);
    return 1;
}

/* storage.multipart_abort(key, upload_id) -> true | nil, err */
static int storage_multipart_abort(lua_State *L) {
    const char *key = check_key(L, 1);
    const char *upload_id = luaL_checkstring(L, 2);
    ensure_backend(L);
    if (!is_s3())
        return needs_s3(L);
    char err[256];
    if (s3_multipart_abort(&s3, key, upload_id, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg storage_funcs[] = {
    {"backend", storage_backend},
    {"supports_multipart", storage_supports_multipart},
    {"presign_put", storage_presign_put},
    {"presign_get", storage_presign_get},
    {"head", storage_head},
    {"read", storage_read},
    {"sha256", storage_sha256},
    {"put", storage_put},
    {"local_path", storage_local_path},
    {"delete", storage_delete},
    {"move", storage_move},
    {"multipart_create", storage_multipart_create},
    {"presign_part", storage_presign_part},
    {"list_parts", storage_list_parts},
    {"multipart_complete", storage_multipart_complete},
    {"multipart_abort", storage_multipart_abort},
    {NULL, NULL}};

int luaopen_core_storage(lua_State *L) {
    luaL_newmetatable(L, OWNED_MT);
    lua_pushcfunction(L, owner_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, storage_funcs);
    return 1;
}
