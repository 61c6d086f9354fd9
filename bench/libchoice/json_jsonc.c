/* json_jsonc.c - json-c, a reused json_tokener set up as a validator wants it:
 * strict JSON and UTF-8 checked (both off by default). */
#include "json_bench.h"

#include <json-c/json.h>

static struct json_object *jc_get(struct json_object *o, const char *k, enum json_type t)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v))
        return NULL;
    if (t == json_type_double) /* "a number": json-c tells ints and doubles apart */
        return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int) ? v : NULL;
    return json_object_is_type(v, t) ? v : NULL;
}

static double walk_jsonc(const char *buf, size_t len, char *err, size_t errsz)
{
    static struct json_tokener *tok; /* reusable; one per thread in real code */
    if (!tok) {
        tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    }
    json_tokener_reset(tok);
    struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len), *data, *items, *v;
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t stop = json_tokener_get_parse_end(tok);
    if (!root || !only_ws(buf + stop, buf + len)) { /* NULL + continue == truncated */
        snprintf(err, errsz, "%s (position %zu)",
                 je == json_tokener_continue ? "unexpected end of input"
                 : je == json_tokener_success ? "trailing data"
                 : json_tokener_error_desc(je),
                 stop);
        json_object_put(root);
        return NAN;
    }
    double sum = 0;
    for (size_t i = 0; i < N_STR; i++) {
        if (!(v = jc_get(root, str_fields[i], json_type_string)))
            goto bad;
        sum += json_object_get_string_len(v);
    }
    if (!(data = jc_get(root, "data", json_type_object)))
        goto bad;
    for (size_t i = 0; i < N_NUM; i++) {
        if (!(v = jc_get(data, num_fields[i], json_type_double)))
            goto bad;
        sum += json_object_get_double(v);
    }
    if (!(items = jc_get(data, "items", json_type_array)) || json_object_array_length(items) != N_ITEMS)
        goto bad;
    for (size_t i = 0; i < N_ITEMS; i++) {
        struct json_object *it = json_object_array_get_idx(items, i), *name, *grams;
        if (!(name = jc_get(it, "name", json_type_string)) || !(grams = jc_get(it, "grams", json_type_double)))
            goto bad;
        sum += json_object_get_string_len(name) + json_object_get_double(grams);
    }
    before_free();
    json_object_put(root);
    return sum;
bad:
    json_object_put(root);
    return NAN;
}

const struct parser parser = {"json-c", walk_jsonc};
