/* libFuzzer target: a posted JSON event, as the intake reads it.
 *
 * Properties: hf_jdoc reads what jansson reads (see below); whatever the
 * intake accepts, every worker decodes and validates
 * with the same schema, and its stored JSON form encodes again. A crash, a
 * sanitizer report or an abort() below is a finding. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "intake_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_world *w = fuzz_world();
    hf_jdoc *event;
    struct hf_err perr = { 0 };
    int parsed = hf_jdoc_parse((const char *)data, size, &event, &perr);
    /* The intake's parser reads exactly what jansson reads strictly, the
     * same values, except past its own documented limits, and a raw NUL
     * byte between tokens, which jansson lets through and we refuse. */
    json_t *strict = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (parsed == 0 && !strict)
        abort();
    if (parsed && strict && !strstr(perr.msg, "nested deeper") && !strstr(perr.msg, "members") &&
        !strstr(perr.msg, "integer overflow") && !memchr(data, 0, size))
        abort();
    if (parsed == 0) {
        hf_jdoc *copy = hf_jdoc_from_json(strict);
        if (!copy || !hf_jval_equal(hf_jdoc_root(event), hf_jdoc_root(copy)))
            abort();
        hf_jdoc_free(copy);
    }
    json_decref(strict);
    if (parsed)
        return 0;
    struct intake_record rec;
    struct hf_err err = { 0 };
    int rc = intake_event_prepare(&w->cfg, w->reg, hf_jdoc_root(event), 1, "fuzz-key", -1, &rec, &err);
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
    hf_jdoc_free(event);
    return 0;
}
