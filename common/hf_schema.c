#include "hf_schema.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct embedded_schema {
    const char *file;
    const char *text;
};
extern const struct embedded_schema hf_schema_texts[];

struct hf_schema_registry {
    struct hf_schema *schemas;
    json_t **docs; /* each schema's parsed file: field names point into it */
    size_t n;
};

static const char *const type_names[] = {
    [HF_T_STRING] = "string", [HF_T_INTEGER] = "integer", [HF_T_NUMBER] = "number",
    [HF_T_BOOLEAN] = "boolean", [HF_T_TIMESTAMP] = "timestamp", [HF_T_DATE] = "date",
    [HF_T_UUID] = "uuid", [HF_T_URL] = "url", [HF_T_ENUM] = "enum",
    [HF_T_ARRAY] = "array", [HF_T_OBJECT] = "object",
};

const char *hf_ftype_name(enum hf_ftype t)
{
    return t <= HF_T_OBJECT ? type_names[t] : "?";
}

static void field_release(struct hf_field *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_fields; i++)
        field_release((struct hf_field *)&f->fields[i]);
    free((void *)f->fields);
    if (f->item) {
        field_release((struct hf_field *)f->item);
        free((void *)f->item);
    }
    free((void *)f->values);
    free((void *)f->ranges);
}

static int parse_field(const char *path, const char *name, json_t *spec, struct hf_field *f, struct hf_err *err);

static int parse_members(const char *path, json_t *fields, struct hf_field *f, struct hf_err *err)
{
    if (!json_is_object(fields) || json_object_size(fields) == 0)
        return hf_err_set(err, HF_EINVAL, false, "%s: an object needs a non-empty \"fields\" object", path);
    f->n_fields = json_object_size(fields);
    struct hf_field *members = calloc(f->n_fields, sizeof *members);
    if (!members)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    f->fields = members;
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        int rc = parse_field(sub, key, value, &members[i++], err);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_ranges(const char *path, json_t *spec, struct hf_field *f, struct hf_err *err)
{
    json_t *by = json_object_get(spec, "range_by");
    if (!by)
        return 0;
    json_t *ranges = json_object_get(spec, "ranges");
    if (!json_is_string(by) || !json_is_object(ranges))
        return hf_err_set(err, HF_EINVAL, false, "%s: range_by needs a \"ranges\" object", path);
    f->range_by = json_string_value(by);
    f->n_ranges = json_object_size(ranges);
    struct hf_range *r = calloc(f->n_ranges ? f->n_ranges : 1, sizeof *r);
    if (!r)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    f->ranges = r;
    const char *key;
    json_t *pair;
    json_object_foreach(ranges, key, pair) {
        if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_number(json_array_get(pair, 0)) ||
            !json_is_number(json_array_get(pair, 1)))
            return hf_err_set(err, HF_EINVAL, false, "%s: range for %s must be [low, high]", path, key);
        r->when = key;
        r->lo = json_number_value(json_array_get(pair, 0));
        r->hi = json_number_value(json_array_get(pair, 1));
        r++;
    }
    return 0;
}

static int parse_field(const char *path, const char *name, json_t *spec, struct hf_field *f, struct hf_err *err)
{
    f->name = name;
    if (!json_is_object(spec))
        return hf_err_set(err, HF_EINVAL, false, "%s: field spec must be an object", path);
    const char *type = json_string_value(json_object_get(spec, "type"));
    int t = -1;
    for (int i = 0; type && i <= HF_T_OBJECT; i++)
        if (strcmp(type, type_names[i]) == 0)
            t = i;
    if (t < 0)
        return hf_err_set(err, HF_EINVAL, false, "%s: unknown type \"%s\"", path, type ? type : "(none)");
    f->type = (enum hf_ftype)t;
    f->required = json_is_true(json_object_get(spec, "required"));

    const char *lo_key = "minimum", *hi_key = "maximum";
    if (f->type == HF_T_STRING || f->type == HF_T_URL) {
        lo_key = "minLength";
        hi_key = "maxLength";
    } else if (f->type == HF_T_ARRAY) {
        lo_key = "minItems";
        hi_key = "maxItems";
    }
    json_t *lo = json_object_get(spec, lo_key), *hi = json_object_get(spec, hi_key);
    if (lo) {
        f->has_min = true;
        f->min = json_number_value(lo);
    }
    if (hi) {
        f->has_max = true;
        f->max = json_number_value(hi);
    }
    if (f->type == HF_T_ARRAY && !f->has_max)
        return hf_err_set(err, HF_EINVAL, false, "%s: an array needs maxItems (an unbounded input is a hazard)", path);
    if ((f->type == HF_T_STRING || f->type == HF_T_URL) && !f->has_max)
        return hf_err_set(err, HF_EINVAL, false, "%s: a string needs maxLength", path);

    if (f->type == HF_T_ENUM) {
        json_t *values = json_object_get(spec, "values");
        if (!json_is_array(values) || json_array_size(values) == 0)
            return hf_err_set(err, HF_EINVAL, false, "%s: an enum needs \"values\"", path);
        f->n_values = json_array_size(values);
        const char **v = calloc(f->n_values, sizeof *v);
        if (!v)
            return hf_err_set(err, HF_ENOMEM, false, "out of memory");
        f->values = v;
        for (size_t i = 0; i < f->n_values; i++) {
            v[i] = json_string_value(json_array_get(values, i));
            if (!v[i])
                return hf_err_set(err, HF_EINVAL, false, "%s: enum values must be strings", path);
        }
    }
    if (f->type == HF_T_OBJECT)
        return parse_members(path, json_object_get(spec, "fields"), f, err);
    if (f->type == HF_T_ARRAY) {
        struct hf_field *item = calloc(1, sizeof *item);
        if (!item)
            return hf_err_set(err, HF_ENOMEM, false, "out of memory");
        f->item = item;
        char sub[256];
        snprintf(sub, sizeof sub, "%s[]", path);
        return parse_field(sub, "", json_object_get(spec, "items"), item, err);
    }
    return parse_ranges(path, spec, f, err);
}

static int parse_schema(const char *text, json_t **doc_out, struct hf_schema *s, struct hf_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    *doc_out = doc;
    if (!doc)
        return hf_err_set(err, HF_EINVAL, false, "schema JSON, line %d: %s", jerr.line, jerr.text);
    s->name = json_string_value(json_object_get(doc, "name"));
    s->version = (int)json_integer_value(json_object_get(doc, "version"));
    s->family = json_string_value(json_object_get(doc, "family"));
    s->key_field = json_string_value(json_object_get(doc, "key"));
    s->description = json_string_value(json_object_get(doc, "description"));
    s->internal = json_is_true(json_object_get(doc, "internal"));
    s->source_json = text;
    if (!s->name || s->version < 1 || !s->family || !s->key_field || !s->description)
        return hf_err_set(err, HF_EINVAL, false, "schema %s: needs name, version >= 1, family, key and description",
                          s->name ? s->name : "(unnamed)");
    s->root.name = "";
    s->root.type = HF_T_OBJECT;
    int rc = parse_members(s->name, json_object_get(doc, "fields"), &s->root, err);
    if (rc)
        return rc;
    const struct hf_field *key = hf_field_member(&s->root, s->key_field);
    /* A string key (an ingredient's name) must be short enough for the
     * fixed buffers keys are copied into. */
    bool key_ok = key && key->required &&
                  (key->type == HF_T_INTEGER || (key->type == HF_T_STRING && key->has_max && key->max <= 200));
    if (!key_ok)
        return hf_err_set(err, HF_EINVAL, false,
                          "schema %s: key \"%s\" must be a required integer, or a required string of maxLength 200 or less",
                          s->name, s->key_field);
    return 0;
}

static int by_name_version(const void *a, const void *b)
{
    const struct hf_schema *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->version - y->version;
}

int hf_schema_registry_from_texts(const char *const *texts, hf_schema_registry **out, struct hf_err *err)
{
    int rc = 0;
    size_t n = 0;
    while (texts[n])
        n++;
    hf_schema_registry *reg = calloc(1, sizeof *reg);
    if (!reg || !(reg->schemas = calloc(n ? n : 1, sizeof *reg->schemas)) ||
        !(reg->docs = calloc(n ? n : 1, sizeof *reg->docs))) {
        rc = hf_err_set(err, HF_ENOMEM, false, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        reg->n = i + 1;
        rc = parse_schema(texts[i], &reg->docs[i], &reg->schemas[i], err);
        if (rc)
            goto out;
    }
    qsort(reg->schemas, n, sizeof *reg->schemas, by_name_version);
    for (size_t i = 1; i < n; i++)
        if (by_name_version(&reg->schemas[i - 1], &reg->schemas[i]) == 0) {
            rc = hf_err_set(err, HF_EINVAL, false, "schema %s v%d is defined twice", reg->schemas[i].name,
                            reg->schemas[i].version);
            goto out;
        }
out:
    if (rc) {
        hf_schema_registry_free(reg);
        reg = NULL;
    }
    *out = reg;
    return rc;
}

int hf_schema_registry_new(hf_schema_registry **out, struct hf_err *err)
{
    const char *texts[64];
    size_t n = 0;
    for (; hf_schema_texts[n].file; n++) {
        if (n + 1 >= sizeof texts / sizeof texts[0])
            return hf_err_set(err, HF_ETOOBIG, false, "more than %zu schemas: raise the table size",
                              sizeof texts / sizeof texts[0] - 1);
        texts[n] = hf_schema_texts[n].text;
    }
    texts[n] = NULL;
    return hf_schema_registry_from_texts(texts, out, err);
}

void hf_schema_registry_free(hf_schema_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->schemas)
            field_release(&reg->schemas[i].root);
        if (reg->docs)
            json_decref(reg->docs[i]);
    }
    free(reg->schemas);
    free(reg->docs);
    free(reg);
}

const struct hf_schema *hf_schema_find(const hf_schema_registry *reg, const char *name, int version)
{
    for (size_t i = 0; i < reg->n; i++)
        if (reg->schemas[i].version == version && strcmp(reg->schemas[i].name, name) == 0)
            return &reg->schemas[i];
    return NULL;
}

const struct hf_schema *hf_schema_latest(const hf_schema_registry *reg, const char *name)
{
    const struct hf_schema *best = NULL;
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->schemas[i].name, name) == 0 && (!best || reg->schemas[i].version > best->version))
            best = &reg->schemas[i];
    return best;
}

const struct hf_schema *hf_schema_at(const hf_schema_registry *reg, size_t i)
{
    return i < reg->n ? &reg->schemas[i] : NULL;
}

size_t hf_schema_families(const hf_schema_registry *reg, bool include_internal, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < reg->n && n < max; i++) {
        const struct hf_schema *s = &reg->schemas[i];
        bool seen = !include_internal && s->internal;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(out[j], s->family) == 0;
        if (!seen)
            out[n++] = s->family;
    }
    return n;
}

const struct hf_field *hf_field_member(const struct hf_field *obj, const char *name)
{
    for (size_t i = 0; i < obj->n_fields; i++)
        if (strcmp(obj->fields[i].name, name) == 0)
            return &obj->fields[i];
    return NULL;
}

/* A reader of `older` data must accept everything `newer` writers produce,
 * and a reader built on `newer` must accept old data: so types stay, nothing
 * becomes required, bounds only widen, enum values are only added. */
static int field_compatible(const char *path, const struct hf_field *o, const struct hf_field *n, struct hf_err *err)
{
    if (o->type != n->type)
        return hf_err_set(err, HF_ECONFLICT, false, "%s changed type from %s to %s", path, hf_ftype_name(o->type),
                          hf_ftype_name(n->type));
    if (n->required && !o->required)
        return hf_err_set(err, HF_ECONFLICT, false, "%s became required", path);
    if (n->has_min && (!o->has_min || n->min > o->min))
        return hf_err_set(err, HF_ECONFLICT, false, "%s: lower bound narrowed", path);
    if (n->has_max && (!o->has_max || n->max < o->max))
        return hf_err_set(err, HF_ECONFLICT, false, "%s: upper bound narrowed", path);
    for (size_t i = 0; i < o->n_values; i++) {
        bool kept = false;
        for (size_t j = 0; j < n->n_values; j++)
            kept = kept || strcmp(o->values[i], n->values[j]) == 0;
        if (!kept)
            return hf_err_set(err, HF_ECONFLICT, false, "%s: enum value \"%s\" removed", path, o->values[i]);
    }
    if (n->range_by && (!o->range_by || strcmp(o->range_by, n->range_by) != 0))
        return hf_err_set(err, HF_ECONFLICT, false, "%s: per-%s ranges added or changed", path, n->range_by);
    /* A range for a value that had none narrows what that value accepted. */
    for (size_t j = 0; j < n->n_ranges; j++) {
        size_t i = 0;
        while (i < o->n_ranges && strcmp(o->ranges[i].when, n->ranges[j].when) != 0)
            i++;
        if (i == o->n_ranges || n->ranges[j].lo > o->ranges[i].lo || n->ranges[j].hi < o->ranges[i].hi)
            return hf_err_set(err, HF_ECONFLICT, false, "%s: range for %s narrowed", path, n->ranges[j].when);
    }
    for (size_t i = 0; i < o->n_fields; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s", path, o->fields[i].name);
        const struct hf_field *m = hf_field_member(n, o->fields[i].name);
        if (!m)
            return hf_err_set(err, HF_ECONFLICT, false, "%s was removed", sub);
        int rc = field_compatible(sub, &o->fields[i], m, err);
        if (rc)
            return rc;
    }
    for (size_t j = 0; j < n->n_fields; j++)
        if (n->fields[j].required && !hf_field_member(o, n->fields[j].name))
            return hf_err_set(err, HF_ECONFLICT, false, "%s.%s was added as required", path, n->fields[j].name);
    if (o->item && n->item)
        return field_compatible(path, o->item, n->item, err);
    return 0;
}

int hf_schema_compatible(const struct hf_schema *older, const struct hf_schema *newer, struct hf_err *err)
{
    if (strcmp(older->key_field, newer->key_field) || strcmp(older->family, newer->family))
        return hf_err_set(err, HF_ECONFLICT, false, "%s v%d: key or topic family changed", older->name,
                          older->version);
    return field_compatible(older->name, &older->root, &newer->root, err);
}
