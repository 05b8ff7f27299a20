/* jpeg.h -- JPEG decoding through libjpeg-turbo's libjpeg API (jpeg.c): straight to the
 * smallest useful DCT scale, from memory or from a file, rows resampled into a box as
 * they arrive, CMYK and YCCK converted to RGB. */
#ifndef ITCLOUD_JPEG_H
#define ITCLOUD_JPEG_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    int target;             /* decode at the smallest of 1/1, 1/2, 1/4, 1/8 whose longest
                               side is >= target; 0: full size */
    int fit;                /* then resample into a fit x fit box while decoding; 0: no */
    long long max_pixels;   /* a frame header above this many pixels is refused */
} jpeg_options;

typedef struct {
    unsigned char *px;      /* w * h * 3 bytes of RGB, malloc'd: the caller frees */
    int w, h;
    int src_w, src_h;       /* the frame's size in the file */
    unsigned char *icc;     /* the embedded RGB ICC profile (malloc'd) or NULL; a CMYK
                               profile is applied during decoding and not returned */
    size_t icc_len;
} jpeg_image;

/* Decodes `len` bytes at `data`, or, when `data` is NULL, the file `f` from its current
 * position (read in small pieces, never whole). Returns 0 with *out filled, or -1 with
 * `err` set ("image too large", "out of memory", "corrupt image: ...") and nothing held. */
int jpeg_decode(const unsigned char *data, size_t len, FILE *f, const jpeg_options *opt,
                jpeg_image *out, char *err, size_t errlen);

#endif
