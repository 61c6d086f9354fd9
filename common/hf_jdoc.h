/* hf_jdoc: untrusted JSON (request bodies) parsed strictly and cheaply.
 *
 * The intake's hot path. jansson builds a tree of separately allocated values
 * with a hash table per object; that was over a quarter of the intake's CPU
 * per event. Here yajl (Debian's libyajl) lexes and checks the text, and the
 * values land in one arena per document: objects are arrays of members in
 * their order, looked up by a linear scan (events have a few dozen keys at
 * most). bench/libchoice has the figures.
 *
 * Strict like jansson with JSON_REJECT_DUPLICATES: valid UTF-8 only, no
 * duplicate key in an object, no "\u0000" in a string, one value and nothing
 * after it; integers must fit int64 (yajl also refuses its least value,
 * -2^63), reals must be finite. Limits of our own:
 * nesting deeper than HF_JDOC_MAX_DEPTH or an object of more than
 * HF_JDOC_MAX_MEMBERS members is refused (no event comes close; they bound
 * the work a hostile body can ask for).
 *
 * Values are read-only views into their document and live as long as it. A
 * NULL value reads as JSON null, so "absent" and "null" are the same to
 * callers, as they are to the wire format (hf_codec.h). */
#ifndef HF_JDOC_H
#define HF_JDOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_err.h"

#define HF_JDOC_MAX_DEPTH 32
#define HF_JDOC_MAX_MEMBERS 256

typedef struct hf_jdoc hf_jdoc;
typedef struct hf_jval hf_jval;

enum hf_jtype { HF_J_NULL, HF_J_BOOL, HF_J_INT, HF_J_REAL, HF_J_STRING, HF_J_ARRAY, HF_J_OBJECT };

/* Parses text[0..len) into *out (caller frees with hf_jdoc_free). Returns 0,
 * HF_EINVAL with a message like "line 3, column 14: duplicate key
 * \"member_id\"" (no prefix: the caller says what was being read), or
 * HF_ENOMEM. */
int hf_jdoc_parse(const char *text, size_t len, hf_jdoc **out, struct hf_err *err);

/* A copy of a jansson value, for callers that build documents with jansson
 * (the fleet's own jobs). Caller frees; NULL when out of memory. */
hf_jdoc *hf_jdoc_from_json(const json_t *v);

void hf_jdoc_free(hf_jdoc *doc);

const hf_jval *hf_jdoc_root(const hf_jdoc *doc);

enum hf_jtype hf_jval_type(const hf_jval *v);
bool hf_jval_true(const hf_jval *v);
/* An integer's value; 0 for anything else. */
int64_t hf_jval_int(const hf_jval *v);
/* An integer's or a real's value; 0 for anything else. */
double hf_jval_number(const hf_jval *v);
/* A string's bytes, NUL-terminated, and its length through len (may be
 * NULL); NULL for anything else. */
const char *hf_jval_str(const hf_jval *v, size_t *len);
/* Items of an array, members of an object; 0 for anything else. */
size_t hf_jval_size(const hf_jval *v);
/* Item i of an array, or the value of member i of an object; NULL past the end. */
const hf_jval *hf_jval_at(const hf_jval *v, size_t i);
/* The key of member i of an object; NULL past the end or for a non-object. */
const char *hf_jval_key(const hf_jval *v, size_t i);
/* The value of member key of an object; NULL when absent or v is no object. */
const hf_jval *hf_jval_get(const hf_jval *v, const char *key);

/* True when a and b hold the same value: same types (an integer is not a
 * real), members in the same order. */
bool hf_jval_equal(const hf_jval *a, const hf_jval *b);

#endif
