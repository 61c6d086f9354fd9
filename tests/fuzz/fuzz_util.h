/* What the fuzz targets share: the schemas and configuration, built once per
 * process (libFuzzer calls a target millions of times), and the decode round
 * trip every target checks. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "hf_codec.h"
#include "hf_config.h"
#include "hf_schema.h"

struct fuzz_world {
    struct hf_config cfg;
    hf_schema_registry *reg;
    size_t n_schemas;
    hf_doc *doc;
};

/* The process's world; aborts when it cannot be built. */
struct fuzz_world *fuzz_world(void);

/* Decodes value with s. must_decode: the value came from our own encoder, so
 * failing to decode it is a finding (abort). A value that decodes must give
 * stored JSON that encodes and decodes again to the same JSON. */
void fuzz_round_trip(struct fuzz_world *w, const struct hf_schema *s, const void *value, size_t len, bool must_decode);

#endif
