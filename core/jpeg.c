/* jpeg.c -- JPEG decoding with libjpeg-turbo's libjpeg API. Scanlines go one band at a
 * time into a rowsampler (resample.c), so the full-size picture never exists when the
 * caller wants a smaller one. Warnings (a truncated or damaged file) are errors, as are
 * progressive files with more than 500 scans (a known CPU bomb). */
#include "jpeg.h"

#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "icc.h"
#include "resample.h"

#define MAX_SCANS 500
#define BAND_ROWS 16

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} error_mgr;

static void on_error(j_common_ptr c) {
    error_mgr *e = (error_mgr *)c->err;
    if (c->err->msg_code == JERR_IMAGE_TOO_BIG || c->err->msg_code == JERR_WIDTH_OVERFLOW)
        snprintf(e->msg, sizeof(e->msg), "image too large");
    else if (c->err->msg_code == JERR_OUT_OF_MEMORY)
        snprintf(e->msg, sizeof(e->msg), "out of memory");
    else {
        char text[JMSG_LENGTH_MAX];
        c->err->format_message(c, text);
        snprintf(e->msg, sizeof(e->msg), "corrupt image: %s", text);
    }
    longjmp(e->jump, 1);
}

/* Warnings (level -1) stop decoding, except a damaged ICC profile, which is dropped. */
static void on_message(j_common_ptr c, int level) {
    if (level < 0 && c->err->msg_code != JWRN_BOGUS_ICC)
        on_error(c);
}

static void on_progress(j_common_ptr c) {
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->progressive_mode && d->input_scan_number > MAX_SCANS) {
        error_mgr *e = (error_mgr *)c->err;
        snprintf(e->msg, sizeof(e->msg), "corrupt image: more than %d scans", MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

/* What a decode holds, freed in one place whichever way it ends. */
typedef struct {
    struct jpeg_decompress_struct d;
    error_mgr err;
    struct jpeg_progress_mgr progress;
    rowsampler *rs;
    icc_cmyk *cmyk;
    unsigned char *band, *rgb, *px, *icc;
} decoder;

static void decoder_free(decoder *j, int keep_result) {
    jpeg_destroy_decompress(&j->d);
    rowsampler_free(j->rs);
    icc_cmyk_free(j->cmyk);
    free(j->band);
    free(j->rgb);
    if (!keep_result) {
        free(j->px);
        free(j->icc);
    }
    free(j);
}

/* The denominator of the smallest of 1/1, 1/2, 1/4, 1/8 keeping the longest side >= target. */
static unsigned scale_for(unsigned w, unsigned h, int target) {
    unsigned longest = w > h ? w : h, denom = 1;
    while (target > 0 && denom < 8 && (longest + denom * 2 - 1) / (denom * 2) >= (unsigned)target)
        denom *= 2;
    return denom;
}

int jpeg_decode(const unsigned char *data, size_t len, FILE *f, const jpeg_options *opt,
                jpeg_image *out, char *err, size_t errlen) {
    decoder *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->d.err = jpeg_std_error(&j->err.pub);
    j->err.pub.error_exit = on_error;
    j->err.pub.emit_message = on_message;
    if (setjmp(j->err.jump)) {
        snprintf(err, errlen, "%s", j->err.msg);
        decoder_free(j, 0);
        return -1;
    }
    jpeg_create_decompress(&j->d);
    j->progress.progress_monitor = on_progress;
    j->d.progress = &j->progress;
    if (data != NULL)
        jpeg_mem_src(&j->d, data, (unsigned long)len);
    else
        jpeg_stdio_src(&j->d, f);
    jpeg_save_markers(&j->d, JPEG_APP0 + 2, 0xffff);       /* ICC profile chunks */
    jpeg_read_header(&j->d, TRUE);
    if ((long long)j->d.image_width * j->d.image_height > opt->max_pixels) {
        snprintf(err, errlen, "image too large");           /* before any pixel buffer */
        decoder_free(j, 0);
        return -1;
    }
    unsigned icc_len = 0;
    jpeg_read_icc_profile(&j->d, &j->icc, &icc_len);
    int cmyk = j->d.jpeg_color_space == JCS_CMYK || j->d.jpeg_color_space == JCS_YCCK;
    j->d.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    j->d.scale_num = 1;
    j->d.scale_denom = scale_for(j->d.image_width, j->d.image_height, opt->target);
    jpeg_calc_output_dimensions(&j->d);
    int dw = (int)j->d.output_width, dh = (int)j->d.output_height, w = dw, h = dh;
    if (opt->fit > 0)
        resample_fit(dw, dh, opt->fit, &w, &h);
    /* The accurate IDCT and fancy chroma upsampling stay on: at 1/4 scale neither knob
     * changes anything (libjpeg's reduced IDCTs ignore dct_method and scale chroma in the
     * IDCT), and for the 1/1 preview decode the fast ones saved no measurable time while
     * plain upsampling moved colour edges by up to 86 levels. */
    if (cmyk) {
        j->cmyk = icc_cmyk_new(j->icc, icc_len, j->d.saw_Adobe_marker);
        j->rgb = malloc((size_t)dw * 3);
        if (j->cmyk == NULL || j->rgb == NULL) {
            snprintf(err, errlen, "out of memory");
            decoder_free(j, 0);
            return -1;
        }
        free(j->icc);                               /* applied here, not by the caller */
        j->icc = NULL;
        icc_len = 0;
    }
    jpeg_start_decompress(&j->d);
    int comps = j->d.output_components;
    size_t row = (size_t)dw * (size_t)comps;
    j->px = malloc((size_t)w * (size_t)h * 3);
    j->band = malloc(row * BAND_ROWS);
    j->rs = j->px ? rowsampler_new(dw, dh, w, h, 3, j->px) : NULL;
    if (j->band == NULL || j->rs == NULL || (comps != 3 && !(cmyk && comps == 4))) {
        snprintf(err, errlen, j->band && j->rs ? "corrupt image: unexpected jpeg components"
                                               : "out of memory");
        decoder_free(j, 0);
        return -1;
    }
    JSAMPROW rows[BAND_ROWS];
    for (int i = 0; i < BAND_ROWS; i++)
        rows[i] = j->band + (size_t)i * row;
    while (j->d.output_scanline < j->d.output_height) {
        JDIMENSION n = jpeg_read_scanlines(&j->d, rows, BAND_ROWS);
        for (JDIMENSION i = 0; i < n; i++) {
            if (cmyk) {
                icc_cmyk_row(j->cmyk, rows[i], j->rgb, dw);
                rowsampler_push(j->rs, j->rgb);
            } else {
                rowsampler_push(j->rs, rows[i]);
            }
        }
    }
    jpeg_finish_decompress(&j->d);
    *out = (jpeg_image){.px = j->px, .w = w, .h = h, .src_w = (int)j->d.image_width,
                        .src_h = (int)j->d.image_height, .icc = j->icc, .icc_len = icc_len};
    decoder_free(j, 1);
    return 0;
}
