/* blurhash.h -- BlurHash encoder (the woltapp/blurhash algorithm) over 8-bit RGB/RGBA pixels. */
#ifndef ITCLOUD_BLURHASH_H
#define ITCLOUD_BLURHASH_H

#include <stddef.h>

#define BLURHASH_MIN_COMPONENTS 1
#define BLURHASH_MAX_COMPONENTS 9
/* the longest hash (9 x 9 components) plus its terminating NUL */
#define BLURHASH_MAX_LEN (4 + 2 * BLURHASH_MAX_COMPONENTS * BLURHASH_MAX_COMPONENTS)
#define BLURHASH_BUF_SIZE (BLURHASH_MAX_LEN + 1)

/* Encodes w x h pixels (rows packed, `channels` 3 = RGB or 4 = RGBA; alpha is ignored)
 * with x_components x y_components (each 1..9) into `out` as a NUL-terminated hash of
 * 4 + 2 * x_components * y_components characters. Returns that length, or -1 on bad
 * arguments, `cap` too small for the hash and its NUL, or out of memory. Thread-safe;
 * the cost is O(w * h * x_components * y_components), so pass a small thumbnail. */
int blurhash_encode(const unsigned char *px, int w, int h, int channels, int x_components,
                    int y_components, char *out, size_t cap);

#endif
