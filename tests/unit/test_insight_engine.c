/* The insight engine (workers/insights/insight_*.c) on made-up people whose
 * patterns are planted: it must find them, say them with their numbers, and
 * give a defined answer (no NaN, no crash) on degenerate and broken input. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hf_err.h"
#include "insight.h"
#include "stat.h"
#include "stat_corr.h"
#include "stat_n1.h"
#include "unit_util.h"

#define BASE 20000 /* 2024-10-04 */

static void add(hf_insight_data *d, const char *type, int32_t day, const char *payload)
{
    ck_assert_int_eq(hf_insight_data_add_log(d, type, day, payload, strlen(payload)), 0);
}

/* Every real in the tree is finite (jansson cannot even hold NaN, so a
 * non-finite value would show up as a missing field: checked by the tests). */
static void assert_finite(const json_t *j)
{
    const char *k;
    const json_t *v;
    size_t i;
    if (json_is_real(j))
        ck_assert(isfinite(json_real_value(j)));
    else if (json_is_object(j))
        json_object_foreach((json_t *)j, k, v) assert_finite(v);
    else if (json_is_array(j))
        json_array_foreach(j, i, v) assert_finite(v);
}

static json_t *compute(const hf_insight_data *d)
{
    json_t *out = hf_insight_compute(d);
    ck_assert_ptr_nonnull(out);
    assert_finite(out);
    char *text = json_dumps(out, 0);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(!strstr(text, "nan") && !strstr(text, "inf\""), "non-finite text in %s", text);
    free(text);
    return out;
}

static const json_t *path(const json_t *j, const char *a, const char *b)
{
    const json_t *x = json_object_get(j, a);
    return b ? json_object_get(x, b) : x;
}

/* A person over 100 days: milk every third day, and bloating 4 the day after
 * milk (1 otherwise); cheese on days 2 mod 5 with headache 3 the same day (0
 * otherwise); cramps 4 or 3 in the luteal phase, 1 or 2 otherwise; oats every day
 * except day 0 (never tested against almost nothing). */
static hf_insight_data *planted(void)
{
    hf_insight_data *d = hf_insight_data_new();
    ck_assert_ptr_nonnull(d);
    static const char *const phases[] = { "menstrual", "follicular", "ovulation", "luteal" };
    for (int i = 0; i < 100; i++) {
        bool milk = i % 3 == 0, milk_before = i > 0 && (i - 1) % 3 == 0, cheese = i % 5 == 2;
        int phase = (i % 28) < 5 ? 0 : (i % 28) < 13 ? 1 : (i % 28) < 16 ? 2 : 3;
        char p[512];
        snprintf(p, sizeof p,
                 "{\"member_id\": 1, \"symptoms\": {\"bloating\": %d, \"headache\": %d, \"cramps\": %d,"
                 " \"energy\": %d}, \"ingredients\": [%s%s%s], \"cycle_phase\": \"%s\"}",
                 milk_before ? 4 : 1, cheese ? 3 : 0, phase == 3 ? 4 - (i % 2) : 1 + (i % 2), 2 + (i % 2), milk ? "\"Milk\"," : "",
                 cheese ? "\"  cheese \"," : "", i ? "\"oats\"" : "\"rice\"", phases[phase]);
        add(d, "SYMPTOM", BASE + i, p);
        snprintf(p, sizeof p, "{\"kind\": \"sleep_score\", \"value\": %d}", i < 70 ? 70 + (i % 5) : 78 + (i % 5));
        add(d, "BIOMETRIC", BASE + i, p);
    }
    return d;
}

START_TEST(finds_the_planted_lag_effect)
{
    hf_insight_data *d = planted();
    json_t *out = compute(d);
    const json_t *items = path(out, "lag_effects", "items");
    ck_assert_int_ge(json_array_size(items), 1);
    const json_t *top = json_array_get(items, 0);
    ck_assert_str_eq(json_string_value(json_object_get(top, "ingredient")), "milk");
    ck_assert_str_eq(json_string_value(json_object_get(top, "symptom")), "bloating");
    ck_assert_int_eq(json_integer_value(json_object_get(top, "lag_days")), 1);
    ck_assert(json_is_true(json_object_get(top, "delayed")));
    /* Bloating the day after milk is exactly "milk yesterday": r = 1 over the
     * 99 pairs (day 99's milk has no next day in the data). */
    ck_assert_double_eq_tol(json_real_value(json_object_get(top, "r")), 1.0, 1e-12);
    ck_assert_int_eq(json_integer_value(json_object_get(top, "n")), 99);
    const char *text = json_string_value(json_object_get(top, "text"));
    ck_assert_msg(strncmp(text, "Milk is followed by more bloating one day later: r = 1.00, p = ", 63) == 0, "%s",
                  text);
    /* Same-day r of milk and bloating is the lag-0 entry, which lost. */
    const json_t *by_lag = json_object_get(top, "r_by_lag");
    ck_assert_int_eq(json_array_size(by_lag), 4);
    ck_assert(fabs(json_real_value(json_array_get(by_lag, 0))) < 0.6);
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

/* The planted milk -> bloating lag over `days` days: one pair fewer at lag 1. */
static size_t lag_items_over(int days)
{
    hf_insight_data *d = hf_insight_data_new();
    ck_assert_ptr_nonnull(d);
    for (int i = 0; i < days; i++) {
        char p[160];
        snprintf(p, sizeof p, "{\"symptoms\": {\"bloating\": %d}, \"ingredients\": [%s\"oats\"]}",
                 i > 0 && (i - 1) % 3 == 0 ? 4 : 1, i % 3 == 0 ? "\"milk\", " : "");
        add(d, "SYMPTOM", BASE + i, p);
    }
    json_t *out = compute(d);
    size_t n = json_array_size(path(out, "lag_effects", "items"));
    hf_insight_data_free(d);
    json_decref(out);
    return n;
}

/* r = 1 over a handful of days says nothing: a lag effect needs 14 paired
 * days (13 pairs: not reported; 14: reported). */
START_TEST(a_lag_effect_needs_two_weeks_of_pairs)
{
    ck_assert_uint_eq(lag_items_over(14), 0);
    ck_assert_uint_eq(lag_items_over(15), 1);
}
END_TEST

/* Energy 1 on weekends, 4-5 on weekdays, over `days` days: the summary
 * lines about it (the Welch test's and the trend's). */
static int weekend_lines_over(int days, bool *computed)
{
    hf_insight_data *d = hf_insight_data_new();
    ck_assert_ptr_nonnull(d);
    for (int i = 0; i < days; i++) {
        int32_t day = BASE + i;
        bool weekend = (day + 4) % 7 == 0 || (day + 4) % 7 == 6; /* 1970-01-01 was a Thursday */
        char p[96];
        snprintf(p, sizeof p, "{\"symptoms\": {\"energy\": %d}}", weekend ? 1 : 4 + i % 2);
        add(d, "SYMPTOM", day, p);
    }
    json_t *out = compute(d);
    const json_t *ww = path(path(out, "time_patterns", "energy"), "weekday_weekend", NULL);
    *computed = strcmp(json_string_value(json_object_get(ww, "status")), "ok") == 0 &&
                json_real_value(json_object_get(ww, "p")) < 0.05;
    int lines = 0;
    const json_t *summary = json_object_get(out, "summary"), *line;
    size_t i;
    json_array_foreach(summary, i, line) lines += strstr(json_string_value(line), "on weekends") != NULL;
    hf_insight_data_free(d);
    json_decref(out);
    return lines;
}

/* A week's weekend difference is computed and kept, but not told: 2 days
 * against 5. Four weeks of it are. */
START_TEST(a_weekend_pattern_is_told_from_two_weeks)
{
    bool computed = false;
    ck_assert_int_eq(weekend_lines_over(7, &computed), 0);
    ck_assert_msg(computed, "the week's test itself must still be there, significant");
    ck_assert_int_eq(weekend_lines_over(28, &computed), 1);
    ck_assert(computed);
}
END_TEST

START_TEST(finds_the_planted_trigger_with_its_numbers)
{
    hf_insight_data *d = planted();
    json_t *out = compute(d);
    const json_t *items = path(out, "triggers", "items"), *cheese = NULL;
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) if (strcmp(json_string_value(json_object_get(it, "ingredient")), "cheese") == 0 &&
                                         strcmp(json_string_value(json_object_get(it, "symptom")), "headache") == 0)
        cheese = it;
    ck_assert_msg(cheese != NULL, "no cheese/headache trigger in %s", json_dumps(items, 0));
    /* 20 cheese days with headache 3, 80 without at 0: U = 20 * 80 = 1600,
     * r = 1 (headache is exactly the cheese indicator times 3). */
    ck_assert_int_eq(json_integer_value(json_object_get(cheese, "n_with")), 20);
    ck_assert_int_eq(json_integer_value(json_object_get(cheese, "n_without")), 80);
    ck_assert_double_eq_tol(json_real_value(json_object_get(cheese, "u")), 1600, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(cheese, "r")), 1, 1e-12);
    ck_assert_double_eq_tol(json_real_value(json_object_get(cheese, "mean_with")), 3, 1e-12);
    ck_assert(json_is_true(json_object_get(cheese, "worse")));
    double p = json_real_value(json_object_get(cheese, "p"));
    int tests = (int)json_integer_value(path(out, "triggers", "tests"));
    ck_assert_double_eq_tol(json_real_value(json_object_get(cheese, "p_adjusted")), hf_stat_bonferroni(p, tests), 1e-15);
    /* milk, cheese and oats eaten > 3 times; rice once (not a candidate). */
    ck_assert_int_eq(json_integer_value(path(out, "triggers", "ingredients_tested")), 3);
    ck_assert_int_le(json_array_size(items), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "ingredients")), 4);
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(cycle_phase_worst_and_time_patterns)
{
    hf_insight_data *d = planted();
    json_t *out = compute(d);
    const json_t *items = path(out, "cycle_phase", "items"), *cramps = NULL;
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) if (strcmp(json_string_value(json_object_get(it, "symptom")), "cramps") == 0)
        cramps = it;
    ck_assert_ptr_nonnull(cramps);
    ck_assert_str_eq(json_string_value(json_object_get(cramps, "worst_phase")), "luteal");
    ck_assert(json_is_true(json_object_get(cramps, "significant")));
    /* 36 luteal days (16-27, 44-55, 72-83), half 4 and half 3 */
    ck_assert_double_eq_tol(json_real_value(path(json_object_get(cramps, "phases"), "luteal", "mean")), 3.5, 1e-12);
    ck_assert_int_eq(json_integer_value(path(json_object_get(cramps, "phases"), "luteal", "n")), 36);
    ck_assert_str_eq(json_string_value(json_object_get(cramps, "status")), "ok");
    ck_assert_int_eq(json_integer_value(json_object_get(cramps, "df_between")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(cramps, "df_within")), 96);
    const char *text = json_string_value(json_object_get(cramps, "text"));
    ck_assert_msg(strncmp(text, "Cramps is worst in the luteal phase (mean 3.50 over 36 days); ANOVA across 4 phases F = ",
                          88) == 0,
                  "%s", text);
    /* energy alternates 2, 3 by day: weekday/weekend Welch is defined, the
     * 100-day span (> 3 months) runs the seasonal ANOVA. */
    const json_t *energy = path(out, "time_patterns", "energy");
    ck_assert_str_eq(json_string_value(path(energy, "weekday_weekend", "status")), "ok");
    ck_assert_str_eq(json_string_value(path(energy, "trend", "status")), "ok");
    ck_assert_int_eq(json_integer_value(path(energy, "seasonality", "days_covered")), 100);
    ck_assert_str_eq(json_string_value(path(energy, "seasonality", "status")), "ok");
    /* a symptom never logged has no time pattern */
    ck_assert_ptr_null(path(out, "time_patterns", "nausea"));
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(experiment_effect_and_its_text)
{
    hf_insight_data *d = planted();
    /* Magnesium from day 70 to 99: sleep score 78-82 against 70-74 before. */
    ck_assert_int_eq(hf_insight_data_add_experiment(d, 7, "Magnesium for sleep", "magnesium 300 mg", "sleep_score",
                                                    BASE + 70, BASE + 99),
                     0);
    ck_assert_int_eq(hf_insight_data_add_experiment(d, 8, "Too new", "yoga", "energy", BASE + 99, INT32_MIN), 0);
    ck_assert_int_eq(hf_insight_data_add_experiment(d, 9, "Future", "walks", "mood", BASE + 200, BASE + 210), 0);
    json_t *out = compute(d);
    const json_t *e = json_array_get(json_object_get(out, "experiments"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "ok");
    /* the same windows through stat_n1 directly: 30 days before, 30 during */
    double before[30], during[30];
    for (int i = 0; i < 30; i++) {
        before[i] = 70 + ((40 + i) % 5);
        during[i] = 78 + ((70 + i) % 5);
    }
    struct hf_n1 r;
    hf_n1_effect(before, 30, during, 30, &(struct hf_n1_prior){ 0, 10, 0.5 }, &r);
    ck_assert_double_eq_tol(json_real_value(json_object_get(e, "effect")), r.effect, 1e-12);
    ck_assert_double_eq_tol(json_real_value(json_object_get(e, "ci95_low")), r.ci_low, 1e-12);
    ck_assert_double_eq_tol(json_real_value(json_object_get(e, "p_positive")), r.p_positive, 1e-12);
    ck_assert(r.effect > 7.5 && r.effect < 8);
    const char *text = json_string_value(json_object_get(e, "text"));
    ck_assert_msg(strstr(text, "sleep score averaged 80.00 over 30 days against 72.00 over 30 days") &&
                      strstr(text, "95% credible interval"),
                  "%s", text);
    const json_t *young = json_array_get(json_object_get(out, "experiments"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(young, "status")), "too_few");
    const json_t *future = json_array_get(json_object_get(out, "experiments"), 2);
    ck_assert_str_eq(json_string_value(json_object_get(future, "status")), "not_started");
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(no_logs_at_all)
{
    hf_insight_data *d = hf_insight_data_new();
    ck_assert_int_eq(hf_insight_data_add_experiment(d, 1, "x", "y", "energy", BASE, BASE + 3), 0);
    json_t *out = compute(d);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "days")), 0);
    ck_assert_int_eq(json_array_size(path(out, "triggers", "items")), 0);
    ck_assert_int_eq(json_array_size(path(out, "cycle_phase", "items")), 0);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "summary"), 0)),
                     "No logs yet: nothing to analyse.");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(out, "experiments"), 0), "status")),
                     "no_data");
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(one_log)
{
    hf_insight_data *d = hf_insight_data_new();
    add(d, "SYMPTOM", BASE, "{\"symptoms\": {\"bloating\": 3}, \"ingredients\": [\"milk\"], \"cycle_phase\": \"luteal\"}");
    json_t *out = compute(d);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "days")), 1);
    const json_t *b = path(out, "time_patterns", "bloating");
    ck_assert_str_eq(json_string_value(path(b, "weekday_weekend", "status")), "too_few");
    ck_assert_str_eq(json_string_value(path(b, "trend", "status")), "too_few");
    ck_assert_str_eq(json_string_value(path(b, "seasonality", "status")), "needs_more_than_3_months");
    const json_t *ph = json_array_get(path(out, "cycle_phase", "items"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(ph, "status")), "too_few");
    ck_assert_ptr_null(json_object_get(ph, "f"));
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(all_values_equal)
{
    hf_insight_data *d = hf_insight_data_new();
    for (int i = 0; i < 30; i++)
        add(d, "SYMPTOM", BASE + i,
            i % 2 ? "{\"symptoms\": {\"bloating\": 2}, \"ingredients\": [\"milk\"]}"
                  : "{\"symptoms\": {\"bloating\": 2}, \"ingredients\": []}");
    json_t *out = compute(d);
    /* one test run (milk x bloating), undefined (no variation): no trigger */
    ck_assert_int_eq(json_integer_value(path(out, "triggers", "tests")), 1);
    ck_assert_int_eq(json_array_size(path(out, "triggers", "items")), 0);
    ck_assert_int_eq(json_array_size(path(out, "lag_effects", "items")), 0);
    const json_t *b = path(out, "time_patterns", "bloating");
    ck_assert_str_eq(json_string_value(path(b, "weekday_weekend", "status")), "no_variation");
    ck_assert_str_eq(json_string_value(path(b, "trend", "status")), "ok"); /* flat: slope 0, p 1 */
    ck_assert_double_eq(json_real_value(path(b, "trend", "slope_per_day")), 0);
    ck_assert_double_eq(json_real_value(path(b, "trend", "p")), 1);
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(one_group_empty)
{
    /* milk on every day with food: nothing to compare it with */
    hf_insight_data *d = hf_insight_data_new();
    for (int i = 0; i < 20; i++) {
        char p[128];
        snprintf(p, sizeof p, "{\"symptoms\": {\"bloating\": %d}, \"ingredients\": [\"milk\"]}", i % 4);
        add(d, "SYMPTOM", BASE + i, p);
    }
    json_t *out = compute(d);
    ck_assert_int_eq(json_integer_value(path(out, "triggers", "ingredients_tested")), 1);
    ck_assert_int_eq(json_integer_value(path(out, "triggers", "tests")), 0);
    ck_assert_int_eq(json_array_size(path(out, "triggers", "items")), 0);
    ck_assert_int_eq(json_integer_value(path(out, "lag_effects", "tests")), 0);
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(broken_payloads_are_skipped_and_counted)
{
    hf_insight_data *d = hf_insight_data_new();
    add(d, "SYMPTOM", BASE, "{not json");
    add(d, "SYMPTOM", BASE, "[1, 2]");
    add(d, "SYMPTOM", BASE + 1,
        "{\"symptoms\": {\"bloating\": \"NaN\", \"energy\": null, \"focus\": 7, \"mood\": -1, \"headache\": 2.5},"
        " \"ingredients\": [\"\", 42, \"   \", \"ok\"], \"cycle_phase\": \"winter\"}");
    add(d, "SYMPTOM", BASE + 2, "{\"ingredients\": \"milk\"}");
    add(d, "NUTRITION", BASE + 2, "{\"items\": [{\"grams\": 3}, {\"name\": null}, {\"name\": \"Rice\"}]}");
    add(d, "NUTRITION", BASE + 3, "{\"items\": {\"name\": \"x\"}}");
    add(d, "BIOMETRIC", BASE + 3, "{\"kind\": \"sleep_score\", \"value\": \"NaN\"}");
    add(d, "BIOMETRIC", BASE + 3, "{\"kind\": \"mood_ring\", \"value\": 3}");
    add(d, "CYCLE", BASE + 3, "{\"start_date\": \"yesterday\"}");
    add(d, "CYCLE", BASE + 3, "{\"start_date\": \"2024-10-05\", \"end_date\": \"2024-10-01\"}");
    add(d, "WORKOUT", BASE + 3, "{\"minutes\": 30}");
    json_t *out = compute(d);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "logs")), 11);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "skipped_logs")), 2);
    /* bloating "NaN", energy null, focus 7, mood -1; "", 42, "   "; items
     * without a usable name x2; sleep_score "NaN"; mood_ring; "yesterday" */
    ck_assert_int_eq(json_integer_value(json_object_get(out, "skipped_values")), 12);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "ingredients")), 2); /* ok, rice */
    ck_assert_int_eq(json_integer_value(path(path(out, "time_patterns", "headache"), "trend", "n")), 1);
    ck_assert_ptr_null(path(out, "time_patterns", "bloating"));
    /* the period whose end is before its start counts, without an end: day
     * BASE+1 (headache 2.5) is its first day, menstrual; one phase, too few */
    const json_t *items = path(out, "cycle_phase", "items");
    ck_assert_int_eq(json_array_size(items), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "worst_phase")), "menstrual");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "status")), "too_few");
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

START_TEST(hash_follows_the_data)
{
    char a[65], b[65], c[65], e[65];
    hf_insight_data *d1 = planted(), *d2 = planted();
    hf_insight_data_hash(d1, a);
    hf_insight_data_hash(d2, b);
    ck_assert_int_eq(strlen(a), 64);
    ck_assert_str_eq(a, b);
    add(d2, "SYMPTOM", BASE + 100, "{\"symptoms\": {\"bloating\": 1}}");
    hf_insight_data_hash(d2, c);
    ck_assert_str_ne(a, c);
    ck_assert_int_eq(hf_insight_data_add_experiment(d1, 1, "n", "i", "energy", BASE, INT32_MIN), 0);
    hf_insight_data_hash(d1, e);
    ck_assert_str_ne(a, e);
    /* hashing twice gives the same answer (the running digest is not consumed) */
    hf_insight_data_hash(d1, a);
    ck_assert_str_eq(a, e);
    hf_insight_data_free(d1);
    hf_insight_data_free(d2);
    hf_insight_data_free(NULL);
}
END_TEST

START_TEST(too_many_experiments)
{
    hf_insight_data *d = hf_insight_data_new();
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++)
        rc = hf_insight_data_add_experiment(d, i, "n", "i", "energy", BASE, BASE + 1);
    ck_assert_int_eq(rc, HF_ETOOBIG);
    json_t *out = compute(d);
    ck_assert_int_eq(json_array_size(json_object_get(out, "experiments")), 32);
    hf_insight_data_free(d);
    json_decref(out);
}
END_TEST

int main(void)
{
    hf_stat_init();
    Suite *s = suite_create("insight_engine");
    TCase *tc = tcase_create("engine");
    tcase_add_test(tc, finds_the_planted_lag_effect);
    tcase_add_test(tc, a_lag_effect_needs_two_weeks_of_pairs);
    tcase_add_test(tc, a_weekend_pattern_is_told_from_two_weeks);
    tcase_add_test(tc, finds_the_planted_trigger_with_its_numbers);
    tcase_add_test(tc, cycle_phase_worst_and_time_patterns);
    tcase_add_test(tc, experiment_effect_and_its_text);
    tcase_add_test(tc, no_logs_at_all);
    tcase_add_test(tc, one_log);
    tcase_add_test(tc, all_values_equal);
    tcase_add_test(tc, one_group_empty);
    tcase_add_test(tc, broken_payloads_are_skipped_and_counted);
    tcase_add_test(tc, hash_follows_the_data);
    tcase_add_test(tc, too_many_experiments);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
