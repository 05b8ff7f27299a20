/* localstore.c -- objects as files under one root directory, written crash-safely
 * (temp file -> fsync -> rename -> fsync(dir)), and the signing of /blobs/ URLs.
 * Relies on POSIX *at() calls relative to one root descriptor and OpenSSL's HMAC.
 *
 * The signed string (spec/helpers/blobs.lua builds the same one -- keep them in step):
 *
 *   "itcloud-blob-v1"  then, for each field F of (method, key, exp, ct, cl, fn, disp):
 *                      "\n" .. <decimal byte length of F> .. ":" .. F
 *   sig = unpadded base64url( HMAC-SHA256(core_derive_key("blob-url"), that string) )
 *
 *   method  "GET", "HEAD" or "PUT" (a HEAD request also accepts a GET signature)
 *   key     the object key, as in the path
 *   exp     expiry, unix seconds, decimal without leading zeros
 *   ct      GET/HEAD: the Content-Type to serve (presign fills in
 *           application/octet-stream); PUT: the exact Content-Type of the upload
 *   cl      PUT: the exact Content-Length, decimal; GET/HEAD: ""
 *   fn      GET/HEAD: the filename as given (raw bytes, may be ""); PUT: ""
 *   disp    GET/HEAD: "attachment" or "inline"; PUT: ""
 *
 * e.g. GET of "a/b.jpg" until 1700000000 as image/jpeg, inline, no filename:
 *   "itcloud-blob-v1\n3:GET\n7:a/b.jpg\n10:1700000000\n10:image/jpeg\n0:\n0:\n6:inline"
 *
 * Every field is length-prefixed, so no value can spill into the next, and their order
 * is fixed, so the order of the URL's parameters carries no meaning. The verifier
 * (blobs.c) takes each parameter by name, refuses unknown and repeated ones, and treats
 * an absent one as "" -- which verifies only if "" was signed. The decoded values are
 * signed; the URL percent-encodes every byte outside A-Za-z0-9-._~ in them. */
#include "localstore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SIG_B64_LEN 43              /* unpadded base64url of 32 bytes */
#define ENOENT_RETRIES 8            /* a concurrent delete may remove an empty parent dir */
#define COPY_CHUNK (256 * 1024)

static int root_fd = -1;
static unsigned char url_key[32];
static bool have_url_key;

static __thread char error_text[256];
static __thread int error_errno;

const char *localstore_error(void) {
    return error_text;
}

int localstore_errno(void) {
    return error_errno;
}

/* Records a failure (with strerror(e) appended when e != 0); returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(int e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_text, sizeof(error_text), fmt, ap);
    va_end(ap);
    if (e != 0 && n >= 0 && (size_t)n < sizeof(error_text))
        snprintf(error_text + n, sizeof(error_text) - (size_t)n, ": %s", strerror(e));
    error_errno = e;
    return -1;
}

/* ---- keys ---------------------------------------------------------------------------- */

int localstore_key_valid(const char *key) {
    if (key == NULL)
        return 0;
    size_t n = strnlen(key, LOCALSTORE_MAX_KEY + 1);
    if (n == 0 || n > LOCALSTORE_MAX_KEY)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = key[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  (i > 0 && (ch == '/' || ch == '.' || ch == '_' || ch == '-'));
        if (!ok)
            return 0;
        /* a segment may not start with '.' (covers ".", "..", hidden and temp names)
         * nor be empty ("//", trailing "/") */
        if (ch == '/' && (i + 1 == n || key[i + 1] == '/' || key[i + 1] == '.'))
            return 0;
    }
    return strstr(key, "..") == NULL;
}

static int check_key(const char *key) {
    if (!localstore_key_valid(key))
        return fail(0, "invalid key");
    if (root_fd < 0)
        return fail(0, "local store not initialised");
    return 0;
}

/* Splits "a/b/c" into dir "a/b" (or "" for the root) and base "c". */
static void split_key(const char *key, char dir[LOCALSTORE_MAX_KEY + 1], const char **base) {
    const char *slash = strrchr(key, '/');
    if (slash == NULL) {
        dir[0] = '\0';
        *base = key;
        return;
    }
    size_t n = (size_t)(slash - key);
    memcpy(dir, key, n);
    dir[n] = '\0';
    *base = slash + 1;
}

/* A new descriptor for the directory `dir` under the root ("" = the root). */
static int open_dir(const char *dir) {
    return openat(root_fd, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int fsync_dir(const char *dir) {
    int fd = open_dir(dir);
    if (fd < 0)
        return fail(errno, "cannot open directory");
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    return rc == 0 ? 0 : fail(e, "cannot sync directory");
}

/* mkdir -p of `dir` under the root; each directory created is made durable by syncing
 * its parent. */
static int make_dirs(const char *dir) {
    char path[LOCALSTORE_MAX_KEY + 1];
    size_t n = strlen(dir);
    if (n == 0)
        return 0;
    memcpy(path, dir, n + 1);
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdirat(root_fd, path, 0700) == 0) {
            char parent[LOCALSTORE_MAX_KEY + 1];
            const char *unused;
            split_key(path, parent, &unused);
            if (fsync_dir(parent) != 0)
                return -1;
        } else if (errno != EEXIST) {
            return fail(errno, "cannot create directory");
        }
        path[i] = saved;
    }
    return 0;
}

static void format_etag(const struct stat *st, char etag[LOCALSTORE_ETAG_LEN]) {
    unsigned long long mtime_ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
        (unsigned long long)st->st_mtim.tv_nsec;
    snprintf(etag, LOCALSTORE_ETAG_LEN, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
             (unsigned long long)st->st_size, mtime_ns);
}

/* ---- setup --------------------------------------------------------------------------- */

int localstore_init(const char *root, const unsigned char key[32]) {
    if (root == NULL || *root == '\0' || key == NULL)
        return fail(0, "local store needs a root and a url key");
    if (mkdir(root, 0700) != 0 && errno != EEXIST)
        return fail(errno, "cannot create the media directory");
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(errno, "cannot open the media directory");
    if (root_fd < 0) {
        root_fd = fd;
    } else {
        /* again (another module, a test): swap the directory under the same descriptor
         * number, so a thread using root_fd meanwhile never sees it closed */
        int rc = dup3(fd, root_fd, O_CLOEXEC);
        int e = errno;
        close(fd);
        if (rc < 0)
            return fail(e, "cannot open the media directory");
    }
    if (!have_url_key || memcmp(url_key, key, sizeof(url_key)) != 0)
        memcpy(url_key, key, sizeof(url_key));
    have_url_key = true;
    return 0;
}

/* ---- reading ------------------------------------------------------------------------- */

int localstore_open(const char *key, int *fd_out, long long *size, char etag[LOCALSTORE_ETAG_LEN]) {
    *fd_out = -1;
    if (check_key(key) != 0)
        return -1;
    int fd = openat(root_fd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            return 1;
        return fail(errno, "cannot open object");
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return fail(e, "cannot stat object");
    }
    if (!S_ISREG(st.st_mode)) {     /* a directory (prefix of other keys) is no object */
        close(fd);
        return 1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *size = (long long)st.st_size;
    if (etag)
        format_etag(&st, etag);
    *fd_out = fd;
    return 0;
}

int localstore_head(const char *key, long long *size, char etag[LOCALSTORE_ETAG_LEN]) {
    if (check_key(key) != 0)
        return -1;
    struct stat st;
    if (fstatat(root_fd, key, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        return fail(errno, "cannot stat object");
    }
    if (!S_ISREG(st.st_mode))
        return 1;
    *size = (long long)st.st_size;
    if (etag)
        format_etag(&st, etag);
    return 0;
}

int localstore_read(const char *key, long long offset, size_t length, char **data, size_t *n) {
    *data = NULL;
    *n = 0;
    if (offset < 0)
        return fail(0, "negative offset");
    int fd;
    long long size;
    int rc = localstore_open(key, &fd, &size, NULL);
    if (rc != 0)
        return rc;
    size_t want = 0;
    if (offset < size) {
        unsigned long long left = (unsigned long long)(size - offset);
        want = left < length ? (size_t)left : length;
    }
    char *buf = malloc(want + 1);
    if (buf == NULL) {
        close(fd);
        return fail(ENOMEM, "cannot read object");
    }
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, buf + got, want - got, (off_t)(offset + (long long)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(e, "cannot read object");
        }
        if (r == 0)                 /* truncated meanwhile */
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *n = got;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------- */

static void upload_reset(localstore_upload *u) {
    u->fd = -1;
    u->dir_fd = -1;
    u->tmp_name[0] = '\0';
    u->final_name[0] = '\0';
    u->written = 0;
}

void localstore_upload_abort(localstore_upload *u) {
    if (u->fd >= 0) {
        close(u->fd);
        if (u->dir_fd >= 0 && u->tmp_name[0])
            unlinkat(u->dir_fd, u->tmp_name, 0);
    }
    if (u->dir_fd >= 0)
        close(u->dir_fd);
    upload_reset(u);
}

int localstore_upload_begin(localstore_upload *u, const char *key) {
    upload_reset(u);
    if (check_key(key) != 0)
        return -1;
    char dir[LOCALSTORE_MAX_KEY + 1];
    const char *base;
    split_key(key, dir, &base);
    snprintf(u->final_name, sizeof(u->final_name), "%s", base);
    for (int attempt = 0;; attempt++) {
        if (make_dirs(dir) != 0)
            return -1;
        u->dir_fd = open_dir(dir);
        if (u->dir_fd >= 0) {
            unsigned char raw[8];
            if (RAND_bytes(raw, sizeof(raw)) != 1) {
                localstore_upload_abort(u);
                return fail(0, "cannot name a temp file");
            }
            int len = snprintf(u->tmp_name, sizeof(u->tmp_name), ".tmp-");
            for (size_t i = 0; i < sizeof(raw); i++)
                len +=
                    snprintf(u->tmp_name + len, sizeof(u->tmp_name) - (size_t)len, "%02x", raw[i]);
            u->fd = openat(u->dir_fd, u->tmp_name,
                           O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (u->fd >= 0)
                return 0;
        }
        int e = errno;
        localstore_upload_abort(u);
        snprintf(u->final_name, sizeof(u->final_name), "%s", base);
        /* a delete can remove the (empty) directory between mkdir and create: again */
        if (e != ENOENT || attempt >= ENOENT_RETRIES)
            return fail(e, "cannot create temp file");
    }
}

int localstore_upload_write(localstore_upload *u, const void *data, size_t len) {
    if (u->fd < 0)
        return fail(0, "upload not open");
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(u->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return fail(errno, "cannot write object");
        if (w == 0)
            return fail(EIO, "cannot write object");
        p += w;
        len -= (size_t)w;
        u->written += (long long)w;
    }
    return 0;
}

int localstore_upload_commit(localstore_upload *u, char etag[LOCALSTORE_ETAG_LEN]) {
    if (u->fd < 0)
        return fail(0, "upload not open");
    struct stat st;
    if (fsync(u->fd) != 0 || fstat(u->fd, &st) != 0) {
        int e = errno;
        localstore_upload_abort(u);
        return fail(e, "cannot sync object");
    }
    if (renameat(u->dir_fd, u->tmp_name, u->dir_fd, u->final_name) != 0) {
        int e = errno;
        localstore_upload_abort(u);
        return fail(e, "cannot rename object into place");
    }
    close(u->fd);
    u->fd = -1;                     /* the temp name is gone: nothing to unlink now */
    int rc = fsync(u->dir_fd);
    int e = errno;
    localstore_upload_abort(u);     /* closes the directory */
    if (rc != 0)
        return fail(e, "cannot sync directory");
    if (etag)
        format_etag(&st, etag);     /* rename keeps inode, size and mtime */
    return 0;
}

int localstore_put(const char *key, const void *data, size_t len) {
    localstore_upload u;
    if (localstore_upload_begin(&u, key) != 0)
        return -1;
    if (localstore_upload_write(&u, data, len) != 0) {
        int e = error_errno;
        localstore_upload_abort(&u);
        return fail(e, "cannot write object");
    }
    return localstore_upload_commit(&u, NULL);
}

int localstore_rename(const char *src_key, const char *dst_key) {
    if (check_key(src_key) != 0 || check_key(dst_key) != 0)
        return -1;
    struct stat st;
    if (fstatat(root_fd, src_key, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        return fail(errno, "cannot stat object");
    }
    if (!S_ISREG(st.st_mode))
        return 1;
    char src_dir[LOCALSTORE_MAX_KEY + 1], dst_dir[LOCALSTORE_MAX_KEY + 1];
    const char *base;
    split_key(src_key, src_dir, &base);
    split_key(dst_key, dst_dir, &base);
    for (int attempt = 0;; attempt++) {
        if (make_dirs(dst_dir) != 0)
            return -1;
        if (renameat(root_fd, src_key, root_fd, dst_key) == 0)
            break;
        int e = errno;
        /* ENOENT: src went away, or a delete removed dst's new parent: look again */
        if (e == ENOENT && attempt < ENOENT_RETRIES &&
            fstatat(root_fd, src_key, &st, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        if (e == ENOENT)
            return 1;
        return fail(e, "cannot rename object");
    }
    if (fsync_dir(dst_dir) != 0)
        return -1;
    if (strcmp(src_dir, dst_dir) != 0 && fsync_dir(src_dir) != 0)
        return -1;
    return 0;
}

int localstore_copy(const char *src_key, const char *dst_key) {
    if (check_key(dst_key) != 0)
        return -1;
    int in;
    long long size;
    int rc = localstore_open(src_key, &in, &size, NULL);
    if (rc != 0)
        return rc;
    localstore_upload u;
    if (localstore_upload_begin(&u, dst_key) != 0) {
        close(in);
        return -1;
    }
    bool use_range = true;
    char *buf = NULL;
    int err = 0;
    loff_t in_off = 0;
    while (in_off < size) {
        if (use_range) {
            ssize_t r = copy_file_range(in, &in_off, u.fd, NULL, (size_t)(size - in_off), 0);
            if (r > 0) {
                u.written += r;
                continue;
            }
            if (r == 0)             /* truncated meanwhile */
                break;
            if (errno == EINTR)
                continue;
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
                errno == EPERM) {
                use_range = false;  /* not here: plain read/write from the same offset */
                continue;
            }
            err = errno;
            break;
        }
        if (buf == NULL && (buf = malloc(COPY_CHUNK)) == NULL) {
            err = ENOMEM;
            break;
        }
        ssize_t r = pread(in, buf, COPY_CHUNK, in_off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = errno;
            break;
        }
        if (r == 0)
            break;
        if (localstore_upload_write(&u, buf, (size_t)r) != 0) {
            err = error_errno ? error_errno : EIO;
            break;
        }
        in_off += r;
    }
    free(buf);
    close(in);
    if (err != 0) {
        localstore_upload_abort(&u);
        return fail(err, "cannot copy object");
    }
    return localstore_upload_commit(&u, NULL);
}

int localstore_delete(const char *key) {
    if (check_key(key) != 0)
        return -1;
    if (unlinkat(root_fd, key, 0) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return fail(errno, errno == EISDIR ? "not an object" : "cannot delete object");
    }
    char dir[LOCALSTORE_MAX_KEY + 1];
    const char *base;
    split_key(key, dir, &base);
    if (fsync_dir(dir) != 0)
        return -1;
    /* drop parents left empty; stops at the first that is not (or is the root). A writer
     * that loses its new directory to this retries (ENOENT_RETRIES). */
    while (dir[0]) {
        if (unlinkat(root_fd, dir, AT_REMOVEDIR) != 0)
            break;
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            dir[0] = '\0';
    }
    return 0;
}

/* ---- signed URLs --------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n) {
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) {
    sb_add(b, s, strlen(s));
}

/* Appends s with every byte outside A-Za-z0-9-._~ as %XX. */
static void sb_pct(strbuf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char enc[3];
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            sb_add(b, (const char *)p, 1);
            continue;
        }
        enc[0] = '%';
        enc[1] = hex[*p >> 4];
        enc[2] = hex[*p & 15];
        sb_add(b, enc, 3);
    }
}

/* One length-prefixed field of the signed string. */
static void sb_field(strbuf *b, const char *value) {
    char prefix[32];
    int n = snprintf(prefix, sizeof(prefix), "\n%zu:", strlen(value));
    sb_add(b, prefix, (size_t)n);
    sb_str(b, value);
}

static void base64url(const unsigned char *in, size_t n, char *out) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* The signature of the seven fields, as SIG_B64_LEN chars + NUL. 0 | -1. */
static int sign_fields(const char *method, const char *key, const char *exp, const char *ct,
                       const char *cl, const char *fn, const char *disp,
                       char sig[SIG_B64_LEN + 1]) {
    if (!have_url_key)
        return fail(0, "local store not initialised");
    strbuf b = {0};
    sb_str(&b, "itcloud-blob-v1");
    sb_field(&b, method);
    sb_field(&b, key);
    sb_field(&b, exp);
    sb_field(&b, ct);
    sb_field(&b, cl);
    sb_field(&b, fn);
    sb_field(&b, disp);
    unsigned char mac[32];
    unsigned int mac_len = 0;
    bool ok = !b.failed && HMAC(EVP_sha256(), url_key, sizeof(url_key), (unsigned char *)b.p,
                                b.len, mac, &mac_len) != NULL && mac_len == sizeof(mac);
    free(b.p);
    if (!ok)
        return fail(0, "cannot sign url");
    base64url(mac, sizeof(mac), sig);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

/* 1 when s is a media type we sign and serve: 1..255 bytes of printable ASCII, not
 * starting with a space (so it can go into a header as is). */
static bool content_type_valid(const char *s) {
    size_t n = strnlen(s, LOCALSTORE_MAX_CONTENT_TYPE + 1);
    if (n == 0 || n > LOCALSTORE_MAX_CONTENT_TYPE || s[0] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* 1 when s is a canonical non-negative decimal (no sign, no leading zeros, <= 18 digits). */
static bool decimal_valid(const char *s, long long *out) {
    size_t n = strlen(s);
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

char *localstore_presign(const char *method, const char *key, const localstore_grant *g,
                         long now, int expires_seconds) {
    if (method == NULL ||
        (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "PUT"))) {
        fail(0, "invalid method");
        return NULL;
    }
    if (!localstore_key_valid(key)) {
        fail(0, "invalid key");
        return NULL;
    }
    if (expires_seconds < 1 || expires_seconds > LOCALSTORE_MAX_EXPIRES || now < 0) {
        fail(0, "invalid expiry");
        return NULL;
    }
    bool is_put = !strcmp(method, "PUT");
    const char *ct, *fn = "", *disp = "";
    char cl[24] = "", exp[24];
    snprintf(exp, sizeof(exp), "%lld", (long long)now + expires_seconds);
    if (is_put) {
        if (g == NULL || g->content_type == NULL || !content_type_valid(g->content_type) ||
            g->content_length < 0) {
            fail(0, "invalid grant: a put needs a content type and a length");
            return NULL;
        }
        ct = g->content_type;
        snprintf(cl, sizeof(cl), "%lld", g->content_length);
    } else {
        ct = (g && g->content_type && *g->content_type) ? g->content_type
                                                        : "application/octet-stream";
        if (!content_type_valid(ct)) {
            fail(0, "invalid grant: bad content type");
            return NULL;
        }
        fn = (g && g->filename) ? g->filename : "";
        if (strlen(fn) > LOCALSTORE_MAX_FILENAME) {
            fail(0, "invalid grant: filename too long");
            return NULL;
        }
        disp = (g && g->inline_disposition) ? "inline" : "attachment";
    }
    char sig[SIG_B64_LEN + 1];
    if (sign_fields(method, key, exp, ct, cl, fn, disp, sig) != 0)
        return NULL;
    strbuf b = {0};
    sb_str(&b, "/blobs/");
    sb_str(&b, key);                /* key bytes need no encoding */
    sb_str(&b, "?exp=");
    sb_str(&b, exp);
    sb_str(&b, "&ct=");
    sb_pct(&b, ct);
    if (is_put) {
        sb_str(&b, "&cl=");
        sb_str(&b, cl);
    } else {
        sb_str(&b, "&fn=");
        sb_pct(&b, fn);
        sb_str(&b, "&disp=");
        sb_str(&b, disp);
    }
    sb_str(&b, "&sig=");
    sb_str(&b, sig);
    if (b.failed) {
        free(b.p);
        fail(ENOMEM, "cannot build url");
        return NULL;
    }
    return b.p;
}

static bool sig_matches(const char *method, const char *key, const char *exp, const char *ct,
                        const char *cl, const char *fn, const char *disp, const char *given) {
    char expected[SIG_B64_LEN + 1];
    if (sign_fields(method, key, exp, ct, cl, fn, disp, expected) != 0)
        return false;
    /* lengths are public; equal-length contents are compared in constant time */
    return strlen(given) == SIG_B64_LEN && CRYPTO_memcmp(expected, given, SIG_B64_LEN) == 0;
}

int localstore_verify(const char *method, const char *key, const localstore_signed_params *p,
                      long now, long *expires) {
#define OR_EMPTY(s) ((s) ? (s) : "")
    const char *exp = OR_EMPTY(p->exp), *ct = OR_EMPTY(p->ct), *cl = OR_EMPTY(p->cl);
    const char *fn = OR_EMPTY(p->fn), *disp = OR_EMPTY(p->disp), *sig = OR_EMPTY(p->sig);
#undef OR_EMPTY
    if (!localstore_key_valid(key))
        return fail(0, "invalid key");
    if (!*sig || !*exp)
        return fail(0, "missing signature");
    long long exp_value, cl_value;
    if (!decimal_valid(exp, &exp_value) || strlen(fn) > LOCALSTORE_MAX_FILENAME)
        return fail(0, "invalid parameter");
    bool is_put = !strcmp(method, "PUT"), is_head = !strcmp(method, "HEAD");
    if (!is_put && !is_head && strcmp(method, "GET") != 0)
        return fail(0, "invalid method");
    bool ok = sig_matches(method, key, exp, ct, cl, fn, disp, sig);
    if (!ok && is_head)             /* a GET grant covers HEAD, as in HTTP */
        ok = sig_matches("GET", key, exp, ct, cl, fn, disp, sig);
    if (!ok)
        return fail(0, "bad signature");
    /* signed by us, so these hold; checked again so a bug in presign cannot turn into
     * a header injection */
    if (!content_type_valid(ct))
        return fail(0, "invalid parameter");
    if (is_put ? (!decimal_valid(cl, &cl_value) || *fn || *disp)
               : (*cl || (strcmp(disp, "attachment") && strcmp(disp, "inline"))))
        return fail(0, "invalid parameter");
    if ((long long)now >= exp_value)
        return fail(0, "expired");
    *expires = (long)exp_value;
    return 0;
}
