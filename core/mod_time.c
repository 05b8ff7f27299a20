/* mod_time.c -- `core.time`: wall clock, monotonic clock and RFC 3339 text in UTC,
 * since the Lua VMs have no `os` library. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"

/* core.time.now() -> seconds since the epoch as a float (microsecond precision) */
static int time_now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.time.unix() -> whole seconds since the epoch (integer) */
static int time_unix(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)time(NULL));
    return 1;
}

/* core.time.monotonic_ms() -> milliseconds on a clock that never goes back (integer) */
static int time_monotonic_ms(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    return 1;
}

/* core.time.iso8601(seconds?) -> "2025-03-02T10:15:04.120Z" (always milliseconds, so
 * stored times sort as text). Default: now. */
static int time_iso8601(lua_State *L) {
    lua_Number t;
    if (lua_isnoneornil(L, 1)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = (lua_Number)ts.tv_sec + (lua_Number)(ts.tv_nsec / 1000000) / 1000.0;
    } else {
        t = luaL_checknumber(L, 1);
    }
    /* years 0001 to 9999 */
    luaL_argcheck(L, t >= -62135596800.0 && t < 253402300800.0, 1, "time out of range");
    time_t secs = (time_t)floor(t);
    int ms = (int)((t - (lua_Number)secs) * 1000.0 + 0.5);
    if (ms >= 1000) {
        secs++;
        ms -= 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char buf[40];
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    lua_pushstring(L, buf);
    return 1;
}

static int read_digits(const char **p, int count, int *out) {
    int v = 0;
    for (int i = 0; i < count; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += count;
    *out = v;
    return 0;
}

/* core.time.parse_iso8601(text) -> seconds (number; integer when whole) | nil, err.
 * Accepts RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), and a bare
 * date YYYY-MM-DD (midnight UTC). */
static int time_parse_iso8601(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = s;
    int year, mon, day, hour = 0, min = 0, sec = 0;
    double frac = 0;
    int offset = 0;
    /* strlen: a NUL byte must not end the text early ("2024-01-01\0junk") */
    if (len > 40 || strlen(s) != len || read_digits(&p, 4, &year) || *p++ != '-' ||
        read_digits(&p, 2, &mon) || *p++ != '-' || read_digits(&p, 2, &day))
        return core_fail(L, "invalid date-time");
    if (*p != '\0') {
        if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, read_digits(&p, 2, &hour)) ||
            *p++ != ':' || read_digits(&p, 2, &min) || *p++ != ':' || read_digits(&p, 2, &sec))
            return core_fail(L, "invalid date-time");
        if (*p == '.') {
            double scale = 0.1;
            p++;
            if (*p < '0' || *p > '9')
                return core_fail(L, "invalid date-time");
            for (int i = 0; *p >= '0' && *p <= '9'; p++, i++, scale /= 10)
                if (i < 9)
                    frac += (*p - '0') * scale;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om) || oh > 23 ||
                om > 59)
                return core_fail(L, "invalid date-time");
            offset = sign * (oh * 3600 + om * 60);
        } else {
            return core_fail(L, "invalid date-time");
        }
        if (*p != '\0')
            return core_fail(L, "invalid date-time");
    }
    static const int days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || mon < 1 || mon > 12 || day < 1 || day > days_in[mon - 1] ||
        (mon == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 60)
        return core_fail(L, "invalid date-time");
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
                    .tm_hour = hour, .tm_min = min, .tm_sec = sec};
    time_t t = timegm(&tm) - offset;
    if (frac > 0)
        lua_pushnumber(L, (lua_Number)t + frac);
    else
        lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

static const luaL_Reg time_funcs[] = {{"now", time_now},
                                      {"unix", time_unix},
                                      {"monotonic_ms", time_monotonic_ms},
                                      {"iso8601", time_iso8601},
                                      {"parse_iso8601", time_parse_iso8601},
                                      {NULL, NULL}};

int luaopen_core_time(lua_State *L) {
    luaL_newlib(L, time_funcs);
    return 1;
}
