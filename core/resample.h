/* resample.h -- downscaling in linear light, one source row at a time (resample.c), so a
 * decoder can hand rows over as they arrive and no full-size picture is ever kept. */
#ifndef ITCLOUD_RESAMPLE_H
#define ITCLOUD_RESAMPLE_H

typedef struct rowsampler rowsampler;

/* A resampler from in_w x in_h to out_w x out_h (each no larger than its input side) of
 * `channels` 3 (RGB) or 4 (RGBA, resampled premultiplied) bytes per pixel, writing into
 * `out` (out_w * out_h * channels bytes, owned by the caller). Area weights: every source
 * pixel counts by how much of it an output pixel covers. Same sizes copy rows as they are.
 * Returns NULL when out of memory; free with rowsampler_free. */
rowsampler *rowsampler_new(int in_w, int in_h, int out_w, int out_h, int channels,
                           unsigned char *out);

/* Hands over the next source row (in_w * channels bytes, rows top to bottom); output rows
 * are written to `out` as soon as every source row they cover has arrived. */
void rowsampler_push(rowsampler *rs, const unsigned char *row);

/* Frees the resampler (not `out`); NULL is fine. */
void rowsampler_free(rowsampler *rs);

/* Resamples a whole packed picture with a rowsampler. 0, or -1 when out of memory. */
int resample_image(const unsigned char *in, int in_w, int in_h, int channels,
                   unsigned char *out, int out_w, int out_h);

/* The size of in_w x in_h fitted into a box x box square (aspect kept, rounded, never
 * larger than the input, at least 1). */
void resample_fit(int in_w, int in_h, int box, int *out_w, int *out_h);

#endif
