/* 0302: catch-up after an outage. Three every-minute schedules whose state
 * says they were last decided 10 minutes ago (what a 10-minute outage
 * leaves), and a fourth never seen before; the scheduler starts with a 5 s
 * grace, well after a minute boundary so all 10 fire times count as missed:
 *   skip      -> no firing, 10 missed
 *   once      -> 1 firing (the latest), 9 missed
 *   each (3)  -> 3 firings (the latest three), 7 missed
 *   new       -> nothing from before its first sight
 * Every recorded firing is produced as one job. A restart records nothing
 * again for the times already decided. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it_harness.h"

static char sched_path[512];

static void write_schedules(void)
{
    snprintf(sched_path, sizeof sched_path, "%s",
             it_write_file("schedules.json",
                           "{\"schedules\": [\n"
                           " {\"name\": \"cu-skip\", \"cron\": \"* * * * *\", \"job\": \"purge\", \"catch_up\": \"skip\"},\n"
                           " {\"name\": \"cu-once\", \"cron\": \"* * * * *\", \"job\": \"purge\", \"catch_up\": \"once\"},\n"
                           " {\"name\": \"cu-each\", \"cron\": \"* * * * *\", \"job\": \"purge\", \"catch_up\": \"each\","
                           " \"catch_up_max\": 3},\n"
                           " {\"name\": \"cu-new\", \"cron\": \"* * * * *\", \"job\": \"purge\", \"catch_up\": \"each\","
                           " \"catch_up_max\": 3}\n"
                           "]}\n"));
}

static long long count_upto(const char *schedule, long long m)
{
    return it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND schedule = '%s'"
                      " AND scheduled_at <= to_timestamp(%lld)",
                      it_prefix(), schedule, m);
}

START_TEST(catch_up_policies)
{
    write_schedules();
    /* start between :08 and :40 of a minute, so the minute at hand is past
     * the 5 s grace and the next does not begin during the checks */
    while (time(NULL) % 60 < 8 || time(NULL) % 60 > 40)
        it_sleep_ms(500);
    long long m = time(NULL) / 60 * 60;
    const char *names[] = { "cu-skip", "cu-once", "cu-each" };
    for (int i = 0; i < 3; i++)
        it_sql("INSERT INTO scheduler_state (fleet, schedule, decided_until) VALUES ('%s', '%s', to_timestamp(%lld))",
               it_prefix(), names[i], m - 600);

    char bin[512], env_path[600];
    it_bin("hf-scheduler", bin, sizeof bin);
    snprintf(env_path, sizeof env_path, "HF_SCHEDULES=%s", sched_path);
    const char *env[] = { env_path, "HF_SCHEDULER_GRACE_MS=5000", "HF_SCHEDULER_TICK_MS=200", "HF_METRICS_PORT=0", NULL };
    pid_t p = it_start("scheduler", bin, env);
    bool ok;
    IT_WAIT_FOR(ok,
                it_sql_int("SELECT count(*) FROM scheduler_state WHERE fleet = '%s' AND decided_until >= to_timestamp(%lld)",
                           it_prefix(), m) == 4 &&
                    it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND state = 'recorded'",
                               it_prefix()) == 0,
                20000);
    ck_assert_msg(ok, "the scheduler did not decide the missed minutes");
    ck_assert_int_eq(it_stop(p, 10000), 0);

    ck_assert_int_eq(count_upto("cu-skip", m), 0);
    ck_assert_int_eq(count_upto("cu-once", m), 1);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND schedule = 'cu-once'"
                                " AND scheduled_at = to_timestamp(%lld)",
                                it_prefix(), m),
                     1);
    ck_assert_int_eq(count_upto("cu-each", m), 3);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND schedule = 'cu-each'"
                                " AND scheduled_at IN (to_timestamp(%lld), to_timestamp(%lld), to_timestamp(%lld))",
                                it_prefix(), m - 120, m - 60, m),
                     3);
    ck_assert_int_eq(count_upto("cu-new", m), 0);
    ck_assert_int_eq(it_sql_int("SELECT missed FROM scheduler_state WHERE fleet = '%s' AND schedule = 'cu-skip'", it_prefix()), 10);
    ck_assert_int_eq(it_sql_int("SELECT missed FROM scheduler_state WHERE fleet = '%s' AND schedule = 'cu-once'", it_prefix()), 9);
    ck_assert_int_eq(it_sql_int("SELECT missed FROM scheduler_state WHERE fleet = '%s' AND schedule = 'cu-each'", it_prefix()), 7);

    /* a restart: nothing already decided is recorded again */
    long long before = it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND scheduled_at <= to_timestamp(%lld)",
                                  it_prefix(), m);
    p = it_start("scheduler-again", bin, env);
    it_sleep_ms(2500);
    ck_assert_int_eq(it_stop(p, 10000), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND scheduled_at <= to_timestamp(%lld)",
                                it_prefix(), m),
                     before);

    /* every firing produced, one job each */
    long long n = it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s'", it_prefix());
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM scheduler_firings WHERE fleet = '%s' AND state = 'produced' AND jobs = 1",
                                it_prefix()),
                     n);
    struct it_records rs;
    int got = it_consume(it_topic("jobs.maintenance"), (int)n, 20000, &rs);
    it_note("%lld firings, %d jobs on the topic", n, got);
    ck_assert_int_eq(got, n);
    it_records_free(&rs);
}
END_TEST

int main(void)
{
    const TTest *tests[] = { catch_up_policies };
    return it_run_suite("0302-scheduler-catch-up", tests, 1, 110);
}
