/* test_image.c -- core.image through a real lua_State. The test makes its own images:
 * a JPEG from a synthetic gradient (tjCompress2) and PNGs with libspng's encoder (RGB,
 * RGBA, 16-bit, grey, palette with tRNS). It checks info, full and scaled JPEG decode,
 * thumbnails in linear light, the eight EXIF orientations, the JPEG encode round trip,
 * and the refusals: empty, random and truncated input, mutated files, and headers
 * claiming 50000x50000 / 65535x65535 refused before any pixel buffer exists. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <stdio.h>

#include <jpeglib.h>
#include <spng.h>
#include <turbojpeg.h>

#include "harness.h"

int luaopen_core_image(lua_State *L);

static void set_bytes(lua_State *L, const char *name, const void *buf, size_t len) {
    lua_pushlstring(L, (const char *)buf, len);
    lua_setglobal(L, name);
}

/* R = x across the width, G = y down the height, B = 128 */
static unsigned char *gradient(int w, int h) {
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(x * 255 / (w - 1));
            p[1] = (unsigned char)(y * 255 / (h - 1));
            p[2] = 128;
        }
    return px;
}

/* Encodes RGB pixels as a JPEG into global `name`. */
static void make_jpeg(lua_State *L, const char *name, const unsigned char *px, int w, int h,
                      int quality) {
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long size = 0;
    if (tjCompress2(tj, px, w, 0, h, TJPF_RGB, &out, &size, TJSAMP_420, quality, 0) != 0)
        printf("#   tjCompress2: %s\n", tjGetErrorStr2(tj));
    set_bytes(L, name, out, size);
    tjFree(out);
    tjDestroy(tj);
}

/* Encodes raw PNG-format rows into global `name`; plte/trns optional. */
static void make_png(lua_State *L, const char *name, int w, int h, int color_type, int depth,
                     const void *data, size_t len, const struct spng_plte *plte,
                     const struct spng_trns *trns) {
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = (uint8_t)depth,
                             .color_type = (uint8_t)color_type};
    spng_set_ihdr(ctx, &ihdr);
    if (plte)
        spng_set_plte(ctx, (struct spng_plte *)plte);
    if (trns)
        spng_set_trns(ctx, (struct spng_trns *)trns);
    int rc = spng_encode_image(ctx, data, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (rc)
        printf("#   spng_encode_image: %s\n", spng_strerror(rc));
    size_t size = 0;
    int err = 0;
    void *png = spng_get_png_buffer(ctx, &size, &err);
    set_bytes(L, name, png, size);
    free(png);
    spng_ctx_free(ctx);
}

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A PNG whose IHDR (valid CRC) claims w x h RGBA, followed by a tiny IDAT and IEND. */
static void make_png_header(lua_State *L, const char *name, uint32_t w, uint32_t h) {
    unsigned char b[8 + 25 + 12 + 10 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char *p = b + 8;
    put32(p, 13);
    memcpy(p + 4, "IHDR", 4);
    put32(p + 8, w);
    put32(p + 12, h);
    p[16] = 8, p[17] = 6, p[18] = 0, p[19] = 0, p[20] = 0;
    put32(p + 21, crc32_of(p + 4, 17));
    p += 25;
    static const unsigned char z[10] = {0x78, 0x9c, 0x63, 0, 0, 0, 0, 1, 0, 1};
    put32(p, 10);
    memcpy(p + 4, "IDAT", 4);
    memcpy(p + 8, z, 10);
    put32(p + 18, crc32_of(p + 4, 14));
    p += 22;
    put32(p, 0);
    memcpy(p + 4, "IEND", 4);
    put32(p + 8, crc32_of(p + 4, 4));
    p += 12;
    set_bytes(L, name, b, (size_t)(p - b));
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char *prelude =
    "I = core.image\n"
    "function near(a, b, tol) return math.abs(a - b) <= tol end\n"
    /* checks the gradient at a few points of a w x h bitmap made from a gw x gh source */
    "function grad_ok(bm, tol)\n"
    "  local w, h = bm:size()\n"
    "  for _, f in ipairs({{0.1, 0.1}, {0.5, 0.5}, {0.9, 0.3}, {0.3, 0.9}, {0.75, 0.6}}) do\n"
    "    local x, y = math.floor(f[1] * w), math.floor(f[2] * h)\n"
    "    local r, g, b = bm:pixel(x, y)\n"
    "    local er, eg = (x + 0.5) / w * 255, (y + 0.5) / h * 255\n"
    "    if not (near(r, er, tol) and near(g, eg, tol) and near(b, 128, tol)) then\n"
    "      print(string.format('#   at %d,%d of %dx%d: %d %d %d, want %.1f %.1f 128',\n"
    "        x, y, w, h, r, g, b, er, eg))\n"
    "      return false\n"
    "    end\n"
    "  end\n"
    "  return true\n"
    "end\n"
    "function refused(want, ok, err)\n"
    "  if ok ~= nil or type(err) ~= 'string' then return false end\n"
    "  if want and err:sub(1, #want) ~= want then print('#   err: ' .. err) return false end\n"
    "  return true\n"
    "end\n"
    "return true";

static void check_bombs(lua_State *L) {
    long before = max_rss_kb();
    make_png_header(L, "PNG_BOMB", 50000, 50000);
    make_png_header(L, "PNG_BOMB2", 20000, 20000);
    CHECK(run_lua(L, "local i = I.info(PNG_BOMB)\n"
                     "return i and i.format == 'png' and i.width == 50000 and i.height == 50000"),
          "info reads a 50000x50000 png header without decoding");
    CHECK(run_lua(L, "return refused('image too large', I.decode(PNG_BOMB))\n"
                     "  and refused('image too large', I.decode(PNG_BOMB, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(PNG_BOMB2, {max_pixels = 1 << 28}))"),
          "png headers claiming 50000x50000 and 20000x20000 are too large");
    unsigned char *px = gradient(16, 16);
    make_jpeg(L, "SMALL_JPEG", px, 16, 16, 90);
    free(px);
    CHECK(run_lua(L, "local j = SMALL_JPEG\n"
                     "local at = j:find('\\xff[\\xc0-\\xc2]')\n"
                     "if not at then return false end\n"
                     "JPEG_BOMB = j:sub(1, at + 4) .. '\\xff\\xff\\xff\\xff' .. j:sub(at + 9)\n"
                     "local i = I.info(JPEG_BOMB)\n"
                     "return i and i.format == 'jpeg' and i.width == 65535 and i.height == 65535\n"
                     "  and refused('image too large', I.decode(JPEG_BOMB))\n"
                     "  and refused('image too large', I.decode(JPEG_BOMB, {max_pixels = 1 << 28, target = 64}))"),
          "a jpeg header claiming 65535x65535 is too large, even with a target");
    long grown = max_rss_kb() - before;
    if (grown >= 32 * 1024)
        printf("#   peak rss grew by %ld KiB\n", grown);
    CHECK(grown < 32 * 1024, "refusing the bombs allocated no pixel buffers (peak RSS < +32 MiB)");
}

static void check_jpeg(lua_State *L) {
    unsigned char *px = gradient(4000, 3000);
    make_jpeg(L, "BIG_JPEG", px, 4000, 3000, 90);
    free(px);
    CHECK(run_lua(L, "local i = I.info(BIG_JPEG)\n"
                     "return i.format == 'jpeg' and i.width == 4000 and i.height == 3000"),
          "info of a 4000x3000 jpeg");
    CHECK(run_lua(L, "local bm <close> = I.decode(BIG_JPEG)\n"
                     "local w, h = bm:size()\n"
                     "return w == 4000 and h == 3000 and bm:channels() == 3 and grad_ok(bm, 8)"),
          "full-size jpeg decode matches the gradient");
    CHECK(run_lua(L, "local want = {[300] = {500, 375}, [500] = {500, 375}, [501] = {1000, 750},\n"
                     "  [512] = {1000, 750}, [1000] = {1000, 750}, [1001] = {2000, 1500},\n"
                     "  [2000] = {2000, 1500}, [2001] = {4000, 3000}, [9000] = {4000, 3000},\n"
                     "  [1] = {500, 375}}\n"
                     "for target, wh in pairs(want) do\n"
                     "  local bm <close> = I.decode(BIG_JPEG, {target = target})\n"
                     "  local w, h = bm:size()\n"
                     "  if w ~= wh[1] or h ~= wh[2] or not grad_ok(bm, 8) then\n"
                     "    print('#   target ' .. target .. ' gave ' .. w .. 'x' .. h) return false\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "target picks the smallest of 1/2, 1/4, 1/8 that keeps the longest side >= target");
    CHECK(run_lua(L, "local bm <close> = I.decode(BIG_JPEG)\n"
                     "local t <close> = bm:thumbnail(512)\n"
                     "local w, h = t:size()\n"
                     "local s <close> = I.decode(BIG_JPEG, {target = 512})\n"
                     "local t2 <close> = s:thumbnail(512)\n"
                     "local w2, h2 = t2:size()\n"
                     "return w == 512 and h == 384 and grad_ok(t, 5)\n"
                     "  and w2 == 512 and h2 == 384 and grad_ok(t2, 5)"),
          "thumbnail of 4000x3000 (full or scaled decode) is 512x384 and keeps the gradient");
    CHECK(run_lua(L, "local bm <close> = I.decode(BIG_JPEG, {target = 300})\n"
                     "local t <close> = bm:thumbnail(9999)\n"
                     "local p <close> = bm:orient(6)\n"
                     "local tp <close> = p:thumbnail(100)\n"
                     "local w, h = t:size()\n"
                     "local pw, ph = tp:size()\n"
                     "local r1, g1, b1 = t:pixel(123, 45)\n"
                     "local r2, g2, b2 = bm:pixel(123, 45)\n"
                     "return w == 500 and h == 375 and r1 == r2 and g1 == g2 and b1 == b2\n"
                     "  and pw == 75 and ph == 100"),
          "thumbnail never upscales and handles portrait bitmaps");
    CHECK(run_lua(L, "local bm <close> = I.decode(BIG_JPEG, {target = 1000})\n"
                     "local out = bm:encode_jpeg(85)\n"
                     "local i = I.info(out)\n"
                     "local again <close> = I.decode(out)\n"
                     "local w, h = again:size()\n"
                     "return type(out) == 'string' and i.format == 'jpeg' and w == 1000 and h == 750\n"
                     "  and grad_ok(again, 10) and #bm:encode_jpeg(20) < #out"),
          "encode_jpeg round-trips and quality changes the size");
    CHECK(run_lua(L, "return refused('image too large', I.decode(BIG_JPEG, {max_pixels = 11999999}))\n"
                     "  and refused('image too large', I.decode(BIG_JPEG, {max_pixels = 11999999, target = 8}))\n"
                     "  and I.decode(BIG_JPEG, {max_pixels = 12000000, target = 8}) ~= nil"),
          "max_pixels is checked against the header size");
}

/* Colour stripes and a checkerboard over the gradient: detail at every scale, so the
 * streamed and buffered paths are compared where they could differ. */
static unsigned char *texture(int w, int h) {
    unsigned char *px = gradient(w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            if ((x / 7 + y / 5) % 2)
                p[2] = (unsigned char)(x % 11 * 23);
            if (x % 13 < 3)
                p[1] = 255 - p[1];
        }
    return px;
}

/* A progressive 48x48 JPEG into global `name` whose scan script sends every AC coefficient
 * of every component on its own, in bits from `al_max` down (one first scan and al_max
 * refinements): 1 + 3 * 63 * (al_max + 1) scans, every one allowed by the standard. */
static void make_many_scans(lua_State *L, const char *name, int al_max) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL, *px = gradient(48, 48);
    unsigned long size = 0;
    int n = 1 + 3 * 63 * (al_max + 1);
    jpeg_scan_info *scans = calloc((size_t)n, sizeof(*scans)), *sc = scans;
    sc->comps_in_scan = 3;
    for (int i = 0; i < 3; i++)
        sc->component_index[i] = i;
    sc++;                                           /* DC of all three, Ss = Se = 0 */
    for (int comp = 0; comp < 3; comp++)
        for (int k = 1; k < 64; k++)
            for (int al = al_max; al >= 0; al--, sc++) {
                sc->comps_in_scan = 1;
                sc->component_index[0] = comp;
                sc->Ss = sc->Se = k;
                sc->Ah = al == al_max ? 0 : al + 1;
                sc->Al = al;
            }
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &size);
    c.image_width = c.image_height = 48;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    c.scan_info = scans;
    c.num_scans = n;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * 48 * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    set_bytes(L, name, out, size);
    free(out);
    free(scans);
    free(px);
}

static void check_scan_limit(lua_State *L) {
    make_many_scans(L, "SCANS_379", 1);
    make_many_scans(L, "SCANS_946", 4);
    CHECK(run_lua(L, "local ok <close> = assert(I.decode(SCANS_379))\n"
                     "return grad_ok(ok, 8)\n"
                     "  and refused('corrupt image: more than 500 scans', I.decode(SCANS_946))"),
          "a progressive jpeg of 379 scans decodes, one of 946 is refused (a CPU bomb)");
}

static void check_streaming(lua_State *L) {
    unsigned char *px = texture(3000, 2000);
    make_jpeg(L, "TEXTURE", px, 3000, 2000, 92);
    free(px);
    CHECK(run_lua(L, "same = function(a, b, step)\n"
                     "  local w, h = a:size()\n"
                     "  local w2, h2 = b:size()\n"
                     "  if w ~= w2 or h ~= h2 then print('#   sizes differ') return false end\n"
                     "  for y = 0, h - 1, step do for x = 0, w - 1, step do\n"
                     "    local p, q = {a:pixel(x, y)}, {b:pixel(x, y)}\n"
                     "    for c = 1, #p do if p[c] ~= q[c] then\n"
                     "      print(string.format('#   at %d,%d: %d vs %d', x, y, p[c], q[c]))\n"
                     "      return false end end\n"
                     "  end end\n"
                     "  return true\n"
                     "end\n"
                     "for _, box in ipairs({512, 2048, 700}) do\n"
                     "  local fitted <close> = I.decode(TEXTURE, {fit = box})\n"
                     "  local whole <close> = I.decode(TEXTURE, {target = box})\n"
                     "  local thumb <close> = whole:thumbnail(box)\n"
                     "  if not same(fitted, thumb, box == 2048 and 3 or 1) then return false end\n"
                     "end\n"
                     "return true"),
          "fit (rows resampled as they are decoded) gives the pixels of decode + thumbnail");
    CHECK(run_lua(L, "local bm <close> = I.decode(BIG_JPEG, {fit = 512})\n"
                     "local w, h = bm:size()\n"
                     "local sw, sh = bm:source_size()\n"
                     "local t <close> = bm:thumbnail(100)\n"
                     "local o <close> = t:orient(6)\n"
                     "local tw, th = o:source_size()\n"
                     "local p <close> = I.decode(PNG_RGB, {fit = 10})\n"
                     "local pw, ph = p:size()\n"
                     "local psw, psh = p:source_size()\n"
                     "return w == 512 and h == 384 and sw == 4000 and sh == 3000 and tw == 4000\n"
                     "  and th == 3000 and grad_ok(bm, 5) and pw == 10 and ph == 5\n"
                     "  and psw == 40 and psh == 20"),
          "a fitted bitmap and what is made from it know the stored size");
    CHECK(run_lua(L, "local fitted <close> = I.decode(PNG_RGB, {fit = 10})\n"
                     "local whole <close> = I.decode(PNG_RGB)\n"
                     "local thumb <close> = whole:thumbnail(10)\n"
                     "local a <close> = I.decode(PNG_RGBA, {fit = 25})\n"
                     "local b <close> = I.decode(PNG_RGBA)\n"
                     "local bt <close> = b:thumbnail(25)\n"
                     "return same(fitted, thumb, 1) and same(a, bt, 1) and a:channels() == 4"),
          "a png is fitted row by row with the same pixels");
    CHECK(run_lua(L, "local dir = os.tmpname()\n"
                     "local function put(bytes)\n"
                     "  local f = assert(io.open(dir, 'wb')) f:write(bytes) f:close() return dir\n"
                     "end\n"
                     "local a <close> = assert(I.decode_file(put(TEXTURE), {fit = 512}))\n"
                     "local b <close> = I.decode(TEXTURE, {fit = 512})\n"
                     "local p <close> = assert(I.decode_file(put(PNG_RGBA), {fit = 20}))\n"
                     "local q <close> = I.decode(PNG_RGBA, {fit = 20})\n"
                     "local ok = same(a, b, 1) and same(p, q, 1)\n"
                     "  and refused('corrupt image: ', I.decode_file(put(TEXTURE:sub(1, 5000))))\n"
                     "  and refused('image too large', I.decode_file(put(BIG_JPEG), {max_pixels = 1000}))\n"
                     "  and refused('unsupported format', I.decode_file(put('hello')))\n"
                     "  and refused('unsupported format', I.decode_file(put('')))\n"
                     "os.remove(dir)\n"
                     "return ok and refused('cannot open the file: ', I.decode_file(dir))"),
          "decode_file: a jpeg read from its file, a png, and the refusals");
}

static void check_png(lua_State *L) {
    enum { W = 40, H = 20 };
    unsigned char rgb[W * H * 3], rgba[W * H * 4], grey[W * H], pal[W * H];
    uint16_t rgb16[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        int x = i % W, y = i / W, marker = x < 4 && y < 4;
        rgb[i * 3] = marker ? 255 : 0, rgb[i * 3 + 1] = (unsigned char)(y * 10),
        rgb[i * 3 + 2] = marker ? 0 : 255;
        memcpy(rgba + i * 4, rgb + i * 3, 3);
        rgba[i * 4 + 3] = (unsigned char)(x * 6);
        grey[i] = (unsigned char)(x * 6);
        pal[i] = (unsigned char)(x % 3);
        for (int c = 0; c < 3; c++)
            rgb16[i * 3 + c] = (uint16_t)(rgb[i * 3 + c] << 8 | 0x5a);
    }
    make_png(L, "PNG_RGB", W, H, SPNG_COLOR_TYPE_TRUECOLOR, 8, rgb, sizeof(rgb), NULL, NULL);
    make_png(L, "PNG_RGBA", W, H, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, rgba, sizeof(rgba), NULL,
             NULL);
    make_png(L, "PNG_16", W, H, SPNG_COLOR_TYPE_TRUECOLOR, 16, rgb16, sizeof(rgb16), NULL, NULL);
    make_png(L, "PNG_GREY", W, H, SPNG_COLOR_TYPE_GRAYSCALE, 8, grey, sizeof(grey), NULL, NULL);
    struct spng_plte plte = {.n_entries = 3,
                             .entries = {{10, 20, 30, 0}, {200, 100, 50, 0}, {0, 255, 0, 0}}};
    struct spng_trns trns = {.n_type3_entries = 3, .type3_alpha = {255, 128, 0}};
    make_png(L, "PNG_PAL", W, H, SPNG_COLOR_TYPE_INDEXED, 8, pal, sizeof(pal), &plte, NULL);
    make_png(L, "PNG_PALT", W, H, SPNG_COLOR_TYPE_INDEXED, 8, pal, sizeof(pal), &plte, &trns);

    CHECK(run_lua(L, "local i = I.info(PNG_RGB)\n"
                     "return i.format == 'png' and i.width == 40 and i.height == 20"),
          "info of a png");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_RGB)\n"
                     "local w, h = bm:size()\n"
                     "local r, g, b = bm:pixel(0, 0)\n"
                     "local r2, g2, b2, a2 = bm:pixel(10, 7)\n"
                     "return w == 40 and h == 20 and bm:channels() == 3\n"
                     "  and r == 255 and g == 0 and b == 0 and r2 == 0 and g2 == 70 and b2 == 255\n"
                     "  and a2 == nil"),
          "rgb png decodes exactly");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_RGBA)\n"
                     "local r, g, b, a = bm:pixel(10, 7)\n"
                     "return bm:channels() == 4 and r == 0 and g == 70 and b == 255 and a == 60"),
          "rgba png keeps alpha");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_16)\n"
                     "local r, g, b = bm:pixel(10, 7)\n"
                     "local r0, g0, b0 = bm:pixel(1, 1)\n"
                     "return bm:channels() == 3 and r == 0 and g == 70 and b == 255\n"
                     "  and r0 == 255 and g0 == 10 and b0 == 0"),
          "16-bit png converts to 8 bits");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_GREY)\n"
                     "local r, g, b = bm:pixel(10, 3)\n"
                     "return bm:channels() == 3 and r == 60 and g == 60 and b == 60"),
          "grey png expands to rgb");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_PAL)\n"
                     "local t <close> = I.decode(PNG_PALT)\n"
                     "local r, g, b = bm:pixel(1, 0)\n"
                     "local tr, tg, tb, ta = t:pixel(1, 0)\n"
                     "local _, _, _, ta0 = t:pixel(0, 0)\n"
                     "local _, _, _, ta2 = t:pixel(2, 0)\n"
                     "return bm:channels() == 3 and r == 200 and g == 100 and b == 50\n"
                     "  and t:channels() == 4 and tr == 200 and tg == 100 and tb == 50\n"
                     "  and ta == 128 and ta0 == 255 and ta2 == 0"),
          "palette png expands, and tRNS gives alpha");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_RGBA)\n"
                     "local t <close> = bm:thumbnail(20)\n"
                     "local w, h = t:size()\n"
                     "local _, _, _, a = t:pixel(15, 5)\n"
                     "local jpg = bm:encode_jpeg(95)\n"
                     "local back <close> = I.decode(jpg)\n"
                     "local r, g, b = back:pixel(1, 10)\n"
                     "return w == 20 and h == 10 and t:channels() == 4 and near(a, 183, 4)\n"
                     "  and back:channels() == 3 and r > 240 and g > 240 and b > 240"),
          "rgba thumbnails keep alpha; encode_jpeg flattens onto white");
    /* where the top-left marker lands after each EXIF orientation */
    CHECK(run_lua(L, "local want = {'tl', 'tr', 'br', 'bl', 'tl', 'tr', 'br', 'bl'}\n"
                     "local bm <close> = I.decode(PNG_RGB)\n"
                     "for o = 1, 8 do\n"
                     "  local r <close> = bm:orient(o)\n"
                     "  local w, h = r:size()\n"
                     "  if (o >= 5) ~= (w == 20 and h == 40) then return false end\n"
                     "  local at = {tl = {0, 0}, tr = {w - 1, 0}, bl = {0, h - 1}, br = {w - 1, h - 1}}\n"
                     "  for name, xy in pairs(at) do\n"
                     "    local red = r:pixel(xy[1], xy[2]) == 255\n"
                     "    if red ~= (name == want[o]) then\n"
                     "      print('#   orientation ' .. o .. ' corner ' .. name) return false\n"
                     "    end\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "orient 1..8 moves the corner marker and swaps sides for 5..8");
}

static void check_hostile(lua_State *L) {
    CHECK(run_lua(L, "return refused('unsupported format', I.decode(''))\n"
                     "  and refused('unsupported format', I.info(''))"),
          "0 bytes: unsupported format");
    CHECK(run_lua(L, "math.randomseed(7)\n"
                     "for n = 1, 200 do\n"
                     "  local t = {}\n"
                     "  for i = 1, 10 do t[i] = string.char(math.random(0, 255)) end\n"
                     "  local s = table.concat(t)\n"
                     "  if not refused(nil, I.decode(s)) or not refused(nil, I.info(s)) then return false end\n"
                     "  local j, p = '\\xff\\xd8\\xff' .. s, '\\x89PNG\\r\\n\\x1a\\n' .. s\n"
                     "  local _, je = I.decode(j)\n"
                     "  if not (je:find('^corrupt image: ') or je == 'image too large')"
                     " or not refused('corrupt image: ', I.decode(p)) then return false end\n"
                     "end\n"
                     "return true"),
          "random bytes, alone or after a jpeg/png signature: nil, err");
    unsigned char *px = gradient(64, 48);
    make_jpeg(L, "JPEG", px, 64, 48, 80);
    free(px);
    CHECK(run_lua(L, "for cut = 0, #JPEG - 1 do\n"
                     "  local s = JPEG:sub(1, cut)\n"
                     "  if not refused(nil, I.decode(s)) then print('#   cut ' .. cut) return false end\n"
                     "end\n"
                     "return I.decode(JPEG) ~= nil"),
          "a jpeg truncated at every byte: nil, err");
    CHECK(run_lua(L, "local n = 0\n"
                     "for cut = 0, #PNG_RGBA - 1 do\n"
                     "  local bm, err = I.decode(PNG_RGBA:sub(1, cut))\n"
                     "  if cut < #PNG_RGBA - 16 and not refused(nil, bm, err) then\n"
                     "    print('#   cut ' .. cut .. ' of ' .. #PNG_RGBA) return false\n"
                     "  end\n"
                     "  if bm then n = n + 1 end\n"
                     "end\n"
                     "return n <= 16"),
          "a png truncated at every byte: nil, err (only the last IDAT CRC and IEND may go missing)");
    CHECK(run_lua(L, "math.randomseed(11)\n"
                     "for _, src in ipairs({JPEG, PNG_RGBA, PNG_PALT, PNG_16}) do\n"
                     "  for n = 1, 1500 do\n"
                     "    local b = {src:byte(1, -1)}\n"
                     "    for _ = 1, math.random(1, 4) do\n"
                     "      b[math.random(1, #b)] = math.random(0, 255)\n"
                     "    end\n"
                     "    local s = string.char(table.unpack(b))\n"
                     "    local bm, err = I.decode(s, {max_pixels = 1 << 20})\n"
                     "    if bm then\n"
                     "      local w, h = bm:size()\n"
                     "      local t <close> = bm:thumbnail(16)\n"
                     "      bm:close()\n"
                     "    elseif type(err) ~= 'string' then return false end\n"
                     "    I.info(s)\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "6000 mutated jpeg/png files never crash");
}

static void check_handles(lua_State *L) {
    CHECK(run_lua(L, "local bm = I.decode(PNG_RGB)\n"
                     "bm:close() bm:close()\n"
                     "return not pcall(bm.size, bm) and not pcall(bm.thumbnail, bm, 8)\n"
                     "  and not pcall(bm.encode_jpeg, bm, 80)"),
          "close is idempotent and a closed bitmap raises");
    CHECK(run_lua(L, "local bm <close> = I.decode(PNG_RGB)\n"
                     "return not pcall(I.decode, PNG_RGB, {max_pixels = 0})\n"
                     "  and not pcall(I.decode, PNG_RGB, {target = 'x'})\n"
                     "  and not pcall(I.decode, PNG_RGB, {fit = 0}) and not pcall(I.decode_file, nil)\n"
                     "  and not pcall(I.decode, PNG_RGB, 5) and not pcall(I.decode, nil)\n"
                     "  and not pcall(bm.orient, bm, 0) and not pcall(bm.orient, bm, 9)\n"
                     "  and not pcall(bm.thumbnail, bm, 0) and not pcall(bm.encode_jpeg, bm, 101)\n"
                     "  and not pcall(bm.pixel, bm, 40, 0) and not pcall(bm.pixel, bm, 0, -1)"),
          "bad arguments raise");
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(run_lua(L, prelude), "prelude");
    check_bombs(L);
    check_png(L);
    check_jpeg(L);
    check_streaming(L);
    check_scan_limit(L);
    check_hostile(L);
    check_handles(L);
    lua_close(L);
    return harness_done();
}
