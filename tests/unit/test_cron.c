/* hf_cron: a table of expressions with their next fire times (leap days,
 * month ends, daylight saving changes in Berlin and New York, the POSIX
 * rule past 2037), and a table of bad expressions with their messages. */
#include <check.h>
#include <string.h>

#include "hf_cron.h"
#include "hf_time.h"
#include "unit_util.h"

static int64_t ts(const char *s)
{
    int64_t us = 0;
    ck_assert_msg(hf_time_parse_rfc3339(s, &us) == 0, "bad timestamp %s", s);
    return us / 1000000;
}

static const struct {
    const char *expr, *zone, *after, *next, *then;
} table[] = {
    /* 29 February: leap years only, and 2100 is not one */
    { "0 0 29 2 *", "UTC", "2023-03-01T00:00:00Z", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z" },
    { "0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z" },
    /* the 31st skips the short months */
    { "0 12 31 * *", "UTC", "2024-04-01T00:00:00Z", "2024-05-31T12:00:00Z", "2024-07-31T12:00:00Z" },
    { "0 0 31 * *", "UTC", "2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z" },
    { "0 0 30 * *", "UTC", "2024-01-30T00:00:00Z", "2024-03-30T00:00:00Z", "2024-04-30T00:00:00Z" },
    /* year end */
    { "59 23 31 12 *", "UTC", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z", "2026-12-31T23:59:00Z" },
    /* Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST: 02:30 does
     * not exist and fires at 03:00 CEST, once; the next day at 02:30 CEST */
    { "30 2 * * *", "Europe/Berlin", "2024-03-30T12:00:00Z", "2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z" },
    /* every 15 minutes across the gap: 01:45 CET, then 03:00 CEST */
    { "*/15 * * * *", "Europe/Berlin", "2024-03-31T00:40:00Z", "2024-03-31T00:45:00Z", "2024-03-31T01:00:00Z" },
    /* Berlin, fall back 2024-10-27 03:00 CEST -> 02:00 CET: 02:30 twice, fires the first */
    { "30 2 * * *", "Europe/Berlin", "2024-10-26T12:00:00Z", "2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z" },
    /* the repeated hour does not fire again */
    { "*/30 * * * *", "Europe/Berlin", "2024-10-27T00:30:00Z", "2024-10-27T02:00:00Z", "2024-10-27T02:30:00Z" },
    /* from inside the second pass of the repeated hour */
    { "45 2 * * *", "Europe/Berlin", "2024-10-27T01:10:00Z", "2024-10-28T01:45:00Z", "2024-10-29T01:45:00Z" },
    /* New York, spring forward 2024-03-10 02:00 EST -> 03:00 EDT */
    { "0 2 * * *", "America/New_York", "2024-03-09T12:00:00Z", "2024-03-10T07:00:00Z", "2024-03-11T06:00:00Z" },
    /* New York, fall back 2024-11-03 02:00 EDT -> 01:00 EST */
    { "30 1 * * *", "America/New_York", "2024-11-02T12:00:00Z", "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z" },
    /* past the file's transitions (2037): the footer rule */
    { "30 2 * * *", "Europe/Berlin", "2040-03-24T12:00:00Z", "2040-03-25T01:00:00Z", "2040-03-26T00:30:00Z" },
    { "30 2 * * *", "Europe/Berlin", "2040-10-27T12:00:00Z", "2040-10-28T00:30:00Z", "2040-10-29T01:30:00Z" },
    { "0 3 * * *", "Europe/Berlin", "2040-07-01T12:00:00Z", "2040-07-02T01:00:00Z", "2040-07-03T01:00:00Z" },
    /* half-hour zone */
    { "0 9 * * *", "Asia/Kolkata", "2024-01-01T00:00:00Z", "2024-01-01T03:30:00Z", "2024-01-02T03:30:00Z" },
    /* names, ranges, lists, steps */
    { "0 9 * * mon-fri", "UTC", "2024-06-07T09:00:00Z", "2024-06-10T09:00:00Z", "2024-06-11T09:00:00Z" },
    { "*/15 9-17 * jan,JUL *", "UTC", "2024-01-31T17:45:00Z", "2024-07-01T09:00:00Z", "2024-07-01T09:15:00Z" },
    { "5,10-12/2 0 1 1 *", "UTC", "2024-01-01T00:06:00Z", "2024-01-01T00:10:00Z", "2024-01-01T00:12:00Z" },
    { "10/20 0 1 1 *", "UTC", "2024-01-01T00:30:00Z", "2024-01-01T00:50:00Z", "2025-01-01T00:10:00Z" },
    /* both day fields restricted: either matches (Vixie) */
    { "0 0 1,15 * wed", "UTC", "2024-06-01T00:00:00Z", "2024-06-05T00:00:00Z", "2024-06-12T00:00:00Z" },
    /* one restricted with a star step: both must match */
    { "0 0 */2 * mon", "UTC", "2024-06-01T00:00:00Z", "2024-06-03T00:00:00Z", "2024-06-17T00:00:00Z" },
    { "0 0 * * 7", "UTC", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z", "2024-06-16T00:00:00Z" },
    /* macros */
    { "@monthly", "UTC", "2024-12-15T00:00:00Z", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z" },
    { "@weekly", "UTC", "2024-06-05T00:00:00Z", "2024-06-09T00:00:00Z", "2024-06-16T00:00:00Z" },
    { "@YEARLY", "UTC", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z" },
    { "@annually", "UTC", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z" },
    { "@daily", "Europe/Berlin", "2024-06-05T00:00:00Z", "2024-06-05T22:00:00Z", "2024-06-06T22:00:00Z" },
    { "@hourly", "UTC", "2024-06-05T00:00:00Z", "2024-06-05T01:00:00Z", "2024-06-05T02:00:00Z" },
    /* six fields: seconds first */
    { "*/10 * * * * *", "UTC", "2024-01-01T00:00:05Z", "2024-01-01T00:00:10Z", "2024-01-01T00:00:20Z" },
    { "0 0 0 1 1 *", "UTC", "2024-06-05T00:00:00Z", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z" },
};

START_TEST(next_fire_times)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        struct hf_err err = { 0 };
        hf_cron *c = NULL;
        hf_tz *tz = NULL;
        ck_assert_msg(hf_cron_parse(table[i].expr, &c, &err) == 0, "%s: %s", table[i].expr, err.msg);
        ck_assert_msg(hf_tz_load(table[i].zone, &tz, &err) == 0, "%s: %s", table[i].zone, err.msg);
        int64_t next = 0, then = 0;
        ck_assert_int_eq(hf_cron_next(c, tz, ts(table[i].after), &next), 0);
        ck_assert_int_eq(hf_cron_next(c, tz, next, &then), 0);
        char got[40], got2[40];
        hf_time_format_rfc3339(next * 1000000, got, sizeof got);
        hf_time_format_rfc3339(then * 1000000, got2, sizeof got2);
        ck_assert_msg(next == ts(table[i].next) && then == ts(table[i].then), "%s in %s after %s: got %s, %s; want %s, %s",
                      table[i].expr, table[i].zone, table[i].after, got, got2, table[i].next, table[i].then);
        hf_cron_free(c);
        hf_tz_free(tz);
    }
}
END_TEST

/* Every minute across both of Berlin's 2024 changes (two days each):
 * strictly increasing, never two firings at one instant, 60 s apart except
 * once in autumn, when the repeated hour is skipped (a 3660 s step). */
START_TEST(every_minute_is_monotonic)
{
    hf_cron *c = NULL;
    hf_tz *tz = NULL;
    ck_assert_int_eq(hf_cron_parse("* * * * *", &c, NULL), 0);
    ck_assert_int_eq(hf_tz_load("Europe/Berlin", &tz, NULL), 0);
    static const struct {
        const char *from, *to;
        int odd;
        long n;
    } windows[] = {
        /* spring: 03:00 CEST follows 01:59 CET one minute later */
        { "2024-03-30T00:00:00Z", "2024-04-01T00:00:00Z", 0, 2880 },
        { "2024-10-26T00:00:00Z", "2024-10-28T00:00:00Z", 1, 2880 - 60 },
    };
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        int64_t t = ts(windows[w].from), end = ts(windows[w].to);
        int odd = 0;
        long n = 0;
        while (t < end) {
            int64_t next;
            ck_assert_int_eq(hf_cron_next(c, tz, t, &next), 0);
            ck_assert_int_gt(next, t);
            if (next - t != 60) {
                ck_assert_int_eq(next - t, 3660);
                odd++;
            }
            t = next;
            n++;
        }
        ck_assert_int_eq(odd, windows[w].odd);
        ck_assert_int_eq(n, windows[w].n);
    }
    hf_cron_free(c);
    hf_tz_free(tz);
}
END_TEST

static const struct {
    const char *expr, *msg;
} bad[] = {
    { "", "has 5 fields" },
    { "   ", "has 5 fields" },
    { "* * * *", "this one has 4" },
    { "* * * * * * *", "more than 6" },
    { "60 * * * *", "field 1 (minute): 60 is out of range 0-59" },
    { "* 24 * * *", "field 2 (hour): 24 is out of range 0-23" },
    { "* * 0 * *", "field 3 (day of month): 0 is out of range 1-31" },
    { "* * 32 * *", "out of range 1-31" },
    { "* * * 13 *", "field 4 (month): 13 is out of range 1-12" },
    { "* * * * 8", "field 5 (day of week): 8 is out of range 0-7" },
    { "60 * * * * *", "field 1 (second): 60" },
    { "5-1 * * * *", "range 5-1 runs backwards" },
    { "* * * * fri-mon", "range 5-1 runs backwards" },
    { "*/0 * * * *", "step 0 is out of range" },
    { "*/60 * * * *", "step 60 is out of range 1-59" },
    { "1/ * * * *", "a step needs a number" },
    { "a * * * *", "field 1 (minute): \"a\" is not a number" },
    { "1,,2 * * * *", "empty list item" },
    { ",1 * * * *", "empty list item" },
    { "1, * * * *", "empty list item" },
    { "1- * * * *", "is not a number" },
    { "1-2-3 * * * *", "unexpected \"-3\"" },
    { "mon * * * *", "field 1 (minute): \"mon\" is not a number" },
    { "* * * jan-foo *", "\"foo\" is not a number or name" },
    { "* * * janu *", "\"janu\" is not a number or name" },
    { "99999999999 * * * *", "number too long" },
    { "** * * * *", "unexpected \"*\"" },
    { "@reboot", "unknown macro \"@reboot\"" },
    { "@daily 5", "unknown macro" },
    { "@", "unknown macro" },
    { "0 0 30 2 *", "never meet" },
    { "0 0 31 4,6,9,11 *", "never meet" },
    { "0 0 1\x01 * *", "control or non-ASCII" },
    { "0 0 1 * \xc3\xa9", "control or non-ASCII" },
};

START_TEST(bad_expressions)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hf_err err = { 0 };
        hf_cron *c = NULL;
        int rc = hf_cron_parse(bad[i].expr, &c, &err);
        ck_assert_msg(rc == HF_EINVAL && c == NULL, "\"%s\" was accepted", bad[i].expr);
        ck_assert_msg(strstr(err.msg, bad[i].msg), "\"%s\": message \"%s\" lacks \"%s\"", bad[i].expr, err.msg,
                      bad[i].msg);
    }
    char longer[HF_CRON_MAX_LEN + 10];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    struct hf_err err = { 0 };
    hf_cron *c = NULL;
    ck_assert_int_eq(hf_cron_parse(longer, &c, &err), HF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
    ck_assert_int_eq(hf_cron_parse(NULL, &c, &err), HF_EINVAL);
}
END_TEST

/* 29 February only on Mondays is possible (either field matches), and so is
 * the 31st restricted to months that have one. */
START_TEST(possible_days_accepted)
{
    const char *ok[] = { "0 0 29 2 mon", "0 0 31 1-12 *", "0 0 29 feb *", "\t0  0 1 * *\t" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        hf_cron *c = NULL;
        struct hf_err err = { 0 };
        ck_assert_msg(hf_cron_parse(ok[i], &c, &err) == 0, "%s: %s", ok[i], err.msg);
        hf_cron_free(c);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("cron");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, next_fire_times);
    tcase_add_test(tc, every_minute_is_monotonic);
    tcase_add_test(tc, bad_expressions);
    tcase_add_test(tc, possible_days_accepted);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
