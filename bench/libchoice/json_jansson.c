/* json_jansson.c - jansson, set up as a validator wants it: duplicate keys
 * refused (UTF-8 and \u0000 are checked by default). */
#include "json_bench.h"

#include <jansson.h>

static double walk_jansson(const char *buf, size_t len, char *err, size_t errsz)
{
    json_error_t e;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e), *data, *items, *it, *v;
    if (!root) {
        snprintf(err, errsz, "%s (line %d, column %d, position %d)", e.text, e.line, e.column, e.position);
        return NAN;
    }
    double sum = 0;
    for (size_t i = 0; i < N_STR; i++) {
        if (!json_is_string(v = json_object_get(root, str_fields[i])))
            goto out;
        sum += (double)json_string_length(v);
    }
    data = json_object_get(root, "data");
    for (size_t i = 0; i < N_NUM; i++) {
        if (!json_is_number(v = json_object_get(data, num_fields[i])))
            goto out;
        sum += json_number_value(v);
    }
    items = json_object_get(data, "items");
    if (json_array_size(items) != N_ITEMS)
        goto out;
    size_t i;
    json_array_foreach(items, i, it) {
        json_t *name = json_object_get(it, "name"), *grams = json_object_get(it, "grams");
        if (!json_is_string(name) || !json_is_number(grams))
            goto out;
        sum += (double)json_string_length(name) + json_number_value(grams);
    }
    before_free();
    json_decref(root);
    return sum;
out:
    json_decref(root);
    return NAN;
}

const struct parser parser = {"jansson", walk_jansson};
