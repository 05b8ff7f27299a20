/* test_exif.c -- image.exif through a real lua_State. The test makes its own files: a
 * tiny JPEG from tjCompress2 with an APP1 segment spliced in after SOI, the EXIF block
 * built with libexif (exif_data_save_data) or, for the hostile cases, by hand. It checks
 * every field read back (Intel and Motorola byte order), orientations 1..8, GPS signs,
 * date/offset handling, string cleaning, absent EXIF, and that truncated, mutated,
 * oversized and self-referencing blocks give nil or a sane table without hanging. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>
#include <turbojpeg.h>

#include "harness.h"

static unsigned char *base_jpeg;               /* a 16x8 JPEG without EXIF */
static unsigned long base_len;

static void set_bytes(lua_State *L, const char *name, const void *buf, size_t len) {
    lua_pushlstring(L, (const char *)buf, len);
    lua_setglobal(L, name);
}

static void make_base_jpeg(void) {
    unsigned char px[16 * 8 * 3];
    for (int i = 0; i < 16 * 8; i++) {
        px[i * 3] = (unsigned char)(i * 2);
        px[i * 3 + 1] = (unsigned char)(255 - i);
        px[i * 3 + 2] = 128;
    }
    tjhandle tj = tjInitCompress();
    if (tjCompress2(tj, px, 16, 0, 8, TJPF_RGB, &base_jpeg, &base_len, TJSAMP_420, 90, 0) != 0)
        printf("#   tjCompress2: %s\n", tjGetErrorStr2(tj));
    tjDestroy(tj);
}

/* SOI + APP1(block) + the rest of the base JPEG into global `name`. */
static void splice(lua_State *L, const char *name, const unsigned char *block, size_t n) {
    if (n + 2 > 0xffff) {
        printf("#   APP1 body too long: %zu\n", n);
        n = 0xffff - 2;
    }
    size_t total = 2 + 4 + n + (base_len - 2);
    unsigned char *out = malloc(total);
    out[0] = 0xff;
    out[1] = 0xd8;
    out[2] = 0xff;
    out[3] = 0xe1;
    out[4] = (unsigned char)((n + 2) >> 8);
    out[5] = (unsigned char)((n + 2) & 0xff);
    memcpy(out + 6, block, n);
    memcpy(out + 6 + n, base_jpeg + 2, base_len - 2);
    set_bytes(L, name, out, total);
    free(out);
}

/* --- building EXIF with libexif ------------------------------------------------------- */

static ExifData *new_exif(ExifByteOrder bo) {
    ExifData *ed = exif_data_new();
    exif_data_set_byte_order(ed, bo);
    return ed;
}

/* Adds an entry with zeroed data of `size` bytes; the content owns it. */
static unsigned char *add(ExifData *ed, ExifIfd ifd, ExifTag tag, ExifFormat fmt,
                          unsigned long comps, size_t size) {
    ExifEntry *e = exif_entry_new();
    e->tag = tag;
    e->format = fmt;
    e->components = comps;
    e->size = (unsigned int)size;
    e->data = calloc(1, size ? size : 1);      /* the default ExifMem frees with free() */
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
    return e->data;
}

static void add_ascii_n(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s, size_t n) {
    unsigned char *d = add(ed, ifd, tag, EXIF_FORMAT_ASCII, n + 1, n + 1);
    memcpy(d, s, n);
}

static void add_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, const char *s) {
    add_ascii_n(ed, ifd, tag, s, strlen(s));
}

static void add_short(ExifData *ed, ExifIfd ifd, ExifTag tag, unsigned v) {
    exif_set_short(add(ed, ifd, tag, EXIF_FORMAT_SHORT, 1, 2), exif_data_get_byte_order(ed),
                   (ExifShort)v);
}

static void add_long(ExifData *ed, ExifIfd ifd, ExifTag tag, unsigned long v) {
    exif_set_long(add(ed, ifd, tag, EXIF_FORMAT_LONG, 1, 4), exif_data_get_byte_order(ed),
                  (ExifLong)v);
}

/* n rationals given as num0, den0, num1, den1, ... */
static void add_rationals(ExifData *ed, ExifIfd ifd, ExifTag tag, int n, const unsigned *v) {
    unsigned char *d = add(ed, ifd, tag, EXIF_FORMAT_RATIONAL, (unsigned long)n, 8 * (size_t)n);
    for (int i = 0; i < n; i++) {
        ExifRational r = {v[2 * i], v[2 * i + 1]};
        exif_set_rational(d + 8 * i, exif_data_get_byte_order(ed), r);
    }
}

static void add_rational(ExifData *ed, ExifIfd ifd, ExifTag tag, unsigned num, unsigned den) {
    unsigned v[2] = {num, den};
    add_rationals(ed, ifd, tag, 1, v);
}

static void add_gps(ExifData *ed, const char *lat_ref, const unsigned lat[6],
                    const char *lon_ref, const unsigned lon[6]) {
    if (lat_ref)
        add_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE_REF, lat_ref);
    if (lat)
        add_rationals(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LATITUDE, 3, lat);
    if (lon_ref)
        add_ascii(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE_REF, lon_ref);
    if (lon)
        add_rationals(ed, EXIF_IFD_GPS, EXIF_TAG_GPS_LONGITUDE, 3, lon);
}

/* Saves ed into a JPEG in global `name` and frees ed. */
static void save_jpeg(lua_State *L, const char *name, ExifData *ed) {
    unsigned char *blk = NULL;
    unsigned int n = 0;
    exif_data_save_data(ed, &blk, &n);
    if (blk == NULL || n < 6 || memcmp(blk, "Exif\0\0", 6) != 0)
        printf("#   exif_data_save_data gave %u bytes\n", n);
    splice(L, name, blk, n);
    free(blk);
    exif_data_unref(ed);
}

/* The full set of fields, in either byte order. */
static void make_full(lua_State *L, const char *name, ExifByteOrder bo) {
    static const unsigned lat[6] = {48, 1, 51, 1, 296, 10};  /* 48 51' 29.6" */
    static const unsigned lon[6] = {2, 1, 17, 1, 402, 10};   /*  2 17' 40.2" */
    ExifData *ed = new_exif(bo);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Canon");
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, "Canon EOS R5");
    add_short(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, 6);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, "2023:07:15 09:00:00");
    add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2023:07:14 18:30:05");
    add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, "+02:00");
    add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, "RF24-70mm F2.8 L IS USM");
    add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, 1, 125);
    add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, 28, 10);
    add_short(ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS, 400);
    add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, 50, 1);
    add_short(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, 16);
    add_long(ed, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, 8);
    add_gps(ed, "N", lat, "E", lon);
    /* a Canon-style maker note (an IFD without header) so that truncations and
     * mutations also reach libexif's maker-note parser */
    unsigned char *mn = add(ed, EXIF_IFD_EXIF, EXIF_TAG_MAKER_NOTE, EXIF_FORMAT_UNDEFINED, 62, 62);
    mn[bo == EXIF_BYTE_ORDER_INTEL ? 0 : 1] = 5;
    for (int i = 0; i < 5; i++) {
        unsigned char *e = mn + 2 + 12 * i;
        exif_set_short(e, bo, (ExifShort)(1 + i));
        exif_set_short(e + 2, bo, (ExifShort)(i % 2 ? EXIF_FORMAT_SHORT : EXIF_FORMAT_ASCII));
        exif_set_long(e + 4, bo, (ExifLong)(4 + 3 * i));
        exif_set_long(e + 8, bo, (ExifLong)(20 * i));
    }
    save_jpeg(L, name, ed);
}

static const char *prelude =
    "I = core.image\n"
    "function near(a, b) return type(a) == 'number' and math.abs(a - b) < 1e-6 end\n"
    "local allowed = {captured_at = 's', make = 's', model = 's', lens_model = 's',\n"
    "  exposure_time = 's', orientation = 'i', iso = 'i', pixel_width = 'i',\n"
    "  pixel_height = 'i', f_number = 'f', focal_length = 'f', gps_latitude = 'f',\n"
    "  gps_longitude = 'f'}\n"
    /* nil, or a table holding only known fields of the right shape */
    "function sane(t)\n"
    "  if t == nil then return true end\n"
    "  if type(t) ~= 'table' then return false end\n"
    "  for k, v in pairs(t) do\n"
    "    local kind = allowed[k]\n"
    "    if kind == 's' then\n"
    "      if type(v) ~= 'string' or #v == 0 or #v > 256 or v:find('%c')\n"
    "        or v:find('\\xc2[\\x80-\\x9f]') or not utf8.len(v) then\n"
    "        print('#   bad string ' .. k) return false end\n"
    "    elseif kind == 'i' then\n"
    "      if math.type(v) ~= 'integer' or v < 1 then print('#   bad int ' .. k) return false end\n"
    "    elseif kind == 'f' then\n"
    "      if math.type(v) ~= 'float' or v ~= v or v == math.huge or v == -math.huge then\n"
    "        print('#   bad number ' .. k) return false end\n"
    "    else print('#   unknown field ' .. tostring(k)) return false end\n"
    "  end\n"
    "  if not t.orientation or t.orientation > 8 then return false end\n"
    "  if (t.gps_latitude == nil) ~= (t.gps_longitude == nil) then return false end\n"
    "  if t.gps_latitude and (math.abs(t.gps_latitude) > 90 or math.abs(t.gps_longitude) > 180)\n"
    "    then return false end\n"
    "  if t.f_number and t.f_number <= 0 or t.focal_length and t.focal_length <= 0 then\n"
    "    return false end\n"
    "  if t.captured_at and not (t.captured_at:match('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d$')\n"
    "    or t.captured_at:match('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[+-]%d%d:%d%d$')) then\n"
    "    print('#   bad captured_at ' .. t.captured_at) return false end\n"
    "  return true\n"
    "end\n"
    "function nkeys(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end\n"
    "return true";

static void check_fields(lua_State *L) {
    make_full(L, "FULL_II", EXIF_BYTE_ORDER_INTEL);
    make_full(L, "FULL_MM", EXIF_BYTE_ORDER_MOTOROLA);
    static const char *body =
        "local t = I.exif(%s)\n"
        "if not sane(t) then return false end\n"
        "local ok = t.captured_at == '2023-07-14T18:30:05+02:00' and t.orientation == 6\n"
        "  and t.make == 'Canon' and t.model == 'Canon EOS R5'\n"
        "  and t.lens_model == 'RF24-70mm F2.8 L IS USM' and t.exposure_time == '1/125'\n"
        "  and near(t.f_number, 2.8) and t.iso == 400 and near(t.focal_length, 50)\n"
        "  and near(t.gps_latitude, 48 + 51 / 60 + 29.6 / 3600)\n"
        "  and near(t.gps_longitude, 2 + 17 / 60 + 40.2 / 3600)\n"
        "  and t.pixel_width == 16 and t.pixel_height == 8 and nkeys(t) == 13\n"
        "if not ok then for k, v in pairs(t) do print('#   ' .. k .. ' = ' .. tostring(v)) end end\n"
        "return ok";
    char code[2048];
    snprintf(code, sizeof(code), body, "FULL_II");
    CHECK(run_lua(L, code), "every field reads back (Intel byte order)");
    snprintf(code, sizeof(code), body, "FULL_MM");
    CHECK(run_lua(L, code), "every field reads back (Motorola byte order)");
    CHECK(run_lua(L, "local bm = I.decode(FULL_II) local w, h = bm:size() bm:close()\n"
                     "return w == 16 and h == 8"),
          "the spliced JPEG still decodes");

    /* a file with only Make: orientation defaults to 1, everything else absent */
    ExifData *ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "Nikon");
    save_jpeg(L, "ONLY_MAKE", ed);
    CHECK(run_lua(L, "local t = I.exif(ONLY_MAKE)\n"
                     "return sane(t) and t.make == 'Nikon' and t.orientation == 1\n"
                     "  and nkeys(t) == 2"),
          "missing fields are absent, orientation defaults to 1");

    /* ISO 65535 means "see ISOSpeed"; zero and bad formats are absent */
    ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_short(ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS, 65535);
    add_long(ed, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED, 102400);
    add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER, 0, 0);
    add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, 0, 1);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, "6");   /* wrong format */
    save_jpeg(L, "ODD_NUMBERS", ed);
    CHECK(run_lua(L, "local t = I.exif(ODD_NUMBERS)\n"
                     "return sane(t) and t.iso == 102400 and t.f_number == nil\n"
                     "  and t.focal_length == nil and t.orientation == 1"),
          "ISO 65535 uses ISOSpeed; 0/0, zero and wrong formats are absent");

    /* exposure formatting */
    static const struct { unsigned num, den; const char *want; } exp[] = {
        {1, 125, "1/125"}, {10, 1250, "1/125"}, {2, 1, "2"}, {30, 1, "30"}, {3, 10, "0.3"},
        {1, 3, "1/3"}, {10, 30, "1/3"}, {5, 2, "2.5"}, {10, 1251, "1/125"}, {0, 1, NULL},
        {1, 0, NULL}};
    int ok = 1;
    for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
        ed = new_exif(EXIF_BYTE_ORDER_INTEL);
        add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "x");
        add_rational(ed, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME, exp[i].num, exp[i].den);
        save_jpeg(L, "EXP", ed);
        char code2[256];
        snprintf(code2, sizeof(code2),
                 "local t = I.exif(EXP) if t.exposure_time ~= %s%s%s then\n"
                 "print('#   got ' .. tostring(t.exposure_time)) return false end return true",
                 exp[i].want ? "'" : "", exp[i].want ? exp[i].want : "nil",
                 exp[i].want ? "'" : "");
        if (!run_lua(L, code2)) {
            printf("#   exposure %u/%u\n", exp[i].num, exp[i].den);
            ok = 0;
        }
    }
    CHECK(ok, "exposure_time: 1/125, reduced, whole seconds, decimals, absent when zero");
}

static void check_orientation(lua_State *L) {
    int ok = 1;
    for (unsigned o = 0; o <= 9; o++) {
        ExifData *ed = new_exif(o % 2 ? EXIF_BYTE_ORDER_MOTOROLA : EXIF_BYTE_ORDER_INTEL);
        add_short(ed, EXIF_IFD_0, EXIF_TAG_ORIENTATION, o);
        save_jpeg(L, "ORIENT", ed);
        char code[160];
        snprintf(code, sizeof(code), "local t = I.exif(ORIENT) return sane(t) and t.orientation == %u",
                 o >= 1 && o <= 8 ? o : 1);
        if (!run_lua(L, code)) {
            printf("#   orientation %u\n", o);
            ok = 0;
        }
        CHECK(ok, o == 0 ? "orientation 0 reads as 1" : o == 9 ? "orientation 9 reads as 1"
                                                               : "orientation 1..8 reads back");
        ok = 1;
    }
}

static void check_gps(lua_State *L) {
    static const unsigned syd_lat[6] = {33, 1, 52, 1, 42, 10};   /* 33 52' 4.2" S */
    static const unsigned syd_lon[6] = {151, 1, 12, 1, 30, 1};   /* 151 12' 30" E */
    static const unsigned nyc_lat[6] = {40, 1, 4250, 100, 0, 1}; /* 40 42.5' N (decimal minutes) */
    static const unsigned nyc_lon[6] = {74, 1, 0, 1, 216, 10};   /* 74 0' 21.6" W */
    static const unsigned rio_lat[6] = {22, 1, 54, 1, 30, 1};    /* S */
    static const unsigned rio_lon[6] = {43, 1, 11, 1, 47, 1};    /* W */
    ExifData *ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_gps(ed, "S", syd_lat, "E", syd_lon);
    save_jpeg(L, "GPS_S", ed);
    ed = new_exif(EXIF_BYTE_ORDER_MOTOROLA);
    add_gps(ed, "N", nyc_lat, "W", nyc_lon);
    save_jpeg(L, "GPS_W", ed);
    ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_gps(ed, "S", rio_lat, "W", rio_lon);
    save_jpeg(L, "GPS_SW", ed);
    CHECK(run_lua(L, "local t = I.exif(GPS_S)\n"
                     "return sane(t) and near(t.gps_latitude, -(33 + 52 / 60 + 4.2 / 3600))\n"
                     "  and near(t.gps_longitude, 151 + 12 / 60 + 30 / 3600)"),
          "GPS south is negative latitude");
    CHECK(run_lua(L, "local t = I.exif(GPS_W)\n"
                     "return sane(t) and near(t.gps_latitude, 40 + 42.5 / 60)\n"
                     "  and near(t.gps_longitude, -(74 + 21.6 / 3600))"),
          "GPS west is negative longitude (and decimal minutes work)");
    CHECK(run_lua(L, "local t = I.exif(GPS_SW)\n"
                     "return sane(t) and t.gps_latitude < -22.9 and t.gps_longitude < -43.1"),
          "GPS south-west: both negative");

    /* invalid: out of range, zero denominator, missing ref, bad ref, missing longitude */
    static const unsigned big_lat[6] = {95, 1, 0, 1, 0, 1};
    static const unsigned zero_den[6] = {10, 1, 5, 0, 0, 1};
    static const unsigned bad_min[6] = {10, 1, 75, 1, 0, 1};
    struct { const char *lat_ref; const unsigned *lat; const char *lon_ref; const unsigned *lon; } bad[] = {
        {"N", big_lat, "E", syd_lon}, {"N", zero_den, "E", syd_lon}, {"N", bad_min, "E", syd_lon},
        {NULL, syd_lat, "E", syd_lon}, {"X", syd_lat, "E", syd_lon}, {"N", syd_lat, NULL, NULL},
        {"N", syd_lat, "N", syd_lon}};
    int ok = 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ed = new_exif(EXIF_BYTE_ORDER_INTEL);
        add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "x");
        add_gps(ed, bad[i].lat_ref, bad[i].lat, bad[i].lon_ref, bad[i].lon);
        save_jpeg(L, "GPS_BAD", ed);
        if (!run_lua(L, "local t = I.exif(GPS_BAD)\n"
                        "return sane(t) and t.make == 'x' and t.gps_latitude == nil\n"
                        "  and t.gps_longitude == nil")) {
            printf("#   bad gps case %zu\n", i);
            ok = 0;
        }
    }
    CHECK(ok, "invalid GPS (range, 0 denominator, minutes >= 60, missing/bad ref, half) is absent");
}

/* One file with the given DateTimeOriginal / OffsetTimeOriginal / DateTime / OffsetTime. */
static void dates(lua_State *L, const char *dto, const char *oto, const char *dt,
                  const char *ot) {
    ExifData *ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "x");
    if (dto)
        add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, dto);
    if (oto)
        add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, oto);
    if (dt)
        add_ascii(ed, EXIF_IFD_0, EXIF_TAG_DATE_TIME, dt);
    if (ot)
        add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME, ot);
    save_jpeg(L, "DATES", ed);
}

static void check_dates(lua_State *L) {
    static const char *is = "local t = I.exif(DATES) if not sane(t) then return false end\n"
                            "if t.captured_at ~= %s then print('#   got ' .. tostring(t.captured_at))\n"
                            "return false end return true";
    char code[320];
#define DATE_CASE(dto, oto, dt, ot, want, name)            \
    do {                                                   \
        dates(L, dto, oto, dt, ot);                        \
        snprintf(code, sizeof(code), is, want);            \
        CHECK(run_lua(L, code), name);                     \
    } while (0)
    DATE_CASE("2021:12:31 23:59:59", "-05:30", NULL, NULL, "'2021-12-31T23:59:59-05:30'",
              "OffsetTimeOriginal is appended");
    DATE_CASE("2021:12:31 23:59:59", NULL, NULL, "+09:00", "'2021-12-31T23:59:59'",
              "no OffsetTimeOriginal: no offset (OffsetTime belongs to DateTime)");
    DATE_CASE("2021:12:31 23:59:59", "+25:00", NULL, NULL, "'2021-12-31T23:59:59'",
              "an invalid offset is dropped");
    DATE_CASE(NULL, NULL, "2020:02:29 12:00:00", "+01:00", "'2020-02-29T12:00:00+01:00'",
              "falls back to DateTime (with OffsetTime)");
    DATE_CASE("0000:00:00 00:00:00", "+02:00", "2019:06:01 08:00:00", NULL,
              "'2019-06-01T08:00:00'", "an all-zero DateTimeOriginal falls back to DateTime");
    DATE_CASE("    :  :     :  :  ", NULL, "2019:02:29 08:00:00", NULL, "nil",
              "blank and impossible dates give no captured_at");
    DATE_CASE("2021:13:01 10:00:00", NULL, "garbage", NULL, "nil",
              "month 13 and garbage give no captured_at");
#undef DATE_CASE
}

static void check_strings(lua_State *L) {
    ExifData *ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "  NIKON CORPORATION   ");
    add_ascii(ed, EXIF_IFD_0, EXIF_TAG_MODEL, "Caf\xe9 \x1b[31mX\n\tY\x7f");
    add_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_LENS_MODEL, "Zo\xc3\xab \xf0\x9f\x93\xb7 \xc2\x85!");
    save_jpeg(L, "STRS", ed);
    CHECK(run_lua(L, "local t = I.exif(STRS)\n"
                     "if not sane(t) then return false end\n"
                     "local ok = t.make == 'NIKON CORPORATION' and t.model == 'Caf\\u{e9} [31mXY'\n"
                     "  and t.lens_model == 'Zo\\u{eb} \\u{1f4f7} !'\n"
                     "if not ok then print('#   ' .. t.make .. '|' .. t.model .. '|' .. t.lens_model) end\n"
                     "return ok"),
          "strings: trimmed, controls stripped, Latin-1 to UTF-8, UTF-8 kept");

    /* A ~64 KB Make with control characters and a multi-byte character at the cap */
    size_t n = 65000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i % 7 == 3 ? '\x01' : 'A' + (int)(i % 26));
    memcpy(big + 200, "\xe2\x82\xac\xe2\x82\xac", 6); /* euros around the cap */
    for (size_t i = 206; i < 300; i += 3)
        memcpy(big + i, "\xe2\x82\xac", 3);
    ed = new_exif(EXIF_BYTE_ORDER_INTEL);
    add_ascii_n(ed, EXIF_IFD_0, EXIF_TAG_MAKE, big, n);
    save_jpeg(L, "BIG_MAKE", ed);
    free(big);
    CHECK(run_lua(L, "local t = I.exif(BIG_MAKE)\n"
                     "return sane(t) and #t.make <= 256 and #t.make >= 250 and utf8.len(t.make)\n"
                     "  and t.make:sub(1, 3) == 'ABC'"),
          "a 64 KB string is capped at 256 bytes on a character boundary");

    /* 64 KB of noise after SOI, and as a bare string */
    unsigned char *noise = malloc(65536);
    uint32_t s = 12345;
    for (size_t i = 0; i < 65536; i++) {
        s = s * 1103515245u + 12345u;
        noise[i] = (unsigned char)(s >> 16);
    }
    set_bytes(L, "NOISE", noise, 65536);
    noise[0] = 0xff;
    noise[1] = 0xd8;
    noise[2] = 0xff;
    noise[3] = 0xe1;
    noise[4] = 0xff;
    noise[5] = 0xff;
    memcpy(noise + 6, "Exif\0\0MM\0*\0\0\0\x08", 14);
    set_bytes(L, "NOISE_EXIF", noise, 65536);
    free(noise);
    CHECK(run_lua(L, "return I.exif(NOISE) == nil and sane(I.exif(NOISE_EXIF))\n"
                     "  and sane(I.exif(string.rep('\\xff', 65536)))\n"
                     "  and I.exif('\\xff\\xd8' .. string.rep('\\xff', 65534)) == nil"),
          "64 KB of noise, bare and inside an APP1: no crash, nil or sane");
}

static void check_absent(lua_State *L) {
    set_bytes(L, "PLAIN", base_jpeg, base_len);
    CHECK(run_lua(L, "return I.exif(PLAIN) == nil"), "a JPEG without EXIF gives nil");
    CHECK(run_lua(L, "return I.exif('') == nil and I.exif('\\xff\\xd8') == nil\n"
                     "  and I.exif('\\x89PNG\\r\\n\\x1a\\n') == nil and I.exif('hello') == nil\n"
                     "  and I.exif('Exif\\0\\0') == nil and I.exif('Exif\\0\\0II*\\0') == nil"),
          "empty, PNG, text and header-only input give nil");
    /* APP1 that is XMP, then EXIF with no entries */
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x/>";
    splice(L, "XMP", (const unsigned char *)xmp, sizeof(xmp));
    static const unsigned char empty_ifd[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0,
                                              0, 0, 0, 0, 0, 0, 0, 0};
    splice(L, "EMPTY_IFD", empty_ifd, sizeof(empty_ifd));
    CHECK(run_lua(L, "return I.exif(XMP) == nil and I.exif(EMPTY_IFD) == nil"),
          "an XMP APP1 or an empty IFD0 gives nil");
    CHECK(run_lua(L, "return not pcall(I.exif) and not pcall(I.exif, {})"),
          "a non-string argument raises");
}

static void put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v) {
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

/* A little-endian IFD entry at p. */
static void ifd_entry(unsigned char *p, unsigned tag, unsigned type, uint32_t count, uint32_t val) {
    put16(p, tag);
    put16(p + 2, type);
    put32(p + 4, count);
    put32(p + 8, val);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check_hostile(lua_State *L) {
    /* IFD0 at 8: Orientation=3, ExifIFD -> 8 (itself), GPS -> 8, next IFD -> 8 */
    unsigned char blk[6 + 8 + 2 + 4 * 12 + 4];
    memcpy(blk, "Exif\0\0II*\0", 10);
    put32(blk + 10, 8);
    unsigned char *t = blk + 6;
    put16(t + 8, 4);
    ifd_entry(t + 10, 0x0112, 3, 1, 3);
    ifd_entry(t + 22, 0x8769, 4, 1, 8);
    ifd_entry(t + 34, 0x8825, 4, 1, 8);
    ifd_entry(t + 46, 0xa005, 4, 1, 8);
    put32(t + 58, 8);
    splice(L, "LOOP_SELF", blk, sizeof(blk));

    /* IFD0 at 8 -> ExifIFD at 40 -> Interop pointer back to 8; IFD1 -> 40 */
    unsigned char blk2[6 + 80];
    memset(blk2, 0, sizeof(blk2));
    memcpy(blk2, "Exif\0\0II*\0", 10);
    t = blk2 + 6;
    put32(t + 4, 8);
    put16(t + 8, 2);
    ifd_entry(t + 10, 0x0112, 3, 1, 8);
    ifd_entry(t + 22, 0x8769, 4, 1, 40);
    put32(t + 34, 40);
    put16(t + 40, 2);
    ifd_entry(t + 42, 0xa005, 4, 1, 8);
    ifd_entry(t + 54, 0x8769, 4, 1, 8);
    put32(t + 66, 8);
    splice(L, "LOOP_PAIR", blk2, sizeof(blk2));

    double t0 = now();
    CHECK(run_lua(L, "local a, b = I.exif(LOOP_SELF), I.exif(LOOP_PAIR)\n"
                     "return sane(a) and sane(b) and a.orientation == 3 and b.orientation == 8"),
          "IFDs pointing at themselves or at each other: no hang, sane");
    CHECK(now() - t0 < 5.0, "the IFD loops finish quickly");

    /* entries whose count or offset points far outside the block */
    unsigned char blk3[6 + 8 + 2 + 3 * 12 + 4];
    memcpy(blk3, "Exif\0\0II*\0", 10);
    t = blk3 + 6;
    put32(t + 4, 8);
    put16(t + 8, 3);
    ifd_entry(t + 10, 0x010f, 2, 0xffffffffu, 0x7ffffff0u); /* Make: 4 GB at 2 GB */
    ifd_entry(t + 22, 0x0110, 2, 40, 0xfffffff0u);          /* Model: offset wraps */
    ifd_entry(t + 34, 0x0112, 3, 0x40000000u, 0);           /* Orientation: 2 GB of shorts */
    put32(t + 46, 0xffffffffu);
    splice(L, "BAD_COUNTS", blk3, sizeof(blk3));
    /* an IFD0 entry count of 65535 in a 40-byte block */
    unsigned char blk4[6 + 40];
    memset(blk4, 0, sizeof(blk4));
    memcpy(blk4, "Exif\0\0II*\0", 10);
    put32(blk4 + 10, 8);
    put16(blk4 + 14, 0xffff);
    splice(L, "BAD_NUM", blk4, sizeof(blk4));
    CHECK(run_lua(L, "local a, b = I.exif(BAD_COUNTS), I.exif(BAD_NUM)\n"
                     "return sane(a) and sane(b) and (a == nil or a.make == nil and a.model == nil)"),
          "huge counts and offsets outside the block: no crash, sane");

    /* every truncation of the full file (APP1 length then claims more than there is) */
    lua_getglobal(L, "FULL_MM");
    size_t full_len;
    const char *full = lua_tolstring(L, -1, &full_len);
    unsigned char *copy = malloc(full_len);
    memcpy(copy, full, full_len);
    lua_pop(L, 1);
    int ok = 1, tables = 0;
    for (size_t n = 0; n <= full_len && ok; n++) {
        set_bytes(L, "CUT", copy, n);
        ok = run_lua(L, "local t = I.exif(CUT) CUT_T = t ~= nil return sane(t)");
        lua_getglobal(L, "CUT_T");
        tables += lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    CHECK(ok, "every truncation of the file: no crash, nil or sane");
    CHECK(tables > 0, "long enough truncations still give a table");

    /* deterministic mutations of the EXIF block */
    size_t app1 = 6 + (((size_t)copy[4] << 8 | copy[5]) - 2);
    uint32_t s = 99;
    ok = 1;
    unsigned char *mut = malloc(full_len);
    for (int round = 0; round < 3000 && ok; round++) {
        memcpy(mut, copy, full_len);
        int edits = 1 + round % 8;
        for (int k = 0; k < edits; k++) {
            s = s * 1103515245u + 12345u;
            size_t at = 12 + (s >> 8) % (app1 - 12);       /* after "Exif\0\0" */
            s = s * 1103515245u + 12345u;
            mut[at] = (unsigned char)(round % 3 == 0 ? (s >> 16) : round % 3 == 1 ? 0xff : 0);
        }
        set_bytes(L, "MUT", mut, full_len);
        ok = run_lua(L, "return sane(I.exif(MUT))");
        if (!ok)
            printf("#   mutation round %d\n", round);
    }
    CHECK(ok, "3000 mutated EXIF blocks: no crash, nil or sane");
    free(mut);
    free(copy);
}

int main(void) {
    alarm(120);                                    /* a hang fails instead of blocking */
    make_base_jpeg();
    lua_State *L = harness_state();
    CHECK(run_lua(L, prelude), "prelude");
    check_fields(L);
    check_orientation(L);
    check_gps(L);
    check_dates(L);
    check_strings(L);
    check_absent(L);
    check_hostile(L);
    lua_close(L);
    tjFree(base_jpeg);
    return harness_done();
}
