/* test_storage.c -- core.storage on the local backend through a real lua_State, on a
 * scratch DATA_DIR: presigned /blobs/ URLs (checked against the documented signed
 * string), key validation in every function, head/read/sha256/move/delete on files written
 * straight into DATA_DIR/media, directories and symlinks that are no objects, and the
 * multipart calls, which need S3. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config.h"
#include "harness.h"

static char media[4200];

/* mkdir -p of every parent of `rel` under media, then writes the file. 0 | -1. */
static int write_object(const char *rel, const void *data, size_t len) {
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", media, rel);
    for (char *p = path + strlen(media) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t wrote = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && wrote == len) ? 0 : -1;
}

static int media_has(const char *rel) {
    char path[8192];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", media, rel);
    return lstat(path, &st) == 0;
}

/* Lua helpers: params(url) splits a /blobs/ URL into path, parameters and their order;
 * unpct decodes %XX; expected_sig builds the signature localstore.c documents;
 * same_second(fn) calls fn until all the URLs it returns share one exp. */
static const char *const PRELUDE =
    "function params(url)\n"
    "  local path, query = url:match('^(/blobs/[^?]+)%?(.*)$')\n"
    "  if not path then return nil end\n"
    "  local p, order = {}, {}\n"
    "  for k, v in query:gmatch('([^&=]+)=([^&]*)') do p[k] = v; order[#order + 1] = k end\n"
    "  return path, p, table.concat(order, ',')\n"
    "end\n"
    "function unpct(s)\n"
    "  return (s:gsub('%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))\n"
    "end\n"
    "function expected_sig(method, key, exp, ct, cl, fn, disp)\n"
    "  local parts = {'itcloud-blob-v1'}\n"
    "  for _, f in ipairs({method, key, exp, ct, cl, fn, disp}) do\n"
    "    parts[#parts + 1] = #f .. ':' .. f\n"
    "  end\n"
    "  return core.crypto.base64url_encode(core.crypto.keyed_hmac('blob-url',\n"
    "    table.concat(parts, '\\n')))\n"
    "end\n"
    "function same_second(fn)\n"
    "  for _ = 1, 5 do\n"
    "    local urls, exp, same = fn(), nil, true\n"
    "    for _, u in ipairs(urls) do\n"
    "      local _, p = params(u)\n"
    "      exp = exp or p.exp\n"
    "      same = same and p.exp == exp\n"
    "    end\n"
    "    if same then return urls end\n"
    "  end\n"
    "  error('the clock kept ticking')\n"
    "end\n"
    "function raises(pattern, fn, ...)\n"
    "  local ok, err = pcall(fn, ...)\n"
    "  if ok or not tostring(err):find(pattern, 1, true) then\n"
    "    print('#   expected an error with \"' .. pattern .. '\", got ' .. tostring(ok)"
    " .. ', ' .. tostring(err))\n"
    "    return false\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "S = core.storage\n"
    "return true";

static void check_backend(lua_State *L) {
    CHECK(run_lua(L, "return S.backend() == 'local' and S.supports_multipart() == false"),
          "backend is local and supports no multipart uploads");
}

static void check_presign(lua_State *L) {
    CHECK(run_lua(L, "local url = S.presign_put('photos/a.jpg', 'image/jpeg', 1234, 600)\n"
                     "local path, p, order = params(url)\n"
                     "local exp = tonumber(p.exp)\n"
                     "return path == '/blobs/photos/a.jpg' and order == 'exp,ct,cl,sig'\n"
                     "  and p.ct == 'image%2Fjpeg' and p.cl == '1234'\n"
                     "  and math.abs(exp - (core.time.unix() + 600)) <= 2\n"
                     "  and p.sig == expected_sig('PUT', 'photos/a.jpg', p.exp, 'image/jpeg',"
                     " '1234', '', '')"),
          "presign_put gives /blobs/<key>?exp&ct&cl&sig, signed as documented");
    CHECK(run_lua(L, "local url = S.presign_get('photos/a.jpg', {ttl = 60})\n"
                     "local path, p, order = params(url)\n"
                     "return path == '/blobs/photos/a.jpg' and order == 'exp,ct,fn,disp,sig'\n"
                     "  and p.ct == 'application%2Foctet-stream' and p.fn == ''"
                     " and p.disp == 'attachment'\n"
                     "  and math.abs(tonumber(p.exp) - (core.time.unix() + 60)) <= 2\n"
                     "  and p.sig == expected_sig('GET', 'photos/a.jpg', p.exp,"
                     " 'application/octet-stream', '', '', 'attachment')"),
          "presign_get defaults to application/octet-stream, no filename, attachment");
    CHECK(run_lua(L, "local name = 'My \"clip\" caf\\195\\169 100%.mp4'\n"
                     "local url = S.presign_get('v/1.mp4', {ttl = 60, content_type = 'video/mp4',"
                     " filename = name, disposition = 'inline'})\n"
                     "local _, p = params(url)\n"
                     "return p.ct == 'video%2Fmp4' and unpct(p.fn) == name and p.disp == 'inline'\n"
                     "  and not p.fn:find('[^%w%-%._~%%]')\n"
                     "  and p.sig == expected_sig('GET', 'v/1.mp4', p.exp, 'video/mp4', '', name,"
                     " 'inline')"),
          "presign_get signs content type, filename (percent-encoded) and inline");
    CHECK(run_lua(L, "local k = 'a/b.bin'\n"
                     "local urls = same_second(function() return {\n"
                     "  S.presign_put(k, 'image/jpeg', 10, 600),\n"
                     "  S.presign_put(k, 'image/png', 10, 600),\n"
                     "  S.presign_put(k, 'image/jpeg', 11, 600),\n"
                     "  S.presign_put('a/c.bin', 'image/jpeg', 10, 600),\n"
                     "  S.presign_get(k, {ttl = 600}),\n"
                     "  S.presign_get(k, {ttl = 600, content_type = 'image/png'}),\n"
                     "  S.presign_get(k, {ttl = 600, filename = 'a.bin'}),\n"
                     "  S.presign_get(k, {ttl = 600, filename = 'b.bin'}),\n"
                     "  S.presign_get(k, {ttl = 600, disposition = 'inline'}),\n"
                     "} end)\n"
                     "local seen = {}\n"
                     "for i, u in ipairs(urls) do\n"
                     "  local _, p = params(u)\n"
                     "  if seen[p.sig] then print('#   url ' .. i .. ' repeats ' .. seen[p.sig])"
                     " return false end\n"
                     "  seen[p.sig] = i\n"
                     "end\n"
                     "return true"),
          "the signature differs per method, key, content type, length, filename, disposition");
    CHECK(run_lua(L, "local k = 'a/b.bin'\n"
                     "local u = same_second(function() return {\n"
                     "  S.presign_get(k, {ttl = 600}),\n"
                     "  S.presign_get(k, {ttl = 600, disposition = 'attachment', filename = ''}),\n"
                     "  S.presign_get(k, {ttl = 600, disposition = 'bogus',"
                     " content_type = 'application/octet-stream'}),\n"
                     "  S.presign_put(k, 'image/jpeg', 10, 600),\n"
                     "  S.presign_put(k, 'image/jpeg', 10, 600),\n"
                     "} end)\n"
                     "return u[1] == u[2] and u[2] == u[3] and u[4] == u[5]"),
          "the same grant gives the same URL; any disposition but inline is attachment");
    CHECK(run_lua(L, "local long = string.rep('abcdefg/', 63) .. 'abcdefgh'\n"
                     "local path = params(S.presign_get(long, {ttl = 60}))\n"
                     "return #long == 512 and path == '/blobs/' .. long"
                     " and S.presign_put(long, 'a/b', 0, 604800) ~= nil"),
          "a 512-byte key, length 0 and a 7-day ttl are accepted");
    CHECK(run_lua(L, "local k = 'a/b.bin'\n"
                     "return raises('ttl must be', S.presign_put, k, 'image/jpeg', 1, 0)\n"
                     "  and raises('ttl must be', S.presign_put, k, 'image/jpeg', 1, -5)\n"
                     "  and raises('ttl must be', S.presign_put, k, 'image/jpeg', 1, 604801)\n"
                     "  and raises('cannot sign', S.presign_put, k, 'image/jpeg', -1, 60)\n"
                     "  and raises('cannot sign', S.presign_put, k, '', 1, 60)\n"
                     "  and raises('cannot sign', S.presign_put, k, 'image/\\njpeg', 1, 60)\n"
                     "  and raises('cannot sign', S.presign_put, k, ' image/jpeg', 1, 60)\n"
                     "  and raises('cannot sign', S.presign_put, k, string.rep('t', 256), 1, 60)\n"
                     "  and raises('ttl must be', S.presign_get, k, {ttl = 0})\n"
                     "  and raises('cannot sign', S.presign_get, k, {ttl = 60,"
                     " content_type = 'text/\\127'})\n"
                     "  and raises('cannot sign', S.presign_get, k, {ttl = 60,"
                     " filename = string.rep('f', 1025)})\n"
                     "  and S.presign_get(k, {ttl = 60, filename = string.rep('f', 1024)}) ~= nil\n"
                     "  and raises('no integer representation', S.presign_put, k, 'image/jpeg',"
                     " 1.5, 60)\n"
                     "  and raises('string expected', S.presign_put, k, nil, 1, 60)\n"
                     "  and raises('table expected', S.presign_get, k, 60)\n"
                     "  and raises('number expected', S.presign_get, k, {})\n"
                     "  and raises('number expected', S.presign_get, k, {ttl = 'soon'})"),
          "bad ttl, length, content type, filename or options raise");
}

static void check_keys(lua_State *L) {
    CHECK(run_lua(L, "local bad = {'../x', 'a/../b', '..', 'a/..', 'a/b/..', 'a//b', '/a', 'a/',\n"
                     "  'A/b', 'photos/A.jpg', 'a\\0b', 'a\\0', 'a b', '.a', 'a/.b', 'a/./b',"
                     " '-a', '_a',\n"
                     "  '', 'a\\\\b', 'caf\\195\\169', 'a\\nb', 'a%2fb', 'a?b', 'a#b',"
                     " string.rep('a', 513),\n"
                     "  string.rep('a', 600), string.rep('ab/', 200)}\n"
                     "local calls = {\n"
                     "  head = function(k) return S.head(k) end,\n"
                     "  read = function(k) return S.read(k, 0, 1) end,\n"
                     "  delete = function(k) return S.delete(k) end,\n"
                     "  move_from = function(k) return S.move(k, 'ok/key') end,\n"
                     "  move_to = function(k) return S.move('ok/key', k) end,\n"
                     "  presign_put = function(k) return S.presign_put(k, 'a/b', 1, 60) end,\n"
                     "  presign_get = function(k) return S.presign_get(k, {ttl = 60}) end,\n"
                     "  multipart_create = function(k) return S.multipart_create(k, 'a/b') end,\n"
                     "  presign_part = function(k) return S.presign_part(k, 'id', 1, 1, 60) end,\n"
                     "  list_parts = function(k) return S.list_parts(k, 'id') end,\n"
                     "  multipart_complete = function(k)\n"
                     "    return S.multipart_complete(k, 'id', {{part_number = 1, etag = 'e'}})\n"
                     "  end,\n"
                     "  multipart_abort = function(k) return S.multipart_abort(k, 'id') end,\n"
                     "}\n"
                     "for name, call in pairs(calls) do\n"
                     "  for _, k in ipairs(bad) do\n"
                     "    if not raises('invalid storage key', call, k) then\n"
                     "      print(string.format('#   %s accepted %q', name, k))\n"
                     "      return false\n"
                     "    end\n"
                     "  end\n"
                     "  if pcall(call, {}) then return false end\n"
                     "end\n"
                     "return true"),
          "invalid keys (.., //, uppercase, NUL inside, 600 bytes...) raise in every function");
    CHECK(run_lua(L, "return S.delete(nil) == true and S.delete() == true\n"
                     "  and raises('invalid storage key', S.head, 'a\\0b')"),
          "delete of no key is true; a NUL inside a key is never cut short");
}

/* DATA is the object's bytes (every byte value, NULs included). */
static void check_objects(lua_State *L) {
    char data[1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)((i * 7 + 3) % 256);
    lua_pushlstring(L, data, sizeof(data));
    lua_setglobal(L, "DATA");

    CHECK(run_lua(L, "local n = select('#', S.head('photos/2024/a.bin'))\n"
                     "local r, err = S.read('photos/2024/a.bin', 0, 10)\n"
                     "return n == 1 and S.head('photos/2024/a.bin') == nil and S.head('nothing')"
                     " == nil\n"
                     "  and r == nil and err == 'storage read failed: not found'\n"
                     "  and S.head(string.rep('abcdefg/', 63) .. 'abcdefgh') == nil"),
          "head of a missing key is nil; read gives nil, 'storage read failed: not found'");
    CHECK(write_object("photos/2024/a.bin", data, sizeof(data)) == 0 &&
              write_object("empty", "", 0) == 0,
          "objects written straight under DATA_DIR/media");
    CHECK(run_lua(L, "local h = S.head('photos/2024/a.bin')\n"
                     "local e = S.head('empty')\n"
                     "return h.size == 1000 and math.type(h.size) == 'integer'\n"
                     "  and h.etag:match('^\"%x+%-%x+%-%x+\"$') ~= nil\n"
                     "  and e.size == 0 and e.etag ~= h.etag"),
          "head gives the size and a strong ETag");
    CHECK(run_lua(L, "local k = 'photos/2024/a.bin'\n"
                     "return S.read(k, 0, 1000) == DATA and S.read(k, 0, 5000) == DATA\n"
                     "  and S.read(k, 0, 64 * 1024 * 1024) == DATA\n"
                     "  and S.read(k, 10, 20) == DATA:sub(11, 30)\n"
                     "  and S.read(k, 990, 100) == DATA:sub(991, 1000)\n"
                     "  and S.read(k, 999, 1) == DATA:sub(1000)\n"
                     "  and S.read(k, 0, 1) == DATA:sub(1, 1)"),
          "read gives the exact bytes of whole objects and ranges, cut at the end");
    CHECK(run_lua(L, "local k = 'photos/2024/a.bin'\n"
                     "local at_end = {S.read(k, 1000, 10)}\n"
                     "local past = {S.read(k, 5000, 10)}\n"
                     "local far = {S.read(k, math.maxinteger, 10)}\n"
                     "local empty = {S.read('empty', 0, 1)}\n"
                     "return #at_end == 1 and at_end[1] == '' and #past == 1 and past[1] == ''\n"
                     "  and #far == 1 and far[1] == '' and #empty == 1 and empty[1] == ''"),
          "reading at or past the end gives the empty string, every time");
    CHECK(run_lua(L, "local k = 'photos/2024/a.bin'\n"
                     "return raises('negative offset', S.read, k, -1, 1)\n"
                     "  and raises('length out of range', S.read, k, 0, 0)\n"
                     "  and raises('length out of range', S.read, k, 0, -1)\n"
                     "  and raises('length out of range', S.read, k, 0, 64 * 1024 * 1024 + 1)\n"
                     "  and raises('number expected', S.read, k, 0)\n"
                     "  and raises('no integer representation', S.read, k, 0.5, 1)"),
          "a negative offset or a length outside 1..64 MiB raises");
    CHECK(run_lua(L, "local before = S.head('photos/2024/a.bin').etag\n"
                     "return before == S.head('photos/2024/a.bin').etag"),
          "the ETag is stable while the object is unchanged");
    CHECK(write_object("photos/2024/a.bin", data, 999) == 0 &&
              run_lua(L, "local h = S.head('photos/2024/a.bin')\n"
                         "return h.size == 999 and S.read('photos/2024/a.bin', 0, 2000)"
                         " == DATA:sub(1, 999)"),
          "head and read follow a rewritten object");
    write_object("photos/2024/a.bin", data, sizeof(data));
}

/* storage.sha256 reads in 1 MiB pieces: a 3 MiB + 5 byte object crosses them. */
static void check_sha256(lua_State *L) {
    size_t big_len = 3 * 1024 * 1024 + 5;
    char *big = malloc(big_len);
    for (size_t i = 0; big && i < big_len; i++)
        big[i] = (char)((i * 31 + i / 4096) % 251);
    CHECK(big && write_object("photos/big.bin", big, big_len) == 0, "a 3 MiB object written");
    lua_pushlstring(L, big ? big : "", big ? big_len : 0);
    lua_setglobal(L, "BIG");
    free(big);
    CHECK(run_lua(L, "local hex, size = S.sha256('photos/2024/a.bin')\n"
                     "local big, big_size = S.sha256('photos/big.bin')\n"
                     "local empty, empty_size = S.sha256('empty')\n"
                     "local whole = BIG\n"
                     "BIG = nil\n"
                     "return hex == core.crypto.sha256_hex(DATA) and size == 1000\n"
                     "  and math.type(size) == 'integer'\n"
                     "  and big == core.crypto.sha256_hex(whole) and big_size == #whole\n"
                     "  and empty == core.crypto.sha256_hex('') and empty_size == 0"),
          "sha256 gives the hex digest and size of small, multi-piece and empty objects");
    CHECK(run_lua(L, "local n = select('#', S.sha256('photos/none.bin'))\n"
                     "return n == 1 and S.sha256('photos/none.bin') == nil\n"
                     "  and S.sha256('photos/2024') == nil\n"
                     "  and raises('invalid storage key', S.sha256, '../x')"),
          "sha256 of a missing key or a directory is nil; a bad key raises");
}

static void check_not_objects(lua_State *L) {
    char outside[8192], link[8192];
    snprintf(outside, sizeof(outside), "%s/../outside-secret", media);
    snprintf(link, sizeof(link), "%s/link", media);
    FILE *f = fopen(outside, "w");
    int made = f && fputs("secret", f) >= 0;
    if (f)
        fclose(f);
    made = made && symlink(outside, link) == 0 && write_object("dir/inner", "x", 1) == 0;
    CHECK(made, "a symlink to a file outside media and a directory under it");
    CHECK(run_lua(L, "local r, err = S.read('link', 0, 100)\n"
                     "local d, derr = S.read('dir', 0, 100)\n"
                     "local m, merr = S.move('link', 'moved')\n"
                     "return S.head('link') == nil and S.sha256('link') == nil and r == nil"
                     " and err == 'storage read failed: not found'\n"
                     "  and S.head('dir') == nil and d == nil"
                     " and derr == 'storage read failed: not found'\n"
                     "  and m == nil and merr == 'storage move failed: not found'"),
          "a symlink or a directory is no object: head nil, read and move not found");
    CHECK(run_lua(L, "local ok, err = S.delete('dir')\n"
                     "return ok == nil\n"
                     "  and err:find('^storage delete failed: not an object') ~= nil\n"
                     "  and S.read('dir/inner', 0, 1) == 'x'\n"
                     "  and S.delete('link') == true and S.head('link') == nil"),
          "delete refuses a directory, and removes a symlink itself");
    CHECK(!media_has("link") && access(outside, F_OK) == 0 && media_has("dir/inner"),
          "the symlink's target outside media is untouched");
    unlink(outside);
}

static void check_move_delete(lua_State *L) {
    CHECK(run_lua(L, "local ok, err = S.move('photos/2024/a.bin', 'final/x/y.bin')\n"
                     "return ok == true and err == nil and S.head('photos/2024/a.bin') == nil\n"
                     "  and S.head('final/x/y.bin').size == 1000"
                     " and S.read('final/x/y.bin', 0, 2000) == DATA"),
          "move renames: the source is gone, the target has the bytes");
    CHECK(!media_has("photos/2024/a.bin") && media_has("final/x/y.bin"),
          "on disk too, with the target's directories created");
    CHECK(write_object("other.bin", "abc", 3) == 0 &&
              run_lua(L, "return S.move('other.bin', 'final/x/y.bin') == true\n"
                         "  and S.read('final/x/y.bin', 0, 100) == 'abc'"
                         " and S.head('other.bin') == nil"),
          "move replaces an existing target");
    CHECK(run_lua(L, "local ok, err = S.move('photos/2024/a.bin', 'elsewhere')\n"
                     "return ok == nil and err == 'storage move failed: not found'"
                     " and S.head('elsewhere') == nil"),
          "move of a missing source gives nil, 'storage move failed: not found'");
    CHECK(run_lua(L, "return S.delete('final/x/y.bin') == true"
                     " and S.head('final/x/y.bin') == nil\n"
                     "  and S.delete('final/x/y.bin') == true and S.delete('never/was') == true"),
          "delete removes the object and is idempotent");
    CHECK(!media_has("final") && media_has(""), "delete drops the directories it left empty");
}

static void check_multipart(lua_State *L) {
    CHECK(run_lua(L, "local k = 'up/1.bin'\n"
                     "local msg = 'multipart uploads need the s3 backend'\n"
                     "local results = {\n"
                     "  {S.multipart_create(k, 'video/mp4')},\n"
                     "  {S.list_parts(k, 'upload-id')},\n"
                     "  {S.multipart_complete(k, 'upload-id', {{part_number = 1,"
                     " etag = '\"e\"'}})},\n"
                     "  {S.multipart_abort(k, 'upload-id')},\n"
                     "}\n"
                     "for _, r in ipairs(results) do\n"
                     "  if r[1] ~= nil or r[2] ~= msg then return false end\n"
                     "end\n"
                     "return true"),
          "multipart_create, list_parts, multipart_complete and multipart_abort: nil, err");
    CHECK(run_lua(L, "return raises('multipart uploads need the s3 backend', S.presign_part,"
                     " 'up/1.bin', 'upload-id', 1, 100, 600)"),
          "presign_part raises on the local backend");
    CHECK(run_lua(L, "local k = 'up/1.bin'\n"
                     "return raises('part number out of range', S.presign_part, k, 'id', 0, 1,"
                     " 60)\n"
                     "  and raises('part number out of range', S.presign_part, k, 'id', 10001, 1,"
                     " 60)\n"
                     "  and raises('1 to 10000 parts', S.multipart_complete, k, 'id', {})\n"
                     "  and raises('string expected', S.multipart_create, k)\n"
                     "  and raises('string expected', S.list_parts, k)\n"
                     "  and raises('table expected', S.multipart_complete, k, 'id', 'parts')"),
          "bad multipart arguments raise before the backend is asked");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);   /* TAP lines survive a sanitizer abort */
    char dir[] = "/tmp/itcloud-test-storage.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char url[4200];
    snprintf(url, sizeof(url), "sqlite:%s/x.db", dir);
    snprintf(media, sizeof(media), "%s/media", dir);
    setenv("DATA_DIR", dir, 1);
    setenv("STORAGE_BACKEND", "local", 1);
    setenv("DATABASE_URL", url, 1);
    setenv("APP_ENV", "test", 1);
    setenv("LOG_LEVEL", "error", 1);
    char err[512];
    CHECK(config_load(err, sizeof(err)) == 0, "config loads");
    static const unsigned char secret[] = "test-storage-secret-0123456789abcdefghij";
    CHECK(core_set_server_secret(secret, 31) == -1, "a secret under 32 bytes is refused");
    CHECK(core_set_server_secret(secret, sizeof(secret) - 1) == 0, "the server secret is set");

    lua_State *L = harness_state();
    CHECK(run_lua(L, PRELUDE), "helpers load");
    check_backend(L);
    check_presign(L);
    struct stat st;
    CHECK(stat(media, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
          "the first call creates DATA_DIR/media, mode 0700");
    check_keys(L);
    check_objects(L);
    check_sha256(L);
    check_not_objects(L);
    check_move_delete(L);
    check_multipart(L);
    lua_close(L);

    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return harness_done();
}
