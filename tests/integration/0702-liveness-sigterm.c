/* 0702: a hung pool fails /healthz; SIGTERM under load loses nothing.
 *
 *  A. The pool runs with HF_LIVENESS_MS=1500. The test holds an ACCESS
 *     EXCLUSIVE lock on daily_logs, so the pool's next batch blocks inside
 *     PostgreSQL: /healthz turns 503 ("poll loop stuck"), which is what makes
 *     Kubernetes restart a hung process. The lock released: 200 again, and the
 *     blocked log is stored.
 *  B. 2,000 logs posted in batches of 50; after the 13th batch the pool gets
 *     SIGTERM while it is consuming: it exits 0 within the grace period. The
 *     rest is posted with no pool running; a new pool stores the rest. Every
 *     accepted event is in daily_logs exactly once.
 */
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static int port;
static struct it_client client;
static long long member, program;

static void post_batch(int n, int first)
{
    char body[16384];
    size_t len = 0;
    body[len++] = '[';
    for (int i = 0; i < n; i++) {
        char ts[32];
        int k = first + i;
        it_ts(ts, it_day(-(k % 28) - 1), k % 24, (k / 24) % 60, k % 60);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"type\": \"log.nutrition\", \"member_id\": %lld, \"program_id\": %lld,"
                                " \"occurred_at\": \"%s\", \"calories\": %d}",
                                i ? "," : "", member, program, ts, 100 + k % 900);
    }
    snprintf(body + len, sizeof body - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, body, NULL);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    it_http_free(&r);
}

static long health(int metrics_port)
{
    struct it_http r;
    long status = it_request(&r, "GET", metrics_port, "/healthz", NULL, NULL, 0, false);
    it_http_free(&r);
    return status;
}

static void wait_rows(long long n)
{
    bool ok;
    long long have = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&have, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && have == n,
                60000);
    ck_assert_msg(ok, "%lld logs stored, want %lld", have, n);
}

START_TEST(liveness_and_sigterm)
{
    it_make_client(&client, "app");
    member = it_make_member(it_make_user(client.id, "u"), "Ivo");
    program = it_make_program(member, -40, "{\"calories\": 2000}", NULL);
    it_start_intake(&port, NULL);
    int metrics;
    const char *const env[] = { "HF_LIVENESS_MS=1500", NULL };
    pid_t pool = it_start_pool("adherence", &metrics, env);
    post_batch(1, 0);
    wait_rows(1);
    ck_assert_int_eq(health(metrics), 200);

    it_sql("BEGIN");
    it_sql("LOCK TABLE daily_logs IN ACCESS EXCLUSIVE MODE");
    post_batch(1, 1);
    bool ok;
    IT_WAIT_FOR(ok, health(metrics) == 503, 15000);
    it_sql("COMMIT");
    ck_assert_msg(ok, "/healthz stayed 200 while the pool was blocked");
    it_note("/healthz 503 while the batch was blocked in PostgreSQL");
    IT_WAIT_FOR(ok, health(metrics) == 200, 15000);
    ck_assert_msg(ok, "/healthz did not recover after the lock was released");
    wait_rows(2);

    int posted = 2;
    for (int b = 0; b < 13; b++, posted += 50)
        post_batch(50, posted);
    ck_assert_int_eq(it_stop(pool, 30000), 0);
    it_note("SIGTERM with %lld of %d stored: exited 0", it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", member), posted);
    for (int b = 13; b < 40; b++, posted += 50)
        post_batch(50, posted);
    it_start_pool("adherence", &metrics, NULL);
    wait_rows(posted);
    ck_assert_int_eq(it_sql_int("SELECT count(DISTINCT event_id) FROM daily_logs WHERE member_id = %lld", member),
                     posted);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { liveness_and_sigterm };
    return it_run_suite("0702-liveness-sigterm", tests, 1, 110);
}
