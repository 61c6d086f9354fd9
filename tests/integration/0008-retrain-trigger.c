/* 0008: every 7 new logs a model learns from, the adherence pool asks for one
 * retraining of that member, and only then.
 *
 *  Ann posts 7 symptom logs in one batch, Ben 6 symptom logs and 3 workouts
 *  (workouts do not count): jobs.retrain then holds exactly one job, Ann's,
 *  triggered "new_logs:<ann>:7".
 *  Ann's 7 logs posted again (same event ids) are replays: no new job.
 *  Ben's 7th counting log (a meal): a second job, Ben's "new_logs:<ben>:7".
 */
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static int port, metrics;
static struct it_client client;

static void symptom(char *out, size_t outsz, long long member, int i)
{
    char ts[32];
    it_ts(ts, it_day(-20 + i), 21, 0, 0);
    snprintf(out, outsz,
             "{\"type\": \"log.symptom\", \"member_id\": %lld, \"occurred_at\": \"%s\","
             " \"symptoms\": {\"bloating\": %d}, \"ingredients\": [\"milk\"]}",
             member, ts, i % 6);
}

static void workout(char *out, size_t outsz, long long member, int i)
{
    char ts[32];
    it_ts(ts, it_day(-20 + i), 7, 0, 0);
    snprintf(out, outsz,
             "{\"type\": \"log.workout\", \"member_id\": %lld, \"occurred_at\": \"%s\", \"activity\": \"strength\","
             " \"minutes\": 30}",
             member, ts);
}

/* Posts a JSON array of events as one batch with a fixed Idempotency-Key
 * (a repeat gets the same event ids); asserts 202. */
static void post_batch(const char *events, const char *idem)
{
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, events, idem);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    it_http_free(&r);
}

static void wait_rows(long long member, long long n)
{
    bool ok;
    long long have = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&have, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && have == n,
                30000);
    ck_assert_msg(ok, "member %lld has %lld logs, want %lld", member, have, n);
}

/* Does a record's msgpack value hold this text (msgpack strings are raw bytes)? */
static bool holds(const struct it_record *r, const char *text)
{
    return r->value && memmem(r->value, r->len, text, strlen(text)) != NULL;
}

START_TEST(retrain_trigger)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    long long ann = it_make_member(user, "Ann"), ben = it_make_member(user, "Ben");
    it_start_pool("adherence", &metrics, NULL);
    it_start_intake(&port, NULL);
    const char *topic = it_topic("jobs.retrain");
    char one[512], ann_batch[8192] = "[", ben_batch[8192] = "[";
    for (int i = 0; i < 7; i++) {
        symptom(one, sizeof one, ann, i);
        strcat(ann_batch, i ? "," : "");
        strcat(ann_batch, one);
    }
    strcat(ann_batch, "]");
    for (int i = 0; i < 6; i++) {
        symptom(one, sizeof one, ben, i);
        strcat(ben_batch, i ? "," : "");
        strcat(ben_batch, one);
    }
    for (int i = 0; i < 3; i++) {
        workout(one, sizeof one, ben, i);
        strcat(ben_batch, ",");
        strcat(ben_batch, one);
    }
    strcat(ben_batch, "]");
    post_batch(ann_batch, "ann-7");
    post_batch(ben_batch, "ben-6");
    wait_rows(ann, 7);
    wait_rows(ben, 9);

    char want_ann[64], want_ben[64];
    snprintf(want_ann, sizeof want_ann, "new_logs:%lld:7", ann);
    snprintf(want_ben, sizeof want_ben, "new_logs:%lld:7", ben);
    struct it_records rs = { 0 };
    ck_assert_int_eq(it_consume(topic, 1, 20000, &rs), 1);
    char key[24];
    snprintf(key, sizeof key, "%lld", ann);
    ck_assert_str_eq(rs.v[0].key, key);
    ck_assert_msg(holds(&rs.v[0], want_ann), "the job does not name trigger %s", want_ann);
    ck_assert_str_eq(it_header(&rs.v[0], "hf-schema"), "job.retrain");
    it_records_free(&rs);

    /* Ann's batch again: replays, so nothing new to count. */
    post_batch(ann_batch, "ann-7");
    bool ok;
    IT_WAIT_FOR(ok, it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"replayed\"}") == 7, 30000);
    ck_assert_msg(ok, "the 7 repeats were not all consumed as replays");

    /* Ben's 7th log that counts. */
    char meal[512], ts[32];
    it_ts(ts, it_day(-1), 12, 0, 0);
    snprintf(meal, sizeof meal,
             "{\"type\": \"log.nutrition\", \"member_id\": %lld, \"occurred_at\": \"%s\", \"calories\": 500}", ben,
             ts);
    struct it_http r;
    it_post(&r, port, "/v1/events", client.key, meal, NULL);
    ck_assert_int_eq(r.status, 202);
    it_http_free(&r);
    wait_rows(ben, 10);
    ck_assert_int_eq(it_consume(topic, 2, 20000, &rs), 2);
    int ann_jobs = 0, ben_jobs = 0;
    for (int i = 0; i < rs.n; i++) {
        ann_jobs += holds(&rs.v[i], want_ann);
        ben_jobs += holds(&rs.v[i], want_ben);
    }
    ck_assert_int_eq(ann_jobs, 1);
    ck_assert_int_eq(ben_jobs, 1);
    it_records_free(&rs);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { retrain_trigger };
    return it_run_suite("0008-retrain-trigger", tests, 1, 110);
}
