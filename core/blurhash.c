/* blurhash.c -- BlurHash encoder, arithmetic for arithmetic as the woltapp/blurhash C
 * reference encoder (float sums, x/width sampling, maximum-value quantisation over 166),
 * so its hashes are the same strings. Differences are only in speed: the sRGB-to-linear
 * values and the cosines are tabulated, and one pass over the pixels feeds every
 * component (each sum still adds the same terms in the same order). */
#include "blurhash.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const char base83[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

/* The reference's mixed float/double expressions are kept on purpose: they decide rounding. */
static float srgb_to_linear(int value) {
    float v = (float)value / 255;
    if (v <= 0.04045)
        return (float)(v / 12.92);
    return powf((float)((v + 0.055) / 1.055), 2.4f);
}

static int linear_to_srgb(float value) {
    float v = fmaxf(0, fminf(1, value));
    if (v <= 0.0031308)
        return (int)(v * 12.92 * 255 + 0.5);
    return (int)((1.055 * powf(v, (float)(1 / 2.4)) - 0.055) * 255 + 0.5);
}

static float sign_pow(float value, float exp) {
    return copysignf(powf(fabsf(value), exp), value);
}

static int quant_ac(float v, float maximum) {
    return (int)fmaxf(0, fminf(18, floorf((float)(sign_pow(v / maximum, 0.5f) * 9 + 9.5))));
}

static char *encode83(int value, int length, char *dst) {
    int divisor = 1;
    for (int i = 0; i < length - 1; i++)
        divisor *= 83;
    for (int i = 0; i < length; i++) {
        *dst++ = base83[(value / divisor) % 83];
        divisor /= 83;
    }
    return dst;
}

int blurhash_encode(const unsigned char *px, int w, int h, int channels, int x_components,
                    int y_components, char *out, size_t cap) {
    if (px == NULL || out == NULL || w < 1 || h < 1 || (channels != 3 && channels != 4))
        return -1;
    if (x_components < BLURHASH_MIN_COMPONENTS || x_components > BLURHASH_MAX_COMPONENTS ||
        y_components < BLURHASH_MIN_COMPONENTS || y_components > BLURHASH_MAX_COMPONENTS)
        return -1;
    int len = 4 + 2 * x_components * y_components;
    if (cap < (size_t)len + 1)
        return -1;
    if ((size_t)w > SIZE_MAX / (size_t)channels / (size_t)h)
        return -1;

    float lin[256];
    for (int i = 0; i < 256; i++)
        lin[i] = srgb_to_linear(i);
    /* cos_x[cx * w + x] and cos_y[cy * h + y], the reference's cosf(M_PI * c * i / n) */
    float *cos_x = malloc(sizeof(float) * ((size_t)x_components * (size_t)w +
                                           (size_t)y_components * (size_t)h));
    if (cos_x == NULL)
        return -1;
    float *cos_y = cos_x + (size_t)x_components * (size_t)w;
    for (int c = 0; c < x_components; c++)
        for (int x = 0; x < w; x++)
            cos_x[(size_t)c * w + x] = cosf((float)(M_PI * c * x / w));
    for (int c = 0; c < y_components; c++)
        for (int y = 0; y < h; y++)
            cos_y[(size_t)c * h + y] = cosf((float)(M_PI * c * y / h));

    float f[BLURHASH_MAX_COMPONENTS * BLURHASH_MAX_COMPONENTS][3] = {{0}}; /* [cy * xc + cx] */
    for (int y = 0; y < h; y++) {
        const unsigned char *row = px + (size_t)y * (size_t)w * (size_t)channels;
        for (int x = 0; x < w; x++) {
            const unsigned char *p = row + (size_t)x * (size_t)channels;
            float r = lin[p[0]], g = lin[p[1]], b = lin[p[2]];
            for (int cy = 0; cy < y_components; cy++) {
                float ky = cos_y[(size_t)cy * h + y];
                for (int cx = 0; cx < x_components; cx++) {
                    float basis = cos_x[(size_t)cx * w + x] * ky;
                    float *acc = f[cy * x_components + cx];
                    acc[0] += basis * r;
                    acc[1] += basis * g;
                    acc[2] += basis * b;
                }
            }
        }
    }
    free(cos_x);

    float pixels = (float)((long long)w * (long long)h);
    int n = x_components * y_components;
    for (int i = 0; i < n; i++) {
        float scale = (i == 0 ? 1.0f : 2.0f) / pixels;
        for (int c = 0; c < 3; c++)
            f[i][c] *= scale;
    }

    char *dst = encode83((x_components - 1) + (y_components - 1) * 9, 1, out);
    float maximum = 1;
    int qmax = 0;
    if (n > 1) {
        float actual = 0;
        for (int i = 1; i < n; i++)
            for (int c = 0; c < 3; c++)
                actual = fmaxf(fabsf(f[i][c]), actual);
        qmax = (int)fmaxf(0, fminf(82, floorf((float)(actual * 166 - 0.5))));
        maximum = ((float)qmax + 1) / 166;
    }
    dst = encode83(qmax, 1, dst);
    int dc = (linear_to_srgb(f[0][0]) << 16) + (linear_to_srgb(f[0][1]) << 8) +
             linear_to_srgb(f[0][2]);
    dst = encode83(dc, 4, dst);
    for (int i = 1; i < n; i++) {
        int ac = quant_ac(f[i][0], maximum) * 19 * 19 + quant_ac(f[i][1], maximum) * 19 +
                 quant_ac(f[i][2], maximum);
        dst = encode83(ac, 2, dst);
    }
    *dst = '\0';
    return (int)(dst - out);
}
