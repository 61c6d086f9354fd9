/* hf_schema: the message definitions of schemas/ (one JSON file per message and version), built into every
 * binary, and the rules both sides share.
 *
 * Rules (also in schemas/README.md):
 *  - A schema is (name, version). Within a version only additive, optional
 *    changes are allowed; tests/unit/test_schema.c checks every schema against
 *    schemas/lock.json and fails on anything else.
 *  - An incompatible change is a new file with version + 1; both versions stay
 *    until every producer has moved.
 *  - Intake rejects unknown fields (a typo must not vanish silently); workers
 *    ignore unknown fields (a newer intake may add optional ones during a
 *    rolling deploy) and dead-letter versions they do not know.
 */
#ifndef HF_SCHEMA_H
#define HF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "hf_err.h"

enum hf_ftype {
    HF_T_STRING,
    HF_T_INTEGER,
    HF_T_NUMBER,
    HF_T_BOOLEAN,
    HF_T_TIMESTAMP, /* JSON: RFC 3339 text; wire: int64 microseconds since the epoch */
    HF_T_DATE,      /* "YYYY-MM-DD" on both sides */
    HF_T_UUID,
    HF_T_URL,       /* https:// only */
    HF_T_ENUM,
    HF_T_ARRAY,
    HF_T_OBJECT,
};

struct hf_range {
    const char *when; /* value of the range_by sibling */
    double lo, hi;
};

/* Plain value struct, owned by the registry; read-only for everyone else. */
struct hf_field {
    const char *name;
    enum hf_ftype type;
    bool required;
    bool has_min, has_max;
    double min, max;          /* numbers: value; strings: length; arrays: items */
    const char *const *values; /* enum */
    size_t n_values;
    const struct hf_field *item;   /* array element */
    const struct hf_field *fields; /* object members */
    size_t n_fields;
    const char *range_by;          /* sibling enum choosing the range */
    const struct hf_range *ranges;
    size_t n_ranges;
};

struct hf_schema {
    const char *name;
    int version;
    const char *family;      /* topic family: topic = prefix + family */
    const char *key_field;   /* required integer or short string field: the Kafka key */
    const char *description;
    bool internal;           /* produced by the fleet only; intake refuses it */
    struct hf_field root;    /* an object */
    const char *source_json; /* the file's text, for the OpenAPI document */
};

typedef struct hf_schema_registry hf_schema_registry;

/* Parses the built-in schemas. Caller frees with hf_schema_registry_free.
 * Fails (HF_EINVAL) only when a schema file is malformed: a build defect. */
int hf_schema_registry_new(hf_schema_registry **out, struct hf_err *err);

/* Same, from a NULL-terminated list of JSON texts (tests). */
int hf_schema_registry_from_texts(const char *const *texts, hf_schema_registry **out, struct hf_err *err);

void hf_schema_registry_free(hf_schema_registry *reg);

/* Exact (name, version); NULL when unknown. Valid while reg lives. */
const struct hf_schema *hf_schema_find(const hf_schema_registry *reg, const char *name, int version);

/* Highest version of name; NULL when unknown. */
const struct hf_schema *hf_schema_latest(const hf_schema_registry *reg, const char *name);

/* i-th schema in (name, version) order; NULL past the end. */
const struct hf_schema *hf_schema_at(const hf_schema_registry *reg, size_t i);

/* The distinct topic families of the schemas (of those apps may post, unless
 * include_internal), in schema order, into out (at most max; pointers valid
 * while reg lives). Returns how many. */
size_t hf_schema_families(const hf_schema_registry *reg, bool include_internal, const char **out, size_t max);

/* Member of an object field by name; NULL when absent. */
const struct hf_field *hf_field_member(const struct hf_field *obj, const char *name);

/* Is `newer` a compatible evolution of `older` (same name and version)?
 * Returns 0, or HF_ECONFLICT with err naming the first breaking change. */
int hf_schema_compatible(const struct hf_schema *older, const struct hf_schema *newer, struct hf_err *err);

const char *hf_ftype_name(enum hf_ftype t);

#endif
