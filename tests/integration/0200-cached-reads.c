/* 0200: the cached reads, end to end, on the real stack.
 *
 * hf-intake, hf-adherence and hf-cache_invalidation run; Redis is the shared
 * one (HF_REDIS_URL, the test's database index). Every write type is followed
 * by a read that returns the new value once the invalidation is consumed:
 *  - a meal posted -> adherence pool -> cache.invalidate (program, adherence)
 *    -> the cached adherence range shows the scored day;
 *  - job.adherence_weekly -> (program, adherence_weekly) -> the week appears;
 *  - predictions and insights rows written straight into PostgreSQL (their
 *    pools are not built yet) followed by the cache.invalidate those pools
 *    emit after their commit -> the new rows; before the invalidation the
 *    cached (old) value is still served, which shows the read is cached.
 * Also: a repeat read is a hit (metric); ETag and If-None-Match -> 304;
 * insights are served stale (and a job.insight_refresh produced, once) when
 * the member's data changed after they were computed or they are a day old;
 * another client's member or program, and unknown ids, are 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_config.h"
#include "hf_redis.h"
#include "it_harness.h"

static int port, pool_metrics, cache_metrics;
static struct it_client client, other;
static long long user, member, member2, program;

static long get(struct it_http *r, const char *key, const char *path, const char *etag)
{
    char auth[160], inm[80];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag ? etag : "");
    const char *h[] = { auth, etag ? inm : NULL, NULL };
    return it_request(r, "GET", port, path, h, NULL, 0, false);
}

static void invalidate(const char *entity, long long id, const char *kind)
{
    char json[256], at[40];
    it_ts(at, it_day(0), 0, 0, 0);
    snprintf(json, sizeof json, "{\"entity\":\"%s\",\"entity_id\":%lld,\"kind\":\"%s\",\"at\":\"%s\"}", entity, id, kind,
             at);
    it_emit("cache.invalidate", json);
}

/* Polls path until its body contains needle (true) or 20 s passed. */
static bool read_until(const char *path, const char *needle)
{
    bool ok;
    struct it_http r;
    IT_WAIT_FOR(ok, (get(&r, client.key, path, NULL), ok = r.status == 200 && strstr(r.body, needle), it_http_free(&r), ok),
                20000);
    return ok;
}

static double hits(void)
{
    return it_metric(port, "hf_cache_reads_total{outcome=\"hit\"}");
}

START_TEST(cached_reads)
{
    it_make_client(&client, "app");
    it_make_client(&other, "other");
    user = it_make_user(client.id, "u");
    member = it_make_member(user, "Ada");
    member2 = it_make_member(user, "Ben");
    program = it_make_program(member, -20, "{\"calories\": 2000}", NULL);
    long long other_user = it_make_user(other.id, "o");
    long long other_member = it_make_member(other_user, "Zed");
    it_start_pool("adherence", &pool_metrics, NULL);
    it_start_pool("cache_invalidation", &cache_metrics, NULL);
    const char *env[] = { "HF_RATE_USER_READ_RPM=100000", NULL };
    it_start_intake(&port, env);

    char path[160], day[11], week[11], body[512], etag[64], tmp[64];
    struct it_http r;
    it_date(day, it_day(-2));
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=%s&to=%s", program, day, day);

    /* 1. First read: a miss, from PostgreSQL; the repeat is a hit with the same ETag. */
    double h0 = hits();
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_msg(strstr(r.body, "\"days\" : []") || strstr(r.body, "\"days\": []") || strstr(r.body, "\"days\":[]"),
                  "%s", r.body);
    ck_assert_ptr_nonnull(it_http_header(&r, "ETag", etag, sizeof etag));
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_str_eq(it_http_header(&r, "ETag", tmp, sizeof tmp), etag);
    it_http_free(&r);
    ck_assert_msg(hits() == h0 + 1, "hits %f -> %f", h0, hits());

    /* 2. If-None-Match with the ETag: 304, no body; another ETag: 200. */
    ck_assert_int_eq(get(&r, client.key, path, etag), 304);
    ck_assert_int_eq((int)r.len, 0);
    ck_assert_str_eq(it_http_header(&r, "ETag", tmp, sizeof tmp), etag);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, path, "\"0000000000000000\""), 200);
    it_http_free(&r);

    /* 3. Write: a meal on that day -> the cached range shows the scored day. */
    char ts[32];
    it_ts(ts, it_day(-2), 12, 0, 0);
    snprintf(body, sizeof body,
             "{\"type\":\"log.nutrition\",\"member_id\":%lld,\"program_id\":%lld,\"occurred_at\":\"%s\","
             "\"calories\":2000}",
             member, program, ts);
    it_post(&r, port, "/v1/events", client.key, body, NULL);
    ck_assert_int_eq(r.status, 202);
    it_http_free(&r);
    char needle[64];
    snprintf(needle, sizeof needle, "\"date\" : \"%s\"", day);
    if (!read_until(path, "total_score")) {
        get(&r, client.key, path, NULL);
        ck_abort_msg("adherence never showed the new day: %s", r.body);
    }
    ck_assert_int_eq(get(&r, client.key, path, etag), 200); /* the old ETag no longer matches */
    it_http_free(&r);

    /* 4. Write: the weekly summary. */
    int32_t ws = it_day(-8);
    it_date(week, ws);
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=%s&to=%s", program, week, day);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_msg(strstr(r.body, "avg_score") == NULL, "no week yet: %s", r.body);
    it_http_free(&r);
    snprintf(body, sizeof body, "{\"program_id\":%lld,\"week_start\":\"%s\"}", program, week);
    it_emit("job.adherence_weekly", body);
    ck_assert_msg(read_until(path, "avg_score"), "the weekly summary never showed");

    /* 5. Predictions: cached until the invalidation, then the new row. */
    snprintf(path, sizeof path, "/v1/members/%lld/predictions", member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_ptr_null(strstr(r.body, "next_period"));
    it_http_free(&r);
    it_sql("INSERT INTO predictions (member_id, kind, target, predicted_for, value)"
           " VALUES (%lld, 'cycle', 'next_period', current_date + 9, '{\"day\": 9}')",
           member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_msg(strstr(r.body, "next_period") == NULL, "read before the invalidation is the cached value: %s", r.body);
    it_http_free(&r);
    invalidate("member", member, "predictions");
    ck_assert_msg(read_until(path, "next_period"), "predictions never showed the new row");
    snprintf(path, sizeof path, "/v1/members/%lld/predictions?kind=mood", member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_ptr_null(strstr(r.body, "next_period")); /* filtered by kind */
    it_http_free(&r);
    snprintf(path, sizeof path, "/v1/members/%lld/predictions?kind=weather", member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 400);
    ck_assert_str_eq(it_err_field(&r), "kind");
    it_http_free(&r);

    /* 6. Insights: none yet -> 404 and a refresh asked; then written, then
     * replaced (new data hash) and invalidated. */
    snprintf(path, sizeof path, "/v1/members/%lld/insights", member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 404);
    it_http_free(&r);
    it_sql("INSERT INTO user_insights (member_id, data_hash, insights) VALUES (%lld, 'h1', '{\"n\": 1}')", member);
    ck_assert_msg(read_until(path, "\"h1\""), "insights never showed"); /* not cached: 404s are not */
    double stale0 = it_metric(port, "hf_cache_stale_served_total");
    it_sql("UPDATE user_insights SET data_hash = 'h2', insights = '{\"n\": 2}', computed_at = now() WHERE member_id = %lld",
           member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_msg(strstr(r.body, "\"h1\""), "cached until invalidated: %s", r.body);
    ck_assert_ptr_null(it_http_header(&r, "Warning", tmp, sizeof tmp)); /* fresh */
    it_http_free(&r);
    invalidate("member", member, "insights");
    ck_assert_msg(read_until(path, "\"h2\""), "insights never showed the new hash");
    ck_assert(it_metric(port, "hf_cache_stale_served_total") == stale0);

    /* 7. New data after the insights were computed: served stale, one refresh job. */
    it_ts(ts, it_day(-1), 12, 0, 0);
    snprintf(body, sizeof body,
             "{\"type\":\"log.nutrition\",\"member_id\":%lld,\"program_id\":%lld,\"occurred_at\":\"%s\","
             "\"calories\":1000}",
             member, program, ts);
    it_post(&r, port, "/v1/events", client.key, body, NULL);
    ck_assert_int_eq(r.status, 202);
    it_http_free(&r);
    bool ok;
    IT_WAIT_FOR(ok,
                (get(&r, client.key, path, NULL), ok = it_http_header(&r, "Warning", tmp, sizeof tmp) != NULL,
                 it_http_free(&r), ok),
                20000);
    ck_assert_msg(ok, "insights never served stale after new data");
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200); /* served again: stale, no second job */
    it_http_free(&r);

    /* 8. Insights a day old: stale by age. */
    it_sql("INSERT INTO user_insights (member_id, data_hash, insights, computed_at)"
           " VALUES (%lld, 'old', '{}', now() - interval '25 hours')",
           member2);
    snprintf(path, sizeof path, "/v1/members/%lld/insights", member2);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    ck_assert_ptr_nonnull(it_http_header(&r, "Warning", tmp, sizeof tmp));
    it_http_free(&r);

    /* The refresh jobs: member (404 then data change: the guard allows one per
     * 5 minutes, so one) and member2 (age). */
    struct it_records rs = { 0 };
    it_consume(it_topic("jobs.insights"), 2, 10000, &rs);
    int for_member = 0, for_member2 = 0;
    char k1[24], k2[24];
    snprintf(k1, sizeof k1, "%lld", member);
    snprintf(k2, sizeof k2, "%lld", member2);
    for (int i = 0; i < rs.n; i++) {
        ck_assert_str_eq(it_header(&rs.v[i], "hf-schema"), "job.insight_refresh");
        for_member += strcmp(rs.v[i].key, k1) == 0;
        for_member2 += strcmp(rs.v[i].key, k2) == 0;
    }
    it_records_free(&rs);
    ck_assert_int_eq(for_member, 1);
    ck_assert_int_eq(for_member2, 1);

    /* 9. Another client's member and program, unknown ids, bad ids: 404. */
    snprintf(path, sizeof path, "/v1/members/%lld/insights", other_member);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 404);
    ck_assert_str_eq(it_err_code(&r), "not_found");
    it_http_free(&r);
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence", program);
    ck_assert_int_eq(get(&r, other.key, path, NULL), 404);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, "/v1/members/999999999999/predictions", NULL), 404);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, "/v1/members/0/predictions", NULL), 404);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, "/v1/members/abc/predictions", NULL), 404);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, "nope", path, NULL), 401);
    it_http_free(&r);
    ck_assert_int_eq(it_post(&r, port, path, client.key, "{}", NULL), 405);
    it_http_free(&r);
    /* bad ranges */
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=2026-02-30", program);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 400);
    ck_assert_str_eq(it_err_field(&r), "from");
    it_http_free(&r);
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=2026-01-01&to=2026-12-31", program);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 400);
    ck_assert_str_eq(it_err_field(&r), "to");
    it_http_free(&r);
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=2026-01-09&to=2026-01-01", program);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 400);
    it_http_free(&r);
    (void)needle;
    it_stop_all_ok();
}
END_TEST

/* 429 exactly at the limit, with Retry-After, for reads and single-event
 * writes per user; other users are not affected. */
/* Tokens left in an app's shared bucket as of its last take. The test's app
 * has 12 a minute: a refill of 0.2 a second keeps one unit plain to see. */
static double app_tokens(long long client_id)
{
    hf_redis *redis = NULL;
    struct hf_err err = { 0 };
    struct hf_config cfg;
    ck_assert_msg(hf_config_load(&cfg, &err) == 0, "%s", err.msg);
    ck_assert_msg(hf_redis_connect(cfg.redis_url, 1000, 0, &redis, &err) == 0, "%s", err.msg);
    char key[64];
    snprintf(key, sizeof key, "hf:rl:client:%lld", client_id);
    const char *argv[] = { "HGET", key, "t" };
    redisReply *rep = NULL;
    ck_assert_int_eq(hf_redis_cmd(redis, 3, argv, NULL, &rep, &err), 0);
    ck_assert_msg(rep->type == REDIS_REPLY_STRING, "no bucket at %s", key);
    double tokens = strtod(rep->str, NULL);
    freeReplyObject(rep);
    hf_redis_free(redis);
    return tokens;
}

START_TEST(rate_limits_exact)
{
    it_make_client(&client, "rl");
    it_sql("UPDATE api_clients SET rate_limit_per_min = 12 WHERE id = %lld", client.id);
    long long u1 = it_make_user(client.id, "u1"), u2 = it_make_user(client.id, "u2");
    long long m1 = it_make_member(u1, "A"), m1b = it_make_member(u1, "B"), m2 = it_make_member(u2, "C");
    const char *env[] = { "HF_RATE_USER_READ_RPM=5", "HF_RATE_USER_WRITE_RPM=3", NULL };
    it_start_intake(&port, env);
    char path[128], ra[16];
    struct it_http r;
    /* reads count per user, whichever of its members is read */
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "/v1/members/%lld/predictions", i % 2 ? m1 : m1b);
        ck_assert_msg(get(&r, client.key, path, NULL) == 200, "read %d: %ld %s", i + 1, r.status, r.body);
        it_http_free(&r);
    }
    ck_assert_int_eq(get(&r, client.key, path, NULL), 429);
    ck_assert_str_eq(it_err_code(&r), "rate_limited");
    ck_assert_ptr_nonnull(it_http_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_int_ge(atoi(ra), 1);
    ck_assert_int_le(atoi(ra), 12); /* one read comes back every 12 s */
    it_http_free(&r);
    snprintf(path, sizeof path, "/v1/members/%lld/predictions", m2);
    ck_assert_int_eq(get(&r, client.key, path, NULL), 200);
    it_http_free(&r);
    /* single-event writes: 3 pass, the 4th is refused, nothing produced for it */
    char body[256], ts[32];
    it_ts(ts, it_day(-1), 9, 0, 0);
    for (int i = 0; i < 4; i++) {
        snprintf(body, sizeof body,
                 "{\"type\":\"log.symptom\",\"member_id\":%lld,\"occurred_at\":\"%s\","
                 "\"symptoms\":{\"bloating\":%d}}",
                 m1, ts, i + 1);
        double app_before = app_tokens(client.id);
        it_post(&r, port, "/v1/events", client.key, body, NULL);
        ck_assert_msg(r.status == (i < 3 ? 202 : 429), "write %d: %ld %s", i + 1, r.status, r.body);
        if (i == 3) {
            ck_assert_ptr_nonnull(it_http_header(&r, "Retry-After", ra, sizeof ra));
            ck_assert_int_ge(atoi(ra), 1);
            ck_assert_msg(strstr(r.body, "for this user"), "refused as the person's, not the app's: %s", r.body);
            /* the person's refusal cost the app nothing (one take, both or neither) */
            double app_after = app_tokens(client.id);
            ck_assert_msg(app_after > app_before - 0.5, "app bucket went from %g to %g", app_before, app_after);
        } else {
            double app_after = app_tokens(client.id);
            ck_assert_msg(app_after < app_before - 0.5, "a write cost the app nothing: %g then %g", app_before,
                          app_after);
        }
        it_http_free(&r);
    }
    ck_assert_int_eq(it_topic_count(it_topic("logs")), 3);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { cached_reads, rate_limits_exact };
    return it_run_suite("0200-cached-reads", tests, 2, 110);
}
