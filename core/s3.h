/* s3.h -- an S3 client in C: AWS Signature V4 (signed with OpenSSL in our own code),
 * pre-signed URLs for browsers, and server-side object calls over libcurl (transport only).
 * No Lua here; core.storage wraps it. Path-style addressing: ENDPOINT/BUCKET/KEY. */
#ifndef ITCLOUD_S3_H
#define ITCLOUD_S3_H

#include <stddef.h>

typedef struct {
    const char *endpoint;         /* e.g. http://127.0.0.1:9000 (scheme://host[:port] only) */
    const char *public_endpoint;  /* what browsers see in pre-signed URLs; NULL = endpoint */
    const char *region;           /* e.g. us-east-1 */
    const char *access_key;
    const char *secret_key;
    const char *bucket;
    long timeout_ms;              /* per attempt; <= 0 means 30000 */
    int max_retries;              /* extra attempts for idempotent calls; < 0 means 0, max 10 */
} s3_config;

/* A name/value pair: a query parameter or a header. Both are raw (unencoded) text. */
typedef struct {
    const char *name;
    const char *value;
} s3_kv;

/* What HEAD tells about an object. */
typedef struct {
    long long size;               /* Content-Length; -1 when the answer had none */
    char etag[128];               /* without the surrounding quotes */
    char content_type[128];
    long long last_modified;      /* unix seconds; 0 when absent or unparseable */
} s3_object;

/* One part of a multipart upload. */
typedef struct {
    int part_number;              /* 1..10000 */
    char etag[128];               /* quotes optional on input, never present on output */
    long long size;               /* from ListParts; ignored by complete */
} s3_part;

#define S3_MAX_KEY 1024           /* bytes, as in S3 */
#define S3_MAX_PARTS 10000
#define S3_MAX_EXPIRES 604800     /* SigV4 pre-signed URLs live at most 7 days */

/* ---- Signature V4 pieces, public so the tests can check every step. ---- */

typedef struct {
    const char *method;           /* "GET" */
    const char *path;             /* raw path starting with '/': "/bucket/a b.jpg"; each byte
                                   * outside A-Za-z0-9-_.~/ is percent-encoded once, and the path
                                   * is never normalised ('//', '.', '..' stay) -- S3 rules */
    const s3_kv *query;           /* raw names and values; sorted and encoded by the signer */
    int n_query;
    const s3_kv *headers;         /* every header to sign, host included; names in any case,
                                   * values trimmed and inner runs of spaces folded; repeated
                                   * names are joined with ',' in the order given */
    int n_headers;
    const char *payload_hash;     /* lowercase hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;         /* YYYYMMDDTHHMMSSZ */
    const char *region;
    const char *service;          /* "s3" */
    const char *access_key;
    const char *secret_key;
} s3_sign_input;

/* Percent-encodes `len` bytes of `s` (everything but A-Za-z0-9-_.~, and '/' too unless
 * keep_slash) into out. Returns the encoded length, or -1 when it does not fit in cap
 * (out always gets a terminating NUL when cap > 0). */
int s3_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap);

/* The canonical request, string to sign, signature (64 hex digits) and the whole
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header value.
 * Each writes a NUL-terminated string and returns its length, or -1 when the input is
 * invalid (missing fields, a malformed date, a header name with bad characters) or the
 * result does not fit in cap. */
int s3_sigv4_canonical_request(const s3_sign_input *in, char *out, size_t cap);
int s3_sigv4_string_to_sign(const s3_sign_input *in, char *out, size_t cap);
int s3_sigv4_signature(const s3_sign_input *in, char out[65]);
int s3_sigv4_authorization(const s3_sign_input *in, char *out, size_t cap);

/* Lowercase hex SHA-256 of len bytes. */
void s3_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- Pre-signed URLs (query authentication, payload UNSIGNED-PAYLOAD). ---- */

/* A pre-signed URL for METHOD on KEY in c->bucket, on c->public_endpoint (or c->endpoint).
 * extra_query (e.g. response-content-disposition, or partNumber + uploadId for UploadPart)
 * is signed and appended; signed_headers (e.g. content-type, content-length) must then be
 * sent by the client with exactly these values; host is always signed. expires_seconds is
 * 1..604800; now_unix is the signing time. Returns a malloc'd URL the caller frees, or NULL
 * on invalid input (empty or over-long key, bad endpoint, bad expiry, missing credentials)
 * or out of memory. */
char *s3_presign_url(const s3_config *c, const char *method, const char *key,
                     const s3_kv *extra_query, int n_query, const s3_kv *signed_headers,
                     int n_headers, int expires_seconds, long now_unix);

/* The same for an explicit base URL (scheme://host[:port]) and raw path, so virtual-host
 * style URLs can be signed too (the AWS documentation example is one). */
char *s3_presign_path(const s3_config *c, const char *base_url, const char *method,
                      const char *path, const s3_kv *extra_query, int n_query,
                      const s3_kv *signed_headers, int n_headers, int expires_seconds,
                      long now_unix);

/* ---- Server-side calls. ----
 * Each signs its request (x-amz-content-sha256 included), talks to c->endpoint through
 * libcurl (http/https only, no redirects, timeouts, capped responses) and returns 0 on
 * success or -1 with a short lowercase message in err ("s3 put failed: 503 SlowDown").
 * HEAD, GET, PUT, DELETE, list parts and abort are retried with jittered exponential
 * backoff on connection errors and 500/502/503/504; create, complete and copy are not.
 * They are safe to call from several threads at once (one curl handle per call). */

/* Calls curl_global_init once for the process; call it before starting threads.
 * Returns 0, or -1 when libcurl cannot initialise. */
int s3_global_init(void);

/* HEAD KEY: 0 and *out filled, 1 when the object is absent (404), -1 on failure. */
int s3_head(const s3_config *c, const char *key, s3_object *out, char *err, size_t errlen);

/* GET bytes offset..offset+length-1 of KEY. On 0, *data is a malloc'd buffer the caller
 * frees (NUL-terminated for convenience, not counted in *len) and *len <= length. A server
 * that ignores Range is accepted only for offset 0 (the body is cut at length). */
int s3_get_range(const s3_config *c, const char *key, long long offset, long long length,
                 char **data, size_t *len, char *err, size_t errlen);

/* PUT KEY with len bytes of data; content_type may be NULL. */
int s3_put(const s3_config *c, const char *key, const void *data, size_t len,
           const char *content_type, char *err, size_t errlen);

/* PUT KEY from the file at path (streamed; its SHA-256 is computed first). */
int s3_put_file(const s3_config *c, const char *key, const char *path,
                const char *content_type, char *err, size_t errlen);

/* DELETE KEY; an absent object (404) counts as deleted. */
int s3_delete(const s3_config *c, const char *key, char *err, size_t errlen);

/* Server-side copy within the bucket (metadata and content type copied). */
int s3_copy(const s3_config *c, const char *src_key, const char *dst_key, char *err,
            size_t errlen);

/* CreateMultipartUpload: upload_id gets the id (NUL-terminated). */
int s3_multipart_create(const s3_config *c, const char *key, const char *content_type,
                        char upload_id[256], char *err, size_t errlen);

/* CompleteMultipartUpload with n parts in ascending part order; etag gets the final ETag
 * without quotes ("<hex>-N"). ETags must be 1..126 characters of A-Za-z0-9-, quoted or not. */
int s3_multipart_complete(const s3_config *c, const char *key, const char *upload_id,
                          const s3_part *parts, int n, char etag[128], char *err,
                          size_t errlen);

/* AbortMultipartUpload; an upload that is already gone (404) counts as aborted. */
int s3_multipart_abort(const s3_config *c, const char *key, const char *upload_id, char *err,
                       size_t errlen);

/* ListParts, following part-number-marker pages. On 0, *parts is a malloc'd array of *n
 * parts the caller frees (NULL when *n is 0). */
int s3_list_parts(const s3_config *c, const char *key, const char *upload_id, s3_part **parts,
                  int *n, char *err, size_t errlen);

/* Parts per ListParts page (1..1000, default 1000), so tests can make a real server page. */
void s3_set_list_parts_page_size(int n);

/* ---- Small XML answers, parsed by hand with bounds checks (public for the tests). ---- */

/* Copies the decoded text of the first <tag>...</tag> at or after doc[0] within len bytes
 * into out. Returns the decoded length, or -1 when absent, malformed or longer than cap-1. */
int s3_xml_text(const char *doc, size_t len, const char *tag, char *out, size_t cap);

/* <Error><Code>X</Code>: copies X (letters, digits, '.', '-', '_' only) into out; 0 or -1. */
int s3_xml_error_code(const char *doc, size_t len, char *out, size_t cap);

/* Parses one ListPartsResult page: appends its parts to *parts (grown with realloc; *n and
 * *cap_parts updated, at most S3_MAX_PARTS in all), sets *truncated and *next_marker.
 * Returns 0, or -1 with a message in err. */
int s3_xml_list_parts_page(const char *doc, size_t len, s3_part **parts, int *n,
                           int *cap_parts, int *truncated, int *next_marker, char *err,
                           size_t errlen);

#endif
