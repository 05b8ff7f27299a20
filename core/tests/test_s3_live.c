/* test_s3_live.c -- the S3 client end to end against a real S3-compatible server (Swift with
 * s3api from scripts/testbed-swift). Skipped unless S3_ENDPOINT_URL, S3_REGION,
 * S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and MEDIA_BUCKET are set:
 *   eval "$(scripts/testbed-swift start /tmp/swift 9100)"; build/tests/test_s3_live */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../s3.h"
#include "harness.h"

#define MIB (1024 * 1024)

static s3_config cfg_s3;
static char prefix[128];
static char err[256];

static const char *key_of(const char *name) {
    static char keys[8][512];
    static int next;
    char *k = keys[next++ % 8];
    snprintf(k, 512, "%s%s", prefix, name);
    return k;
}

/* ---- a plain libcurl client, standing in for the browser ---- */

typedef struct {
    char *body;
    size_t len;
    char etag[128];
    char disposition[256];
} http_answer;

static size_t collect(char *p, size_t s, size_t n, void *ud) {
    http_answer *a = ud;
    char *nb = realloc(a->body, a->len + s * n + 1);
    if (nb == NULL)
        return 0;
    a->body = nb;
    memcpy(a->body + a->len, p, s * n);
    a->len += s * n;
    a->body[a->len] = '\0';
    return s * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' '))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, cap, "%.*s", (int)vl, v);
}

static size_t on_hdr(char *p, size_t s, size_t n, void *ud) {
    http_answer *a = ud;
    header_value(p, s * n, "etag", a->etag, sizeof(a->etag));
    header_value(p, s * n, "content-disposition", a->disposition, sizeof(a->disposition));
    return s * n;
}

typedef struct {
    const char *data;
    size_t len, off;
} reader;

static size_t feed(char *buf, size_t s, size_t n, void *ud) {
    reader *r = ud;
    size_t k = r->len - r->off < s * n ? r->len - r->off : s * n;
    memcpy(buf, r->data + r->off, k);
    r->off += k;
    return k;
}

/* method PUT sends data with the given content type (NULL = none); returns the status. */
static long http(const char *method, const char *url, const char *content_type,
                 const char *data, size_t len, http_answer *a) {
    memset(a, 0, sizeof(*a));
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
    char ct[256];
    reader r = {data, len, 0};
    if (content_type) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        hl = curl_slist_append(hl, ct);
    } else if (!strcmp(method, "PUT")) {
        hl = curl_slist_append(hl, "Content-Type:");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (!strcmp(method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, feed);
        curl_easy_setopt(h, CURLOPT_READDATA, &r);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    long status = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return status;
}

/* Prints the <Code> of an error answer as a TAP comment (what the server said). */
static void note_code(const char *what, long status, const http_answer *a) {
    const char *c = a->body ? strstr(a->body, "<Code>") : NULL;
    const char *e = c ? strstr(c, "</Code>") : NULL;
    printf("#   %s: %ld %.*s\n", what, status, (c && e) ? (int)(e - c - 6) : 0,
           (c && e) ? c + 6 : "");
}

static void md5_hex(const void *data, size_t len, char out[33]) {
    unsigned char md[16];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void strip_quotes(char *s) {
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
}

/* ---- objects ---- */

static void check_objects(void) {
    static const char hello[] = "hello world";
    const char *a = key_of("a.txt"), *b = key_of("b.txt");
    s3_object o;
    char *data = NULL;
    size_t len = 0;

    CHECK(s3_put(&cfg_s3, a, hello, 11, "text/plain", err, sizeof(err)) == 0, "put a.txt");
    if (err[0])
        printf("#   %s\n", err);
    int rc = s3_head(&cfg_s3, a, &o, err, sizeof(err));
    CHECK(rc == 0 && o.size == 11 && !strcmp(o.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3") &&
              !strncmp(o.content_type, "text/plain", 10) && o.last_modified > 1700000000,
          "head: size, md5 etag, content type, last modified");
    rc = s3_get_range(&cfg_s3, a, 0, 5, &data, &len, err, sizeof(err));
    CHECK(rc == 0 && len == 5 && !memcmp(data, "hello", 5), "get range 0..4");
    free(data);
    rc = s3_get_range(&cfg_s3, a, 6, 100, &data, &len, err, sizeof(err));
    CHECK(rc == 0 && len == 5 && !memcmp(data, "world", 5), "get range past the end is cut");
    free(data);
    rc = s3_get_range(&cfg_s3, a, 100, 5, &data, &len, err, sizeof(err));
    CHECK(rc == -1 && !strcmp(err, "s3 get failed: 416 InvalidRange"),
          "get range starting past the end: 416 InvalidRange");
    if (rc == -1)
        printf("#   %s\n", err);

    CHECK(s3_copy(&cfg_s3, a, b, err, sizeof(err)) == 0, "copy a.txt to b.txt");
    rc = s3_head(&cfg_s3, b, &o, err, sizeof(err));
    CHECK(rc == 0 && o.size == 11 && !strcmp(o.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3") &&
              !strncmp(o.content_type, "text/plain", 10),
          "the copy has the same bytes and content type");

    CHECK(s3_delete(&cfg_s3, a, err, sizeof(err)) == 0, "delete a.txt");
    CHECK(s3_head(&cfg_s3, a, &o, err, sizeof(err)) == 1, "head after delete: absent (404)");
    CHECK(s3_delete(&cfg_s3, a, err, sizeof(err)) == 0, "delete again: 404 counts as done");
    CHECK(s3_head(&cfg_s3, key_of("never-written"), &o, err, sizeof(err)) == 1,
          "head of a key never written: absent");
    rc = s3_get_range(&cfg_s3, key_of("never-written"), 0, 10, &data, &len, err, sizeof(err));
    CHECK(rc == -1 && !strcmp(err, "s3 get failed: 404 NoSuchKey"), "get of a missing key");
    rc = s3_copy(&cfg_s3, key_of("never-written"), key_of("c"), err, sizeof(err));
    CHECK(rc == -1 && !strncmp(err, "s3 copy failed: 404", 19), "copy of a missing key");
    if (rc == -1)
        printf("#   %s\n", err);
    CHECK(s3_delete(&cfg_s3, b, err, sizeof(err)) == 0, "delete b.txt");

    /* A file streamed from disk (hashed first, then sent). */
    char path[] = "/tmp/itcloud-s3-live-XXXXXX";
    int fd = mkstemp(path);
    size_t flen = 3 * MIB + 17;
    char *fdata = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        fdata[i] = (char)(i % 251);
    int wrote = fd >= 0 && write(fd, fdata, flen) == (ssize_t)flen;
    if (fd >= 0)
        close(fd);
    char fmd5[33];
    md5_hex(fdata, flen, fmd5);
    rc = wrote ? s3_put_file(&cfg_s3, key_of("file.bin"), path, "application/octet-stream", err,
                             sizeof(err))
               : -1;
    CHECK(rc == 0 && s3_head(&cfg_s3, key_of("file.bin"), &o, err, sizeof(err)) == 0 &&
              o.size == (long long)flen && !strcmp(o.etag, fmd5),
          "put_file: 3 MiB from disk, size and md5 etag match");
    if (rc != 0)
        printf("#   %s\n", err);
    s3_delete(&cfg_s3, key_of("file.bin"), err, sizeof(err));
    unlink(path);
    free(fdata);
    rc = s3_put_file(&cfg_s3, key_of("x"), "/nonexistent/file", NULL, err, sizeof(err));
    CHECK(rc == -1 && !strncmp(err, "s3 put failed: cannot open file", 31),
          "put_file: a missing file");
    rc = s3_put_file(&cfg_s3, key_of("x"), "/tmp", NULL, err, sizeof(err));
    CHECK(rc == -1 && !strcmp(err, "s3 put failed: not a regular file"),
          "put_file: a directory is refused");

    /* Keys the signer must encode exactly as the server decodes them. */
    static const char *const tricky[] = {"sp ace+plus%25pct~tilde", "uni/\xc3\xa9\xf0\x9f\x98\x80",
                                         "q?hash#amp&eq=semi;", "paren(1)[2]{3}!*'",
                                         "a//double", "dot/./seg", "dots/../seg"};
    for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
        char name[160];
        const char *k = key_of(tricky[i]);
        int put = s3_put(&cfg_s3, k, "x", 1, NULL, err, sizeof(err));
        int head = s3_head(&cfg_s3, k, &o, err, sizeof(err));
        int del = s3_delete(&cfg_s3, k, err, sizeof(err));
        int gone = s3_head(&cfg_s3, k, &o, err, sizeof(err));
        snprintf(name, sizeof(name), "key \"%s\": put, head, delete", tricky[i]);
        CHECK(put == 0 && head == 0 && del == 0 && gone == 1, name);
        if (!(put == 0 && head == 0 && del == 0 && gone == 1))
            printf("#   put %d head %d delete %d gone %d: %s\n", put, head, del, gone, err);
    }

    /* The wrong secret is refused by the server, with S3's code. */
    s3_config bad = cfg_s3;
    bad.secret_key = "not-the-secret";
    bad.max_retries = 0;
    rc = s3_put(&bad, key_of("bad"), "x", 1, NULL, err, sizeof(err));
    CHECK(rc == -1 && !strcmp(err, "s3 put failed: 403 SignatureDoesNotMatch"),
          "a wrong secret: 403 SignatureDoesNotMatch");
    if (rc == -1)
        printf("#   %s\n", err);
}

/* ---- pre-signed URLs, used the way a browser would ---- */

static void check_presigned(void) {
    const char *k = key_of("staging/photo.jpg");
    static char body[1000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)(i * 31 + 7);
    char len_text[16];
    snprintf(len_text, sizeof(len_text), "%zu", sizeof(body));
    s3_kv signed_headers[] = {{"content-type", "image/jpeg"}, {"content-length", len_text}};
    long now = (long)time(NULL);
    http_answer a;

    char *url = s3_presign_url(&cfg_s3, "PUT", k, NULL, 0, signed_headers, 2, 300, now);
    CHECK(url != NULL, "presign a PUT with content-type and content-length");
    if (url == NULL)
        return;
    long st = http("PUT", url, "image/png", body, sizeof(body), &a);
    CHECK(st == 403, "presigned PUT with another content type: 403");
    note_code("other content type", st, &a);
    free(a.body);
    st = http("PUT", url, "image/jpeg", body, sizeof(body) - 1, &a);
    CHECK(st == 403, "presigned PUT with another content length: 403");
    note_code("other content length", st, &a);
    free(a.body);
    st = http("PUT", url, NULL, body, sizeof(body), &a);
    CHECK(st == 403, "presigned PUT without the content type: 403");
    note_code("no content type", st, &a);
    free(a.body);
    char *tampered = strdup(url);
    char *last = tampered + strlen(tampered) - 1;
    *last = *last == '0' ? '1' : '0';
    st = http("PUT", tampered, "image/jpeg", body, sizeof(body), &a);
    CHECK(st == 403, "presigned PUT with a tampered signature: 403");
    note_code("tampered signature", st, &a);
    free(a.body);
    free(tampered);
    st = http("PUT", url, "image/jpeg", body, sizeof(body), &a);
    char md5[33];
    md5_hex(body, sizeof(body), md5);
    strip_quotes(a.etag);
    CHECK(st == 200 && !strcmp(a.etag, md5), "presigned PUT with the signed headers: 200, etag");
    free(a.body);
    free(url);

    s3_object o;
    CHECK(s3_head(&cfg_s3, k, &o, err, sizeof(err)) == 0 && o.size == (long long)sizeof(body) &&
              !strcmp(o.content_type, "image/jpeg"),
          "the uploaded object has the signed type and size");

    url = s3_presign_url(&cfg_s3, "PUT", k, NULL, 0, signed_headers, 2, 60, now - 3600);
    st = http("PUT", url, "image/jpeg", body, sizeof(body), &a);
    CHECK(st == 403, "an expired presigned PUT: 403");
    note_code("expired", st, &a);
    free(a.body);
    free(url);

    s3_kv resp[] = {{"response-content-disposition", "attachment; filename=\"p h.jpg\""},
                    {"response-content-type", "application/octet-stream"}};
    url = s3_presign_url(&cfg_s3, "GET", k, resp, 2, NULL, 0, 300, now);
    st = http("GET", url, NULL, NULL, 0, &a);
    CHECK(st == 200 && a.len == sizeof(body) && !memcmp(a.body, body, sizeof(body)) &&
              !strcmp(a.disposition, "attachment; filename=\"p h.jpg\""),
          "presigned GET with response-content-disposition");
    free(a.body);
    free(url);

    s3_config other_region = cfg_s3;
    other_region.region = "eu-west-1";
    url = s3_presign_url(&other_region, "GET", k, NULL, 0, NULL, 0, 300, now);
    st = http("GET", url, NULL, NULL, 0, &a);
    CHECK(st == 400 || st == 403, "a URL signed for another region is refused");
    note_code("wrong region", st, &a);
    free(a.body);
    free(url);

    url = s3_presign_url(&cfg_s3, "GET", key_of("staging/nothing.jpg"), NULL, 0, NULL, 0, 300,
                         now);
    st = http("GET", url, NULL, NULL, 0, &a);
    CHECK(st == 404 && a.body && strstr(a.body, "<Code>NoSuchKey</Code>"),
          "presigned GET of a missing key: 404 NoSuchKey");
    free(a.body);
    free(url);
    CHECK(s3_delete(&cfg_s3, k, err, sizeof(err)) == 0, "delete the presigned upload");
}

/* ---- multipart ---- */

/* Uploads one part through a pre-signed UploadPart URL; fills etag. */
static long upload_part(const char *key, const char *upload_id, int number, const char *data,
                        size_t len, char etag[128]) {
    char num[16], len_text[24];
    snprintf(num, sizeof(num), "%d", number);
    snprintf(len_text, sizeof(len_text), "%zu", len);
    s3_kv q[] = {{"partNumber", num}, {"uploadId", upload_id}};
    s3_kv h[] = {{"content-length", len_text}};
    char *url = s3_presign_url(&cfg_s3, "PUT", key, q, 2, h, 1, 900, (long)time(NULL));
    http_answer a;
    long st = url ? http("PUT", url, NULL, data, len, &a) : 0;
    if (url) {
        snprintf(etag, 128, "%s", a.etag);
        free(a.body);
    }
    free(url);
    return st;
}

static void check_multipart(void) {
    const char *k = key_of("video.mp4");
    char upload_id[256], etag[128];
    size_t big = 5 * MIB, small = 1024;
    char *data = malloc(big + small);
    for (size_t i = 0; i < big + small; i++)
        data[i] = (char)((i * 2654435761u) >> 13);

    int rc = s3_multipart_create(&cfg_s3, k, "video/mp4", upload_id, err, sizeof(err));
    CHECK(rc == 0 && upload_id[0] != '\0', "create multipart upload");
    if (rc != 0) {
        printf("#   %s\n", err);
        free(data);
        return;
    }
    s3_part parts[2] = {{1, "", 0}, {2, "", 0}};
    long st1 = upload_part(k, upload_id, 1, data, big, parts[0].etag);
    long st2 = upload_part(k, upload_id, 2, data + big, small, parts[1].etag);
    CHECK(st1 == 200 && st2 == 200 && parts[0].etag[0] && parts[1].etag[0],
          "two presigned UploadPart PUTs (5 MiB + 1 KiB), etags readable");

    s3_part *listed = NULL;
    int n = 0;
    rc = s3_list_parts(&cfg_s3, k, upload_id, &listed, &n, err, sizeof(err));
    char e1[128], e2[128];
    snprintf(e1, sizeof(e1), "%s", parts[0].etag);
    snprintf(e2, sizeof(e2), "%s", parts[1].etag);
    strip_quotes(e1);
    strip_quotes(e2);
    CHECK(rc == 0 && n == 2 && listed[0].part_number == 1 && listed[0].size == (long long)big &&
              listed[1].size == (long long)small && !strcmp(listed[0].etag, e1) &&
              !strcmp(listed[1].etag, e2),
          "list parts: both parts with sizes and the etags the client saw");
    free(listed);

    s3_part wrong[2] = {parts[0], {2, "0123456789abcdef0123456789abcdef", 0}};
    rc = s3_multipart_complete(&cfg_s3, k, upload_id, wrong, 2, etag, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, "InvalidPart") != NULL,
          "complete with a wrong etag: InvalidPart");
    if (rc == -1)
        printf("#   %s\n", err);

    rc = s3_multipart_complete(&cfg_s3, k, upload_id, parts, 2, etag, err, sizeof(err));
    size_t elen = strlen(etag);
    CHECK(rc == 0 && elen > 2 && !strcmp(etag + elen - 2, "-2"), "complete: etag ends in -2");
    if (rc != 0)
        printf("#   %s\n", err);
    s3_object o;
    rc = s3_head(&cfg_s3, k, &o, err, sizeof(err));
    CHECK(rc == 0 && o.size == (long long)(big + small) && !strcmp(o.etag, etag) &&
              !strcmp(o.content_type, "video/mp4"),
          "head of the completed object: size, etag, content type");
    char *got = NULL;
    size_t len = 0;
    rc = s3_get_range(&cfg_s3, k, (long long)big - 8, 16, &got, &len, err, sizeof(err));
    CHECK(rc == 0 && len == 16 && !memcmp(got, data + big - 8, 16),
          "a range across the part boundary");
    free(got);
    s3_delete(&cfg_s3, k, err, sizeof(err));

    /* Parts under 5 MiB (except the last) are refused at completion. */
    const char *k2 = key_of("small-parts.bin");
    rc = s3_multipart_create(&cfg_s3, k2, NULL, upload_id, err, sizeof(err));
    s3_part tiny[2] = {{1, "", 0}, {2, "", 0}};
    upload_part(k2, upload_id, 1, data, small, tiny[0].etag);
    upload_part(k2, upload_id, 2, data, small, tiny[1].etag);
    rc = s3_multipart_complete(&cfg_s3, k2, upload_id, tiny, 2, etag, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, "EntityTooSmall") != NULL,
          "complete with a 1 KiB first part: EntityTooSmall");
    if (rc == -1)
        printf("#   %s\n", err);

    /* ListParts paging against the server: a third part, pages of two. */
    s3_part third = {3, "", 0};
    upload_part(k2, upload_id, 3, data, 7, third.etag);
    s3_set_list_parts_page_size(2);
    rc = s3_list_parts(&cfg_s3, k2, upload_id, &listed, &n, err, sizeof(err));
    s3_set_list_parts_page_size(1000);
    CHECK(rc == 0 && n == 3 && listed[0].part_number == 1 && listed[2].part_number == 3 &&
              listed[2].size == 7,
          "list parts in pages of two: all three parts");
    if (rc != 0)
        printf("#   %s\n", err);
    free(listed);

    /* Abort, then the upload is gone. */
    rc = s3_multipart_abort(&cfg_s3, k2, upload_id, err, sizeof(err));
    CHECK(rc == 0, "abort the upload");
    rc = s3_list_parts(&cfg_s3, k2, upload_id, &listed, &n, err, sizeof(err));
    CHECK(rc == -1 && !strcmp(err, "s3 list parts failed: 404 NoSuchUpload"),
          "list parts after abort: 404 NoSuchUpload");
    CHECK(s3_multipart_abort(&cfg_s3, k2, upload_id, err, sizeof(err)) == 0,
          "abort again: already gone counts as aborted");
    free(data);
}

int main(void) {
    (void)run_lua;
    (void)harness_state;
    const char *endpoint = getenv("S3_ENDPOINT_URL");
    if (!endpoint || !*endpoint || !getenv("S3_REGION") || !getenv("S3_ACCESS_KEY_ID") ||
        !getenv("S3_SECRET_ACCESS_KEY") || !getenv("MEDIA_BUCKET")) {
        printf("ok 1 - # skip live S3 tests (set S3_ENDPOINT_URL, S3_REGION, S3_ACCESS_KEY_ID, "
               "S3_SECRET_ACCESS_KEY, MEDIA_BUCKET; see scripts/testbed-swift)\n1..1\n");
        return 0;
    }
    cfg_s3 = (s3_config){.endpoint = endpoint, .region = getenv("S3_REGION"),
                         .access_key = getenv("S3_ACCESS_KEY_ID"),
                         .secret_key = getenv("S3_SECRET_ACCESS_KEY"),
                         .bucket = getenv("MEDIA_BUCKET"), .timeout_ms = 30000,
                         .max_retries = 2};
    snprintf(prefix, sizeof(prefix), "itcloud-live/%ld-%d/", (long)time(NULL), (int)getpid());
    CHECK(s3_global_init() == 0, "libcurl initialised");
    check_objects();
    check_presigned();
    check_multipart();
    curl_global_cleanup();
    return harness_done();
}
