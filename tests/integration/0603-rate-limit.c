/* 0603: the token bucket of an external API (002 lines 749-758), here Open
 * Food Facts at 3 calls per 2 s (a refill every 667 ms, a burst of 3),
 * shared by TWO processes of the pool through Redis (hf_ratelimit).
 *
 * 10 new ingredients arrive at once and the two processes split them (one
 * consumer group). The calls the bucket refuses are not degraded scores: the
 * batch waits (prepare says "unavailable", the runtime retries it) and every
 * row ends with Open Food Facts' answer. The fake's arrival times, from both
 * processes together, prove the pace: call j (from 0) comes no earlier than
 * (j - 2) x 667 ms after the first (less 100 ms of clock slack). Two
 * processes each with its own bucket would make 6 calls at once.
 */
#include <stdlib.h>

#include "it_ingredient.h"

#define N_NAMES 10
#define RATE 3
#define WINDOW_MS 2000

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

START_TEST(rate_limit_paces_calls)
{
    int fake = ing_start_fake();
    char buf[3][160];
    const char *env[24];
    const char *extra[] = { "HF_OFF_RATE=3", "HF_OFF_WINDOW_S=2", "HF_RETRY_BASE_MS=50", "HF_RETRY_CAP_MS=400",
                            NULL };
    ing_pool_env(fake, extra, buf, env);
    int metrics, metrics2;
    it_start_pool("ingredient_scoring", &metrics, env);
    it_start_pool("ingredient_scoring", &metrics2, env);
    /* both in the group before the jobs come, so both get some */
    const char *processed = "hf_messages_total{pool=\"ingredient_scoring\",outcome=\"processed\"}";
    it_sleep_ms(3000);
    char names[N_NAMES][96];
    for (int i = 0; i < N_NAMES; i++) {
        snprintf(names[i], sizeof names[i], "diet cola %s r%d", it_tag(), i);
        ing_job(names[i], "app_request");
    }
    for (int i = 0; i < N_NAMES; i++) {
        ing_wait_row(names[i], 0, 30000);
        char text[64];
        it_sql_text(text, sizeof text, "SELECT sources->'off'->>'status' FROM ingredient_scores WHERE name = '%s'",
                    names[i]);
        ck_assert_msg(strcmp(text, "200") == 0, "%s: Open Food Facts status %s", names[i], text);
    }
    struct it_http r;
    ck_assert_int_eq(it_request(&r, "GET", fake, "/_stats", NULL, NULL, 0, false), 200);
    json_t *at = json_object_get(json_object_get(r.json, "off"), "at_ms");
    int n = (int)json_array_size(at);
    ck_assert_int_eq(n, N_NAMES);
    long long t[N_NAMES];
    for (int i = 0; i < n; i++)
        t[i] = json_integer_value(json_array_get(at, (size_t)i));
    it_http_free(&r);
    qsort(t, (size_t)n, sizeof t[0], by_value);
    for (int j = RATE; j < n; j++) {
        long long earliest = (long long)(j - RATE + 1) * WINDOW_MS / RATE - 100;
        it_note("call %d at +%lld ms (earliest allowed +%lld)", j, t[j] - t[0], earliest);
        ck_assert_msg(t[j] - t[0] >= earliest, "call %d came %lld ms after the first: the bucket allows %lld", j,
                      t[j] - t[0], earliest);
    }
    const char *retried = "hf_retries_total{pool=\"ingredient_scoring\",reason=\"dependency\"}";
    double p1 = it_metric(metrics, processed), p2 = it_metric(metrics2, processed);
    it_note("process 1 scored %.0f, process 2 %.0f", p1, p2);
    ck_assert_msg(p1 >= 1 && p2 >= 1 && p1 + p2 == N_NAMES, "processed %.0f + %.0f", p1, p2);
    double retries = it_metric(metrics, retried) + it_metric(metrics2, retried);
    ck_assert_msg(retries >= 1, "the limited batches were never retried (%.0f)", retries);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { rate_limit_paces_calls };
    return it_run_suite("0603-rate-limit", tests, 1, 100);
}
