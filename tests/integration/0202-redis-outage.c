/* 0202: Redis stopped and restarted mid-run (a PRIVATE redis-server on a free
 * port, started by this test; the shared one is never touched).
 *
 * hf-intake, hf-adherence and hf-cache_invalidation use the private Redis
 * (HF_RATE_USER_READ_RPM=30). Before: a read is cached (hit). Redis stopped:
 *  - reads still answer 200, from PostgreSQL (hf_cache_reads_total
 *    {outcome="fallback"} counts them);
 *  - rate limiting still limits: the local fallback allows exactly 30 reads
 *    of a user, the 31st is 429 with Retry-After;
 *  - a meal posted is accepted and stored; the read shows it (PostgreSQL);
 *    its invalidation waits in the cache pool (dependency retries), nothing
 *    dead-lettered.
 * Redis restarted (empty): the pool's retried batch goes through; reads are
 * cached again (miss, then hit) and show the meal; every posted event stored
 * once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_harness.h"

static int redis_port, port, adh_metrics, cache_metrics;
static char pidfile[128];

static void redis_start(void)
{
    char p[16], out[256];
    snprintf(p, sizeof p, "%d", redis_port);
    snprintf(pidfile, sizeof pidfile, "/tmp/hf-it-0202-%d.pid", (int)getpid());
    const char *argv[] = { "/usr/bin/redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--daemonize", "yes", "--pidfile", pidfile, NULL };
    ck_assert_int_eq(it_run(out, sizeof out, 10000, argv, NULL), 0);
    bool ok;
    IT_WAIT_FOR(ok, it_port_open(redis_port), 5000);
    ck_assert_msg(ok, "private redis-server did not start on %d", redis_port);
}

/* Stops the private server; also at exit, so a failed test leaves none. */
static void redis_stop(void)
{
    FILE *f = fopen(pidfile, "r");
    int pid = 0;
    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
            usleep(50 * 1000);
    }
}

static long get(struct it_http *r, const char *key, const char *path)
{
    char auth[160];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
    const char *h[] = { auth, NULL };
    return it_request(r, "GET", port, path, h, NULL, 0, false);
}

static double reads(const char *outcome)
{
    char s[80];
    snprintf(s, sizeof s, "hf_cache_reads_total{outcome=\"%s\"}", outcome);
    return it_metric(port, s);
}

START_TEST(redis_away_and_back)
{
    redis_port = it_free_port();
    redis_start();
    atexit(redis_stop);
    struct it_client client;
    it_make_client(&client, "app");
    long long u1 = it_make_user(client.id, "u1"), u2 = it_make_user(client.id, "u2");
    long long m1 = it_make_member(u1, "A"), m2 = it_make_member(u2, "B");
    long long p2 = it_make_program(m2, -20, "{\"calories\": 2000}", NULL);
    char url[64];
    snprintf(url, sizeof url, "HF_REDIS_URL=redis://127.0.0.1:%d/0", redis_port);
    const char *env[] = { url, "HF_RATE_USER_READ_RPM=30", "HF_REDIS_RETRY_MS=200", "HF_REDIS_TIMEOUT_MS=200",
                          "HF_RETRY_CAP_MS=500", NULL };
    it_start_pool("adherence", &adh_metrics, env);
    it_start_pool("cache_invalidation", &cache_metrics, env);
    it_start_intake(&port, env);

    char p1path[128], p2path[160], day[11], ts[32], body[400], ra[16];
    snprintf(p1path, sizeof p1path, "/v1/members/%lld/predictions", m1);
    it_date(day, it_day(-2));
    snprintf(p2path, sizeof p2path, "/v1/programs/%lld/adherence?from=%s&to=%s", p2, day, day);
    struct it_http r;

    /* Before: cached. */
    ck_assert_int_eq(get(&r, client.key, p2path), 200);
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, p2path), 200);
    it_http_free(&r);
    ck_assert(reads("hit") == 1);

    /* Redis away. */
    redis_stop();
    double fb0 = reads("fallback");
    ck_assert_int_eq(get(&r, client.key, p2path), 200);
    it_http_free(&r);
    ck_assert_msg(reads("fallback") == fb0 + 1, "fallback counted");
    /* the local limiter: exactly 30 reads of user 1, then 429 */
    for (int i = 0; i < 30; i++) {
        ck_assert_msg(get(&r, client.key, p1path) == 200, "read %d during the outage: %ld %s", i + 1, r.status,
                      r.body);
        it_http_free(&r);
    }
    ck_assert_int_eq(get(&r, client.key, p1path), 429);
    ck_assert_ptr_nonnull(it_http_header(&r, "Retry-After", ra, sizeof ra));
    ck_assert_int_ge(atoi(ra), 1);
    it_http_free(&r);
    ck_assert_int_gt((int)it_metric(port, "hf_ratelimit_local_total"), 30);
    /* a write during the outage: accepted, stored, read from PostgreSQL */
    it_ts(ts, it_day(-2), 12, 0, 0);
    snprintf(body, sizeof body,
             "{\"type\":\"log.nutrition\",\"member_id\":%lld,\"program_id\":%lld,\"occurred_at\":\"%s\","
             "\"calories\":2000}",
             m2, p2, ts);
    it_post(&r, port, "/v1/events", client.key, body, NULL);
    ck_assert_int_eq(r.status, 202);
    it_http_free(&r);
    bool ok;
    IT_WAIT_FOR(ok, (get(&r, client.key, p2path), ok = strstr(r.body, "total_score") != NULL, it_http_free(&r), ok),
                20000);
    ck_assert_msg(ok, "the meal never showed during the outage");
    IT_WAIT_FOR(ok, it_metric(cache_metrics, "hf_retries_total{pool=\"cache_invalidation\",reason=\"dependency\"}") > 0,
                10000);
    ck_assert_msg(ok, "the cache pool did not wait for Redis");

    /* Redis back, empty. */
    redis_start();
    IT_WAIT_FOR(ok, it_metric(cache_metrics, "hf_messages_total{pool=\"cache_invalidation\",outcome=\"processed\"}") >= 1,
                20000);
    ck_assert_msg(ok, "the cache pool never got its invalidation through");
    double miss0 = reads("miss"), hit0 = reads("hit");
    ck_assert_int_eq(get(&r, client.key, p2path), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "total_score"));
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, p2path), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "total_score"));
    it_http_free(&r);
    ck_assert(reads("miss") == miss0 + 1);
    ck_assert(reads("hit") == hit0 + 1);
    /* nothing lost, nothing dead-lettered */
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", m2), 1);
    ck_assert(it_metric(cache_metrics, "hf_messages_total{pool=\"cache_invalidation\",outcome=\"dead_lettered\"}") == 0);
    it_stop_all_ok();
    redis_stop();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { redis_away_and_back };
    return it_run_suite("0202-redis-outage", tests, 1, 110);
}
