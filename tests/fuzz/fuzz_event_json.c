/* libFuzzer target: a posted JSON event, as the intake reads it.
 *
 * Property: whatever the intake accepts, every worker decodes and validates
 * with the same schema, and its stored JSON form encodes again. A crash, a
 * sanitizer report or an abort() below is a finding. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "intake_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_world *w = fuzz_world();
    json_t *event = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(event)) {
        json_decref(event);
        return 0;
    }
    struct intake_record rec;
    struct hf_err err = { 0 };
    int rc = intake_event_prepare(&w->cfg, w->reg, event, 1, "fuzz-key", -1, &rec, &err);
    if (rc == 0) {
        if (err.msg[0] != '\0')
            abort(); /* success leaves no message behind */
        fuzz_round_trip(w, rec.schema, rec.value.data, rec.value.size, true);
    } else if (rc != HF_EINVAL && rc != HF_EDENIED) {
        abort(); /* a refusal is one of the two documented codes */
    } else if (err.msg[0] == '\0') {
        abort(); /* and always says why */
    }
    msgpack_sbuffer_destroy(&rec.value);
    json_decref(event);
    return 0;
}
