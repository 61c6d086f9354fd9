/* 0210: adherence invalidations name a day and bump only that day's week
 * (hf_cache.h); the cache pool puts the dashboard range of a program back
 * after the bump when it was cached (refresh on invalidate); and a stale
 * value still never wins at this grain.
 *
 *  - week_grain: a day-level invalidation for today leaves a range of a
 *    month ago cached (its next read is a hit) and the dashboard range (last
 *    7 days) answers the new score at once, from the cache (the pool
 *    refreshed it); a whole-program invalidation (no date) still drops both.
 *  - stale_value_never_wins_per_day: the slow reader of 0201 at day grain:
 *    version V read and a miss, PostgreSQL read (score 10), the write commits
 *    and its day-level invalidation is consumed (the summed version passes
 *    V), then the reader stores score 10 under V: the intake answers 90.
 *  - cold_programs_not_recomputed: an invalidation of a program whose
 *    dashboard nobody read stores nothing (no PostgreSQL work for it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_cache.h"
#include "hf_pg.h"
#include "hf_reads.h"
#include "hf_redis.h"
#include "it_harness.h"

static int port, cache_metrics;
static struct it_client client;
static long long program;
static hf_redis *redis;
static hf_pg *pg;

static void world(void)
{
    it_make_client(&client, "weeks");
    long long member = it_make_member(it_make_user(client.id, "u"), "Ada");
    program = it_make_program(member, -40, "{}", NULL);
    it_sql("INSERT INTO adherence_metrics (program_id, date, total_score, details)"
           " SELECT %lld, current_date - d, 10, '{}' FROM generate_series(0, 35) d",
           program);
    it_start_pool("cache_invalidation", &cache_metrics, NULL);
    const char *env[] = { "HF_RATE_USER_READ_RPM=1000000", NULL };
    it_start_intake(&port, env);
    struct hf_err err = { 0 };
    ck_assert_msg(hf_redis_connect(getenv("HF_REDIS_URL"), 1000, 0, &redis, &err) == 0, "%s", err.msg);
    ck_assert_msg(hf_pg_connect(getenv("HF_PG_URL"), &pg, &err) == 0, "%s", err.msg);
}

static void unworld(void)
{
    hf_redis_free(redis);
    hf_pg_free(pg);
    it_stop_all_ok();
}

static double hits(void)
{
    return it_metric(port, "hf_cache_reads_total{outcome=\"hit\"}");
}

/* GET the program's adherence of from..to (days from today); true when it
 * was a cache hit. The body must show `score` for `day` (days from today). */
static bool read_range(int from, int to, int day, int score)
{
    char path[200], a[11], b[11], auth[160], want[80], d[11];
    it_date(a, it_day(from));
    it_date(b, it_day(to));
    it_date(d, it_day(day));
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=%s&to=%s", program, a, b);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", client.key);
    const char *h[] = { auth, NULL };
    double before = hits();
    struct it_http r;
    it_request(&r, "GET", port, path, h, NULL, 0, false);
    snprintf(want, sizeof want, "\"date\" : \"%s\", \"total_score\" : %d", d, score);
    ck_assert_msg(r.status == 200 && strstr(r.body, want), "%s: %ld %s, want %s", path, r.status, r.body, want);
    it_http_free(&r);
    return hits() > before;
}

static void set_today(int score, bool with_date)
{
    char today[11], json[300];
    it_date(today, it_day(0));
    it_sql("UPDATE adherence_metrics SET total_score = %d WHERE program_id = %lld AND date = '%s'", score, program,
           today);
    double before = it_metric(cache_metrics, "hf_messages_total{pool=\"cache_invalidation\",outcome=\"processed\"}");
    snprintf(json, sizeof json,
             "{\"entity\":\"program\",\"entity_id\":%lld,\"kind\":\"adherence\"%s%s%s,\"at\":\"2026-01-01T00:00:00Z\"}",
             program, with_date ? ",\"date\":\"" : "", with_date ? today : "", with_date ? "\"" : "");
    it_emit("cache.invalidate", json);
    bool ok;
    IT_WAIT_FOR(ok,
                it_metric(cache_metrics, "hf_messages_total{pool=\"cache_invalidation\",outcome=\"processed\"}") >
                    before,
                20000);
    ck_assert_msg(ok, "the cache pool did not consume the invalidation");
}

START_TEST(week_grain)
{
    world();
    ck_assert(!read_range(-30, -24, -30, 10)); /* a month ago: a miss, then cached */
    ck_assert(read_range(-30, -24, -30, 10));
    ck_assert(!read_range(-6, 0, 0, 10)); /* the dashboard */
    ck_assert(read_range(-6, 0, 0, 10));

    set_today(55, true);
    ck_assert_msg(read_range(-6, 0, 0, 55), "the dashboard was not refreshed after the invalidation");
    ck_assert_msg(read_range(-30, -24, -30, 10), "a day of this week invalidated a range of a month ago");

    set_today(66, false); /* no date: the whole program */
    ck_assert_msg(!read_range(-30, -24, -30, 10), "a whole-program invalidation left an old range cached");
    ck_assert_msg(read_range(-6, 0, 0, 66), "the dashboard was not refreshed after a whole-program invalidation");
    unworld();
}
END_TEST

START_TEST(stale_value_never_wins_per_day)
{
    world();
    int32_t today = it_day(0);
    struct hf_cache_ref ref = { .kind = HF_CACHE_ADHERENCE, .id = program, .from = today - 2, .to = today };
    struct hf_err err = { 0 };
    uint64_t v, now;
    char *cached = NULL, *old = NULL;
    size_t old_len;
    ck_assert_int_eq(hf_cache_get(redis, &ref, NULL, &v, &cached, NULL, NULL, &err), 0);
    ck_assert_ptr_null(cached);
    ck_assert_int_eq(hf_reads_load(pg, &ref, &old, &old_len, &err), 0);
    set_today(90, true);
    ck_assert_int_eq(hf_cache_get(redis, &ref, NULL, &now, &cached, NULL, NULL, &err), 0);
    free(cached);
    ck_assert_msg(now > v, "the day's invalidation left the range's version at %llu", (unsigned long long)v);
    ck_assert_int_eq(hf_cache_put(redis, &ref, v, old, old_len, &err), 0); /* the stale value, too late */
    ck_assert_msg(!read_range(-2, 0, 0, 90), "the stale value won"); /* a miss, then the new score */
    ck_assert(read_range(-2, 0, 0, 90));
    free(old);
    unworld();
}
END_TEST

START_TEST(cold_programs_not_recomputed)
{
    world();
    int32_t today = it_day(0);
    struct hf_cache_ref dash = { .kind = HF_CACHE_ADHERENCE, .id = program, .from = today - 6, .to = today };
    set_today(70, true);
    struct hf_err err = { 0 };
    uint64_t v;
    char *cached = NULL;
    ck_assert_int_eq(hf_cache_get(redis, &dash, NULL, &v, &cached, NULL, NULL, &err), 0);
    ck_assert_msg(cached == NULL, "the pool computed a dashboard nobody had read: %s", cached);
    unworld();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { week_grain, stale_value_never_wins_per_day, cold_programs_not_recomputed };
    return it_run_suite("0210-adherence-week-invalidation", tests, 3, 60);
}
