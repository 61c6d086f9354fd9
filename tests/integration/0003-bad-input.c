/* 0003: every malformed or unauthorised request is refused with its exact
 * status, error.code and error.field, and none of them produces a record.
 *
 * The intake runs with HF_INTAKE_MAX_BODY=2048 and HF_INTAKE_BATCH_MAX=5; a
 * client created with --rpm 2 gets 429 on its third request.
 * After the table: every topic of the prefix holds zero records (broker
 * watermarks), daily_logs has no row for the member, and the intake's
 * response counters match the table. Then a control: one valid event from the
 * same client for the same member and program is accepted and lands, so the
 * refusals above were the requests' fault, not the setup's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

enum auth { GOOD, NONE, WRONG, BASIC, SCOPED, RATED };

struct req_case {
    const char *name;
    const char *method, *path;
    enum auth auth;
    const char *ctype;   /* NULL: application/json */
    const char *header;  /* one extra header, or NULL */
    const char *body;    /* template: {M} {P} member/program, {OM} {OP} another client's/member's, {TS} {OLD} {FUTURE} {BADTS} */
    int pad_to;          /* pad the body with spaces to this many bytes */
    bool chunked;
    long status;
    const char *code, *field;
};

#define NUT "\"type\": \"log.nutrition\", \"member_id\": {M}, \"program_id\": {P}, \"occurred_at\": \"{TS}\""
#define GOOD_EVENT "{" NUT ", \"calories\": 500}"

static const struct req_case cases[] = {
    { "not JSON", "POST", "/v1/events", GOOD, NULL, NULL, "{\"type\": \"log.nutrition\", nope", 0, false, 400,
      "invalid_json", "" },
    { "duplicate key", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 5, \"calories\": 6}", 0,
      false, 400, "invalid_json", "" },
    { "invalid UTF-8", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 5, \"meal\": \"\xc0\xaf\"}", 0,
      false, 400, "invalid_json", "" },
    { "half a surrogate pair", "POST", "/v1/events", GOOD, NULL, NULL,
      "{" NUT ", \"calories\": 5, \"meal\": \"\\ud83c\"}", 0, false, 400, "invalid_json", "" },
    { "\\u0000 in a string", "POST", "/v1/events", GOOD, NULL, NULL,
      "{" NUT ", \"calories\": 5, \"meal\": \"lunch\\u0000\"}", 0, false, 400, "invalid_json", "" },
    { "nested too deep", "POST", "/v1/events", GOOD, NULL, NULL,
      "{" NUT ", \"calories\": 5, \"items\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0,
      false, 400, "invalid_json", "" },
    { "integer past int64", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 99999999999999999999}",
      0, false, 400, "invalid_json", "" },
    { "trailing garbage", "POST", "/v1/events", GOOD, NULL, NULL, GOOD_EVENT " {}", 0, false, 400, "invalid_json",
      "" },
    { "an event that is no object", "POST", "/v1/events", GOOD, NULL, NULL, "[1, 2]", 0, false, 400,
      "invalid_field", "" },
    { "unknown type", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutritio\", \"member_id\": {M}, \"occurred_at\": \"{TS}\", \"calories\": 5}", 0, false, 400,
      "invalid_field", "type" },
    { "no type", "POST", "/v1/events", GOOD, NULL, NULL, "{\"member_id\": {M}, \"occurred_at\": \"{TS}\"}", 0, false,
      400, "invalid_field", "type" },
    { "missing required field", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"meal\": \"lunch\"}", 0, false,
      400, "invalid_field", "calories" },
    { "wrong type", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": \"500\"}", 0, false, 400,
      "invalid_field", "calories" },
    { "out of range", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 10001}", 0, false, 400,
      "invalid_field", "calories" },
    { "negative", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": -1}", 0, false, 400,
      "invalid_field", "calories" },
    { "bad enum", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 5, \"meal\": \"brunch\"}", 0,
      false, 400, "invalid_field", "meal" },
    { "nested field", "POST", "/v1/events", GOOD, NULL, NULL,
      "{" NUT ", \"calories\": 5, \"items\": [{\"name\": \"egg\"}, {\"name\": \"toast\", \"grams\": -5}]}", 0, false,
      400, "invalid_field", "items[1].grams" },
    { "unknown field", "POST", "/v1/events", GOOD, NULL, NULL, "{" NUT ", \"calories\": 5, \"bogus\": 1}", 0, false,
      400, "invalid_field", "bogus" },
    { "bad timestamp", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {M}, \"occurred_at\": \"{BADTS}\", \"calories\": 5}", 0, false,
      400, "invalid_field", "occurred_at" },
    { "timestamp without zone", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {M}, \"occurred_at\": \"2026-01-02T08:00:00\", \"calories\": 5}",
      0, false, 400, "invalid_field", "occurred_at" },
    { "occurred_at 3 years ago", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {M}, \"occurred_at\": \"{OLD}\", \"calories\": 5}", 0, false, 400,
      "invalid_field", "occurred_at" },
    { "occurred_at 2 days ahead", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {M}, \"occurred_at\": \"{FUTURE}\", \"calories\": 5}", 0, false,
      400, "invalid_field", "occurred_at" },
    { "event_id not a UUID", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"event_id\": \"not-a-uuid\", " NUT ", \"calories\": 5}", 0, false, 400, "invalid_field", "event_id" },
    { "unknown schema_version", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"schema_version\": 99, " NUT ", \"calories\": 5}", 0, false, 400, "invalid_field", "schema_version" },
    { "internal type", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"job.adherence_recalc\", \"program_id\": {P}, \"date\": \"2026-01-02\"}", 0, false, 403,
      "forbidden", "type" },
    { "internal type cache.invalidate", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"cache.invalidate\", \"entity\": \"program\", \"entity_id\": {P}, \"kind\": \"adherence\","
      " \"at\": \"{TS}\"}",
      0, false, 403, "forbidden", "type" },
    { "type outside the key's scopes", "POST", "/v1/events", SCOPED, NULL, NULL, GOOD_EVENT, 0, false, 403,
      "forbidden", "type" },
    { "member of another client", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {OM}, \"occurred_at\": \"{TS}\", \"calories\": 5}", 0, false, 403,
      "forbidden", "member_id" },
    { "member that does not exist", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": 9000000000000, \"occurred_at\": \"{TS}\", \"calories\": 5}", 0,
      false, 403, "forbidden", "member_id" },
    { "program of another member", "POST", "/v1/events", GOOD, NULL, NULL,
      "{\"type\": \"log.nutrition\", \"member_id\": {M}, \"program_id\": {OP}, \"occurred_at\": \"{TS}\","
      " \"calories\": 5}",
      0, false, 403, "forbidden", "program_id" },
    { "no Authorization", "POST", "/v1/events", NONE, NULL, NULL, GOOD_EVENT, 0, false, 401, "unauthorized", "" },
    { "wrong key", "POST", "/v1/events", WRONG, NULL, NULL, GOOD_EVENT, 0, false, 401, "unauthorized", "" },
    { "Basic instead of Bearer", "POST", "/v1/events", BASIC, NULL, NULL, GOOD_EVENT, 0, false, 401, "unauthorized",
      "" },
    { "Content-Type text/plain", "POST", "/v1/events", GOOD, "text/plain", NULL, GOOD_EVENT, 0, false, 415,
      "unsupported_media_type", "" },
    { "no Content-Type", "POST", "/v1/events", GOOD, "", NULL, GOOD_EVENT, 0, false, 415, "unsupported_media_type",
      "" },
    { "Content-Type application/jsonx", "POST", "/v1/events", GOOD, "application/jsonx", NULL, GOOD_EVENT, 0, false,
      415, "unsupported_media_type", "" },
    { "empty Idempotency-Key", "POST", "/v1/events", GOOD, NULL, "Idempotency-Key;", GOOD_EVENT, 0, false, 400,
      "invalid_header", "Idempotency-Key" },
    { "body over HF_INTAKE_MAX_BODY", "POST", "/v1/events", GOOD, NULL, NULL, GOOD_EVENT, 3000, false, 413,
      "payload_too_large", "" },
    { "chunked body over HF_INTAKE_MAX_BODY", "POST", "/v1/events", GOOD, NULL, NULL, GOOD_EVENT, 3000, true, 413,
      "payload_too_large", "" },
    { "batch over HF_INTAKE_BATCH_MAX", "POST", "/v1/events/batch", GOOD, NULL, NULL,
      "[" GOOD_EVENT "," GOOD_EVENT "," GOOD_EVENT "," GOOD_EVENT "," GOOD_EVENT "," GOOD_EVENT "]", 0, false, 413,
      "batch_too_large", "" },
    { "empty batch", "POST", "/v1/events/batch", GOOD, NULL, NULL, "[]", 0, false, 400, "invalid_json", "" },
    { "batch that is an object", "POST", "/v1/events/batch", GOOD, NULL, NULL, GOOD_EVENT, 0, false, 400,
      "invalid_json", "" },
    { "batch with one bad item", "POST", "/v1/events/batch", GOOD, NULL, NULL,
      "[" GOOD_EVENT ", {" NUT ", \"calories\": -5}]", 0, false, 400, "invalid_batch", "" },
    /* A key allowed 2 events a minute: the third request is over budget,
     * whatever it holds (these are invalid, so nothing is produced anyway). */
    { "rate limit 1/3", "POST", "/v1/events", RATED, NULL, NULL, "{" NUT ", \"calories\": -1}", 0, false, 400,
      "invalid_field", "calories" },
    { "rate limit 2/3", "POST", "/v1/events", RATED, NULL, NULL, "{" NUT ", \"calories\": -1}", 0, false, 400,
      "invalid_field", "calories" },
    { "rate limit 3/3", "POST", "/v1/events", RATED, NULL, NULL, "{" NUT ", \"calories\": -1}", 0, false, 429,
      "rate_limited", "" },
    { "GET on a POST route", "GET", "/v1/events", GOOD, NULL, NULL, NULL, 0, false, 405, "method_not_allowed", "" },
    { "GET on the batch route", "GET", "/v1/events/batch", GOOD, NULL, NULL, NULL, 0, false, 405,
      "method_not_allowed", "" },
    { "POST on /metrics", "POST", "/metrics", GOOD, NULL, NULL, GOOD_EVENT, 0, false, 405, "method_not_allowed", "" },
    { "unknown path", "POST", "/v1/event", GOOD, NULL, NULL, GOOD_EVENT, 0, false, 404, "not_found", "" },
    { "unknown path GET", "GET", "/", GOOD, NULL, NULL, NULL, 0, false, 404, "not_found", "" },
};

struct vars {
    char m[24], p[24], om[24], op[24], ts[32], old[32], future[32], badts[32];
};

/* Expands the {NAME} placeholders of a body template. */
static char *expand(const char *tpl, const struct vars *v, int pad_to)
{
    const struct {
        const char *name, *value;
    } subs[] = { { "{M}", v->m },     { "{P}", v->p },           { "{OM}", v->om },
                 { "{OP}", v->op },   { "{TS}", v->ts },         { "{OLD}", v->old },
                 { "{FUTURE}", v->future }, { "{BADTS}", v->badts } };
    size_t cap = strlen(tpl) * 2 + (size_t)pad_to + 256, len = 0;
    char *out = malloc(cap);
    ck_assert(out != NULL);
    for (const char *s = tpl; *s;) {
        bool done = false;
        for (size_t i = 0; i < sizeof subs / sizeof subs[0] && !done; i++) {
            size_t nl = strlen(subs[i].name);
            if (strncmp(s, subs[i].name, nl) == 0) {
                len += (size_t)snprintf(out + len, cap - len, "%s", subs[i].value);
                s += nl;
                done = true;
            }
        }
        if (!done)
            out[len++] = *s++;
    }
    while ((int)len < pad_to)
        out[len++] = ' ';
    out[len] = '\0';
    return out;
}

START_TEST(bad_input)
{
    struct it_client c, other, scoped, rated;
    it_make_client(&c, "app");
    it_make_client(&other, "other");
    char out[1024], scoped_name[96];
    snprintf(scoped_name, sizeof scoped_name, "%s-scoped", it_tag());
    it_hfctl(out, sizeof out, "client", "create", scoped_name, "--scopes", "log.workout", NULL);
    const char *k = strstr(out, "key: ");
    ck_assert(k != NULL);
    snprintf(scoped.key, sizeof scoped.key, "%.*s", (int)strcspn(k + 5, "\n"), k + 5);
    snprintf(scoped_name, sizeof scoped_name, "%s-rated", it_tag());
    it_hfctl(out, sizeof out, "client", "create", scoped_name, "--rpm", "2", NULL);
    k = strstr(out, "key: ");
    ck_assert(k != NULL);
    snprintf(rated.key, sizeof rated.key, "%.*s", (int)strcspn(k + 5, "\n"), k + 5);

    long long user = it_make_user(c.id, "u");
    long long member = it_make_member(user, "Dee");
    long long sibling = it_make_member(user, "Eli");
    long long program = it_make_program(member, -30, "{\"calories\": 2000}", NULL);
    long long sibling_program = it_make_program(sibling, -30, "{\"calories\": 2000}", NULL);
    long long other_member = it_make_member(it_make_user(other.id, "u"), "Fay");

    struct vars v;
    snprintf(v.m, sizeof v.m, "%lld", member);
    snprintf(v.p, sizeof v.p, "%lld", program);
    snprintf(v.om, sizeof v.om, "%lld", other_member);
    snprintf(v.op, sizeof v.op, "%lld", sibling_program);
    it_ts(v.ts, it_day(-1), 12, 0, 0);
    it_ts(v.old, it_day(-3 * 365 - 1), 12, 0, 0);
    it_ts(v.future, it_day(2), 12, 0, 0);
    snprintf(v.badts, sizeof v.badts, "2026-02-30T08:00:00Z");

    const char *env[] = { "HF_INTAKE_MAX_BODY=2048", "HF_INTAKE_BATCH_MAX=5", NULL };
    int port, metrics;
    it_start_pool("adherence", &metrics, NULL);
    it_start_intake(&port, env);

    int by_status[600] = { 0 };
    char failures[8192] = "";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct req_case *t = &cases[i];
        char *body = t->body ? expand(t->body, &v, t->pad_to) : NULL;
        char auth[160] = "", ctype[96];
        switch (t->auth) {
        case GOOD: snprintf(auth, sizeof auth, "Authorization: Bearer %s", c.key); break;
        case WRONG: snprintf(auth, sizeof auth, "Authorization: Bearer hf_%048d", 7); break;
        case BASIC: snprintf(auth, sizeof auth, "Authorization: Basic %s", c.key); break;
        case SCOPED: snprintf(auth, sizeof auth, "Authorization: Bearer %s", scoped.key); break;
        case RATED: snprintf(auth, sizeof auth, "Authorization: Bearer %s", rated.key); break;
        case NONE: break;
        }
        if (t->ctype && !*t->ctype)
            snprintf(ctype, sizeof ctype, "Content-Type:"); /* curl: remove the header */
        else
            snprintf(ctype, sizeof ctype, "Content-Type: %s", t->ctype ? t->ctype : "application/json");
        const char *headers[4];
        int nh = 0;
        if (auth[0])
            headers[nh++] = auth;
        if (body)
            headers[nh++] = ctype;
        if (t->header)
            headers[nh++] = t->header;
        headers[nh] = NULL;
        struct it_http r;
        it_request(&r, t->method, port, t->path, headers, body, body ? strlen(body) : 0, t->chunked);
        by_status[r.status >= 0 && r.status < 600 ? r.status : 0]++;
        const char *code = it_err_code(&r), *field = it_err_field(&r);
        if (r.status != t->status || strcmp(code, t->code) != 0 || strcmp(field, t->field) != 0)
            snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                     "\n  %s: got %ld %s field \"%s\", want %ld %s field \"%s\" (body: %.200s)", t->name, r.status,
                     code, field, t->status, t->code, t->field, r.body);
        if (strcmp(t->name, "batch with one bad item") == 0 && r.status == 400) {
            /* Nothing half-accepted: the good item is refused with 409. */
            const json_t *res = json_object_get(r.json, "results");
            const json_t *r0 = json_array_get(res, 0), *r1 = json_array_get(res, 1);
            const char *c0 = json_string_value(json_object_get(json_object_get(r0, "error"), "code"));
            const char *c1 = json_string_value(json_object_get(json_object_get(r1, "error"), "code"));
            const char *f1 = json_string_value(json_object_get(json_object_get(r1, "error"), "field"));
            if (json_integer_value(json_object_get(r.json, "accepted")) != 0 ||
                json_integer_value(json_object_get(r.json, "rejected")) != 2 || json_array_size(res) != 2 ||
                json_integer_value(json_object_get(r0, "status")) != 409 || !c0 || strcmp(c0, "batch_refused") ||
                json_integer_value(json_object_get(r1, "status")) != 400 || !c1 || strcmp(c1, "invalid_field") ||
                !f1 || strcmp(f1, "calories"))
                snprintf(failures + strlen(failures), sizeof failures - strlen(failures),
                         "\n  %s: unexpected results: %.400s", t->name, r.body);
        }
        it_http_free(&r);
        free(body);
    }
    ck_assert_msg(failures[0] == '\0', "requests answered wrongly:%s", failures);
    it_note("%zu malformed requests refused as expected", sizeof cases / sizeof cases[0]);

    /* Nothing reached Kafka, nothing reached the database. */
    static const char *const families[] = { "logs", "cycles", "biometrics", "meals", "jobs.adherence",
                                            "cache.invalidate", "dlq.adherence" };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        long long n = it_topic_count(it_topic(families[i]));
        ck_assert_msg(n == 0, "topic %s holds %lld records, want 0", it_topic(families[i]), n);
    }
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id IN (%lld, %lld, %lld)", member,
                                sibling, other_member),
                     0);

    /* The intake counted what it answered. */
    static const int statuses[] = { 400, 401, 403, 404, 405, 413, 415, 429 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char series[64];
        snprintf(series, sizeof series, "hf_intake_responses_total{status=\"%d\"}", statuses[i]);
        double got = it_metric(port, series);
        ck_assert_msg(got == by_status[statuses[i]], "intake counted %g responses with status %d, want %d", got,
                      statuses[i], by_status[statuses[i]]);
    }

    /* Control: the same client, member and program can post. */
    char *good = expand(GOOD_EVENT, &v, 0);
    struct it_http r;
    it_post(&r, port, "/v1/events", c.key, good, NULL);
    free(good);
    ck_assert_msg(r.status == 202, "control event: %ld %s", r.status, r.body);
    char id[37];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "event_id")));
    it_http_free(&r);
    ck_assert_int_eq(it_topic_count(it_topic("logs")), 1);
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&n, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && n == 1,
                30000);
    ck_assert_msg(ok, "control event: %lld daily_logs rows for the member, want 1", n);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE event_id = '%s'", id), 1);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { bad_input };
    return it_run_suite("0003-bad-input", tests, 1, 110);
}
