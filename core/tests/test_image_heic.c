/* test_image_heic.c -- core.image's HEIC path through a real lua_State. The test encodes
 * its own HEIC files with libheif's HEVC encoder (x265 in Debian's build): a quadrant
 * picture (RGB), an odd-sized one and one with alpha. It checks info, decode size and
 * sampled colours, thumbnails, and the refusals: cuts at many points, random mutations,
 * an ftyp-only file, AVIF not taken for HEIC, and an ispe box patched to claim a huge
 * size, refused before any pixel buffer exists. Without an HEVC encoder the encoded
 * checks are reported as TAP skips and only the hand-made inputs are tried. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <libheif/heif.h>

#include "harness.h"
#include "profiles.h"

int luaopen_core_image(lua_State *L);

typedef struct { unsigned char *p; size_t n; } membuf;

static struct heif_error write_mem(struct heif_context *ctx, const void *data, size_t size,
                                   void *userdata) {
    membuf *m = userdata;
    struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, "ok"};
    unsigned char *np = realloc(m->p, m->n + size);
    if (np == NULL) {
        struct heif_error e = {heif_error_Encoding_error, heif_suberror_Cannot_write_output_data,
                               "out of memory"};
        return e;
    }
    memcpy(np + m->n, data, size);
    m->p = np;
    m->n += size;
    return ok;
}

/* Quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
 * With alpha, the right half is alpha 64, the left half opaque. */
static void fill(unsigned char *px, int stride, int w, int h, int ch) {
    static const unsigned char col[4][3] = {{220, 30, 30}, {30, 200, 40}, {30, 40, 210},
                                            {240, 240, 240}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int q = (y >= h / 2) * 2 + (x >= w / 2);
            unsigned char *p = px + (size_t)y * stride + (size_t)x * ch;
            memcpy(p, col[q], 3);
            if (ch == 4)
                p[3] = x >= w / 2 ? 64 : 255;
        }
}

/* What a tagged test picture is: one colour, and an nclx box or an ICC profile. */
typedef struct {
    const unsigned char *solid;
    const struct heif_color_profile_nclx *nclx;
    const unsigned char *icc;
    size_t icc_len;
} heic_tag;

/* Encodes a w x h quadrant picture (or, with a tag, one colour with its colour profile) as
 * HEIC into global `name`. 0 or -1. */
static int make_heic(lua_State *L, const char *name, int w, int h, int alpha,
                     const heic_tag *tag) {
    int ret = -1, ch = alpha ? 4 : 3;
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    membuf m = {NULL, 0};
    struct heif_error e = heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc);
    if (e.code != heif_error_Ok)
        goto done;
    heif_encoder_set_lossy_quality(enc, 92);
    e = heif_image_create(w, h, heif_colorspace_RGB,
                          alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, &img);
    if (e.code == heif_error_Ok)
        e = heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
    if (e.code != heif_error_Ok)
        goto done;
    int stride = 0;
    unsigned char *px = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    fill(px, stride, w, h, ch);
    if (tag != NULL) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                memcpy(px + (size_t)y * stride + (size_t)x * ch, tag->solid, 3);
        if (tag->icc != NULL)
            e = heif_image_set_raw_color_profile(img, "prof", tag->icc, tag->icc_len);
        else
            e = heif_image_set_nclx_color_profile(img, tag->nclx);
        if (e.code != heif_error_Ok)
            goto done;
    }
    /* libheif 1.15 writes an nclx box only with its macOS workaround (which leaves it out)
     * off, and takes the primaries from the image */
    struct heif_encoding_options *opt = heif_encoding_options_alloc();
    opt->output_nclx_profile = tag != NULL ? (struct heif_color_profile_nclx *)tag->nclx : NULL;
    opt->macOS_compatibility_workaround_no_nclx_profile = tag == NULL || tag->nclx == NULL;
    e = heif_context_encode_image(ctx, img, enc, opt, NULL);
    heif_encoding_options_free(opt);
    if (e.code != heif_error_Ok)
        goto done;
    struct heif_writer wr = {1, write_mem};
    e = heif_context_write(ctx, &wr, &m);
    if (e.code != heif_error_Ok)
        goto done;
    lua_pushlstring(L, (const char *)m.p, m.n);
    lua_setglobal(L, name);
    ret = 0;
done:
    if (ret != 0)
        printf("#   make_heic %s: %s\n", name, e.message);
    free(m.p);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    return ret;
}

static void set_bytes(lua_State *L, const char *name, const void *buf, size_t len) {
    lua_pushlstring(L, (const char *)buf, len);
    lua_setglobal(L, name);
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char *prelude =
    "I = core.image\n"
    "function near(a, b, tol) return math.abs(a - b) <= tol end\n"
    "function px_ok(bm, fx, fy, want, tol)\n"
    "  local w, h = bm:size()\n"
    "  local x, y = math.floor(fx * w), math.floor(fy * h)\n"
    "  local got = {bm:pixel(x, y)}\n"
    "  for c = 1, #want do\n"
    "    if not near(got[c], want[c], tol) then\n"
    "      print(string.format('#   at %d,%d of %dx%d channel %d: %d, want %d',\n"
    "        x, y, w, h, c, got[c], want[c]))\n"
    "      return false\n"
    "    end\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "RED, GREEN, BLUE, WHITE = {220, 30, 30}, {30, 200, 40}, {30, 40, 210}, {240, 240, 240}\n"
    "function quads_ok(bm, tol)\n"
    "  return px_ok(bm, 0.25, 0.25, RED, tol) and px_ok(bm, 0.75, 0.25, GREEN, tol)\n"
    "     and px_ok(bm, 0.25, 0.75, BLUE, tol) and px_ok(bm, 0.75, 0.75, WHITE, tol)\n"
    "end\n"
    "function refused(want, ok, err)\n"
    "  if ok ~= nil or type(err) ~= 'string' then return false end\n"
    "  if want and err:sub(1, #want) ~= want then print('#   err: ' .. err) return false end\n"
    "  return true\n"
    "end\n"
    /* a bitmap must be sane; nil must come with a message */
    "function clean_info(t, err)\n"
    "  if t == nil then return type(err) == 'string' end\n"
    "  return type(t) == 'table' and t.format == 'heic' and math.type(t.width) == 'integer'\n"
    "    and t.width >= 1 and t.height >= 1\n"
    "end\n"
    "function clean(ok, err)\n"
    "  if ok == nil then return type(err) == 'string' end\n"
    "  local w, h = ok:size()\n"
    "  local sane = w >= 1 and h >= 1 and (ok:channels() == 3 or ok:channels() == 4)\n"
    "  if sane then ok:pixel(w - 1, h - 1) end\n"
    "  ok:close()\n"
    "  return sane\n"
    "end\n"
    /* replaces every ispe box's width and height (libheif writes more than one) */
    "function patch_ispe(s, w, h)\n"
    "  local i = s:find('ispe', 1, true)\n"
    "  if not i then return nil end\n"
    "  while i do\n"
    "    s = s:sub(1, i + 7) .. string.pack('>I4>I4', w, h) .. s:sub(i + 16)\n"
    "    i = s:find('ispe', i + 4, true)\n"
    "  end\n"
    "  return s\n"
    "end\n";

/* P3_NCLX (an iPhone's nclx box: Display P3 primaries, sRGB curve), P3_ICC (a Display P3
 * ICC profile) and SRGB_NCLX (BT.709 primaries: nothing to convert). 0 or -1. */
static int make_tagged(lua_State *L) {
    struct heif_color_profile_nclx *nclx = heif_nclx_color_profile_alloc();
    nclx->transfer_characteristics = heif_transfer_characteristic_IEC_61966_2_1;
    nclx->matrix_coefficients = heif_matrix_coefficients_ITU_R_BT_601_6;
    nclx->full_range_flag = 1;
    heif_nclx_color_profile_set_color_primaries(nclx, heif_color_primaries_SMPTE_EG_432_1);
    heic_tag p3_nclx = {P3_SRGB_RED, nclx, NULL, 0};
    int rc = make_heic(L, "P3_NCLX", 64, 48, 0, &p3_nclx);
    heif_nclx_color_profile_set_color_primaries(nclx, heif_color_primaries_ITU_R_BT_709_5);
    if (rc == 0)
        rc = make_heic(L, "SRGB_NCLX", 64, 48, 0, &p3_nclx);
    heif_nclx_color_profile_free(nclx);
    size_t len = 0;
    unsigned char *icc = rgb_profile(DISPLAY_P3, 0, &len);
    heic_tag p3_icc = {P3_SRGB_RED, NULL, icc, len};
    if (rc == 0)
        rc = make_heic(L, "P3_ICC", 64, 48, 0, &p3_icc);
    free(icc);
    return rc;
}

static void skip(const char *name, const char *why) {
    harness_count++;
    printf("ok %d - %s # skip %s\n", harness_count, name, why);
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(luaL_dostring(L, prelude) == LUA_OK, "prelude loads");

    /* hand-made containers: need no encoder */
    static const unsigned char ftyp_only[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                                              0, 0, 0, 0, 'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'};
    set_bytes(L, "FTYP_ONLY", ftyp_only, sizeof(ftyp_only));
    static const unsigned char avif[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'm', 'i', 'f', '1',
                                         0, 0, 0, 0, 'm', 'i', 'f', '1', 'a', 'v', 'i', 'f'};
    set_bytes(L, "AVIF_FTYP", avif, sizeof(avif));
    CHECK(run_lua(L, "return refused('corrupt image: ', I.info(FTYP_ONLY))"
                     " and refused('corrupt image: ', I.decode(FTYP_ONLY))"),
          "ftyp-only heic is refused as corrupt");
    CHECK(run_lua(L, "return refused('unsupported format', I.info(AVIF_FTYP))"
                     " and refused('unsupported format', I.decode(AVIF_FTYP))"),
          "mif1 + avif brands are not taken for heic");
    CHECK(run_lua(L, "for _, b in ipairs({'heic', 'heix', 'hevc', 'mif1', 'msf1'}) do\n"
                     "  local s = FTYP_ONLY:sub(1, 8) .. b .. FTYP_ONLY:sub(13)\n"
                     "  local ok, err = I.info(s)\n"
                     "  if ok ~= nil or not err:find('^corrupt image') then\n"
                     "    print('#   ' .. b .. ': ' .. tostring(err)) return false end\n"
                     "end\n"
                     "return true"),
          "ftyp brands heic/heix/hevc/mif1/msf1 go to the heic decoder");
    CHECK(run_lua(L, "local s = FTYP_ONLY .. string.pack('>I4', 12) .. 'meta' .. '\\0\\0\\0\\0'\n"
                     "for cut = 12, #s do\n"
                     "  if not clean_info(I.info(s:sub(1, cut))) or not clean(I.decode(s:sub(1, cut))) then\n"
                     "    return false end\n"
                     "end\n"
                     "math.randomseed(7)\n"
                     "for i = 1, 300 do\n"
                     "  local t = {s:byte(1, -1)}\n"
                     "  for k = 1, math.random(1, 6) do t[math.random(9, #t)] = math.random(0, 255) end\n"
                     "  local m = string.char(table.unpack(t))\n"
                     "  if not clean_info(I.info(m)) or not clean(I.decode(m)) then return false end\n"
                     "end\n"
                     "return true"),
          "hand-made header: cuts and mutations give clean errors");

    int have_enc = heif_have_encoder_for_format(heif_compression_HEVC);
    int made = have_enc && make_heic(L, "QUAD", 64, 48, 0, NULL) == 0 &&
               make_heic(L, "ODD", 33, 17, 0, NULL) == 0 &&
               make_heic(L, "ALPHA", 40, 32, 1, NULL) == 0 && make_tagged(L) == 0;
    if (!made) {
        const char *why = have_enc ? "libheif could not encode HEVC" : "no HEVC encoder in libheif";
        const char *names[] = {"info", "decode size", "colours", "odd size", "alpha", "thumbnail",
                               "budget", "huge ispe", "truncation", "mutation", "nclx and icc"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            skip(names[i], why);
        lua_close(L);
        return harness_done();
    }
    CHECK(run_lua(L, "local t = assert(I.info(QUAD))\n"
                     "return t.format == 'heic' and t.width == 64 and t.height == 48"),
          "info: heic 64x48");
    CHECK(run_lua(L, "local bm <close> = assert(I.decode(QUAD))\n"
                     "local w, h = bm:size()\n"
                     "return w == 64 and h == 48 and bm:channels() == 3"),
          "decode: 64x48 RGB");
    CHECK(run_lua(L, "local bm <close> = assert(I.decode(QUAD))\n"
                     "return quads_ok(bm, 14)"),
          "decode: quadrant colours within 14");
    CHECK(run_lua(L, "local t = assert(I.info(ODD))\n"
                     "local bm <close> = assert(I.decode(ODD))\n"
                     "local w, h = bm:size()\n"
                     "return t.width == 33 and t.height == 17 and w == 33 and h == 17\n"
                     "  and quads_ok(bm, 20)"),
          "odd size 33x17: size and colours (row stride respected)");
    CHECK(run_lua(L, "local bm <close> = assert(I.decode(ALPHA))\n"
                     "local w, h = bm:size()\n"
                     "return w == 40 and h == 32 and bm:channels() == 4\n"
                     "  and px_ok(bm, 0.25, 0.25, {220, 30, 30, 255}, 14)\n"
                     "  and px_ok(bm, 0.75, 0.75, {240, 240, 240, 64}, 14)\n"
                     "  and px_ok(bm, 0.25, 0.75, {30, 40, 210, 255}, 14)"),
          "alpha: RGBA with opaque left and alpha 64 right");
    CHECK(run_lua(L, "local bm <close> = assert(I.decode(QUAD))\n"
                     "local th <close> = assert(bm:thumbnail(16))\n"
                     "local w, h = th:size()\n"
                     "return w == 16 and h == 12 and quads_ok(th, 16)"),
          "thumbnail(16): 16x12 keeps the quadrant colours");
    CHECK(run_lua(L, "return refused('image too large', I.decode(QUAD, { max_pixels = 64 * 48 - 1 }))\n"
                     "  and I.decode(QUAD, { max_pixels = 64 * 48 }) ~= nil"),
          "budget: one pixel over refused, exact fits");
    CHECK(run_lua(L, "return px_ok(I.decode(P3_NCLX), 0.5, 0.5, {255, 0, 0}, 8)\n"
                     "  and px_ok(I.decode(P3_ICC), 0.5, 0.5, {255, 0, 0}, 8)\n"
                     "  and px_ok(I.decode(SRGB_NCLX), 0.5, 0.5, {234, 51, 35}, 8)"),
          "nclx with Display P3 primaries and an ICC profile: P3 (234, 51, 35) is sRGB red");
    long rss0 = max_rss_kb();
    CHECK(run_lua(L, "local big = assert(patch_ispe(QUAD, 16000, 16000))\n"
                     "local t = assert(I.info(big))\n"
                     "return t.width == 16000 and t.height == 16000\n"
                     "  and refused('image too large', I.decode(big))\n"
                     "  and refused('image too large', I.decode(patch_ispe(QUAD, 9000, 9000)))"),
          "ispe 16000x16000 / 9000x9000: info reports it, decode refuses by budget");
    CHECK(run_lua(L, "local huge = patch_ispe(QUAD, 50000, 50000)\n"
                     "return refused('image too large', I.info(huge))\n"
                     "  and refused('image too large', I.decode(huge, { max_pixels = 268435456 }))\n"
                     "  and refused('image too large', I.decode(patch_ispe(QUAD, 65535, 65535)))\n"
                     "  and refused('image too large', I.decode(patch_ispe(QUAD, 0xffffffff, 1)))"),
          "ispe 50000x50000 and beyond: libheif's limit says image too large");
    CHECK(max_rss_kb() - rss0 < 64 * 1024, "huge headers allocate no pixel buffer");
    CHECK(run_lua(L, "return clean(I.decode(patch_ispe(QUAD, 8, 8)))"
                     " and clean(I.decode(patch_ispe(QUAD, 1, 1)))"
                     " and clean(I.decode(patch_ispe(QUAD, 0, 0)))"),
          "ispe smaller than the coded picture: clean result");
    CHECK(run_lua(L, "local n, bad = 0, 0\n"
                     "local cuts = {}\n"
                     "for c = 0, math.min(#QUAD - 1, 600) do cuts[#cuts + 1] = c end\n"
                     "for c = 601, #QUAD - 1, 5 do cuts[#cuts + 1] = c end\n"
                     "for _, c in ipairs(cuts) do\n"
                     "  local s = QUAD:sub(1, c)\n"
                     "  local ok, err = I.decode(s)\n"
                     "  n = n + 1\n"
                     "  if ok ~= nil or type(err) ~= 'string' or not clean_info(I.info(s)) then\n"
                     "    bad = bad + 1\n"
                     "    if bad < 4 then print('#   cut ' .. c .. ' of ' .. #QUAD .. ': ' .. tostring(err)) end\n"
                     "    if ok then ok:close() end\n"
                     "  end\n"
                     "end\n"
                     "print('#   ' .. n .. ' cut points')\n"
                     "return bad == 0"),
          "truncated at every cut point: decode says nil, err");
    CHECK(run_lua(L, "math.randomseed(42)\n"
                     "for _, src in ipairs({QUAD, ALPHA}) do\n"
                     "  for i = 1, 400 do\n"
                     "    local t = {src:byte(1, -1)}\n"
                     "    for k = 1, math.random(1, 8) do\n"
                     "      t[math.random(1, #t)] = math.random(0, 255)\n"
                     "    end\n"
                     "    local m = string.char(table.unpack(t))\n"
                     "    if not clean_info(I.info(m)) or not clean(I.decode(m)) then\n"
                     "      print('#   mutation ' .. i) return false end\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "800 random mutations: a sane bitmap or nil, err");
    lua_close(L);
    int rc = harness_done();
    fflush(stdout);                     /* before LeakSanitizer's exit handler runs */
    return rc;
}
