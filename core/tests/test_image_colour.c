/* test_image_colour.c -- colour management in core.image through a real lua_State.
 * Display P3 and Adobe RGB (1998) profiles are built with Little CMS from their published
 * primaries and embedded in JPEG (APP2, libjpeg's jpeg_write_icc_profile), PNG (iCCP,
 * libspng) and WebP (an ICCP chunk in a VP8X file assembled here). A P3-tagged pixel
 * (234, 51, 35) is sRGB's pure red, and Adobe RGB's (219, 0, 0) too: both must come out
 * near (255, 0, 0). CMYK JPEGs: plain and Adobe-inverted ink values without a profile
 * (the naive formula), and with Ghostscript's CMYK profile when it is installed. Also a
 * damaged profile (ignored, the picture still decodes) and a gray one (left alone). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include "harness.h"
#include "profiles.h"

#define GS_CMYK "/usr/share/color/icc/ghostscript/default_cmyk.icc"

static void set_bytes(lua_State *L, const char *name, const void *buf, size_t len) {
    lua_pushlstring(L, (const char *)buf, len);
    lua_setglobal(L, name);
}

static unsigned char *file_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* A w x h JPEG filled with one pixel value: 3 components (RGB) or 4 (CMYK as given; with
 * `adobe` libjpeg writes its APP14 marker), with an optional ICC profile. */
static void make_jpeg(lua_State *L, const char *name, int w, int h, const unsigned char *pixel,
                      int comps, int adobe, const unsigned char *icc, size_t icc_len) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL;
    unsigned long size = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    if (comps == 4)
        c.write_Adobe_marker = adobe ? TRUE : FALSE;
    jpeg_start_compress(&c, TRUE);
    if (icc != NULL)
        jpeg_write_icc_profile(&c, icc, (unsigned)icc_len);
    unsigned char *row = malloc((size_t)w * comps);
    for (int x = 0; x < w; x++)
        memcpy(row + x * comps, pixel, (size_t)comps);
    while (c.next_scanline < c.image_height)
        jpeg_write_scanlines(&c, &row, 1);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    set_bytes(L, name, out, size);
    free(out);
}

/* A w x h RGB PNG of one pixel value with an iCCP chunk. */
static void make_png(lua_State *L, const char *name, int w, int h, const unsigned char *pixel,
                     const unsigned char *icc, size_t icc_len) {
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    spng_set_ihdr(ctx, &ihdr);
    struct spng_iccp iccp = {.profile_name = "test", .profile_len = icc_len,
                             .profile = (char *)icc};
    spng_set_iccp(ctx, &iccp);
    size_t n = (size_t)w * h * 3;
    unsigned char *px = malloc(n);
    for (size_t i = 0; i < n; i += 3)
        memcpy(px + i, pixel, 3);
    int rc = spng_encode_image(ctx, px, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (rc)
        printf("#   spng_encode_image: %s\n", spng_strerror(rc));
    size_t size = 0;
    int err = 0;
    void *png = spng_get_png_buffer(ctx, &size, &err);
    set_bytes(L, name, png, size);
    free(png);
    free(px);
    spng_ctx_free(ctx);
}

static void le32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A lossless w x h WebP of one pixel value, rebuilt as an extended file:
 * RIFF, VP8X (ICC flag), ICCP, then the VP8L chunk libwebp wrote. */
static void make_webp(lua_State *L, const char *name, int w, int h, const unsigned char *pixel,
                      const unsigned char *icc, size_t icc_len) {
    size_t n = (size_t)w * h * 3;
    unsigned char *px = malloc(n), *simple = NULL;
    for (size_t i = 0; i < n; i += 3)
        memcpy(px + i, pixel, 3);
    size_t simple_len = WebPEncodeLosslessRGB(px, w, h, w * 3, &simple);
    free(px);
    size_t image_len = simple_len - 12, pad = icc_len & 1;
    size_t total = 12 + 18 + 8 + icc_len + pad + image_len;
    unsigned char *f = calloc(1, total), *p = f;
    memcpy(p, "RIFF", 4);
    le32(p + 4, (uint32_t)(total - 8));
    memcpy(p + 8, "WEBPVP8X", 8);
    le32(p + 16, 10);
    p[20] = 0x20;                                   /* ICC profile present */
    unsigned cw = (unsigned)w - 1, ch = (unsigned)h - 1;
    p[24] = cw & 0xff, p[25] = (cw >> 8) & 0xff, p[26] = (cw >> 16) & 0xff;
    p[27] = ch & 0xff, p[28] = (ch >> 8) & 0xff, p[29] = (ch >> 16) & 0xff;
    p += 30;
    memcpy(p, "ICCP", 4);
    le32(p + 4, (uint32_t)icc_len);
    memcpy(p + 8, icc, icc_len);
    p += 8 + icc_len + pad;
    memcpy(p, simple + 12, image_len);
    set_bytes(L, name, f, total);
    WebPFree(simple);
    free(f);
}

static const char *prelude =
    "I = core.image\n"
    "function colour(bytes, opts)\n"
    "  local bm, err = I.decode(bytes, opts)\n"
    "  if not bm then print('#   ' .. err) return {-1, -1, -1} end\n"
    "  local w, h = bm:size()\n"
    "  local px = {bm:pixel(w // 2, h // 2)}\n"
    "  bm:close()\n"
    "  return px\n"
    "end\n"
    "function near3(c, want, tol)\n"
    "  local ok = math.abs(c[1] - want[1]) <= tol and math.abs(c[2] - want[2]) <= tol\n"
    "    and math.abs(c[3] - want[3]) <= tol\n"
    "  if not ok then print(string.format('#   got %d %d %d, want %d %d %d', c[1], c[2],\n"
    "    c[3], want[1], want[2], want[3])) end\n"
    "  return ok\n"
    "end\n"
    "return true";

static void check_rgb_profiles(lua_State *L) {
    const unsigned char *p3_red = P3_SRGB_RED, *adobe_red = ADOBE_SRGB_RED;
    size_t p3_len, adobe_len;
    unsigned char *p3_icc = rgb_profile(DISPLAY_P3, 0, &p3_len);
    unsigned char *adobe_icc = rgb_profile(ADOBE_RGB, 563.0 / 256.0, &adobe_len);
    make_jpeg(L, "P3_JPEG", 64, 48, p3_red, 3, 0, p3_icc, p3_len);
    make_jpeg(L, "UNTAGGED_JPEG", 64, 48, p3_red, 3, 0, NULL, 0);
    make_jpeg(L, "ADOBE_JPEG", 64, 48, adobe_red, 3, 0, adobe_icc, adobe_len);
    make_png(L, "P3_PNG", 64, 48, p3_red, p3_icc, p3_len);
    make_webp(L, "P3_WEBP", 64, 48, p3_red, p3_icc, p3_len);
    unsigned char bogus[200];
    memset(bogus, 0x5a, sizeof(bogus));
    make_jpeg(L, "BOGUS_ICC_JPEG", 64, 48, p3_red, 3, 0, bogus, sizeof(bogus));
    free(p3_icc);
    free(adobe_icc);

    CHECK(run_lua(L, "return near3(colour(UNTAGGED_JPEG), {234, 51, 35}, 3)"),
          "an untagged jpeg is taken as sRGB and left as it is");
    CHECK(run_lua(L, "return near3(colour(P3_JPEG), {255, 0, 0}, 6)"),
          "a Display P3 jpeg (APP2 profile): P3 (234, 51, 35) comes out as sRGB red");
    CHECK(run_lua(L, "return near3(colour(ADOBE_JPEG), {255, 0, 0}, 6)"),
          "an Adobe RGB jpeg: (219, 0, 0) comes out as sRGB red");
    CHECK(run_lua(L, "return near3(colour(P3_JPEG, {fit = 16}), {255, 0, 0}, 6)"),
          "the profile is applied to a fitted jpeg too");
    CHECK(run_lua(L, "return near3(colour(P3_PNG), {255, 0, 0}, 2)\n"
                     "  and near3(colour(P3_PNG, {fit = 20}), {255, 0, 0}, 2)"),
          "a Display P3 png (iCCP), full size and fitted row by row");
    CHECK(run_lua(L, "local i = I.info(P3_WEBP)\n"
                     "return i and i.width == 64 and near3(colour(P3_WEBP), {255, 0, 0}, 2)"),
          "a Display P3 webp (ICCP chunk)");
    CHECK(run_lua(L, "return near3(colour(BOGUS_ICC_JPEG), {234, 51, 35}, 3)"),
          "a damaged profile is ignored and the picture still decodes");
}

static void check_cmyk(lua_State *L) {
    /* ink: 100% cyan; and 50% magenta + 50% black */
    static const unsigned char cyan[4] = {255, 0, 0, 0}, cyan_inv[4] = {0, 255, 255, 255};
    static const unsigned char mk[4] = {0, 128, 0, 128}, mk_inv[4] = {255, 127, 255, 127};
    make_jpeg(L, "CMYK_CYAN", 32, 32, cyan, 4, 0, NULL, 0);
    make_jpeg(L, "CMYK_MK", 32, 32, mk, 4, 0, NULL, 0);
    make_jpeg(L, "ADOBE_CYAN", 32, 32, cyan_inv, 4, 1, NULL, 0);
    make_jpeg(L, "ADOBE_MK", 32, 32, mk_inv, 4, 1, NULL, 0);
    CHECK(run_lua(L, "return near3(colour(CMYK_CYAN), {0, 255, 255}, 4)\n"
                     "  and near3(colour(CMYK_MK), {127, 63, 127}, 4)"),
          "a cmyk jpeg without a profile: the naive formula");
    CHECK(run_lua(L, "local bm <close> = I.decode(ADOBE_CYAN, {fit = 8})\n"
                     "local w, h = bm:size()\n"
                     "return w == 8 and h == 8 and bm:channels() == 3\n"
                     "  and near3(colour(ADOBE_CYAN), {0, 255, 255}, 4)\n"
                     "  and near3(colour(ADOBE_MK), {127, 63, 127}, 4)"),
          "an Adobe (inverted) cmyk jpeg without a profile, full size and fitted");
    size_t len = 0;
    unsigned char *gs = file_bytes(GS_CMYK, &len);
    if (gs == NULL) {
        printf("ok %d # SKIP %s not installed\n", ++harness_count, GS_CMYK);
        return;
    }
    make_jpeg(L, "PROFILED_CYAN", 32, 32, cyan_inv, 4, 1, gs, len);
    make_jpeg(L, "PROFILED_WHITE", 32, 32, (const unsigned char[4]){255, 255, 255, 255}, 4, 1,
              gs, len);
    free(gs);
    /* printing cyan is far from the screen's (0, 255, 255): a muted blue-green */
    CHECK(run_lua(L, "local c = colour(PROFILED_CYAN)\n"
                     "if not (c[1] < 60 and c[2] > 120 and c[3] > 190 and c[3] > c[2]) then\n"
                     "  print(string.format('#   cyan %d %d %d', c[1], c[2], c[3])) return false\n"
                     "end\n"
                     "return near3(colour(PROFILED_WHITE), {255, 255, 255}, 6)"),
          "an Adobe cmyk jpeg with a CMYK profile goes through Little CMS");
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(run_lua(L, prelude), "prelude");
    check_rgb_profiles(L);
    check_cmyk(L);
    lua_close(L);
    return harness_done();
}
