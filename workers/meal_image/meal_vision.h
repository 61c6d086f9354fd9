/* meal_vision: the OpenAI-compatible chat-completions exchange with a
 * vision model, as data: the request body we send and the estimate we accept
 * back. No I/O here (meal_analyzer does that), so the parser is tested on
 * every bad answer we can think of.
 *
 * The prompt asks for one JSON object and nothing else:
 *   {"items": [{"name": "scrambled eggs", "grams": 120}, ...], "confidence": 0.8}
 * The answer is accepted only in that shape: choices[0].message.content is a
 * string holding that object (a single ```json fence around it is allowed:
 * models add one even when told not to; prose around it is not). Anything
 * else is an error with a reason, never a guess. */
#ifndef MEAL_VISION_H
#define MEAL_VISION_H

#include <jansson.h>
#include <stddef.h>

#include "meal_caption.h"

#define MEAL_GRAMS_MAX 2000.0 /* one item on one plate */

struct meal_estimate_item {
    char name[MEAL_NAME_MAX]; /* as the model wrote it, trimmed */
    double grams;
};

struct meal_estimate {
    struct meal_estimate_item items[MEAL_PORTIONS_MAX];
    int n;
    double confidence; /* 0..1; 0.7 when the model gave none */
};

/* The request body for model, an image (its bytes and MIME type, sent inline
 * as a base64 data URL) and an optional caption (NULL: none) given to the
 * model as a hint. Caller frees with free(); NULL when out of memory. */
char *meal_vision_request(const char *model, const unsigned char *image, size_t len, const char *mime,
                          const char *caption);

/* Parses a 200 answer's body. Returns 0 and fills est, or HF_EINVAL with a
 * reason in why ("the answer is not JSON", "items[2].grams is not a number
 * between 0 and 2000"). */
int meal_vision_parse(const char *body, size_t len, struct meal_estimate *est, char *why, size_t whysz);

#endif
