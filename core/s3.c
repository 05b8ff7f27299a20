/* s3.c -- the S3 client behind core.storage: SigV4 signing and pre-signing done here with
 * OpenSSL (HMAC-SHA256, SHA-256), server-side calls over libcurl used only as transport, and
 * hand-written, bounds-checked parsing of the few small XML answers S3 gives. */
#include "s3.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define MAX_SIGN_ITEMS 64              /* query parameters or headers in one signature */
#define XML_CAP (4 << 20)              /* ListParts pages, complete answers */
#define SMALL_CAP (64 << 10)           /* answers we only read an error code from */

/* ---------------------------------------------------------------------------------------- */
/* A growing string; after an allocation failure it stays failed and ignores appends. */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_free(strbuf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int sb_reserve(strbuf *b, size_t extra) {
    if (b->oom)
        return -1;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = '\0';
    return 0;
}

static void sb_add(strbuf *b, const char *s, size_t n) {
    if (sb_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_adds(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_addc(strbuf *b, char c) { sb_add(b, &c, 1); }

static void sb_printf(strbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->oom = 1;                     /* only used for short, bounded pieces */
        return;
    }
    sb_add(b, tmp, (size_t)n);
}

/* Copies the buffer into out (cap bytes); returns its length or -1 when it does not fit. */
static int sb_export(const strbuf *b, char *out, size_t cap) {
    if (b->oom || cap == 0 || b->len >= cap || b->len > INT_MAX) {
        if (cap > 0)
            out[0] = '\0';
        return -1;
    }
    memcpy(out, b->p ? b->p : "", b->len);
    out[b->len] = '\0';
    return (int)b->len;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------- */
/* Hashing and encoding. */

static const char HEX[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    hex_encode(md, 32, out);
}

static void hmac256(const void *key, size_t keylen, const void *msg, size_t msglen,
                    unsigned char out[32]) {
    unsigned int outlen = 0;
    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen);
}

static int is_unreserved(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.' || ch == '~';
}

static void sb_uri_encode(strbuf *b, const char *s, size_t len, int keep_slash) {
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_unreserved(ch) || (keep_slash && ch == '/')) {
            sb_addc(b, (char)ch);
        } else {
            char esc[3] = {'%', "0123456789ABCDEF"[ch >> 4], "0123456789ABCDEF"[ch & 15]};
            sb_add(b, esc, 3);
        }
    }
}

int s3_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap) {
    strbuf b = {0};
    sb_uri_encode(&b, s, len, keep_slash);
    int n = sb_export(&b, out, cap);
    sb_free(&b);
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Signature V4. */

typedef struct {
    char *name, *value;                 /* encoded (query) or canonical (headers), malloc'd */
    int order;                          /* input position: keeps repeated headers in order */
} pair;

static void pairs_free(pair *p, int n) {
    for (int i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
}

static int pair_cmp(const void *a, const void *b) {
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c == 0)
        c = strcmp(x->value, y->value);
    return c;
}

static int pair_cmp_name_then_order(const void *a, const void *b) {
    const pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->order > y->order) - (x->order < y->order);
}

static char *encode_dup(const char *s, int keep_slash) {
    strbuf b = {0};
    sb_uri_encode(&b, s, strlen(s), keep_slash);
    sb_reserve(&b, 0);                  /* an empty string still gets a buffer */
    if (b.oom) {
        sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* The canonical query string: names and values encoded, sorted by name then value, always
 * "k=v" (an empty value gives "k="). Also what goes on the wire, so the two never differ. */
static int canonical_query(const s3_kv *q, int n, strbuf *out) {
    if (n < 0 || n > MAX_SIGN_ITEMS || (n > 0 && q == NULL))
        return -1;
    pair items[MAX_SIGN_ITEMS];
    int made = 0, rc = -1;
    for (int i = 0; i < n; i++) {
        if (q[i].name == NULL || q[i].name[0] == '\0')
            goto done;
        items[made].name = encode_dup(q[i].name, 0);
        items[made].value = encode_dup(q[i].value ? q[i].value : "", 0);
        made++;
        if (items[made - 1].name == NULL || items[made - 1].value == NULL)
            goto done;
    }
    qsort(items, (size_t)made, sizeof(pair), pair_cmp);
    for (int i = 0; i < made; i++) {
        if (i > 0)
            sb_addc(out, '&');
        sb_adds(out, items[i].name);
        sb_addc(out, '=');
        sb_adds(out, items[i].value);
    }
    rc = out->oom ? -1 : 0;
done:
    pairs_free(items, made);
    return rc;
}

static int is_token_char(unsigned char ch) {
    return isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* A header value for signing: no CR/LF/NUL, outer whitespace trimmed, inner runs of spaces
 * and tabs folded to one space. NULL on a forbidden character or no memory. */
static char *canonical_header_value(const char *v) {
    strbuf b = {0};
    const char *s = v ? v : "";
    while (*s == ' ' || *s == '\t')
        s++;
    int pending_space = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\r' || ch == '\n') {
            sb_free(&b);
            return NULL;
        }
        if (ch == ' ' || ch == '\t') {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            sb_addc(&b, ' ');
        pending_space = 0;
        sb_addc(&b, (char)ch);
    }
    sb_reserve(&b, 0);
    if (b.oom) {
        sb_free(&b);
        return NULL;
    }
    return b.p;
}

/* Canonical headers ("name:value\n" each, repeated names joined with ',') and the signed
 * header list ("a;b;c"). */
static int canonical_headers(const s3_kv *h, int n, strbuf *canon, strbuf *signed_list) {
    if (n < 1 || n > MAX_SIGN_ITEMS || h == NULL)
        return -1;
    pair items[MAX_SIGN_ITEMS];
    int made = 0, rc = -1;
    for (int i = 0; i < n; i++) {
        const char *name = h[i].name;
        if (name == NULL || name[0] == '\0')
            goto done;
        for (const char *p = name; *p; p++)
            if (!is_token_char((unsigned char)*p))
                goto done;
        items[made].name = strdup(name);
        items[made].value = canonical_header_value(h[i].value);
        items[made].order = i;
        made++;
        if (items[made - 1].name == NULL || items[made - 1].value == NULL)
            goto done;
        for (char *p = items[made - 1].name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    qsort(items, (size_t)made, sizeof(pair), pair_cmp_name_then_order);
    for (int i = 0; i < made; i++) {
        int repeat = i > 0 && strcmp(items[i].name, items[i - 1].name) == 0;
        if (repeat) {
            canon->len--;               /* drop the previous line's '\n' and join */
            sb_addc(canon, ',');
        } else {
            if (i > 0)
                sb_addc(signed_list, ';');
            sb_adds(signed_list, items[i].name);
            sb_adds(canon, items[i].name);
            sb_addc(canon, ':');
        }
        sb_adds(canon, items[i].value);
        sb_addc(canon, '\n');
    }
    rc = (canon->oom || signed_list->oom) ? -1 : 0;
done:
    pairs_free(items, made);
    return rc;
}

static int valid_amz_date(const char *d) {
    if (d == NULL || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)d[i]))
            return 0;
    return 1;
}

static int nonempty(const char *s) { return s != NULL && s[0] != '\0'; }

static int valid_sign_input(const s3_sign_input *in) {
    if (in == NULL || !nonempty(in->method) || in->path == NULL || in->path[0] != '/' ||
        !nonempty(in->payload_hash) || !valid_amz_date(in->amz_date) || !nonempty(in->region) ||
        !nonempty(in->service) || !nonempty(in->access_key) || !nonempty(in->secret_key))
        return 0;
    for (const char *p = in->method; *p; p++)
        if (!isupper((unsigned char)*p))
            return 0;
    /* The scope parts are '/'-separated: none may contain one. */
    if (strchr(in->region, '/') || strchr(in->service, '/') || strchr(in->access_key, '/'))
        return 0;
    return 1;
}

/* The canonical request into creq and the signed header list into signed_list. */
static int build_canonical(const s3_sign_input *in, strbuf *creq, strbuf *signed_list) {
    if (!valid_sign_input(in))
        return -1;
    strbuf query = {0}, headers = {0};
    int rc = -1;
    if (canonical_query(in->query, in->n_query, &query) != 0 ||
        canonical_headers(in->headers, in->n_headers, &headers, signed_list) != 0)
        goto done;
    sb_adds(creq, in->method);
    sb_addc(creq, '\n');
    sb_uri_encode(creq, in->path, strlen(in->path), 1);
    sb_addc(creq, '\n');
    sb_add(creq, query.p ? query.p : "", query.len);
    sb_addc(creq, '\n');
    sb_add(creq, headers.p ? headers.p : "", headers.len);
    sb_addc(creq, '\n');
    sb_add(creq, signed_list->p ? signed_list->p : "", signed_list->len);
    sb_addc(creq, '\n');
    sb_adds(creq, in->payload_hash);
    rc = creq->oom ? -1 : 0;
done:
    sb_free(&query);
    sb_free(&headers);
    return rc;
}

static void build_string_to_sign(const s3_sign_input *in, const strbuf *creq, strbuf *sts) {
    char hash[65];
    s3_sha256_hex(creq->p, creq->len, hash);
    sb_adds(sts, ALGORITHM "\n");
    sb_adds(sts, in->amz_date);
    sb_addc(sts, '\n');
    sb_add(sts, in->amz_date, 8);
    sb_printf(sts, "/%s/%s/aws4_request\n", in->region, in->service);
    sb_adds(sts, hash);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int signing_key(const s3_sign_input *in, unsigned char key[32]) {
    size_t slen = strlen(in->secret_key);
    char *k0 = malloc(slen + 5);
    if (k0 == NULL)
        return -1;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, in->secret_key, slen + 1);
    unsigned char k1[32], k2[32], k3[32];
    hmac256(k0, slen + 4, in->amz_date, 8, k1);
    OPENSSL_cleanse(k0, slen + 4);
    free(k0);
    hmac256(k1, 32, in->region, strlen(in->region), k2);
    hmac256(k2, 32, in->service, strlen(in->service), k3);
    hmac256(k3, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k1, 32);
    OPENSSL_cleanse(k2, 32);
    OPENSSL_cleanse(k3, 32);
    return 0;
}

/* Signs: fills sig (64 hex) and, when wanted, the signed header list. */
static int sign(const s3_sign_input *in, char sig[65], strbuf *signed_list_out) {
    strbuf creq = {0}, sts = {0}, signed_list = {0};
    unsigned char key[32], mac[32];
    int rc = -1;
    if (build_canonical(in, &creq, &signed_list) != 0)
        goto done;
    build_string_to_sign(in, &creq, &sts);
    if (sts.oom || signing_key(in, key) != 0)
        goto done;
    hmac256(key, 32, sts.p, sts.len, mac);
    OPENSSL_cleanse(key, 32);
    hex_encode(mac, 32, sig);
    if (signed_list_out != NULL)
        sb_add(signed_list_out, signed_list.p, signed_list.len);
    rc = (signed_list_out && signed_list_out->oom) ? -1 : 0;
done:
    sb_free(&creq);
    sb_free(&sts);
    sb_free(&signed_list);
    return rc;
}

int s3_sigv4_canonical_request(const s3_sign_input *in, char *out, size_t cap) {
    strbuf creq = {0}, signed_list = {0};
    int n = build_canonical(in, &creq, &signed_list) == 0 ? sb_export(&creq, out, cap) : -1;
    if (n < 0 && cap > 0)
        out[0] = '\0';
    sb_free(&creq);
    sb_free(&signed_list);
    return n;
}

int s3_sigv4_string_to_sign(const s3_sign_input *in, char *out, size_t cap) {
    strbuf creq = {0}, sts = {0}, signed_list = {0};
    int n = -1;
    if (build_canonical(in, &creq, &signed_list) == 0) {
        build_string_to_sign(in, &creq, &sts);
        n = sb_export(&sts, out, cap);
    }
    if (n < 0 && cap > 0)
        out[0] = '\0';
    sb_free(&creq);
    sb_free(&sts);
    sb_free(&signed_list);
    return n;
}

int s3_sigv4_signature(const s3_sign_input *in, char out[65]) {
    out[0] = '\0';
    return sign(in, out, NULL) == 0 ? 64 : -1;
}

int s3_sigv4_authorization(const s3_sign_input *in, char *out, size_t cap) {
    char sig[65];
    strbuf signed_list = {0}, auth = {0};
    int n = -1;
    if (sign(in, sig, &signed_list) == 0) {
        sb_adds(&auth, ALGORITHM " Credential=");
        sb_adds(&auth, in->access_key);
        sb_addc(&auth, '/');
        sb_add(&auth, in->amz_date, 8);
        sb_addc(&auth, '/');
        sb_adds(&auth, in->region);
        sb_addc(&auth, '/');
        sb_adds(&auth, in->service);
        sb_adds(&auth, "/aws4_request, SignedHeaders=");
        sb_add(&auth, signed_list.p, signed_list.len);
        sb_adds(&auth, ", Signature=");
        sb_adds(&auth, sig);
        n = sb_export(&auth, out, cap);
    }
    if (n < 0 && cap > 0)
        out[0] = '\0';
    sb_free(&signed_list);
    sb_free(&auth);
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Endpoints, keys and dates. */

typedef struct {
    char base[320];                     /* scheme://host[:port], as given, no trailing '/' */
    char host[300];                     /* the Host header: host[:port], default port dropped */
} endpoint;

/* Accepts only scheme://host[:port] with an optional trailing '/'. */
static int parse_endpoint(const char *url, endpoint *ep) {
    if (url == NULL)
        return -1;
    const char *rest;
    const char *scheme;
    if (strncasecmp(url, "http://", 7) == 0) {
        scheme = "http";
        rest = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        scheme = "https";
        rest = url + 8;
    } else {
        return -1;
    }
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(ep->host))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)rest[i];
        if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' || ch == '[' || ch == ']' ||
              ch == '_'))
            return -1;                  /* no userinfo, path, query, fragment or spaces */
    }
    snprintf(ep->base, sizeof(ep->base), "%s://%.*s", scheme, (int)n, rest);
    /* The port is what follows the last ':' outside an IPv6 literal's brackets. */
    size_t hostlen = n;
    const char *close = memchr(rest, ']', n);
    const char *from = close ? close : rest;
    const char *colon = memchr(from, ':', n - (size_t)(from - rest));
    if (colon != NULL) {
        const char *port = colon + 1;
        size_t plen = n - (size_t)(port - rest);
        if (plen == 0 || plen > 5)
            return -1;
        long portnum = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit((unsigned char)port[i]))
                return -1;
            portnum = portnum * 10 + (port[i] - '0');
        }
        if (portnum < 1 || portnum > 65535)
            return -1;
        if ((!strcmp(scheme, "http") && plen == 2 && !memcmp(port, "80", 2)) ||
            (!strcmp(scheme, "https") && plen == 3 && !memcmp(port, "443", 3)))
            hostlen = (size_t)(colon - rest);
    }
    if (hostlen == 0)
        return -1;
    snprintf(ep->host, sizeof(ep->host), "%.*s", (int)hostlen, rest);
    return 0;
}

static int valid_key(const char *key) {
    if (key == NULL)
        return 0;
    size_t n = strlen(key);
    return n > 0 && n <= S3_MAX_KEY;
}

static int valid_config(const s3_config *c) {
    return c != NULL && nonempty(c->region) && nonempty(c->access_key) &&
           nonempty(c->secret_key) && nonempty(c->bucket) && strchr(c->bucket, '/') == NULL &&
           strlen(c->bucket) <= 255;
}

static void amz_date_of(long now_unix, char out[17]) {
    time_t t = (time_t)now_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* "/bucket/key", raw. */
static int object_path(const s3_config *c, const char *key, strbuf *out) {
    sb_addc(out, '/');
    sb_adds(out, c->bucket);
    sb_addc(out, '/');
    sb_adds(out, key);
    return out->oom ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Pre-signed URLs. */

static int is_auth_param(const char *name) {
    static const char *const reserved[] = {"x-amz-algorithm", "x-amz-credential",
                                           "x-amz-date", "x-amz-expires",
                                           "x-amz-signedheaders", "x-amz-signature",
                                           "x-amz-security-token"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return 1;
    return 0;
}

char *s3_presign_path(const s3_config *c, const char *base_url, const char *method,
                      const char *path, const s3_kv *extra_query, int n_query,
                      const s3_kv *signed_headers, int n_headers, int expires_seconds,
                      long now_unix) {
    endpoint ep;
    if (!valid_config(c) || parse_endpoint(base_url, &ep) != 0 || path == NULL ||
        path[0] != '/' || expires_seconds < 1 || expires_seconds > S3_MAX_EXPIRES ||
        n_query < 0 || n_headers < 0 || n_query > MAX_SIGN_ITEMS - 6 ||
        n_headers > MAX_SIGN_ITEMS - 1 || (n_query > 0 && extra_query == NULL) ||
        (n_headers > 0 && signed_headers == NULL) || now_unix < 0)
        return NULL;
    for (int i = 0; i < n_query; i++)
        if (extra_query[i].name == NULL || is_auth_param(extra_query[i].name))
            return NULL;
    for (int i = 0; i < n_headers; i++)
        if (signed_headers[i].name == NULL || strcasecmp(signed_headers[i].name, "host") == 0)
            return NULL;

    s3_kv headers[MAX_SIGN_ITEMS];
    headers[0] = (s3_kv){"host", ep.host};
    for (int i = 0; i < n_headers; i++)
        headers[i + 1] = signed_headers[i];
    int nh = n_headers + 1;

    char date[17], credential[512], expires[16];
    amz_date_of(now_unix, date);
    int cn = snprintf(credential, sizeof(credential), "%s/%.8s/%s/s3/aws4_request",
                      c->access_key, date, c->region);
    if (cn < 0 || (size_t)cn >= sizeof(credential))
        return NULL;
    snprintf(expires, sizeof(expires), "%d", expires_seconds);

    /* The signed header list is needed inside the query it signs: compute it first. */
    strbuf canon = {0}, signed_list = {0}, query = {0}, url = {0};
    char *result = NULL;
    if (canonical_headers(headers, nh, &canon, &signed_list) != 0)
        goto done;

    s3_kv q[MAX_SIGN_ITEMS];
    int nq = 0;
    for (int i = 0; i < n_query; i++)
        q[nq++] = extra_query[i];
    q[nq++] = (s3_kv){"X-Amz-Algorithm", ALGORITHM};
    q[nq++] = (s3_kv){"X-Amz-Credential", credential};
    q[nq++] = (s3_kv){"X-Amz-Date", date};
    q[nq++] = (s3_kv){"X-Amz-Expires", expires};
    q[nq++] = (s3_kv){"X-Amz-SignedHeaders", signed_list.p};

    s3_sign_input in = {
        .method = method, .path = path, .query = q, .n_query = nq, .headers = headers,
        .n_headers = nh, .payload_hash = UNSIGNED_PAYLOAD, .amz_date = date,
        .region = c->region, .service = "s3", .access_key = c->access_key,
        .secret_key = c->secret_key,
    };
    char sig[65];
    if (sign(&in, sig, NULL) != 0 || canonical_query(q, nq, &query) != 0)
        goto done;
    sb_adds(&url, ep.base);
    sb_uri_encode(&url, path, strlen(path), 1);
    sb_addc(&url, '?');
    sb_add(&url, query.p, query.len);
    sb_adds(&url, "&X-Amz-Signature=");
    sb_adds(&url, sig);
    if (!url.oom) {
        result = url.p;
        url.p = NULL;
    }
done:
    sb_free(&canon);
    sb_free(&signed_list);
    sb_free(&query);
    sb_free(&url);
    return result;
}

char *s3_presign_url(const s3_config *c, const char *method, const char *key,
                     const s3_kv *extra_query, int n_query, const s3_kv *signed_headers,
                     int n_headers, int expires_seconds, long now_unix) {
    if (!valid_config(c) || !valid_key(key))
        return NULL;
    strbuf path = {0};
    char *url = NULL;
    if (object_path(c, key, &path) == 0)
        url = s3_presign_path(c, c->public_endpoint ? c->public_endpoint : c->endpoint, method,
                              path.p, extra_query, n_query, signed_headers, n_headers,
                              expires_seconds, now_unix);
    sb_free(&path);
    return url;
}

/* ---------------------------------------------------------------------------------------- */
/* XML: just enough for S3's answers. Elements are found by name; attributes on the opening
 * tag are skipped; text is entity-decoded; nothing reads past len. */

/* Finds the first element <tag ...>content</tag> (or <tag/>) starting at or after doc+from.
 * Sets the content's start and length and the offset just past the closing tag. */
static int xml_element(const char *doc, size_t len, size_t from, const char *tag,
                       size_t *cstart, size_t *clen, size_t *next) {
    size_t tlen = strlen(tag);
    if (tlen == 0 || doc == NULL)
        return -1;
    size_t i = from;
    while (i < len) {
        const char *lt = memchr(doc + i, '<', len - i);
        if (lt == NULL)
            return -1;
        size_t p = (size_t)(lt - doc) + 1;
        if (len - p > tlen && memcmp(doc + p, tag, tlen) == 0) {
            size_t q = p + tlen;
            char ch = doc[q];
            if (ch == '>' || ch == '/' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
                const char *gt = memchr(doc + q, '>', len - q);
                if (gt == NULL)
                    return -1;
                size_t open_end = (size_t)(gt - doc);        /* index of '>' */
                if (doc[open_end - 1] == '/') {              /* <tag/> or <tag a="b"/> */
                    *cstart = open_end + 1;
                    *clen = 0;
                    *next = open_end + 1;
                    return 0;
                }
                size_t c0 = open_end + 1;
                /* Find "</tag" followed by optional spaces and '>'. */
                for (size_t j = c0; j + 2 + tlen < len; j++) {
                    const char *cl = memchr(doc + j, '<', len - j);
                    if (cl == NULL)
                        return -1;
                    j = (size_t)(cl - doc);
                    if (len - j < tlen + 3)
                        return -1;
                    if (doc[j + 1] == '/' && memcmp(doc + j + 2, tag, tlen) == 0) {
                        size_t k = j + 2 + tlen;
                        while (k < len && (doc[k] == ' ' || doc[k] == '\t' || doc[k] == '\r' ||
                                           doc[k] == '\n'))
                            k++;
                        if (k < len && doc[k] == '>') {
                            *cstart = c0;
                            *clen = j - c0;
                            *next = k + 1;
                            return 0;
                        }
                    }
                }
                return -1;
            }
        }
        i = p;
    }
    return -1;
}

static int utf8_put(unsigned long cp, char *out, size_t cap, size_t *o) {
    unsigned char tmp[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    if (cp < 0x80) {
        tmp[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (unsigned char)(0xC0 | (cp >> 6));
        tmp[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (unsigned char)(0xE0 | (cp >> 12));
        tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (unsigned char)(0xF0 | (cp >> 18));
        tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n >= cap)
        return -1;
    memcpy(out + *o, tmp, n);
    *o += n;
    return 0;
}

/* Decodes text (no markup allowed) with the five XML entities and &#N; / &#xH;. */
static int xml_decode(const char *s, size_t n, char *out, size_t cap) {
    if (cap == 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = s[i];
        if (ch == '<' || ch == '\0') {
            out[0] = '\0';
            return -1;
        }
        if (ch != '&') {
            if (o + 1 >= cap) {
                out[0] = '\0';
                return -1;
            }
            out[o++] = ch;
            i++;
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        if (semi == NULL) {
            out[0] = '\0';
            return -1;
        }
        size_t elen = (size_t)(semi - (s + i)) + 1;   /* "&...;" */
        const char *e = s + i + 1;
        size_t nlen = elen - 2;
        unsigned long cp = 0;
        if (nlen == 2 && !memcmp(e, "lt", 2))
            cp = '<';
        else if (nlen == 2 && !memcmp(e, "gt", 2))
            cp = '>';
        else if (nlen == 3 && !memcmp(e, "amp", 3))
            cp = '&';
        else if (nlen == 4 && !memcmp(e, "quot", 4))
            cp = '"';
        else if (nlen == 4 && !memcmp(e, "apos", 4))
            cp = '\'';
        else if (nlen >= 2 && e[0] == '#') {
            int hex = e[1] == 'x' || e[1] == 'X';
            size_t d0 = hex ? 2 : 1;
            if (nlen <= d0 || nlen - d0 > 6) {
                out[0] = '\0';
                return -1;
            }
            for (size_t k = d0; k < nlen; k++) {
                int c = (unsigned char)e[k];
                int v = isdigit(c) ? c - '0'
                        : (hex && isxdigit(c)) ? (tolower(c) - 'a' + 10)
                                               : -1;
                if (v < 0) {
                    out[0] = '\0';
                    return -1;
                }
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            }
        } else {
            out[0] = '\0';
            return -1;
        }
        if (utf8_put(cp, out, cap, &o) != 0) {
            out[0] = '\0';
            return -1;
        }
        i += elen;
    }
    out[o] = '\0';
    return o > INT_MAX ? -1 : (int)o;
}

int s3_xml_text(const char *doc, size_t len, const char *tag, char *out, size_t cap) {
    size_t cs, cl, next;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (doc == NULL || tag == NULL || xml_element(doc, len, 0, tag, &cs, &cl, &next) != 0)
        return -1;
    return xml_decode(doc + cs, cl, out, cap);
}

int s3_xml_error_code(const char *doc, size_t len, char *out, size_t cap) {
    size_t cs, cl, next;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (doc == NULL || xml_element(doc, len, 0, "Error", &cs, &cl, &next) != 0)
        return -1;
    char code[128];
    if (s3_xml_text(doc + cs, cl, "Code", code, sizeof(code)) <= 0)
        return -1;
    size_t o = 0;
    for (const char *p = code; *p && o + 1 < cap; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')) {
            out[0] = '\0';             /* never pass markup or escapes on into messages */
            return -1;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return o > 0 ? 0 : -1;
}

/* Digits only, value in [min, max]. */
static int parse_ll(const char *s, long long min, long long max, long long *out) {
    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return -1;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Copies an ETag without surrounding quotes; only A-Za-z0-9- allowed, 1..126 chars. */
static int clean_etag(const char *in, char out[128]) {
    size_t n = strlen(in);
    const char *s = in;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s++;
        n -= 2;
    }
    if (n == 0 || n > 126)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '-'))
            return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

int s3_xml_list_parts_page(const char *doc, size_t len, s3_part **parts, int *n,
                           int *cap_parts, int *truncated, int *next_marker, char *err,
                           size_t errlen) {
    size_t rs, rl, rnext;
    char text[256];
    long long v;
    *truncated = 0;
    *next_marker = 0;
    if (doc == NULL || xml_element(doc, len, 0, "ListPartsResult", &rs, &rl, &rnext) != 0) {
        set_err(err, errlen, "s3 list parts failed: malformed answer");
        return -1;
    }
    const char *body = doc + rs;
    if (s3_xml_text(body, rl, "IsTruncated", text, sizeof(text)) >= 0)
        *truncated = strcmp(text, "true") == 0;
    if (s3_xml_text(body, rl, "NextPartNumberMarker", text, sizeof(text)) > 0) {
        if (parse_ll(text, 0, S3_MAX_PARTS, &v) != 0) {
            set_err(err, errlen, "s3 list parts failed: bad next part number marker");
            return -1;
        }
        *next_marker = (int)v;
    }
    size_t at = 0, ps, pl, pnext;
    while (xml_element(body, rl, at, "Part", &ps, &pl, &pnext) == 0) {
        at = pnext;
        s3_part p = {0};
        if (s3_xml_text(body + ps, pl, "PartNumber", text, sizeof(text)) <= 0 ||
            parse_ll(text, 1, S3_MAX_PARTS, &v) != 0) {
            set_err(err, errlen, "s3 list parts failed: bad part number");
            return -1;
        }
        p.part_number = (int)v;
        if (s3_xml_text(body + ps, pl, "ETag", text, sizeof(text)) <= 0 ||
            clean_etag(text, p.etag) != 0) {
            set_err(err, errlen, "s3 list parts failed: bad etag");
            return -1;
        }
        if (s3_xml_text(body + ps, pl, "Size", text, sizeof(text)) <= 0 ||
            parse_ll(text, 0, 1LL << 43, &v) != 0) {
            set_err(err, errlen, "s3 list parts failed: bad part size");
            return -1;
        }
        p.size = v;
        if (*n > 0 && p.part_number <= (*parts)[*n - 1].part_number) {
            set_err(err, errlen, "s3 list parts failed: parts out of order");
            return -1;
        }
        if (*n >= S3_MAX_PARTS) {
            set_err(err, errlen, "s3 list parts failed: too many parts");
            return -1;
        }
        if (*n >= *cap_parts) {
            int ncap = *cap_parts ? *cap_parts * 2 : 16;
            if (ncap > S3_MAX_PARTS)
                ncap = S3_MAX_PARTS;
            s3_part *np = realloc(*parts, (size_t)ncap * sizeof(s3_part));
            if (np == NULL) {
                set_err(err, errlen, "s3 list parts failed: out of memory");
                return -1;
            }
            *parts = np;
            *cap_parts = ncap;
        }
        (*parts)[(*n)++] = p;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Transport. */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int s3_global_init(void) {
    pthread_once(&curl_once, curl_init_once);
    return curl_init_rc == CURLE_OK ? 0 : -1;
}

typedef struct {
    const char *op;                     /* for messages: "put" */
    const char *method;
    const char *key;
    const s3_kv *query;
    int n_query;
    const s3_kv *headers;               /* extra headers, all signed */
    int n_headers;
    const char *body;                   /* in-memory body (may be NULL with body_len 0) */
    size_t body_len;
    FILE *body_file;                    /* or a file body of file_len bytes */
    long long file_len;
    const char *payload_hash;           /* precomputed (file bodies); NULL = hash body */
    size_t max_response;
    int idempotent;
    int cut_ok;                         /* stop quietly at max_response (GET of a range) */
} request;

typedef struct {
    long status;
    long hdr_status;                    /* status line of the response being received */
    strbuf body;
    size_t max;
    int over, cut, cut_ok;
    /* from the final response's headers */
    char etag[128];
    char content_type[128];
    long long content_length;
    long long last_modified;
    /* request body reading */
    const char *src;
    size_t src_len, src_off;
    FILE *src_file;
} response;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    response *r = ud;
    size_t n = size * nmemb;
    /* An error answer may be longer than a small range: keep enough of it for its code. */
    int success = r->hdr_status >= 200 && r->hdr_status < 300;
    size_t limit = (!success && r->max < SMALL_CAP) ? SMALL_CAP : r->max;
    if (n > limit - r->body.len) {
        size_t room = limit - r->body.len;
        if (r->cut_ok && success) {
            sb_add(&r->body, ptr, room);
            r->cut = 1;
        } else {
            r->over = 1;
        }
        return 0;                       /* stop the transfer */
    }
    sb_add(&r->body, ptr, n);
    return r->body.oom ? 0 : n;
}

static void copy_header_value(const char *v, size_t n, char *out, size_t cap) {
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    if (n >= cap)
        n = cap - 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] >= 0x20 && v[i] != 0x7f)
            out[o++] = v[i];
    out[o] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
    response *r = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue, say): forget the previous one's headers. */
        r->etag[0] = r->content_type[0] = '\0';
        r->content_length = -1;
        r->last_modified = 0;
        r->hdr_status = 0;
        const char *sp = memchr(ptr, ' ', n);   /* "HTTP/1.1 206 ..." or "HTTP/2 206" */
        size_t at = sp ? (size_t)(sp - ptr) + 1 : n;
        if (at + 3 <= n && isdigit((unsigned char)ptr[at]) &&
            isdigit((unsigned char)ptr[at + 1]) && isdigit((unsigned char)ptr[at + 2]))
            r->hdr_status = (ptr[at] - '0') * 100 + (ptr[at + 1] - '0') * 10 + (ptr[at + 2] - '0');
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (colon == NULL)
        return n;
    size_t nlen = (size_t)(colon - ptr);
    const char *v = colon + 1;
    size_t vlen = n - nlen - 1;
    char val[256];
    if (nlen == 4 && strncasecmp(ptr, "etag", 4) == 0) {
        copy_header_value(v, vlen, val, sizeof(val));
        if (clean_etag(val, r->etag) != 0)
            r->etag[0] = '\0';
    } else if (nlen == 12 && strncasecmp(ptr, "content-type", 12) == 0) {
        copy_header_value(v, vlen, r->content_type, sizeof(r->content_type));
    } else if (nlen == 14 && strncasecmp(ptr, "content-length", 14) == 0) {
        long long cl;
        copy_header_value(v, vlen, val, sizeof(val));
        r->content_length = parse_ll(val, 0, LLONG_MAX / 2, &cl) == 0 ? cl : -1;
    } else if (nlen == 13 && strncasecmp(ptr, "last-modified", 13) == 0) {
        copy_header_value(v, vlen, val, sizeof(val));
        time_t t = curl_getdate(val, NULL);
        r->last_modified = t > 0 ? (long long)t : 0;
    }
    return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud) {
    response *r = ud;
    size_t want = size * nmemb;
    if (r->src_file != NULL)
        return fread(buf, 1, want, r->src_file);
    size_t left = r->src_len - r->src_off;
    size_t n = left < want ? left : want;
    if (n > 0)
        memcpy(buf, r->src + r->src_off, n);
    r->src_off += n;
    return n;
}

static void lowercase(char *s) {
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static long effective_timeout(const s3_config *c) {
    return c->timeout_ms > 0 ? c->timeout_ms : 30000;
}

static int retry_count(const s3_config *c) {
    return c->max_retries < 0 ? 0 : c->max_retries > 10 ? 10 : c->max_retries;
}

/* Sleeps half of min(2 s, 100 ms * 2^attempt) plus a random part of the other half. */
static void backoff(int attempt) {
    long ceiling = 100L << (attempt < 5 ? attempt : 5);
    if (ceiling > 2000)
        ceiling = 2000;
    unsigned int rnd = 0;
    if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
        rnd = (unsigned int)attempt * 7919u;
    long ms = ceiling / 2 + (long)(rnd % (unsigned int)(ceiling / 2 + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int retryable_status(long s) { return s == 500 || s == 502 || s == 503 || s == 504; }

static int retryable_curl(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* One attempt. Returns the curl code; r gets status, body and headers. */
static CURLcode perform_once(const s3_config *c, const endpoint *ep, const request *rq,
                             const char *path, const char *payload_hash, response *r,
                             char *err, size_t errlen) {
    CURLcode rc = CURLE_FAILED_INIT;
    CURL *h = NULL;
    struct curl_slist *hl = NULL;
    strbuf url = {0}, query = {0}, line = {0};
    char date[17], auth[1024];

    sb_free(&r->body);
    r->body.oom = 0;
    r->status = r->hdr_status = 0;
    r->over = r->cut = 0;
    r->etag[0] = r->content_type[0] = '\0';
    r->content_length = -1;
    r->last_modified = 0;
    r->src_off = 0;
    if (r->src_file != NULL && fseek(r->src_file, 0, SEEK_SET) != 0) {
        set_err(err, errlen, "s3 %s failed: cannot rewind file", rq->op);
        return CURLE_READ_ERROR;
    }

    s3_kv headers[MAX_SIGN_ITEMS];
    int nh = 0;
    amz_date_of((long)time(NULL), date);
    headers[nh++] = (s3_kv){"host", ep->host};
    headers[nh++] = (s3_kv){"x-amz-content-sha256", payload_hash};
    headers[nh++] = (s3_kv){"x-amz-date", date};
    for (int i = 0; i < rq->n_headers && nh < MAX_SIGN_ITEMS; i++)
        headers[nh++] = rq->headers[i];
    s3_sign_input in = {
        .method = rq->method, .path = path, .query = rq->query, .n_query = rq->n_query,
        .headers = headers, .n_headers = nh, .payload_hash = payload_hash, .amz_date = date,
        .region = c->region, .service = "s3", .access_key = c->access_key,
        .secret_key = c->secret_key,
    };
    if (s3_sigv4_authorization(&in, auth, sizeof(auth)) < 0 ||
        canonical_query(rq->query, rq->n_query, &query) != 0) {
        set_err(err, errlen, "s3 %s failed: cannot sign request", rq->op);
        goto done;
    }
    sb_adds(&url, ep->base);
    sb_uri_encode(&url, path, strlen(path), 1);
    if (query.len > 0) {
        sb_addc(&url, '?');
        sb_add(&url, query.p, query.len);
    }
    for (int i = 0; i < nh; i++) {
        line.len = 0;
        sb_adds(&line, i == 0 ? "Host" : headers[i].name);
        sb_adds(&line, ": ");
        sb_adds(&line, headers[i].value);
        struct curl_slist *nl = line.oom ? NULL : curl_slist_append(hl, line.p);
        if (nl == NULL)
            goto oom;
        hl = nl;
    }
    line.len = 0;
    sb_adds(&line, "Authorization: ");
    sb_adds(&line, auth);
    struct curl_slist *nl = line.oom ? NULL : curl_slist_append(hl, line.p);
    if (nl == NULL)
        goto oom;
    hl = nl;
    /* Headers libcurl would add on its own: no 100-continue round trip, no Accept, and no
     * form content type on a POST unless we set (and signed) one. */
    int has_content_type = 0;
    for (int k = 0; k < rq->n_headers; k++)
        if (strcasecmp(rq->headers[k].name, "content-type") == 0)
            has_content_type = 1;
    static const char *const suppress[] = {"Expect:", "Accept:", "Content-Type:"};
    for (size_t i = 0; i < sizeof(suppress) / sizeof(suppress[0]); i++) {
        if (i == 2 && has_content_type)
            continue;
        if ((nl = curl_slist_append(hl, suppress[i])) == NULL)
            goto oom;
        hl = nl;
    }
    if (url.oom)
        goto oom;

    h = curl_easy_init();
    if (h == NULL)
        goto oom;
    long timeout = effective_timeout(c);
    if (rq->body_file != NULL) /* allow about 1 MB/s on top of the usual budget */
        timeout += (long)(rq->file_len / 1024 > LONG_MAX / 2 ? LONG_MAX / 2 : rq->file_len / 1024);
    curl_easy_setopt(h, CURLOPT_URL, url.p);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);        /* the signed path, byte for byte */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "itcloud-s3/1");
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(rq->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                         (curl_off_t)(rq->body_file ? rq->file_len : (long long)rq->body_len));
    } else if (!strcmp(rq->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);

    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc == CURLE_WRITE_ERROR && r->cut && !r->body.oom) {
        rc = CURLE_OK;                  /* we stopped it on purpose at the range's end */
    } else if (rc == CURLE_WRITE_ERROR && r->over) {
        set_err(err, errlen, "s3 %s failed: response too large", rq->op);
    } else if (r->body.oom) {
        rc = CURLE_OUT_OF_MEMORY;
        set_err(err, errlen, "s3 %s failed: out of memory", rq->op);
    } else if (rc != CURLE_OK) {
        char msg[CURL_ERROR_SIZE + 64];
        snprintf(msg, sizeof(msg), "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
        lowercase(msg);
        set_err(err, errlen, "s3 %s failed: %s", rq->op, msg);
    }
    goto done;
oom:
    set_err(err, errlen, "s3 %s failed: out of memory", rq->op);
    rc = CURLE_OUT_OF_MEMORY;
done:
    if (h != NULL)
        curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    sb_free(&url);
    sb_free(&query);
    sb_free(&line);
    OPENSSL_cleanse(auth, sizeof(auth));
    return rc;
}

/* Sends rq, retrying idempotent requests. Returns 0 once an HTTP answer that is not worth
 * retrying arrived (any status: the caller judges it), or -1 with err set. */
static int perform(const s3_config *c, const request *rq, response *r, char *err,
                   size_t errlen) {
    endpoint ep;
    strbuf path = {0};
    char hash[65];
    if (!valid_config(c) || parse_endpoint(c->endpoint, &ep) != 0) {
        set_err(err, errlen, "s3 %s failed: invalid configuration", rq->op);
        return -1;
    }
    if (!valid_key(rq->key)) {
        set_err(err, errlen, "s3 %s failed: invalid key", rq->op);
        return -1;
    }
    if (s3_global_init() != 0) {
        set_err(err, errlen, "s3 %s failed: libcurl did not initialise", rq->op);
        return -1;
    }
    if (object_path(c, rq->key, &path) != 0) {
        sb_free(&path);
        set_err(err, errlen, "s3 %s failed: out of memory", rq->op);
        return -1;
    }
    if (rq->payload_hash != NULL)
        snprintf(hash, sizeof(hash), "%s", rq->payload_hash);
    else
        s3_sha256_hex(rq->body ? rq->body : "", rq->body_len, hash);
    r->max = rq->max_response;
    r->cut_ok = rq->cut_ok;
    r->src = rq->body;
    r->src_len = rq->body_len;
    r->src_file = rq->body_file;

    int attempts = rq->idempotent ? retry_count(c) + 1 : 1;
    int result = -1;
    for (int attempt = 0; attempt < attempts; attempt++) {
        if (attempt > 0)
            backoff(attempt - 1);
        CURLcode rc = perform_once(c, &ep, rq, path.p, hash, r, err, errlen);
        if (rc == CURLE_OK) {
            result = 0;
            if (!retryable_status(r->status))
                break;
        } else {
            result = -1;
            if (!retryable_curl(rc))
                break;
        }
    }
    sb_free(&path);
    return result;
}

/* "s3 OP failed: STATUS Code" from an error answer. */
static void status_err(const request *rq, const response *r, char *err, size_t errlen) {
    char code[64];
    if (r->body.len > 0 && s3_xml_error_code(r->body.p, r->body.len, code, sizeof(code)) == 0)
        set_err(err, errlen, "s3 %s failed: %ld %s", rq->op, r->status, code);
    else
        set_err(err, errlen, "s3 %s failed: %ld", rq->op, r->status);
}

static void response_free(response *r) { sb_free(&r->body); }

static int valid_upload_id(const char *id) {
    if (id == NULL || id[0] == '\0' || strlen(id) >= 256)
        return 0;
    for (const char *p = id; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

static int has_crlf(const char *s) { return s != NULL && strpbrk(s, "\r\n") != NULL; }

/* ---------------------------------------------------------------------------------------- */
/* Object calls. */

int s3_head(const s3_config *c, const char *key, s3_object *out, char *err, size_t errlen) {
    request rq = {.op = "head", .method = "HEAD", .key = key, .max_response = SMALL_CAP,
                  .idempotent = 1};
    response r = {0};
    int rc = -1;
    if (perform(c, &rq, &r, err, errlen) != 0)
        goto done;
    if (r.status == 404) {
        rc = 1;
    } else if (r.status == 200) {
        memset(out, 0, sizeof(*out));
        out->size = r.content_length;
        snprintf(out->etag, sizeof(out->etag), "%s", r.etag);
        snprintf(out->content_type, sizeof(out->content_type), "%s", r.content_type);
        out->last_modified = r.last_modified;
        rc = 0;
    } else {
        status_err(&rq, &r, err, errlen);
    }
done:
    response_free(&r);
    return rc;
}

int s3_get_range(const s3_config *c, const char *key, long long offset, long long length,
                 char **data, size_t *len, char *err, size_t errlen) {
    *data = NULL;
    *len = 0;
    if (offset < 0 || length < 1 || offset > LLONG_MAX - length ||
        (unsigned long long)length > (unsigned long long)SIZE_MAX / 2) {
        set_err(err, errlen, "s3 get failed: invalid range");
        return -1;
    }
    char range[64];
    snprintf(range, sizeof(range), "bytes=%lld-%lld", offset, offset + length - 1);
    s3_kv hdr[] = {{"range", range}};
    request rq = {.op = "get", .method = "GET", .key = key, .headers = hdr, .n_headers = 1,
                  .max_response = (size_t)length, .idempotent = 1, .cut_ok = 1};
    response r = {0};
    int rc = -1;
    if (perform(c, &rq, &r, err, errlen) != 0)
        goto done;
    if (r.status == 206 || (r.status == 200 && offset == 0)) {
        if (sb_reserve(&r.body, 0) != 0) {
            set_err(err, errlen, "s3 get failed: out of memory");
            goto done;
        }
        *data = r.body.p;
        *len = r.body.len;
        r.body.p = NULL;
        rc = 0;
    } else if (r.status == 200) {
        set_err(err, errlen, "s3 get failed: range ignored");
    } else {
        /* A cut error body is still worth reading for its code. */
        status_err(&rq, &r, err, errlen);
    }
done:
    response_free(&r);
    return rc;
}

int s3_put(const s3_config *c, const char *key, const void *data, size_t len,
           const char *content_type, char *err, size_t errlen) {
    if (has_crlf(content_type) || (data == NULL && len > 0)) {
        set_err(err, errlen, "s3 put failed: invalid argument");
        return -1;
    }
    s3_kv hdr[] = {{"content-type", content_type}};
    request rq = {.op = "put", .method = "PUT", .key = key, .headers = hdr,
                  .n_headers = content_type ? 1 : 0, .body = data, .body_len = len,
                  .max_response = SMALL_CAP, .idempotent = 1};
    response r = {0};
    int rc = -1;
    if (perform(c, &rq, &r, err, errlen) == 0) {
        if (r.status == 200)
            rc = 0;
        else
            status_err(&rq, &r, err, errlen);
    }
    response_free(&r);
    return rc;
}

int s3_put_file(const s3_config *c, const char *key, const char *path,
                const char *content_type, char *err, size_t errlen) {
    if (has_crlf(content_type) || path == NULL) {
        set_err(err, errlen, "s3 put failed: invalid argument");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errlen, "s3 put failed: cannot open file: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    response r = {0};
    EVP_MD_CTX *md = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "s3 put failed: not a regular file");
        goto done;
    }
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        set_err(err, errlen, "s3 put failed: out of memory");
        goto done;
    }
    char buf[65536];
    long long total = 0;
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(md, buf, got);
        total += (long long)got;
    }
    if (ferror(f) || total != (long long)st.st_size) {
        set_err(err, errlen, "s3 put failed: file changed or unreadable");
        goto done;
    }
    unsigned char digest[32];
    unsigned int dlen = 0;
    char hash[65];
    EVP_DigestFinal_ex(md, digest, &dlen);
    hex_encode(digest, 32, hash);
    s3_kv hdr[] = {{"content-type", content_type}};
    request rq = {.op = "put", .method = "PUT", .key = key, .headers = hdr,
                  .n_headers = content_type ? 1 : 0, .body_file = f, .file_len = total,
                  .payload_hash = hash, .max_response = SMALL_CAP, .idempotent = 1};
    if (perform(c, &rq, &r, err, errlen) == 0) {
        if (r.status == 200)
            rc = 0;
        else
            status_err(&rq, &r, err, errlen);
    }
done:
    EVP_MD_CTX_free(md);
    response_free(&r);
    fclose(f);
    return rc;
}

int s3_delete(const s3_config *c, const char *key, char *err, size_t errlen) {
    request rq = {.op = "delete", .method = "DELETE", .key = key, .max_response = SMALL_CAP,
                  .idempotent = 1};
    response r = {0};
    int rc = -1;
    if (perform(c, &rq, &r, err, errlen) == 0) {
        if (r.status == 204 || r.status == 200 || r.status == 404)
            rc = 0;
        else
            status_err(&rq, &r, err, errlen);
    }
    response_free(&r);
    return rc;
}

int s3_copy(const s3_config *c, const char *src_key, const char *dst_key, char *err,
            size_t errlen) {
    if (!valid_key(src_key) || !valid_config(c)) {
        set_err(err, errlen, "s3 copy failed: invalid key");
        return -1;
    }
    strbuf src = {0}, raw = {0};
    object_path(c, src_key, &raw);
    sb_uri_encode(&src, raw.p ? raw.p : "", raw.len, 1);
    sb_free(&raw);
    if (src.oom) {
        sb_free(&src);
        set_err(err, errlen, "s3 copy failed: out of memory");
        return -1;
    }
    s3_kv hdr[] = {{"x-amz-copy-source", src.p}, {"x-amz-metadata-directive", "COPY"}};
    request rq = {.op = "copy", .method = "PUT", .key = dst_key, .headers = hdr,
                  .n_headers = 2, .max_response = XML_CAP};
    response r = {0};
    int rc = -1;
    char code[64];
    if (perform(c, &rq, &r, err, errlen) == 0) {
        /* S3 may answer 200 and put the error in the body. */
        if (r.status == 200 && !(r.body.len > 0 &&
                                 s3_xml_error_code(r.body.p, r.body.len, code, sizeof(code)) == 0))
            rc = 0;
        else
            status_err(&rq, &r, err, errlen);
    }
    response_free(&r);
    sb_free(&src);
    return rc;
}

int s3_multipart_create(const s3_config *c, const char *key, const char *content_type,
                        char upload_id[256], char *err, size_t errlen) {
    upload_id[0] = '\0';
    if (has_crlf(content_type)) {
        set_err(err, errlen, "s3 create multipart failed: invalid content type");
        return -1;
    }
    s3_kv q[] = {{"uploads", ""}};
    s3_kv hdr[] = {{"content-type", content_type}};
    request rq = {.op = "create multipart", .method = "POST", .key = key, .query = q,
                  .n_query = 1, .headers = hdr, .n_headers = content_type ? 1 : 0,
                  .max_response = SMALL_CAP};
    response r = {0};
    int rc = -1;
    char id[256];
    if (perform(c, &rq, &r, err, errlen) != 0)
        goto done;
    if (r.status != 200) {
        status_err(&rq, &r, err, errlen);
    } else if (s3_xml_text(r.body.p, r.body.len, "UploadId", id, sizeof(id)) <= 0 ||
               !valid_upload_id(id)) {
        set_err(err, errlen, "s3 create multipart failed: malformed answer");
    } else {
        memcpy(upload_id, id, strlen(id) + 1);
        rc = 0;
    }
done:
    response_free(&r);
    return rc;
}

int s3_multipart_complete(const s3_config *c, const char *key, const char *upload_id,
                          const s3_part *parts, int n, char etag[128], char *err,
                          size_t errlen) {
    etag[0] = '\0';
    if (!valid_upload_id(upload_id)) {
        set_err(err, errlen, "s3 complete multipart failed: invalid upload id");
        return -1;
    }
    if (n < 1 || n > S3_MAX_PARTS || parts == NULL) {
        set_err(err, errlen, "s3 complete multipart failed: need 1 to 10000 parts");
        return -1;
    }
    strbuf xml = {0};
    sb_adds(&xml, "<CompleteMultipartUpload>");
    for (int i = 0; i < n; i++) {
        char clean[128];
        if (parts[i].part_number < 1 || parts[i].part_number > S3_MAX_PARTS ||
            (i > 0 && parts[i].part_number <= parts[i - 1].part_number)) {
            sb_free(&xml);
            set_err(err, errlen, "s3 complete multipart failed: part numbers must ascend");
            return -1;
        }
        if (clean_etag(parts[i].etag, clean) != 0) {
            sb_free(&xml);
            set_err(err, errlen, "s3 complete multipart failed: invalid etag");
            return -1;
        }
        sb_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>",
                  parts[i].part_number, clean);
    }
    sb_adds(&xml, "</CompleteMultipartUpload>");
    if (xml.oom) {
        sb_free(&xml);
        set_err(err, errlen, "s3 complete multipart failed: out of memory");
        return -1;
    }
    s3_kv q[] = {{"uploadId", upload_id}};
    s3_kv hdr[] = {{"content-type", "application/xml"}};
    request rq = {.op = "complete multipart", .method = "POST", .key = key, .query = q,
                  .n_query = 1, .headers = hdr, .n_headers = 1, .body = xml.p,
                  .body_len = xml.len, .max_response = XML_CAP};
    response r = {0};
    int rc = -1;
    char code[64], text[256];
    if (perform(c, &rq, &r, err, errlen) != 0)
        goto done;
    if (r.status != 200 ||
        (r.body.len > 0 && s3_xml_error_code(r.body.p, r.body.len, code, sizeof(code)) == 0)) {
        status_err(&rq, &r, err, errlen);
    } else if (s3_xml_text(r.body.p, r.body.len, "ETag", text, sizeof(text)) <= 0 ||
               clean_etag(text, etag) != 0) {
        etag[0] = '\0';
        set_err(err, errlen, "s3 complete multipart failed: malformed answer");
    } else {
        rc = 0;
    }
done:
    response_free(&r);
    sb_free(&xml);
    return rc;
}

int s3_multipart_abort(const s3_config *c, const char *key, const char *upload_id, char *err,
                       size_t errlen) {
    if (!valid_upload_id(upload_id)) {
        set_err(err, errlen, "s3 abort multipart failed: invalid upload id");
        return -1;
    }
    s3_kv q[] = {{"uploadId", upload_id}};
    request rq = {.op = "abort multipart", .method = "DELETE", .key = key, .query = q,
                  .n_query = 1, .max_response = SMALL_CAP, .idempotent = 1};
    response r = {0};
    int rc = -1;
    if (perform(c, &rq, &r, err, errlen) == 0) {
        if (r.status == 204 || r.status == 200 || r.status == 404)
            rc = 0;
        else
            status_err(&rq, &r, err, errlen);
    }
    response_free(&r);
    return rc;
}

static int list_parts_page_size = 1000;

void s3_set_list_parts_page_size(int n) {
    list_parts_page_size = n < 1 ? 1 : n > 1000 ? 1000 : n;
}

int s3_list_parts(const s3_config *c, const char *key, const char *upload_id, s3_part **parts,
                  int *n, char *err, size_t errlen) {
    *parts = NULL;
    *n = 0;
    if (!valid_upload_id(upload_id)) {
        set_err(err, errlen, "s3 list parts failed: invalid upload id");
        return -1;
    }
    int cap_parts = 0, marker = 0, rc = -1;
    response r = {0};
    for (;;) {
        char marker_text[16], page_text[16];
        snprintf(marker_text, sizeof(marker_text), "%d", marker);
        snprintf(page_text, sizeof(page_text), "%d", list_parts_page_size);
        s3_kv q[] = {{"uploadId", upload_id}, {"max-parts", page_text},
                     {"part-number-marker", marker_text}};
        request rq = {.op = "list parts", .method = "GET", .key = key, .query = q,
                      .n_query = marker > 0 ? 3 : 2, .max_response = XML_CAP, .idempotent = 1};
        if (perform(c, &rq, &r, err, errlen) != 0)
            goto done;
        if (r.status != 200) {
            status_err(&rq, &r, err, errlen);
            goto done;
        }
        int before = *n, truncated = 0, next = 0;
        if (s3_xml_list_parts_page(r.body.p, r.body.len, parts, n, &cap_parts, &truncated,
                                   &next, err, errlen) != 0)
            goto done;
        if (!truncated)
            break;
        if (next == 0 && *n > 0)
            next = (*parts)[*n - 1].part_number;
        if (*n == before || next <= marker) {
            set_err(err, errlen, "s3 list parts failed: pagination does not advance");
            goto done;
        }
        marker = next;
    }
    rc = 0;
done:
    response_free(&r);
    if (rc != 0) {
        free(*parts);
        *parts = NULL;
        *n = 0;
    } else if (*n == 0) {
        free(*parts);
        *parts = NULL;
    }
    return rc;
}
