/* responses.c -- response bodies the core writes itself: the JSON error shape shared by
 * the server (server.c) and the blob endpoint (blobs.c). */
#include "responses.h"

#include <stdio.h>

struct MHD_Response *response_json_error(const char *code, const char *message) {
    char body[512];
    int n = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
                     message);
    if (n < 0 || (size_t)n >= sizeof(body))
        return NULL;
    struct MHD_Response *r =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return NULL;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    return r;
}
