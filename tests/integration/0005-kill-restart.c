/* 0005: a pool killed with SIGKILL mid-stream loses nothing and applies
 * nothing twice.
 *
 * 2000 events (nutrition and workouts for 4 members, each with a program, over
 * 5 days) are posted in 20 batches of 100, each batch with its own
 * Idempotency-Key (a refused batch is retried with the same key, so it keeps
 * its event ids). Meanwhile the adherence pool (HF_BATCH_MAX=50, so it commits
 * often) is killed with SIGKILL twice, each time once it has written some
 * rows, and a new one is started at once (it gets the partitions after the
 * dead member's session times out, 10 s).
 *
 * Then: exactly 2000 daily_logs rows for the members, one per posted
 * event_id; exactly 2000 processed_events rows for those ids; and
 * adherence_metrics equal to a recompute, checked twice: in SQL (meals,
 * workout sessions and calories of every row against the logs) and by
 * producing a job.adherence_recalc for every scored day and checking that not
 * a byte of adherence_metrics changes (not even computed_at).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

#define N_MEMBERS 4
#define N_EVENTS 2000
#define BATCH 100
#define N_DAYS 5

static int port;
static struct it_client client;
static long long members[N_MEMBERS], programs[N_MEMBERS];
static char ids[N_EVENTS][37];
static int32_t first_day;

static void event_json(char *out, size_t outsz, int k)
{
    int m = k % N_MEMBERS;
    /* k / 20: every member gets nutrition and workouts on every day (k % 5
     * picks the type, k % 4 the member, and 20 is their period). */
    int32_t day = first_day + (k / 20) % N_DAYS;
    char ts[32];
    it_ts(ts, day, (k / 7) % 24, k % 60, (k / 3) % 60);
    if (k % 5 == 4)
        snprintf(out, outsz,
                 "{\"type\": \"log.workout\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\","
                 " \"activity\": \"strength\", \"minutes\": %d, \"sets\": %d}",
                 members[m], programs[m], ts, 20 + k % 40, k % 10);
    else
        snprintf(out, outsz,
                 "{\"type\": \"log.nutrition\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\","
                 " \"calories\": %d.5, \"protein_g\": %d, \"carbs_g\": %d, \"meal\": \"snack\"}",
                 members[m], programs[m], ts, 50 + k % 400, k % 45, k % 70);
}

/* Posts batch b (events b*BATCH ..), retrying a refused one with the same
 * Idempotency-Key; records the event ids. */
static void post_batch(int b)
{
    static char body[BATCH * 400];
    size_t len = (size_t)snprintf(body, sizeof body, "[");
    for (int i = 0; i < BATCH; i++) {
        char one[400];
        event_json(one, sizeof one, b * BATCH + i);
        len += (size_t)snprintf(body + len, sizeof body - len, "%s%s", i ? "," : "", one);
    }
    snprintf(body + len, sizeof body - len, "]");
    char key[80];
    snprintf(key, sizeof key, "%s-batch-%d", it_tag(), b);
    for (int attempt = 1;; attempt++) {
        struct it_http r;
        it_post(&r, port, "/v1/events/batch", client.key, body, key);
        if (r.status == 202) {
            const json_t *results = json_object_get(r.json, "results");
            ck_assert_int_eq(json_array_size(results), BATCH);
            for (int i = 0; i < BATCH; i++) {
                const char *id = json_string_value(json_object_get(json_array_get(results, (size_t)i), "event_id"));
                ck_assert_msg(id && strlen(id) == 36, "batch %d item %d has no event_id", b, i);
                snprintf(ids[b * BATCH + i], 37, "%s", id);
            }
            it_http_free(&r);
            return;
        }
        it_note("batch %d attempt %d: status %ld %.200s", b, attempt, r.status, r.body);
        ck_assert_msg(r.status == 503 && attempt < 5, "batch %d refused: %ld %s", b, r.status, r.body);
        it_http_free(&r);
        it_sleep_ms(200);
    }
}

static char members_list[128], programs_list[128];

static long long rows_now(void)
{
    long long n = -1;
    if (!it_sql_int_try(&n, "SELECT count(*) FROM daily_logs WHERE member_id IN (%s)", members_list))
        return -1;
    return n;
}

/* Waits until the pool has written more than `than` rows in all. */
static long long wait_rows_above(long long than, int timeout_ms)
{
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok, (n = rows_now()) > than, timeout_ms);
    ck_assert_msg(ok, "daily_logs stuck at %lld rows for the members (want more than %lld)", n, than);
    return n;
}

static const char *const pool_env[] = { "HF_BATCH_MAX=50", NULL };

START_TEST(kill_restart)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    size_t ml = 0, pl = 0;
    for (int m = 0; m < N_MEMBERS; m++) {
        char name[16];
        snprintf(name, sizeof name, "member%d", m);
        members[m] = it_make_member(user, name);
        programs[m] = it_make_program(members[m], -40,
                                      "{\"calories\": 1500, \"protein_g_min\": 80, \"carbs_g_max\": 200}",
                                      "{\"sessions_per_week\": 3, \"minutes_per_session\": 40}");
        ml += (size_t)snprintf(members_list + ml, sizeof members_list - ml, "%s%lld", m ? "," : "", members[m]);
        pl += (size_t)snprintf(programs_list + pl, sizeof programs_list - pl, "%s%lld", m ? "," : "", programs[m]);
    }
    first_day = it_day(-12); /* workouts reach 6 days ahead: up to 2 days ago */
    it_start_intake(&port, NULL);
    int metrics;
    pid_t pool = it_start_pool("adherence", &metrics, pool_env);

    int64_t t0 = it_now_ms(), posting_ms = 0;
    long long at_kill[2] = { 0, 0 };
    for (int b = 0; b < N_EVENTS / BATCH; b++) {
        int64_t t = it_now_ms();
        post_batch(b);
        posting_ms += it_now_ms() - t;
        if (b == 6 || b == 13) {
            int k = b == 6 ? 0 : 1;
            /* Kill once this pool has written something: mid-stream. */
            long long seen = wait_rows_above(k == 0 ? 0 : at_kill[0], 60000);
            it_kill9(pool);
            at_kill[k] = rows_now();
            it_note("kill %d: SIGKILL with %lld of %d posted events in daily_logs (%lld when decided)", k + 1,
                    at_kill[k], (b + 1) * BATCH, seen);
            pool = it_start_pool("adherence", &metrics, pool_env);
        }
    }
    it_note("posted %d events in %.2f s of requests (%.0f events/s), %.2f s wall", N_EVENTS, posting_ms / 1000.0,
            N_EVENTS * 1000.0 / (double)(posting_ms ? posting_ms : 1), (it_now_ms() - t0) / 1000.0);

    bool ok = false;
    long long n = -1, from_rows = -1;
    int64_t t1 = it_now_ms(), resumed = 0;
    for (int64_t deadline = t1 + 60000; it_now_ms() < deadline; it_sleep_ms(50)) {
        n = rows_now();
        if (!resumed && n > at_kill[1]) { /* the third pool's first commit */
            resumed = it_now_ms();
            from_rows = n;
        }
        if ((ok = n >= N_EVENTS))
            break;
    }
    ck_assert_msg(ok, "daily_logs has %lld rows for the members after 60 s, want %d", n, N_EVENTS);
    int64_t t2 = it_now_ms();
    it_note("all %d in daily_logs %.2f s after the last post (%.2f s since the first); the last pool wrote %lld"
            " rows in %.2f s after its first commit (%.0f rows/s, HF_BATCH_MAX=50)",
            N_EVENTS, (t2 - t1) / 1000.0, (t2 - t0) / 1000.0, N_EVENTS - from_rows, (t2 - resumed) / 1000.0,
            (N_EVENTS - from_rows) * 1000.0 / (double)(t2 - resumed > 0 ? t2 - resumed : 1));
    /* Exactly once. */
    size_t cap = (size_t)N_EVENTS * 38 + 16, len = 0;
    char *array = malloc(cap);
    ck_assert(array != NULL);
    len += (size_t)snprintf(array + len, cap - len, "'{");
    for (int i = 0; i < N_EVENTS; i++)
        len += (size_t)snprintf(array + len, cap - len, "%s%s", i ? "," : "", ids[i]);
    snprintf(array + len, cap - len, "}'::uuid[]");
    ck_assert_int_eq(it_sql_int("SELECT count(DISTINCT e) FROM unnest(%s) e", array), N_EVENTS);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id IN (%s)", members_list), N_EVENTS);
    ck_assert_int_eq(it_sql_int("SELECT count(DISTINCT event_id) FROM daily_logs WHERE member_id IN (%s)", members_list),
                     N_EVENTS);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE event_id = ANY(%s)", array), N_EVENTS);
    ck_assert_int_eq(
        it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 'adherence' AND event_id = ANY(%s)", array),
        N_EVENTS);
    free(array);
    it_note("exactly %d daily_logs and processed_events rows", N_EVENTS);

    /* adherence_metrics against the logs, in SQL: every program day from the
     * first log to 6 days after the last (workout windows). */
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM adherence_metrics WHERE program_id IN (%s)", programs_list),
                     N_MEMBERS * (N_DAYS + 6));
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM (SELECT program_id, date FROM adherence_metrics WHERE program_id IN (%s)"
                                " EXCEPT SELECT p.id, d::date FROM care_programs p,"
                                " generate_series(current_date - 12, current_date - 2, interval '1 day') d"
                                " WHERE p.id IN (%s)) x",
                                programs_list, programs_list),
                     0);
    long long wrong = it_sql_int(
        "SELECT count(*) FROM adherence_metrics m"
        " CROSS JOIN LATERAL (SELECT count(*) AS meals, coalesce(sum((payload->>'calories')::numeric), 0) AS kcal"
        "   FROM daily_logs WHERE program_id = m.program_id AND log_type = 'NUTRITION'"
        "   AND logged_at >= m.date AND logged_at < m.date + 1) n"
        " CROSS JOIN LATERAL (SELECT count(*) AS sessions FROM daily_logs WHERE program_id = m.program_id"
        "   AND log_type = 'WORKOUT' AND logged_at >= m.date - 6 AND logged_at < m.date + 1) w"
        " WHERE m.program_id IN (%s) AND ((m.details->>'meals')::int <> n.meals"
        "   OR (m.details->>'sessions_7d')::int <> w.sessions"
        "   OR round((m.details->'nutrition'->'parts'->'calories'->>'actual')::numeric, 2) <> round(n.kcal, 2))",
        programs_list);
    ck_assert_msg(wrong == 0, "%lld adherence_metrics rows disagree with the logs they were computed from", wrong);

    /* ... and against the pool itself: recompute every day, nothing may change. */
    const char *snapshot_sql = "SELECT md5(string_agg(concat_ws('|', program_id, date, total_score, details::text,"
                               " computed_at), ',' ORDER BY program_id, date)) FROM adherence_metrics"
                               " WHERE program_id IN (%s)";
    char before[64], after[64];
    it_sql_text(before, sizeof before, snapshot_sql, programs_list);
    PGresult *days = it_sql_result("SELECT program_id, date FROM adherence_metrics WHERE program_id IN (%s)"
                                   " ORDER BY program_id, date",
                                   programs_list);
    int n_jobs = PQntuples(days);
    size_t jcap = (size_t)n_jobs * 38 + 16, jlen = 0;
    char *jobs = malloc(jcap);
    ck_assert(jobs != NULL);
    jlen += (size_t)snprintf(jobs + jlen, jcap - jlen, "'{");
    for (int i = 0; i < n_jobs; i++) {
        char job_id[37];
        it_uuid4(job_id);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        it_pack_kv_str(&pk, "event_id", job_id);
        it_pack_kv_int(&pk, "program_id", atoll(PQgetvalue(days, i, 0)));
        it_pack_kv_str(&pk, "date", PQgetvalue(days, i, 1));
        const struct it_kv h[] = { { "hf-schema", "job.adherence_recalc" }, { "hf-version", "1" },
                                   { "hf-event-id", job_id } };
        it_produce(it_topic("jobs.adherence"), PQgetvalue(days, i, 0), sb.data, sb.size, h, 3, NULL, NULL);
        msgpack_sbuffer_destroy(&sb);
        jlen += (size_t)snprintf(jobs + jlen, jcap - jlen, "%s%s", i ? "," : "", job_id);
    }
    PQclear(days);
    snprintf(jobs + jlen, jcap - jlen, "}'::uuid[]");
    long long done = -1;
    IT_WAIT_FOR(ok,
                it_sql_int_try(&done, "SELECT count(*) FROM processed_events WHERE pool = 'adherence' AND event_id = ANY(%s)",
                               jobs) && done == n_jobs,
                30000);
    free(jobs);
    ck_assert_msg(ok, "%lld of %d recalc jobs processed", done, n_jobs);
    it_sql_text(after, sizeof after, snapshot_sql, programs_list);
    ck_assert_msg(strcmp(before, after) == 0, "a recompute of the %d scored days changed adherence_metrics", n_jobs);
    it_note("adherence_metrics unchanged by %d recalc jobs; final pool: processed %g, replayed %g", n_jobs,
            it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"processed\"}"),
            it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"replayed\"}"));
    ck_assert_int_eq(it_topic_count(it_topic("dlq.adherence")), 0);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { kill_restart };
    return it_run_suite("0005-kill-restart", tests, 1, 115);
}
