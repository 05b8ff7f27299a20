/* log.c -- logfmt event lines written to stderr with one write(2) each, so lines
 * from several threads and processes never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(const char *name) {
    for (int i = 0; i < 4; i++)
        if (name && !strcmp(name, level_names[i]))
            min_level = (log_level)i;
}

int log_enabled(log_level level) { return level >= min_level; }

static int needs_quotes(const char *v) {
    if (*v == '\0')
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 1;
    return 0;
}

size_t log_append_field(char *buf, size_t cap, size_t len, const char *key, const char *value) {
    if (len + 1 >= cap)
        return len;
    int n = snprintf(buf + len, cap - len, " %s=", key);
    if (n < 0 || (size_t)n >= cap - len)
        return cap - 1;
    len += (size_t)n;
    if (!needs_quotes(value)) {
        n = snprintf(buf + len, cap - len, "%s", value);
        return (n < 0 || (size_t)n >= cap - len) ? cap - 1 : len + (size_t)n;
    }
    if (len + 2 >= cap) {   /* no room for the quotes */
        buf[len] = '\0';
        return len;
    }
    buf[len++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; *p && len + 6 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            buf[len++] = '\\';
            buf[len++] = (char)*p;
        } else if (*p == '\n') {
            buf[len++] = '\\';
            buf[len++] = 'n';
        } else if (*p < ' ' || *p == 0x7f) {
            len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", *p);
        } else {
            buf[len++] = (char)*p;
        }
    }
    if (len + 1 < cap)
        buf[len++] = '"';
    buf[len] = '\0';
    return len;
}

void log_write(log_level level, const char *mod, const char *msg, const char *fields) {
    if (level < min_level)
        return;
    char line[8192];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t len = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    len += (size_t)snprintf(line + len, sizeof(line) - len, ".%03ldZ level=%s", tv.tv_usec / 1000,
                            level_names[level]);
    len = log_append_field(line, sizeof(line), len, "mod", mod);
    const char *req = core_request_id();
    if (req)
        len = log_append_field(line, sizeof(line), len, "req", req);
    len = log_append_field(line, sizeof(line), len, "msg", msg);
    if (fields && *fields && len + 2 < sizeof(line)) {
        int n = snprintf(line + len, sizeof(line) - len, "%s%s", *fields == ' ' ? "" : " ", fields);
        len = (n < 0 || (size_t)n >= sizeof(line) - len) ? sizeof(line) - 2 : len + (size_t)n;
    }
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}

void log_fmt(log_level level, const char *mod, const char *fmt, ...) {
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_write(level, mod, msg, NULL);
}
