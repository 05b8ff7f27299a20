/* responses.h -- response bodies the core writes itself (outside Lua). */
#ifndef ITCLOUD_RESPONSES_H
#define ITCLOUD_RESPONSES_H

#include <microhttpd.h>

/* A JSON error response {"error":{"code":..,"message":..}} with Content-Type and
 * Cache-Control: no-store set. code and message must be fixed strings, never request
 * input (they are not escaped). NULL when out of memory; the caller queues and
 * destroys it. */
struct MHD_Response *response_json_error(const char *code, const char *message);

#endif
