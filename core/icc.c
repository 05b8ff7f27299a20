/* icc.c -- conversions to sRGB with Little CMS 2: a transform from the embedded profile (or
 * from primaries) to lcms's built-in sRGB profile, perceptual intent (relative
 * colorimetric for matrix-shaper profiles, which have no perceptual table). Hostile
 * profiles are parsed by lcms (fuzzed upstream); the size is capped before. */
#include "icc.h"

#include <lcms2.h>
#include <stdlib.h>

/* Transforms `n` pixels of `fmt` in place, row-sized slices at a time. */
static void transform_in_place(cmsHTRANSFORM t, unsigned char *px, size_t n, int channels) {
    const size_t slice = 4096;
    for (size_t i = 0; i < n; i += slice) {
        size_t k = n - i < slice ? n - i : slice;
        cmsDoTransform(t, px + i * (size_t)channels, px + i * (size_t)channels, (cmsUInt32Number)k);
    }
}

/* Converts from `src` (closed here) to sRGB. 0, 1 (unusable), -1 (out of memory). */
static int to_srgb(cmsHPROFILE src, unsigned char *px, size_t n, int channels) {
    if (src == NULL)
        return 1;
    if (cmsGetColorSpace(src) != cmsSigRgbData) {
        cmsCloseProfile(src);
        return 1;
    }
    cmsHPROFILE srgb = cmsCreate_sRGBProfile();
    if (srgb == NULL) {
        cmsCloseProfile(src);
        return -1;
    }
    cmsUInt32Number fmt = channels == 4 ? TYPE_RGBA_8 : TYPE_RGB_8;
    cmsHTRANSFORM t = cmsCreateTransform(src, fmt, srgb, fmt, INTENT_PERCEPTUAL,
                                         channels == 4 ? cmsFLAGS_COPY_ALPHA : 0);
    cmsCloseProfile(src);
    cmsCloseProfile(srgb);
    if (t == NULL)
        return 1;
    transform_in_place(t, px, n, channels);
    cmsDeleteTransform(t);
    return 0;
}

int icc_rgb_to_srgb(const unsigned char *profile, size_t len, unsigned char *px, size_t n,
                    int channels) {
    if (profile == NULL || len == 0 || len > ICC_MAX_PROFILE)
        return 1;
    return to_srgb(cmsOpenProfileFromMem(profile, (cmsUInt32Number)len), px, n, channels);
}

int icc_primaries_to_srgb(const float xy[8], unsigned char *px, size_t n, int channels) {
    cmsCIExyY white = {xy[6], xy[7], 1.0};
    cmsCIExyYTRIPLE prim = {{xy[0], xy[1], 1.0}, {xy[2], xy[3], 1.0}, {xy[4], xy[5], 1.0}};
    /* the sRGB curve: IEC 61966-2-1 as a type 4 parametric curve */
    const cmsFloat64Number srgb_curve[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve *curve = cmsBuildParametricToneCurve(NULL, 4, srgb_curve);
    if (curve == NULL)
        return -1;
    cmsToneCurve *curves[3] = {curve, curve, curve};
    cmsHPROFILE src = cmsCreateRGBProfile(&white, &prim, curves);
    cmsFreeToneCurve(curve);
    return to_srgb(src, px, n, channels);
}

struct icc_cmyk {
    cmsHTRANSFORM t;        /* NULL: the naive formula */
    int inverted;
};

icc_cmyk *icc_cmyk_new(const unsigned char *profile, size_t len, int inverted) {
    icc_cmyk *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->inverted = inverted;
    if (profile == NULL || len == 0 || len > ICC_MAX_PROFILE)
        return c;
    cmsHPROFILE src = cmsOpenProfileFromMem(profile, (cmsUInt32Number)len);
    if (src == NULL)
        return c;
    if (cmsGetColorSpace(src) == cmsSigCmykData) {
        cmsHPROFILE srgb = cmsCreate_sRGBProfile();
        if (srgb != NULL) {
            c->t = cmsCreateTransform(src, inverted ? TYPE_CMYK_8_REV : TYPE_CMYK_8, srgb,
                                      TYPE_RGB_8, INTENT_PERCEPTUAL, 0);
            cmsCloseProfile(srgb);
        }
    }
    cmsCloseProfile(src);
    return c;
}

void icc_cmyk_row(icc_cmyk *c, const unsigned char *in, unsigned char *out, int n) {
    if (c->t != NULL) {
        cmsDoTransform(c->t, in, out, (cmsUInt32Number)n);
        return;
    }
    for (int i = 0; i < n; i++, in += 4, out += 3) {
        /* ink amounts 0..255; Adobe files store 255 - ink */
        unsigned k = c->inverted ? in[3] : 255u - in[3];
        for (int j = 0; j < 3; j++) {
            unsigned v = c->inverted ? in[j] : 255u - in[j];   /* 255 - ink */
            out[j] = (unsigned char)((v * k + 127) / 255);
        }
    }
}

void icc_cmyk_free(icc_cmyk *c) {
    if (c == NULL)
        return;
    if (c->t != NULL)
        cmsDeleteTransform(c->t);
    free(c);
}
