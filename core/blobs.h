/* blobs.h -- the /blobs/ endpoint: GET, HEAD and PUT of local-store objects through
 * URLs signed by localstore_presign, served in C (bytes never pass through Lua). */
#ifndef ITCLOUD_BLOBS_H
#define ITCLOUD_BLOBS_H

#include <microhttpd.h>
#include <stddef.h>

#define BLOBS_DISPOSITION_MAX 1024      /* bytes of a Content-Disposition value, NUL included */
#define BLOBS_FILENAME_MAX 200          /* bytes of the cleaned filename kept */

/* The MHD access handler for a url starting with "/blobs/". `*state` is NULL on the
 * first call of a request; blobs_handle owns what it puts there until blobs_completed.
 * On the first call it checks the signature and, for PUT, the signed Content-Type and
 * Content-Length, then opens the temp file; body bytes go straight to that file; the
 * final call serves (GET/HEAD) or commits (PUT). Responses carry nosniff, the sandbox
 * CSP, Referrer-Policy and X-Request-Id (core_request_id(), set by the caller). */
enum MHD_Result blobs_handle(struct MHD_Connection *c, const char *url, const char *method,
                             const char *upload_data, size_t *upload_data_size, void **state);

/* The status blobs_handle queued for this request, 0 while none is queued (so after
 * the first call of a PUT, 0 means "head accepted, body streaming"). */
int blobs_status(void *const *state);

/* Request end (ok = MHD_REQUEST_TERMINATED_COMPLETED_OK): removes the temp file of an
 * upload that did not commit (client gone, error), frees the state, sets *state = NULL. */
void blobs_completed(void **state, int ok);

/* Writes a Content-Disposition value (RFC 6266): `disposition` ("inline", anything
 * else = "attachment"), then, for a non-empty filename,
 *   ; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded UTF-8>
 * The name is cleaned first: invalid UTF-8 becomes '_'; control characters (C0, DEL,
 * C1), bidi and zero-width format characters, '"', '\\' and '/' are dropped; leading
 * dots and spaces and trailing dots and spaces are trimmed; it is cut to
 * BLOBS_FILENAME_MAX bytes on a character boundary, keeping a short extension; an
 * empty result becomes "download". In the fallback every non-ASCII character and '%'
 * is '_'. Returns the length written, or -1 when cap is too small (out is then ""). */
int blobs_content_disposition(const char *disposition, const char *filename, char *out,
                              size_t cap);

#endif
