#include "fuzz_util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static struct fuzz_world world;

struct fuzz_world *fuzz_world(void)
{
    if (world.reg)
        return &world;
    struct hf_err err = { 0 };
    if (hf_config_load(&world.cfg, &err) || hf_schema_registry_new(&world.reg, &err) || !(world.doc = hf_doc_new())) {
        fprintf(stderr, "fuzz: setup failed: %s\n", err.msg);
        abort();
    }
    while (hf_schema_at(world.reg, world.n_schemas))
        world.n_schemas++;
    return &world;
}

void fuzz_round_trip(struct fuzz_world *w, const struct hf_schema *s, const void *value, size_t len, bool must_decode)
{
    struct hf_err err = { 0 };
    if (hf_codec_decode(w->doc, s, value, len, &err)) {
        if (must_decode) {
            fprintf(stderr, "fuzz: our own encoding of %s does not decode: %s\n", s->name, err.msg);
            abort();
        }
        return;
    }
    const char *id = hf_doc_event_id(w->doc);
    json_t *first = hf_doc_to_json(w->doc, s);
    if (!first)
        abort();
    msgpack_sbuffer again;
    msgpack_sbuffer_init(&again);
    /* Stored JSON is re-read by reports and replays: it must encode again. */
    if (hf_codec_encode_json(s, first, NULL, id ? id : "00000000-0000-4000-8000-000000000000", &again, &err)) {
        char *text = json_dumps(first, JSON_COMPACT);
        fprintf(stderr, "fuzz: stored JSON of %s does not encode again (%s): %s\n", s->name, err.msg, text);
        abort();
    }
    if (hf_codec_decode(w->doc, s, again.data, again.size, &err))
        abort();
    json_t *second = hf_doc_to_json(w->doc, s);
    if (!json_equal(first, second)) {
        char *a = json_dumps(first, JSON_COMPACT), *b = json_dumps(second, JSON_COMPACT);
        fprintf(stderr, "fuzz: %s changes on a round trip:\n  %s\n  %s\n", s->name, a, b);
        abort();
    }
    json_decref(first);
    json_decref(second);
    msgpack_sbuffer_destroy(&again);
}
