/* mod_image.c -- image decoding and thumbnails, exposed as "core.image".
 * JPEG goes through libjpeg-turbo's TurboJPEG API (2.1: tjDecompress2/tjCompress2,
 * scaled DCT decode), PNG through libspng with size limits. Every decode checks the
 * header's width*height against a pixel budget before any pixel buffer exists, and
 * all buffer sizes are computed in size_t with overflow checks. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <turbojpeg.h>

#include "core.h"
#include "exif.h"

#define BITMAP_MT "core.image.bitmap"
#define MAX_SIDE 65535                        /* no bitmap side is ever larger */
#define DEFAULT_MAX_PIXELS 50000000LL         /* 50 MP unless the caller says otherwise */
#define CEILING_MAX_PIXELS (1LL << 28)        /* 268 MP: 1 GiB of RGBA at most */
#define PNG_CHUNK_LIMIT ((size_t)16 << 20)    /* any one ancillary chunk */
#define PNG_CACHE_LIMIT ((size_t)64 << 20)    /* all stored ancillary chunks together */

typedef struct { int w, h, channels; unsigned char *px; /* NULL = closed */ } bitmap;

enum { FMT_NONE, FMT_JPEG, FMT_PNG };

static int sniff(const unsigned char *s, size_t len) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 3 && s[0] == 0xff && s[1] == 0xd8 && s[2] == 0xff)
        return FMT_JPEG;
    if (len >= 8 && memcmp(s, png_sig, 8) == 0)
        return FMT_PNG;
    return FMT_NONE;
}

/* Finds the frame size in a JPEG's SOFn segment without libjpeg, so a header claiming
 * more than libjpeg accepts (65500) is still reported as "too large", not corrupt.
 * Returns 0 or -1 with `err` set. */
static int jpeg_scan_size(const unsigned char *s, size_t len, int *w, int *h, char *err,
                          size_t errlen) {
    size_t i = 2;
    while (i < len) {
        if (s[i] != 0xff) {
            snprintf(err, errlen, "corrupt image: bad jpeg marker");
            return -1;
        }
        while (i < len && s[i] == 0xff)
            i++;
        if (i >= len)
            break;
        unsigned m = s[i++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue;                                  /* standalone markers */
        if (m == 0xd9 || m == 0xda)
            break;                                     /* EOI or SOS before any SOF */
        if (i + 2 > len)
            break;
        size_t seglen = ((size_t)s[i] << 8) | s[i + 1];
        if (seglen < 2) {
            snprintf(err, errlen, "corrupt image: bad jpeg segment length");
            return -1;
        }
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (seglen < 8 || i + 7 > len)
                break;
            *h = (s[i + 3] << 8) | s[i + 4];
            *w = (s[i + 5] << 8) | s[i + 6];
            if (*w == 0 || *h == 0) {
                snprintf(err, errlen, "corrupt image: jpeg frame without a size");
                return -1;
            }
            return 0;
        }
        i += seglen;
    }
    snprintf(err, errlen, "corrupt image: no jpeg frame header");
    return -1;
}

/* A decoder context with the limits set; NULL when out of memory. */
static spng_ctx *png_open(const unsigned char *s, size_t len) {
    spng_ctx *ctx = spng_ctx_new(0);
    if (ctx == NULL)
        return NULL;
    if (spng_set_image_limits(ctx, 1u << 20, 1u << 20) || /* real limit: max_pixels */
        spng_set_chunk_limits(ctx, PNG_CHUNK_LIMIT, PNG_CACHE_LIMIT) ||
        spng_set_png_buffer(ctx, s, len)) {
        spng_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

static void png_error(int rc, char *err, size_t errlen) {
    if (rc == SPNG_EUSER_WIDTH || rc == SPNG_EUSER_HEIGHT)
        snprintf(err, errlen, "image too large");
    else
        snprintf(err, errlen, "corrupt image: %s", spng_strerror(rc));
}

/* Reads width and height from the header only. Returns 0 or -1 with `err` set. */
static int probe(int fmt, const unsigned char *s, size_t len, int *w, int *h, char *err,
                 size_t errlen) {
    if (fmt == FMT_JPEG)
        return jpeg_scan_size(s, len, w, h, err, errlen);
    spng_ctx *ctx = png_open(s, len);
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct spng_ihdr ihdr;
    int rc = spng_get_ihdr(ctx, &ihdr);
    spng_ctx_free(ctx);
    if (rc) {
        png_error(rc, err, errlen);
        return -1;
    }
    *w = (int)ihdr.width;
    *h = (int)ihdr.height;
    return 0;
}

/* w*h*ch in bytes, or 0 when a side is out of range or the product overflows. */
static size_t pixel_bytes(int w, int h, int ch) {
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return 0;
    size_t n = (size_t)w * (size_t)h;
    if (n > SIZE_MAX / (size_t)ch)
        return 0;
    return n * (size_t)ch;
}

/* Decodes into b (b->px NULL on entry). `target` 0 = full size. 0 or -1 with err. */
static int jpeg_decode(bitmap *b, const unsigned char *s, size_t len, int target, char *err,
                       size_t errlen) {
    int ret = -1;
    tjhandle tj = tjInitDecompress();
    if (tj == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int w, h, subsamp, cs;
    if (len > ULONG_MAX ||
        tjDecompressHeader3(tj, s, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        snprintf(err, errlen, "corrupt image: %s", tjGetErrorStr2(tj));
        goto done;
    }
    /* The smallest of 1/1, 1/2, 1/4, 1/8 (the SIMD-accelerated ones) that keeps the
     * longest side >= target. */
    int nsf = 0;
    tjscalingfactor *sfs = tjGetScalingFactors(&nsf);
    tjscalingfactor best = {1, 1};
    for (int i = 0; target > 0 && sfs != NULL && i < nsf; i++) {
        tjscalingfactor sf = sfs[i];
        if (sf.num != 1 || (sf.denom != 2 && sf.denom != 4 && sf.denom != 8))
            continue;
        int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
        if ((sw > sh ? sw : sh) >= target && sf.denom > best.denom)
            best = sf;
    }
    int sw = TJSCALED(w, best), sh = TJSCALED(h, best);
    size_t n = pixel_bytes(sw, sh, 3);
    if (n == 0) {
        snprintf(err, errlen, "image too large");
        goto done;
    }
    b->px = malloc(n);
    if (b->px == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (tjDecompress2(tj, s, (unsigned long)len, b->px, sw, 0, sh, TJPF_RGB,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
        snprintf(err, errlen, "corrupt image: %s", tjGetErrorStr2(tj));
        free(b->px);
        b->px = NULL;
        goto done;
    }
    b->w = sw;
    b->h = sh;
    b->channels = 3;
    ret = 0;
done:
    tjDestroy(tj);
    return ret;
}

/* PNG to RGB8, or RGBA8 when the image has alpha or a tRNS chunk. */
static int png_decode(bitmap *b, const unsigned char *s, size_t len, char *err,
                      size_t errlen) {
    int ret = -1, rc;
    spng_ctx *ctx = png_open(s, len);
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct spng_ihdr ihdr;
    struct spng_trns trns;
    if ((rc = spng_get_ihdr(ctx, &ihdr)) != 0) {
        png_error(rc, err, errlen);
        goto done;
    }
    int alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
                spng_get_trns(ctx, &trns) == 0;
    int ch = alpha ? 4 : 3, fmt = alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    size_t n = pixel_bytes((int)ihdr.width, (int)ihdr.height, ch), out = 0;
    if (ihdr.width > MAX_SIDE || ihdr.height > MAX_SIDE || n == 0) {
        snprintf(err, errlen, "image too large");
        goto done;
    }
    if ((rc = spng_decoded_image_size(ctx, fmt, &out)) != 0) {
        png_error(rc, err, errlen);
        goto done;
    }
    if (out != n) {
        snprintf(err, errlen, "corrupt image: unexpected png size");
        goto done;
    }
    b->px = malloc(n);
    if (b->px == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((rc = spng_decode_image(ctx, b->px, n, fmt, SPNG_DECODE_TRNS)) != 0) {
        png_error(rc, err, errlen);
        free(b->px);
        b->px = NULL;
        goto done;
    }
    b->w = (int)ihdr.width;
    b->h = (int)ihdr.height;
    b->channels = ch;
    ret = 0;
done:
    spng_ctx_free(ctx);
    return ret;
}

static const char *format_name(int fmt) { return fmt == FMT_JPEG ? "jpeg" : "png"; }

/* image.info(bytes) -> { format = "jpeg"|"png", width, height } | nil, err */
static int image_info(lua_State *L) {
    size_t len;
    const unsigned char *src = (const unsigned char *)luaL_checklstring(L, 1, &len);
    int fmt = sniff(src, len), w = 0, h = 0;
    char err[160];
    if (fmt == FMT_NONE)
        return core_fail(L, "unsupported format");
    if (probe(fmt, src, len, &w, &h, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, format_name(fmt));
    lua_setfield(L, -2, "format");
    lua_pushinteger(L, w);
    lua_setfield(L, -2, "width");
    lua_pushinteger(L, h);
    lua_setfield(L, -2, "height");
    return 1;
}

/* image.exif(bytes) -> { captured_at, orientation, make, model, lens_model, exposure_time,
 * f_number, iso, focal_length, gps_latitude, gps_longitude, pixel_width, pixel_height }
 * | nil. nil when there is no EXIF; missing fields are absent; orientation is always set
 * (1 by default). Hostile input gives nil or a partial table, never an error. */
static int image_exif(lua_State *L) {
    size_t len;
    const unsigned char *src = (const unsigned char *)luaL_checklstring(L, 1, &len);
    exif_info x;
    int rc = exif_read(src, len, &x);    /* holds no memory once it returns */
    if (rc < 0)
        return core_fail(L, "out of memory");
    if (rc == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 13);
    const struct { const char *name, *value; } strs[] = {
        {"captured_at", x.captured_at}, {"make", x.make}, {"model", x.model},
        {"lens_model", x.lens_model}, {"exposure_time", x.exposure_time}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].value[0] != '\0') {
            lua_pushstring(L, strs[i].value);
            lua_setfield(L, -2, strs[i].name);
        }
    }
    const struct { const char *name; int value; } ints[] = {
        {"orientation", x.orientation}, {"iso", x.iso},
        {"pixel_width", x.pixel_width}, {"pixel_height", x.pixel_height}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (ints[i].value > 0) {
            lua_pushinteger(L, ints[i].value);
            lua_setfield(L, -2, ints[i].name);
        }
    }
    if (x.f_number > 0) {
        lua_pushnumber(L, x.f_number);
        lua_setfield(L, -2, "f_number");
    }
    if (x.focal_length > 0) {
        lua_pushnumber(L, x.focal_length);
        lua_setfield(L, -2, "focal_length");
    }
    if (x.has_gps) {
        lua_pushnumber(L, x.gps_latitude);
        lua_setfield(L, -2, "gps_latitude");
        lua_pushnumber(L, x.gps_longitude);
        lua_setfield(L, -2, "gps_longitude");
    }
    return 1;
}

static lua_Integer opt_field(lua_State *L, int idx, const char *name, lua_Integer dflt,
                             lua_Integer lo, lua_Integer hi) {
    lua_Integer v = dflt;
    if (lua_getfield(L, idx, name) != LUA_TNIL) {
        int isint;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < lo || v > hi)
            luaL_error(L, "image.decode: %s must be an integer from %I to %I", name, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

static bitmap *new_bitmap(lua_State *L) {
    bitmap *b = lua_newuserdatauv(L, sizeof(*b), 0);
    b->w = b->h = b->channels = 0;
    b->px = NULL;                                 /* safe "closed" state before any work */
    luaL_setmetatable(L, BITMAP_MT);
    return b;
}

/* image.decode(bytes, { max_pixels = N, target = S }?) -> bitmap | nil, err */
static int image_decode(lua_State *L) {
    size_t len;
    const unsigned char *src = (const unsigned char *)luaL_checklstring(L, 1, &len);
    lua_Integer max_pixels = DEFAULT_MAX_PIXELS, target = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        max_pixels = opt_field(L, 2, "max_pixels", DEFAULT_MAX_PIXELS, 1, CEILING_MAX_PIXELS);
        target = opt_field(L, 2, "target", 0, 1, MAX_SIDE);
    }
    int fmt = sniff(src, len), w = 0, h = 0;
    char err[160];
    if (fmt == FMT_NONE)
        return core_fail(L, "unsupported format");
    if (probe(fmt, src, len, &w, &h, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    if ((long long)w * (long long)h > max_pixels)  /* budget before any pixel buffer */
        return core_fail(L, "image too large");
    bitmap *b = new_bitmap(L);
    int rc = fmt == FMT_JPEG ? jpeg_decode(b, src, len, (int)target, err, sizeof(err))
                             : png_decode(b, src, len, err, sizeof(err));
    if (rc != 0)
        return core_fail(L, "%s", err);
    return 1;
}

static bitmap *check_open(lua_State *L, int idx) {
    bitmap *b = luaL_checkudata(L, idx, BITMAP_MT);
    if (b->px == NULL)
        luaL_error(L, "bitmap is closed");
    return b;
}

/* bitmap:size() -> w, h */
static int bitmap_size(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_pushinteger(L, b->w);
    lua_pushinteger(L, b->h);
    return 2;
}

/* bitmap:channels() -> 3 (RGB) | 4 (RGBA) */
static int bitmap_channels(lua_State *L) {
    lua_pushinteger(L, check_open(L, 1)->channels);
    return 1;
}

/* bitmap:pixel(x, y) -> r, g, b[, a]  (0-based coordinates; for checks and tests) */
static int bitmap_pixel(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer x = luaL_checkinteger(L, 2), y = luaL_checkinteger(L, 3);
    luaL_argcheck(L, x >= 0 && x < b->w, 2, "x out of range");
    luaL_argcheck(L, y >= 0 && y < b->h, 3, "y out of range");
    const unsigned char *p = b->px + ((size_t)y * (size_t)b->w + (size_t)x) * (size_t)b->channels;
    for (int c = 0; c < b->channels; c++)
        lua_pushinteger(L, p[c]);
    return b->channels;
}

static float srgb_to_linear(float v) {
    return v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
}

static unsigned char linear_to_srgb8(float v) {
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    float s = v <= 0.0031308f ? v * 12.92f : 1.055f * powf(v, 1.0f / 2.4f) - 0.055f;
    return (unsigned char)(s * 255.0f + 0.5f);
}

/* Area (box with fractional coverage) weights for n_in -> n_out, n_out <= n_in.
 * start[o] and cnt[o] give the source span; wt[o * stride + k] its weights. */
typedef struct { int *start, *cnt; float *wt; int stride; } weights;

static void weights_free(weights *w) {
    free(w->start);
    free(w->cnt);
    free(w->wt);
}

static int weights_make(weights *w, int n_in, int n_out) {
    double scale = (double)n_in / (double)n_out;
    w->stride = (int)ceil(scale) + 2;
    w->start = malloc(sizeof(int) * (size_t)n_out);
    w->cnt = malloc(sizeof(int) * (size_t)n_out);
    w->wt = malloc(sizeof(float) * (size_t)n_out * (size_t)w->stride);
    if (!w->start || !w->cnt || !w->wt)
        return -1;
    for (int o = 0; o < n_out; o++) {
        double a = o * scale, e = (o + 1) * scale;
        if (e > n_in)
            e = n_in;
        int i0 = (int)floor(a), i1 = (int)ceil(e);
        if (i1 > n_in)
            i1 = n_in;
        if (i1 - i0 > w->stride)
            i1 = i0 + w->stride;
        double sum = 0;
        int k = 0;
        for (int i = i0; i < i1; i++, k++) {
            double lo = a > i ? a : i, hi = e < i + 1 ? e : i + 1;
            double c = hi > lo ? hi - lo : 0;
            w->wt[(size_t)o * w->stride + k] = (float)c;
            sum += c;
        }
        for (int j = 0; j < k; j++)
            w->wt[(size_t)o * w->stride + j] /= (float)(sum > 0 ? sum : 1);
        w->start[o] = i0;
        w->cnt[o] = k;
    }
    return 0;
}

/* Resamples src into dst (dst->w/h/channels set, dst->px allocated) in linear light,
 * with alpha premultiplied. Returns 0 or -1 when out of memory. */
static int resample(const bitmap *src, bitmap *dst) {
    int ch = src->channels, nw = dst->w, nh = dst->h, ret = -1;
    float lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = srgb_to_linear(i / 255.0f);
    weights wx = {0}, wy = {0};
    float *tmp = NULL, *row = NULL;
    size_t tmp_n = (size_t)nw * (size_t)src->h * (size_t)ch;
    if (weights_make(&wx, src->w, nw) || weights_make(&wy, src->h, nh))
        goto done;
    tmp = malloc(tmp_n * sizeof(float));
    row = malloc((size_t)nw * (size_t)ch * sizeof(float));
    if (!tmp || !row)
        goto done;
    /* horizontal: every source row to nw premultiplied linear pixels */
    for (int y = 0; y < src->h; y++) {
        const unsigned char *in = src->px + (size_t)y * src->w * ch;
        float *out = tmp + (size_t)y * nw * ch;
        for (int x = 0; x < nw; x++) {
            float acc[4] = {0, 0, 0, 0};
            const float *wt = wx.wt + (size_t)x * wx.stride;
            for (int k = 0; k < wx.cnt[x]; k++) {
                const unsigned char *p = in + (size_t)(wx.start[x] + k) * ch;
                if (ch == 4) {
                    float a = p[3] / 255.0f, wa = wt[k] * a;
                    acc[0] += wa * lut[p[0]];
                    acc[1] += wa * lut[p[1]];
                    acc[2] += wa * lut[p[2]];
                    acc[3] += wt[k] * a;
                } else {
                    acc[0] += wt[k] * lut[p[0]];
                    acc[1] += wt[k] * lut[p[1]];
                    acc[2] += wt[k] * lut[p[2]];
                }
            }
            memcpy(out + (size_t)x * ch, acc, sizeof(float) * (size_t)ch);
        }
    }
    /* vertical, then back to sRGB bytes */
    for (int y = 0; y < nh; y++) {
        memset(row, 0, (size_t)nw * ch * sizeof(float));
        const float *wt = wy.wt + (size_t)y * wy.stride;
        for (int k = 0; k < wy.cnt[y]; k++) {
            const float *in = tmp + (size_t)(wy.start[y] + k) * nw * ch;
            for (size_t i = 0; i < (size_t)nw * ch; i++)
                row[i] += wt[k] * in[i];
        }
        unsigned char *out = dst->px + (size_t)y * nw * ch;
        for (int x = 0; x < nw; x++) {
            const float *p = row + (size_t)x * ch;
            float a = ch == 4 ? p[3] : 1.0f, inv = a > 0 ? 1.0f / a : 0.0f;
            for (int c = 0; c < 3; c++)
                out[(size_t)x * ch + c] = linear_to_srgb8(p[c] * inv);
            if (ch == 4)
                out[(size_t)x * ch + 3] = (unsigned char)(a * 255.0f + 0.5f);
        }
    }
    ret = 0;
done:
    weights_free(&wx);
    weights_free(&wy);
    free(tmp);
    free(row);
    return ret;
}

/* bitmap:thumbnail(max_side) -> bitmap whose longest side is max_side (never upscales) */
static int bitmap_thumbnail(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer max_side = luaL_checkinteger(L, 2);
    luaL_argcheck(L, max_side >= 1 && max_side <= MAX_SIDE, 2, "max_side out of range");
    int nw = b->w, nh = b->h;
    if (b->w >= b->h && b->w > max_side) {
        nw = (int)max_side;
        nh = (int)(((long long)b->h * max_side + b->w / 2) / b->w);
    } else if (b->h > b->w && b->h > max_side) {
        nh = (int)max_side;
        nw = (int)(((long long)b->w * max_side + b->h / 2) / b->h);
    }
    nw = nw < 1 ? 1 : nw;
    nh = nh < 1 ? 1 : nh;
    bitmap *d = new_bitmap(L);
    size_t n = pixel_bytes(nw, nh, b->channels);
    d->px = malloc(n);
    if (d->px == NULL)
        return core_fail(L, "out of memory");
    d->w = nw;
    d->h = nh;
    d->channels = b->channels;
    if (nw == b->w && nh == b->h) {
        memcpy(d->px, b->px, n);
        return 1;
    }
    if (resample(b, d) != 0) {
        free(d->px);
        d->px = NULL;
        return core_fail(L, "out of memory");
    }
    return 1;
}

/* bitmap:orient(exif_orientation 1..8) -> new bitmap rotated/flipped for display */
static int bitmap_orient(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer o = luaL_checkinteger(L, 2);
    luaL_argcheck(L, o >= 1 && o <= 8, 2, "orientation must be 1..8");
    int w = b->w, h = b->h, ch = b->channels, swap = o >= 5;
    bitmap *d = new_bitmap(L);
    size_t n = pixel_bytes(w, h, ch);
    d->px = malloc(n);
    if (d->px == NULL)
        return core_fail(L, "out of memory");
    d->w = swap ? h : w;
    d->h = swap ? w : h;
    d->channels = ch;
    for (int oy = 0; oy < d->h; oy++) {
        for (int ox = 0; ox < d->w; ox++) {
            int sx, sy;
            switch (o) {
            case 1: sx = ox; sy = oy; break;
            case 2: sx = w - 1 - ox; sy = oy; break;                /* mirror horizontal */
            case 3: sx = w - 1 - ox; sy = h - 1 - oy; break;        /* rotate 180 */
            case 4: sx = ox; sy = h - 1 - oy; break;                /* mirror vertical */
            case 5: sx = oy; sy = ox; break;                        /* transpose */
            case 6: sx = oy; sy = h - 1 - ox; break;                /* rotate 90 cw */
            case 7: sx = w - 1 - oy; sy = h - 1 - ox; break;        /* transverse */
            default: sx = w - 1 - oy; sy = ox; break;               /* 8: rotate 90 ccw */
            }
            memcpy(d->px + ((size_t)oy * d->w + ox) * ch, b->px + ((size_t)sy * w + sx) * ch,
                   (size_t)ch);
        }
    }
    return 1;
}

/* bitmap:encode_jpeg(quality 1..100) -> bytes (4:2:0; alpha flattened onto white) */
static int bitmap_encode_jpeg(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer q = luaL_checkinteger(L, 2);
    luaL_argcheck(L, q >= 1 && q <= 100, 2, "quality must be 1..100");
    unsigned long cap = tjBufSize(b->w, b->h, TJSAMP_420);
    if (cap == (unsigned long)-1)
        return core_fail(L, "image too large");
    luaL_Buffer buf;                  /* Lua owns the output, so nothing leaks on a raise */
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &buf, cap);
    /* no Lua calls from here until the C resources are released */
    unsigned char *rgb = b->px, *flat = NULL;
    unsigned long size = cap;
    char err[160] = "";
    tjhandle tj = NULL;
    if (b->channels == 4) {
        flat = malloc(pixel_bytes(b->w, b->h, 3));
        if (flat == NULL) {
            snprintf(err, sizeof(err), "out of memory");
            goto done;
        }
        size_t n = (size_t)b->w * b->h;
        for (size_t i = 0; i < n; i++) {
            unsigned a = b->px[i * 4 + 3];
            for (int c = 0; c < 3; c++)
                flat[i * 3 + c] = (unsigned char)((b->px[i * 4 + c] * a + 255 * (255 - a) + 127) / 255);
        }
        rgb = flat;
    }
    tj = tjInitCompress();
    if (tj == NULL) {
        snprintf(err, sizeof(err), "out of memory");
        goto done;
    }
    if (tjCompress2(tj, rgb, b->w, 0, b->h, TJPF_RGB, &out, &size, TJSAMP_420, (int)q,
                    TJFLAG_NOREALLOC) != 0)
        snprintf(err, sizeof(err), "jpeg encode failed: %s", tjGetErrorStr2(tj));
done:
    if (tj != NULL)
        tjDestroy(tj);
    free(flat);
    if (err[0] != '\0') {
        luaL_pushresultsize(&buf, 0);
        lua_pop(L, 1);
        return core_fail(L, "%s", err);
    }
    luaL_pushresultsize(&buf, size);
    return 1;
}

/* bitmap:close() -- frees pixels now; calling it twice is harmless. */
static int bitmap_close(lua_State *L) {
    bitmap *b = luaL_checkudata(L, 1, BITMAP_MT);
    free(b->px);
    b->px = NULL;
    return 0;
}

static const luaL_Reg image_funcs[] = {{"info", image_info}, {"decode", image_decode},
                                       {"exif", image_exif}, {NULL, NULL}};
static const luaL_Reg bitmap_methods[] = {{"size", bitmap_size},
                                          {"channels", bitmap_channels},
                                          {"pixel", bitmap_pixel},
                                          {"thumbnail", bitmap_thumbnail},
                                          {"orient", bitmap_orient},
                                          {"encode_jpeg", bitmap_encode_jpeg},
                                          {"close", bitmap_close},
                                          {NULL, NULL}};
static const luaL_Reg bitmap_meta[] = {{"__gc", bitmap_close}, {"__close", bitmap_close},
                                       {NULL, NULL}};

int luaopen_core_image(lua_State *L) {
    luaL_newmetatable(L, BITMAP_MT);
    luaL_setfuncs(L, bitmap_meta, 0);
    luaL_newlib(L, bitmap_methods);
    lua_setfield(L, -2, "__index");     /* methods live in __index */
    lua_pop(L, 1);
    luaL_newlib(L, image_funcs);
    return 1;
}
