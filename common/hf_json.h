/* hf_json: a jansson document as compact JSON text, fast.
 *
 * The pools hand PostgreSQL a batch's rows as one JSON parameter. Written by
 * json_dumps, their numbers went through printf's %g, which was two fifths of
 * the adherence pool's CPU. This writes the same JSON with numbers formatted
 * by hand when that is exact: a real with at most two decimals (a score, a
 * gram count) is written as its shortest text when that text reads back as
 * the same double (precision 9 to 15); any other real is written as
 * json_dumps would with JSON_REAL_PRECISION(precision): the text is
 * json_dumps's, byte for byte. Reals keep a decimal point ("100.0"), as
 * with json_dumps. Keys stay in insertion order; strings are escaped as
 * JSON requires and otherwise left as they are (jansson holds valid UTF-8). */
#ifndef HF_JSON_H
#define HF_JSON_H

#include <jansson.h>

/* The text of v, like json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
 * JSON_REAL_PRECISION(precision)) (precision 1 to 17). Caller frees; NULL
 * when out of memory or for a real that is not finite (as json_dumps). */
char *hf_json_text(const json_t *v, int precision);

#endif
