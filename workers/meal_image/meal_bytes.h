/* meal_bytes: is a downloaded file a whole, sane JPEG, PNG or WebP image?
 *
 * Checked from the bytes alone (magic numbers, the header's dimensions, the
 * format's end marker), never from the Content-Type the server claims. No
 * pixel is decoded: the vision model does that, and a header promising
 * 100000 x 100000 pixels (a decompression bomb) is refused before it gets
 * there. Pure functions; no allocation. */
#ifndef MEAL_BYTES_H
#define MEAL_BYTES_H

#include <stddef.h>

enum meal_format { MEAL_FMT_JPEG = 1, MEAL_FMT_PNG, MEAL_FMT_WEBP };

struct meal_image_info {
    enum meal_format format;
    const char *mime; /* "image/jpeg", ... (static) */
    int width, height;
};

/* Checks data[0..len) against max_dim (largest width or height). Returns 0
 * and fills info, or HF_EINVAL with a sentence for a person in why ("the file
 * is not a JPEG, PNG or WebP image", "the PNG header claims 100000 x 100000
 * pixels, more than 8192 per side", "the JPEG is cut short"). */
int meal_bytes_check(const unsigned char *data, size_t len, int max_dim, struct meal_image_info *info, char *why,
                     size_t whysz);

#endif
