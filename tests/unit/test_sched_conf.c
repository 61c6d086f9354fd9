/* hf_sched_conf and hf_sched_plan: the shipped schedules file, refusal of
 * bad schedules with a message naming the schedule, and the catch-up
 * policies on exact times. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hf_sched_conf.h"
#include "hf_sched_plan.h"
#include "hf_sched_store.h"
#include "hf_time.h"
#include "unit_util.h"

START_TEST(shipped_file)
{
    hf_schedules *s = NULL;
    struct hf_err err = { 0 };
    ck_assert_msg(hf_schedules_load(HF_SOURCE_DIR "/scheduler/schedules.json", &s, &err) == 0, "%s", err.msg);
    /* 002's job table and 001's upkeep, one schedule each */
    static const struct {
        const char *name, *expr;
        enum hf_job_kind job;
        int arg;
    } want[] = {
        { "nightly-retrain", "0 3 * * *", HF_JOB_RETRAIN, 0 },
        { "insight-refresh", "0 4 * * *", HF_JOB_INSIGHT_REFRESH, 0 },
        { "cache-warm", "0 5 * * *", HF_JOB_CACHE_WARM, 7 },
        { "stale-ingredient-scores", "0 6 * * sun", HF_JOB_INGREDIENT_STALE, 7 },
        { "nightly-purge", "0 2 * * *", HF_JOB_PURGE, 30 },
        { "partition-upkeep", "0 1 1 * *", HF_JOB_PARTITIONS, 3 },
        { "weekly-adherence", "0 6 * * mon", HF_JOB_ADHERENCE_WEEKLY, 0 },
    };
    ck_assert_int_eq(hf_schedules_count(s), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct hf_schedule *sc = hf_schedules_find(s, want[i].name);
        ck_assert_msg(sc != NULL, "%s missing", want[i].name);
        ck_assert_str_eq(sc->expr, want[i].expr);
        ck_assert_int_eq(sc->job, want[i].job);
        ck_assert_int_eq(sc->arg, want[i].arg);
    }
    ck_assert_ptr_null(hf_schedules_find(s, "nope"));
    ck_assert_ptr_null(hf_schedules_at(s, 99));
    hf_schedules_free(s);
}
END_TEST

static const struct {
    const char *text, *msg;
} bad[] = {
    { "", "line 1" },
    { "[]", "one key, \"schedules\"" },
    { "{'schedules': [], 'x': 1}", "one key" },
    { "{'schedules': [1]}", "schedule 1 (?): not an object" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'purge', 'extra': 1}]}", "unknown key \"extra\"" },
    { "{'schedules': [{'name': 'A b', 'cron': '* * * * *', 'job': 'purge'}]}", "name must be" },
    { "{'schedules': [{'cron': '* * * * *', 'job': 'purge'}]}", "name must be" },
    { "{'schedules': [{'name': 'a', 'job': 'purge'}]}", "schedule 1 (a): cron (a string) is required" },
    { "{'schedules': [{'name': 'a', 'cron': '61 * * * *', 'job': 'purge'}]}",
      "schedule 1 (a): field 1 (minute): 61 is out of range 0-59" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'dance'}]}", "job must be one of" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'purge', 'args': {'days': 0}}]}",
      "args.days must be an integer from 1 to 3650" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'purge', 'args': {'months': 2}}]}",
      "job purge takes only args.days, not \"months\"" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'args': {'days': 2}}]}",
      "job retrain takes no args" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'args': 3}]}", "args must be an object" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'catch_up': 'all'}]}",
      "catch_up must be skip, once or each" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'catch_up': 'each'}]}",
      "catch_up_max is required" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'catch_up_max': 3}]}",
      "catch_up_max is required" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'catch_up': 'each', 'catch_up_max': 0}]}",
      "catch_up_max must be an integer from 1 to 1000" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'time_zone': 'Mars/Base'}]}",
      "unknown time zone \"Mars/Base\"" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain', 'time_zone': 5}]}",
      "time_zone must be a string" },
    { "{'schedules': [{'name': 'a', 'cron': '* * * * *', 'job': 'retrain'},"
      " {'name': 'a', 'cron': '* * * * *', 'job': 'purge'}]}",
      "schedule 2 (a): the name is used twice" },
};

START_TEST(bad_files)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = unit_dq(bad[i].text);
        hf_schedules *s = NULL;
        struct hf_err err = { 0 };
        int rc = hf_schedules_parse(text, "t.json", &s, &err);
        ck_assert_msg(rc != 0 && s == NULL, "accepted: %s", text);
        ck_assert_msg(strstr(err.msg, bad[i].msg) && strncmp(err.msg, "t.json", 6) == 0, "%s: \"%s\" lacks \"%s\"",
                      text, err.msg, bad[i].msg);
        free(text);
    }
    hf_schedules *s = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_schedules_load("/nonexistent/s.json", &s, &err), HF_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "HF_SCHEDULES"));
}
END_TEST

static int64_t ts(const char *s)
{
    int64_t us = 0;
    ck_assert_int_eq(hf_time_parse_rfc3339(s, &us), 0);
    return us / 1000000;
}

static hf_schedules *one(const char *catch_up)
{
    char text[300];
    snprintf(text, sizeof text,
             "{\"schedules\": [{\"name\": \"h\", \"cron\": \"0 * * * *\", \"job\": \"purge\", %s}]}", catch_up);
    hf_schedules *s = NULL;
    struct hf_err err = { 0 };
    ck_assert_msg(hf_schedules_parse(text, "t", &s, &err) == 0, "%s", err.msg);
    return s;
}

/* An hourly schedule last decided at 00:00, planned at 10:00:30 with a
 * 60 s grace: 10:00 is on time, 01:00..09:00 (9 times) were missed. */
START_TEST(catch_up_policies)
{
    static const struct {
        const char *policy;
        int n;
        const char *first;
        long long missed;
    } cases[] = {
        { "\"catch_up\": \"skip\"", 1, "2024-01-01T10:00:00Z", 9 },
        { "\"catch_up\": \"once\"", 2, "2024-01-01T09:00:00Z", 8 },
        { "\"catch_up\": \"each\", \"catch_up_max\": 3", 4, "2024-01-01T07:00:00Z", 6 },
        { "\"catch_up\": \"each\", \"catch_up_max\": 50", 10, "2024-01-01T01:00:00Z", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hf_schedules *s = one(cases[i].policy);
        struct hf_sched_plan p;
        int64_t from = ts("2024-01-01T00:00:00Z");
        ck_assert_int_eq(hf_sched_plan(hf_schedules_at(s, 0), from, (from + 10 * 3600 + 30) * 1000, 60000, &p, NULL), 0);
        ck_assert_msg(p.n == cases[i].n, "%s: %d times", cases[i].policy, p.n);
        ck_assert_int_eq(p.times[0], ts(cases[i].first));
        ck_assert_int_eq(p.times[p.n - 1], ts("2024-01-01T10:00:00Z"));
        for (int k = 1; k < p.n; k++)
            ck_assert_int_eq(p.times[k] - p.times[k - 1], 3600);
        ck_assert_int_eq(p.until, ts("2024-01-01T10:00:00Z"));
        ck_assert_int_eq(p.missed, cases[i].missed);
        free(p.times);
        /* planned again at once: nothing new */
        ck_assert_int_eq(hf_sched_plan(hf_schedules_at(s, 0), p.until, (from + 10 * 3600 + 31) * 1000, 60000, &p, NULL), 0);
        ck_assert_int_eq(p.n, 0);
        ck_assert_int_eq(p.until, ts("2024-01-01T10:00:00Z"));
        free(p.times);
        hf_schedules_free(s);
    }
    /* all missed, none on time (planned at 10:05 with 60 s grace): skip drops all */
    hf_schedules *s = one("\"catch_up\": \"skip\"");
    struct hf_sched_plan p;
    int64_t from = ts("2024-01-01T00:00:00Z");
    ck_assert_int_eq(hf_sched_plan(hf_schedules_at(s, 0), from, (from + 10 * 3600 + 300) * 1000, 60000, &p, NULL), 0);
    ck_assert_int_eq(p.n, 0);
    ck_assert_int_eq(p.missed, 10);
    ck_assert_int_eq(p.until, ts("2024-01-01T10:00:00Z"));
    free(p.times);
    hf_schedules_free(s);
}
END_TEST

START_TEST(firing_ids)
{
    hf_schedules *s = NULL;
    ck_assert_int_eq(hf_schedules_parse("{\"schedules\": [{\"name\": \"w\", \"cron\": \"0 0 * * mon\","
                                        " \"time_zone\": \"America/New_York\", \"job\": \"adherence_weekly\"}]}",
                                        "t", &s, NULL),
                     0);
    struct hf_firing f;
    /* Monday 00:00 in New York is 05:00Z; its local date is the Monday */
    hf_firing_make(hf_schedules_at(s, 0), ts("2026-11-23T05:00:00Z"), false, &f);
    ck_assert_str_eq(f.id, "w@2026-11-23T05:00:00Z");
    ck_assert_str_eq(f.local_date, "2026-11-23");
    hf_firing_make(hf_schedules_at(s, 0), ts("2026-11-23T04:59:59Z"), true, &f);
    ck_assert_str_eq(f.local_date, "2026-11-22");
    ck_assert(f.manual);
    ck_assert_int_eq(f.job, HF_JOB_ADHERENCE_WEEKLY);
    hf_schedules_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_conf");
    TCase *tc = tcase_create("sched_conf");
    tcase_add_test(tc, shipped_file);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, catch_up_policies);
    tcase_add_test(tc, firing_ids);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
