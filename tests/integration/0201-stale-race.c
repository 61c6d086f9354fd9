/* 0201: a slow read-populate interleaved with a write never leaves the
 * stale value live.
 *
 * The test plays the slow reader itself, step by step, with the library the
 * intake uses (hf_cache, hf_reads), against the real Redis, PostgreSQL and
 * hf-cache_invalidation:
 *   reader: hf_cache_get -> version V, a miss; hf_reads_load -> score 10
 *   writer: UPDATE adherence_metrics to 90, COMMIT, cache.invalidate
 *           produced; the pool bumps the version past V
 *   reader: hf_cache_put(V, score 10)   <- the stale value lands...
 *   -> ...under V's key, which is dead: hf-intake's GET answers 90, and the
 *      stale text is still at V's key (stored, never served).
 * Then the other order (the bump before the reader reads the version): the
 * reader's query sees the new score and stores it under the new version.
 * Last, hf-intake read by a thread in a loop while 10 writes and their
 * invalidations run: once the last is consumed, reads answer the last value.
 */
#include <pthread.h>
#include <stdatomic.h>
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
static char path[160];
static struct hf_cache_ref ref;

static void set_score(int score)
{
    it_sql("UPDATE adherence_metrics SET total_score = %d WHERE program_id = %lld", score, program);
    char json[200];
    snprintf(json, sizeof json, "{\"entity\":\"program\",\"entity_id\":%lld,\"kind\":\"adherence\",\"at\":\"2026-01-01T00:00:00Z\"}",
             program);
    it_emit("cache.invalidate", json);
}

static uint64_t version_now(hf_redis *redis)
{
    uint64_t v;
    char *value = NULL;
    struct hf_err err = { 0 };
    ck_assert_msg(hf_cache_get(redis, &ref, NULL, &v, &value, NULL, NULL, &err) == 0, "%s", err.msg);
    free(value);
    return v;
}

static void wait_version_past(hf_redis *redis, uint64_t v)
{
    bool ok;
    IT_WAIT_FOR(ok, version_now(redis) > v, 20000);
    ck_assert_msg(ok, "the pool never bumped the version past %llu", (unsigned long long)v);
}

/* The intake's answer holds "total_score" : <score>. */
static bool intake_says(int score)
{
    struct it_http r;
    char auth[160], want[48];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", client.key);
    const char *h[] = { auth, NULL };
    it_request(&r, "GET", port, path, h, NULL, 0, false);
    snprintf(want, sizeof want, "\"total_score\" : %d", score);
    bool ok = r.status == 200 && strstr(r.body, want) != NULL;
    if (!ok)
        it_note("intake: %ld %s (want %d)", r.status, r.body, score);
    it_http_free(&r);
    return ok;
}

static atomic_bool stop_readers;
static atomic_int reads_done;

static void *reader(void *arg)
{
    (void)arg;
    /* Its own curl handle: the harness's is not shared across threads. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -H 'Authorization: Bearer %s' 'http://127.0.0.1:%d%s'", client.key,
             port, path);
    while (!atomic_load(&stop_readers)) {
        if (system(cmd) == 0)
            atomic_fetch_add(&reads_done, 1);
    }
    return NULL;
}

START_TEST(stale_value_never_wins)
{
    it_make_client(&client, "race");
    long long user = it_make_user(client.id, "u");
    long long member = it_make_member(user, "Ada");
    program = it_make_program(member, -20, "{}", NULL);
    int32_t d = it_day(-3);
    char day[11];
    it_date(day, d);
    it_sql("INSERT INTO adherence_metrics (program_id, date, total_score, details) VALUES (%lld, '%s', 10, '{}')",
           program, day);
    snprintf(path, sizeof path, "/v1/programs/%lld/adherence?from=%s&to=%s", program, day, day);
    ref = (struct hf_cache_ref){ .kind = HF_CACHE_ADHERENCE, .id = program, .from = d, .to = d };
    it_start_pool("cache_invalidation", &cache_metrics, NULL);
    const char *env[] = { "HF_RATE_USER_READ_RPM=1000000", NULL };
    it_start_intake(&port, env);

    struct hf_err err = { 0 };
    hf_redis *redis = NULL;
    hf_pg *pg = NULL;
    ck_assert_msg(hf_redis_connect(getenv("HF_REDIS_URL"), 1000, 0, &redis, &err) == 0, "%s", err.msg);
    ck_assert_msg(hf_pg_connect(getenv("HF_PG_URL"), &pg, &err) == 0, "%s", err.msg);

    /* 1. The slow reader reads the version, then PostgreSQL (score 10)... */
    uint64_t v;
    char *cached = NULL, *old = NULL, *fresh = NULL;
    size_t old_len, len;
    ck_assert_int_eq(hf_cache_get(redis, &ref, NULL, &v, &cached, NULL, NULL, &err), 0);
    ck_assert_ptr_null(cached); /* a miss */
    ck_assert_int_eq(hf_reads_load(pg, &ref, &old, &old_len, &err), 0);
    ck_assert_ptr_nonnull(strstr(old, "\"total_score\" : 10"));
    /* ...the write commits and its invalidation is consumed... */
    set_score(90);
    wait_version_past(redis, v);
    /* ...and only then the reader stores what it read: under V. */
    ck_assert_int_eq(hf_cache_put(redis, &ref, v, old, old_len, &err), 0);
    ck_assert_msg(intake_says(90), "the stale value won");
    char key[200];
    ck_assert_int_eq(hf_cache_key(&ref, v, key, sizeof key), 0);
    const char *argv[] = { "GET", key };
    redisReply *rep = NULL;
    ck_assert_int_eq(hf_redis_cmd(redis, 2, argv, NULL, &rep, &err), 0);
    ck_assert_msg(rep->type == REDIS_REPLY_STRING && strcmp(rep->str, old) == 0, "the stale value sits at the dead key");
    freeReplyObject(rep);

    /* 2. The other order: the bump lands before the reader reads the version. */
    uint64_t before = version_now(redis);
    set_score(55);
    wait_version_past(redis, before);
    ck_assert_int_eq(hf_cache_get(redis, &ref, NULL, &v, &cached, NULL, NULL, &err), 0);
    free(cached);
    ck_assert_int_eq(hf_reads_load(pg, &ref, &fresh, &len, &err), 0);
    ck_assert_ptr_nonnull(strstr(fresh, "\"total_score\" : 55"));
    ck_assert_int_eq(hf_cache_put(redis, &ref, v, fresh, len, &err), 0);
    ck_assert(intake_says(55));

    /* 3. Readers in a loop against 10 writes; the last write wins. */
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 1; i <= 10; i++) {
        before = version_now(redis);
        set_score(60 + i);
        wait_version_past(redis, before);
        it_sleep_ms(30);
    }
    atomic_store(&stop_readers, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    it_note("%d concurrent reads during the writes", atomic_load(&reads_done));
    ck_assert_int_gt(atomic_load(&reads_done), 10);
    ck_assert_msg(intake_says(70), "after the last invalidation the last value is served");

    free(old);
    free(fresh);
    hf_redis_free(redis);
    hf_pg_free(pg);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { stale_value_never_wins };
    return it_run_suite("0201-stale-race", tests, 1, 110);
}
