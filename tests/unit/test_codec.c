/* Unit tests of common/hf_codec: JSON -> msgpack encoding, validation, decoding
 * into a reusable hf_doc, hf_doc_to_json, hf_doc_bind and hf_bind_check. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_codec.h"
#include "hf_schema.h"
#include "hf_time.h"
#include "unit_util.h"

static const char EVENT_ID[] = "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f";
static const char *const SKIP[] = { "type", "schema_version", "event_id", NULL };

static hf_schema_registry *reg;
static hf_doc *doc;

/* The input of the last decode into doc. It is kept until the next one,
 * because the doc still reads it (see test_doc_owns_its_strings). */
static msgpack_sbuffer held;

static void hold(msgpack_sbuffer *buf)
{
    msgpack_sbuffer_destroy(&held);
    held = *buf;
    msgpack_sbuffer_init(buf);
}

static void setup(void)
{
    struct hf_err err = { 0 };
    ck_assert_msg(hf_schema_registry_new(&reg, &err) == 0, "%s", err.msg);
    doc = hf_doc_new();
    ck_assert_ptr_nonnull(doc);
    msgpack_sbuffer_init(&held);
}

static void teardown(void)
{
    hf_doc_free(doc);
    hf_schema_registry_free(reg);
    msgpack_sbuffer_destroy(&held);
    doc = NULL;
    reg = NULL;
}

static const struct hf_schema *S(const char *name)
{
    const struct hf_schema *s = hf_schema_find(reg, name, 1);
    ck_assert_msg(s != NULL, "no schema %s v1", name);
    return s;
}

static json_t *load_json(const char *text)
{
    char *t = unit_dq(text);
    json_error_t jerr;
    json_t *j = json_loads(t, JSON_DECODE_ANY, &jerr);
    free(t);
    ck_assert_msg(j != NULL, "test JSON %s: %s", text, jerr.text);
    return j;
}

/* Encodes a JSON value for schema; buf is appended to. */
static int encode_obj(const char *schema, const json_t *obj, msgpack_sbuffer *buf, struct hf_err *err)
{
    return hf_codec_encode_json(S(schema), obj, SKIP, EVENT_ID, buf, err);
}

/* Encodes JSON text (' for ") and decodes it into doc; returns the first failure. */
static int roundtrip_text(const char *schema, const char *text, struct hf_err *err)
{
    json_t *obj = load_json(text);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    int rc = encode_obj(schema, obj, &buf, err);
    json_decref(obj);
    if (rc == 0)
        rc = hf_codec_decode(doc, S(schema), buf.data, buf.size, err);
    hold(&buf);
    return rc;
}

static int roundtrip_json(const char *schema, const json_t *obj, struct hf_err *err)
{
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    int rc = encode_obj(schema, obj, &buf, err);
    if (rc == 0)
        rc = hf_codec_decode(doc, S(schema), buf.data, buf.size, err);
    hold(&buf);
    return rc;
}

static const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
    ck_assert_int_eq(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

#define ck_assert_mp_str(o, expected)                                                                       \
    do {                                                                                                    \
        const msgpack_object *o_ = (o);                                                                     \
        ck_assert_ptr_nonnull(o_);                                                                          \
        ck_assert_int_eq(o_->type, MSGPACK_OBJECT_STR);                                                     \
        ck_assert_msg(o_->via.str.size == strlen(expected) && memcmp(o_->via.str.ptr, expected, strlen(expected)) == 0, \
                      "expected \"%s\", got \"%.*s\"", expected, (int)o_->via.str.size, o_->via.str.ptr);   \
    } while (0)

#define ck_assert_mp_int(o, expected)                                                                       \
    do {                                                                                                    \
        const msgpack_object *o_ = (o);                                                                     \
        ck_assert_ptr_nonnull(o_);                                                                          \
        ck_assert_msg(o_->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o_->type == MSGPACK_OBJECT_NEGATIVE_INTEGER, \
                      "integer expected, type %d", (int)o_->type);                                          \
        ck_assert_int_eq(o_->via.i64, (int64_t)(expected));                                                 \
    } while (0)

#define ck_assert_mp_num(o, expected)                                                                       \
    do {                                                                                                    \
        const msgpack_object *o_ = (o);                                                                     \
        ck_assert_ptr_nonnull(o_);                                                                          \
        ck_assert_int_eq(o_->type, MSGPACK_OBJECT_FLOAT64);                                                 \
        ck_assert_double_eq(o_->via.f64, (expected));                                                       \
    } while (0)

/* ---------------------------------------------------------------- examples */

/* Each wire value equals its JSON source, recursively (timestamps are
 * checked separately against fixed microsecond values). */
static void expect_same(const struct hf_field *f, const json_t *j, const msgpack_object *o, const char *path)
{
    ck_assert_msg(f != NULL, "%s: field known to the schema", path);
    ck_assert_msg(o != NULL, "%s: present after decoding", path);
    char sub[160];
    switch (f->type) {
    case HF_T_INTEGER:
        ck_assert_mp_int(o, json_integer_value(j));
        break;
    case HF_T_NUMBER:
        ck_assert_mp_num(o, json_number_value(j));
        break;
    case HF_T_BOOLEAN:
        ck_assert_int_eq(o->type, MSGPACK_OBJECT_BOOLEAN);
        ck_assert(o->via.boolean == json_is_true(j));
        break;
    case HF_T_TIMESTAMP:
        ck_assert_msg(o->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "%s: timestamp is an integer", path);
        break;
    case HF_T_ARRAY:
        ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
        ck_assert_uint_eq(o->via.array.size, json_array_size(j));
        for (size_t i = 0; i < json_array_size(j); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            expect_same(f->item, json_array_get(j, i), &o->via.array.ptr[i], sub);
        }
        break;
    case HF_T_OBJECT: {
        ck_assert_int_eq(o->type, MSGPACK_OBJECT_MAP);
        ck_assert_uint_eq(o->via.map.size, json_object_size(j));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)j, key, v) {
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            expect_same(hf_field_member(f, key), v, mp_get(o, key), sub);
        }
        break;
    }
    default:
        ck_assert_mp_str(o, json_string_value(j));
        break;
    }
}

/* Encodes schema i's example (with an envelope to skip) and decodes it. */
static json_t *example_into_doc(const struct hf_schema *s)
{
    json_t *file = json_loads(s->source_json, 0, NULL);
    ck_assert_ptr_nonnull(file);
    json_t *ex = json_deep_copy(json_object_get(file, "example"));
    json_decref(file);
    ck_assert_msg(json_is_object(ex), "%s has an example object", s->name);
    json_t *env = json_deep_copy(ex);
    json_object_set_new(env, "type", json_string(s->name));
    json_object_set_new(env, "schema_version", json_integer(s->version));
    json_object_set_new(env, "event_id", json_string("00000000-0000-4000-8000-000000000000"));
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    struct hf_err err = { 0 };
    int rc = hf_codec_encode_json(s, env, SKIP, EVENT_ID, &buf, &err);
    json_decref(env);
    ck_assert_msg(rc == 0, "%s example does not encode: %s (%s)", s->name, err.msg, err.field);
    rc = hf_codec_decode(doc, s, buf.data, buf.size, &err);
    hold(&buf);
    ck_assert_msg(rc == 0, "%s example does not decode: %s (%s)", s->name, err.msg, err.field);
    return ex;
}

START_TEST(test_example_round_trip)
{
    const struct hf_schema *s = hf_schema_at(reg, (size_t)_i);
    ck_assert_ptr_nonnull(s);
    json_t *ex = example_into_doc(s);
    /* the envelope is gone, the fixed event id is in */
    ck_assert_str_eq(hf_doc_event_id(doc), EVENT_ID);
    ck_assert_mp_str(hf_doc_get(doc, "event_id"), EVENT_ID);
    ck_assert_ptr_null(hf_doc_get(doc, "type"));
    ck_assert_ptr_null(hf_doc_get(doc, "schema_version"));
    /* every example field came back equal */
    const char *key;
    json_t *v;
    json_object_foreach(ex, key, v) {
        expect_same(hf_field_member(&s->root, key), v, hf_doc_get(doc, key), key);
    }
    /* and hf_doc_to_json gives back a JSON event that encodes to the same doc */
    json_t *back = hf_doc_to_json(doc, s);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(json_object_size(back), json_object_size(ex));
    ck_assert_ptr_null(json_object_get(back, "event_id"));
    struct hf_err err = { 0 };
    ck_assert_msg(roundtrip_json(s->name, back, &err) == 0, "%s", err.msg);
    json_t *again = hf_doc_to_json(doc, s);
    ck_assert_msg(json_equal(back, again), "%s: hf_doc_to_json is stable across a round trip", s->name);
    json_decref(again);
    json_decref(back);
    json_decref(ex);
}
END_TEST

START_TEST(test_example_values)
{
    json_t *ex;
    const msgpack_object *o;

    ex = example_into_doc(S("biometric.reading"));
    ck_assert_mp_int(hf_doc_get(doc, "member_id"), 42);
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1795155000000000));
    ck_assert_mp_str(hf_doc_get(doc, "kind"), "basal_temp_c");
    ck_assert_mp_num(hf_doc_get(doc, "value"), 36.62);
    ck_assert_mp_str(hf_doc_get(doc, "source"), "oura");
    json_decref(ex);

    ex = example_into_doc(S("cache.invalidate"));
    ck_assert_mp_str(hf_doc_get(doc, "entity"), "program");
    ck_assert_mp_int(hf_doc_get(doc, "entity_id"), 7);
    ck_assert_mp_str(hf_doc_get(doc, "date"), "2026-11-20");
    ck_assert_mp_int(hf_doc_get(doc, "at"), INT64_C(1795177801000000));
    json_decref(ex);

    ex = example_into_doc(S("cycle.period"));
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1793692800000000));
    ck_assert_mp_str(hf_doc_get(doc, "start_date"), "2026-11-03");
    ck_assert_mp_str(hf_doc_get(doc, "end_date"), "2026-11-07");
    ck_assert_mp_str(hf_doc_get(doc, "flow"), "medium");
    json_decref(ex);

    ex = example_into_doc(S("job.adherence_recalc"));
    ck_assert_mp_int(hf_doc_get(doc, "program_id"), 7);
    ck_assert_mp_str(hf_doc_get(doc, "date"), "2026-11-20");
    ck_assert_uint_eq(hf_doc_get(doc, "event_id") ? 1 : 0, 1);
    json_decref(ex);

    ex = example_into_doc(S("job.adherence_weekly"));
    ck_assert_mp_int(hf_doc_get(doc, "program_id"), 7);
    ck_assert_mp_str(hf_doc_get(doc, "week_start"), "2026-11-16");
    json_decref(ex);

    ex = example_into_doc(S("log.nutrition"));
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1795177800000000));
    ck_assert_mp_num(hf_doc_get(doc, "calories"), 640.0); /* a JSON integer travels as float64 */
    ck_assert_mp_num(hf_doc_get(doc, "protein_g"), 38.0);
    ck_assert_mp_int(hf_doc_get(doc, "program_id"), 7);
    ck_assert_ptr_null(hf_doc_get(doc, "water_ml"));
    o = hf_doc_get(doc, "items");
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
    ck_assert_uint_eq(o->via.array.size, 2);
    ck_assert_mp_str(mp_get(&o->via.array.ptr[1], "name"), "brown rice");
    ck_assert_mp_num(mp_get(&o->via.array.ptr[1], "grams"), 180.0);
    json_decref(ex);

    ex = example_into_doc(S("log.symptom"));
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1795208400000000));
    o = hf_doc_get(doc, "symptoms");
    ck_assert_int_eq(o->type, MSGPACK_OBJECT_MAP);
    ck_assert_uint_eq(o->via.map.size, 3);
    ck_assert_mp_int(mp_get(o, "bloating"), 3);
    ck_assert_mp_int(mp_get(o, "energy"), 2);
    o = hf_doc_get(doc, "ingredients");
    ck_assert_uint_eq(o->via.array.size, 3);
    ck_assert_mp_str(&o->via.array.ptr[2], "banana");
    ck_assert_mp_str(hf_doc_get(doc, "cycle_phase"), "luteal");
    json_decref(ex);

    ex = example_into_doc(S("log.workout"));
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1795158000000000));
    ck_assert_mp_num(hf_doc_get(doc, "minutes"), 45.0);
    ck_assert_mp_int(hf_doc_get(doc, "sets"), 12);
    ck_assert_mp_int(hf_doc_get(doc, "reps"), 96);
    ck_assert_mp_str(hf_doc_get(doc, "activity"), "strength");
    json_decref(ex);

    ex = example_into_doc(S("meal.photo_uploaded"));
    ck_assert_mp_int(hf_doc_get(doc, "occurred_at"), INT64_C(1795201500000000));
    ck_assert_mp_str(hf_doc_get(doc, "image_url"), "https://photos.example.com/u42/dinner.jpg?sig=abc");
    ck_assert_mp_str(hf_doc_get(doc, "caption"), "2 eggs, 1 slice whole wheat toast");
    json_decref(ex);
}
END_TEST

START_TEST(test_doc_to_json)
{
    json_t *ex = example_into_doc(S("log.nutrition"));
    json_t *j = hf_doc_to_json(doc, S("log.nutrition"));
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "occurred_at")), "2026-11-20T12:30:00.000000Z");
    ck_assert(json_is_integer(json_object_get(j, "member_id")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "member_id")), 42);
    ck_assert(json_is_real(json_object_get(j, "calories")));
    ck_assert_double_eq(json_real_value(json_object_get(j, "calories")), 640.0);
    ck_assert_str_eq(json_string_value(json_object_get(j, "meal")), "lunch");
    json_t *item = json_array_get(json_object_get(j, "items"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(item, "name")), "brown rice");
    ck_assert_ptr_null(json_object_get(j, "event_id"));
    json_decref(j);
    json_decref(ex);

    /* nothing decoded: NULL */
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), "\xc1", 1, &err), HF_EINVAL);
    ck_assert_ptr_null(hf_doc_to_json(doc, S("log.nutrition")));
}
END_TEST

/* -------------------------------------------------------- bad JSON inputs */

#define NUT(extra) "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':640" extra "}"
#define SYM(symptoms, extra) "{'member_id':42,'occurred_at':'2026-11-20T21:00:00Z','symptoms':" symptoms extra "}"
#define BIO(kind, value) "{'member_id':42,'occurred_at':'2026-11-20T06:10:00Z','kind':'" kind "','value':" value "}"
#define PHOTO(url, extra) "{'member_id':42,'occurred_at':'2026-11-20T19:05:00Z','image_url':" url extra "}"
#define MEALS "breakfast, lunch, dinner, snack, drink"
#define KINDS "basal_temp_c, weight_kg, resting_hr_bpm, hrv_ms, sleep_hours, sleep_score, steps, lh_test, glucose_mg_dl, bp_systolic, bp_diastolic"

static const struct {
    const char *schema, *json, *field, *msg;
} BAD[] = {
    /* log.nutrition */
    { "log.nutrition", NUT(",'calroies':5"), "calroies", "calroies is not a field of this event type" },
    { "log.nutrition", NUT(",'items':[{'name':'x','gram':5}]"), "items[0].gram", "items[0].gram is not a field of this event type" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':'640'}", "calories", "calories must be a number" },
    { "log.nutrition", "{'member_id':42.5,'occurred_at':'2026-11-20T12:30:00Z','calories':640}", "member_id", "member_id must be a whole number" },
    { "log.nutrition", "{'member_id':'42','occurred_at':'2026-11-20T12:30:00Z','calories':640}", "member_id", "member_id must be a whole number" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':-1}", "calories", "calories must be at least 0" },
    { "log.nutrition", "{'member_id':0,'occurred_at':'2026-11-20T12:30:00Z','calories':640}", "member_id", "member_id must be at least 1" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':10001}", "calories", "calories must be at most 10000" },
    { "log.nutrition", NUT(",'fiber_g':500.5"), "fiber_g", "fiber_g must be at most 500" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z'}", "calories", "calories is required" },
    { "log.nutrition", "{'occurred_at':'2026-11-20T12:30:00Z','calories':640}", "member_id", "member_id is required" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':null}", "calories", "calories is required" },
    { "log.nutrition", NUT(",'meal':'brunch'"), "meal", "meal must be one of: " MEALS },
    { "log.nutrition", NUT(",'meal':'Lunch'"), "meal", "meal must be one of: " MEALS },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-02-30T12:30:00Z','calories':640}", "occurred_at", "occurred_at must be an RFC 3339 timestamp like 2026-11-20T08:30:00Z" },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00','calories':640}", "occurred_at", "occurred_at must be an RFC 3339 timestamp like 2026-11-20T08:30:00Z" },
    { "log.nutrition", "{'member_id':42,'occurred_at':1795177800,'calories':640}", "occurred_at", "occurred_at must be an RFC 3339 timestamp like 2026-11-20T08:30:00Z" },
    { "log.nutrition", NUT(",'items':[{'name':'a','grams':1},{'name':'b','grams':5001}]"), "items[1].grams", "items[1].grams must be at most 5000" },
    { "log.nutrition", NUT(",'items':[{'name':'a','grams':-1}]"), "items[0].grams", "items[0].grams must be at least 0" },
    { "log.nutrition", NUT(",'items':[{'name':'a'},{'grams':5}]"), "items[1].name", "items[1].name is required" },
    { "log.nutrition", NUT(",'items':[{'name':''}]"), "items[0].name", "items[0].name is shorter than 1 characters" },
    { "log.nutrition", NUT(",'items':[null]"), "items[0]", "items[0] must not be null" },
    { "log.nutrition", NUT(",'items':[5]"), "items[0]", "items[0] must be an object" },
    { "log.nutrition", NUT(",'items':{}"), "items", "items must be an array" },
    { "log.nutrition", "[1]", "", "the event must be an object" },
    /* log.symptom */
    { "log.symptom", SYM("{'bloating':6}", ""), "symptoms.bloating", "symptoms.bloating must be at most 5" },
    { "log.symptom", SYM("{'bloating':-1}", ""), "symptoms.bloating", "symptoms.bloating must be at least 0" },
    { "log.symptom", SYM("{'bloating':1,'energy':2.5}", ""), "symptoms.energy", "symptoms.energy must be a whole number" },
    { "log.symptom", SYM("{'itchy':1}", ""), "symptoms.itchy", "symptoms.itchy is not a field of this event type" },
    { "log.symptom", SYM("3", ""), "symptoms", "symptoms must be an object" },
    { "log.symptom", "{'member_id':42,'occurred_at':'2026-11-20T21:00:00Z'}", "symptoms", "symptoms is required" },
    { "log.symptom", SYM("{}", ",'ingredients':['oats','']"), "ingredients[1]", "ingredients[1] is shorter than 1 characters" },
    { "log.symptom", SYM("{}", ",'ingredients':['oats',5]"), "ingredients[1]", "ingredients[1] must be a string" },
    { "log.symptom", SYM("{}", ",'cycle_phase':'winter'"), "cycle_phase", "cycle_phase must be one of: menstrual, follicular, ovulation, luteal" },
    /* biometric.reading */
    { "biometric.reading", BIO("basal_temp_c", "340"), "value", "value must be between 34 and 42 when kind is basal_temp_c" },
    { "biometric.reading", BIO("basal_temp_c", "33.9"), "value", "value must be between 34 and 42 when kind is basal_temp_c" },
    { "biometric.reading", BIO("weight_kg", "0.5"), "value", "value must be between 1 and 400 when kind is weight_kg" },
    { "biometric.reading", BIO("steps", "200001"), "value", "value must be between 0 and 200000 when kind is steps" },
    { "biometric.reading", BIO("lh_test", "2"), "value", "value must be between 0 and 1 when kind is lh_test" },
    { "biometric.reading", BIO("bogus", "1"), "kind", "kind must be one of: " KINDS },
    { "biometric.reading", BIO("basal_temp_c", "'36.6'"), "value", "value must be a number" },
    { "biometric.reading", "{'member_id':42,'occurred_at':'2026-11-20T06:10:00Z','value':36.6}", "kind", "kind is required" },
    { "biometric.reading", "{'member_id':42,'occurred_at':'2026-11-20T06:10:00Z','kind':'steps'}", "value", "value is required" },
    { "biometric.reading", "{'member_id':42,'occurred_at':'2026-11-20T06:10Z','kind':'steps','value':1}", "occurred_at", "occurred_at must be an RFC 3339 timestamp like 2026-11-20T08:30:00Z" },
    /* meal.photo_uploaded */
    { "meal.photo_uploaded", PHOTO("'http://photos.example.com/a.jpg'", ""), "image_url", "image_url must be an https:// URL with a host" },
    { "meal.photo_uploaded", PHOTO("'https:///a.jpg'", ""), "image_url", "image_url must be an https:// URL with a host" },
    { "meal.photo_uploaded", PHOTO("'https://'", ""), "image_url", "image_url must be an https:// URL with a host" },
    { "meal.photo_uploaded", PHOTO("'ftp://photos.example.com/a.jpg'", ""), "image_url", "image_url must be an https:// URL with a host" },
    { "meal.photo_uploaded", PHOTO("'photos.example.com/a.jpg'", ""), "image_url", "image_url must be an https:// URL with a host" },
    { "meal.photo_uploaded", PHOTO("'https://photos.example.com/a b.jpg'", ""), "image_url", "image_url must not contain spaces or control characters" },
    { "meal.photo_uploaded", PHOTO("'https://photos.example.com/a\\tb.jpg'", ""), "image_url", "image_url must not contain spaces or control characters" },
    { "meal.photo_uploaded", PHOTO("5", ""), "image_url", "image_url must be a string" },
    { "meal.photo_uploaded", "{'member_id':42,'occurred_at':'2026-11-20T19:05:00Z'}", "image_url", "image_url is required" },
    { "meal.photo_uploaded", PHOTO("'https://a.example/x.jpg'", ",'program_id':0"), "program_id", "program_id must be at least 1" },
    { "meal.photo_uploaded", PHOTO("'https://a.example/x.jpg'", ",'meal':'brunch'"), "meal", "meal must be one of: " MEALS },
    { "meal.photo_uploaded", PHOTO("'https://a.example/x.jpg'", ",'caption':7"), "caption", "caption must be a string" },
};
#define N_BAD (sizeof BAD / sizeof BAD[0])

START_TEST(test_bad_json)
{
    json_t *obj = load_json(BAD[_i].json);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    struct hf_err err = { 0 };
    int rc = encode_obj(BAD[_i].schema, obj, &buf, &err);
    json_decref(obj);
    msgpack_sbuffer_destroy(&buf);
    ck_assert_msg(rc == HF_EINVAL, "%s %s: rc %d", BAD[_i].schema, BAD[_i].json, rc);
    ck_assert_int_eq(err.code, HF_EINVAL);
    ck_assert(!err.retriable);
    ck_assert_msg(strcmp(err.field, BAD[_i].field) == 0, "%s: field \"%s\", expected \"%s\"", BAD[_i].json, err.field,
                  BAD[_i].field);
    ck_assert_msg(strcmp(err.msg, BAD[_i].msg) == 0, "%s: message \"%s\", expected \"%s\"", BAD[_i].json, err.msg,
                  BAD[_i].msg);
}
END_TEST

/* The positive twins of the table, close to its edges. */
static const struct {
    const char *schema, *json;
} GOOD[] = {
    { "log.nutrition", NUT("") },
    { "log.nutrition", "{'member_id':42,'occurred_at':'2026-11-20T12:30:00Z','calories':0}" },
    { "log.nutrition", "{'member_id':1,'occurred_at':'2026-11-20T12:30:00Z','calories':10000}" },
    { "log.nutrition", NUT(",'program_id':null,'meal':null") },
    { "log.nutrition", NUT(",'items':[{'name':'a','grams':5000},{'name':'b'}]") },
    { "log.nutrition", NUT(",'items':[]") },
    { "log.nutrition", NUT(",'meal':'drink','fiber_g':500,'water_ml':0.5") },
    { "log.symptom", SYM("{}", "") },
    { "log.symptom", SYM("{'bloating':0,'sleep_quality':5}", ",'ingredients':[],'cycle_phase':'menstrual'") },
    { "biometric.reading", BIO("basal_temp_c", "34") },
    { "biometric.reading", BIO("basal_temp_c", "42") },
    { "biometric.reading", BIO("steps", "340") },
    { "biometric.reading", BIO("steps", "200000") },
    { "meal.photo_uploaded", PHOTO("'https://a.example/x.jpg'", ",'meal':'snack','caption':''") },
    { "meal.photo_uploaded", PHOTO("'https://a'", "") },
};

START_TEST(test_good_json)
{
    struct hf_err err = { 0 };
    int rc = roundtrip_text(GOOD[_i].schema, GOOD[_i].json, &err);
    ck_assert_msg(rc == 0, "%s %s: %s (field %s)", GOOD[_i].schema, GOOD[_i].json, err.msg, err.field);
    ck_assert_str_eq(hf_doc_event_id(doc), EVENT_ID);
}
END_TEST

START_TEST(test_null_is_absent)
{
    struct hf_err err = { 0 };
    ck_assert_int_eq(roundtrip_text("log.nutrition", NUT(",'program_id':null,'meal':null"), &err), 0);
    ck_assert_ptr_null(hf_doc_get(doc, "program_id"));
    ck_assert_ptr_null(hf_doc_get(doc, "meal"));
    /* event_id, member_id, occurred_at, calories: nulls are not packed */
    ck_assert_uint_eq(hf_doc_get(doc, "calories") ? 1 : 0, 1);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    json_t *obj = load_json(NUT(",'program_id':null"));
    ck_assert_int_eq(encode_obj("log.nutrition", obj, &buf, &err), 0);
    json_decref(obj);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 1024);
    msgpack_object root;
    size_t off = 0;
    ck_assert_int_eq(msgpack_unpack(buf.data, buf.size, &off, &zone, &root), MSGPACK_UNPACK_SUCCESS);
    ck_assert_uint_eq(root.via.map.size, 4);
    msgpack_zone_destroy(&zone);
    msgpack_sbuffer_destroy(&buf);
}
END_TEST

static json_t *nutrition_with_items(size_t n, const char *name)
{
    json_t *obj = load_json(NUT(""));
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:i}", "name", name, "grams", 10));
    json_object_set_new(obj, "items", items);
    return obj;
}

START_TEST(test_too_many_items)
{
    struct hf_err err = { 0 };
    json_t *obj = nutrition_with_items(50, "rice");
    ck_assert_msg(roundtrip_json("log.nutrition", obj, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(hf_doc_get(doc, "items")->via.array.size, 50);
    json_decref(obj);

    obj = nutrition_with_items(51, "rice");
    ck_assert_int_eq(roundtrip_json("log.nutrition", obj, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "items");
    ck_assert_str_eq(err.msg, "items has more than 50 items");
    json_decref(obj);

    obj = load_json(SYM("{}", ""));
    json_t *ingr = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(ingr, json_string("oats"));
    json_object_set(obj, "ingredients", ingr);
    ck_assert_msg(roundtrip_json("log.symptom", obj, &err) == 0, "%s", err.msg);
    json_array_append_new(ingr, json_string("milk"));
    ck_assert_int_eq(roundtrip_json("log.symptom", obj, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "ingredients");
    ck_assert_str_eq(err.msg, "ingredients has more than 100 items");
    json_decref(ingr);
    json_decref(obj);
}
END_TEST

static char *repeat(const char *unit, size_t n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * n + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

/* maxLength counts characters, not bytes. */
static int item_name(const char *unit, size_t n, struct hf_err *err)
{
    char *name = repeat(unit, n);
    json_t *obj = nutrition_with_items(1, name);
    free(name);
    hf_err_clear(err);
    int rc = roundtrip_json("log.nutrition", obj, err);
    json_decref(obj);
    return rc;
}

START_TEST(test_string_length_in_characters)
{
    struct hf_err err = { 0 };
    ck_assert_msg(item_name("a", 120, &err) == 0, "%s", err.msg);
    ck_assert_msg(item_name("\xc3\xa9", 120, &err) == 0, "120 x e-acute (240 bytes): %s", err.msg);
    ck_assert_msg(item_name("\xe2\x82\xac", 120, &err) == 0, "120 x euro sign (360 bytes): %s", err.msg);
    ck_assert_msg(item_name("\xf0\x9f\x8d\x9a", 120, &err) == 0, "120 x rice emoji (480 bytes): %s", err.msg);
    ck_assert_uint_eq(mp_get(&hf_doc_get(doc, "items")->via.array.ptr[0], "name")->via.str.size, 480);

    ck_assert_int_eq(item_name("a", 121, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "items[0].name");
    ck_assert_str_eq(err.msg, "items[0].name is longer than 120 characters");
    ck_assert_int_eq(item_name("\xc3\xa9", 121, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "items[0].name");
    ck_assert_int_eq(item_name("\xf0\x9f\x8d\x9a", 121, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "items[0].name");

    /* caption: 500; biometric source: 64 */
    char *caption = repeat("\xc3\xa9", 500);
    json_t *obj = load_json(PHOTO("'https://a.example/x.jpg'", ""));
    json_object_set_new(obj, "caption", json_string(caption));
    ck_assert_msg(roundtrip_json("meal.photo_uploaded", obj, &err) == 0, "%s", err.msg);
    free(caption);
    caption = repeat("x", 501);
    json_object_set_new(obj, "caption", json_string(caption));
    ck_assert_int_eq(roundtrip_json("meal.photo_uploaded", obj, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "caption");
    ck_assert_str_eq(err.msg, "caption is longer than 500 characters");
    free(caption);
    json_decref(obj);

    char *source = repeat("s", 65);
    obj = load_json(BIO("steps", "10"));
    json_object_set_new(obj, "source", json_string(source));
    ck_assert_int_eq(roundtrip_json("biometric.reading", obj, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "source");
    ck_assert_str_eq(err.msg, "source is longer than 64 characters");
    source[64] = '\0';
    json_object_set_new(obj, "source", json_string(source));
    ck_assert_msg(roundtrip_json("biometric.reading", obj, &err) == 0, "%s", err.msg);
    free(source);
    json_decref(obj);
}
END_TEST

START_TEST(test_json_string_with_nul)
{
    /* jansson can hold a NUL inside a string (json_stringn): it must not pass. */
    json_t *obj = load_json(PHOTO("'https://a.example/x.jpg'", ""));
    json_object_set_new(obj, "caption", json_stringn("ab\0cd", 5));
    struct hf_err err = { 0 };
    ck_assert_int_eq(roundtrip_json("meal.photo_uploaded", obj, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "caption");
    ck_assert_str_eq(err.msg, "caption contains a NUL character");
    json_decref(obj);
}
END_TEST

START_TEST(test_encode_envelope_and_output)
{
    struct hf_err err = { 0 };
    json_t *obj = load_json(NUT(",'type':'log.nutrition'"));
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);

    /* without a skip list the envelope is an unknown field */
    ck_assert_int_eq(hf_codec_encode_json(S("log.nutrition"), obj, NULL, EVENT_ID, &buf, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "type");
    ck_assert_str_eq(err.msg, "type is not a field of this event type");

    /* out is appended to: what was there stays, the event follows it */
    msgpack_sbuffer_clear(&buf);
    msgpack_sbuffer_write(&buf, "\x01\x02\x03", 3);
    ck_assert_int_eq(hf_codec_encode_json(S("log.nutrition"), obj, SKIP, EVENT_ID, &buf, &err), 0);
    ck_assert_int_eq(memcmp(buf.data, "\x01\x02\x03", 3), 0);
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), buf.data + 3, buf.size - 3, &err), 0);
    ck_assert_str_eq(hf_doc_event_id(doc), EVENT_ID);
    ck_assert_mp_num(hf_doc_get(doc, "calories"), 640);

    /* no event_id given: none on the wire */
    msgpack_sbuffer_clear(&buf);
    ck_assert_int_eq(hf_codec_encode_json(S("log.nutrition"), obj, SKIP, NULL, &buf, &err), 0);
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), buf.data, buf.size, &err), 0);
    ck_assert_ptr_null(hf_doc_event_id(doc));
    ck_assert_ptr_null(hf_doc_get(doc, "event_id"));

    msgpack_sbuffer_destroy(&buf);
    json_decref(obj);
}
END_TEST

/* ------------------------------------------------ hand-built msgpack values */

static void pk_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A log.nutrition map of member_id, occurred_at, event_id, then `extra`
 * more pairs the caller packs (calories among them, unless testing it). */
static void pk_nutrition_head(msgpack_packer *pk, uint32_t extra)
{
    msgpack_pack_map(pk, 3 + extra);
    pk_str(pk, "event_id");
    pk_str(pk, EVENT_ID);
    pk_str(pk, "member_id");
    msgpack_pack_int64(pk, 42);
    pk_str(pk, "occurred_at");
    msgpack_pack_int64(pk, INT64_C(1795177800000000));
}

static void pk_photo_head(msgpack_packer *pk, uint32_t extra)
{
    msgpack_pack_map(pk, 3 + extra);
    pk_str(pk, "member_id");
    msgpack_pack_int64(pk, 42);
    pk_str(pk, "occurred_at");
    msgpack_pack_int64(pk, INT64_C(1795201500000000));
    pk_str(pk, "image_url");
    pk_str(pk, "https://a.example/x.jpg");
}

struct wire {
    msgpack_sbuffer buf;
    msgpack_packer pk;
};

static void wire_init(struct wire *w)
{
    msgpack_sbuffer_init(&w->buf);
    msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
}

static int wire_decode(struct wire *w, const char *schema, struct hf_err *err)
{
    hf_err_clear(err);
    int rc = hf_codec_decode(doc, S(schema), w->buf.data, w->buf.size, err);
    hold(&w->buf);
    return rc;
}

#define ck_assert_err(rc, err, want_field, want_msg)                                                              \
    do {                                                                                                          \
        ck_assert_int_eq((rc), HF_EINVAL);                                                                        \
        ck_assert_int_eq((err).code, HF_EINVAL);                                                                  \
        ck_assert_str_eq((err).field, (want_field));                                                              \
        ck_assert_str_eq((err).msg, (want_msg));                                                                  \
    } while (0)

START_TEST(test_wire_nan_and_infinity)
{
    const double bad[] = { NAN, INFINITY, -INFINITY };
    struct hf_err err;
    for (size_t i = 0; i < 3; i++) {
        struct wire w;
        wire_init(&w);
        pk_nutrition_head(&w.pk, 1);
        pk_str(&w.pk, "calories");
        msgpack_pack_double(&w.pk, bad[i]);
        ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "calories", "calories must be a finite number");

        wire_init(&w); /* float32 NaN too */
        pk_nutrition_head(&w.pk, 1);
        pk_str(&w.pk, "calories");
        msgpack_pack_float(&w.pk, (float)bad[i]);
        ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "calories", "calories must be a finite number");
    }

    struct wire w; /* nested */
    wire_init(&w);
    pk_nutrition_head(&w.pk, 2);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    pk_str(&w.pk, "items");
    msgpack_pack_array(&w.pk, 2);
    msgpack_pack_map(&w.pk, 1);
    pk_str(&w.pk, "name");
    pk_str(&w.pk, "a");
    msgpack_pack_map(&w.pk, 2);
    pk_str(&w.pk, "name");
    pk_str(&w.pk, "b");
    pk_str(&w.pk, "grams");
    msgpack_pack_double(&w.pk, NAN);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "items[1].grams", "items[1].grams must be a finite number");

    wire_init(&w); /* a NaN cannot slip through a per-kind range either */
    msgpack_pack_map(&w.pk, 4);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "kind");
    pk_str(&w.pk, "basal_temp_c");
    pk_str(&w.pk, "value");
    msgpack_pack_double(&w.pk, NAN);
    ck_assert_err(wire_decode(&w, "biometric.reading", &err), err, "value", "value must be a finite number");
}
END_TEST

START_TEST(test_wire_string_with_nul)
{
    struct hf_err err;
    struct wire w;
    wire_init(&w);
    pk_photo_head(&w.pk, 1);
    pk_str(&w.pk, "caption");
    msgpack_pack_str_with_body(&w.pk, "ab\0cd", 5);
    ck_assert_err(wire_decode(&w, "meal.photo_uploaded", &err), err, "caption", "caption contains a NUL character");

    wire_init(&w); /* an enum value followed by a NUL is not that value */
    pk_photo_head(&w.pk, 1);
    pk_str(&w.pk, "meal");
    msgpack_pack_str_with_body(&w.pk, "lunch\0", 6);
    ck_assert_err(wire_decode(&w, "meal.photo_uploaded", &err), err, "meal", "meal contains a NUL character");

    wire_init(&w);
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "image_url");
    msgpack_pack_str_with_body(&w.pk, "https://a.example/\0x", 20);
    ck_assert_err(wire_decode(&w, "meal.photo_uploaded", &err), err, "image_url", "image_url contains a NUL character");
}
END_TEST

/* A string of UTF-8 continuation bytes counts as 0 characters, so today it
 * passes any maxLength whatever its size: a 600-byte caption (maxLength 500)
 * of 0x80 bytes is accepted. Invalid UTF-8 must be rejected (and with it the
 * bypass). See the report: common/hf_codec.c, utf8_chars/validate_string. */
START_TEST(test_wire_invalid_utf8_rejected)
{
    struct hf_err err;
    char bytes[600];
    memset(bytes, 0x80, sizeof bytes);
    struct wire w;
    wire_init(&w);
    pk_photo_head(&w.pk, 1);
    pk_str(&w.pk, "caption");
    msgpack_pack_str_with_body(&w.pk, bytes, sizeof bytes);
    int rc = wire_decode(&w, "meal.photo_uploaded", &err);
    ck_assert_msg(rc == HF_EINVAL, "600 bytes of 0x80 as a caption (maxLength 500) were accepted");
    ck_assert_str_eq(err.field, "caption");
}
END_TEST

START_TEST(test_wire_types)
{
    struct hf_err err;
    struct wire w;

    wire_init(&w); /* timestamp as text on the wire */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    pk_str(&w.pk, "2026-11-20T12:30:00Z");
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "occurred_at",
                  "occurred_at must be a timestamp (int64 microseconds)");

    /* Years past 9999 or before 1900 would be stored as text no parser reads back (tests/fuzz). */
    const struct {
        int64_t us;
        bool ok;
    } bounds[] = { { HF_TIME_MAX_US, true },     { HF_TIME_MIN_US, true }, { HF_TIME_MAX_US + 1, false },
                   { HF_TIME_MIN_US - 1, false }, { INT64_MAX, false },    { INT64_MIN, false } };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        wire_init(&w);
        msgpack_pack_map(&w.pk, 3);
        pk_str(&w.pk, "member_id");
        msgpack_pack_int64(&w.pk, 42);
        pk_str(&w.pk, "occurred_at");
        msgpack_pack_int64(&w.pk, bounds[i].us);
        pk_str(&w.pk, "calories");
        msgpack_pack_double(&w.pk, 1);
        if (bounds[i].ok)
            ck_assert_int_eq(wire_decode(&w, "log.nutrition", &err), 0);
        else
            ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "occurred_at",
                          "occurred_at is outside years 1900 to 9999");
    }

    wire_init(&w); /* timestamp as float */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_double(&w.pk, 1795177800000000.0);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "occurred_at",
                  "occurred_at must be a timestamp (int64 microseconds)");

    wire_init(&w); /* integer as float */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_double(&w.pk, 42.0);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "member_id", "member_id must be a whole number");

    wire_init(&w); /* integer past int64 */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_uint64(&w.pk, UINT64_MAX);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "member_id", "member_id is too large");

    wire_init(&w); /* negative integer below the minimum */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, -5);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "member_id", "member_id must be at least 1");

    wire_init(&w); /* boolean for a number */
    pk_nutrition_head(&w.pk, 1);
    pk_str(&w.pk, "calories");
    msgpack_pack_true(&w.pk);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "calories", "calories must be a finite number");

    wire_init(&w); /* nil is absent: a required field */
    pk_nutrition_head(&w.pk, 1);
    pk_str(&w.pk, "calories");
    msgpack_pack_nil(&w.pk);
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "calories", "calories is required");

    wire_init(&w); /* array for an object */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "symptoms");
    msgpack_pack_array(&w.pk, 0);
    ck_assert_err(wire_decode(&w, "log.symptom", &err), err, "symptoms", "symptoms must be an object");

    wire_init(&w); /* a day that does not exist */
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "start_date");
    pk_str(&w.pk, "2026-02-30");
    ck_assert_err(wire_decode(&w, "cycle.period", &err), err, "start_date",
                  "start_date must be a calendar date like 2026-11-20");

    char long_date[80];
    memset(long_date, '1', sizeof long_date - 1);
    long_date[sizeof long_date - 1] = '\0';
    wire_init(&w);
    msgpack_pack_map(&w.pk, 3);
    pk_str(&w.pk, "member_id");
    msgpack_pack_int64(&w.pk, 42);
    pk_str(&w.pk, "occurred_at");
    msgpack_pack_int64(&w.pk, 1);
    pk_str(&w.pk, "start_date");
    pk_str(&w.pk, long_date);
    ck_assert_err(wire_decode(&w, "cycle.period", &err), err, "start_date",
                  "start_date must be a calendar date like 2026-11-20");

    wire_init(&w); /* too many items, built past the JSON side's early check */
    pk_nutrition_head(&w.pk, 2);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 1);
    pk_str(&w.pk, "items");
    msgpack_pack_array(&w.pk, 51);
    for (int i = 0; i < 51; i++) {
        msgpack_pack_map(&w.pk, 1);
        pk_str(&w.pk, "name");
        pk_str(&w.pk, "x");
    }
    ck_assert_err(wire_decode(&w, "log.nutrition", &err), err, "items", "items has more than 50 items");

    wire_init(&w); /* integers are accepted for numbers; float32 too */
    pk_nutrition_head(&w.pk, 2);
    pk_str(&w.pk, "calories");
    msgpack_pack_int64(&w.pk, 640);
    pk_str(&w.pk, "fiber_g");
    msgpack_pack_float(&w.pk, 2.5f);
    ck_assert_int_eq(wire_decode(&w, "log.nutrition", &err), 0);
    ck_assert_mp_int(hf_doc_get(doc, "calories"), 640);
}
END_TEST

START_TEST(test_wire_unknown_keys_ignored)
{
    struct hf_err err;
    struct wire w;
    wire_init(&w);
    pk_nutrition_head(&w.pk, 5);
    pk_str(&w.pk, "calories");
    msgpack_pack_double(&w.pk, 5);
    pk_str(&w.pk, "future_field");
    msgpack_pack_int64(&w.pk, 1);
    msgpack_pack_int64(&w.pk, 7); /* a key that is not a string */
    pk_str(&w.pk, "seven");
    pk_str(&w.pk, "program_id");
    msgpack_pack_nil(&w.pk); /* optional and nil: absent */
    pk_str(&w.pk, "items");
    msgpack_pack_array(&w.pk, 1);
    msgpack_pack_map(&w.pk, 2);
    pk_str(&w.pk, "name");
    pk_str(&w.pk, "a");
    pk_str(&w.pk, "colour");
    pk_str(&w.pk, "brown");
    ck_assert_msg(wire_decode(&w, "log.nutrition", &err) == 0, "%s", err.msg);
    ck_assert_mp_int(hf_doc_get(doc, "future_field"), 1);
    ck_assert_ptr_null(hf_doc_get(doc, "program_id"));
    ck_assert_mp_num(hf_doc_get(doc, "calories"), 5);

    /* hf_doc_to_json keeps only the schema's fields */
    json_t *j = hf_doc_to_json(doc, S("log.nutrition"));
    ck_assert_ptr_null(json_object_get(j, "future_field"));
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j, "items"), 0), "colour"));
    ck_assert_uint_eq(json_object_size(j), 4);
    json_decref(j);
}
END_TEST

/* ------------------------------------------------------- decoder structure */

static void encode_example(const char *schema, msgpack_sbuffer *buf)
{
    json_t *file = json_loads(S(schema)->source_json, 0, NULL);
    struct hf_err err = { 0 };
    msgpack_sbuffer_init(buf);
    ck_assert_int_eq(encode_obj(schema, json_object_get(file, "example"), buf, &err), 0);
    json_decref(file);
}

START_TEST(test_decode_structure)
{
    const struct hf_schema *s = S("log.nutrition");
    msgpack_sbuffer buf;
    encode_example("log.nutrition", &buf);
    struct hf_err err;

    hf_err_clear(&err);
    ck_assert_int_eq(hf_codec_decode(doc, s, buf.data, buf.size, &err), 0);
    ck_assert_int_eq(err.code, 0);

    ck_assert_err(hf_codec_decode(doc, s, buf.data, buf.size - 1, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    ck_assert_ptr_null(hf_doc_get(doc, "member_id"));
    ck_assert_ptr_null(hf_doc_event_id(doc));
    ck_assert_err(hf_codec_decode(doc, s, buf.data, 1, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");

    msgpack_sbuffer_write(&buf, "\xc0", 1);
    ck_assert_err(hf_codec_decode(doc, s, buf.data, buf.size, &err), err, "",
                  "value is not a complete msgpack document (trailing bytes)");
    ck_assert_ptr_null(hf_doc_get(doc, "member_id"));

    ck_assert_err(hf_codec_decode(doc, s, buf.data, 0, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    ck_assert_err(hf_codec_decode(doc, s, "\xc1", 1, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    /* Counts larger than the bytes left: refused before msgpack-c would
     * allocate for them (a map32 of 4 billion pairs is 64 GiB; tests/fuzz). */
    ck_assert_err(hf_codec_decode(doc, s, "\xdf\xff\xff\xff\xff\x01\x02", 7, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    ck_assert_err(hf_codec_decode(doc, s, "\x81\xdd\x40\x00\x00\x00\xc0", 7, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    ck_assert_err(hf_codec_decode(doc, s, "\xdb\x7f\xff\xff\xff" "ab", 7, &err), err, "",
                  "value is not a complete msgpack document (malformed or truncated)");
    ck_assert_err(hf_codec_decode(doc, s, "\x92\x01\x02", 3, &err), err, "", "value must be a msgpack map");
    ck_assert_ptr_null(hf_doc_get(doc, "member_id"));
    ck_assert_err(hf_codec_decode(doc, s, "\x01", 1, &err), err, "", "value must be a msgpack map");
    ck_assert_err(hf_codec_decode(doc, s, "\xa1x", 2, &err), err, "", "value must be a msgpack map");
    ck_assert_err(hf_codec_decode(doc, s, "\x80", 1, &err), err, "member_id", "member_id is required");

    /* and the doc still works afterwards */
    ck_assert_int_eq(hf_codec_decode(doc, s, buf.data, buf.size - 1, &err), 0);
    ck_assert_mp_int(hf_doc_get(doc, "member_id"), 42);
    msgpack_sbuffer_destroy(&buf);

    /* hf_codec_validate on its own */
    msgpack_object notmap = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 1 };
    ck_assert_err(hf_codec_validate(s, &notmap, &err), err, "", "the event must be an object");
    ck_assert_int_eq(hf_codec_validate(s, &notmap, NULL), HF_EINVAL);
}
END_TEST

static int decode_with_event_id(struct wire *w, const void *id, size_t idlen, bool id_is_int)
{
    struct hf_err err;
    msgpack_pack_map(&w->pk, 4);
    pk_str(&w->pk, "event_id");
    if (id_is_int)
        msgpack_pack_int64(&w->pk, 5);
    else
        msgpack_pack_str_with_body(&w->pk, id, idlen);
    pk_str(&w->pk, "member_id");
    msgpack_pack_int64(&w->pk, 42);
    pk_str(&w->pk, "occurred_at");
    msgpack_pack_int64(&w->pk, 1);
    pk_str(&w->pk, "calories");
    msgpack_pack_double(&w->pk, 1);
    return wire_decode(w, "log.nutrition", &err);
}

START_TEST(test_event_id)
{
    struct wire w;
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, "not-a-uuid", 10, false), 0);
    ck_assert_ptr_null(hf_doc_event_id(doc));
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6g", 36, false), 0);
    ck_assert_ptr_null(hf_doc_event_id(doc));
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f0", 37, false), 0);
    ck_assert_ptr_null(hf_doc_event_id(doc));
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, NULL, 0, true), 0);
    ck_assert_ptr_null(hf_doc_event_id(doc));
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, "3F2B8C1E-5D4A-4E8B-9C7D-1A2B3C4D5E6F", 36, false), 0);
    ck_assert_str_eq(hf_doc_event_id(doc), "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f"); /* normalised */
    wire_init(&w);
    ck_assert_int_eq(decode_with_event_id(&w, EVENT_ID, 36, false), 0);
    ck_assert_str_eq(hf_doc_event_id(doc), EVENT_ID);
}
END_TEST

static void nutrition_bytes(msgpack_sbuffer *buf, int64_t member, bool with_program, const char *meal,
                            const char *event_id)
{
    msgpack_sbuffer_init(buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4 + (with_program ? 1 : 0) + (meal ? 1 : 0));
    pk_str(&pk, "event_id");
    pk_str(&pk, event_id);
    pk_str(&pk, "member_id");
    msgpack_pack_int64(&pk, member);
    pk_str(&pk, "occurred_at");
    msgpack_pack_int64(&pk, INT64_C(1795177800000000));
    pk_str(&pk, "calories");
    msgpack_pack_double(&pk, 100.5);
    if (with_program) {
        pk_str(&pk, "program_id");
        msgpack_pack_int64(&pk, 7);
    }
    if (meal) {
        pk_str(&pk, "meal");
        pk_str(&pk, meal);
    }
}

START_TEST(test_doc_reuse)
{
    const struct hf_schema *s = S("log.nutrition");
    static const char ID_A[] = "11111111-1111-4111-8111-111111111111", ID_B[] = "22222222-2222-4222-8222-222222222222";
    msgpack_sbuffer a, b;
    nutrition_bytes(&a, 1, true, "lunch", ID_A);
    nutrition_bytes(&b, 2, false, NULL, ID_B);
    struct hf_err err = { 0 };
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(hf_codec_decode(doc, s, a.data, a.size, &err), 0);
        ck_assert_mp_int(hf_doc_get(doc, "member_id"), 1);
        ck_assert_mp_int(hf_doc_get(doc, "program_id"), 7);
        ck_assert_mp_str(hf_doc_get(doc, "meal"), "lunch");
        ck_assert_str_eq(hf_doc_event_id(doc), ID_A);
        ck_assert_int_eq(hf_codec_decode(doc, s, b.data, b.size, &err), 0);
        ck_assert_mp_int(hf_doc_get(doc, "member_id"), 2);
        ck_assert_ptr_null(hf_doc_get(doc, "program_id"));
        ck_assert_ptr_null(hf_doc_get(doc, "meal"));
        ck_assert_str_eq(hf_doc_event_id(doc), ID_B);
    }
    /* a failed decode drops the previous message */
    ck_assert_int_eq(hf_codec_decode(doc, s, "\xc1", 1, &err), HF_EINVAL);
    ck_assert_ptr_null(hf_doc_get(doc, "member_id"));
    ck_assert_ptr_null(hf_doc_event_id(doc));
    ck_assert_int_eq(hf_codec_decode(doc, s, a.data, a.size, &err), 0);
    ck_assert_mp_int(hf_doc_get(doc, "member_id"), 1);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}
END_TEST

/* "Pointers from doc stay valid until the next decode": the doc owns the
 * message, not the caller's input buffer (a Kafka payload the caller may
 * release). Today msgpack strings point into the input, so overwriting the
 * input after decoding changes what the doc says. See the report. */
START_TEST(test_doc_owns_its_strings)
{
    const struct hf_schema *s = S("log.nutrition");
    msgpack_sbuffer a;
    nutrition_bytes(&a, 1, true, "lunch", EVENT_ID);
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_codec_decode(doc, s, a.data, a.size, &err), 0);
    memset(a.data, 'X', a.size); /* the caller reuses its buffer (or frees it) */
    bool id_ok = hf_doc_event_id(doc) && strcmp(hf_doc_event_id(doc), EVENT_ID) == 0; /* copied today */
    const msgpack_object *member = hf_doc_get(doc, "member_id");
    const msgpack_object *meal = hf_doc_get(doc, "meal");
    bool meal_ok = meal && meal->type == MSGPACK_OBJECT_STR && meal->via.str.size == 5 &&
                   memcmp(meal->via.str.ptr, "lunch", 5) == 0;
    msgpack_sbuffer_destroy(&a);
    ck_assert(id_ok);
    ck_assert_msg(member != NULL, "after the caller overwrote its input buffer, hf_doc_get(doc, \"member_id\") "
                                  "finds nothing: the doc's map keys point into the input");
    ck_assert_msg(meal_ok, "after the caller overwrote its input buffer, meal is no longer \"lunch\": the doc's "
                           "strings point into the input");
}
END_TEST

/* -------------------------------------------------------------- binding */

struct nut {
    int64_t member_id;
    int64_t program_id;
    bool has_program;
    int64_t occurred_at;
    double calories;
    const char *meal;
    bool has_meal;
    const msgpack_object *items;
    bool has_items;
    double fiber_g;
    bool has_fiber;
};

static const struct hf_bind NUT_BIND[] = {
    HF_BIND(struct nut, member_id, HF_B_INT),
    HF_BIND_OPT(struct nut, program_id, HF_B_INT, has_program),
    HF_BIND(struct nut, occurred_at, HF_B_TIMESTAMP),
    HF_BIND(struct nut, calories, HF_B_NUM),
    HF_BIND_OPT(struct nut, meal, HF_B_STR, has_meal),
    HF_BIND_OPT(struct nut, items, HF_B_RAW, has_items),
    HF_BIND_OPT(struct nut, fiber_g, HF_B_NUM, has_fiber),
};
#define N_NUT_BIND (sizeof NUT_BIND / sizeof NUT_BIND[0])

START_TEST(test_bind_all_present)
{
    struct hf_err err = { 0 };
    ck_assert_msg(hf_bind_check(S("log.nutrition"), NUT_BIND, N_NUT_BIND, &err) == 0, "%s", err.msg);
    json_t *ex = example_into_doc(S("log.nutrition"));
    json_decref(ex);
    struct nut n;
    memset(&n, 0, sizeof n);
    ck_assert_msg(hf_doc_bind(doc, NUT_BIND, N_NUT_BIND, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n.member_id, 42);
    ck_assert(n.has_program);
    ck_assert_int_eq(n.program_id, 7);
    ck_assert_int_eq(n.occurred_at, INT64_C(1795177800000000));
    ck_assert_double_eq(n.calories, 640.0);
    ck_assert(n.has_meal);
    ck_assert_str_eq(n.meal, "lunch");
    ck_assert(n.has_items);
    ck_assert_int_eq(n.items->type, MSGPACK_OBJECT_ARRAY);
    ck_assert_uint_eq(n.items->via.array.size, 2);
    ck_assert(n.has_fiber);
    ck_assert_double_eq(n.fiber_g, 9.0);
}
END_TEST

START_TEST(test_bind_optional_absent)
{
    msgpack_sbuffer b;
    nutrition_bytes(&b, 2, false, NULL, EVENT_ID);
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), b.data, b.size, &err), 0);
    hold(&b);
    struct nut n;
    memset(&n, 0, sizeof n);
    n.has_program = n.has_meal = n.has_items = n.has_fiber = true; /* must be cleared */
    ck_assert_msg(hf_doc_bind(doc, NUT_BIND, N_NUT_BIND, &n, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(n.member_id, 2);
    ck_assert_double_eq(n.calories, 100.5);
    ck_assert(!n.has_program && !n.has_meal && !n.has_items && !n.has_fiber);
    ck_assert_int_eq(n.program_id, 0);
    ck_assert_ptr_null(n.meal);
    ck_assert_ptr_null(n.items);
    ck_assert_double_eq(n.fiber_g, 0);

    /* integers bind as numbers too */
    static const struct hf_bind as_num[] = { { "member_id", HF_B_NUM, offsetof(struct nut, calories), -1 } };
    ck_assert_int_eq(hf_bind_check(S("log.nutrition"), as_num, 1, &err), 0);
    ck_assert_int_eq(hf_doc_bind(doc, as_num, 1, &n, &err), 0);
    ck_assert_double_eq(n.calories, 2.0);
}
END_TEST

/* A worker binds every message into the same struct. "Absent optional
 * fields leave their member zeroed": a value of the previous message must not
 * remain. Today only the flag is reset. See the report. */
START_TEST(test_bind_reused_struct_zeroes_absent)
{
    struct hf_err err = { 0 };
    struct nut n;
    memset(&n, 0, sizeof n);
    msgpack_sbuffer a, b;
    nutrition_bytes(&a, 1, true, "lunch", EVENT_ID);
    nutrition_bytes(&b, 2, false, NULL, EVENT_ID);
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), a.data, a.size, &err), 0);
    ck_assert_int_eq(hf_doc_bind(doc, NUT_BIND, N_NUT_BIND, &n, &err), 0);
    ck_assert_int_eq(n.program_id, 7);
    ck_assert_ptr_nonnull(n.meal);
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), b.data, b.size, &err), 0);
    ck_assert_int_eq(hf_doc_bind(doc, NUT_BIND, N_NUT_BIND, &n, &err), 0);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    ck_assert(!n.has_program && !n.has_meal);
    ck_assert_msg(n.program_id == 0, "program_id of the previous message remained: %lld", (long long)n.program_id);
    ck_assert_msg(n.meal == NULL, "meal of the previous message remained (a pointer into a dropped decode)");
}
END_TEST

START_TEST(test_bind_dates_and_strings)
{
    struct period {
        int64_t member_id;
        int64_t occurred_at;
        int32_t start;
        int32_t end;
        bool has_end;
        const char *start_text;
        const char *flow;
        bool has_flow;
    };
    static const struct hf_bind bind[] = {
        HF_BIND(struct period, member_id, HF_B_INT),
        HF_BIND(struct period, occurred_at, HF_B_TIMESTAMP),
        { "start_date", HF_B_DATE, offsetof(struct period, start), -1 },
        { "end_date", HF_B_DATE, offsetof(struct period, end), (long)offsetof(struct period, has_end) },
        { "start_date", HF_B_STR, offsetof(struct period, start_text), -1 },
        HF_BIND_OPT(struct period, flow, HF_B_STR, has_flow),
    };
    struct hf_err err = { 0 };
    ck_assert_msg(hf_bind_check(S("cycle.period"), bind, 6, &err) == 0, "%s", err.msg);
    msgpack_sbuffer buf;
    encode_example("cycle.period", &buf);
    char *copy = malloc(buf.size);
    memcpy(copy, buf.data, buf.size);
    ck_assert_int_eq(hf_codec_decode(doc, S("cycle.period"), copy, buf.size, &err), 0);
    struct period p;
    memset(&p, 0, sizeof p);
    ck_assert_msg(hf_doc_bind(doc, bind, 6, &p, &err) == 0, "%s", err.msg);
    memset(copy, 'X', buf.size); /* bound strings are the doc's own copies */
    free(copy);
    msgpack_sbuffer_destroy(&buf);
    ck_assert_int_eq(p.member_id, 42);
    ck_assert_int_eq(p.occurred_at, INT64_C(1793692800000000));
    ck_assert_int_eq(p.start, 20760);
    ck_assert(p.has_end);
    ck_assert_int_eq(p.end, 20764);
    ck_assert_str_eq(p.start_text, "2026-11-03");
    ck_assert(p.has_flow);
    ck_assert_str_eq(p.flow, "medium");
}
END_TEST

START_TEST(test_bind_errors)
{
    struct hf_err err = { 0 };
    json_t *ex = example_into_doc(S("log.nutrition"));
    json_decref(ex);
    struct nut n;
    memset(&n, 0, sizeof n);

    static const struct hf_bind str_for_int[] = { { "member_id", HF_B_STR, offsetof(struct nut, meal), -1 } };
    ck_assert_err(hf_doc_bind(doc, str_for_int, 1, &n, &err), err, "member_id", "member_id must be a string");
    static const struct hf_bind int_for_str[] = { { "meal", HF_B_INT, offsetof(struct nut, program_id), -1 } };
    ck_assert_err(hf_doc_bind(doc, int_for_str, 1, &n, &err), err, "meal", "meal must be an integer");
    static const struct hf_bind bool_for_num[] = { { "calories", HF_B_BOOL, offsetof(struct nut, has_meal), -1 } };
    ck_assert_err(hf_doc_bind(doc, bool_for_num, 1, &n, &err), err, "calories", "calories must be a boolean");
    static const struct hf_bind num_for_str[] = { { "meal", HF_B_NUM, offsetof(struct nut, fiber_g), -1 } };
    ck_assert_err(hf_doc_bind(doc, num_for_str, 1, &n, &err), err, "meal", "meal must be a number");
    static const struct hf_bind date_for_enum[] = { { "meal", HF_B_DATE, offsetof(struct nut, member_id), -1 } };
    ck_assert_err(hf_doc_bind(doc, date_for_enum, 1, &n, &err), err, "meal", "meal must be a date");

    /* required binding of a field the message lacks */
    msgpack_sbuffer b;
    nutrition_bytes(&b, 2, false, NULL, EVENT_ID);
    ck_assert_int_eq(hf_codec_decode(doc, S("log.nutrition"), b.data, b.size, &err), 0);
    hold(&b);
    static const struct hf_bind req_prog[] = { HF_BIND(struct nut, program_id, HF_B_INT) };
    ck_assert_err(hf_doc_bind(doc, req_prog, 1, &n, &err), err, "program_id", "program_id is required");
}
END_TEST

START_TEST(test_bind_check)
{
    const struct hf_schema *s = S("log.nutrition");
    struct hf_err err;
#define CHECK_CONFLICT(b, want)                                                          \
    do {                                                                                 \
        hf_err_clear(&err);                                                              \
        ck_assert_int_eq(hf_bind_check(s, b, sizeof b / sizeof b[0], &err), HF_ECONFLICT); \
        ck_assert_int_eq(err.code, HF_ECONFLICT);                                        \
        ck_assert_str_eq(err.msg, want);                                                 \
    } while (0)

    static const struct hf_bind wrong_type[] = { { "member_id", HF_B_STR, 0, -1 } };
    CHECK_CONFLICT(wrong_type, "log.nutrition v1: member_id is integer, bound as another type");
    static const struct hf_bind num_as_int[] = { { "calories", HF_B_INT, 0, -1 } };
    CHECK_CONFLICT(num_as_int, "log.nutrition v1: calories is number, bound as another type");
    static const struct hf_bind ts_as_int[] = { { "occurred_at", HF_B_INT, 0, -1 } };
    CHECK_CONFLICT(ts_as_int, "log.nutrition v1: occurred_at is timestamp, bound as another type");
    static const struct hf_bind ts_as_date[] = { { "occurred_at", HF_B_DATE, 0, -1 } };
    CHECK_CONFLICT(ts_as_date, "log.nutrition v1: occurred_at is timestamp, bound as another type");
    static const struct hf_bind arr_as_str[] = { { "items", HF_B_STR, 0, 8 } };
    CHECK_CONFLICT(arr_as_str, "log.nutrition v1: items is array, bound as another type");
    static const struct hf_bind enum_as_raw[] = { { "meal", HF_B_RAW, 0, 8 } };
    CHECK_CONFLICT(enum_as_raw, "log.nutrition v1: meal is enum, bound as another type");
    static const struct hf_bind unknown[] = { { "member_id", HF_B_INT, 0, -1 }, { "calroies", HF_B_NUM, 0, -1 } };
    CHECK_CONFLICT(unknown, "log.nutrition v1 has no field calroies");
    static const struct hf_bind nested[] = { { "items.name", HF_B_STR, 0, 8 } };
    CHECK_CONFLICT(nested, "log.nutrition v1 has no field items.name");
    static const struct hf_bind opt_as_req[] = { { "program_id", HF_B_INT, 0, -1 } };
    CHECK_CONFLICT(opt_as_req, "log.nutrition v1: program_id is optional but bound as required");
    static const struct hf_bind meal_as_req[] = { { "meal", HF_B_STR, 0, -1 } };
    CHECK_CONFLICT(meal_as_req, "log.nutrition v1: meal is optional but bound as required");

    /* allowed: required field bound as optional; strings for enums, urls, dates */
    static const struct hf_bind ok[] = { { "member_id", HF_B_INT, 0, 8 }, { "meal", HF_B_STR, 0, 8 } };
    ck_assert_int_eq(hf_bind_check(s, ok, 2, NULL), 0);
    static const struct hf_bind url[] = { { "image_url", HF_B_STR, 0, -1 } };
    ck_assert_int_eq(hf_bind_check(S("meal.photo_uploaded"), url, 1, NULL), 0);
    static const struct hf_bind symptoms[] = { { "symptoms", HF_B_RAW, 0, -1 } };
    ck_assert_int_eq(hf_bind_check(S("log.symptom"), symptoms, 1, NULL), 0);
#undef CHECK_CONFLICT
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("examples");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_example_round_trip, 0, 9);
    tcase_add_test(tc, test_example_values);
    tcase_add_test(tc, test_doc_to_json);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_bad_json, 0, (int)N_BAD);
    tcase_add_loop_test(tc, test_good_json, 0, (int)(sizeof GOOD / sizeof GOOD[0]));
    tcase_add_test(tc, test_null_is_absent);
    tcase_add_test(tc, test_too_many_items);
    tcase_add_test(tc, test_string_length_in_characters);
    tcase_add_test(tc, test_json_string_with_nul);
    tcase_add_test(tc, test_encode_envelope_and_output);
    suite_add_tcase(s, tc);

    tc = tcase_create("wire");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_wire_nan_and_infinity);
    tcase_add_test(tc, test_wire_string_with_nul);
    tcase_add_test(tc, test_wire_invalid_utf8_rejected);
    tcase_add_test(tc, test_wire_types);
    tcase_add_test(tc, test_wire_unknown_keys_ignored);
    suite_add_tcase(s, tc);

    tc = tcase_create("decoder");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_decode_structure);
    tcase_add_test(tc, test_event_id);
    tcase_add_test(tc, test_doc_reuse);
    tcase_add_test(tc, test_doc_owns_its_strings);
    suite_add_tcase(s, tc);

    tc = tcase_create("bind");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_bind_all_present);
    tcase_add_test(tc, test_bind_optional_absent);
    tcase_add_test(tc, test_bind_reused_struct_zeroes_absent);
    tcase_add_test(tc, test_bind_dates_and_strings);
    tcase_add_test(tc, test_bind_errors);
    tcase_add_test(tc, test_bind_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(codec_suite());
}
