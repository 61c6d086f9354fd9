/* 0006: PostgreSQL goes away for ~4 s under load; nothing accepted is lost
 * or doubled, and nothing good is dead-lettered.
 *
 * With the pool (HF_RETRY_CAP_MS=1000, so it notices the return within a
 * second) and the intake running: 500 events posted and stored; then
 * `tools/stack down pg`, 500 more posted over the first 3 s of the outage (batches of 10 for
 * one member and program, so the intake's cached key and ownership answers
 * let it accept them without the database: 202; a batch answered 503 is
 * retried with the same event ids once PostgreSQL is back); then
 * `tools/stack up pg`.
 *
 * Then every accepted event is in daily_logs exactly once (and in
 * processed_events once), the pool's hf_retries_total{reason="dependency"}
 * is above 0 and its outage gauge back to 0, the dead-letter topic is empty,
 * and the intake's /readyz, 503 during the outage, is 200 again. An event for
 * a member the intake has not cached is answered 503 during the outage and
 * accepted (and stored once) when retried afterwards.
 * Teardown restarts PostgreSQL whatever happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

#define PER_PHASE 500
#define BATCH 10
#define N_BATCHES (2 * PER_PHASE / BATCH)

static int port, metrics;
static struct it_client client;
static long long member, program, stranger;
static char ids[2 * PER_PHASE][37];
static bool accepted[N_BATCHES];

/* Posts batch b once; true when it was accepted (202). */
static bool post_batch(int b, long *status)
{
    char body[BATCH * 300];
    size_t len = (size_t)snprintf(body, sizeof body, "[");
    for (int i = 0; i < BATCH; i++) {
        int k = b * BATCH + i;
        char ts[32];
        it_ts(ts, it_day(-1 - k % 3), 6 + k % 12, k % 60, 0);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"event_id\": \"%s\", \"type\": \"log.nutrition\", \"member_id\": %lld,"
                                " \"program_id\": %lld, \"occurred_at\": \"%s\", \"calories\": %d}",
                                i ? "," : "", ids[k], member, program, ts, 100 + k % 500);
    }
    snprintf(body + len, sizeof body - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, body, NULL);
    *status = r.status;
    if (r.status != 202 && r.status != 503)
        ck_abort_msg("batch %d: unexpected status %ld: %s", b, r.status, r.body);
    if (r.status == 202)
        for (int i = 0; i < BATCH; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(json_object_get(r.json, "results"), (size_t)i),
                                                               "event_id"));
            ck_assert_msg(id && strcmp(id, ids[b * BATCH + i]) == 0, "batch %d item %d: event_id %s, want %s", b, i,
                          id ? id : "(none)", ids[b * BATCH + i]);
        }
    it_http_free(&r);
    return *status == 202;
}

static char *id_array(bool only_accepted)
{
    size_t cap = (size_t)2 * PER_PHASE * 38 + 16, len = 0;
    char *a = malloc(cap);
    ck_assert(a != NULL);
    len += (size_t)snprintf(a + len, cap - len, "'{");
    bool first = true;
    for (int k = 0; k < 2 * PER_PHASE; k++)
        if (!only_accepted || accepted[k / BATCH]) {
            len += (size_t)snprintf(a + len, cap - len, "%s%s", first ? "" : ",", ids[k]);
            first = false;
        }
    snprintf(a + len, cap - len, "}'::uuid[]");
    return a;
}

static long long stored(const char *array)
{
    long long n = -1;
    if (!it_sql_int_try(&n, "SELECT count(*) FROM daily_logs WHERE event_id = ANY(%s)", array))
        return -1;
    return n;
}

static long ready_status(void)
{
    struct it_http r;
    long s = it_request(&r, "GET", port, "/readyz", NULL, NULL, 0, false);
    it_http_free(&r);
    return s;
}

START_TEST(postgres_outage)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    member = it_make_member(user, "Hal");
    stranger = it_make_member(user, "Ivy"); /* never posted for before the outage: not cached */
    program = it_make_program(member, -30, "{\"calories\": 2000}", NULL);
    for (int k = 0; k < 2 * PER_PHASE; k++)
        it_uuid4(ids[k]);
    const char *pool_env[] = { "HF_RETRY_CAP_MS=1000", NULL };
    it_start_pool("adherence", &metrics, pool_env);
    it_start_intake(&port, NULL);

    /* Phase 1: PostgreSQL up. */
    int64_t t = it_now_ms();
    long status;
    for (int b = 0; b < N_BATCHES / 2; b++)
        ck_assert_msg(post_batch(b, &status), "batch %d with PostgreSQL up: status %ld", b, status);
    for (int b = 0; b < N_BATCHES / 2; b++)
        accepted[b] = true;
    it_note("phase 1: %d events accepted in %.2f s", PER_PHASE, (it_now_ms() - t) / 1000.0);
    char *phase1 = id_array(true);
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok, (n = stored(phase1)) == PER_PHASE, 30000);
    free(phase1);
    ck_assert_msg(ok, "phase 1: %lld of %d events in daily_logs", n, PER_PHASE);
    ck_assert_int_eq(ready_status(), 200);

    /* Phase 2: PostgreSQL down for ~4 s while posting. */
    it_stack("down", "pg");
    int64_t down_at = it_now_ms();
    int ok_during = 0, refused_during = 0;
    for (int b = N_BATCHES / 2; b < N_BATCHES; b++) {
        /* Spread over the first ~3 s of the outage, so the pool keeps
         * receiving work while it retries. */
        int64_t due = down_at + (int64_t)(b - N_BATCHES / 2) * 3000 / (N_BATCHES / 2);
        if (it_now_ms() < due)
            it_sleep_ms((int)(due - it_now_ms()));
        accepted[b] = post_batch(b, &status);
        if (accepted[b])
            ok_during++;
        else
            refused_during++;
    }
    it_note("phase 2 (PostgreSQL down): %d batches accepted, %d answered 503, in %.2f s", ok_during, refused_during,
            (it_now_ms() - down_at) / 1000.0);
    /* While it is down: the pool knows, the intake is not ready. */
    double outage = -1;
    IT_WAIT_FOR(ok, (outage = it_metric(metrics, "hf_dependency_outage{pool=\"adherence\"}")) == 1, 3500);
    ck_assert_msg(ok, "pool's hf_dependency_outage is %g during the outage, want 1", outage);
    long intake_ready = ready_status();
    /* An owner the intake has not cached cannot be checked: 503, retry later. */
    char uncached[512], ts[32], uncached_id[37];
    it_uuid4(uncached_id);
    it_ts(ts, it_day(-1), 20, 0, 0);
    snprintf(uncached, sizeof uncached,
             "{\"event_id\": \"%s\", \"type\": \"log.nutrition\", \"member_id\": %lld, \"occurred_at\": \"%s\","
             " \"calories\": 42}",
             uncached_id, stranger, ts);
    struct it_http r;
    it_post(&r, port, "/v1/events", client.key, uncached, NULL);
    long uncached_status = r.status;
    char uncached_code[64];
    snprintf(uncached_code, sizeof uncached_code, "%s", it_err_code(&r));
    it_http_free(&r);
    int64_t left = 4000 - (it_now_ms() - down_at);
    if (left > 0)
        it_sleep_ms((int)left); /* the outage itself lasts ~4 s: nothing to poll */
    it_stack("up", "pg");
    it_note("PostgreSQL was down for %.2f s", (it_now_ms() - down_at) / 1000.0);
    ck_assert_msg(intake_ready == 503, "intake /readyz answered %ld during the outage, want 503", intake_ready);
    ck_assert_msg(uncached_status == 503 && strcmp(uncached_code, "unavailable") == 0,
                  "an uncached member during the outage: %ld %s, want 503 unavailable", uncached_status, uncached_code);

    /* Batches refused during the outage, again with the same ids. */
    for (int b = N_BATCHES / 2; b < N_BATCHES; b++) {
        int64_t deadline = it_now_ms() + 20000;
        while (!accepted[b]) {
            accepted[b] = post_batch(b, &status);
            ck_assert_msg(accepted[b] || it_now_ms() < deadline, "batch %d still refused after PostgreSQL is back", b);
            if (!accepted[b])
                it_sleep_ms(100);
        }
    }

    /* The refused single event, again, until PostgreSQL answers the intake. */
    IT_WAIT_FOR(ok, (it_post(&r, port, "/v1/events", client.key, uncached, NULL), uncached_status = r.status,
                     it_http_free(&r), uncached_status == 202),
                20000);
    ck_assert_msg(ok, "the uncached member's event is still refused (%ld) after PostgreSQL is back", uncached_status);

    /* Everything accepted lands exactly once. */
    int n_accepted = 0;
    for (int b = 0; b < N_BATCHES; b++)
        n_accepted += accepted[b] ? BATCH : 0;
    ck_assert_int_eq(n_accepted, 2 * PER_PHASE);
    char *all = id_array(true);
    t = it_now_ms();
    IT_WAIT_FOR(ok, (n = stored(all)) == n_accepted, 60000);
    ck_assert_msg(ok, "%lld of %d accepted events in daily_logs 60 s after PostgreSQL came back", n, n_accepted);
    it_note("all %d accepted events stored %.2f s after PostgreSQL came back", n_accepted,
            (it_now_ms() - t) / 1000.0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", member), n_accepted);
    ck_assert_int_eq(it_sql_int("SELECT count(DISTINCT event_id) FROM daily_logs WHERE member_id = %lld", member),
                     n_accepted);
    ck_assert_int_eq(
        it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 'adherence' AND event_id = ANY(%s)", all),
        n_accepted);
    free(all);
    long long once = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&once, "SELECT count(*) FROM daily_logs WHERE event_id = '%s'", uncached_id) &&
                        once == 1,
                20000);
    ck_assert_msg(ok, "the event refused during the outage and accepted after: %lld rows, want 1", once);

    double retries = it_metric(metrics, "hf_retries_total{pool=\"adherence\",reason=\"dependency\"}");
    ck_assert_msg(retries > 0, "hf_retries_total{reason=\"dependency\"} is %g, want > 0", retries);
    IT_WAIT_FOR(ok, (outage = it_metric(metrics, "hf_dependency_outage{pool=\"adherence\"}")) == 0, 5000);
    ck_assert_msg(ok, "pool's hf_dependency_outage still %g", outage);
    double dead = it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"}");
    ck_assert_msg(dead == 0, "%g messages dead-lettered because of the outage", dead);
    ck_assert_int_eq(it_topic_count(it_topic("dlq.adherence")), 0);
    long back = -1;
    IT_WAIT_FOR(ok, (back = ready_status()) == 200, 10000);
    ck_assert_msg(ok, "intake /readyz answers %ld after PostgreSQL is back", back);
    it_note("retries (dependency): %g; processed %g, replayed %g", retries,
            it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"processed\"}"),
            it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"replayed\"}"));
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { postgres_outage };
    return it_run_suite("0006-postgres-outage", tests, 1, 110);
}
