/* icc.h -- colour conversion to sRGB through Little CMS (icc.c): embedded ICC profiles of
 * RGB pictures, the primaries a HEIC names in its nclx box, and CMYK JPEGs. */
#ifndef ITCLOUD_ICC_H
#define ITCLOUD_ICC_H

#include <stddef.h>

#define ICC_MAX_PROFILE ((size_t)4 << 20)   /* larger embedded profiles are ignored */

/* Converts n packed pixels (channels 3 = RGB, 4 = RGBA, alpha kept) from the colour space
 * of the ICC `profile` to sRGB in place. Returns 0 when converted, 1 when the profile is
 * not an RGB profile Little CMS can use (pixels untouched), -1 when out of memory. */
int icc_rgb_to_srgb(const unsigned char *profile, size_t len, unsigned char *px, size_t n,
                    int channels);

/* The same for pixels whose primaries are given as CIE xy chromaticities (red, green,
 * blue, white: x, y each) with the sRGB transfer curve, as a HEIC's nclx box says. */
int icc_primaries_to_srgb(const float xy[8], unsigned char *px, size_t n, int channels);

typedef struct icc_cmyk icc_cmyk;

/* A CMYK -> sRGB converter for rows of 4-byte pixels as libjpeg gives them; `inverted`
 * when the file is Adobe's (APP14), whose ink values are stored 255 - ink. With a usable
 * CMYK `profile` (may be NULL) Little CMS converts; without one, the naive formula
 * R = 255 * (1 - C) * (1 - K) and likewise G, B. NULL when out of memory. */
icc_cmyk *icc_cmyk_new(const unsigned char *profile, size_t len, int inverted);

/* Converts n CMYK pixels to n RGB pixels (in and out must not overlap). */
void icc_cmyk_row(icc_cmyk *c, const unsigned char *in, unsigned char *out, int n);

/* Frees the converter; NULL is fine. */
void icc_cmyk_free(icc_cmyk *c);

#endif
