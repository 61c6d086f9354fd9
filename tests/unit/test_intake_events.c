/* intake_events and the scope rule: what a posted event becomes, and every
 * way it can be refused before anything reaches Kafka. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_time.h"
#include "intake_auth.h"
#include "intake_events.h"
#include "unit_util.h"

static struct hf_config cfg;
static hf_schema_registry *reg;

static void setup(void)
{
    struct hf_err err = { 0 };
    unsetenv("HF_TOPIC_PREFIX");
    ck_assert_int_eq(hf_config_load(&cfg, &err), 0);
    ck_assert_int_eq(hf_schema_registry_new(&reg, &err), 0);
}

static void teardown(void)
{
    hf_schema_registry_free(reg);
}

/* Prepares `text` (occurred_at "NOW" replaced by the current time). */
static int prepare(const char *text, const char *idem, int index, struct intake_record *rec, struct hf_err *err)
{
    char now[40], body[2048];
    hf_time_format_rfc3339(hf_time_now_us(), now, sizeof now);
    const char *at = strstr(text, "NOW");
    if (at)
        snprintf(body, sizeof body, "%.*s%s%s", (int)(at - text), text, now, at + 3);
    else
        snprintf(body, sizeof body, "%s", text);
    hf_jdoc *event;
    ck_assert_int_eq(hf_jdoc_parse(body, strlen(body), &event, err), 0);
    int rc = intake_event_prepare(&cfg, reg, hf_jdoc_root(event), 7, idem, index, rec, err);
    hf_jdoc_free(event);
    return rc;
}

START_TEST(valid_event_becomes_a_record)
{
    struct intake_record rec;
    struct hf_err err = { 0 };
    ck_assert_int_eq(prepare("{\"type\":\"log.nutrition\",\"member_id\":42,\"program_id\":7,"
                             "\"occurred_at\":\"NOW\",\"calories\":500}",
                             NULL, -1, &rec, &err),
                     0);
    ck_assert_str_eq(rec.schema->name, "log.nutrition");
    ck_assert_str_eq(rec.topic, "hf.logs");
    ck_assert_str_eq(rec.key, "42");
    ck_assert_int_eq(rec.member_id, 42);
    ck_assert_int_eq(rec.program_id, 7);
    ck_assert_uint_gt(rec.value.size, 10);
    msgpack_sbuffer_destroy(&rec.value);
}
END_TEST

START_TEST(event_ids_given_derived_or_made)
{
    struct intake_record a, b, c, d;
    struct hf_err err = { 0 };
    const char *ev = "{\"type\":\"log.workout\",\"member_id\":1,\"occurred_at\":\"NOW\",\"activity\":\"yoga\","
                     "\"minutes\":20}";
    ck_assert_int_eq(prepare("{\"type\":\"log.workout\",\"event_id\":\"3F2B8C1E-5D4A-4E8B-9C7D-1A2B3C4D5E6F\","
                             "\"member_id\":1,\"occurred_at\":\"NOW\",\"activity\":\"yoga\",\"minutes\":20}",
                             "ignored-when-id-given", -1, &a, &err),
                     0);
    ck_assert_str_eq(a.event_id, "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f"); /* normalised */
    ck_assert_int_eq(prepare(ev, "retry-key-1", 0, &b, &err), 0);
    ck_assert_int_eq(prepare(ev, "retry-key-1", 0, &c, &err), 0);
    ck_assert_str_eq(b.event_id, c.event_id); /* a retry keeps its id */
    ck_assert_int_eq(prepare(ev, "retry-key-1", 1, &d, &err), 0);
    ck_assert_str_ne(b.event_id, d.event_id); /* another batch position, another id */
    msgpack_sbuffer_destroy(&d.value);
    ck_assert_int_eq(prepare(ev, NULL, -1, &d, &err), 0);
    ck_assert_str_ne(d.event_id, b.event_id);
    ck_assert_int_eq(d.event_id[14], '4'); /* random: version 4 */
    ck_assert_int_eq(b.event_id[14], '5'); /* derived: version 5 */
    msgpack_sbuffer_destroy(&a.value);
    msgpack_sbuffer_destroy(&b.value);
    msgpack_sbuffer_destroy(&c.value);
    msgpack_sbuffer_destroy(&d.value);
}
END_TEST

START_TEST(refusals_name_the_field)
{
    static const struct {
        const char *body;
        int rc;
        const char *field;
    } cases[] = {
        { "[]", HF_EINVAL, "" },
        { "{\"member_id\":1}", HF_EINVAL, "type" },
        { "{\"type\":7}", HF_EINVAL, "type" },
        { "{\"type\":\"log.unknown\"}", HF_EINVAL, "type" },
        { "{\"type\":\"job.adherence_recalc\",\"program_id\":1,\"date\":\"2026-11-20\"}", HF_EDENIED, "type" },
        { "{\"type\":\"cache.invalidate\"}", HF_EDENIED, "type" },
        { "{\"type\":\"log.nutrition\",\"schema_version\":9,\"member_id\":1}", HF_EINVAL, "schema_version" },
        { "{\"type\":\"log.nutrition\",\"schema_version\":\"1\",\"member_id\":1}", HF_EINVAL, "schema_version" },
        /* schemathesis: 2^32 + 1 was narrowed to int and posted as version 1 */
        { "{\"type\":\"log.nutrition\",\"schema_version\":4294967297,\"member_id\":1}", HF_EINVAL, "schema_version" },
        { "{\"type\":\"log.nutrition\",\"schema_version\":-4294967295,\"member_id\":1}", HF_EINVAL, "schema_version" },
        { "{\"type\":\"log.nutrition\",\"event_id\":\"not-a-uuid\",\"member_id\":1}", HF_EINVAL, "event_id" },
        { "{\"type\":\"log.nutrition\",\"member_id\":1,\"occurred_at\":\"NOW\"}", HF_EINVAL, "calories" },
        { "{\"type\":\"log.nutrition\",\"member_id\":1,\"occurred_at\":\"NOW\",\"calories\":1,\"kcal\":2}", HF_EINVAL,
          "kcal" },
        { "{\"type\":\"log.nutrition\",\"member_id\":1,\"occurred_at\":\"2020-01-01T00:00:00Z\",\"calories\":1}",
          HF_EINVAL, "occurred_at" },
        { "{\"type\":\"log.nutrition\",\"member_id\":1,\"occurred_at\":\"2999-01-01T00:00:00Z\",\"calories\":1}",
          HF_EINVAL, "occurred_at" },
        { "{\"type\":\"biometric.reading\",\"member_id\":1,\"occurred_at\":\"NOW\",\"kind\":\"basal_temp_c\","
          "\"value\":366}",
          HF_EINVAL, "value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct intake_record rec;
        struct hf_err err = { 0 };
        int rc = prepare(cases[i].body, NULL, -1, &rec, &err);
        ck_assert_msg(rc == cases[i].rc, "case %zu (%s): rc %d, want %d (%s)", i, cases[i].body, rc, cases[i].rc,
                      err.msg);
        ck_assert_msg(strcmp(err.field, cases[i].field) == 0, "case %zu: field \"%s\", want \"%s\"", i, err.field,
                      cases[i].field);
        ck_assert_msg(err.msg[0] != '\0', "case %zu: no message", i);
        msgpack_sbuffer_destroy(&rec.value);
    }
}
END_TEST

START_TEST(scopes)
{
    struct intake_client c = { .id = 1 };
    snprintf(c.scopes, sizeof c.scopes, "*");
    ck_assert(intake_auth_scope_allows(&c, "log.nutrition"));
    snprintf(c.scopes, sizeof c.scopes, "log.*,meal.photo_uploaded");
    ck_assert(intake_auth_scope_allows(&c, "log.nutrition"));
    ck_assert(intake_auth_scope_allows(&c, "meal.photo_uploaded"));
    ck_assert(!intake_auth_scope_allows(&c, "cycle.period"));
    ck_assert(!intake_auth_scope_allows(&c, "log"));      /* "log.*" needs something after the dot */
    ck_assert(!intake_auth_scope_allows(&c, "logx.foo")); /* prefix must end at the dot */
    ck_assert(!intake_auth_scope_allows(&c, "meal.photo")); /* exact names are exact */
    snprintf(c.scopes, sizeof c.scopes, "%s", "");
    ck_assert(!intake_auth_scope_allows(&c, "log.nutrition"));
}
END_TEST

/* schemathesis: a long non-ASCII field name was cut inside a UTF-8 sequence
 * in the message, jansson refused the body and the intake closed the
 * connection without an answer. Every cut must still give a JSON body. */
START_TEST(error_body_survives_a_cut_message)
{
    char name[301];
    for (int i = 0; i < 150; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2); /* e-acute */
    name[300] = '\0';
    for (int shift = 0; shift < 4; shift++) {
        struct intake_record rec;
        struct hf_err err = { 0 };
        char ev[1024];
        /* An ASCII prefix of 0..3 bytes moves where the 255-byte message and
         * the 95-byte field are cut. */
        snprintf(ev, sizeof ev, "{\"type\":\"log.nutrition\",\"member_id\":1,\"occurred_at\":\"NOW\",\"calories\":1,"
                 "\"%.*s%s\":1}", shift, "xyz", name);
        ck_assert_int_eq(prepare(ev, NULL, -1, &rec, &err), HF_EINVAL);
        msgpack_sbuffer_destroy(&rec.value);
        json_t *body = intake_error_body("invalid_field", err.msg, err.field);
        ck_assert_ptr_nonnull(body);
        char *text = json_dumps(body, JSON_COMPACT);
        ck_assert_ptr_nonnull(text);
        json_t *e = json_object_get(body, "error");
        ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "invalid_field");
        const char *msg = json_string_value(json_object_get(e, "message"));
        /* Only the bytes of cut characters are dropped (a cut path inside the
         * message, the message cut again: one or two). */
        ck_assert_uint_ge(strlen(msg), strlen(err.msg) - 6);
        ck_assert_ptr_nonnull(strstr(msg, " is not a field of this event type"));
        ck_assert_uint_ge(strlen(json_string_value(json_object_get(e, "field"))), strlen(err.field) - 3);
        free(text);
        json_decref(body);
    }
    json_t *bare = intake_error_body("not_found", "no such endpoint", NULL);
    ck_assert_ptr_null(json_object_get(json_object_get(bare, "error"), "field"));
    json_decref(bare);
    json_t *empty = intake_error_body("not_found", "no such endpoint", "");
    ck_assert_ptr_null(json_object_get(json_object_get(empty, "error"), "field"));
    json_decref(empty);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("intake_events");
    TCase *tc = tcase_create("events");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_event_becomes_a_record);
    tcase_add_test(tc, event_ids_given_derived_or_made);
    tcase_add_test(tc, refusals_name_the_field);
    tcase_add_test(tc, scopes);
    tcase_add_test(tc, error_body_survives_a_cut_message);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
