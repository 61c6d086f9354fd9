/* 0301: two scheduler replicas on one database, a schedule firing every
 * second: every firing is recorded once and produced once; then the leader
 * is killed with SIGKILL and the other replica takes over within the lease
 * (3 s here), catching up the seconds in between (they are within the grace),
 * so no second is lost or doubled.
 *
 * Checks: the firings are consecutive seconds, each 'produced' with 1 job;
 * the topic holds one job per firing id (distinct event ids = firings), and
 * at most one extra copy: the firing the dead leader may have produced but
 * not yet marked, which the next leader produces again with the same event
 * id (the pools' processed_events drop it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

#define LEASE_MS 3000

static char sched_path[512];

static void write_schedules(void)
{
    snprintf(sched_path, sizeof sched_path, "%s",
             it_write_file("schedules.json",
                           "{\"schedules\": [{\"name\": \"every-second\", \"cron\": \"* * * * * *\", \"job\": \"purge\","
                           " \"args\": {\"days\": 30}, \"catch_up\": \"skip\"}]}\n"));
}

static long long firings(const char *extra)
{
    return it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' %s", it_prefix(), extra);
}

START_TEST(replicas_and_takeover)
{
    write_schedules();
    char bin[512], env_path[600], lease[64];
    it_bin("hf-scheduler", bin, sizeof bin);
    snprintf(env_path, sizeof env_path, "HF_SCHEDULES=%s", sched_path);
    snprintf(lease, sizeof lease, "HF_SCHEDULER_LEASE_MS=%d", LEASE_MS);
    int port_a = it_free_port(), port_b = it_free_port();
    char metrics_a[48], metrics_b[48];
    snprintf(metrics_a, sizeof metrics_a, "HF_METRICS_PORT=%d", port_a);
    snprintf(metrics_b, sizeof metrics_b, "HF_METRICS_PORT=%d", port_b);
    const char *env_a[] = { env_path, lease, "HF_SCHEDULER_TICK_MS=200", "HF_INSTANCE=replica-a", metrics_a, NULL };
    const char *env_b[] = { env_path, lease, "HF_SCHEDULER_TICK_MS=200", "HF_INSTANCE=replica-b", metrics_b, NULL };
    pid_t a = it_start("scheduler-a", bin, env_a);
    pid_t b = it_start("scheduler-b", bin, env_b);

    /* both run; one leads */
    bool ok;
    IT_WAIT_FOR(ok, firings("AND state = 'produced'") >= 8, 20000);
    ck_assert_msg(ok, "no firings produced by two replicas (%lld)", firings(""));
    char holder[160];
    it_sql_text(holder, sizeof holder, "SELECT holder FROM scheduler_leases WHERE fleet = '%s'", it_prefix());
    bool a_leads = strncmp(holder, "replica-a/", 10) == 0;
    ck_assert_msg(a_leads || strncmp(holder, "replica-b/", 10) == 0, "holder %s", holder);
    ck_assert_int_eq(firings("AND recorded_by <> (SELECT holder FROM scheduler_leases WHERE fleet = scheduler_firings.fleet)"), 0);
    it_note("leader %s after %lld firings", holder, firings(""));
    /* Each replica says whether it leads; both are alive and ready. */
    char series[128];
    snprintf(series, sizeof series, "hf_scheduler_leader{fleet=\"%s\"}", it_prefix());
    ck_assert_msg(it_metric(a_leads ? port_a : port_b, series) == 1, "the leader's hf_scheduler_leader is not 1");
    ck_assert_msg(it_metric(a_leads ? port_b : port_a, series) == 0, "the follower's hf_scheduler_leader is not 0");
    snprintf(series, sizeof series, "hf_scheduler_firings_produced_total{fleet=\"%s\"}", it_prefix());
    ck_assert(it_metric(a_leads ? port_a : port_b, series) >= 8);
    for (int k = 0; k < 2; k++) {
        struct it_http r;
        ck_assert_int_eq(it_request(&r, "GET", k ? port_b : port_a, "/healthz", NULL, NULL, 0, false), 200);
        it_http_free(&r);
        ck_assert_int_eq(it_request(&r, "GET", k ? port_b : port_a, "/readyz", NULL, NULL, 0, false), 200);
        it_http_free(&r);
    }

    /* SIGKILL the leader */
    char kill_at[64];
    const char *other = a_leads ? "replica-b" : "replica-a";
    it_sql_text(kill_at, sizeof kill_at, "SELECT now()::text");
    it_kill9(a_leads ? a : b);
    IT_WAIT_FOR(ok,
                it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND recorded_by LIKE '%s/%%'",
                           it_prefix(), other) > 0,
                LEASE_MS + 5000);
    ck_assert_msg(ok, "the other replica did not take over");
    snprintf(series, sizeof series, "hf_scheduler_leader{fleet=\"%s\"}", it_prefix());
    IT_WAIT_FOR(ok, it_metric(a_leads ? port_b : port_a, series) == 1, 5000);
    ck_assert_msg(ok, "the new leader's hf_scheduler_leader is not 1");
    long long takeover_ms = it_sql_int(
        "SELECT (extract(epoch FROM min(recorded_at) - '%s'::timestamptz) * 1000)::bigint"
        " FROM scheduler_firings WHERE fleet = '%s' AND recorded_by LIKE '%s/%%'",
        kill_at, it_prefix(), other);
    it_note("takeover after %lld ms (lease %d ms)", takeover_ms, LEASE_MS);
    ck_assert_int_le(takeover_ms, LEASE_MS + 1000);
    ck_assert_int_eq(it_sql_int("SELECT epoch FROM scheduler_leases WHERE fleet = '%s'", it_prefix()), 2);

    /* a few more seconds under the new leader, then a clean stop */
    long long before = firings("");
    IT_WAIT_FOR(ok, firings("AND state = 'produced'") >= before + 4, 15000);
    ck_assert(ok);
    ck_assert_int_eq(it_stop(a_leads ? b : a, 10000), 0);

    long long n = firings("");
    long long span = it_sql_int("SELECT extract(epoch FROM max(scheduled_at) - min(scheduled_at))::bigint + 1"
                                " FROM scheduler_firings WHERE fleet = '%s'",
                                it_prefix());
    it_note("%lld firings over %lld seconds", n, span);
    ck_assert_int_eq(n, span); /* consecutive seconds: none lost */
    ck_assert_int_eq(firings("AND state = 'produced' AND jobs = 1"), n);
    ck_assert_int_eq(it_sql_int("SELECT count(DISTINCT scheduled_at) FROM scheduler_firings WHERE fleet = '%s'",
                                it_prefix()),
                     n);

    struct it_records rs;
    int got = it_consume(it_topic("jobs.maintenance"), (int)n, 20000, &rs);
    int distinct = 0;
    for (int i = 0; i < got; i++) {
        const char *id = it_header(&rs.v[i], "hf-event-id");
        ck_assert_ptr_nonnull(id);
        ck_assert_str_eq(it_header(&rs.v[i], "hf-schema"), "job.maintenance");
        ck_assert_str_eq(rs.v[i].key, "0");
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(id, it_header(&rs.v[j], "hf-event-id")) == 0;
        distinct += !seen;
    }
    it_note("topic: %d records, %d distinct event ids, %lld firings", got, distinct, n);
    ck_assert_int_eq(distinct, n);
    ck_assert_int_le(got, n + 1);
    it_records_free(&rs);
}
END_TEST

int main(void)
{
    const TTest *tests[] = { replicas_and_takeover };
    return it_run_suite("0301-scheduler-replicas", tests, 1, 110);
}
