/* test_image_formats.c -- WebP, GIF and BMP in core.image through a real lua_State.
 * WebPs come from libwebp's encoder (lossy RGB, lossless RGBA); GIFs and BMPs are
 * written here byte by byte (GIF89a with a 4-colour table and 3-bit LZW codes, a clear
 * code every two pixels so the code size never grows; 24-bit BI_RGB BMPs, bottom-up
 * and top-down). It checks info, exact pixels, thumbnails, and the refusals: every
 * truncation, random mutations, and headers claiming 50000x50000 or a huge WebP canvas
 * refused as "image too large" before any pixel buffer exists. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <webp/encode.h>

#include "harness.h"

static void set_bytes(lua_State *L, const char *name, const void *buf, size_t len) {
    lua_pushlstring(L, (const char *)buf, len);
    lua_setglobal(L, name);
}

static const unsigned char palette[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

/* quadrant colour index of (x, y) in a w x h picture: 0 1 / 2 3 */
static int quadrant(int x, int y, int w, int h) { return (y >= h / 2) * 2 + (x >= w / 2); }

typedef struct { unsigned char *p; size_t n, cap; } out_buf;

static void put(out_buf *o, const void *src, size_t n) {
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, src, n);
    o->n += n;
}

static void put_byte(out_buf *o, unsigned v) {
    unsigned char c = (unsigned char)v;
    put(o, &c, 1);
}

static void put_le16(out_buf *o, unsigned v) {
    put_byte(o, v & 0xff);
    put_byte(o, (v >> 8) & 0xff);
}

static void put_le32(out_buf *o, uint32_t v) {
    put_le16(o, v & 0xffff);
    put_le16(o, v >> 16);
}

/* A GIF89a of the quadrant picture; `transparent` >= 0 adds a GCE with that index.
 * `pixels` 0 writes the header only (for bombs). */
static void make_gif(lua_State *L, const char *name, int w, int h, int transparent, int pixels) {
    out_buf o = {0};
    put(&o, "GIF89a", 6);
    put_le16(&o, (unsigned)w);
    put_le16(&o, (unsigned)h);
    put_byte(&o, 0x81);                 /* global table, 4 entries */
    put_byte(&o, 0);
    put_byte(&o, 0);
    put(&o, palette, sizeof(palette));
    if (transparent >= 0) {
        static const unsigned char gce[] = {0x21, 0xf9, 4, 1, 0, 0};
        put(&o, gce, sizeof(gce));
        put_byte(&o, (unsigned)transparent);
        put_byte(&o, 0);
    }
    put_byte(&o, 0x2c);
    put_le16(&o, 0);
    put_le16(&o, 0);
    put_le16(&o, (unsigned)w);
    put_le16(&o, (unsigned)h);
    put_byte(&o, 0);
    put_byte(&o, 2);                    /* LZW minimum code size: clear 4, end 5 */
    if (pixels) {
        /* codes: clear, then each index, with a clear before every second pixel pair */
        out_buf lzw = {0};
        uint32_t acc = 0;
        int bits = 0;
        size_t npx = (size_t)w * h;
        for (size_t i = 0; i <= npx; i++) {
            unsigned codes[2];
            int nc = 0;
            if (i % 2 == 0)
                codes[nc++] = 4;
            if (i < npx)
                codes[nc++] = (unsigned)quadrant((int)(i % w), (int)(i / w), w, h);
            else
                codes[nc++] = 5;
            for (int k = 0; k < nc; k++) {
                acc |= codes[k] << bits;
                bits += 3;
                while (bits >= 8) {
                    put_byte(&lzw, acc & 0xff);
                    acc >>= 8;
                    bits -= 8;
                }
            }
        }
        if (bits > 0)
            put_byte(&lzw, acc & 0xff);
        for (size_t i = 0; i < lzw.n; i += 255) {
            size_t n = lzw.n - i < 255 ? lzw.n - i : 255;
            put_byte(&o, (unsigned)n);
            put(&o, lzw.p + i, n);
        }
        free(lzw.p);
    }
    put_byte(&o, 0);
    put_byte(&o, 0x3b);
    set_bytes(L, name, o.p, o.n);
    free(o.p);
}

/* A 24-bit BI_RGB BMP of the quadrant picture; negative h = top-down rows.
 * `pixels` 0 writes the headers only. */
static void make_bmp(lua_State *L, const char *name, int w, int h, int pixels) {
    int ah = h < 0 ? -h : h;
    size_t stride = ((size_t)w * 3 + 3) / 4 * 4, data = pixels ? stride * (size_t)ah : 0;
    out_buf o = {0};
    put(&o, "BM", 2);
    put_le32(&o, (uint32_t)(54 + data));
    put_le32(&o, 0);
    put_le32(&o, 54);
    put_le32(&o, 40);
    put_le32(&o, (uint32_t)w);
    put_le32(&o, (uint32_t)h);
    put_le16(&o, 1);
    put_le16(&o, 24);
    put_le32(&o, 0);                    /* BI_RGB */
    put_le32(&o, (uint32_t)data);
    put_le32(&o, 2835);
    put_le32(&o, 2835);
    put_le32(&o, 0);
    put_le32(&o, 0);
    for (int r = 0; pixels && r < ah; r++) {
        int y = h < 0 ? r : ah - 1 - r;
        for (int x = 0; x < w; x++) {
            const unsigned char *c = palette[quadrant(x, y, w, ah)];
            unsigned char bgr[3] = {c[2], c[1], (unsigned char)(c[0] - (x == 0 && y == 0))};
            put(&o, bgr, 3);
        }
        for (size_t k = (size_t)w * 3; k < stride; k++)
            put_byte(&o, 0);
    }
    set_bytes(L, name, o.p, o.n);
    free(o.p);
}

/* R = x across the width, G = y down the height, B = 128, A = 255 - 4x (when rgba) */
static unsigned char *gradient(int w, int h, int ch) {
    unsigned char *px = malloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * ch;
            p[0] = (unsigned char)(x * 255 / (w - 1));
            p[1] = (unsigned char)(y * 255 / (h - 1));
            p[2] = 128;
            if (ch == 4)
                p[3] = (unsigned char)(255 - 4 * (x % 60));
        }
    return px;
}

static void make_webps(lua_State *L) {
    unsigned char *rgb = gradient(320, 240, 3), *rgba = gradient(64, 48, 4), *out = NULL;
    size_t n = WebPEncodeRGB(rgb, 320, 240, 320 * 3, 90, &out);
    set_bytes(L, "WEBP_LOSSY", out, n);
    WebPFree(out);
    n = WebPEncodeLosslessRGBA(rgba, 64, 48, 64 * 4, &out);
    set_bytes(L, "WEBP_LOSSLESS", out, n);
    WebPFree(out);
    free(rgb);
    free(rgba);
}

/* RIFF/WEBP with a VP8X chunk whose canvas is cw x ch, then `tail` (may be empty). */
static void make_webp_vp8x(lua_State *L, const char *name, uint32_t cw, uint32_t ch) {
    out_buf o = {0};
    put(&o, "RIFF", 4);
    put_le32(&o, 4 + 18);
    put(&o, "WEBP", 4);
    put(&o, "VP8X", 4);
    put_le32(&o, 10);
    put_le32(&o, 0);
    for (int k = 0; k < 3; k++)
        put_byte(&o, ((cw - 1) >> (8 * k)) & 0xff);
    for (int k = 0; k < 3; k++)
        put_byte(&o, ((ch - 1) >> (8 * k)) & 0xff);
    set_bytes(L, name, o.p, o.n);
    free(o.p);
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char *prelude =
    "I = core.image\n"
    "function near(a, b, tol) return math.abs(a - b) <= tol end\n"
    "function refused(want, ok, err)\n"
    "  if ok ~= nil or type(err) ~= 'string' then return false end\n"
    "  if want and err:sub(1, #want) ~= want then print('#   err: ' .. err) return false end\n"
    "  return true\n"
    "end\n"
    "function info_is(s, fmt, w, h)\n"
    "  local i, err = I.info(s)\n"
    "  if not i or i.format ~= fmt or i.width ~= w or i.height ~= h then\n"
    "    print('#   info: ' .. (i and (i.format .. ' ' .. i.width .. 'x' .. i.height) or err))\n"
    "    return false\n"
    "  end\n"
    "  return true\n"
    "end\n"
    /* the quadrant picture: red, green / blue, white */
    "Q = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}}\n"
    "function quad_ok(bm, tol)\n"
    "  local w, h = bm:size()\n"
    "  for y = 0, h - 1 do for x = 0, w - 1 do\n"
    "    local q = Q[(y >= h // 2 and 2 or 0) + (x >= w // 2 and 1 or 0) + 1]\n"
    "    local r, g, b = bm:pixel(x, y)\n"
    "    if (x > 0 or y > 0 or tol > 0) and not (near(r, q[1], tol) and near(g, q[2], tol)\n"
    "        and near(b, q[3], tol)) then\n"
    "      print(string.format('#   at %d,%d: %d %d %d', x, y, r, g, b)) return false\n"
    "    end\n"
    "  end end\n"
    "  return true\n"
    "end\n"
    "function every_cut_refused(src, name, keep)\n"
    "  for cut = 0, #src - 1 - (keep or 0) do\n"
    "    local s = src:sub(1, cut)\n"
    "    if not refused(nil, I.decode(s)) then print('#   ' .. name .. ' cut ' .. cut) return false end\n"
    "    I.info(s)\n"
    "  end\n"
    "  return I.decode(src) ~= nil\n"
    "end\n"
    "return true";

static void check_webp(lua_State *L) {
    make_webps(L);
    CHECK(run_lua(L, "return info_is(WEBP_LOSSY, 'webp', 320, 240)\n"
                     "  and info_is(WEBP_LOSSLESS, 'webp', 64, 48)"),
          "info of lossy and lossless webp");
    CHECK(run_lua(L, "local bm <close> = I.decode(WEBP_LOSSY)\n"
                     "local w, h = bm:size()\n"
                     "if w ~= 320 or h ~= 240 or bm:channels() ~= 3 then return false end\n"
                     "for _, xy in ipairs({{32, 24}, {160, 120}, {288, 72}, {100, 200}}) do\n"
                     "  local r, g, b = bm:pixel(xy[1], xy[2])\n"
                     "  if not (near(r, xy[1] * 255 / 319, 10) and near(g, xy[2] * 255 / 239, 10)\n"
                     "      and near(b, 128, 10)) then return false end\n"
                     "end\n"
                     "return true"),
          "lossy webp decodes to rgb close to the gradient");
    CHECK(run_lua(L, "local bm <close> = I.decode(WEBP_LOSSLESS)\n"
                     "if bm:channels() ~= 4 then return false end\n"
                     "for _, xy in ipairs({{0, 0}, {63, 47}, {10, 7}, {40, 30}}) do\n"
                     "  local x, y = xy[1], xy[2]\n"
                     "  local r, g, b, a = bm:pixel(x, y)\n"
                     "  if r ~= x * 255 // 63 or g ~= y * 255 // 47 or b ~= 128\n"
                     "      or a ~= 255 - 4 * (x % 60) then return false end\n"
                     "end\n"
                     "return true"),
          "lossless rgba webp decodes exactly, alpha included");
    CHECK(run_lua(L, "local bm <close> = I.decode(WEBP_LOSSY)\n"
                     "local t <close> = bm:thumbnail(64)\n"
                     "local w, h = t:size()\n"
                     "local l <close> = I.decode(WEBP_LOSSLESS)\n"
                     "local tl <close> = l:thumbnail(16)\n"
                     "local lw, lh = tl:size()\n"
                     "local r, g = t:pixel(32, 24)\n"
                     "return w == 64 and h == 48 and lw == 16 and lh == 12 and tl:channels() == 4\n"
                     "  and near(r, 32.5 / 64 * 255, 10) and near(g, 24.5 / 48 * 255, 10)\n"
                     "  and I.decode(bm:encode_jpeg(80)) ~= nil"),
          "webp thumbnails and re-encoding");
}

static void check_gif_bmp(lua_State *L) {
    make_gif(L, "GIF", 8, 8, -1, 1);
    make_gif(L, "GIF_2", 2, 2, -1, 1);
    make_gif(L, "GIF_T", 8, 8, 3, 1);
    make_gif(L, "GIF_BIG", 200, 96, -1, 1);
    make_bmp(L, "BMP", 5, 3, 1);
    make_bmp(L, "BMP_TD", 6, -4, 1);
    make_bmp(L, "BMP_BIG", 200, 96, 1);
    CHECK(run_lua(L, "return info_is(GIF, 'gif', 8, 8) and info_is(GIF_2, 'gif', 2, 2)\n"
                     "  and info_is(BMP, 'bmp', 5, 3) and info_is(BMP_TD, 'bmp', 6, 4)"),
          "info of gif and bmp");
    CHECK(run_lua(L, "local g <close> = I.decode(GIF)\n"
                     "local g2 <close> = I.decode(GIF_2)\n"
                     "local w, h = g:size()\n"
                     "local r, gg, b = g:pixel(0, 0)\n"
                     "return w == 8 and h == 8 and g:channels() == 3 and quad_ok(g, 0)\n"
                     "  and g2:channels() == 3 and quad_ok(g2, 0) and r == 255 and gg == 0 and b == 0"),
          "opaque gif decodes exactly to rgb");
    CHECK(run_lua(L, "local g <close> = I.decode(GIF_T)\n"
                     "local _, _, _, a0 = g:pixel(0, 0)\n"
                     "local _, _, _, a3 = g:pixel(7, 7)\n"
                     "return g:channels() == 4 and a0 == 255 and a3 == 0"),
          "gif transparency gives rgba");
    CHECK(run_lua(L, "local b <close> = I.decode(BMP)\n"
                     "local t <close> = I.decode(BMP_TD)\n"
                     "local r, g, bb = b:pixel(0, 0)\n"
                     "local tr = t:pixel(0, 0)\n"
                     "return b:channels() == 3 and quad_ok(b, 0) and quad_ok(t, 0)\n"
                     "  and r == 254 and g == 0 and bb == 0 and tr == 254"),
          "bmp bottom-up (padded rows) and top-down decode exactly");
    CHECK(run_lua(L, "for _, src in ipairs({GIF_BIG, BMP_BIG}) do\n"
                     "  local bm <close> = I.decode(src)\n"
                     "  local t <close> = bm:thumbnail(50)\n"
                     "  local w, h = t:size()\n"
                     "  if w ~= 50 or h ~= 24 or not quad_ok(t, 1) then return false end\n"
                     "end\n"
                     "return true"),
          "gif and bmp thumbnails");
}

static void check_bombs(lua_State *L) {
    long before = max_rss_kb();
    make_gif(L, "GIF_BOMB", 50000, 50000, -1, 0);
    make_bmp(L, "BMP_BOMB", 50000, 50000, 0);
    make_bmp(L, "BMP_BOMB_TD", 50000, -50000, 0);
    make_gif(L, "GIF_WIDE", 16385, 1, -1, 0);
    make_bmp(L, "BMP_WIDE", 16385, 1, 1);
    make_webp_vp8x(L, "WEBP_CANVAS", 1u << 24, 1u << 24);
    make_webp_vp8x(L, "WEBP_CANVAS2", 16384, 20000);
    CHECK(run_lua(L, "return refused('image too large', I.decode(GIF_BOMB))\n"
                     "  and refused('image too large', I.decode(GIF_BOMB, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(BMP_BOMB, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(BMP_BOMB_TD, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(GIF_WIDE))\n"
                     "  and refused('image too large', I.decode(BMP_WIDE))\n"
                     "  and info_is(GIF_BOMB, 'gif', 50000, 50000)\n"
                     "  and info_is(BMP_BOMB, 'bmp', 50000, 50000)"),
          "gif and bmp headers claiming 50000x50000 or a side over 16384 are too large");
    CHECK(run_lua(L, "local s = WEBP_LOSSLESS\n"
                     "local at = s:find('VP8L', 1, true)\n"
                     "WEBP_HUGE = s:sub(1, at + 8) .. '\\xff\\xff\\xff\\x0f' .. s:sub(at + 13)\n"
                     "return info_is(WEBP_HUGE, 'webp', 16384, 16384)\n"
                     "  and refused('image too large', I.decode(WEBP_HUGE))\n"
                     "  and info_is(WEBP_CANVAS, 'webp', 1 << 24, 1 << 24)\n"
                     "  and refused('image too large', I.decode(WEBP_CANVAS, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(WEBP_CANVAS2, {max_pixels = 1 << 28}))\n"
                     "  and refused('image too large', I.decode(WEBP_LOSSY, {max_pixels = 76799}))\n"
                     "  and I.decode(WEBP_LOSSY, {max_pixels = 76800}) ~= nil"),
          "webp with a huge canvas is too large; max_pixels is checked against the header");
    long grown = max_rss_kb() - before;
    if (grown >= 32 * 1024)
        printf("#   peak rss grew by %ld KiB\n", grown);
    CHECK(grown < 32 * 1024, "refusing the bombs allocated no pixel buffers (peak RSS < +32 MiB)");
}

static void check_hostile(lua_State *L) {
    CHECK(run_lua(L, "return every_cut_refused(WEBP_LOSSY, 'lossy webp')\n"
                     "  and every_cut_refused(WEBP_LOSSLESS, 'lossless webp')"),
          "a webp truncated at every byte: nil, err");
    CHECK(run_lua(L, "return every_cut_refused(GIF, 'gif', 1) and every_cut_refused(GIF_T, 'gif', 1)\n"
                     "  and every_cut_refused(GIF_2:sub(1, -2), 'gif without trailer')\n"
                     "  and I.decode(GIF_2:sub(1, -2)) ~= nil\n"
                     "  and every_cut_refused(BMP, 'bmp') and every_cut_refused(BMP_TD, 'bmp')"),
          "a gif or bmp truncated at every byte: nil, err (the gif trailer is optional)");
    CHECK(run_lua(L, "math.randomseed(7)\n"
                     "for n = 1, 200 do\n"
                     "  local t = {}\n"
                     "  for i = 1, 40 do t[i] = string.char(math.random(0, 255)) end\n"
                     "  local s = table.concat(t)\n"
                     "  for _, p in ipairs({'RIFF\\0\\0\\0\\0WEBP', 'GIF89a', 'GIF87a', 'BM'}) do\n"
                     "    local bm, err = I.decode(p .. s)\n"
                     "    if bm then bm:close() elseif type(err) ~= 'string' then return false end\n"
                     "    I.info(p .. s)\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "random bytes after a webp/gif/bmp signature never crash");
    CHECK(run_lua(L, "math.randomseed(11)\n"
                     "for _, src in ipairs({WEBP_LOSSY, WEBP_LOSSLESS, GIF, GIF_T, BMP, BMP_TD}) do\n"
                     "  for n = 1, 1500 do\n"
                     "    local b = {src:byte(1, -1)}\n"
                     "    for _ = 1, math.random(1, 4) do\n"
                     "      b[math.random(1, #b)] = math.random(0, 255)\n"
                     "    end\n"
                     "    local s = string.char(table.unpack(b))\n"
                     "    local bm, err = I.decode(s, {max_pixels = 1 << 20})\n"
                     "    if bm then\n"
                     "      local t <close> = bm:thumbnail(16)\n"
                     "      bm:close()\n"
                     "    elseif type(err) ~= 'string' then return false end\n"
                     "    I.info(s)\n"
                     "  end\n"
                     "end\n"
                     "return true"),
          "9000 mutated webp/gif/bmp files never crash");
}

int main(void) {
    lua_State *L = harness_state();
    CHECK(run_lua(L, prelude), "prelude");
    check_webp(L);
    check_gif_bmp(L);
    check_bombs(L);
    check_hostile(L);
    lua_close(L);
    return harness_done();
}
