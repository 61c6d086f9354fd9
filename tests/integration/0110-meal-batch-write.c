/* 0110: hf-meal_analyze writes a whole batch in two statements (the food
 * rows of every name, then one UPDATE of every log); each log must still get
 * its own result, and the guards of the per-log statement must hold in bulk.
 *
 * Six photos wait as PROCESSING rows (hf-meal_image only), then two of them
 * are changed behind the pool's back: one already VERIFIED (as after an
 * earlier write: a replayed job must not overwrite it) and one deleted. Then
 * hf-meal_analyze starts on the backlog and takes all six in ONE batch
 * (asserted with its metrics), mixing every outcome:
 *   ok.png               -> VERIFIED by the model, 336.9 kcal (0100 works it out)
 *   unknown.png + caption -> VERIFIED by the caption, 545.4 kcal
 *   text.png             -> FAILED: not an image, no caption
 *   garbage.png + "a plate of stuff" -> FAILED: the caption names no food of the table
 *   ok.png, already VERIFIED with 1 kcal -> untouched
 *   ok.png, deleted      -> untouched (still PROCESSING, deleted)
 * and the program's adherence for the day counts the verified meals (the
 * follow-ups are emitted from the bulk result). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

#define CAPTION "2 eggs, 1 slice whole wheat toast, 200 g greek yogurt, 1 cup rice"

static struct {
    struct it_client c;
    long long member, program;
    int intake, fake;
} W;

static void photo(const char *path, const char *caption, char id[37])
{
    char ts[32], body[1400], cap[300] = "";
    if (caption)
        snprintf(cap, sizeof cap, ", \"caption\": \"%s\"", caption);
    it_ts(ts, it_day(0), 1, 15, 0);
    snprintf(body, sizeof body,
             "{\"type\": \"meal.photo_uploaded\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\","
             " \"image_url\": \"https://127.0.0.1:%d%s\"%s}",
             W.member, W.program, ts, W.fake, path, cap);
    struct it_http r;
    it_post(&r, W.intake, "/v1/events", W.c.key, body, NULL);
    ck_assert_msg(r.status == 202, "POST %s: %ld %s", path, r.status, r.body);
    snprintf(id, 37, "%s", json_string_value(json_object_get(r.json, "event_id")));
    it_http_free(&r);
}

/* status|source|calories|reason of the log */
static void row(const char *id, char *out, size_t outsz)
{
    it_sql_text(out, outsz,
                "SELECT concat_ws('|', status, coalesce(payload->>'source', '-'), coalesce(payload->>'calories', '-'),"
                " coalesce(payload->>'reason', '-')) FROM daily_logs WHERE event_id = '%s'",
                id);
}

START_TEST(one_batch_many_outcomes)
{
    it_make_client(&W.c, "app");
    W.member = it_make_member(it_make_user(W.c.id, "u"), "Bo");
    W.program = it_make_program(W.member, -5, "{\"calories\": 2000}", "{}");
    char bin[600], ca[600], provider[128];
    it_start_service("fake_vision", it_bin("fake_vision", bin, sizeof bin), "FAKE_VISION_PORT", &W.fake, NULL, 10000);
    snprintf(ca, sizeof ca, "HF_MEAL_CA_FILE=%s/tests/fake_vision/cert.pem", getenv("HF_SOURCE_DIR"));
    snprintf(provider, sizeof provider, "HF_MEAL_PROVIDER_URL=https://127.0.0.1:%d/v1", W.fake);
    const char *env[] = { ca, provider, "HF_MEAL_IMAGE_HOSTS=127.0.0.1", "HF_MEAL_IMAGE_ALLOW_PRIVATE=1",
                          "HF_MEAL_PROVIDER_RETRIES=0", NULL };
    it_start_intake(&W.intake, NULL);
    int m1, m2;
    pid_t recorder = it_start_pool("meal_image", &m1, env);

    char vision[37], caption[37], notimage[37], nofood[37], verified[37], deleted[37];
    photo("/img/ok.png", NULL, vision);
    photo("/img/unknown.png", CAPTION, caption);
    photo("/img/text.png", NULL, notimage);
    photo("/img/garbage.png", "a plate of stuff", nofood);
    photo("/img/ok.png", NULL, verified);
    photo("/img/ok.png", NULL, deleted);
    bool ok;
    IT_WAIT_FOR(ok,
                it_sql_int("SELECT count(*) FROM daily_logs WHERE program_id = %lld AND status = 'PROCESSING'",
                           W.program) == 6,
                10000);
    ck_assert_msg(ok, "the six PROCESSING rows did not appear");
    ck_assert_int_eq(it_stop(recorder, 10000), 0);
    it_sql("UPDATE daily_logs SET status = 'VERIFIED', payload = payload || '{\"calories\": 1}' WHERE event_id = '%s'",
           verified);
    it_sql("UPDATE daily_logs SET deleted_at = now() WHERE event_id = '%s'", deleted);

    it_start_pool("meal_analyze", &m2, env);
    IT_WAIT_FOR(ok,
                it_sql_int("SELECT count(*) FROM daily_logs WHERE program_id = %lld AND status = 'PROCESSING'"
                           " AND deleted_at IS NULL",
                           W.program) == 0,
                20000);
    ck_assert_msg(ok, "photos left PROCESSING");
    IT_WAIT_FOR(ok, it_metric(m2, "hf_messages_total{pool=\"meal_analyze\",outcome=\"processed\"}") == 6, 5000);
    ck_assert_msg(ok, "processed %.0f jobs, want 6",
                  it_metric(m2, "hf_messages_total{pool=\"meal_analyze\",outcome=\"processed\"}"));
    /* observed after the offsets are stored, a moment after the counter */
    IT_WAIT_FOR(ok, it_metric(m2, "hf_batch_seconds_count{pool=\"meal_analyze\"}") >= 1, 5000);
    ck_assert_msg(it_metric(m2, "hf_batch_seconds_count{pool=\"meal_analyze\"}") == 1,
                  "the six jobs took %.0f batches, want 1 (the test is about one bulk write)",
                  it_metric(m2, "hf_batch_seconds_count{pool=\"meal_analyze\"}"));

    char v[900];
    row(vision, v, sizeof v);
    ck_assert_str_eq(v, "VERIFIED|vision|336.9|-");
    row(caption, v, sizeof v);
    ck_assert_str_eq(v, "VERIFIED|caption|545.4|-");
    row(notimage, v, sizeof v);
    ck_assert_msg(strncmp(v, "FAILED|-|-|", 11) == 0 && strstr(v, "not a JPEG, PNG or WebP image") &&
                      strstr(v, "no caption to read instead"),
                  "text.png: %s", v);
    row(nofood, v, sizeof v);
    ck_assert_msg(strncmp(v, "FAILED|-|-|", 11) == 0 && strstr(v, "(plate of stuff)") && strstr(v, "unusable"),
                  "garbage.png: %s", v);
    row(verified, v, sizeof v);
    ck_assert_str_eq(v, "VERIFIED|-|1|-");
    it_sql_text(v, sizeof v, "SELECT status || '|' || (deleted_at IS NOT NULL) FROM daily_logs WHERE event_id = '%s'",
                deleted);
    ck_assert_str_eq(v, "PROCESSING|true");

    /* The follow-ups came from the bulk result: hf-adherence recomputes the
     * day from its VERIFIED meals, the pre-verified one (1 kcal) included. */
    int m3;
    it_start_pool("adherence", &m3, NULL);
    char today[11];
    it_date(today, it_day(0));
    IT_WAIT_FOR(ok,
                (it_sql_text(v, sizeof v,
                             "SELECT coalesce((SELECT concat_ws('|', details->>'meals',"
                             " trim_scale((details->'nutrition'->'parts'->'calories'->>'actual')::numeric))"
                             " FROM adherence_metrics WHERE program_id = %lld AND date = '%s'), '')",
                             W.program, today),
                 strcmp(v, "3|883.3") == 0),
                15000);
    ck_assert_msg(ok, "adherence for the day: %s, want 3 meals, 336.9 + 545.4 + 1 kcal", v);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { one_batch_many_outcomes };
    return it_run_suite("0110-meal-batch-write", tests, 1, 90);
}
