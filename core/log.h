/* log.h -- one logfmt line per event, the same shape from C and from Lua:
 * ts=... level=info mod=server req=9f2c msg="..." key=value ... */
#ifndef ITCLOUD_LOG_H
#define ITCLOUD_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Sets the lowest level written ("debug".."error"); unknown names change nothing. */
void log_set_level(const char *name);
int log_enabled(log_level level);

/* Writes one line. `fields` is already logfmt ("a=1 b=\"x y\"") or NULL. */
void log_write(log_level level, const char *mod, const char *msg, const char *fields);

/* Writes one line whose message is formatted printf-style. */
void log_fmt(log_level level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends ` key=value` to buf (quoting and escaping the value when needed). Returns
 * the new length; never writes past cap. */
size_t log_append_field(char *buf, size_t cap, size_t len, const char *key, const char *value);

#endif
