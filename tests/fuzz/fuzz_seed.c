/* Writes the seed corpus of the fuzz targets from the schemas' examples:
 *   fuzz_seed DIR   ->  DIR/event_json/<schema>.json, DIR/msgpack/<schema>.bin
 * The committed tests/fuzz/corpus/ was made with
 *   build-fuzz/bin/fuzz_seed tests/fuzz/corpus
 * and is refreshed the same way when a schema is added. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hf_codec.h"
#include "hf_schema.h"

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "fuzz_seed: cannot write %s\n", path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seed DIR\n");
        return 2;
    }
    hf_schema_registry *reg = NULL;
    struct hf_err err = { 0 };
    if (hf_schema_registry_new(&reg, &err)) {
        fprintf(stderr, "fuzz_seed: %s\n", err.msg);
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/event_json", argv[1]);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/msgpack", argv[1]);
    mkdir(path, 0755);
    int rc = 0;
    const struct hf_schema *s;
    for (size_t i = 0; rc == 0 && (s = hf_schema_at(reg, i)); i++) {
        json_t *doc = json_loads(s->source_json, 0, NULL);
        json_t *example = json_deep_copy(json_object_get(doc, "example"));
        json_decref(doc);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        unsigned char index = (unsigned char)i;
        msgpack_sbuffer_write(&sb, (const char *)&index, 1);
        rc = hf_codec_encode_json(s, example, NULL, "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f", &sb, &err);
        if (rc) {
            fprintf(stderr, "fuzz_seed: %s's example does not encode: %s\n", s->name, err.msg);
        } else {
            snprintf(path, sizeof path, "%s/msgpack/%s.bin", argv[1], s->name);
            rc = write_file(path, sb.data, sb.size);
        }
        json_object_set_new(example, "type", json_string(s->name));
        char *text = json_dumps(example, JSON_COMPACT | JSON_SORT_KEYS);
        snprintf(path, sizeof path, "%s/event_json/%s.json", argv[1], s->name);
        if (rc == 0 && !s->internal) /* the intake refuses internal types: a dull seed */
            rc = write_file(path, text, strlen(text));
        free(text);
        json_decref(example);
        msgpack_sbuffer_destroy(&sb);
    }
    hf_schema_registry_free(reg);
    return rc;
}
