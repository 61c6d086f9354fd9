/* json_cjson.c - cJSON, which has no options: it keeps duplicate keys,
 * accepts invalid UTF-8 and holds every number as a double. */
#include "json_bench.h"

#include <cjson/cJSON.h>

static double walk_cjson(const char *buf, size_t len, char *err, size_t errsz)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0), *data, *items, *it, *v;
    if (!root || !only_ws(end, buf + len)) { /* only a pointer to where it stopped */
        snprintf(err, errsz, "%s (position %td)", root ? "trailing data" : "parse error", end - buf);
        cJSON_Delete(root);
        return NAN;
    }
    double sum = 0;
    for (size_t i = 0; i < N_STR; i++) {
        if (!cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, str_fields[i])))
            goto bad;
        sum += (double)strlen(v->valuestring); /* no stored length */
    }
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    for (size_t i = 0; i < N_NUM; i++) {
        if (!cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(data, num_fields[i])))
            goto bad;
        sum += v->valuedouble;
    }
    items = cJSON_GetObjectItemCaseSensitive(data, "items");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) != N_ITEMS)
        goto bad;
    cJSON_ArrayForEach(it, items) {
        cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        cJSON *grams = cJSON_GetObjectItemCaseSensitive(it, "grams");
        if (!cJSON_IsString(name) || !cJSON_IsNumber(grams))
            goto bad;
        sum += (double)strlen(name->valuestring) + grams->valuedouble;
    }
    before_free();
    cJSON_Delete(root);
    return sum;
bad:
    cJSON_Delete(root);
    return NAN;
}

const struct parser parser = {"cjson", walk_cjson};
