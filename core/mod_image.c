/* mod_image.c -- image decoding and thumbnails, exposed as "core.image".
 * JPEG decodes through libjpeg-turbo (jpeg.c: scaled DCT, rows resampled as they arrive)
 * and encodes through its TurboJPEG API, PNG through libspng with size limits, WebP
 * through libwebp's advanced API into our own buffer, HEIC through libheif, and GIF
 * (first frame only) and BMP through stb_image compiled here with only those two
 * decoders, a 16384 side limit and a capped allocator (SECURITY.md section 1: stb_image
 * is not safe on hostile input, so it is never given more). Embedded colour profiles are
 * converted to sRGB (icc.c). Every decode checks the header's width*height against a
 * pixel budget before any pixel buffer exists, and all buffer sizes are computed in
 * size_t with overflow checks. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <turbojpeg.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <libheif/heif.h>
#include <pthread.h>

#include "core.h"
#include "exif.h"
#include "blurhash.h"
#include "icc.h"
#include "jpeg.h"
#include "resample.h"

#define BITMAP_MT "core.image.bitmap"
#define MAX_SIDE 65535                        /* no bitmap side is ever larger */
#define DEFAULT_MAX_PIXELS 50000000LL         /* 50 MP unless the caller says otherwise */
#define CEILING_MAX_PIXELS (1LL << 28)        /* 268 MP: 1 GiB of RGBA at most */
#define PNG_CHUNK_LIMIT ((size_t)16 << 20)    /* any one ancillary chunk */
#define PNG_CACHE_LIMIT ((size_t)64 << 20)    /* all stored ancillary chunks together */

#define STB_ALLOC_LIMIT ((size_t)512 << 20)  /* any one allocation inside stb_image */

/* stb_image gets malloc with a ceiling: a hostile GIF or BMP cannot make it ask for
 * more than STB_ALLOC_LIMIT at once (it checks for NULL and fails cleanly). */
static void *stb_capped_malloc(size_t n) { return n > STB_ALLOC_LIMIT ? NULL : malloc(n); }

static void *stb_capped_realloc(void *p, size_t n) {
    return n > STB_ALLOC_LIMIT ? NULL : realloc(p, n);
}

#define STBI_ONLY_GIF
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 16384
#define STBI_MALLOC(n) stb_capped_malloc(n)
#define STBI_REALLOC(p, n) stb_capped_realloc(p, n)
#define STBI_FREE(p) free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
/* STB_IMAGE_STATIC declares the whole API static, including functions that only the
 * excluded decoders define; GCC reports those at the end of the file, so this one
 * warning is off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

typedef struct {
    int w, h, channels;
    int src_w, src_h;       /* the picture's size as stored, before any scaling */
    unsigned char *px;      /* NULL = closed */
} bitmap;

enum { FMT_NONE, FMT_JPEG, FMT_PNG, FMT_WEBP, FMT_GIF, FMT_BMP, FMT_HEIC };

/* HEIC/HEIF: an ISO-BMFF ftyp box whose major brand is heic, heix, hevc, mif1 or msf1.
 * A mif1/msf1 file that lists avif/avis among its compatible brands but none of the HEVC
 * ones is AVIF, which is not taken for HEIC. */
static int heic_sniff(const unsigned char *s, size_t len) {
    static const char *const hevc_brands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis"};
    const unsigned char *major = s + 8;
    for (int i = 0; i < 3; i++)
        if (memcmp(major, hevc_brands[i], 4) == 0)
            return 1;
    if (memcmp(major, "mif1", 4) != 0 && memcmp(major, "msf1", 4) != 0)
        return 0;
    size_t box = (size_t)s[0] << 24 | (size_t)s[1] << 16 | (size_t)s[2] << 8 | s[3];
    if (box < 16 || box > len)
        box = len;
    int hevc = 0, av1 = 0;
    for (size_t i = 16; i + 4 <= box; i += 4) {
        for (size_t k = 0; k < sizeof(hevc_brands) / sizeof(hevc_brands[0]); k++)
            hevc |= memcmp(s + i, hevc_brands[k], 4) == 0;
        av1 |= memcmp(s + i, "avif", 4) == 0 || memcmp(s + i, "avis", 4) == 0;
    }
    return hevc || !av1;
}

static int sniff(const unsigned char *s, size_t len) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 3 && s[0] == 0xff && s[1] == 0xd8 && s[2] == 0xff)
        return FMT_JPEG;
    if (len >= 8 && memcmp(s, png_sig, 8) == 0)
        return FMT_PNG;
    if (len >= 12 && memcmp(s, "RIFF", 4) == 0 && memcmp(s + 8, "WEBP", 4) == 0)
        return FMT_WEBP;
    if (len >= 6 && (memcmp(s, "GIF87a", 6) == 0 || memcmp(s, "GIF89a", 6) == 0))
        return FMT_GIF;
    if (len >= 2 && s[0] == 'B' && s[1] == 'M')
        return FMT_BMP;
    if (len >= 12 && memcmp(s + 4, "ftyp", 4) == 0 && heic_sniff(s, len))
        return FMT_HEIC;
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

static size_t le16(const unsigned char *p) { return (size_t)p[0] | (size_t)p[1] << 8; }

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *webp_status(VP8StatusCode st) {
    switch (st) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bad webp bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported webp feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated webp";
    default: return "webp decode failed";
    }
}

/* WebP header through WebPGetFeatures (no pixel work). A VP8X canvas larger than
 * the ceiling is reported as its size, so it is refused as "too large", not corrupt. */
static int webp_probe(const unsigned char *s, size_t len, WebPBitstreamFeatures *f,
                      char *err, size_t errlen) {
    if (len >= 30 && memcmp(s + 12, "VP8X", 4) == 0) {
        long long cw = 1 + (s[24] | s[25] << 8 | (long long)s[26] << 16);
        long long ch = 1 + (s[27] | s[28] << 8 | (long long)s[29] << 16);
        if (cw > MAX_SIDE || ch > MAX_SIDE || cw * ch > CEILING_MAX_PIXELS) {
            memset(f, 0, sizeof(*f));
            f->width = (int)cw;
            f->height = (int)ch;
            return 0;
        }
    }
    VP8StatusCode st = WebPGetFeatures(s, len, f);
    if (st != VP8_STATUS_OK) {
        if (st == VP8_STATUS_OUT_OF_MEMORY)
            snprintf(err, errlen, "out of memory");
        else
            snprintf(err, errlen, "corrupt image: %s", webp_status(st));
        return -1;
    }
    if (f->width <= 0 || f->height <= 0) {
        snprintf(err, errlen, "corrupt image: webp without a size");
        return -1;
    }
    return 0;
}

/* GIF/BMP header through stb_image. A GIF screen wider or taller than stb_image allows
 * is reported as its size (stb_image's own reason is lost when its other probes run),
 * so decode refuses it as too large; a top-down BMP's negative height is made positive. */
static int stb_probe(int fmt, const unsigned char *s, size_t len, int *w, int *h, int *comp,
                     char *err, size_t errlen) {
    if (len > INT_MAX) {
        snprintf(err, errlen, "image too large");
        return -1;
    }
    if (fmt == FMT_GIF && len >= 10 &&
        (le16(s + 6) > STBI_MAX_DIMENSIONS || le16(s + 8) > STBI_MAX_DIMENSIONS)) {
        *w = (int)le16(s + 6);
        *h = (int)le16(s + 8);
        *comp = 4;
        return 0;
    }
    if (!stbi_info_from_memory(s, (int)len, w, h, comp)) {
        const char *why = stbi_failure_reason();
        if (why != NULL && strcmp(why, "too large") == 0)
            snprintf(err, errlen, "image too large");
        else
            snprintf(err, errlen, "corrupt image: %s", why != NULL ? why : "bad header");
        return -1;
    }
    if (fmt == FMT_BMP && *h < 0 && *h != INT_MIN)
        *h = -*h;
    if (*w <= 0 || *h <= 0) {
        snprintf(err, errlen, "corrupt image: no size");
        return -1;
    }
    return 0;
}

/* Reads width and height from the header only. Returns 0 or -1 with `err` set. */
static int heic_probe(const unsigned char *s, size_t len, int *w, int *h, char *err,
                      size_t errlen);

static int probe(int fmt, const unsigned char *s, size_t len, int *w, int *h, char *err,
                 size_t errlen) {
    if (fmt == FMT_HEIC)
        return heic_probe(s, len, w, h, err, errlen);
    if (fmt == FMT_JPEG)
        return jpeg_scan_size(s, len, w, h, err, errlen);
    if (fmt == FMT_WEBP) {
        WebPBitstreamFeatures f;
        if (webp_probe(s, len, &f, err, errlen) != 0)
            return -1;
        *w = f.width;
        *h = f.height;
        return 0;
    }
    if (fmt == FMT_GIF || fmt == FMT_BMP) {
        int comp;
        return stb_probe(fmt, s, len, w, h, &comp, err, errlen);
    }
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

/* What a decoder learnt about the picture's colours; decode_into applies it once the
 * bitmap has its final size, then frees it (colour_free). */
typedef struct {
    unsigned char *icc;     /* an embedded ICC profile, malloc'd, or NULL */
    size_t icc_len;
    int has_primaries;      /* HEIC nclx primaries other than sRGB's */
    float xy[8];            /* red, green, blue, white: x, y */
} colour;

static void colour_free(colour *c) {
    free(c->icc);
    c->icc = NULL;
}

/* Keeps a copy of a profile the decoder owns; a profile too large or out of memory is
 * dropped (the picture still shows, in the wrong colours). */
static void colour_copy_icc(colour *c, const void *profile, size_t len) {
    if (profile == NULL || len == 0 || len > ICC_MAX_PROFILE || (c->icc = malloc(len)) == NULL)
        return;
    memcpy(c->icc, profile, len);
    c->icc_len = len;
}

/* PNG to RGB8, or RGBA8 when the image has alpha or a tRNS chunk (16-bit samples are
 * reduced to 8). A non-interlaced PNG larger than `fit` (0 = no fit) is resampled row by
 * row as it is decoded; an interlaced one is decoded whole and fitted by the caller. */
static int png_decode(bitmap *b, const unsigned char *s, size_t len, int fit, colour *c,
                      char *err, size_t errlen) {
    int ret = -1, rc;
    spng_ctx *ctx = png_open(s, len);
    unsigned char *row = NULL;
    rowsampler *rs = NULL;
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct spng_ihdr ihdr;
    struct spng_trns trns;
    struct spng_iccp iccp;
    if ((rc = spng_get_ihdr(ctx, &ihdr)) != 0) {
        png_error(rc, err, errlen);
        goto done;
    }
    int alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
                spng_get_trns(ctx, &trns) == 0;
    int ch = alpha ? 4 : 3, fmt = alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    int w = (int)ihdr.width, h = (int)ihdr.height;
    size_t n = pixel_bytes(w, h, ch), out = 0;
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
    int fw = w, fh = h;
    if (fit > 0 && ihdr.interlace_method == SPNG_INTERLACE_NONE)
        resample_fit(w, h, fit, &fw, &fh);
    b->px = malloc(pixel_bytes(fw, fh, ch));
    if (b->px == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (fw == w && fh == h) {
        rc = spng_decode_image(ctx, b->px, n, fmt, SPNG_DECODE_TRNS);
    } else {
        size_t stride = (size_t)w * (size_t)ch;
        row = malloc(stride);
        rs = rowsampler_new(w, h, fw, fh, ch, b->px);
        if (row == NULL || rs == NULL) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        rc = spng_decode_image(ctx, NULL, 0, fmt, SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
        while (rc == 0) {
            rc = spng_decode_row(ctx, row, stride);
            if (rc == 0 || rc == SPNG_EOI)
                rowsampler_push(rs, row);
        }
        if (rc == SPNG_EOI)
            rc = 0;
    }
    if (rc != 0) {
        png_error(rc, err, errlen);
        goto done;
    }
    if (spng_get_iccp(ctx, &iccp) == 0)
        colour_copy_icc(c, iccp.profile, iccp.profile_len);
    b->w = fw;
    b->h = fh;
    b->src_w = w;
    b->src_h = h;
    b->channels = ch;
    ret = 0;
done:
    if (ret != 0) {
        free(b->px);
        b->px = NULL;
    }
    rowsampler_free(rs);
    free(row);
    spng_ctx_free(ctx);
    return ret;
}

/* The ICCP chunk of an extended WebP, through libwebpdemux. */
static void webp_icc(const unsigned char *s, size_t len, colour *c) {
    WebPData data = {s, len};
    WebPDemuxer *dm = WebPDemux(&data);
    if (dm == NULL)
        return;
    WebPChunkIterator it;
    if ((WebPDemuxGetI(dm, WEBP_FF_FORMAT_FLAGS) & ICCP_FLAG) &&
        WebPDemuxGetChunk(dm, "ICCP", 1, &it)) {
        colour_copy_icc(c, it.chunk.bytes, it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
    }
    WebPDemuxDelete(dm);
}

/* WebP to RGB8, or RGBA8 when the image has alpha; decoded into our own buffer. */
static int webp_decode(bitmap *b, const unsigned char *s, size_t len, colour *c, char *err,
                       size_t errlen) {
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
        snprintf(err, errlen, "webp decoder version mismatch");
        return -1;
    }
    if (webp_probe(s, len, &cfg.input, err, errlen) != 0)
        return -1;
    if (cfg.input.has_animation) {
        snprintf(err, errlen, "unsupported format: animated webp");
        return -1;
    }
    int w = cfg.input.width, h = cfg.input.height, ch = cfg.input.has_alpha ? 4 : 3;
    size_t n = pixel_bytes(w, h, ch);
    if (n == 0 || (long long)w * h > CEILING_MAX_PIXELS) {
        snprintf(err, errlen, "image too large");
        return -1;
    }
    b->px = malloc(n);
    if (b->px == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cfg.output.colorspace = ch == 4 ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = b->px;
    cfg.output.u.RGBA.stride = w * ch;
    cfg.output.u.RGBA.size = n;
    VP8StatusCode st = WebPDecode(s, len, &cfg);
    WebPFreeDecBuffer(&cfg.output);            /* external memory: frees nothing of ours */
    if (st != VP8_STATUS_OK || cfg.output.width != w || cfg.output.height != h) {
        if (st == VP8_STATUS_OUT_OF_MEMORY)
            snprintf(err, errlen, "out of memory");
        else
            snprintf(err, errlen, "corrupt image: %s",
                     st == VP8_STATUS_OK ? "unexpected webp size" : webp_status(st));
        free(b->px);
        b->px = NULL;
        return -1;
    }
    b->w = w;
    b->h = h;
    b->channels = ch;
    webp_icc(s, len, c);
    return 0;
}

/* stb_image reads zeros past the end of its input, so a cut file would decode as a
 * partial picture. These walk the structure first. GIF: the blocks up to the end of
 * the first image's data. BMP: uncompressed pixel rows inside the file. 0 = complete. */
static int gif_complete(const unsigned char *s, size_t len) {
    size_t i = 13;
    if (len < i)
        return -1;
    if (s[10] & 0x80)
        i += (size_t)3 << ((s[10] & 7) + 1);     /* global colour table */
    for (;;) {
        if (i >= len)
            return -1;
        unsigned b = s[i++];
        if (b == 0x2c) {                            /* image descriptor */
            if (len - i < 10)
                return -1;
            unsigned f = s[i + 8];
            i += 9;
            if (f & 0x80)
                i += (size_t)3 << ((f & 7) + 1);     /* local colour table */
            i++;                                    /* LZW minimum code size */
        } else if (b == 0x21) {
            i++;                                    /* extension label */
        } else {
            return -1;                              /* trailer or junk before an image */
        }
        for (;;) {                                  /* data sub-blocks */
            if (i >= len)
                return -1;
            size_t n = s[i++];
            if (n == 0)
                break;
            if (n > len - i)
                return -1;
            i += n;
        }
        if (b == 0x2c)
            return 0;
    }
}

static int bmp_complete(const unsigned char *s, size_t len) {
    if (len < 26)
        return -1;
    size_t off = le32(s + 10), hsz = le32(s + 14), w, h, bpp, comp = 0;
    if (hsz == 12) {
        w = le16(s + 18);
        h = le16(s + 20);
        bpp = le16(s + 24);
    } else {
        if (len < 34)
            return -1;
        int32_t sw = (int32_t)le32(s + 18), sh = (int32_t)le32(s + 22);
        w = sw < 0 ? 0 : (size_t)sw;
        h = sh < 0 ? (size_t)(-(int64_t)sh) : (size_t)sh;
        bpp = le16(s + 28);
        comp = le32(s + 30);
    }
    if (comp != 0 && comp != 3)
        return 0;                                   /* stb_image refuses these itself */
    if (w == 0 || h == 0 || w > STBI_MAX_DIMENSIONS || h > STBI_MAX_DIMENSIONS || bpp == 0 ||
        bpp > 32)
        return 0;                                   /* refused by stb_image or the budget */
    size_t stride = (w * bpp + 31) / 32 * 4;
    return off <= len && stride * h <= len - off ? 0 : -1;
}

/* GIF (first frame; stb_image gives RGBA) or BMP to RGB8/RGBA8. RGBA whose alpha is
 * all 255 is packed to RGB in place. stbi_load_from_memory decodes one frame only. */
static int stb_decode(bitmap *b, int fmt, const unsigned char *s, size_t len, char *err,
                      size_t errlen) {
    int w, h, comp;
    if (stb_probe(fmt, s, len, &w, &h, &comp, err, errlen) != 0)
        return -1;
    if (w > STBI_MAX_DIMENSIONS || h > STBI_MAX_DIMENSIONS) {
        snprintf(err, errlen, "image too large");
        return -1;
    }
    if ((fmt == FMT_GIF ? gif_complete(s, len) : bmp_complete(s, len)) != 0) {
        snprintf(err, errlen, "corrupt image: truncated %s", fmt == FMT_GIF ? "gif" : "bmp");
        return -1;
    }
    int ch = comp == 2 || comp == 4 ? 4 : 3;
    if (pixel_bytes(w, h, ch) == 0) {
        snprintf(err, errlen, "image too large");
        return -1;
    }
    int dw = 0, dh = 0, dc = 0;
    unsigned char *px = stbi_load_from_memory(s, (int)len, &dw, &dh, &dc, ch);
    if (px == NULL) {
        const char *why = stbi_failure_reason();
        if (why != NULL && strcmp(why, "too large") == 0)
            snprintf(err, errlen, "image too large");
        else if (why != NULL && strcmp(why, "outofmem") == 0)
            snprintf(err, errlen, "out of memory");
        else
            snprintf(err, errlen, "corrupt image: %s", why != NULL ? why : "decode failed");
        return -1;
    }
    if (dw != w || dh != h) {
        snprintf(err, errlen, "corrupt image: unexpected size");
        free(px);
        return -1;
    }
    size_t n = (size_t)w * (size_t)h;
    if (ch == 4) {
        size_t i = 0;
        while (i < n && px[i * 4 + 3] == 255)
            i++;
        if (i == n) {
            for (i = 0; i < n; i++)
                memmove(px + i * 3, px + i * 4, 3);
            ch = 3;
        }
    }
    b->px = px;                                 /* STBI_FREE is free(), as bitmap_close */
    b->w = w;
    b->h = h;
    b->channels = ch;
    return 0;
}

#define HEIF_MAX_SIDE 16384  /* libheif's own side limit while parsing (its default: 32768) */

static void heic_init_once(void) { heif_init(NULL); } /* never deinit: lives with the process */

static void heic_error(struct heif_error e, char *err, size_t errlen) {
    if (e.subcode == heif_suberror_Security_limit_exceeded)
        snprintf(err, errlen, "image too large");
    else if (e.code == heif_error_Memory_allocation_error)
        snprintf(err, errlen, "out of memory");
    else if (e.code == heif_error_Unsupported_feature)
        snprintf(err, errlen, "unsupported format: %s", e.message);
    else
        snprintf(err, errlen, "corrupt image: %s", e.message);
}

/* Parses a HEIF container (no pixel work) and finds the primary image. `s` must outlive
 * the context (read without copy). On success the caller releases *hd and frees *ctx.
 * Returns 0 or -1 with `err` set and nothing held. */
static int heic_open(const unsigned char *s, size_t len, struct heif_context **ctx,
                     struct heif_image_handle **hd, char *err, size_t errlen) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, heic_init_once);
    *hd = NULL;
    *ctx = heif_context_alloc();
    if (*ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    heif_context_set_maximum_image_size_limit(*ctx, HEIF_MAX_SIDE);
    struct heif_error e = heif_context_read_from_memory_without_copy(*ctx, s, len, NULL);
    if (e.code == heif_error_Ok)
        e = heif_context_get_primary_image_handle(*ctx, hd);
    if (e.code != heif_error_Ok) {
        heic_error(e, err, errlen);         /* e.message lives in the context: copy first */
        heif_context_free(*ctx);
        *ctx = NULL;
        *hd = NULL;
        return -1;
    }
    return 0;
}

/* The primary image's displayed size (after rotation) from the container only. */
static int heic_probe(const unsigned char *s, size_t len, int *w, int *h, char *err,
                      size_t errlen) {
    struct heif_context *ctx;
    struct heif_image_handle *hd;
    if (heic_open(s, len, &ctx, &hd, err, errlen) != 0)
        return -1;
    *w = heif_image_handle_get_width(hd);
    *h = heif_image_handle_get_height(hd);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    if (*w <= 0 || *h <= 0) {
        snprintf(err, errlen, "corrupt image: heif without a size");
        return -1;
    }
    return 0;
}

/* An ICC profile (prof or rICC), or nclx primaries other than sRGB's (an iPhone's
 * Display P3). The transfer curve is taken as sRGB's, which Display P3 shares. */
static void heic_colour(const struct heif_image_handle *hd, colour *c) {
    enum heif_color_profile_type type = heif_image_handle_get_color_profile_type(hd);
    if (type == heif_color_profile_type_prof || type == heif_color_profile_type_rICC) {
        size_t n = heif_image_handle_get_raw_color_profile_size(hd);
        if (n == 0 || n > ICC_MAX_PROFILE || (c->icc = malloc(n)) == NULL)
            return;
        if (heif_image_handle_get_raw_color_profile(hd, c->icc).code != heif_error_Ok) {
            colour_free(c);
            return;
        }
        c->icc_len = n;
        return;
    }
    struct heif_color_profile_nclx *nclx = NULL;
    if (type != heif_color_profile_type_nclx ||
        heif_image_handle_get_nclx_color_profile(hd, &nclx).code != heif_error_Ok || !nclx)
        return;
    if (nclx->color_primaries != heif_color_primaries_ITU_R_BT_709_5 &&
        nclx->color_primaries != heif_color_primaries_unspecified) {
        const float xy[8] = {nclx->color_primary_red_x,   nclx->color_primary_red_y,
                             nclx->color_primary_green_x, nclx->color_primary_green_y,
                             nclx->color_primary_blue_x,  nclx->color_primary_blue_y,
                             nclx->color_primary_white_x, nclx->color_primary_white_y};
        memcpy(c->xy, xy, sizeof(xy));
        c->has_primaries = 1;
    }
    heif_nclx_color_profile_free(nclx);
}

/* HEIC primary image to RGB8, or RGBA8 when it has alpha (straight alpha as libheif
 * gives it). The caller has checked the probed size against the budget; libheif's side
 * limit is then lowered to that size, which bounds a grid image whose tiles claim more,
 * and the decoded size may not exceed the probed area. */
static int heic_decode(bitmap *b, const unsigned char *s, size_t len, colour *c, char *err,
                       size_t errlen) {
    int ret = -1;
    struct heif_context *ctx;
    struct heif_image_handle *hd;
    struct heif_image *img = NULL;
    if (heic_open(s, len, &ctx, &hd, err, errlen) != 0)
        return -1;
    int w = heif_image_handle_get_width(hd), h = heif_image_handle_get_height(hd);
    int ch = heif_image_handle_has_alpha_channel(hd) ? 4 : 3;
    if (pixel_bytes(w, h, ch) == 0 || (long long)w * h > CEILING_MAX_PIXELS) {
        snprintf(err, errlen, "image too large");
        goto done;
    }
    heif_context_set_maximum_image_size_limit(ctx, (w > h ? w : h) + 1);
    struct heif_decoding_options *opt = heif_decoding_options_alloc();
    if (opt == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    opt->convert_hdr_to_8bit = 1;
    opt->strict_decoding = 1;                       /* a cut or damaged file is an error */
    struct heif_error e = heif_decode_image(hd, &img, heif_colorspace_RGB,
                                            ch == 4 ? heif_chroma_interleaved_RGBA
                                                    : heif_chroma_interleaved_RGB, opt);
    heif_decoding_options_free(opt);
    if (e.code != heif_error_Ok) {
        heic_error(e, err, errlen);
        img = NULL;
        goto done;
    }
    int iw = heif_image_get_width(img, heif_channel_interleaved);
    int ih = heif_image_get_height(img, heif_channel_interleaved);
    int stride = 0;
    const uint8_t *plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    size_t n = pixel_bytes(iw, ih, ch), row = (size_t)iw * (size_t)ch;
    if (n == 0 || (long long)iw * ih > (long long)w * h) {
        snprintf(err, errlen, "corrupt image: unexpected heif size");
        goto done;
    }
    if (plane == NULL || stride <= 0 || (size_t)stride < row ||
        heif_image_get_bits_per_pixel(img, heif_channel_interleaved) != 8 * ch) {
        snprintf(err, errlen, "corrupt image: unexpected heif pixel layout");
        goto done;
    }
    b->px = malloc(n);
    if (b->px == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int y = 0; y < ih; y++)
        memcpy(b->px + (size_t)y * row, plane + (size_t)y * (size_t)stride, row);
    b->w = iw;
    b->h = ih;
    b->channels = ch;
    heic_colour(hd, c);
    ret = 0;
done:
    heif_image_release(img);                        /* accepts NULL */
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    return ret;
}

static const char *format_name(int fmt) {
    switch (fmt) {
    case FMT_HEIC: return "heic";
    case FMT_JPEG: return "jpeg";
    case FMT_PNG: return "png";
    case FMT_WEBP: return "webp";
    case FMT_GIF: return "gif";
    default: return "bmp";
    }
}

/* image.info(bytes) -> { format = "jpeg"|"png"|"webp"|"gif"|"bmp"|"heic", width, height }
 * | nil, err */
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
    b->w = b->h = b->channels = b->src_w = b->src_h = 0;
    b->px = NULL;                                 /* safe "closed" state before any work */
    luaL_setmetatable(L, BITMAP_MT);
    return b;
}

typedef struct { long long max_pixels; int target, fit; } decode_options;

/* The options table at `idx` (absent or nil: the defaults). Raises on bad values. */
static decode_options check_options(lua_State *L, int idx) {
    decode_options o = {DEFAULT_MAX_PIXELS, 0, 0};
    if (lua_isnoneornil(L, idx))
        return o;
    luaL_checktype(L, idx, LUA_TTABLE);
    o.max_pixels = opt_field(L, idx, "max_pixels", DEFAULT_MAX_PIXELS, 1, CEILING_MAX_PIXELS);
    o.target = (int)opt_field(L, idx, "target", 0, 1, MAX_SIDE);
    o.fit = (int)opt_field(L, idx, "fit", 0, 1, MAX_SIDE);
    return o;
}

/* Resamples b in place into a fit x fit box when it is larger. 0 or -1 (out of memory). */
static int fit_bitmap(bitmap *b, int fit) {
    int w, h;
    resample_fit(b->w, b->h, fit, &w, &h);
    if (w == b->w && h == b->h)
        return 0;
    unsigned char *px = malloc(pixel_bytes(w, h, b->channels));
    if (px == NULL || resample_image(b->px, b->w, b->h, b->channels, px, w, h) != 0) {
        free(px);
        return -1;
    }
    free(b->px);
    b->px = px;
    b->w = w;
    b->h = h;
    return 0;
}

/* Decodes into b (b->px NULL on entry): `len` bytes at `src`, or for a JPEG with `src`
 * NULL the file `f`. Then fits it into the box and converts its colours to sRGB.
 * 0, or -1 with `err` set and b->px NULL. */
static int decode_into(bitmap *b, int fmt, const unsigned char *src, size_t len, FILE *f,
                       const decode_options *o, char *err, size_t errlen) {
    colour c = {0};
    int rc;
    if (fmt == FMT_JPEG) {
        jpeg_options jo = {o->target > 0 ? o->target : o->fit, o->fit, o->max_pixels};
        jpeg_image ji;
        rc = jpeg_decode(src, len, f, &jo, &ji, err, errlen);
        if (rc == 0) {
            *b = (bitmap){.w = ji.w, .h = ji.h, .channels = 3, .px = ji.px, .src_w = ji.src_w,
                          .src_h = ji.src_h};
            c.icc = ji.icc;
            c.icc_len = ji.icc_len;
        }
    } else if (fmt == FMT_PNG) {
        rc = png_decode(b, src, len, o->fit, &c, err, errlen);
    } else if (fmt == FMT_WEBP) {
        rc = webp_decode(b, src, len, &c, err, errlen);
    } else if (fmt == FMT_HEIC) {
        rc = heic_decode(b, src, len, &c, err, errlen);
    } else {
        rc = stb_decode(b, fmt, src, len, err, errlen);
    }
    if (rc == 0 && b->src_w == 0) {
        b->src_w = b->w;
        b->src_h = b->h;
    }
    if (rc == 0 && o->fit > 0 && fit_bitmap(b, o->fit) != 0)
        rc = -1;
    size_t n = rc == 0 ? (size_t)b->w * (size_t)b->h : 0;
    if (rc == 0 && c.icc != NULL && icc_rgb_to_srgb(c.icc, c.icc_len, b->px, n, b->channels) < 0)
        rc = -1;
    if (rc == 0 && c.has_primaries && icc_primaries_to_srgb(c.xy, b->px, n, b->channels) < 0)
        rc = -1;
    colour_free(&c);
    if (rc != 0 && b->px != NULL) {                 /* failed after decoding: memory */
        snprintf(err, errlen, "out of memory");
        free(b->px);
        b->px = NULL;
    }
    return rc;
}

/* Sniffs, probes the header and checks the budget, then decodes into b. 0 or -1. */
static int decode_bytes(bitmap *b, const unsigned char *src, size_t len,
                        const decode_options *o, char *err, size_t errlen) {
    int fmt = sniff(src, len), w = 0, h = 0;
    if (fmt == FMT_NONE) {
        snprintf(err, errlen, "unsupported format");
        return -1;
    }
    if (probe(fmt, src, len, &w, &h, err, errlen) != 0)
        return -1;
    if ((long long)w * (long long)h > o->max_pixels) {  /* budget before any pixel buffer */
        snprintf(err, errlen, "image too large");
        return -1;
    }
    return decode_into(b, fmt, src, len, NULL, o, err, errlen);
}

/* image.decode(bytes, { max_pixels = N, target = S, fit = F }?) -> bitmap | nil, err
 * target: a JPEG decodes at the smallest DCT scale whose longest side is >= target.
 * fit: the bitmap comes resampled into a fit x fit box (a JPEG also scales for it; JPEG
 * and non-interlaced PNG rows are resampled as they are decoded, so the full-size picture
 * is never held). Embedded colour profiles are converted to sRGB; GIF gives its first
 * frame. */
static int image_decode(lua_State *L) {
    size_t len;
    const unsigned char *src = (const unsigned char *)luaL_checklstring(L, 1, &len);
    decode_options o = check_options(L, 2);
    char err[160];
    bitmap *b = new_bitmap(L);
    if (decode_bytes(b, src, len, &o, err, sizeof(err)) != 0)
        return core_fail(L, "%s", err);
    return 1;
}

#define MAX_FILE_BYTES ((long)256 << 20)    /* a non-JPEG file read whole: at most this */

/* Decodes the file at `path` into b: a JPEG straight from the file, in small reads; other
 * formats read whole first. 0 or -1 with `err` set. */
static int decode_path(bitmap *b, const char *path, const decode_options *o, char *err,
                       size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open the file: %s", strerror(errno));
        return -1;
    }
    int rc = -1;
    unsigned char head[64], *all = NULL;
    size_t got = fread(head, 1, sizeof(head), f);
    long size = -1;
    if (sniff(head, got) == FMT_JPEG) {
        rewind(f);
        rc = decode_into(b, FMT_JPEG, NULL, 0, f, o, err, errlen);
    } else if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        snprintf(err, errlen, "cannot read the file: %s", strerror(errno));
    } else if (size > MAX_FILE_BYTES) {
        snprintf(err, errlen, "image too large");
    } else if ((all = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
    } else if (fread(all, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "cannot read the file");
    } else {
        rc = decode_bytes(b, all, (size_t)size, o, err, errlen);
    }
    free(all);
    fclose(f);
    return rc;
}

/* image.decode_file(path, options?) -> bitmap | nil, err
 * As image.decode, reading the file itself: a JPEG is decoded as it is read and never
 * held whole. For the worker on the local backend, whose originals are files. */
static int image_decode_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    decode_options o = check_options(L, 2);
    char err[200];
    bitmap *b = new_bitmap(L);
    if (decode_path(b, path, &o, err, sizeof(err)) != 0)
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

/* bitmap:source_size() -> w, h of the picture it was decoded from (before any DCT scaling
 * or fitting; a thumbnail's source is its bitmap's source) */
static int bitmap_source_size(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_pushinteger(L, b->src_w);
    lua_pushinteger(L, b->src_h);
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

/* bitmap:thumbnail(max_side) -> bitmap whose longest side is max_side (never upscales) */
static int bitmap_thumbnail(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer max_side = luaL_checkinteger(L, 2);
    luaL_argcheck(L, max_side >= 1 && max_side <= MAX_SIDE, 2, "max_side out of range");
    int nw, nh;
    resample_fit(b->w, b->h, (int)max_side, &nw, &nh);
    bitmap *d = new_bitmap(L);
    d->px = malloc(pixel_bytes(nw, nh, b->channels));
    if (d->px == NULL || resample_image(b->px, b->w, b->h, b->channels, d->px, nw, nh) != 0) {
        free(d->px);
        d->px = NULL;
        return core_fail(L, "out of memory");
    }
    d->w = nw;
    d->h = nh;
    d->channels = b->channels;
    d->src_w = b->src_w;
    d->src_h = b->src_h;
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
    d->src_w = b->src_w;
    d->src_h = b->src_h;
    if (o == 1) {                                   /* upright already: one copy */
        memcpy(d->px, b->px, n);
        return 1;
    }
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
            unsigned char *to = d->px + ((size_t)oy * d->w + ox) * ch;
            const unsigned char *from = b->px + ((size_t)sy * w + sx) * ch;
            if (ch == 3)                            /* fixed sizes: moves, not calls */
                memcpy(to, from, 3);
            else
                memcpy(to, from, 4);
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

/* bitmap:blurhash(x_components?, y_components?) -> BlurHash string (defaults 4, 3; each
 * 1..9). Computed on this bitmap as it is: call it on a small thumbnail. */
static int bitmap_blurhash(lua_State *L) {
    bitmap *b = check_open(L, 1);
    lua_Integer xc = luaL_optinteger(L, 2, 4), yc = luaL_optinteger(L, 3, 3);
    luaL_argcheck(L, xc >= 1 && xc <= 9, 2, "x_components must be 1..9");
    luaL_argcheck(L, yc >= 1 && yc <= 9, 3, "y_components must be 1..9");
    char out[BLURHASH_BUF_SIZE];
    int n = blurhash_encode(b->px, b->w, b->h, b->channels, (int)xc, (int)yc, out, sizeof(out));
    if (n < 0)
        return core_fail(L, "blurhash failed: out of memory");
    lua_pushlstring(L, out, (size_t)n);
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
                                       {"decode_file", image_decode_file},
                                       {"exif", image_exif}, {NULL, NULL}};
static const luaL_Reg bitmap_methods[] = {{"size", bitmap_size},
                                          {"source_size", bitmap_source_size},
                                          {"channels", bitmap_channels},
                                          {"pixel", bitmap_pixel},
                                          {"thumbnail", bitmap_thumbnail},
                                          {"orient", bitmap_orient},
                                          {"encode_jpeg", bitmap_encode_jpeg},
                                          {"blurhash", bitmap_blurhash},
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
