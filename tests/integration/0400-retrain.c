/* 0400: the retraining pool end to end.
 *
 * hf-intake + hf-adherence + hf-retrain. Member A posts 60 days of symptom
 * logs (milk on even days, bloating 4 the day after milk, 1 otherwise) and 8
 * periods 28 days apart; member B 20 days eating only tofu and rice, bloating
 * 2; member C 20 days with every symptom 2. job.retrain for each, produced to
 * <prefix>jobs.retrain ->
 *  - A: symptoms/energy/mood by boosted trees (60 logs >= 50), cycle by the
 *    recency-weighted mean (equal lengths leave no AR(1) to fit), all active; predictions for the day after the last log;
 *    next period 28 days after the last start; cache.invalidate
 *    (member, predictions) and (member, models);
 *  - B: logistic (20 < 50), trained on B's 20 logs only: its artifact names
 *    tofu and never milk (isolation);
 *  - the same job again (new trigger, same data): no new version, no new
 *    prediction rows;
 *  - C gets 7 more logs, retrains to version 2 (a constant model with more
 *    data scores better, so it activates); `hfctl model rollback C symptoms`
 *    makes version 1 active again and its retrain job refreshes the
 *    predictions from version 1; a rollback with nothing older fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

static void post_days(int port, const char *key, long long member, int first, int n, int kind)
{
    char *body = malloc(1 << 20);
    size_t len = 0;
    len += (size_t)snprintf(body + len, 1 << 20, "[");
    for (int i = 0; i < n; i++) {
        int32_t day = it_day(first + i);
        char ts[32];
        it_ts(ts, day, 20, 0, 0);
        int b = 2, e = 2, f = 2, m = 2;
        const char *ing = "\"tofu\", \"rice\"";
        if (kind == 0) { /* A: the planted trigger */
            bool milk = (day % 2) == 0, milk_before = ((day - 1) % 2) == 0;
            ing = milk ? "\"milk\", \"oats\"" : "\"oats\", \"banana\"";
            b = milk_before ? 4 : 1;
            e = day % 7 < 2 ? 1 : 4;
            f = 3;
            m = day % 7 < 3 ? 1 : 4;
        }
        len += (size_t)snprintf(body + len, (1 << 20) - len,
                                "%s{\"type\": \"log.symptom\", \"member_id\": %lld, \"occurred_at\": \"%s\","
                                " \"symptoms\": {\"bloating\": %d, \"energy\": %d, \"focus\": %d, \"mood\": %d},"
                                " \"ingredients\": [%s]}",
                                i ? "," : "", member, ts, b, e, f, m, ing);
    }
    snprintf(body + len, (1 << 20) - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", key, body, NULL);
    ck_assert_msg(r.status == 202, "batch: %ld %s", r.status, r.body);
    it_http_free(&r);
    free(body);
}

static void post_periods(int port, const char *key, long long member, int first, int n)
{
    char body[8192];
    size_t len = (size_t)snprintf(body, sizeof body, "[");
    for (int i = 0; i < n; i++) {
        char d[11], ts[32];
        it_date(d, it_day(first + 28 * i));
        it_ts(ts, it_day(first + 28 * i), 8, 0, 0);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"type\": \"cycle.period\", \"member_id\": %lld, \"occurred_at\": \"%s\","
                                " \"start_date\": \"%s\"}",
                                i ? "," : "", member, ts, d);
    }
    snprintf(body + len, sizeof body - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", key, body, NULL);
    ck_assert_msg(r.status == 202, "periods: %ld %s", r.status, r.body);
    it_http_free(&r);
}

static void retrain(long long member, const char *trigger)
{
    char id[37], key[24];
    it_uuid4(id);
    snprintf(key, sizeof key, "%lld", member);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    it_pack_kv_str(&pk, "event_id", id);
    it_pack_kv_int(&pk, "member_id", member);
    it_pack_kv_str(&pk, "model", "all");
    it_pack_kv_str(&pk, "reason", "manual");
    it_pack_kv_str(&pk, "trigger", trigger);
    const struct it_kv h[] = { { "hf-schema", "job.retrain" }, { "hf-version", "1" }, { "hf-event-id", id } };
    it_produce(it_topic("jobs.retrain"), key, sb.data, sb.size, h, 3, NULL, NULL);
    msgpack_sbuffer_destroy(&sb);
}

static long long wait_count(long long want, int timeout_ms, const char *sql)
{
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&n, "%s", sql) && n == want, timeout_ms);
    return n;
}

static int invalidations(long long member, const char *kind)
{
    struct it_records rs;
    it_consume(it_topic("cache.invalidate"), 1, 3000, &rs);
    char key[24];
    snprintf(key, sizeof key, "%lld", member);
    int found = 0;
    for (int i = 0; i < rs.n; i++)
        if (rs.v[i].key && strcmp(rs.v[i].key, key) == 0 && rs.v[i].value && memmem(rs.v[i].value, rs.v[i].len, kind, strlen(kind)) &&
            memmem(rs.v[i].value, rs.v[i].len, "member", 6))
            found++;
    it_records_free(&rs);
    return found;
}

START_TEST(retrain_end_to_end)
{
    struct it_client c;
    it_make_client(&c, "app");
    long long user = it_make_user(c.id, "u");
    long long A = it_make_member(user, "A"), B = it_make_member(user, "B"), C = it_make_member(user, "C");
    int port, metrics;
    /* Retraining only when asked: the counts below are of the jobs sent here
     * (0008 tests the every-7-logs trigger). */
    const char *const no_trigger[] = { "HF_RETRAIN_EVERY_LOGS=0", NULL };
    it_start_pool("adherence", &metrics, no_trigger);
    it_start_pool("retrain", &metrics, NULL);
    it_start_intake(&port, NULL);
    post_days(port, c.key, A, -61, 60, 0);
    post_periods(port, c.key, A, -8 * 28 + 5, 8);
    post_days(port, c.key, B, -21, 20, 1);
    post_days(port, c.key, C, -40, 20, 2);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM daily_logs WHERE member_id IN (%lld, %lld, %lld)", A, B, C);
    ck_assert_int_eq(wait_count(108, 60000, sql), 108);
    it_note("108 logs stored by hf-adherence");

    retrain(A, "t1");
    retrain(B, "t1");
    retrain(C, "t1");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM user_models WHERE member_id IN (%lld, %lld, %lld)", A, B, C);
    ck_assert_int_eq(wait_count(10, 30000, sql), 10); /* A 4 kinds, B 3, C 3 (no periods) */
    char text[512];
    it_sql_text(text, sizeof text,
                "SELECT string_agg(kind || ':' || algorithm || ':' || samples || ':' || active, ' ' ORDER BY kind)"
                " FROM user_models WHERE member_id = %lld",
                A);
    ck_assert_str_eq(text, "cycle:wmean:7:true energy:gbt:60:true mood:gbt:60:true symptoms:gbt:60:true");
    it_sql_text(text, sizeof text,
                "SELECT string_agg(kind || ':' || algorithm || ':' || samples, ' ' ORDER BY kind) FROM user_models"
                " WHERE member_id = %lld",
                B);
    ck_assert_str_eq(text, "energy:ridge:20 mood:ovr_logistic:20 symptoms:logistic:20");
    /* Isolation: B's models know tofu, never A's milk. */
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM user_models WHERE member_id = %lld AND kind = 'symptoms'"
                                " AND position('tofu'::bytea in artifact) > 0 AND position('milk'::bytea in artifact) = 0",
                                B),
                     1);
    /* Predictions: A's are for the day after the last log, next period 28 days after the last start. */
    char want[16];
    it_date(want, it_day(-1));
    it_sql_text(text, sizeof text,
                "SELECT predicted_for::text || ' ' || (value->>'confidence') || ' ' || (model_id IS NOT NULL)"
                " FROM predictions WHERE member_id = %lld AND target = 'bloating'",
                A);
    char expect[64];
    snprintf(expect, sizeof expect, "%s high true", want);
    ck_assert_str_eq(text, expect);
    it_date(want, it_day(-8 * 28 + 5 + 7 * 28 + 28));
    it_sql_text(text, sizeof text, "SELECT value->>'start' FROM predictions WHERE member_id = %lld AND target = 'next_period'", A);
    ck_assert_str_eq(text, want);
    long long preds = it_sql_int("SELECT count(*) FROM predictions WHERE member_id IN (%lld, %lld, %lld)", A, B, C);
    ck_assert_int_eq(preds, 8 + 5 + 5); /* A: 3 cycle + 3 symptoms + energy + mood; B, C: 5 */
    bool ok;
    IT_WAIT_FOR(ok, invalidations(A, "predictions") >= 1 && invalidations(A, "models") >= 1, 20000);
    ck_assert_msg(ok, "no cache.invalidate for member %lld", A);
    it_note("models, predictions and invalidations for A, B, C");

    /* The same data again: nothing new. */
    retrain(A, "t2");
    IT_WAIT_FOR(ok, invalidations(A, "predictions") >= 2, 20000);
    ck_assert(ok);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM user_models WHERE member_id = %lld", A), 4);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM predictions WHERE member_id = %lld", A), 8);

    /* C: 7 more logs -> version 2 active; rollback -> version 1. */
    char out[1024];
    int rc = -1;
    {
        char hfctl[512], member[24];
        it_bin("hfctl", hfctl, sizeof hfctl);
        snprintf(member, sizeof member, "%lld", C);
        const char *argv[] = { hfctl, "model", "rollback", member, "symptoms", NULL };
        rc = it_run(out, sizeof out, 20000, argv, NULL);
        ck_assert_int_eq(rc, 1); /* only version 1: nothing to roll back to */
        post_days(port, c.key, C, -20, 7, 2);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", C);
        ck_assert_int_eq(wait_count(27, 30000, sql), 27);
        retrain(C, "t2");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM user_models WHERE member_id = %lld AND kind = 'symptoms' AND version = 2 AND active", C);
        ck_assert_int_eq(wait_count(1, 30000, sql), 1);
        rc = it_run(out, sizeof out, 20000, argv, NULL);
        ck_assert_msg(rc == 0, "rollback: %s", out);
    }
    ck_assert_int_eq(it_sql_int("SELECT version FROM user_models WHERE member_id = %lld AND kind = 'symptoms' AND active", C), 1);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE action = 'ROLLBACK' AND target_resource = 'user_models/%lld/symptoms'", C), 1);
    /* The rollback's job refreshes C's predictions from version 1. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT DISTINCT ON (target) model_id FROM predictions WHERE member_id = %lld AND kind = 'symptoms'"
             " ORDER BY target, created_at DESC, id DESC) p JOIN user_models m ON m.id = p.model_id WHERE m.version = 1", C);
    ck_assert_int_eq(wait_count(3, 30000, sql), 3);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM user_models WHERE member_id = %lld AND kind = 'symptoms'", C), 2);
    it_note("rollback of C's symptoms to version 1, predictions refreshed");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { retrain_end_to_end };
    return it_run_suite("0400-retrain", tests, 1, 110);
}
