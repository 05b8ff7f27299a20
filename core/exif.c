/* exif.c -- EXIF metadata for core.image, parsed with libexif (0.6.24).
 * We find the APP1 "Exif\0\0" segment ourselves (bounded by the input and by the
 * segment length), hand libexif only that block, and turn off its "follow the
 * specification" fixups so it never invents entries (such as a DateTime of "now").
 * Every entry is checked for format, component count and size before it is read;
 * strings are cleaned to UTF-8 without control characters. */
#include "exif.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#define APP1_MAX 65533          /* an APP1 body can be no longer (16-bit length - 2) */

static const unsigned char exif_header[6] = {'E', 'x', 'i', 'f', 0, 0};

/* Points *p and *n at the EXIF block ("Exif\0\0" + TIFF). Returns 1, or 0 when there is none. */
static int find_exif(const unsigned char *s, size_t len, const unsigned char **p, size_t *n) {
    if (len >= sizeof(exif_header) && memcmp(s, exif_header, sizeof(exif_header)) == 0) {
        *p = s;
        *n = len < APP1_MAX ? len : APP1_MAX;
        return 1;
    }
    if (len < 4 || s[0] != 0xff || s[1] != 0xd8)
        return 0;
    size_t i = 2;
    while (i < len) {
        if (s[i] != 0xff)
            return 0;
        while (i < len && s[i] == 0xff)
            i++;
        if (i >= len)
            return 0;
        unsigned m = s[i++];
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
            continue;                                  /* standalone markers */
        if (m == 0xd9 || m == 0xda)
            return 0;                                  /* EOI or start of scan */
        if (len - i < 2)
            return 0;
        size_t seglen = ((size_t)s[i] << 8) | s[i + 1];
        if (seglen < 2)
            return 0;
        size_t body = seglen - 2, avail = len - i - 2;
        if (m == 0xe1 && body >= sizeof(exif_header) && avail >= sizeof(exif_header) &&
            memcmp(s + i + 2, exif_header, sizeof(exif_header)) == 0) {
            *p = s + i + 2;
            *n = body < avail ? body : avail;          /* a truncated file keeps what it has */
            return 1;
        }
        if (seglen > len - i)
            return 0;
        i += seglen;
    }
    return 0;
}

/* Appends code point c as UTF-8 when it fits in `cap` bytes; 0 when it does not. */
static int put_utf8(char *dst, size_t *o, size_t cap, unsigned long c) {
    unsigned char b[4];
    size_t k;
    if (c < 0x80) {
        b[0] = (unsigned char)c;
        k = 1;
    } else if (c < 0x800) {
        b[0] = (unsigned char)(0xc0 | (c >> 6));
        b[1] = (unsigned char)(0x80 | (c & 0x3f));
        k = 2;
    } else if (c < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (c >> 12));
        b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (c & 0x3f));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | (c >> 18));
        b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (c & 0x3f));
        k = 4;
    }
    if (*o + k > cap)
        return 0;
    memcpy(dst + *o, b, k);
    *o += k;
    return 1;
}

/* Decodes one UTF-8 sequence at s[0..n); returns its length and sets *c, or 0 if invalid. */
static size_t get_utf8(const unsigned char *s, size_t n, unsigned long *c) {
    size_t k;
    unsigned long v, min;
    if (s[0] < 0x80) {
        *c = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        k = 2, v = s[0] & 0x1f, min = 0x80;
    } else if ((s[0] & 0xf0) == 0xe0) {
        k = 3, v = s[0] & 0x0f, min = 0x800;
    } else if ((s[0] & 0xf8) == 0xf0) {
        k = 4, v = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[j] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *c = v;
    return k;
}

/* Copies s[0..n) (up to its first NUL) into dst as UTF-8 of at most EXIF_INFO_STR_MAX
 * bytes: bytes that are not UTF-8 are read as Latin-1, C0/C1 controls and DEL dropped,
 * spaces trimmed at both ends. */
static void clean_string(char *dst, const unsigned char *s, size_t n) {
    size_t o = 0, i = 0, last = 0;             /* last: length without trailing spaces */
    while (i < n && s[i] != 0) {
        unsigned long c;
        size_t k = get_utf8(s + i, n - i, &c);
        if (k == 0) {
            c = s[i];                          /* Latin-1 */
            k = 1;
        }
        i += k;
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
            continue;
        if (c == ' ' && o == 0)
            continue;
        if (!put_utf8(dst, &o, EXIF_INFO_STR_MAX, c))
            break;
        if (c != ' ')
            last = o;
    }
    dst[last] = '\0';
}

static ExifEntry *entry(ExifData *ed, ExifIfd ifd, ExifTag tag) {
    ExifContent *c = ed->ifd[ifd];
    ExifEntry *e = c ? exif_content_get_entry(c, tag) : NULL;
    return e != NULL && e->data != NULL && e->components > 0 ? e : NULL;
}

/* Component idx of a BYTE/SHORT/LONG entry. */
static int get_uint(const ExifEntry *e, ExifByteOrder bo, size_t idx, unsigned long *v) {
    if (e == NULL || idx >= e->components)
        return 0;
    switch (e->format) {
    case EXIF_FORMAT_BYTE:
        if (e->size < idx + 1)
            return 0;
        *v = e->data[idx];
        return 1;
    case EXIF_FORMAT_SHORT:
        if (e->size / 2 < idx + 1)
            return 0;
        *v = exif_get_short(e->data + 2 * idx, bo);
        return 1;
    case EXIF_FORMAT_LONG:
        if (e->size / 4 < idx + 1)
            return 0;
        *v = exif_get_long(e->data + 4 * idx, bo);
        return 1;
    default:
        return 0;
    }
}

/* Component idx of a RATIONAL entry as numerator and denominator. */
static int get_ratio(const ExifEntry *e, ExifByteOrder bo, size_t idx, unsigned long *num,
                     unsigned long *den) {
    if (e == NULL || e->format != EXIF_FORMAT_RATIONAL || idx >= e->components ||
        e->size / 8 < idx + 1)
        return 0;
    ExifRational r = exif_get_rational(e->data + 8 * idx, bo);
    *num = r.numerator;
    *den = r.denominator;
    return 1;
}

/* Component idx of a RATIONAL (or positive SRATIONAL) entry as a finite double. */
static int get_real(const ExifEntry *e, ExifByteOrder bo, size_t idx, double *v) {
    unsigned long num, den;
    if (e != NULL && e->format == EXIF_FORMAT_SRATIONAL && idx < e->components &&
        e->size / 8 >= idx + 1) {
        ExifSRational r = exif_get_srational(e->data + 8 * idx, bo);
        if (r.denominator == 0)
            return 0;
        *v = (double)r.numerator / (double)r.denominator;
        return isfinite(*v);
    }
    if (!get_ratio(e, bo, idx, &num, &den) || den == 0)
        return 0;
    *v = (double)num / (double)den;
    return isfinite(*v);
}

/* The text of an ASCII/UNDEFINED entry, cleaned; "" when missing. */
static void get_text(const ExifEntry *e, char *dst) {
    dst[0] = '\0';
    if (e != NULL && (e->format == EXIF_FORMAT_ASCII || e->format == EXIF_FORMAT_UNDEFINED))
        clean_string(dst, e->data, e->size);
}

static int num2(const char *s) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "YYYY:MM:DD HH:MM:SS" -> "YYYY-MM-DDTHH:MM:SS" in dst[20]; 0 when not a valid time. */
static int parse_datetime(const char *s, char *dst) {
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) < 19 || (s[4] != ':' && s[4] != '-') || s[7] != s[4] ||
        (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
        return 0;
    int yh = num2(s), yl = num2(s + 2), mo = num2(s + 5), d = num2(s + 8), h = num2(s + 11),
        mi = num2(s + 14), se = num2(s + 17);
    if (yh < 0 || yl < 0 || yh * 100 + yl < 1 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
        return 0;
    int y = yh * 100 + yl;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    snprintf(dst, 20, "%04d-%02d-%02dT%02d:%02d:%02d", y % 10000, mo % 100, d % 100, h % 100,
             mi % 100, se % 100);           /* the %s only tell gcc the ranges */
    return 1;
}

/* "+HH:MM" / "-HH:MM" -> the same in dst[7]; 0 when not a valid offset. */
static int parse_offset(const char *s, char *dst) {
    if ((s[0] != '+' && s[0] != '-') || strlen(s) < 6 || s[3] != ':')
        return 0;
    int h = num2(s + 1), m = num2(s + 4);
    if (h < 0 || h > 14 || m < 0 || m > 59)
        return 0;
    snprintf(dst, 7, "%c%02d:%02d", s[0], h, m);
    return 1;
}

/* DateTimeOriginal + OffsetTimeOriginal, else DateTime + OffsetTime. */
static void read_captured_at(ExifData *ed, exif_info *out) {
    static const struct { ExifIfd ifd; ExifTag time, offset; } src[2] = {
        {EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, EXIF_TAG_OFFSET_TIME_ORIGINAL},
        {EXIF_IFD_0, EXIF_TAG_DATE_TIME, EXIF_TAG_OFFSET_TIME},
    };
    char text[EXIF_INFO_STR_MAX + 1], when[20], off[7];
    for (int k = 0; k < 2; k++) {
        get_text(entry(ed, src[k].ifd, src[k].time), text);
        if (!parse_datetime(text, when))
            continue;
        get_text(entry(ed, EXIF_IFD_EXIF, src[k].offset), text);
        if (!parse_offset(text, off))
            off[0] = '\0';
        snprintf(out->captured_at, sizeof(out->captured_at), "%s%s", when, off);
        return;
    }
}

static unsigned long gcd(unsigned long a, unsigned long b) {
    while (b != 0) {
        unsigned long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* "1/125", "2", "0.3", "1/3" (rounded) ... ; "" when missing or zero. */
static void read_exposure(ExifData *ed, ExifByteOrder bo, exif_info *out) {
    unsigned long num, den;
    if (!get_ratio(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME), bo, 0, &num, &den) ||
        num == 0 || den == 0)
        return;
    unsigned long g = gcd(num, den);
    num /= g;
    den /= g;
    double v = (double)num / (double)den;
    if (num == 1)
        snprintf(out->exposure_time, sizeof(out->exposure_time), "1/%lu", den);
    else if (den == 1)
        snprintf(out->exposure_time, sizeof(out->exposure_time), "%lu", num);
    else if (v < 0.25)
        snprintf(out->exposure_time, sizeof(out->exposure_time), "1/%.0f", 1.0 / v);
    else {
        snprintf(out->exposure_time, sizeof(out->exposure_time), "%.1f", v);
        size_t n = strlen(out->exposure_time);
        if (n > 2 && strcmp(out->exposure_time + n - 2, ".0") == 0)
            out->exposure_time[n - 2] = '\0';
    }
}

/* One GPS coordinate: degrees[, minutes[, seconds]] and an N/S or E/W reference. */
static int read_coord(ExifData *ed, ExifByteOrder bo, ExifTag tag, ExifTag ref_tag,
                      char pos, char neg, double limit, double *v) {
    const ExifEntry *e = entry(ed, EXIF_IFD_GPS, tag);
    char ref[EXIF_INFO_STR_MAX + 1];
    get_text(entry(ed, EXIF_IFD_GPS, ref_tag), ref);
    if (e == NULL || (ref[0] != pos && ref[0] != neg))
        return 0;
    double part[3] = {0, 0, 0};
    size_t n = e->components < 3 ? e->components : 3;
    for (size_t i = 0; i < n; i++)
        if (!get_real(e, bo, i, &part[i]) || part[i] < 0)
            return 0;
    if (part[1] >= 60 || part[2] >= 60)
        return 0;
    double d = part[0] + part[1] / 60.0 + part[2] / 3600.0;
    if (!(d <= limit))
        return 0;
    *v = ref[0] == neg ? -d : d;
    return 1;
}

/* A positive integer that fits an int, from the first component; 0 otherwise. */
static int positive_int(const ExifEntry *e, ExifByteOrder bo) {
    unsigned long v;
    return get_uint(e, bo, 0, &v) && v > 0 && v <= INT_MAX ? (int)v : 0;
}

static double positive_real(const ExifEntry *e, ExifByteOrder bo) {
    double v;
    return get_real(e, bo, 0, &v) && v > 0 ? v : 0;
}

static void fill(ExifData *ed, exif_info *out) {
    ExifByteOrder bo = exif_data_get_byte_order(ed);
    unsigned long o;
    memset(out, 0, sizeof(*out));
    out->orientation = 1;
    if (get_uint(entry(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION), bo, 0, &o) && o >= 1 && o <= 8)
        out->orientation = (int)o;
    read_captured_at(ed, out);
    get_text(entry(ed, EXIF_IFD_0, EXIF_TAG_MAKE), out->make);
    get_text(entry(ed, EXIF_IFD_0, EXIF_TAG_MODEL), out->model);
    get_text(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL), out->lens_model);
    read_exposure(ed, bo, out);
    out->f_number = positive_real(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER), bo);
    out->focal_length = positive_real(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH), bo);
    out->iso = positive_int(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS), bo);
    if (out->iso == 65535) {                   /* "65535 or more": ISOSpeed has the value */
        int big = positive_int(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED), bo);
        if (big > 0)
            out->iso = big;
    }
    out->pixel_width = positive_int(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION), bo);
    out->pixel_height = positive_int(entry(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION), bo);
    double lat, lon;
    if (read_coord(ed, bo, EXIF_TAG_GPS_LATITUDE, EXIF_TAG_GPS_LATITUDE_REF, 'N', 'S', 90.0,
                   &lat) &&
        read_coord(ed, bo, EXIF_TAG_GPS_LONGITUDE, EXIF_TAG_GPS_LONGITUDE_REF, 'E', 'W', 180.0,
                   &lon)) {
        out->has_gps = 1;
        out->gps_latitude = lat;
        out->gps_longitude = lon;
    }
}

int exif_read(const unsigned char *data, size_t len, exif_info *out) {
    const unsigned char *blk;
    size_t n;
    if (data == NULL || !find_exif(data, len, &blk, &n))
        return 0;
    ExifData *ed = exif_data_new();
    if (ed == NULL)
        return -1;
    /* No fixups: they add "mandatory" entries with made-up values. Unknown tags are
     * still dropped (the default). */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, blk, (unsigned int)n);
    unsigned entries = 0;
    for (int i = 0; i < EXIF_IFD_COUNT; i++)
        entries += ed->ifd[i] ? ed->ifd[i]->count : 0;
    int found = entries > 0;
    if (found)
        fill(ed, out);
    exif_data_unref(ed);
    return found;
}
