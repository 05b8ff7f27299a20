/* test_crypto.c -- core.crypto through a real lua_State: the server secret and derived keys,
 * digests and HMAC against published vectors, randomness, strict base64url, and argon2id
 * hashing with its semaphore, failure paths included. */
#include <pthread.h>
#include <time.h>

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs `code` and returns how long it took; *ok gets run_lua's result. */
static double timed_lua(lua_State *L, const char *code, int *ok) {
    double start = seconds_now();
    *ok = run_lua(L, code);
    return seconds_now() - start;
}

static void set_global_bytes(lua_State *L, const char *name, const void *bytes, size_t len) {
    lua_pushlstring(L, bytes, len);
    lua_setglobal(L, name);
}

/* A thread with its own state running one chunk, for the semaphore checks. */
typedef struct {
    const char *code;
    int ok;
    double elapsed;
} lua_job;

static void *run_job(void *arg) {
    lua_job *job = arg;
    lua_State *L = harness_state();
    job->elapsed = timed_lua(L, job->code, &job->ok);
    lua_close(L);
    return NULL;
}

static void check_secret_and_keys(lua_State *L) {
    size_t len = 99;
    CHECK(core_server_secret(&len) == NULL && len == 0, "no server secret before one is set");
    CHECK(run_lua(L, "local ok, err = pcall(core.crypto.keyed_hmac, 'cursor', 'x')\n"
                     "return not ok and err:find('server secret not set', 1, true) ~= nil"),
          "keyed_hmac raises without a server secret");

    unsigned char secret[40];
    for (size_t i = 0; i < sizeof(secret); i++)
        secret[i] = (unsigned char)(i * 7 + 1);
    CHECK(core_set_server_secret(NULL, 32) == -1, "set_server_secret refuses NULL");
    CHECK(core_set_server_secret(secret, 31) == -1, "set_server_secret refuses 31 bytes");
    CHECK(core_server_secret(&len) == NULL, "a refused secret is not kept");
    CHECK(core_set_server_secret(secret, 32) == 0, "set_server_secret takes 32 bytes");
    CHECK(core_set_server_secret(secret, sizeof(secret)) == 0, "and replaces it with 40");

    unsigned char expected[32], derived[32], other[32];
    unsigned int out_len = 0;
    static const char msg[] = "itcloud:cursor";
    HMAC(EVP_sha256(), secret, sizeof(secret), (const unsigned char *)msg, sizeof(msg) - 1,
         expected, &out_len);
    secret[0] ^= 0xff;                  /* the core must have its own copy */
    const unsigned char *kept = core_server_secret(&len);
    CHECK(kept != NULL && len == sizeof(secret) && kept[1] == secret[1] && kept[0] != secret[0],
          "server_secret returns a copy of the bytes");
    core_derive_key("cursor", derived);
    CHECK(memcmp(derived, expected, 32) == 0,
          "derive_key = HMAC-SHA256(secret, \"itcloud:\" .. purpose)");
    core_derive_key("share", other);
    CHECK(memcmp(derived, other, 32) != 0, "derive_key differs per purpose");

    unsigned char mac[32];
    HMAC(EVP_sha256(), derived, 32, (const unsigned char *)"payload", 7, mac, &out_len);
    set_global_bytes(L, "EXPECTED", mac, sizeof(mac));
    CHECK(run_lua(L, "return core.crypto.keyed_hmac('cursor', 'payload') == EXPECTED"),
          "keyed_hmac = HMAC-SHA256(derive_key(purpose), data)");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local a, b = c.keyed_hmac('cursor', 'x'), c.keyed_hmac('share', 'x')\n"
                     "return #a == 32 and a ~= b and a == c.keyed_hmac('cursor', 'x')\n"
                     "  and a ~= c.keyed_hmac('cursor', 'y')"),
          "keyed_hmac is deterministic and differs per purpose and per data");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "return not pcall(c.keyed_hmac, '', 'x')\n"
                     "  and not pcall(c.keyed_hmac, 'cur\\0sor', 'x')\n"
                     "  and not pcall(c.keyed_hmac, 'cursor', {})\n"
                     "  and not pcall(c.keyed_hmac, nil, 'x')"),
          "keyed_hmac raises on an empty or NUL-holding purpose and on bad types");
}

static void check_digests(lua_State *L) {
    CHECK(run_lua(L, "return core.crypto.sha256_hex('abc') == "
                     "'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'"),
          "sha256_hex('abc') matches FIPS 180-2");
    CHECK(run_lua(L, "return core.crypto.sha256_hex('') == "
                     "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'"),
          "sha256_hex('') matches");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local d = c.sha256('a\\0b')\n"
                     "return #d == 32 and c.hex_encode(d) == c.sha256_hex('a\\0b')"),
          "sha256 is raw 32 bytes, binary-safe, and agrees with sha256_hex");
    CHECK(run_lua(L, "local h = core.crypto.hmac_sha256(string.rep('\\11', 20), 'Hi There')\n"
                     "return core.crypto.hex_encode(h) == "
                     "'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'"),
          "hmac_sha256 matches RFC 4231 case 1");
    CHECK(run_lua(L, "local h = core.crypto.hmac_sha256('Jefe', 'what do ya want for nothing?')\n"
                     "return core.crypto.hex_encode(h) == "
                     "'5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'"),
          "hmac_sha256 matches RFC 4231 case 2");
    CHECK(run_lua(L, "return core.crypto.hex_encode(core.crypto.hmac_sha256('', '')) == "
                     "'b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad'"),
          "hmac_sha256 accepts an empty key");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "return not pcall(c.sha256) and not pcall(c.sha256_hex, {})\n"
                     "  and not pcall(c.hmac_sha256, 'k') and not pcall(c.hex_encode, true)"),
          "digest functions raise on wrong argument types");
    CHECK(run_lua(L, "return core.crypto.hex_encode('\\0\\1\\127\\128\\255') == '00017f80ff'"
                     " and core.crypto.hex_encode('') == ''"),
          "hex_encode is lowercase and handles every byte");
}

static void check_random(lua_State *L) {
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local a, b = c.random_bytes(16), c.random_bytes(16)\n"
                     "return #a == 16 and #b == 16 and a ~= b\n"
                     "  and #c.random_bytes(1) == 1 and #c.random_bytes(1024) == 1024"),
          "random_bytes returns n fresh bytes for 1 <= n <= 1024");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "for _, n in ipairs({0, -1, 1025, 1.5}) do\n"
                     "  if pcall(c.random_bytes, n) then return false end\n"
                     "end\n"
                     "return not pcall(c.random_bytes) and not pcall(c.random_bytes, 'x')"),
          "random_bytes raises outside 1..1024 and on non-integers");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local t, u = c.random_token(), c.random_token()\n"
                     "return #t == 43 and t:match('^[A-Za-z0-9_-]+$') ~= nil and t ~= u\n"
                     "  and #c.base64url_decode(t) == 32 and #c.random_token(1) == 2\n"
                     "  and #c.random_token(1024) == 1366"),
          "random_token is unpadded base64url of 32 bytes by default");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "return not pcall(c.random_token, 0) and not pcall(c.random_token, 1025)\n"
                     "  and not pcall(c.random_token, 'x')"),
          "random_token raises on a bad size");
}

static void check_compare_and_base64(lua_State *L) {
    CHECK(run_lua(L, "local eq = core.crypto.constant_time_equal\n"
                     "return eq('abc', 'abc') == true and eq('abc', 'abd') == false\n"
                     "  and eq('abc', 'abcd') == false and eq('', '') == true\n"
                     "  and eq('a\\0b', 'a\\0c') == false and eq('', 'x') == false"),
          "constant_time_equal compares content and length");
    CHECK(run_lua(L, "local eq = core.crypto.constant_time_equal\n"
                     "return not pcall(eq, 'a') and not pcall(eq, 'a', {}) and not pcall(eq)"),
          "constant_time_equal raises on wrong types");
    CHECK(run_lua(L, "local e, d = core.crypto.base64url_encode, core.crypto.base64url_decode\n"
                     "local v = {[''] = '', f = 'Zg', fo = 'Zm8', foo = 'Zm9v', foob = 'Zm9vYg',\n"
                     "  fooba = 'Zm9vYmE', foobar = 'Zm9vYmFy', ['\\251\\255\\254'] = '-__-'}\n"
                     "for plain, enc in pairs(v) do\n"
                     "  if e(plain) ~= enc or d(enc) ~= plain then return false end\n"
                     "end\n"
                     "return true"),
          "base64url matches the RFC 4648 vectors, url alphabet, no padding");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local all = {}\n"
                     "for i = 0, 255 do all[#all + 1] = string.char(i) end\n"
                     "all = table.concat(all)\n"
                     "for n = 0, 64 do\n"
                     "  local s = all:sub(1, n) .. (n > 0 and c.random_bytes(n) or '')\n"
                     "  if c.base64url_decode(c.base64url_encode(s)) ~= s then return false end\n"
                     "end\n"
                     "return c.base64url_decode(c.base64url_encode(all)) == all"),
          "base64url round-trips every byte value and length");
    CHECK(run_lua(L, "local d = core.crypto.base64url_decode\n"
                     "local bad = {'Zg==', 'Zg=', 'Z', 'Zm9vY', 'Zm9v!', 'Zm+v', 'Zm/v', ' Zm9v',\n"
                     "  'Zm9v\\n', 'Zm\\0v', 'Zm9v.', 'Zh', 'Zm9', 'Zm9vYh', '\\195\\169'}\n"
                     "for _, s in ipairs(bad) do\n"
                     "  local r, err = d(s)\n"
                     "  if r ~= nil or err ~= 'invalid base64url' then return false end\n"
                     "end\n"
                     "return d('Zm8') == 'fo'"),
          "base64url_decode rejects padding, other alphabets, stray bytes, bad lengths "
          "and non-canonical last characters");
    CHECK(run_lua(L, "return not pcall(core.crypto.base64url_decode, {})\n"
                     "  and not pcall(core.crypto.base64url_encode)"),
          "base64url functions raise on wrong types");
}

static void check_passwords(lua_State *L) {
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "H = assert(c.hash_password('correct horse'))\n"
                     "local h2 = assert(c.hash_password('correct horse'))\n"
                     "return H:match('^%$argon2id%$v=19%$m=19456,t=2,p=1%$[A-Za-z0-9+/]+'\n"
                     "  .. '%$[A-Za-z0-9+/]+$') ~= nil and H ~= h2 and #H == 97"),
          "hash_password returns an argon2id PHC string with a fresh salt");
    CHECK(run_lua(L, "return core.crypto.verify_password(H, 'correct horse') == true"),
          "verify_password accepts the right password");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "return c.verify_password(H, 'correct horsE') == false\n"
                     "  and c.verify_password(H, '') == false\n"
                     "  and c.verify_password(H, 'correct horse\\0') == false"),
          "verify_password refuses wrong passwords (binary-safe)");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local h = assert(c.hash_password(''))\n"
                     "local long = string.rep('p', 4096)\n"
                     "local hl = assert(c.hash_password(long))\n"
                     "return c.verify_password(h, '') == true and c.verify_password(hl, long)\n"
                     "  and c.verify_password(hl, long:sub(2)) == false"),
          "empty and 4096-byte passwords hash and verify");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local long = string.rep('p', 4097)\n"
                     "local r1, e1 = c.hash_password(long)\n"
                     "local r2, e2 = c.verify_password(H, long)\n"
                     "return r1 == nil and e1 == 'password too long'\n"
                     "  and r2 == nil and e2 == 'password too long'\n"
                     "  and c.dummy_verify(long) == false"),
          "passwords over 4096 bytes are refused, not truncated");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "local p = '$argon2id$v=19$m=19456,t=2,p=1$'\n"
                     "local salt, hash = H:match('^.*%$(.-)%$(.-)$')\n"
                     "local bad = {'', 'garbage', p, p .. salt, p .. salt .. '$',\n"
                     "  p .. salt .. '$' .. hash:sub(1, 10), p .. salt .. '$' .. hash:sub(1, 33),\n"
                     "  H:gsub('argon2id', 'argon2i'), H:gsub('v=19', 'v=16'),\n"
                     "  H:gsub('%$v=19', ''), H:gsub('m=19456', 'm=4194304'),\n"
                     "  H:gsub('m=19456', 'm=1'), H:gsub('t=2', 't=0'), H:gsub('t=2', 't=99'),\n"
                     "  H:gsub('p=1', 'p=0'), H:gsub('p=1', 'p=64'), H:gsub('m=19456', 'm=-1'),\n"
                     "  H:gsub('m=19456', 'm=1234567890'), H:gsub('m=19456', 'm=0x4c00'),\n"
                     "  H .. '\\0', H .. 'x$', H:gsub('%$', '!'),\n"
                     "  H:sub(1, 40) .. '!' .. H:sub(42),\n"
                     "  H .. string.rep('A', 100000), H:upper()}\n"
                     "for i, s in ipairs(bad) do\n"
                     "  local ok, r, err = pcall(c.verify_password, s, 'correct horse')\n"
                     "  if not ok or r ~= nil or type(err) ~= 'string' then\n"
                     "    print('#   case ' .. i .. ': ' .. tostring(r) .. ' ' .. tostring(err))\n"
                     "    return false\n"
                     "  end\n"
                     "end\n"
                     "return select(2, c.verify_password('x', 'y')) == 'invalid password hash'"),
          "malformed or absurd hashes give nil, err and never crash");
    CHECK(run_lua(L, "local c = core.crypto\n"
                     "return not pcall(c.hash_password) and not pcall(c.hash_password, {})\n"
                     "  and not pcall(c.verify_password, H)\n"
                     "  and not pcall(c.verify_password, {}, 'x')\n"
                     "  and not pcall(c.dummy_verify) and not pcall(c.needs_rehash, {})"),
          "password functions raise on wrong argument types");

    char old[128];
    int rc = argon2id_hash_encoded(1, 8192, 1, "old password", 12, "saltsaltsaltsalt", 16, 32,
                                   old, sizeof(old));
    lua_pushstring(L, old);
    lua_setglobal(L, "OLD");
    CHECK(rc == ARGON2_OK && run_lua(L, "return core.crypto.verify_password(OLD, 'old password')"
                                        " == true and core.crypto.needs_rehash(OLD) == true"),
          "a hash with older parameters still verifies and needs a rehash");
    CHECK(run_lua(L, "local r = core.crypto.needs_rehash\n"
                     "return r(H) == false\n"
                     "  and r((H:gsub('m=19456', 'm=65536'))) and r((H:gsub('t=2', 't=3')))\n"
                     "  and r((H:gsub('p=1', 'p=2'))) and r((H:gsub('argon2id', 'argon2i')))\n"
                     "  and r((H:gsub('v=19', 'v=16'))) and r('') and r('garbage')"),
          "needs_rehash is false only for the current parameters");

    /* that dummy_verify costs what verify_password does is by construction: its hash is
     * written from the same parameter macros (timing it here would fail under load) */
    CHECK(run_lua(L, "return core.crypto.verify_password(H, 'wrong') == false\n"
                     "  and core.crypto.dummy_verify('correct horse') == false"),
          "dummy_verify returns false, as a wrong password does");
}

static void check_semaphore(lua_State *L) {
    /* A waiter gets its slot as soon as the cap allows one. */
    core_crypto_set_hash_concurrency(0);
    lua_job job = {"return type(core.crypto.hash_password('x')) == 'string'", 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, run_job, &job);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    core_crypto_set_hash_concurrency(1);
    pthread_join(th, NULL);
    CHECK(job.ok && job.elapsed >= 0.25 && job.elapsed < 5,
          "a waiting hash runs once the cap is raised");

    /* With no slot free for 10 s, every argon2 entry point gives up with "busy". */
    core_crypto_set_hash_concurrency(0);
    char verify_code[256];              /* the thread's state has no H: pass the hash in */
    lua_getglobal(L, "H");
    snprintf(verify_code, sizeof(verify_code),
             "local r, e = core.crypto.verify_password('%s', 'x')\n"
             "return r == nil and e == 'busy'", lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_job verify = {verify_code, 0, 0};
    lua_job dummy = {"local r, e = core.crypto.dummy_verify('x')\n"
                     "return r == nil and e == 'busy'", 0, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, run_job, &verify);
    pthread_create(&t2, NULL, run_job, &dummy);
    int ok;
    double elapsed = timed_lua(L, "local r, e = core.crypto.hash_password('x')\n"
                                  "return r == nil and e == 'busy'", &ok);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(ok && elapsed >= 9.5 && elapsed < 15, "hash_password gives nil, 'busy' after 10 s");
    CHECK(verify.ok, "verify_password gives nil, 'busy' too");
    CHECK(dummy.ok, "dummy_verify gives nil, 'busy' too, like a real verify");
    core_crypto_set_hash_concurrency(2);
    CHECK(run_lua(L, "return type(core.crypto.hash_password('x')) == 'string'"),
          "hashing works again once slots are back");
}

int main(void) {
    lua_State *L = harness_state();
    check_secret_and_keys(L);
    check_digests(L);
    check_random(L);
    check_compare_and_base64(L);
    check_passwords(L);
    check_semaphore(L);
    lua_close(L);
    return harness_done();
}
