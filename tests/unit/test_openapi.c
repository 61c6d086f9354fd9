/* hf_openapi: the intake's OpenAPI document says what the validator does.
 * Each event type apps may post is in the Event oneOf with its envelope,
 * fields, bounds, enums, per-kind ranges and example; internal types are
 * not; every example is an event the intake accepts; a type with several
 * versions is a oneOf of them. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "hf_openapi.h"
#include "intake_events.h"
#include "unit_util.h"

static hf_schema_registry *reg;
static json_t *doc;

static void setup(void)
{
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_new(&reg, &err), 0);
    ck_assert_msg(hf_openapi_build(reg, &doc, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
    json_decref(doc);
    hf_schema_registry_free(reg);
}

static json_t *component(const char *name)
{
    return json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), name);
}

static json_t *prop(json_t *schema, const char *name)
{
    return json_object_get(json_object_get(schema, "properties"), name);
}

static bool has_string(const json_t *array, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

START_TEST(every_public_type_and_no_internal_one)
{
    json_t *mapping = json_object_get(json_object_get(component("Event"), "discriminator"), "mapping");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(component("Event"), "discriminator"),
                                                       "propertyName")),
                     "type");
    const struct hf_schema *s;
    size_t public_types = 0;
    for (size_t i = 0; (s = hf_schema_at(reg, i)); i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.v%d", s->name, s->version);
        if (s->internal) {
            ck_assert_msg(!component(name) && !json_object_get(mapping, s->name), "%s is in the document", name);
            continue;
        }
        public_types++;
        json_t *c = component(name);
        ck_assert_msg(c, "%s missing", name);
        ck_assert_str_eq(json_string_value(json_object_get(prop(c, "type"), "const")), s->name);
        ck_assert(json_is_false(json_object_get(c, "additionalProperties")));
        ck_assert(has_string(json_object_get(c, "required"), "type"));
        ck_assert_str_eq(json_string_value(json_object_get(prop(c, "event_id"), "format")), "uuid");
        for (size_t f = 0; f < s->root.n_fields; f++)
            ck_assert_msg(prop(c, s->root.fields[f].name), "%s.%s missing", name, s->root.fields[f].name);
        char ref[160];
        snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
        ck_assert_str_eq(json_string_value(json_object_get(mapping, s->name)), ref);
    }
    ck_assert_uint_eq(json_object_size(mapping), public_types);
    ck_assert_uint_eq(json_array_size(json_object_get(component("Event"), "oneOf")), public_types);
    char *text = json_dumps(doc, 0);
    ck_assert_ptr_null(strstr(text, "job.")); /* no internal type anywhere, not even in an example */
    ck_assert_ptr_null(strstr(text, "cache.invalidate"));
    free(text);
}
END_TEST

START_TEST(fields_bounds_enums_ranges)
{
    json_t *n = component("log.nutrition.v1");
    json_t *req = json_object_get(n, "required");
    ck_assert(has_string(req, "member_id") && has_string(req, "occurred_at") && has_string(req, "calories"));
    ck_assert(!has_string(req, "program_id") && !has_string(req, "schema_version"));
    json_t *cal = prop(n, "calories");
    ck_assert_str_eq(json_string_value(json_object_get(cal, "type")), "number");
    ck_assert_int_eq(json_integer_value(json_object_get(cal, "minimum")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(cal, "maximum")), 10000);
    ck_assert_str_eq(json_string_value(json_object_get(cal, "description")), "kcal");
    ck_assert_str_eq(json_string_value(json_object_get(prop(n, "occurred_at"), "format")), "date-time");
    ck_assert_int_eq(json_integer_value(json_object_get(prop(n, "member_id"), "minimum")), 1);
    ck_assert(has_string(json_object_get(prop(n, "meal"), "enum"), "snack"));
    json_t *items = prop(n, "items");
    ck_assert_int_eq(json_integer_value(json_object_get(items, "maxItems")), 50);
    json_t *item = json_object_get(items, "items");
    ck_assert(json_is_false(json_object_get(item, "additionalProperties")));
    ck_assert(has_string(json_object_get(item, "required"), "name"));
    ck_assert_int_eq(json_integer_value(json_object_get(prop(item, "name"), "maxLength")), 120);
    ck_assert_int_eq(json_integer_value(json_object_get(prop(item, "name"), "minLength")), 1);
    /* symptoms: a nested object of bounded scores */
    json_t *sym = prop(component("log.symptom.v1"), "symptoms");
    ck_assert_int_eq(json_integer_value(json_object_get(prop(sym, "energy"), "maximum")), 5);
    ck_assert(json_is_false(json_object_get(sym, "additionalProperties")));
    /* https URLs only */
    json_t *url = prop(component("meal.photo_uploaded.v1"), "image_url");
    ck_assert_str_eq(json_string_value(json_object_get(url, "pattern")), "^https://[^/\\s]\\S*$");
    ck_assert_int_eq(json_integer_value(json_object_get(url, "maxLength")), 2048);
    /* value's range follows kind: one if/then per kind */
    json_t *all = json_object_get(component("biometric.reading.v1"), "allOf");
    ck_assert_uint_eq(json_array_size(all), 11);
    json_t *first = json_array_get(all, 0);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(json_object_get(first, "if"), "properties"), "kind"), "const")),
                     "basal_temp_c");
    json_t *value = prop(json_object_get(first, "then"), "value");
    ck_assert_int_eq(json_integer_value(json_object_get(value, "minimum")), 34);
    ck_assert_int_eq(json_integer_value(json_object_get(value, "maximum")), 42);
}
END_TEST

/* Every example of the document passes the intake's own validation. */
START_TEST(examples_are_accepted)
{
    struct hf_config cfg;
    struct hf_err err = { 0 };
    unsetenv("HF_TOPIC_PREFIX");
    ck_assert_int_eq(hf_config_load(&cfg, &err), 0);
    cfg.intake_max_skew_days = 36500; /* the examples' dates age; their shape must not */
    json_t *examples = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(doc, "paths"),
                                                                                        "/v1/events"),
                                                                        "post"),
                                                        "requestBody"),
                                        "content"),
                        "application/json"),
        "examples");
    ck_assert_uint_eq(json_object_size(examples), json_object_size(json_object_get(
                                                      json_object_get(component("Event"), "discriminator"), "mapping")));
    const char *key;
    json_t *ex;
    json_object_foreach(examples, key, ex) {
        struct intake_record rec;
        hf_jdoc *value = hf_jdoc_from_json(json_object_get(ex, "value"));
        ck_assert_ptr_nonnull(value);
        int rc = intake_event_prepare(&cfg, reg, hf_jdoc_root(value), 1, NULL, -1, &rec, &err);
        hf_jdoc_free(value);
        ck_assert_msg(rc == 0, "example %s refused: %s (%s)", key, err.msg, err.field);
        msgpack_sbuffer_destroy(&rec.value);
    }
}
END_TEST

static const char v1[] = "{\"name\":\"t.x\",\"version\":1,\"family\":\"t\",\"key\":\"member_id\",\"description\":\"d\","
                         "\"fields\":{\"member_id\":{\"type\":\"integer\",\"required\":true}},"
                         "\"example\":{\"member_id\":1}}";
static const char v2[] = "{\"name\":\"t.x\",\"version\":2,\"family\":\"t\",\"key\":\"member_id\",\"description\":\"d\","
                         "\"fields\":{\"member_id\":{\"type\":\"integer\",\"required\":true},"
                         "\"n\":{\"type\":\"number\"}},\"example\":{\"member_id\":1,\"n\":2.5}}";
static const char job[] = "{\"name\":\"j.y\",\"version\":1,\"family\":\"j\",\"key\":\"member_id\",\"description\":\"d\","
                          "\"internal\":true,\"fields\":{\"member_id\":{\"type\":\"integer\",\"required\":true}},"
                          "\"example\":{\"member_id\":1}}";

START_TEST(several_versions)
{
    const char *texts[] = { v2, job, v1, NULL };
    hf_schema_registry *r = NULL;
    json_t *d = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_from_texts(texts, &r, &err), 0);
    ck_assert_int_eq(hf_openapi_build(r, &d, &err), 0);
    json_t *schemas = json_object_get(json_object_get(d, "components"), "schemas");
    json_t *mapping = json_object_get(json_object_get(json_object_get(schemas, "Event"), "discriminator"), "mapping");
    ck_assert_uint_eq(json_object_size(mapping), 1);
    ck_assert_str_eq(json_string_value(json_object_get(mapping, "t.x")), "#/components/schemas/t.x");
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(schemas, "t.x"), "oneOf")), 2);
    /* absent schema_version means the newest: the older one must name itself */
    ck_assert(has_string(json_object_get(json_object_get(schemas, "t.x.v1"), "required"), "schema_version"));
    ck_assert(!has_string(json_object_get(json_object_get(schemas, "t.x.v2"), "required"), "schema_version"));
    json_t *example = json_array_get(json_object_get(json_object_get(schemas, "t.x.v1"), "examples"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(example, "schema_version")), 1);
    ck_assert_ptr_null(json_object_get(schemas, "j.y.v1"));
    json_decref(d);
    hf_schema_registry_free(r);
}
END_TEST

START_TEST(schema_without_example_is_a_build_error)
{
    static const char bare[] = "{\"name\":\"t.x\",\"version\":1,\"family\":\"t\",\"key\":\"member_id\",\"description\":\"d\","
                               "\"fields\":{\"member_id\":{\"type\":\"integer\",\"required\":true}}}";
    const char *texts[] = { bare, NULL };
    hf_schema_registry *r = NULL;
    json_t *d = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schema_registry_from_texts(texts, &r, &err), 0);
    ck_assert_int_eq(hf_openapi_build(r, &d, &err), HF_EINVAL);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(err.msg, "schema t.x v1 has no example object");
    hf_schema_registry_free(r);
}
END_TEST

START_TEST(render_is_stable_text)
{
    char *a = NULL, *b = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_openapi_render(reg, &a, &err), 0);
    ck_assert_int_eq(hf_openapi_render(reg, &b, &err), 0);
    ck_assert_str_eq(a, b);
    size_t n = strlen(a);
    ck_assert(n > 1000 && a[n - 1] == '\n' && a[n - 2] == '}');
    ck_assert_ptr_nonnull(strstr(a, "\"openapi\": \"3.1.0\""));
    ck_assert_ptr_nonnull(strstr(a, "\"value\": 36.62")); /* not 36.619999999999997 */
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("openapi");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_public_type_and_no_internal_one);
    tcase_add_test(tc, fields_bounds_enums_ranges);
    tcase_add_test(tc, examples_are_accepted);
    tcase_add_test(tc, several_versions);
    tcase_add_test(tc, schema_without_example_is_a_build_error);
    tcase_add_test(tc, render_is_stable_text);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
