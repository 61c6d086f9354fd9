/* 0303: what each firing produces, fired by an operator (hfctl schedule
 * fire --wait) while hf-scheduler leads and the maintenance pool runs; and
 * hfctl schedule list / next.
 *
 * Members and their data (logs in the last 27 hours unless said):
 *   A 13 logs                         B 14 logs
 *   C 20 logs, model 1 day old, 20 samples, insights newer than its logs
 *   D 20 logs, model 8 days old, 20 samples
 *   E 27 logs, model 1 day old, 20 samples (7 new)
 *   F 16 logs, model 1 day old, 14 samples (2 new, 14%)
 *   H 25 logs, model 1 day old, 20 samples (5 new, 25%)
 *   I 14 logs + 5 soft-deleted        J 13 logs + 3 soft-deleted
 *   K soft-deleted member, 20 logs    L 20 logs, only an inactive model
 *   M 15 logs, all 10 days old
 * retrain (>= 14 logs and never trained, 7 days, 7 new or > 20% new):
 *   B D E H I L M; insight refresh (data newer than insights): all but C, K;
 * cache warm (logged in 7 days): all but K, M. Ingredient scores: one 8
 * days old (refreshed), one 1 day old (not). Programs: B's active (weekly
 * summary of last week), D's paused, E's ended, F's in the future, K's
 * (member deleted): only B's.
 *
 * Purge (30 days): P's logs deleted 31 days ago go, 29 days ago stay, live
 * stay; P's program deleted 40 days ago goes; member Q deleted 31 days ago
 * goes with its logs; user U2 deleted 35 days ago goes (and its member R by
 * cascade); user U3 deleted 10 days ago stays. One audit row per purged row,
 * naming the firing. The fleet's bookkeeping: processed_events 15 days old
 * are forgotten (13 days old stay), produced firings 91 days old too (89
 * days old, and a recorded one however old, stay); no audit rows for those.
 * Partitions: the month 6 ahead is created. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

static char env_path[600], hfctl[512];

static void write_schedules(void)
{
    snprintf(env_path, sizeof env_path, "HF_SCHEDULES=%s",
             it_write_file("schedules.json",
                           "{\"schedules\": [\n"
                           " {\"name\": \"t-retrain\", \"cron\": \"0 0 1 1 *\", \"job\": \"retrain\"},\n"
                           " {\"name\": \"t-insights\", \"cron\": \"0 0 1 1 *\", \"job\": \"insight_refresh\"},\n"
                           " {\"name\": \"t-cache\", \"cron\": \"0 0 1 1 *\", \"job\": \"cache_warm\", \"args\": {\"active_days\": 7}},\n"
                           " {\"name\": \"t-stale\", \"cron\": \"0 0 1 1 *\", \"job\": \"ingredient_stale\"},\n"
                           " {\"name\": \"t-weekly\", \"cron\": \"0 0 1 1 *\", \"job\": \"adherence_weekly\"},\n"
                           " {\"name\": \"t-purge\", \"cron\": \"0 0 1 1 *\", \"job\": \"purge\", \"args\": {\"days\": 30}},\n"
                           " {\"name\": \"t-partitions\", \"cron\": \"0 0 1 1 *\", \"job\": \"partitions\", \"args\": {\"months\": 6}},\n"
                           " {\"name\": \"berlin\", \"cron\": \"30 2 * * *\", \"time_zone\": \"Europe/Berlin\", \"job\": \"retrain\"}\n"
                           "]}\n"));
}

/* hfctl with the test's schedules; returns its exit status. */
static int run_hfctl(char *out, size_t outsz, const char *a1, const char *a2, const char *a3, const char *a4,
                     const char *a5)
{
    const char *argv[] = { hfctl, a1, a2, a3, a4, a5, NULL };
    const char *env[] = { env_path, NULL };
    return it_run(out, outsz, 60000, argv, env);
}

/* Fires a schedule and waits for it to be produced; returns the job count
 * and the firing id. */
static long fire(const char *name, char *id, size_t idsz)
{
    char out[1024] = "";
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "fire", name, "--wait", "30"), 0);
    it_note("%s", out);
    ck_assert_msg(sscanf(out, "%127s recorded", id) == 1 && strncmp(id, name, strlen(name)) == 0, "%s", out);
    (void)idsz;
    const char *p = strstr(out, "produced: ");
    ck_assert_ptr_nonnull(p);
    return strtol(p + 10, NULL, 10);
}

static long long logs(long long member, int n, const char *age, const char *deleted)
{
    it_sql("INSERT INTO daily_logs (event_id, member_id, log_type, payload, logged_at, deleted_at)"
           " SELECT gen_random_uuid(), %lld, 'SYMPTOM', '{}', now() - %s - g * interval '1 hour', %s"
           " FROM generate_series(1, %d) g",
           member, age, deleted, n);
    return member;
}

static void model(long long member, int days, int samples, bool active)
{
    it_sql("INSERT INTO user_models (member_id, kind, version, algorithm, trained_at, samples, artifact, active)"
           " VALUES (%lld, 'cycle', 1, 'it', now() - interval '%d days', %d, '\\x00', %s)",
           member, days, samples, active ? "true" : "false");
}

/* The keys of a topic's records that are in `mine`, as a sorted-by-mine bitmask. */
static unsigned keys_in(const char *family, long jobs, const long long *mine, int n)
{
    struct it_records rs;
    int got = it_consume(it_topic(family), (int)jobs, 20000, &rs);
    ck_assert_int_eq(got, jobs);
    unsigned mask = 0;
    for (int i = 0; i < got; i++) {
        ck_assert_str_eq(it_header(&rs.v[i], "hf-producer"), "scheduler");
        for (int k = 0; k < n; k++)
            if (rs.v[i].key && atoll(rs.v[i].key) == mine[k]) {
                ck_assert_msg(!(mask & (1u << k)), "member %lld twice on %s", mine[k], family);
                mask |= 1u << k;
            }
    }
    it_records_free(&rs);
    return mask;
}

enum { A, B, C, D, E, F, H, I, J, K, L, M, N_MEMBERS };
#define BIT(x) (1u << (x))

START_TEST(fanout)
{
    write_schedules();
    it_bin("hfctl", hfctl, sizeof hfctl);
    struct it_client client;
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    long long mb[N_MEMBERS];
    for (int i = 0; i < N_MEMBERS; i++)
        mb[i] = it_make_member(user, "m");
    const char *live = "NULL", *recent = "interval '0 days'";
    logs(mb[A], 13, recent, live);
    logs(mb[B], 14, recent, live);
    logs(mb[C], 20, recent, live);
    logs(mb[D], 20, recent, live);
    logs(mb[E], 27, recent, live);
    logs(mb[F], 16, recent, live);
    logs(mb[H], 25, recent, live);
    logs(mb[I], 14, recent, live);
    logs(mb[I], 5, recent, "now()");
    logs(mb[J], 13, recent, live);
    logs(mb[J], 3, recent, "now()");
    logs(mb[K], 20, recent, live);
    logs(mb[L], 20, recent, live);
    logs(mb[M], 15, "interval '10 days'", live);
    it_sql("UPDATE members SET deleted_at = now() - interval '1 day' WHERE id = %lld", mb[K]);
    model(mb[C], 1, 20, true);
    model(mb[D], 8, 20, true);
    model(mb[E], 1, 20, true);
    model(mb[F], 1, 14, true);
    model(mb[H], 1, 20, true);
    model(mb[L], 1, 20, false);
    it_sql("INSERT INTO user_insights (member_id, data_hash, insights, computed_at) VALUES (%lld, 'h', '{}', now())",
           mb[C]);
    char old_name[96], new_name[96];
    snprintf(old_name, sizeof old_name, "%s-old", it_tag());
    snprintf(new_name, sizeof new_name, "%s-new", it_tag());
    it_sql("INSERT INTO ingredient_scores (name, blood_sugar, inflammation, gut, hormonal, overall, confidence, scored_at)"
           " VALUES ('%s', 50, 50, 50, 50, 50, 0.5, now() - interval '8 days'),"
           " ('%s', 50, 50, 50, 50, 50, 0.5, now() - interval '1 day')",
           old_name, new_name);
    long long programs[5] = {
        it_make_program(mb[B], -10, NULL, NULL), it_make_program(mb[D], -10, NULL, NULL),
        it_make_program(mb[E], -200, NULL, NULL), it_make_program(mb[F], 30, NULL, NULL),
        it_make_program(mb[K], -10, NULL, NULL),
    };
    it_sql("UPDATE care_programs SET status = 'PAUSED' WHERE id = %lld", programs[1]);

    /* hfctl schedule list / next, no scheduler needed */
    char out[8192] = "";
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "list", NULL, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "t-purge"));
    ck_assert_ptr_nonnull(strstr(out, "purge(30)"));
    ck_assert_ptr_nonnull(strstr(out, "Europe/Berlin"));
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "next", "berlin", "2", "--after"), 2);
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "next", "berlin", "2", NULL), 0);
    const char *argv_next[] = { hfctl, "schedule", "next", "berlin", "2", "--after", "2027-03-27T12:00:00Z", NULL };
    const char *env[] = { env_path, NULL };
    ck_assert_int_eq(it_run(out, sizeof out, 60000, argv_next, env), 0);
    /* spring forward: 02:30 does not exist on 28 March 2027, fires at 03:00 CEST */
    ck_assert_msg(strcmp(out, "2027-03-28 01:00:00 +00:00  2027-03-28 03:00:00 +02:00  Europe/Berlin\n"
                              "2027-03-29 00:30:00 +00:00  2027-03-29 02:30:00 +02:00  Europe/Berlin\n") == 0,
                  "%s", out);
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "next", "nope", NULL, NULL), 2);
    ck_assert_int_eq(run_hfctl(out, sizeof out, "schedule", "fire", "t-retrain", "--wait", "x"), 2);

    /* purge data */
    long long p = it_make_member(user, "p");
    logs(p, 3, recent, "now() - interval '31 days'");
    logs(p, 2, recent, "now() - interval '29 days'");
    logs(p, 2, recent, live);
    long long pp = it_make_program(p, -50, NULL, NULL);
    it_sql("UPDATE care_programs SET deleted_at = now() - interval '40 days' WHERE id = %lld", pp);
    long long q = logs(it_make_member(user, "q"), 2, recent, live);
    it_sql("UPDATE members SET deleted_at = now() - interval '31 days' WHERE id = %lld", q);
    long long u2 = it_make_user(client.id, "u2"), u3 = it_make_user(client.id, "u3");
    long long r = logs(it_make_member(u2, "r"), 1, recent, live);
    it_sql("UPDATE users SET deleted_at = now() - interval '35 days' WHERE id = %lld", u2);
    it_sql("UPDATE users SET deleted_at = now() - interval '10 days' WHERE id = %lld", u3);
    char old_logs[256];
    it_sql_text(old_logs, sizeof old_logs,
                "SELECT string_agg(quote_literal('daily_logs/' || id), ',') FROM daily_logs WHERE member_id = %lld"
                " AND deleted_at < now() - interval '30 days'",
                p);
    /* bookkeeping past its use (ids of its own, so other tests' rows are not counted) */
    char old_ev[37], new_ev[37], fleet[64];
    it_uuid4(old_ev);
    it_uuid4(new_ev);
    snprintf(fleet, sizeof fleet, "t0303-%lld", client.id);
    it_sql("INSERT INTO processed_events (pool, event_id, processed_at) VALUES"
           " ('t0303', '%s', now() - interval '15 days'), ('t0303', '%s', now() - interval '13 days')",
           old_ev, new_ev);
    it_sql("INSERT INTO scheduler_firings (fleet, firing_id, schedule, scheduled_at, local_date, job, state, recorded_by)"
           " SELECT '%s', 'f' || d, 's', now() - make_interval(days => d), current_date, 'purge', st, 't0303'"
           " FROM (VALUES (91, 'produced'), (89, 'produced'), (200, 'recorded')) AS v(d, st)",
           fleet);
    char part[64];
    it_sql_text(part, sizeof part, "SELECT 'daily_logs_' || to_char(now() + interval '6 months', 'YYYY_MM')");
    it_sql("DROP TABLE IF EXISTS %s", part);

    char bin[512];
    it_bin("hf-scheduler", bin, sizeof bin);
    const char *senv[] = { env_path, "HF_SCHEDULER_TICK_MS=100", "HF_METRICS_PORT=0", NULL };
    it_start("scheduler", bin, senv);
    int port = 0;
    it_start_pool("maintenance", &port, NULL);

    char id[128];
    long jobs = fire("t-retrain", id, sizeof id);
    unsigned got = keys_in("jobs.retrain", jobs, mb, N_MEMBERS);
    unsigned want = BIT(B) | BIT(D) | BIT(E) | BIT(H) | BIT(I) | BIT(L) | BIT(M);
    ck_assert_msg(got == want, "retrain: got %#x want %#x", got, want);

    jobs = fire("t-insights", id, sizeof id);
    got = keys_in("jobs.insights", jobs, mb, N_MEMBERS);
    want = ((1u << N_MEMBERS) - 1) & ~BIT(C) & ~BIT(K);
    ck_assert_msg(got == want, "insights: got %#x want %#x", got, want);

    jobs = fire("t-cache", id, sizeof id);
    got = keys_in("jobs.cache", jobs, mb, N_MEMBERS);
    want = ((1u << N_MEMBERS) - 1) & ~BIT(K) & ~BIT(M);
    ck_assert_msg(got == want, "cache: got %#x want %#x", got, want);

    jobs = fire("t-stale", id, sizeof id);
    struct it_records rs;
    ck_assert_int_eq(it_consume(it_topic("jobs.ingredients"), (int)jobs, 20000, &rs), jobs);
    int old_seen = 0;
    for (int i = 0; i < rs.n; i++) {
        ck_assert_str_ne(rs.v[i].key, new_name);
        old_seen += strcmp(rs.v[i].key, old_name) == 0;
    }
    ck_assert_int_eq(old_seen, 1);
    it_records_free(&rs);

    jobs = fire("t-weekly", id, sizeof id);
    got = keys_in("jobs.adherence", jobs, programs, 5);
    ck_assert_msg(got == 1, "weekly: got %#x want 1 (B's program only)", got);

    /* the purge, done by the maintenance pool */
    fire("t-purge", id, sizeof id);
    bool ok;
    IT_WAIT_FOR(ok, it_sql_int("SELECT count(*) FROM users WHERE id = %lld", u2) == 0, 30000);
    ck_assert_msg(ok, "the maintenance pool did not purge");
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", p), 4);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld AND deleted_at IS NOT NULL", p), 2);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM care_programs WHERE id = %lld", pp), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM members WHERE id IN (%lld, %lld)", q, r), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id IN (%lld, %lld)", q, r), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM users WHERE id = %lld", u3), 1);
    IT_WAIT_FOR(ok, it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 't0303'") == 1, 30000);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 't0303' AND event_id = '%s'", new_ev), 1);
    char kept[64];
    it_sql_text(kept, sizeof kept, "SELECT string_agg(firing_id, ',' ORDER BY firing_id) FROM scheduler_firings"
                " WHERE fleet = '%s'", fleet);
    ck_assert_str_eq(kept, "f200,f89");
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE target_resource LIKE 'processed_events%%'"
                                " OR target_resource LIKE 'scheduler_firings%%'"), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM members WHERE id = %lld", p), 1);
    /* audit: 3 logs, the program, Q, U2, each naming the firing; nothing
     * for what stayed or went by cascade (rows of earlier runs may be
     * purged by the same firing, so only ours are counted) */
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE action = 'PURGE' AND actor_id = 'hf-maintenance'"
                                " AND details->>'trigger' = '%s' AND (details->>'days')::int = 30"
                                " AND target_resource IN (%s, 'care_programs/%lld', 'members/%lld', 'users/%lld')",
                                id, old_logs, pp, q, u2),
                     6);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE action = 'PURGE'"
                                " AND target_resource IN ('members/%lld', 'users/%lld', 'members/%lld')"
                                " OR target_resource IN (SELECT 'daily_logs/' || id FROM daily_logs WHERE member_id = %lld)",
                                r, u3, p, p),
                     0);

    fire("t-partitions", id, sizeof id);
    IT_WAIT_FOR(ok, it_sql_int("SELECT count(*) FROM pg_class WHERE relname = '%s'", part) == 1, 30000);
    ck_assert_msg(ok, "partition %s not created", part);

    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { fanout };
    return it_run_suite("0303-scheduler-fanout", tests, 1, 110);
}
