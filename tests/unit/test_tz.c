/* hf_tz: offsets and wall-time resolution against known transitions
 * (Berlin and New York 2024, and Berlin 2040 from the footer rule), and
 * refusal of names that are not zones. */
#include <check.h>
#include <string.h>

#include "hf_time.h"
#include "hf_tz.h"
#include "unit_util.h"

static int64_t ts(const char *s)
{
    int64_t us = 0;
    ck_assert_msg(hf_time_parse_rfc3339(s, &us) == 0, "bad timestamp %s", s);
    return us / 1000000;
}

static const struct {
    const char *zone, *at;
    int32_t offset;
} offsets[] = {
    { "UTC", "2024-06-01T00:00:00Z", 0 },
    { "Europe/Berlin", "2024-03-31T00:59:59Z", 3600 },
    { "Europe/Berlin", "2024-03-31T01:00:00Z", 7200 },
    { "Europe/Berlin", "2024-10-27T00:59:59Z", 7200 },
    { "Europe/Berlin", "2024-10-27T01:00:00Z", 3600 },
    { "America/New_York", "2024-03-10T06:59:59Z", -18000 },
    { "America/New_York", "2024-03-10T07:00:00Z", -14400 },
    { "America/New_York", "2024-11-03T05:59:59Z", -14400 },
    { "America/New_York", "2024-11-03T06:00:00Z", -18000 },
    /* footer rule, past the last transition in the file */
    { "Europe/Berlin", "2040-03-25T00:59:59Z", 3600 },
    { "Europe/Berlin", "2040-03-25T01:00:00Z", 7200 },
    { "Europe/Berlin", "2040-10-28T00:59:59Z", 7200 },
    { "Europe/Berlin", "2040-10-28T01:00:00Z", 3600 },
    { "America/New_York", "2050-03-13T07:00:00Z", -14400 },
    { "America/New_York", "2050-12-31T23:59:59Z", -18000 },
    /* before 1970 and before the first transition */
    { "America/New_York", "1960-07-01T12:00:00Z", -14400 },
    { "Asia/Kolkata", "2024-01-01T00:00:00Z", 19800 },
    { "Australia/Sydney", "2024-01-01T00:00:00Z", 39600 },
    { "Australia/Sydney", "2041-07-01T00:00:00Z", 36000 },
};

START_TEST(known_offsets)
{
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        hf_tz *tz = NULL;
        struct hf_err err = { 0 };
        ck_assert_msg(hf_tz_load(offsets[i].zone, &tz, &err) == 0, "%s: %s", offsets[i].zone, err.msg);
        ck_assert_str_eq(hf_tz_name(tz), offsets[i].zone);
        int32_t off = hf_tz_offset(tz, ts(offsets[i].at));
        ck_assert_msg(off == offsets[i].offset, "%s at %s: %d, want %d", offsets[i].zone, offsets[i].at, off,
                      offsets[i].offset);
        hf_tz_free(tz);
    }
}
END_TEST

START_TEST(resolve_gap_and_fold)
{
    hf_tz *tz = NULL;
    ck_assert_int_eq(hf_tz_load("Europe/Berlin", &tz, NULL), 0);
    int64_t at[2];
    /* 2024-03-31 02:30 does not exist: the first instant after is 01:00Z */
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-03-31T02:30:00Z"), at), HF_TZ_GAP);
    ck_assert_int_eq(at[0], ts("2024-03-31T01:00:00Z"));
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-03-31T02:00:00Z"), at), HF_TZ_GAP);
    ck_assert_int_eq(at[0], ts("2024-03-31T01:00:00Z"));
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-03-31T03:00:00Z"), at), HF_TZ_UNIQUE);
    ck_assert_int_eq(at[0], ts("2024-03-31T01:00:00Z"));
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-03-31T01:59:59Z"), at), HF_TZ_UNIQUE);
    ck_assert_int_eq(at[0], ts("2024-03-31T00:59:59Z"));
    /* 2024-10-27 02:30 happens at 00:30Z and 01:30Z */
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-10-27T02:30:00Z"), at), HF_TZ_FOLD);
    ck_assert_int_eq(at[0], ts("2024-10-27T00:30:00Z"));
    ck_assert_int_eq(at[1], ts("2024-10-27T01:30:00Z"));
    ck_assert_int_eq(hf_tz_resolve(tz, ts("2024-10-27T03:00:00Z"), at), HF_TZ_UNIQUE);
    ck_assert_int_eq(at[0], ts("2024-10-27T02:00:00Z"));
    hf_tz_free(tz);
}
END_TEST

START_TEST(bad_names)
{
    const char *bad[] = { "", "/etc/passwd", "../../etc/passwd", "Europe/../../etc", "Europe/Ber lin", "Europe/Berlin\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hf_tz *tz = NULL;
        struct hf_err err = { 0 };
        ck_assert_msg(hf_tz_load(bad[i], &tz, &err) == HF_EINVAL, "\"%s\" accepted", bad[i]);
        ck_assert_ptr_null(tz);
        ck_assert_ptr_nonnull(strstr(err.msg, "is not a time zone name"));
    }
    hf_tz *tz = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_tz_load("Mars/Olympus_Mons", &tz, &err), HF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown time zone \"Mars/Olympus_Mons\""));
    /* a file that exists but is not TZif */
    ck_assert_int_eq(hf_tz_load("tzdata.zi", &tz, &err), HF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a TZif file"));
    /* a folder */
    ck_assert_int_ne(hf_tz_load("Europe", &tz, &err), 0);
    ck_assert_ptr_null(tz);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("tz");
    tcase_add_test(tc, known_offsets);
    tcase_add_test(tc, resolve_gap_and_fold);
    tcase_add_test(tc, bad_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
