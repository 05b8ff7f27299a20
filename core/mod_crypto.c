/* mod_crypto.c -- hashing, HMAC, CSPRNG, base64url and argon2id password hashing, exposed as
 * "core.crypto"; also keeps the server secret and derives per-purpose keys from it.
 * Relies on OpenSSL 3 (libcrypto) and libargon2 20171227; argon2 calls share a semaphore. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "core.h"

#define RANDOM_MAX_BYTES 1024           /* random_bytes / random_token upper bound */
#define SECRET_MIN_BYTES 32
#define SHA256_LEN       32

/* argon2id parameters (OWASP minimum: 19 MiB, t=2, p=1). Changing them makes needs_rehash
 * true for every stored hash, so users are rehashed at their next login. */
#define ARGON2_M_KIB    19456
#define ARGON2_T_COST   2
#define ARGON2_LANES    1
#define ARGON2_SALT_LEN 16
#define ARGON2_HASH_LEN 32
#define PASSWORD_MAX    4096            /* bytes; longer passwords are refused, never truncated */

/* Limits on stored hashes we agree to verify, so a corrupt row cannot make one verification
 * allocate gigabytes, spin for minutes or compare a truncated hash. */
#define PHC_MAX_LEN       512
#define PHC_MAX_M_KIB     262144        /* 256 MiB */
#define PHC_MAX_T         16
#define PHC_MAX_P         8
#define PHC_MIN_SALT_B64  11            /* 8 bytes, argon2's minimum salt */
#define PHC_MIN_HASH_B64  22            /* 16 bytes */

#define HASH_WAIT_SECONDS 10            /* how long a caller waits for an argon2 slot */
#define HASH_BUSY         1             /* not an argon2 code: those are <= 0 */

#define AS_TEXT(x)  #x
#define MACRO_TEXT(x) AS_TEXT(x)

/* The hash of 32 random bytes nobody kept: dummy_verify checks passwords against it so
 * that logins for unknown accounts cost as much as real ones. Its parameters are written
 * from the macros above, so it costs what a current hash costs whatever they become. */
static const char DUMMY_HASH[] = "$argon2id$v=19$m=" MACRO_TEXT(ARGON2_M_KIB)
                                 ",t=" MACRO_TEXT(ARGON2_T_COST) ",p=" MACRO_TEXT(ARGON2_LANES)
                                 "$WWtczoLajOfPWV4G3yLSCg$"
                                 "OAllLJAQGJs08EkmF0hyHEpt0q3qflizY3Of8yKi4Ag";

/* ---- HMAC-SHA256 ------------------------------------------------------------------------- */

/* out = HMAC-SHA256(key, a .. b). Returns 0, or -1 if OpenSSL fails (out of memory). */
static int hmac_sha256_2(const void *key, size_t key_len, const void *a, size_t a_len,
                         const void *b, size_t b_len, unsigned char out[SHA256_LEN]) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    static const unsigned char empty[1];
    size_t out_len = 0;
    int ok = 0;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx == NULL)
        goto done;
    /* An empty key is legal HMAC but EVP_MAC_init treats NULL as "keep the old key". */
    if (!EVP_MAC_init(ctx, key_len > 0 ? key : empty, key_len, params))
        goto done;
    if (!EVP_MAC_update(ctx, a, a_len) || !EVP_MAC_update(ctx, b, b_len))
        goto done;
    ok = EVP_MAC_final(ctx, out, &out_len, SHA256_LEN) && out_len == SHA256_LEN;
done:
    EVP_MAC_CTX_free(ctx);              /* both accept NULL */
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/* ---- server secret ----------------------------------------------------------------------- */

static unsigned char *server_secret;
static size_t server_secret_len;

/* Copies `len` bytes of `secret`; returns 0, or -1 when it is shorter than 32 bytes (or over
 * 2 GiB, or memory runs out), leaving any earlier secret in place. Call at startup, before
 * serving threads run: replacing the secret frees the old copy, so pointers from
 * core_server_secret() go stale. */
int core_set_server_secret(const unsigned char *secret, size_t len) {
    if (secret == NULL || len < SECRET_MIN_BYTES || len > INT32_MAX)
        return -1;
    unsigned char *copy = malloc(len);
    if (copy == NULL)
        return -1;
    memcpy(copy, secret, len);
    if (server_secret != NULL)
        OPENSSL_clear_free(server_secret, server_secret_len);
    server_secret = copy;
    server_secret_len = len;
    return 0;
}

/* The secret, owned by this file; NULL and *len = 0 before core_set_server_secret succeeded. */
const unsigned char *core_server_secret(size_t *len) {
    *len = server_secret_len;
    return server_secret;
}

/* out = HMAC-SHA256(secret, "itcloud:" .. purpose). Without a secret the key would be one
 * anyone can compute, so that (like OpenSSL failing) aborts: check core_server_secret first. */
void core_derive_key(const char *purpose, unsigned char out[32]) {
    static const char prefix[] = "itcloud:";
    if (server_secret == NULL) {
        fputs("core_derive_key: server secret not set\n", stderr);
        abort();
    }
    if (hmac_sha256_2(server_secret, server_secret_len, prefix, sizeof(prefix) - 1, purpose,
                      strlen(purpose), out) != 0) {
        fputs("core_derive_key: HMAC failed\n", stderr);
        abort();
    }
}

/* ---- argon2 semaphore -------------------------------------------------------------------- */

static pthread_mutex_t hash_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hash_cond;        /* on CLOCK_MONOTONIC, set up once by hash_cond_init */
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static int hash_limit = 2;              /* guarded by hash_lock */
static int hash_running = 0;            /* guarded by hash_lock */

static void hash_cond_init(void) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&hash_cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* Sets how many argon2 computations may run at once in this process (default 2). 0 pauses
 * hashing: callers wait their 10 s and get "busy". Negative values count as 0. */
void core_crypto_set_hash_concurrency(int max_concurrent) {
    pthread_once(&hash_once, hash_cond_init);
    pthread_mutex_lock(&hash_lock);
    hash_limit = max_concurrent > 0 ? max_concurrent : 0;
    pthread_cond_broadcast(&hash_cond);
    pthread_mutex_unlock(&hash_lock);
}

/* Waits up to HASH_WAIT_SECONDS for a slot. Returns 0 holding a slot, or -1 (none taken). */
static int hash_slot_acquire(void) {
    struct timespec deadline;
    pthread_once(&hash_once, hash_cond_init);
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += HASH_WAIT_SECONDS;
    pthread_mutex_lock(&hash_lock);
    int rc = 0;
    while (hash_running >= hash_limit && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&hash_cond, &hash_lock, &deadline);
    int got = hash_running < hash_limit;
    if (got)
        hash_running++;
    pthread_mutex_unlock(&hash_lock);
    return got ? 0 : -1;
}

static void hash_slot_release(void) {
    pthread_mutex_lock(&hash_lock);
    hash_running--;
    pthread_cond_signal(&hash_cond);
    pthread_mutex_unlock(&hash_lock);
}

/* argon2id_verify inside a slot: ARGON2_OK, ARGON2_VERIFY_MISMATCH, another argon2 error code,
 * or HASH_BUSY. `encoded` must be NUL-terminated and already pass phc_check. */
static int verify_in_slot(const char *encoded, const char *pw, size_t pw_len) {
    if (hash_slot_acquire() != 0)
        return HASH_BUSY;
    int rc = argon2id_verify(encoded, pw, pw_len);
    hash_slot_release();
    return rc;
}

/* ---- PHC strings ------------------------------------------------------------------------- */

typedef struct {
    unsigned long m, t, p;
} phc_params;

/* Reads 1-9 decimal digits at *s (before end); advances *s. Returns 0, or -1. */
static int phc_number(const char **s, const char *end, unsigned long *out) {
    const char *p = *s;
    unsigned long v = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - *s < 9)
        v = v * 10 + (unsigned long)(*p++ - '0');
    if (p == *s || (p < end && *p >= '0' && *p <= '9'))
        return -1;
    *s = p;
    *out = v;
    return 0;
}

/* Matches the literal `lit` at *s; advances *s. Returns 0, or -1. */
static int phc_literal(const char **s, const char *end, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(end - *s) < n || memcmp(*s, lit, n) != 0)
        return -1;
    *s += n;
    return 0;
}

/* Counts standard-base64 characters (argon2's salt and hash alphabet) at *s; advances *s. */
static size_t phc_b64_run(const char **s, const char *end) {
    const char *p = *s;
    while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                       (*p >= '0' && *p <= '9') || *p == '+' || *p == '/'))
        p++;
    size_t n = (size_t)(p - *s);
    *s = p;
    return n;
}

/* Checks that s is "$argon2id$v=19$m=M,t=T,p=P$<salt>$<hash>" with sane sizes, and reads
 * M, T, P. Returns 0, or -1 when malformed. argon2 itself decodes the salt and hash later. */
static int phc_check(const char *s, size_t len, phc_params *out) {
    const char *end = s + len;
    if (len > PHC_MAX_LEN)
        return -1;
    if (phc_literal(&s, end, "$argon2id$v=19$m=") || phc_number(&s, end, &out->m) ||
        phc_literal(&s, end, ",t=") || phc_number(&s, end, &out->t) ||
        phc_literal(&s, end, ",p=") || phc_number(&s, end, &out->p) ||
        phc_literal(&s, end, "$") || phc_b64_run(&s, end) < PHC_MIN_SALT_B64 ||
        phc_literal(&s, end, "$") || phc_b64_run(&s, end) < PHC_MIN_HASH_B64 || s != end)
        return -1;
    return 0;
}

/* ---- base64url and hex ------------------------------------------------------------------- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_encoded_len(size_t n) {
    static const size_t tail[3] = {0, 2, 3};
    return n / 3 * 4 + tail[n % 3];
}

/* Writes the unpadded base64url form of in[0..n) to out (b64url_encoded_len(n) bytes). */
static void b64url_encode(const unsigned char *in, size_t n, char *out) {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];
        *out++ = B64URL[v >> 18 & 63];
        *out++ = B64URL[v >> 12 & 63];
        *out++ = B64URL[v >> 6 & 63];
        *out++ = B64URL[v & 63];
    }
    if (n - i == 1) {
        *out++ = B64URL[in[i] >> 2];
        *out++ = B64URL[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)in[i] << 8 | in[i + 1];
        *out++ = B64URL[v >> 10 & 63];
        *out++ = B64URL[v >> 4 & 63];
        *out++ = B64URL[(v & 15) << 2];
    }
}

static int b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* True when s is canonical unpadded base64url: only A-Za-z0-9-_, a possible length, and zero
 * unused bits in the last character, so every decodable string re-encodes to itself. */
static int b64url_valid(const char *s, size_t len) {
    if (len % 4 == 1)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (b64url_value((unsigned char)s[i]) < 0)
            return 0;
    if (len % 4 == 2)
        return (b64url_value((unsigned char)s[len - 1]) & 15) == 0;
    if (len % 4 == 3)
        return (b64url_value((unsigned char)s[len - 1]) & 3) == 0;
    return 1;
}

/* Decodes a string that passed b64url_valid into out (len / 4 * 3 + 2 bytes suffice);
 * returns the decoded length. */
static size_t b64url_decode(const char *s, size_t len, unsigned char *out) {
    size_t n = 0;
    unsigned long acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 6 | (unsigned long)b64url_value((unsigned char)s[i])) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

/* ---- Lua functions ----------------------------------------------------------------------- */

/* Checks that argument `arg`, read as n, is a byte count in [1, RANDOM_MAX_BYTES]. */
static size_t check_byte_count(lua_State *L, int arg, lua_Integer n) {
    luaL_argcheck(L, n >= 1 && n <= RANDOM_MAX_BYTES, arg, "must be between 1 and 1024");
    return (size_t)n;
}

/* crypto.random_bytes(n) -> string of n CSPRNG bytes (1 <= n <= 1024)
 *                         | nil, "random generator failed" */
static int crypto_random_bytes(lua_State *L) {
    size_t n = check_byte_count(L, 1, luaL_checkinteger(L, 1));
    unsigned char buf[RANDOM_MAX_BYTES];
    if (RAND_bytes(buf, (int)n) != 1)
        return core_fail(L, "random generator failed");
    lua_pushlstring(L, (const char *)buf, n);
    OPENSSL_cleanse(buf, n);
    return 1;
}

/* crypto.random_token([nbytes = 32]) -> base64url (unpadded) of nbytes CSPRNG bytes
 *                                     | nil, "random generator failed" */
static int crypto_random_token(lua_State *L) {
    size_t n = check_byte_count(L, 1, luaL_optinteger(L, 1, 32));
    unsigned char buf[RANDOM_MAX_BYTES];
    char out[(RANDOM_MAX_BYTES + 2) / 3 * 4];
    if (RAND_bytes(buf, (int)n) != 1)
        return core_fail(L, "random generator failed");
    size_t out_len = b64url_encoded_len(n);
    b64url_encode(buf, n, out);
    lua_pushlstring(L, out, out_len);
    OPENSSL_cleanse(buf, n);
    OPENSSL_cleanse(out, out_len);
    return 1;
}

/* crypto.sha256(data) -> 32-byte raw digest | nil, err */
static int crypto_sha256(lua_State *L) {
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    unsigned char md[SHA256_LEN];
    if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        return core_fail(L, "sha256 failed");
    lua_pushlstring(L, (const char *)md, sizeof(md));
    return 1;
}

/* crypto.sha256_hex(data) -> 64 lowercase hex characters | nil, err */
static int crypto_sha256_hex(lua_State *L) {
    static const char hex[] = "0123456789abcdef";
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    unsigned char md[SHA256_LEN];
    char out[2 * SHA256_LEN];
    if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
        return core_fail(L, "sha256 failed");
    for (size_t i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    lua_pushlstring(L, out, sizeof(out));
    return 1;
}

/* crypto.hmac_sha256(key, data) -> 32-byte raw HMAC | nil, err */
static int crypto_hmac_sha256(lua_State *L) {
    size_t key_len, len;
    const char *key = luaL_checklstring(L, 1, &key_len);
    const char *data = luaL_checklstring(L, 2, &len);
    unsigned char mac[SHA256_LEN];
    if (hmac_sha256_2(key, key_len, data, len, "", 0, mac) != 0)
        return core_fail(L, "hmac failed");
    lua_pushlstring(L, (const char *)mac, sizeof(mac));
    return 1;
}

/* crypto.keyed_hmac(purpose, data) -> 32-byte raw HMAC-SHA256 of data under the key derived
 * from the server secret for `purpose` | nil, err. Raises when no server secret is set, or
 * when purpose is empty or holds a NUL byte. */
static int crypto_keyed_hmac(lua_State *L) {
    size_t plen, len, secret_len;
    const char *purpose = luaL_checklstring(L, 1, &plen);
    const char *data = luaL_checklstring(L, 2, &len);
    luaL_argcheck(L, plen > 0 && memchr(purpose, '\0', plen) == NULL, 1,
                  "purpose must be a non-empty string without NUL bytes");
    if (core_server_secret(&secret_len) == NULL)
        return luaL_error(L, "crypto.keyed_hmac: server secret not set");
    unsigned char key[SHA256_LEN], mac[SHA256_LEN];
    core_derive_key(purpose, key);
    int rc = hmac_sha256_2(key, sizeof(key), data, len, "", 0, mac);
    OPENSSL_cleanse(key, sizeof(key));
    if (rc != 0)
        return core_fail(L, "hmac failed");
    lua_pushlstring(L, (const char *)mac, sizeof(mac));
    return 1;
}

/* crypto.constant_time_equal(a, b) -> boolean. Strings of different lengths are unequal at
 * once (lengths are not secret); equal lengths are compared with CRYPTO_memcmp. */
static int crypto_constant_time_equal(lua_State *L) {
    size_t a_len, b_len;
    const char *a = luaL_checklstring(L, 1, &a_len);
    const char *b = luaL_checklstring(L, 2, &b_len);
    lua_pushboolean(L, a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0);
    return 1;
}

/* crypto.hex_encode(s) -> lowercase hex string, twice as long as s */
static int crypto_hex_encode(lua_State *L) {
    static const char hex[] = "0123456789abcdef";
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len <= (SIZE_MAX - 1) / 2, 1, "string too long");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, 2 * len);
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[s[i] >> 4];
        out[2 * i + 1] = hex[s[i] & 15];
    }
    luaL_pushresultsize(&b, 2 * len);
    return 1;
}

/* crypto.base64url_encode(s) -> unpadded base64url string */
static int crypto_base64url_encode(lua_State *L) {
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len <= SIZE_MAX / 4 * 3 - 3, 1, "string too long");
    size_t out_len = b64url_encoded_len(len);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, out_len);
    b64url_encode(s, len, out);
    luaL_pushresultsize(&b, out_len);
    return 1;
}

/* crypto.base64url_decode(s) -> bytes | nil, "invalid base64url". Strict: only A-Za-z0-9-_,
 * no padding, no whitespace, and zero unused bits, so a result always re-encodes to s. */
static int crypto_base64url_decode(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (!b64url_valid(s, len))
        return core_fail(L, "invalid base64url");
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len / 4 * 3 + 2);
    luaL_pushresultsize(&b, b64url_decode(s, len, out));
    return 1;
}

/* crypto.hash_password(password) -> PHC string "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
 *   | nil, "password too long" (over 4096 bytes) | nil, "busy" (no argon2 slot within 10 s)
 *   | nil, err */
static int crypto_hash_password(lua_State *L) {
    size_t len;
    const char *pw = luaL_checklstring(L, 1, &len);
    if (len > PASSWORD_MAX)
        return core_fail(L, "password too long");
    unsigned char salt[ARGON2_SALT_LEN];
    char encoded[128];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return core_fail(L, "random generator failed");
    if (hash_slot_acquire() != 0)
        return core_fail(L, "busy");
    int rc = argon2id_hash_encoded(ARGON2_T_COST, ARGON2_M_KIB, ARGON2_LANES, pw, len, salt,
                                   sizeof(salt), ARGON2_HASH_LEN, encoded, sizeof(encoded));
    hash_slot_release();
    if (rc != ARGON2_OK)
        return core_fail(L, "cannot hash password: %s", argon2_error_message(rc));
    lua_pushstring(L, encoded);
    return 1;
}

/* Pushes the result of verify_in_slot: true, false or nil, err. [-0, +1 or +2] */
static int push_verify_result(lua_State *L, int rc) {
    switch (rc) {
    case ARGON2_OK:
        lua_pushboolean(L, 1);
        return 1;
    case ARGON2_VERIFY_MISMATCH:
        lua_pushboolean(L, 0);
        return 1;
    case HASH_BUSY:
        return core_fail(L, "busy");
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
        return core_fail(L, "cannot verify password: %s", argon2_error_message(rc));
    default:
        return core_fail(L, "invalid password hash");
    }
}

/* crypto.verify_password(phc_hash, password) -> true | false
 *   | nil, "invalid password hash" (malformed, not argon2id v=19, or absurd parameters)
 *   | nil, "password too long" | nil, "busy" | nil, err */
static int crypto_verify_password(lua_State *L) {
    size_t hash_len, len;
    const char *hash = luaL_checklstring(L, 1, &hash_len);
    const char *pw = luaL_checklstring(L, 2, &len);
    phc_params p;
    if (len > PASSWORD_MAX)
        return core_fail(L, "password too long");
    if (phc_check(hash, hash_len, &p) != 0 || p.m > PHC_MAX_M_KIB || p.t > PHC_MAX_T ||
        p.p > PHC_MAX_P)
        return core_fail(L, "invalid password hash");
    return push_verify_result(L, verify_in_slot(hash, pw, len));
}

/* crypto.dummy_verify(password) -> false | nil, "busy". Costs what a real verify_password
 * costs (same parameters, same semaphore), for accounts that do not exist. Like
 * verify_password it returns at once for passwords over 4096 bytes. */
static int crypto_dummy_verify(lua_State *L) {
    size_t len;
    const char *pw = luaL_checklstring(L, 1, &len);
    if (len <= PASSWORD_MAX && verify_in_slot(DUMMY_HASH, pw, len) == HASH_BUSY)
        return core_fail(L, "busy");
    lua_pushboolean(L, 0);
    return 1;
}

/* crypto.needs_rehash(phc_hash) -> boolean: true unless the string is argon2id v=19 with the
 * current m, t and p (a malformed string also needs a new hash). */
static int crypto_needs_rehash(lua_State *L) {
    size_t len;
    const char *hash = luaL_checklstring(L, 1, &len);
    phc_params p;
    lua_pushboolean(L, phc_check(hash, len, &p) != 0 || p.m != ARGON2_M_KIB ||
                           p.t != ARGON2_T_COST || p.p != ARGON2_LANES);
    return 1;
}

static const luaL_Reg crypto_funcs[] = {
    {"random_bytes", crypto_random_bytes},
    {"random_token", crypto_random_token},
    {"sha256", crypto_sha256},
    {"sha256_hex", crypto_sha256_hex},
    {"hmac_sha256", crypto_hmac_sha256},
    {"keyed_hmac", crypto_keyed_hmac},
    {"constant_time_equal", crypto_constant_time_equal},
    {"hex_encode", crypto_hex_encode},
    {"base64url_encode", crypto_base64url_encode},
    {"base64url_decode", crypto_base64url_decode},
    {"hash_password", crypto_hash_password},
    {"verify_password", crypto_verify_password},
    {"dummy_verify", crypto_dummy_verify},
    {"needs_rehash", crypto_needs_rehash},
    {NULL, NULL},
};

/* require "core.crypto" -> the crypto table. [-0, +1] */
int luaopen_core_crypto(lua_State *L) {
    luaL_newlib(L, crypto_funcs);
    return 1;
}
