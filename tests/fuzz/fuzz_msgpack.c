/* libFuzzer target: a Kafka record's value as a worker decodes it, for every
 * schema (the first byte picks one).
 *
 * Property: a value that decodes and validates turns into stored JSON that
 * encodes and decodes again to the same JSON. */
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_world *w = fuzz_world();
    if (size < 1)
        return 0;
    const struct hf_schema *s = hf_schema_at(w->reg, data[0] % w->n_schemas);
    fuzz_round_trip(w, s, data + 1, size - 1, false);
    return 0;
}
