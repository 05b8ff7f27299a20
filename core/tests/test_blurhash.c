/* test_blurhash.c -- the BlurHash encoder (core/blurhash.c) directly and through
 * bitmap:blurhash(). Known vectors are worked out by hand below; the rest are properties
 * that hold without decoding an image: length 4 + 2xy, the size flag, alpha ignored,
 * grey stays grey, a transpose-symmetric image gives a symmetric AC table, gradients put
 * their energy in the matching first AC component with the right sign, and the refusals.
 *
 * Hand computation for a solid colour with 1 x 1 components (the DC-only hash):
 *   - the DC factor is the mean of sRGB->linear over the pixels, i.e. the linear value
 *     itself (4 x 4 pixels: a sum of 16 equal floats times 1/16 is exact);
 *   - linear->sRGB of it rounds back to the byte (255 -> 1.0 -> 255; 128 -> 0.2158605
 *     -> 128.49.. -> 128), so DC = R << 16 | G << 8 | B;
 *   - size flag (1-1) + (1-1)*9 = 0 -> "0"; no AC so the max digit is 0 -> "0";
 *   - DC in four base83 digits (83^3 = 571787, 83^2 = 6889), alphabet
 *     0-9 A-Z a-z then # $ % * + , - . : ; = ? @ [ ] ^ _ { | } ~ (62..82):
 *     red   0xFF0000 = 16711680 = 29*571787 + 18*6889 + 70*83 + 45 -> T I : j -> "00TI:j"
 *     grey  0x808080 =  8421504 = 14*571787 + 60*6889 + 37*83 + 75 -> E y b [ -> "00Eyb["
 *     white 0xFFFFFF = 16777215 = 29*571787 + 28*6889 + 30*83 + 10 -> T S U A -> "00TSUA"
 *     black 0 -> "000000".
 * Black with 4 x 3 components: size flag 3 + 2*9 = 21 -> "L"; every AC factor is exactly
 *   0, so the max is max(0, floor(0*166 - 0.5)) = 0 -> "0"; DC "0000"; each AC quantises
 *   to floor(0*9 + 9.5) = 9 per channel, 9*361 + 9*19 + 9 = 3429 = 41*83 + 26 -> "fQ";
 *   so "L00000" + 11 x "fQ". */
#include <stdint.h>
#include <stdlib.h>

#include <spng.h>

#include "../blurhash.h"
#include "harness.h"

int luaopen_core_image(lua_State *L);

static unsigned char *solid(int w, int h, int ch, int r, int g, int b) {
    unsigned char *px = malloc((size_t)w * h * ch);
    for (int i = 0; i < w * h; i++) {
        unsigned char *p = px + (size_t)i * ch;
        p[0] = (unsigned char)r, p[1] = (unsigned char)g, p[2] = (unsigned char)b;
        if (ch == 4)
            p[3] = 255;
    }
    return px;
}

/* horizontal != 0: dark to bright left to right in all channels; else top to bottom */
static unsigned char *gradient(int w, int h, int horizontal) {
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = horizontal ? x * 255 / (w - 1) : y * 255 / (h - 1);
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            p[0] = p[1] = p[2] = (unsigned char)v;
        }
    return px;
}

static int digit83(char c) {
    static const char a[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
    const char *p = strchr(a, c);
    return c && p ? (int)(p - a) : -1;
}

/* The AC at component (cx, cy) of a hash with xc components across: quantised r, g, b (0..18). */
static void ac_at(const char *hash, int xc, int cx, int cy, int q[3]) {
    int i = cy * xc + cx; /* i >= 1 */
    const char *s = hash + 6 + 2 * (i - 1);
    int v = digit83(s[0]) * 83 + digit83(s[1]);
    q[0] = v / 361, q[1] = v / 19 % 19, q[2] = v % 19;
}

static int encode(const unsigned char *px, int w, int h, int ch, int xc, int yc, char *out) {
    return blurhash_encode(px, w, h, ch, xc, yc, out, BLURHASH_BUF_SIZE);
}

static void test_vectors(void) {
    char out[BLURHASH_BUF_SIZE];
    unsigned char *px = solid(4, 4, 3, 255, 0, 0);
    CHECK(encode(px, 4, 4, 3, 1, 1, out) == 6 && strcmp(out, "00TI:j") == 0,
          "solid red, 1x1 components: 00TI:j");
    free(px);
    px = solid(4, 4, 3, 128, 128, 128);
    CHECK(encode(px, 4, 4, 3, 1, 1, out) == 6 && strcmp(out, "00Eyb[") == 0,
          "solid grey 128, 1x1 components: 00Eyb[");
    free(px);
    px = solid(4, 4, 3, 255, 255, 255);
    CHECK(encode(px, 4, 4, 3, 1, 1, out) == 6 && strcmp(out, "00TSUA") == 0,
          "solid white, 1x1 components: 00TSUA");
    free(px);
    px = solid(8, 8, 3, 0, 0, 0);
    CHECK(encode(px, 8, 8, 3, 1, 1, out) == 6 && strcmp(out, "000000") == 0,
          "solid black, 1x1 components: 000000");
    CHECK(encode(px, 8, 8, 3, 4, 3, out) == 28 &&
              strcmp(out, "L00000fQfQfQfQfQfQfQfQfQfQfQ") == 0,
          "solid black, 4x3 components: L00000 + 11 x fQ");
    free(px);
    /* white with more components: the DC still reads back as white */
    px = solid(16, 16, 3, 255, 255, 255);
    CHECK(encode(px, 16, 16, 3, 4, 3, out) == 28 && out[0] == 'L' &&
              strncmp(out + 2, "TSUA", 4) == 0,
          "solid white, 4x3 components: size flag L, DC TSUA");
    free(px);
}

static void test_lengths(void) {
    unsigned char *px = gradient(12, 10, 1);
    char out[BLURHASH_BUF_SIZE];
    int len_ok = 1, flag_ok = 1;
    for (int yc = 1; yc <= 9; yc++)
        for (int xc = 1; xc <= 9; xc++) {
            int n = encode(px, 12, 10, 3, xc, yc, out);
            if (n != 4 + 2 * xc * yc || (int)strlen(out) != n)
                len_ok = 0;
            int f = digit83(out[0]);
            if (f < 0 || f % 9 + 1 != xc || f / 9 + 1 != yc)
                flag_ok = 0;
        }
    CHECK(len_ok, "length is 4 + 2*x*y for all 81 component pairs");
    CHECK(flag_ok, "first char encodes (x-1) + (y-1)*9 for all 81 component pairs");
    int n = encode(px, 12, 10, 3, 9, 9, out);
    CHECK(n == BLURHASH_MAX_LEN, "9x9 is the longest hash (166 chars)");
    int all83 = 1;
    for (int i = 0; i < n; i++)
        all83 &= digit83(out[i]) >= 0;
    CHECK(all83, "every char is in the base83 alphabet");
    free(px);
}

static void test_refusals(void) {
    unsigned char *px = solid(4, 4, 3, 10, 20, 30);
    char out[BLURHASH_BUF_SIZE];
    CHECK(encode(px, 4, 4, 3, 0, 3, out) == -1, "x_components 0 rejected");
    CHECK(encode(px, 4, 4, 3, 10, 3, out) == -1, "x_components 10 rejected");
    CHECK(encode(px, 4, 4, 3, 4, 0, out) == -1, "y_components 0 rejected");
    CHECK(encode(px, 4, 4, 3, 4, 10, out) == -1, "y_components 10 rejected");
    CHECK(encode(px, 4, 4, 3, -1, -1, out) == -1, "negative components rejected");
    CHECK(encode(px, 4, 4, 2, 4, 3, out) == -1 && encode(px, 4, 4, 1, 4, 3, out) == -1 &&
              encode(px, 4, 4, 5, 4, 3, out) == -1,
          "channels other than 3 or 4 rejected");
    CHECK(encode(px, 0, 4, 3, 4, 3, out) == -1 && encode(px, 4, 0, 3, 4, 3, out) == -1 &&
              encode(px, -4, 4, 3, 4, 3, out) == -1,
          "empty or negative size rejected");
    CHECK(encode(NULL, 4, 4, 3, 4, 3, out) == -1 &&
              blurhash_encode(px, 4, 4, 3, 4, 3, NULL, 64) == -1,
          "NULL pixels or output rejected");
    char small[29];
    memset(small, 'x', sizeof(small));
    CHECK(blurhash_encode(px, 4, 4, 3, 4, 3, small, 28) == -1 && small[0] == 'x',
          "cap without room for the NUL rejected, output untouched");
    CHECK(blurhash_encode(px, 4, 4, 3, 4, 3, small, 29) == 28 && small[28] == '\0',
          "cap of exactly length + 1 accepted");
    free(px);
}

static void test_properties(void) {
    char a[BLURHASH_BUF_SIZE], b[BLURHASH_BUF_SIZE];
    /* RGBA with varying alpha equals the same RGB */
    int w = 20, h = 14;
    unsigned char *rgb = malloc((size_t)w * h * 3), *rgba = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h; i++) {
        for (int c = 0; c < 3; c++)
            rgb[i * 3 + c] = rgba[i * 4 + c] = (unsigned char)((i * (c + 3) * 37) & 255);
        rgba[i * 4 + 3] = (unsigned char)(i * 11);
    }
    CHECK(encode(rgb, w, h, 3, 5, 4, a) == 44 && encode(rgba, w, h, 4, 5, 4, b) == 44 &&
              strcmp(a, b) == 0,
          "RGBA gives the RGB hash (alpha ignored)");
    /* deterministic */
    CHECK(encode(rgb, w, h, 3, 5, 4, b) == 44 && strcmp(a, b) == 0, "same input, same hash");
    free(rgb);
    free(rgba);

    /* a transpose-symmetric grey image: AC(i,j) == AC(j,i), and r == g == b everywhere */
    int n = 24;
    unsigned char *sym = malloc((size_t)n * n * 3);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int v = (x * x + y * y) * 255 / (2 * (n - 1) * (n - 1));
            unsigned char *p = sym + ((size_t)y * n + x) * 3;
            p[0] = p[1] = p[2] = (unsigned char)v;
        }
    encode(sym, n, n, 3, 4, 4, a);
    int symmetric = 1, grey = 1;
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++) {
            if (i == 0 && j == 0)
                continue;
            int q[3], t[3];
            ac_at(a, 4, i, j, q);
            ac_at(a, 4, j, i, t);
            symmetric &= q[0] == t[0] && q[1] == t[1] && q[2] == t[2];
            grey &= q[0] == q[1] && q[1] == q[2];
        }
    int dc = digit83(a[2]) * 571787 + digit83(a[3]) * 6889 + digit83(a[4]) * 83 + digit83(a[5]);
    CHECK(symmetric, "transpose-symmetric image: AC table is symmetric");
    CHECK(grey && (dc >> 16) == ((dc >> 8) & 255) && ((dc >> 8) & 255) == (dc & 255),
          "grey image: grey DC and r == g == b in every AC");
    free(sym);

    /* horizontal gradient, dark on the left: AC(1,0) carries the energy and is negative
     * (cos is +1 on the dark side); AC(0,1) stays near zero (quantised 9) */
    w = 48, h = 32;
    unsigned char *hg = gradient(w, h, 1), *vg = gradient(w, h, 0);
    encode(hg, w, h, 3, 4, 3, a);
    encode(vg, w, h, 3, 4, 3, b);
    int hx[3], hy[3], vx[3], vy[3];
    ac_at(a, 4, 1, 0, hx);
    ac_at(a, 4, 0, 1, hy);
    ac_at(b, 4, 1, 0, vx);
    ac_at(b, 4, 0, 1, vy);
    int dominant = 1;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 4; i++) {
            if ((i == 0 && j == 0) || (i == 1 && j == 0))
                continue;
            int q[3];
            ac_at(a, 4, i, j, q);
            dominant &= abs(q[0] - 9) < abs(hx[0] - 9);
        }
    printf("#   horizontal %s: AC(1,0) %d, AC(0,1) %d\n", a, hx[0], hy[0]);
    printf("#   vertical   %s: AC(1,0) %d, AC(0,1) %d\n", b, vx[0], vy[0]);
    CHECK(hx[0] <= 2 && abs(hy[0] - 9) + 4 < abs(hx[0] - 9),
          "horizontal gradient: AC x-component strong and negative, y-component weak");
    CHECK(dominant, "horizontal gradient: AC(1,0) dominates every other AC");
    CHECK(vy[0] <= 2 && abs(vx[0] - 9) + 4 < abs(vy[0] - 9),
          "vertical gradient: AC y-component strong and negative, x-component weak");
    /* 1-pixel-wide/tall images still encode */
    CHECK(encode(hg, 1, 1, 3, 9, 9, a) == BLURHASH_MAX_LEN && encode(hg, w, 1, 3, 9, 9, a) > 0 &&
              encode(hg, 1, h, 3, 9, 9, a) > 0,
          "1x1, wx1 and 1xh images encode with 9x9 components");
    free(hg);
    free(vg);
}

/* An 8-bit RGB PNG of px into global `name`. */
static void make_png(lua_State *L, const char *name, const unsigned char *px, int w, int h) {
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    spng_set_ihdr(ctx, &ihdr);
    int rc = spng_encode_image(ctx, px, (size_t)w * h * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (rc)
        printf("#   spng_encode_image: %s\n", spng_strerror(rc));
    size_t size = 0;
    int err = 0;
    void *png = spng_get_png_buffer(ctx, &size, &err);
    lua_pushlstring(L, png, size);
    lua_setglobal(L, name);
    free(png);
    spng_ctx_free(ctx);
}

static void test_lua(void) {
    lua_State *L = harness_state();
    int w = 32, h = 24;
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        px[i * 3] = (unsigned char)(i % w * 8);
        px[i * 3 + 1] = (unsigned char)(i / w * 10);
        px[i * 3 + 2] = 90;
    }
    make_png(L, "png", px, w, h);
    char want43[BLURHASH_BUF_SIZE], want11[BLURHASH_BUF_SIZE], want92[BLURHASH_BUF_SIZE];
    encode(px, w, h, 3, 4, 3, want43);
    encode(px, w, h, 3, 1, 1, want11);
    encode(px, w, h, 3, 9, 2, want92);
    lua_pushstring(L, want43);
    lua_setglobal(L, "want43");
    lua_pushstring(L, want11);
    lua_setglobal(L, "want11");
    lua_pushstring(L, want92);
    lua_setglobal(L, "want92");
    free(px);
    run_lua(L, "bm = assert(core.image.decode(png)) return true");
    CHECK(run_lua(L, "local s = bm:blurhash() return #s == 28 and s == want43"),
          "lua: bitmap:blurhash() defaults to 4x3, same as the C encoder");
    CHECK(run_lua(L, "return bm:blurhash(1, 1) == want11 and bm:blurhash(9, 2) == want92 "
                     "and bm:blurhash(4) == want43 and bm:blurhash(nil, 3) == want43"),
          "lua: explicit and partial component counts");
    CHECK(run_lua(L, "local bad = {{0, 3}, {10, 3}, {4, 0}, {4, 10}, {1.5, 3}, {'x', 3}}\n"
                     "for _, a in ipairs(bad) do\n"
                     "  local ok, err = pcall(bm.blurhash, bm, a[1], a[2])\n"
                     "  if ok then return false end\n"
                     "end\n"
                     "return true"),
          "lua: out-of-range or non-integer components raise");
    CHECK(run_lua(L, "bm:close() local ok, err = pcall(bm.blurhash, bm)\n"
                     "return not ok and tostring(err):find('closed') ~= nil"),
          "lua: a closed bitmap raises");
    lua_close(L);
}

int main(void) {
    test_vectors();
    test_lengths();
    test_refusals();
    test_properties();
    test_lua();
    return harness_done();
}
