/* localstore.h -- the local storage backend: objects as files under one root directory
 * (DATA_DIR/media), written crash-safely (temp -> fsync -> rename -> fsync(dir)), and
 * HMAC-signed, expiring URLs for the /blobs/ endpoint (blobs.c). No Lua here.
 *
 * Results: 0 = ok, -1 = error, 1 = absent (where noted). On -1 the message (lowercase,
 * no final period, never a full path) is in localstore_error() and the errno that
 * caused it, if any, in localstore_errno(); both are per thread and kept until the
 * next failing call on that thread. */
#ifndef ITCLOUD_LOCALSTORE_H
#define ITCLOUD_LOCALSTORE_H

#include <stddef.h>

#define LOCALSTORE_MAX_KEY 512              /* bytes */
#define LOCALSTORE_MAX_EXPIRES 604800       /* a signed URL lives at most 7 days */
#define LOCALSTORE_MAX_CONTENT_TYPE 255     /* bytes, printable ASCII */
#define LOCALSTORE_MAX_FILENAME 1024        /* bytes, as given to presign */
#define LOCALSTORE_ETAG_LEN 64              /* buffer size for an ETag, quotes included */

/* What a signed URL allows beyond method, key and expiry. Every field is signed. */
typedef struct {
    /* PUT: the exact Content-Type the upload must carry (required).
     * GET/HEAD: the Content-Type to serve (NULL or "" = application/octet-stream). */
    const char *content_type;
    /* PUT: the exact Content-Length the upload must carry (>= 0). Unused for GET/HEAD. */
    long long content_length;
    /* GET/HEAD: the filename for Content-Disposition (NULL or "" = none), any UTF-8;
     * blobs.c sanitises it when it builds the header. Unused for PUT. */
    const char *filename;
    /* GET/HEAD: 1 = "inline", 0 = "attachment". Unused for PUT. */
    int inline_disposition;
} localstore_grant;

/* A streaming write: localstore_upload_begin, _write as data arrives, then _commit
 * or _abort. Not thread-safe; one per request. */
typedef struct {
    int fd;                                 /* the temp file, -1 when none */
    int dir_fd;                             /* the target directory, -1 when none */
    char tmp_name[40];                      /* in dir_fd */
    char final_name[LOCALSTORE_MAX_KEY + 1];/* in dir_fd */
    long long written;
} localstore_upload;

/* The message and errno of this thread's last failure ("" and 0 before any). */
const char *localstore_error(void);
int localstore_errno(void);

/* Opens (creating it 0700 if needed) the root directory and keeps a copy of the URL
 * key; call before serving, with core_derive_key("blob-url"). Calling it again (with
 * the same arguments, from another module) is safe while other threads use the store;
 * other arguments replace both, for tests. 0 | -1. */
int localstore_init(const char *root, const unsigned char url_key[32]);

/* 1 when `key` is a valid object key: ^[a-z0-9][a-z0-9/._-]*$, at most 512 bytes, no
 * "..", no "//", no trailing "/", and no path segment starting with "." (those names
 * are reserved for temp files). */
int localstore_key_valid(const char *key);

/* A relative URL "/blobs/<key>?exp=..&ct=..&fn=..&disp=..&sig=.." (GET, HEAD) or
 * "/blobs/<key>?exp=..&ct=..&cl=..&sig=.." (PUT), valid for expires_seconds (1..7 days)
 * from `now` (unix seconds). `g` may be NULL for GET/HEAD. The canonical string that
 * is signed is documented in localstore.c. Returns a malloc'd string the caller frees,
 * or NULL (invalid method, key, expiry or grant). */
char *localstore_presign(const char *method, const char *key, const localstore_grant *g,
                         long now, int expires_seconds);

/* The signed parameters of a request, as MHD decoded them; NULL = absent (= ""). */
typedef struct {
    const char *exp, *ct, *cl, *fn, *disp, *sig;
} localstore_signed_params;

/* Checks a request against its signature: `method` is the request's (a HEAD request
 * also accepts a URL signed for GET), `now` unix seconds. Constant-time compare.
 * Returns 0 when the signature is valid and not expired, with *expires set; -1
 * otherwise (message: "invalid key", "missing signature", "expired", "bad signature",
 * "invalid parameter"). */
int localstore_verify(const char *method, const char *key, const localstore_signed_params *p,
                      long now, long *expires);

/* Size and ETag of an object. 0 | 1 absent (or not a regular file) | -1. ETag is a
 * strong tag "\"<inode>-<size>-<mtime ns>\"" (hex), at most 63 bytes. */
int localstore_head(const char *key, long long *size, char etag[LOCALSTORE_ETAG_LEN]);

/* Opens an object for reading (O_CLOEXEC, no symlink): *fd (the caller closes it), its
 * size and ETag taken from that same descriptor. 0 | 1 absent | -1. */
int localstore_open(const char *key, int *fd, long long *size, char etag[LOCALSTORE_ETAG_LEN]);

/* Up to `length` bytes from `offset` (fewer at the end of the object, none past it).
 * *data is malloc'd (NUL-terminated, *n bytes before it); the caller frees it.
 * 0 | 1 absent | -1. */
int localstore_read(const char *key, long long offset, size_t length, char **data, size_t *n);

/* Writes a whole object crash-safely, creating parent directories. 0 | -1. */
int localstore_put(const char *key, const void *data, size_t len);

/* Streaming write: creates the parent directories of `key` and a temp file
 * (O_CREAT|O_EXCL, 0600) next to it. 0 | -1 (nothing left behind). */
int localstore_upload_begin(localstore_upload *u, const char *key);
/* Appends len bytes (retries short writes). 0 | -1 (the upload stays open: abort it). */
int localstore_upload_write(localstore_upload *u, const void *data, size_t len);
/* fsync(file), rename over the key, fsync(dir); fills etag when not NULL. The upload is
 * closed either way. 0 | -1 (temp file removed). */
int localstore_upload_commit(localstore_upload *u, char etag[LOCALSTORE_ETAG_LEN]);
/* Closes and removes the temp file. Harmless to repeat, and after a failed begin or any
 * commit (both leave fd = dir_fd = -1); never call it on memory begin has not seen. */
void localstore_upload_abort(localstore_upload *u);

/* Moves src to dst (replacing dst), creating dst's parent directories; fsyncs both
 * directories. 0 | 1 src absent | -1. */
int localstore_rename(const char *src_key, const char *dst_key);

/* Copies src to dst through a temp file (copy_file_range, falling back to read/write),
 * fsync, rename, fsync(dir). 0 | 1 src absent | -1. */
int localstore_copy(const char *src_key, const char *dst_key);

/* Removes an object (absent is fine) and the parent directories it leaves empty, up to
 * the root. 0 | -1. */
int localstore_delete(const char *key);

#endif
