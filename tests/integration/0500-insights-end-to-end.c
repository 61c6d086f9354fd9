/* 0500: insights end to end: hf-intake -> hf-adherence (daily_logs) ->
 * job.insight_refresh -> hf-insights -> user_insights + cache.invalidate.
 *
 *  Ada posts 40 days of symptom logs in one batch: milk every third day and
 *  bloating 4 the day after milk (1 otherwise), and a sleep score each day,
 *  82-ish from day 25 on (an experiment with magnesium) and 72-ish before.
 *  A refresh job -> one user_insights row whose data_hash is 64 hex digits,
 *  whose top lag effect is milk -> bloating one day later with r = 1, and
 *  whose experiment says the effect is positive; one cache.invalidate for
 *  (member, Ada, insights).
 *  A second job with nothing new: the hash is unchanged, so no rewrite
 *  (computed_at stays) and no second invalidation.
 *  One more log, one more job: a new hash, a second invalidation.
 *  A job for a member that does not exist: processed, nothing written, no
 *  dead letter.
 */
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static int port, metrics;
static struct it_client client;

static void post_batch(const char *events)
{
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, events, NULL);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    it_http_free(&r);
}

/* job.insight_refresh straight to <prefix>jobs.insights; returns its event id in id. */
static void refresh_job(long long member, char id[37])
{
    char key[24];
    it_uuid4(id);
    snprintf(key, sizeof key, "%lld", member);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    it_pack_kv_str(&pk, "event_id", id);
    it_pack_kv_int(&pk, "member_id", member);
    it_pack_kv_str(&pk, "reason", "manual");
    it_pack_kv_str(&pk, "trigger", "it-0500");
    const struct it_kv h[] = { { "hf-schema", "job.insight_refresh" }, { "hf-version", "1" }, { "hf-event-id", id } };
    it_produce(it_topic("jobs.insights"), key, sb.data, sb.size, h, 3, NULL, NULL);
    msgpack_sbuffer_destroy(&sb);
}

static void wait_processed(const char *event_id)
{
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok,
                it_sql_int_try(&n, "SELECT count(*) FROM processed_events WHERE pool = 'insights' AND event_id = '%s'",
                               event_id) && n == 1,
                30000);
    ck_assert_msg(ok, "job %s not processed by the insights pool", event_id);
}

/* cache.invalidate records for (member, id, insights). */
static int invalidations(long long member, int want, int timeout_ms)
{
    char needle[64];
    int found = 0;
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        struct it_records rs;
        it_consume(it_topic("cache.invalidate"), want, 3000, &rs);
        found = 0;
        snprintf(needle, sizeof needle, "%lld", member);
        for (int i = 0; i < rs.n; i++) {
            const struct it_record *r = &rs.v[i];
            if (r->key && strcmp(r->key, needle) == 0 && r->value && memmem(r->value, r->len, "insights", 8) &&
                memmem(r->value, r->len, "member", 6))
                found++;
        }
        it_records_free(&rs);
        if (found >= want || it_now_ms() >= deadline)
            return found;
        it_sleep_ms(100);
    }
}

START_TEST(insights_end_to_end)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    long long ada = it_make_member(user, "Ada");
    it_start_pool("adherence", &metrics, NULL);
    int insights_metrics;
    it_start_pool("insights", &insights_metrics, NULL);
    it_start_intake(&port, NULL);

    /* 40 days, two events a day, in one batch of 80 */
    static char batch[80 * 400];
    size_t len = 0;
    batch[len++] = '[';
    for (int i = 0; i < 40; i++) {
        char ts[32], ts2[32];
        it_ts(ts, it_day(-41 + i), 21, 0, 0);
        it_ts(ts2, it_day(-41 + i), 7, 0, 0);
        bool milk = i % 3 == 0, milk_before = i > 0 && (i - 1) % 3 == 0;
        len += (size_t)snprintf(batch + len, sizeof batch - len,
                                "%s{\"type\": \"log.symptom\", \"member_id\": %lld, \"occurred_at\": \"%s\","
                                " \"symptoms\": {\"bloating\": %d, \"energy\": %d}, \"ingredients\": [%s\"oats\"]},"
                                "{\"type\": \"biometric.reading\", \"member_id\": %lld, \"occurred_at\": \"%s\","
                                " \"kind\": \"sleep_score\", \"value\": %d}",
                                i ? "," : "", ada, ts, milk_before ? 4 : 1, 2 + i % 3, milk ? "\"milk\", " : "", ada,
                                ts2, (i >= 25 ? 80 : 70) + i % 5);
    }
    batch[len++] = ']';
    batch[len] = '\0';
    post_batch(batch);
    bool ok;
    long long rows = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&rows, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", ada) && rows == 80,
                30000);
    ck_assert_msg(ok, "daily_logs has %lld rows for Ada, want 80", rows);
    char start[11];
    it_date(start, it_day(-41 + 25));
    it_sql("INSERT INTO experiments (member_id, name, intervention, outcome, start_date) VALUES"
           " (%lld, 'Magnesium for sleep', 'magnesium 300 mg', 'sleep_score', '%s')",
           ada, start);

    char job[37];
    refresh_job(ada, job);
    wait_processed(job);
    char hash[80], first_at[64];
    it_sql_text(hash, sizeof hash, "SELECT data_hash FROM user_insights WHERE member_id = %lld", ada);
    ck_assert_msg(strlen(hash) == 64 && strspn(hash, "0123456789abcdef") == 64, "data_hash %s", hash);
    it_sql_text(first_at, sizeof first_at, "SELECT computed_at::text FROM user_insights WHERE member_id = %lld", ada);
    char got[512];
    it_sql_text(got, sizeof got,
                "SELECT concat_ws('|', i->'lag_effects'->'items'->0->>'ingredient',"
                " i->'lag_effects'->'items'->0->>'symptom', i->'lag_effects'->'items'->0->>'lag_days',"
                " round((i->'lag_effects'->'items'->0->>'r')::numeric, 6), i->>'logs', i->>'days',"
                " i->'experiments'->0->>'status', (i->'experiments'->0->>'p_positive')::float8 > 0.99,"
                " (i->'experiments'->0->>'effect')::float8 BETWEEN 8 AND 11)"
                " FROM user_insights, LATERAL (SELECT insights AS i) x WHERE member_id = %lld",
                ada);
    ck_assert_str_eq(got, "milk|bloating|1|1.000000|80|40|ok|t|t");
    it_sql_text(got, sizeof got, "SELECT insights->'lag_effects'->'items'->0->>'text' FROM user_insights WHERE member_id = %lld",
                ada);
    ck_assert_msg(strncmp(got, "Milk is followed by more bloating one day later: r = 1.00, p = ", 63) == 0, "%s", got);
    it_note("%s", got);
    ck_assert_int_eq(invalidations(ada, 1, 20000), 1);
    it_note("insights stored, hash %.12s..., one invalidation", hash);

    /* nothing new: no rewrite, no invalidation */
    refresh_job(ada, job);
    wait_processed(job);
    char again[64];
    it_sql_text(again, sizeof again, "SELECT computed_at::text FROM user_insights WHERE member_id = %lld", ada);
    ck_assert_str_eq(again, first_at);
    it_sleep_ms(1000);
    ck_assert_int_eq(invalidations(ada, 1, 2000), 1);

    /* one more log: a new hash, a second invalidation */
    char ts[32], one[512];
    it_ts(ts, it_day(-1), 21, 0, 0);
    snprintf(one, sizeof one,
             "[{\"type\": \"log.symptom\", \"member_id\": %lld, \"occurred_at\": \"%s\", \"symptoms\": {\"bloating\": 2},"
             " \"ingredients\": [\"milk\"]}]",
             ada, ts);
    post_batch(one);
    IT_WAIT_FOR(ok, it_sql_int_try(&rows, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", ada) && rows == 81,
                30000);
    ck_assert(ok);
    refresh_job(ada, job);
    wait_processed(job);
    char hash2[80];
    it_sql_text(hash2, sizeof hash2, "SELECT data_hash FROM user_insights WHERE member_id = %lld", ada);
    ck_assert_str_ne(hash2, hash);
    ck_assert_int_eq(it_sql_int("SELECT (insights->>'logs')::int FROM user_insights WHERE member_id = %lld", ada), 81);
    ck_assert_int_eq(invalidations(ada, 2, 20000), 2);

    /* a member that does not exist */
    refresh_job(999999999, job);
    wait_processed(job);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM user_insights WHERE member_id = 999999999"), 0);
    ck_assert_int_eq((int)it_topic_count(it_topic("dlq.insights")), 0);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { insights_end_to_end };
    return it_run_suite("0500-insights-end-to-end", tests, 1, 110);
}
