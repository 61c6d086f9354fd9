/* hf_codec: JSON events in, msgpack on the wire, C structs in the workers,
 * all driven by the same hf_schema definitions.
 *
 * Wire format of a message value: a msgpack map of the schema's fields plus
 * "event_id" (a UUID string). Types: timestamps are int64 microseconds since
 * the epoch, numbers float64 (integers accepted), dates "YYYY-MM-DD" strings.
 * A JSON null is the same as an absent field. */
#ifndef HF_CODEC_H
#define HF_CODEC_H

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_err.h"
#include "hf_jdoc.h"
#include "hf_schema.h"

/* Encodes a parsed JSON event object into out (appended; caller owns out). Keys in
 * `skip` (a NULL-terminated list: the envelope the caller handled, like
 * "type") are passed over; any other key the schema does not know is an
 * error. Then validates the result like a worker would. On failure returns
 * HF_EINVAL with err->field holding the path ("items[2].grams") and out may
 * hold a partial encoding the caller must discard. */
int hf_codec_encode(const struct hf_schema *s, const hf_jval *obj, const char *const *skip, const char *event_id,
                    msgpack_sbuffer *out, struct hf_err *err);

/* The same for a document built with jansson (the fleet's own jobs). */
int hf_codec_encode_json(const struct hf_schema *s, const json_t *obj, const char *const *skip, const char *event_id,
                         msgpack_sbuffer *out, struct hf_err *err);

/* Checks a decoded value against the schema: types, required fields, bounds,
 * enum values, per-kind ranges. Unknown keys are ignored. HF_EINVAL with the
 * field path on failure. */
int hf_codec_validate(const struct hf_schema *s, const msgpack_object *root, struct hf_err *err);

/* A decoded message and the memory it lives in: one per worker, reused for
 * every message (hf_codec_decode resets it), so decoding allocates nothing in
 * the steady state. */
typedef struct hf_doc hf_doc;

/* Caller frees with hf_doc_free. NULL when out of memory. */
hf_doc *hf_doc_new(void);
void hf_doc_free(hf_doc *doc);

/* Decodes and validates data into doc, dropping what doc held before.
 * Returns 0, or HF_EINVAL (not msgpack, trailing bytes, or invalid; err says
 * which field). Pointers from doc stay valid until the next decode. */
int hf_codec_decode(hf_doc *doc, const struct hf_schema *s, const void *data, size_t len, struct hf_err *err);

/* "event_id" of the decoded message in lower case, or NULL when absent or
 * not a UUID. */
const char *hf_doc_event_id(const hf_doc *doc);

/* Top-level member by name, NULL when absent or nil. */
const msgpack_object *hf_doc_get(const hf_doc *doc, const char *name);

/* The decoded message as JSON, for storage (JSONB payloads): the schema's
 * fields only, timestamps as RFC 3339 text, no event_id. Caller decrefs;
 * NULL when out of memory. */
json_t *hf_doc_to_json(const hf_doc *doc, const struct hf_schema *s);

/* Binding of a top-level field into a C struct. */
enum hf_btype {
    HF_B_INT,       /* int64_t */
    HF_B_NUM,       /* double */
    HF_B_BOOL,      /* bool */
    HF_B_STR,       /* const char *, NUL-terminated, valid until the next decode */
    HF_B_TIMESTAMP, /* int64_t microseconds since the epoch */
    HF_B_DATE,      /* int32_t days since the epoch */
    HF_B_RAW,       /* const msgpack_object * (arrays, objects) */
};

struct hf_bind {
    const char *name;
    enum hf_btype type;
    size_t offset;
    long has_offset; /* offset of a bool set when present; -1: required */
};

#define HF_BIND(T, member, btype) { #member, btype, offsetof(T, member), -1 }
#define HF_BIND_OPT(T, member, btype, has) { #member, btype, offsetof(T, member), (long)offsetof(T, has) }

/* Fills dst from doc. Absent optional fields leave their member zeroed and
 * their flag false. Returns 0 or HF_EINVAL. */
int hf_doc_bind(const hf_doc *doc, const struct hf_bind *binds, size_t n, void *dst, struct hf_err *err);

/* Checks at start-up that a binding fits the schema: every name exists with a
 * matching type, and required bindings are required fields. HF_ECONFLICT
 * names the mismatch. */
int hf_bind_check(const struct hf_schema *s, const struct hf_bind *binds, size_t n, struct hf_err *err);

#endif
