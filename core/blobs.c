/* blobs.c -- GET, HEAD and PUT of local-store objects at /blobs/<key>?<signed params>,
 * served from C: downloads straight from the file descriptor (ranges, ETag, 304), uploads
 * streamed to a temp file as the body arrives. Relies on localstore.c for keys, files
 * and signatures, and on libmicrohttpd's access-handler protocol (see server.c). */
#include "blobs.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "localstore.h"
#include "responses.h"
#include "log.h"

#define BLOBS_PREFIX "/blobs/"
#define EXTENSION_MAX 16            /* bytes of an extension kept when a name is cut */

static const char BLOB_CSP[] = "sandbox; default-src 'none'";

typedef struct {
    int status;                     /* queued status, 0 = none yet */
    bool is_put;
    bool upload_open;               /* up holds a temp file */
    bool failed;                    /* a write failed: drain the body, then answer */
    int fail_errno;
    long long expected;             /* PUT: the signed Content-Length */
    long expires;                   /* unix seconds */
    localstore_upload up;
} blob_state;

/* ---- responses ------------------------------------------------------------------------- */

static enum MHD_Result blob_queue(struct MHD_Connection *c, blob_state *bs, int status,
                                  struct MHD_Response *r) {
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", BLOB_CSP);
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    const char *request_id = core_request_id();
    if (request_id)
        MHD_add_response_header(r, "X-Request-Id", request_id);
    bs->status = status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* {"error":{"code":..,"message":..}}; code and message are fixed strings, never input. */
static enum MHD_Result blob_error(struct MHD_Connection *c, blob_state *bs, int status,
                                  const char *code, const char *message) {
    struct MHD_Response *r = response_json_error(code, message);
    if (r == NULL)
        return MHD_NO;
    if (status == 400 || status == 411 || status == 403 || status == 507)
        MHD_add_response_header(r, "Connection", "close");
    if (status == 405)
        MHD_add_response_header(r, "Allow", "GET, HEAD, PUT");
    return blob_queue(c, bs, status, r);
}

/* Answers a failed local-store call: 507 when the disk is full, 409 when the key
 * collides with a directory, else 500 (logged). */
static enum MHD_Result store_error(struct MHD_Connection *c, blob_state *bs, int e,
                                   const char *what) {
    if (e == ENOSPC || e == EDQUOT || e == EFBIG) {
        log_fmt(LOG_WARN, "blobs", "%s: %s", what, localstore_error());
        return blob_error(c, bs, 507, "insufficient_storage", "not enough storage space");
    }
    if (e == EISDIR || e == ENOTDIR || e == ENOTEMPTY || e == EEXIST)
        return blob_error(c, bs, 409, "conflict", "the key clashes with another object");
    log_fmt(LOG_ERROR, "blobs", "%s: %s", what, localstore_error());
    return blob_error(c, bs, 500, "internal", "internal server error");
}

/* ---- Content-Disposition ---------------------------------------------------------------- */

/* Decodes one UTF-8 character at s (n bytes left); sets *len. Returns the code point, or
 * UINT32_MAX for an invalid sequence (*len = 1): overlong forms, surrogates and values
 * past U+10FFFF are invalid. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len) {
    *len = 1;
    if (s[0] < 0x80)
        return s[0];
    int extra;
    uint32_t cp, min;
    if ((s[0] & 0xe0) == 0xc0)
        extra = 1, cp = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        extra = 2, cp = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        extra = 3, cp = s[0] & 0x07, min = 0x10000;
    else
        return UINT32_MAX;
    if ((size_t)extra >= n)
        return UINT32_MAX;
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return UINT32_MAX;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return UINT32_MAX;
    *len = (size_t)extra + 1;
    return cp;
}

/* Characters dropped from filenames: controls, path and quoting characters, and the
 * invisible format characters used to disguise names (RTL override: "gpj.exe"). */
static bool dropped_char(uint32_t cp) {
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == '"' || cp == '\\' ||
           cp == '/' || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb);
}

/* Cleans `name` into out (at least strlen(name) + 9 bytes); returns the length. */
static size_t clean_filename(const char *name, char *out) {
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name), o = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = utf8_next(s + i, n - i, &len);
        if (cp == UINT32_MAX)
            out[o++] = '_';
        else if (!dropped_char(cp)) {
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    size_t start = 0;
    while (start < o && (out[start] == '.' || out[start] == ' '))
        start++;
    while (o > start && (out[o - 1] == '.' || out[o - 1] == ' '))
        o--;
    memmove(out, out + start, o - start);
    o -= start;
    out[o] = '\0';
    if (o > BLOBS_FILENAME_MAX) {
        const char *dot = strrchr(out, '.');
        size_t ext = dot ? o - (size_t)(dot - out) : 0;
        if (ext > EXTENSION_MAX || ext == o)
            ext = 0;
        size_t keep = BLOBS_FILENAME_MAX - ext;
        while (keep > 0 && ((unsigned char)out[keep] & 0xc0) == 0x80)
            keep--;             /* never cut inside a character */
        memmove(out + keep, out + o - ext, ext);
        o = keep + ext;
        out[o] = '\0';
    }
    if (o == 0) {
        strcpy(out, "download");
        o = 8;
    }
    return o;
}

static bool attr_char(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$&+-.^_`|~", ch) != NULL);
}

int blobs_content_disposition(const char *disposition, const char *filename, char *out,
                              size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    const char *disp = (disposition && !strcmp(disposition, "inline")) ? "inline" : "attachment";
    if (cap > 0)
        out[0] = '\0';
    size_t o = strlen(disp);
    if (o + 1 > cap)
        return -1;
    memcpy(out, disp, o + 1);
    if (filename == NULL || *filename == '\0')
        return (int)o;
    char *clean = malloc(strlen(filename) + 9);
    if (clean == NULL) {
        out[0] = '\0';
        return -1;
    }
    size_t n = clean_filename(filename, clean);
    /* worst case: the fallback (n) and three bytes per byte encoded */
    if (o + n * 4 + 40 > cap) {
        free(clean);
        out[0] = '\0';
        return -1;
    }
    o += (size_t)sprintf(out + o, "; filename=\"");
    const unsigned char *s = (const unsigned char *)clean;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = utf8_next(s + i, n - i, &len);
        out[o++] = (cp < 0x80 && cp != '%') ? (char)cp : '_';
        i += len;
    }
    o += (size_t)sprintf(out + o, "\"; filename*=UTF-8''");
    for (size_t i = 0; i < n; i++) {
        if (attr_char(s[i])) {
            out[o++] = (char)s[i];
        } else {
            out[o++] = '%';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
        }
    }
    out[o] = '\0';
    free(clean);
    return (int)o;
}

/* ---- the signed request ------------------------------------------------------------------ */

typedef struct {
    localstore_signed_params p;
    bool bad;                       /* an unknown, repeated or NUL-holding parameter */
} param_scan;

static enum MHD_Result scan_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size) {
    param_scan *s = cls;
    static const struct { const char *name; size_t offset; } known[] = {
        {"exp", offsetof(localstore_signed_params, exp)},
        {"ct", offsetof(localstore_signed_params, ct)},
        {"cl", offsetof(localstore_signed_params, cl)},
        {"fn", offsetof(localstore_signed_params, fn)},
        {"disp", offsetof(localstore_signed_params, disp)},
        {"sig", offsetof(localstore_signed_params, sig)},
    };
    const char **slot = NULL;
    for (size_t i = 0; key && i < sizeof(known) / sizeof(known[0]); i++)
        if (key_size == strlen(known[i].name) && !memcmp(key, known[i].name, key_size))
            slot = (const char **)((char *)&s->p + known[i].offset);
    if (slot == NULL || *slot != NULL || (value && strlen(value) != value_size)) {
        s->bad = true;
        return MHD_NO;
    }
    *slot = value ? value : "";
    return MHD_YES;
}

/* Fills p from the query; -1 when a parameter is unknown, repeated or holds a NUL. */
static int signed_params(struct MHD_Connection *c, localstore_signed_params *p) {
    param_scan s = {{0}, false};
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, scan_param, &s);
    *p = s.p;
    return s.bad ? -1 : 0;
}

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

/* The value of a header sent exactly once; NULL when absent; *repeated when sent more. */
static const char *single_header(struct MHD_Connection *c, const char *name, bool *repeated) {
    header_count hc = {name, 0, NULL};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hc);
    if (hc.count > 1)
        *repeated = true;
    return hc.count == 1 ? hc.value : NULL;
}

/* Strict decimal without sign; -1 on anything else or overflow. */
static long long parse_length(const char *s) {
    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return -1;
    long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* ---- GET and HEAD ------------------------------------------------------------------------ */

/* Whether an If-None-Match list names our tag ("*", or equal after a weak "W/"). */
static bool etag_listed(const char *list, const char *etag) {
    size_t tag_len = strlen(etag);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        size_t len = (size_t)(last - p);
        if (len == 1 && *p == '*')
            return true;
        if (len > 2 && !strncmp(p, "W/", 2))
            p += 2, len -= 2;
        if (len == tag_len && !memcmp(p, etag, len))
            return true;
        p = end;
    }
    return false;
}

/* Digits at *p (advanced past them); saturates at LLONG_MAX. -1 when there are none. */
static long long range_number(const char **p) {
    const char *s = *p;
    long long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (*s - '0');
    *p = s;
    return v;
}

/* Parses a Range header for an object of `size` bytes: 1 = serve [*start, *start+*len),
 * 0 = ignore it and serve everything (other units, bad syntax, several ranges), -1 =
 * unsatisfiable (416). */
static int parse_range(const char *header, long long size, long long *start, long long *len) {
    const char *p = header;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "bytes=", 6) != 0)
        return 0;
    p += 6;
    if (strchr(p, ','))             /* multi-range: the whole object, as 200 (documented) */
        return 0;
    while (*p == ' ')
        p++;
    long long first = -1, last = -1;
    if (*p == '-') {
        p++;
        long long suffix = range_number(&p);
        while (*p == ' ')
            p++;
        if (suffix < 0 || *p)
            return 0;
        if (suffix == 0)
            return -1;
        if (size == 0)              /* no bytes to name: serve the empty object */
            return 0;
        first = suffix >= size ? 0 : size - suffix;
        last = size - 1;
    } else {
        first = range_number(&p);
        if (first < 0 || *p != '-')
            return 0;
        p++;
        if (*p >= '0' && *p <= '9')
            last = range_number(&p);
        while (*p == ' ')
            p++;
        if (*p)
            return 0;
        if (last >= 0 && last < first)
            return -1;
        if (first >= size)
            return -1;
        if (last < 0 || last >= size)
            last = size - 1;
    }
    *start = first;
    *len = last - first + 1;
    return 1;
}

static enum MHD_Result serve(struct MHD_Connection *c, blob_state *bs, const char *key) {
    localstore_signed_params p;
    signed_params(c, &p);           /* checked on the first call */
    int fd;
    long long size;
    char etag[LOCALSTORE_ETAG_LEN];
    int rc = localstore_open(key, &fd, &size, etag);
    if (rc == 1)
        return blob_error(c, bs, 404, "not_found", "no such object");
    if (rc != 0)
        return store_error(c, bs, localstore_errno(), "cannot open object");

    long remaining = bs->expires - (long)time(NULL);
    char cache[64];
    snprintf(cache, sizeof(cache), "private, max-age=%ld", remaining > 0 ? remaining : 0);
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm && etag_listed(inm, etag)) {
        /* MHD sends a 304's headers only, Content-Length included: built on the file, it
         * is the length a 200 would have (RFC 9110 8.6), and the file is never read */
        struct MHD_Response *r =
            size > 0 ? MHD_create_response_from_fd_at_offset64((uint64_t)size, fd, 0)
                     : MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (size == 0 || r == NULL)
            close(fd);
        if (r == NULL)
            return MHD_NO;
        MHD_add_response_header(r, "ETag", etag);
        MHD_add_response_header(r, "Cache-Control", cache);
        return blob_queue(c, bs, 304, r);
    }

    long long start = 0, len = size;
    int status = 200;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    if (range && (if_range == NULL || !strcmp(if_range, etag))) {
        int kind = parse_range(range, size, &start, &len);
        if (kind < 0) {
            close(fd);
            char content_range[64];
            snprintf(content_range, sizeof(content_range), "bytes */%lld", size);
            char body[] = "{\"error\":{\"code\":\"range_not_satisfiable\","
                          "\"message\":\"the range is outside the object\"}}";
            struct MHD_Response *r =
                MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_MUST_COPY);
            if (r == NULL)
                return MHD_NO;
            MHD_add_response_header(r, "Content-Type", "application/json");
            MHD_add_response_header(r, "Content-Range", content_range);
            MHD_add_response_header(r, "Accept-Ranges", "bytes");
            MHD_add_response_header(r, "ETag", etag);
            MHD_add_response_header(r, "Cache-Control", "no-store");
            return blob_queue(c, bs, 416, r);
        }
        if (kind > 0)
            status = 206;
    }

    char disposition[BLOBS_DISPOSITION_MAX];
    if (blobs_content_disposition(p.disp, p.fn, disposition, sizeof(disposition)) < 0) {
        close(fd);
        return blob_error(c, bs, 500, "internal", "internal server error");
    }
    struct MHD_Response *r;
    if (len == 0) {
        close(fd);
        r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_fd_at_offset64((uint64_t)len, fd, (uint64_t)start);
        if (r == NULL)
            close(fd);
    }
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", p.ct && *p.ct ? p.ct : "application/octet-stream");
    MHD_add_response_header(r, "Content-Disposition", disposition);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "Cache-Control", cache);
    if (status == 206) {
        char content_range[96];
        snprintf(content_range, sizeof(content_range), "bytes %lld-%lld/%lld", start,
                 start + len - 1, size);
        MHD_add_response_header(r, "Content-Range", content_range);
    }
    return blob_queue(c, bs, status, r);
}

/* ---- PUT --------------------------------------------------------------------------------- */

/* First call of a PUT whose signature is valid: the upload must carry exactly the signed
 * Content-Type and Content-Length (no chunked bodies); then the temp file is opened. */
static enum MHD_Result begin_put(struct MHD_Connection *c, blob_state *bs, const char *key,
                                 const localstore_signed_params *p) {
    bool repeated = false;
    const char *te = single_header(c, "Transfer-Encoding", &repeated);
    const char *length = single_header(c, "Content-Length", &repeated);
    const char *type = single_header(c, "Content-Type", &repeated);
    if (repeated)
        return blob_error(c, bs, 400, "bad_request", "repeated header");
    if (te || length == NULL)
        return blob_error(c, bs, 411, "length_required", "uploads need a Content-Length");
    long long declared = parse_length(length), signed_length = parse_length(p->cl);
    if (declared < 0)
        return blob_error(c, bs, 400, "bad_request", "invalid Content-Length");
    if (type == NULL || strcmp(type, p->ct) != 0)
        return blob_error(c, bs, 403, "forbidden", "the Content-Type is not the signed one");
    if (declared != signed_length)
        return blob_error(c, bs, 403, "forbidden", "the Content-Length is not the signed one");
    if (localstore_upload_begin(&bs->up, key) != 0)
        return store_error(c, bs, localstore_errno(), "cannot start upload");
    bs->upload_open = true;
    bs->expected = declared;
    return MHD_YES;
}

static enum MHD_Result finish_put(struct MHD_Connection *c, blob_state *bs) {
    if (bs->failed)
        return store_error(c, bs, bs->fail_errno, "upload failed");
    if (!bs->upload_open)
        return blob_error(c, bs, 500, "internal", "internal server error");
    if (bs->up.written != bs->expected) {
        localstore_upload_abort(&bs->up);
        bs->upload_open = false;
        return blob_error(c, bs, 400, "bad_request", "the body does not match Content-Length");
    }
    char etag[LOCALSTORE_ETAG_LEN];
    bs->upload_open = false;        /* commit closes it, success or not */
    if (localstore_upload_commit(&bs->up, etag) != 0)
        return store_error(c, bs, localstore_errno(), "cannot store upload");
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    return blob_queue(c, bs, 200, r);
}

/* ---- the handler --------------------------------------------------------------------------- */

static enum MHD_Result first_call(struct MHD_Connection *c, blob_state *bs, const char *key,
                                  const char *method) {
    bool is_get = !strcmp(method, "GET"), is_head = !strcmp(method, "HEAD");
    bs->is_put = !strcmp(method, "PUT");
    if (!is_get && !is_head && !bs->is_put)
        return blob_error(c, bs, 405, "method_not_allowed", "method not allowed");
    localstore_signed_params p;
    if (signed_params(c, &p) != 0)
        return blob_error(c, bs, 403, "forbidden", "invalid signed url");
    if (localstore_verify(method, key, &p, (long)time(NULL), &bs->expires) != 0)
        return blob_error(c, bs, 403, "forbidden", "invalid or expired signed url");
    if (bs->is_put)
        return begin_put(c, bs, key, &p);
    return MHD_YES;                 /* GET/HEAD answer once the (empty) body is in */
}

enum MHD_Result blobs_handle(struct MHD_Connection *c, const char *url, const char *method,
                             const char *upload_data, size_t *upload_data_size, void **state) {
    blob_state *bs = *state;
    const char *key = url + strlen(BLOBS_PREFIX);
    if (bs == NULL) {
        bs = calloc(1, sizeof(*bs));
        if (bs == NULL)
            return MHD_NO;
        bs->up.fd = bs->up.dir_fd = -1;
        *state = bs;
        if (strncmp(url, BLOBS_PREFIX, strlen(BLOBS_PREFIX)) != 0)
            return blob_error(c, bs, 404, "not_found", "no such object");
        return first_call(c, bs, key, method);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!bs->upload_open || bs->failed)
            return MHD_YES;         /* GET bodies, and the rest after a failure: dropped */
        if (bs->up.written + (long long)n > bs->expected) {
            bs->failed = true;      /* MHD stops at Content-Length; never trust it blindly */
            bs->fail_errno = EINVAL;
        } else if (localstore_upload_write(&bs->up, upload_data, n) != 0) {
            bs->failed = true;
            bs->fail_errno = localstore_errno();
        }
        if (bs->failed) {
            localstore_upload_abort(&bs->up);   /* no partial file, even while draining */
            bs->upload_open = false;
        }
        return MHD_YES;
    }
    if (bs->status != 0)
        return MHD_YES;             /* answered on the first call */
    return bs->is_put ? finish_put(c, bs) : serve(c, bs, key);
}

int blobs_status(void *const *state) {
    const blob_state *bs = *state;
    return bs ? bs->status : 0;
}

void blobs_completed(void **state, int ok) {
    blob_state *bs = *state;
    if (bs == NULL)
        return;
    if (bs->upload_open)            /* client gone or request cut: leave nothing behind */
        localstore_upload_abort(&bs->up);
    free(bs);
    *state = NULL;
}
