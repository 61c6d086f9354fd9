/* Unit tests of common/hf_time: RFC 3339 and date parsing and formatting,
 * in UTC, with exact microsecond values (computed independently). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hf_err.h"
#include "hf_time.h"
#include "unit_util.h"

#define S_ INT64_C(1000000)

static const struct {
    const char *text;
    int64_t us;
} GOOD[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-11-20T08:30:00Z", INT64_C(1795163400000000) },
    { "2026-11-20t08:30:00z", INT64_C(1795163400000000) },  /* lower case T and Z */
    { "2026-11-20 08:30:00Z", INT64_C(1795163400000000) },  /* RFC 3339 allows a space */
    { "2026-11-20T10:30:00+02:00", INT64_C(1795163400000000) },
    { "2026-11-20T03:00:00-05:30", INT64_C(1795163400000000) },
    { "2026-11-20T08:30:00+00:00", INT64_C(1795163400000000) },
    { "2026-11-20T08:30:00-00:00", INT64_C(1795163400000000) },
    { "2026-11-21T08:29:00+23:59", INT64_C(1795163400000000) },
    { "2026-11-20T00:30:00-08:00", INT64_C(1795163400000000) },
    { "2026-11-19T23:30:00-09:00", INT64_C(1795163400000000) }, /* the previous local day */
    { "2026-11-20T08:30:00.5Z", INT64_C(1795163400500000) },
    { "2026-11-20T08:30:00.123Z", INT64_C(1795163400123000) },
    { "2026-11-20T08:30:00.123456Z", INT64_C(1795163400123456) },
    { "2026-11-20T08:30:00.1234567Z", INT64_C(1795163400123456) },  /* below a microsecond: cut */
    { "2026-11-20T08:30:00.123456789Z", INT64_C(1795163400123456) }, /* 9 digits */
    { "2026-11-20T08:30:00.000001Z", INT64_C(1795163400000001) },
    { "2026-11-20T10:30:00.25+02:00", INT64_C(1795163400250000) },
    { "2026-11-20T23:59:60Z", INT64_C(1795219199000000) }, /* leap second: the second before */
    /* leap years */
    { "2024-02-29T12:00:00Z", INT64_C(1709208000000000) },
    { "2000-02-29T00:00:00Z", INT64_C(951782400000000) },
    { "2100-02-28T00:00:00Z", INT64_C(4107456000000000) },
    { "2100-03-01T00:00:00Z", INT64_C(4107542400000000) },
    { "1900-02-28T00:00:00Z", INT64_C(-2203977600000000) },
    { "1900-03-01T00:00:00Z", INT64_C(-2203891200000000) },
    /* before 1970 */
    { "1969-12-31T23:59:59Z", INT64_C(-1000000) },
    { "1969-12-31T23:59:59.5Z", INT64_C(-500000) },
    { "1969-12-31T23:59:59.999999Z", INT64_C(-1) },
    { "1970-01-01T00:00:00.5+00:01", INT64_C(-59500000) },
    { "1960-06-15T10:20:30Z", INT64_C(-301239570000000) },
    { "1900-01-01T00:00:00Z", INT64_C(-2208988800000000) },
    { "9999-12-31T23:59:59Z", INT64_C(253402300799000000) },
};
#define N_GOOD (sizeof GOOD / sizeof GOOD[0])

START_TEST(test_parse_good)
{
    int64_t us = 12345;
    int rc = hf_time_parse_rfc3339(GOOD[_i].text, &us);
    ck_assert_msg(rc == 0, "%s rejected", GOOD[_i].text);
    ck_assert_msg(us == GOOD[_i].us, "%s: %lld, expected %lld", GOOD[_i].text, (long long)us, (long long)GOOD[_i].us);
}
END_TEST

static const char *const BAD[] = {
    "",
    "garbage",
    "2026-11-20",                  /* a date only */
    "2026-11-20T08:30:00",         /* no zone */
    "2026-11-20T08:30Z",           /* no seconds */
    "2026-11-20T08:30:00+02",      /* half an offset */
    "2026-11-20T08:30:00+0200",    /* offset without colon */
    "2026-11-20T08:30:00+24:00",   /* offset hour */
    "2026-11-20T08:30:00+02:60",   /* offset minute */
    "2026-11-20T08:30:00 Z",
    "2026-11-20T08:30:00ZZ",       /* trailing characters */
    "2026-11-20T08:30:00Z ",
    "2026-11-20T08:30:00.Z",       /* a dot without digits */
    "2026-11-20T08:30:00.1234567890Z", /* 10 fraction digits */
    "2026-11-20T08:30:00,5Z",      /* comma fraction */
    "2026-11-20X08:30:00Z",        /* bad separator */
    "2026-11-20T24:00:00Z",        /* hour */
    "2026-11-20T08:60:00Z",        /* minute */
    "2026-11-20T08:30:61Z",        /* second */
    "2026-00-20T08:30:00Z",        /* month 0 */
    "2026-13-20T08:30:00Z",        /* month 13 */
    "2026-11-00T08:30:00Z",        /* day 0 */
    "2026-11-31T08:30:00Z",        /* 31 November */
    "2026-04-31T08:30:00Z",
    "2026-01-32T08:30:00Z",
    "2026-02-29T08:30:00Z",        /* not a leap year */
    "2026-02-30T08:30:00Z",
    "1900-02-29T00:00:00Z",        /* divisible by 100, not by 400 */
    "2100-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "1899-12-31T23:59:59Z",        /* before the supported range */
    "1900-01-01T00:00:00+00:01",   /* in range as written, 1899 in UTC */
    "9999-12-31T23:59:59-00:01",   /* 10000 in UTC */
    "26-11-20T08:30:00Z",
    "2026-1-20T08:30:00Z",
    "2026/11/20T08:30:00Z",
    "2026-11-20T8:30:00Z",
    "+2026-11-20T08:30:00Z",
    "2026-11-20T08:30:00+02:00:00",
    "2026-11-2aT08:30:00Z",
};
#define N_BAD (sizeof BAD / sizeof BAD[0])

START_TEST(test_parse_bad)
{
    int64_t us = 777;
    ck_assert_msg(hf_time_parse_rfc3339(BAD[_i], &us) == HF_EINVAL, "\"%s\" accepted (%lld)", BAD[_i],
                  (long long)us);
}
END_TEST

START_TEST(test_leap_year_rules)
{
    /* day after 28 February, by year: 29 Feb exactly in leap years */
    static const struct {
        int year;
        bool leap;
    } years[] = { { 1900, false }, { 1904, true }, { 1996, true }, { 1999, false }, { 2000, true }, { 2024, true },
                  { 2026, false }, { 2100, false }, { 2400, true } };
    for (size_t i = 0; i < sizeof years / sizeof years[0]; i++) {
        char text[32];
        int64_t us = 0, feb28 = 0, mar1 = 0;
        snprintf(text, sizeof text, "%04d-02-28T00:00:00Z", years[i].year);
        ck_assert_int_eq(hf_time_parse_rfc3339(text, &feb28), 0);
        snprintf(text, sizeof text, "%04d-03-01T00:00:00Z", years[i].year);
        ck_assert_int_eq(hf_time_parse_rfc3339(text, &mar1), 0);
        snprintf(text, sizeof text, "%04d-02-29T00:00:00Z", years[i].year);
        int rc = hf_time_parse_rfc3339(text, &us);
        int32_t days = 0;
        snprintf(text, sizeof text, "%04d-02-29", years[i].year);
        int rcd = hf_time_parse_date(text, &days);
        if (years[i].leap) {
            ck_assert_msg(rc == 0 && rcd == 0, "%d is a leap year", years[i].year);
            ck_assert_int_eq(us - feb28, 86400 * S_);
            ck_assert_int_eq(mar1 - us, 86400 * S_);
            ck_assert_int_eq((int64_t)days * 86400 * S_, us);
        } else {
            ck_assert_msg(rc == HF_EINVAL && rcd == HF_EINVAL, "%d is not a leap year", years[i].year);
            ck_assert_int_eq(mar1 - feb28, 86400 * S_);
        }
    }
}
END_TEST

START_TEST(test_format_rfc3339)
{
    static const struct {
        int64_t us;
        const char *text;
    } cases[] = {
        { 0, "1970-01-01T00:00:00.000000Z" },
        { INT64_C(1795163400000000), "2026-11-20T08:30:00.000000Z" },
        { INT64_C(1795163400123456), "2026-11-20T08:30:00.123456Z" },
        { INT64_C(1709208000000001), "2024-02-29T12:00:00.000001Z" },
        { -1, "1969-12-31T23:59:59.999999Z" },
        { INT64_C(-500000), "1969-12-31T23:59:59.500000Z" },
        { INT64_C(-1000000), "1969-12-31T23:59:59.000000Z" },
        { INT64_C(-1000001), "1969-12-31T23:59:58.999999Z" },
        { INT64_C(-2208988800000000), "1900-01-01T00:00:00.000000Z" },
        { INT64_C(-301239570000000), "1960-06-15T10:20:30.000000Z" },
        { INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[40];
        memset(out, '#', sizeof out);
        hf_time_format_rfc3339(cases[i].us, out, sizeof out);
        ck_assert_str_eq(out, cases[i].text);
        int64_t back = 0;
        ck_assert_int_eq(hf_time_parse_rfc3339(out, &back), 0);
        ck_assert_int_eq(back, cases[i].us);
    }
    char small[11];
    hf_time_format_rfc3339(0, small, sizeof small); /* cut, terminated */
    ck_assert_uint_le(strlen(small), 10);
}
END_TEST

START_TEST(test_round_trip_many)
{
    /* parse(format(x)) == x over a spread of values, both sides of 1970 */
    for (int64_t us = INT64_C(-2208988800000000); us < INT64_C(4102444800000000);
         us += INT64_C(86399999937) * 13 + 7) {
        char out[40];
        hf_time_format_rfc3339(us, out, sizeof out);
        int64_t back = 0;
        ck_assert_msg(hf_time_parse_rfc3339(out, &back) == 0, "%s", out);
        ck_assert_msg(back == us, "%lld -> %s -> %lld", (long long)us, out, (long long)back);
    }
}
END_TEST

START_TEST(test_date_parse)
{
    static const struct {
        const char *text;
        int32_t days;
    } good[] = {
        { "1970-01-01", 0 }, { "1969-12-31", -1 },     { "2026-11-20", 20777 }, { "2026-11-16", 20773 },
        { "2000-02-29", 11016 }, { "2024-02-29", 19782 }, { "2100-02-28", 47540 }, { "1900-01-01", -25567 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int32_t d = 99;
        ck_assert_msg(hf_time_parse_date(good[i].text, &d) == 0, "%s rejected", good[i].text);
        ck_assert_int_eq(d, good[i].days);
    }
    static const char *const bad[] = { "",           "2026-11-2",   "2026-11-200", "2026-02-29", "2100-02-29",
                                       "1900-02-29", "2026-13-01",  "2026-00-01",  "2026-11-00", "2026-11-31",
                                       "2026/11/20", "20261120",    "2026-11-20T", "1899-12-31", "2026-1a-20",
                                       "abcd-ef-gh", " 2026-11-20" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t d = 99;
        ck_assert_msg(hf_time_parse_date(bad[i], &d) == HF_EINVAL, "\"%s\" accepted", bad[i]);
    }
}
END_TEST

START_TEST(test_date_format)
{
    static const struct {
        int64_t us;
        const char *text;
    } cases[] = {
        { 0, "1970-01-01" },
        { INT64_C(1795163400000000), "2026-11-20" },
        { INT64_C(1795219199999999), "2026-11-20" }, /* last microsecond of the day */
        { INT64_C(1795219200000000), "2026-11-21" },
        { -1, "1969-12-31" },
        { INT64_C(-86400000000), "1969-12-31" },
        { INT64_C(-86400000001), "1969-12-30" },
        { INT64_C(-2208988800000000), "1900-01-01" },
        { INT64_C(951782400000000), "2000-02-29" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[16];
        hf_time_format_date(cases[i].us, out, sizeof out);
        ck_assert_str_eq(out, cases[i].text);
    }
    /* date text -> days -> microseconds -> the same text */
    for (int32_t days = -25567; days < 47541; days += 37) {
        char out[16];
        hf_time_format_date((int64_t)days * 86400 * S_, out, sizeof out);
        int32_t back = 0;
        ck_assert_int_eq(hf_time_parse_date(out, &back), 0);
        ck_assert_int_eq(back, days);
    }
}
END_TEST

START_TEST(test_clocks)
{
    int64_t now = hf_time_now_us();
    ck_assert_int_gt(now, INT64_C(1735689600000000)); /* after 2025-01-01 */
    int64_t a = hf_time_mono_us(), b = hf_time_mono_us();
    ck_assert_int_ge(b, a);
}
END_TEST

static Suite *time_suite(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("rfc3339");
    tcase_add_loop_test(tc, test_parse_good, 0, (int)N_GOOD);
    tcase_add_loop_test(tc, test_parse_bad, 0, (int)N_BAD);
    tcase_add_test(tc, test_leap_year_rules);
    tcase_add_test(tc, test_format_rfc3339);
    tcase_add_test(tc, test_round_trip_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("date");
    tcase_add_test(tc, test_date_parse);
    tcase_add_test(tc, test_date_format);
    tcase_add_test(tc, test_clocks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(time_suite());
}
