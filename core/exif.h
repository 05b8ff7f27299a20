/* exif.h -- EXIF metadata from a JPEG's APP1 segment, read with libexif (exif.c).
 * Used by core.image (mod_image.c) for image.exif(bytes). */
#ifndef ITCLOUD_EXIF_H
#define ITCLOUD_EXIF_H

#include <stddef.h>

#define EXIF_INFO_STR_MAX 256   /* longest string kept, in bytes, without the NUL */

/* What exif_read found. A string is "" and a number 0 when the tag is missing or
 * invalid; strings are valid UTF-8 without control characters, cut at
 * EXIF_INFO_STR_MAX bytes on a character boundary and trimmed of spaces. */
typedef struct {
    char captured_at[32];       /* "YYYY-MM-DDTHH:MM:SS" + "+HH:MM" when the offset is known */
    int orientation;            /* 1..8; 1 when missing or out of range */
    char make[EXIF_INFO_STR_MAX + 1];
    char model[EXIF_INFO_STR_MAX + 1];
    char lens_model[EXIF_INFO_STR_MAX + 1];
    char exposure_time[32];     /* "1/125", "0.3", "2" */
    double f_number;            /* > 0 when present */
    int iso;                    /* > 0 when present */
    double focal_length;        /* mm, > 0 when present */
    int has_gps;                /* 1 when both coordinates are present and valid */
    double gps_latitude;        /* degrees, negative south */
    double gps_longitude;       /* degrees, negative west */
    int pixel_width;            /* PixelXDimension, > 0 when present */
    int pixel_height;           /* PixelYDimension, > 0 when present */
} exif_info;

/* Reads the EXIF block of a JPEG (the first APP1 "Exif\0\0" segment before the scan) or
 * of a bare "Exif\0\0" + TIFF block. Returns 1 with *out filled, 0 when there is no
 * (usable) EXIF, -1 when out of memory. Never reads outside data[0..len); holds no
 * memory on return. */
int exif_read(const unsigned char *data, size_t len, exif_info *out);

#endif
