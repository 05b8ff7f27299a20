/* profiles.h -- ICC profiles for the colour checks of the image tests, built with Little CMS
 * from published primaries, and the known colour each test looks for. */
#ifndef ITCLOUD_TEST_PROFILES_H
#define ITCLOUD_TEST_PROFILES_H

#include <lcms2.h>
#include <stdlib.h>

/* red, green, blue, white (D65): x, y */
static const double DISPLAY_P3[8] = {0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290};
static const double ADOBE_RGB[8] = {0.640, 0.330, 0.210, 0.710, 0.150, 0.060, 0.3127, 0.3290};
/* sRGB's pure red, as Display P3 and Adobe RGB (1998) write it */
static const unsigned char P3_SRGB_RED[3] = {234, 51, 35};
static const unsigned char ADOBE_SRGB_RED[3] = {219, 0, 0};

/* An RGB profile with the given primaries and sRGB's tone curve (gamma > 0: a pure power
 * curve instead, 563/256 for Adobe RGB), saved into *len bytes (malloc'd). */
static unsigned char *rgb_profile(const double xy[8], double gamma, size_t *len) {
    cmsCIExyY white = {xy[6], xy[7], 1.0};
    cmsCIExyYTRIPLE prim = {{xy[0], xy[1], 1.0}, {xy[2], xy[3], 1.0}, {xy[4], xy[5], 1.0}};
    const cmsFloat64Number srgb[5] = {2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045};
    cmsToneCurve *curve = gamma > 0 ? cmsBuildGamma(NULL, gamma)
                                    : cmsBuildParametricToneCurve(NULL, 4, srgb);
    cmsToneCurve *curves[3] = {curve, curve, curve};
    cmsHPROFILE p = cmsCreateRGBProfile(&white, &prim, curves);
    cmsUInt32Number n = 0;
    cmsSaveProfileToMem(p, NULL, &n);
    unsigned char *buf = malloc(n);
    cmsSaveProfileToMem(p, buf, &n);
    cmsCloseProfile(p);
    cmsFreeToneCurve(curve);
    *len = n;
    return buf;
}

#endif
