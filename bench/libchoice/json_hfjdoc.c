/* json_hfjdoc.c - the intake's parser: common/hf_jdoc (yajl 2.1 lexing, the
 * values in one arena, duplicate keys, UTF-8 and \u0000 checked by us). */
#include "json_bench.h"

#include "hf_jdoc.h"

static double walk_hfjdoc(const char *buf, size_t len, char *err, size_t errsz)
{
    hf_jdoc *doc;
    struct hf_err e = { 0 };
    if (hf_jdoc_parse(buf, len, &doc, &e)) {
        snprintf(err, errsz, "%s", e.msg);
        return NAN;
    }
    const hf_jval *root = hf_jdoc_root(doc), *data, *items, *v;
    double sum = 0;
    size_t n;
    for (size_t i = 0; i < N_STR; i++) {
        if (!hf_jval_str(hf_jval_get(root, str_fields[i]), &n))
            goto out;
        sum += (double)n;
    }
    data = hf_jval_get(root, "data");
    for (size_t i = 0; i < N_NUM; i++) {
        enum hf_jtype t = hf_jval_type(v = hf_jval_get(data, num_fields[i]));
        if (t != HF_J_INT && t != HF_J_REAL)
            goto out;
        sum += hf_jval_number(v);
    }
    items = hf_jval_get(data, "items");
    if (hf_jval_size(items) != N_ITEMS)
        goto out;
    for (size_t i = 0; i < N_ITEMS; i++) {
        const hf_jval *it = hf_jval_at(items, i), *grams = hf_jval_get(it, "grams");
        enum hf_jtype t = hf_jval_type(grams);
        if (!hf_jval_str(hf_jval_get(it, "name"), &n) || (t != HF_J_INT && t != HF_J_REAL))
            goto out;
        sum += (double)n + hf_jval_number(grams);
    }
    before_free();
    hf_jdoc_free(doc);
    return sum;
out:
    hf_jdoc_free(doc);
    return NAN;
}

const struct parser parser = {"hf_jdoc", walk_hfjdoc};
