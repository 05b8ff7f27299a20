/* resample.c -- area downscaling in linear light, fed one source row at a time: each row
 * is resampled horizontally into floats, added into the (at most two) output rows it
 * covers, and an output row goes back to sRGB bytes once its last source row is in. The
 * memory is a few rows, whatever the source size. */
#include "resample.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ACC_ROWS 3          /* output rows open at once: a source row covers at most two */

/* Area weights for n_in -> n_out (n_out <= n_in): output o takes cnt[o] source pixels from
 * start[o], with weights wt[o * stride + k] summing to 1 and zeros from cnt[o] to stride,
 * so a horizontal pass can always take `stride` taps (its row is padded to match). */
typedef struct { int *start, *cnt; float *wt; int stride; } weights;

/* One pixel in linear light, premultiplied (r, g, b, alpha; alpha 1 for RGB): four floats
 * that GCC and Clang add and scale as one SIMD register. */
typedef float px4 __attribute__((vector_size(16)));

struct rowsampler {
    int in_w, in_h, out_w, out_h, ch;
    int y, next_out;        /* the next source row to come, the next output row to write */
    weights wx, wy;
    px4 *lin;               /* the current source row in linear light */
    px4 *hrow;              /* ...resampled horizontally */
    px4 *acc;               /* ACC_ROWS output rows being summed */
    unsigned char *out;
};

static float srgb_to_linear_lut[256];

/* linear -> sRGB byte through a table: a powf per output channel was half the time of
 * a thumbnail. 16384 steps keep every entry within half a level of the exact value,
 * even near black where the curve is steepest. */
#define LINEAR_STEPS 16384
static unsigned char linear_to_srgb_table[LINEAR_STEPS + 1];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    for (int i = 0; i < 256; i++) {
        float v = i / 255.0f;
        srgb_to_linear_lut[i] = v <= 0.04045f ? v / 12.92f : powf((v + 0.055f) / 1.055f, 2.4f);
    }
    for (int i = 0; i <= LINEAR_STEPS; i++) {
        float v = (float)i / LINEAR_STEPS;
        float s = v <= 0.0031308f ? v * 12.92f : 1.055f * powf(v, 1.0f / 2.4f) - 0.055f;
        linear_to_srgb_table[i] = (unsigned char)(s * 255.0f + 0.5f);
    }
}

static unsigned char linear_to_srgb8(float v) {
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    return linear_to_srgb_table[(int)(v * LINEAR_STEPS + 0.5f)];
}

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
    w->wt = calloc((size_t)n_out * (size_t)w->stride, sizeof(float));
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

rowsampler *rowsampler_new(int in_w, int in_h, int out_w, int out_h, int channels,
                           unsigned char *out) {
    pthread_once(&tables_once, tables_init);
    if (out_w < 1 || out_h < 1 || out_w > in_w || out_h > in_h ||
        (channels != 3 && channels != 4))
        return NULL;
    rowsampler *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return NULL;
    *rs = (rowsampler){.in_w = in_w, .in_h = in_h, .out_w = out_w, .out_h = out_h,
                       .ch = channels, .out = out};
    if (in_w == out_w && in_h == out_h)
        return rs;                                  /* rows are copied as they come */
    if (weights_make(&rs->wx, in_w, out_w) || weights_make(&rs->wy, in_h, out_h)) {
        rowsampler_free(rs);
        return NULL;
    }
    /* zeros after the row, where the last outputs' zero-weight taps read */
    rs->lin = calloc((size_t)in_w + (size_t)rs->wx.stride, sizeof(px4));
    rs->hrow = malloc((size_t)out_w * sizeof(px4));
    rs->acc = malloc(ACC_ROWS * (size_t)out_w * sizeof(px4));
    if (!rs->lin || !rs->hrow || !rs->acc) {
        rowsampler_free(rs);
        return NULL;
    }
    return rs;
}

/* Source row -> rs->lin (premultiplied linear light) -> rs->hrow (out_w pixels). */
static void horizontal(rowsampler *rs, const unsigned char *in) {
    const float *lut = srgb_to_linear_lut;
    px4 *lin = rs->lin;
    if (rs->ch == 3) {
        for (int x = 0; x < rs->in_w; x++, in += 3)
            lin[x] = (px4){lut[in[0]], lut[in[1]], lut[in[2]], 1.0f};
    } else {
        for (int x = 0; x < rs->in_w; x++, in += 4) {
            float a = in[3] / 255.0f;
            lin[x] = (px4){lut[in[0]] * a, lut[in[1]] * a, lut[in[2]] * a, a};
        }
    }
    /* `stride` taps each, the zero weights included: a fixed count the CPU predicts, and
     * for the usual shrink of a DCT-scaled row by less than 2 (stride 4), unrolled */
    const weights *wx = &rs->wx;
    const float *wt = wx->wt;
    if (wx->stride == 4) {
        for (int x = 0; x < rs->out_w; x++, wt += 4) {
            const px4 *p = lin + wx->start[x];
            rs->hrow[x] = wt[0] * p[0] + wt[1] * p[1] + wt[2] * p[2] + wt[3] * p[3];
        }
        return;
    }
    for (int x = 0; x < rs->out_w; x++, wt += wx->stride) {
        const px4 *p = lin + wx->start[x];
        px4 sum = {0, 0, 0, 0};
        for (int k = 0; k < wx->stride; k++)
            sum += wt[k] * p[k];
        rs->hrow[x] = sum;
    }
}

/* Output row o (summed in its accumulator) -> sRGB bytes in rs->out. */
static void emit(rowsampler *rs, int o) {
    int ch = rs->ch;
    const px4 *p = rs->acc + (size_t)(o % ACC_ROWS) * rs->out_w;
    unsigned char *out = rs->out + (size_t)o * rs->out_w * ch;
    for (int x = 0; x < rs->out_w; x++, out += ch) {
        px4 v = p[x];
        float a = ch == 4 ? v[3] : 1.0f, inv = a > 0 ? 1.0f / a : 0.0f;
        out[0] = linear_to_srgb8(v[0] * inv);
        out[1] = linear_to_srgb8(v[1] * inv);
        out[2] = linear_to_srgb8(v[2] * inv);
        if (ch == 4)
            out[3] = (unsigned char)(a * 255.0f + 0.5f);
    }
}

void rowsampler_push(rowsampler *rs, const unsigned char *row) {
    int y = rs->y++;
    if (y >= rs->in_h)
        return;
    if (rs->acc == NULL) {
        size_t n = (size_t)rs->out_w * rs->ch;
        memcpy(rs->out + (size_t)y * n, row, n);
        return;
    }
    horizontal(rs, row);
    const weights *wy = &rs->wy;
    for (int o = rs->next_out; o < rs->out_h && wy->start[o] <= y; o++) {
        int k = y - wy->start[o];
        if (k >= wy->cnt[o])
            continue;
        float w = wy->wt[(size_t)o * wy->stride + k];
        px4 *acc = rs->acc + (size_t)(o % ACC_ROWS) * rs->out_w;
        if (k == 0)
            memset(acc, 0, (size_t)rs->out_w * sizeof(px4));
        for (int x = 0; x < rs->out_w; x++)
            acc[x] += w * rs->hrow[x];
    }
    while (rs->next_out < rs->out_h && wy->start[rs->next_out] + wy->cnt[rs->next_out] - 1 <= y)
        emit(rs, rs->next_out++);
}

void rowsampler_free(rowsampler *rs) {
    if (rs == NULL)
        return;
    weights_free(&rs->wx);
    weights_free(&rs->wy);
    free(rs->lin);
    free(rs->hrow);
    free(rs->acc);
    free(rs);
}

int resample_image(const unsigned char *in, int in_w, int in_h, int channels,
                   unsigned char *out, int out_w, int out_h) {
    rowsampler *rs = rowsampler_new(in_w, in_h, out_w, out_h, channels, out);
    if (rs == NULL)
        return -1;
    size_t stride = (size_t)in_w * (size_t)channels;
    for (int y = 0; y < in_h; y++)
        rowsampler_push(rs, in + (size_t)y * stride);
    rowsampler_free(rs);
    return 0;
}

void resample_fit(int in_w, int in_h, int box, int *out_w, int *out_h) {
    int w = in_w, h = in_h;
    if (in_w >= in_h && in_w > box) {
        w = box;
        h = (int)(((long long)in_h * box + in_w / 2) / in_w);
    } else if (in_h > in_w && in_h > box) {
        h = box;
        w = (int)(((long long)in_w * box + in_h / 2) / in_h);
    }
    *out_w = w < 1 ? 1 : w;
    *out_h = h < 1 ? 1 : h;
}
