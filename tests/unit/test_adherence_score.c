/* Known answers for workers/adherence/adherence_score.c; each expected value
 * is worked out by hand in the comment beside it (rules: the pool's README). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "adherence_score.h"
#include "unit_util.h"

static struct adherence_goals goals(const char *nutrition, const char *strength)
{
    json_t *n = nutrition ? json_loads(nutrition, 0, NULL) : NULL;
    json_t *s = strength ? json_loads(strength, 0, NULL) : NULL;
    struct adherence_goals g;
    adherence_goals_from_json(n, s, &g);
    json_decref(n);
    json_decref(s);
    return g;
}

START_TEST(mixed_day_matches_hand_computation)
{
    struct adherence_goals g = goals("{\"calories\":2000,\"protein_g_min\":120,\"fat_g_max\":70}",
                                     "{\"sessions_per_week\":3,\"minutes_per_session\":45}");
    struct adherence_day d = { .meals = 1, .calories = 900, .protein_g = 60, .fat_g = 30, .sessions_7d = 1,
                               .minutes_7d = 50 };
    /* calories 55% off -> 0; protein 60/120 -> 0.5; fat under max -> 1.
     * nutrition = (0*.35 + .5*.25 + 1*.10) / .70 = 0.3214286
     * strength = (1/3 + 50/135) / 2 = 0.3518519
     * total = .6*0.3214286 + .4*0.3518519 = 0.3335979 -> 33.36 */
    json_t *details = NULL;
    double total = adherence_score(&g, &d, &details);
    ck_assert_double_eq_tol(total, 33.36, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(details, "nutrition"), "score")), 32.14,
                            1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_object_get(details, "strength"), "score")), 35.19,
                            1e-9);
    json_t *cal = json_object_get(json_object_get(json_object_get(details, "nutrition"), "parts"), "calories");
    ck_assert_str_eq(json_string_value(json_object_get(cal, "rule")), "within tolerance");
    ck_assert_double_eq_tol(json_real_value(json_object_get(cal, "score")), 0, 1e-9);
    json_decref(details);
}
END_TEST

START_TEST(calorie_band)
{
    struct adherence_goals g = goals("{\"calories\":2000}", NULL);
    struct adherence_day d = { .meals = 3 };
    const struct {
        double calories, expected;
    } cases[] = {
        { 2000, 100 }, { 2150, 100 }, { 2200, 100 }, { 1800, 100 }, /* within 10% */
        { 2600, 50 },                                               /* 30% off: 1 - (0.3-0.1)/0.4 */
        { 1400, 50 },  { 3000, 0 }, { 1000, 0 }, { 0, 0 },         /* 50% off and beyond */
        { 2300, 87.5 },                                             /* 15% off: 1 - 0.05/0.4 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d.calories = cases[i].calories;
        ck_assert_msg(fabs(adherence_score(&g, &d, NULL) - cases[i].expected) < 1e-9, "calories %.0f: got %.2f",
                      cases[i].calories, adherence_score(&g, &d, NULL));
    }
}
END_TEST

START_TEST(maximum_falls_to_zero_at_twice)
{
    struct adherence_goals g = goals("{\"fat_g_max\":70}", NULL);
    struct adherence_day d = { .meals = 2, .fat_g = 70 };
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 100, 1e-9);
    d.fat_g = 105; /* 1 - 35/70 */
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 50, 1e-9);
    d.fat_g = 140;
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 0, 1e-9);
    d.fat_g = 500;
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 0, 1e-9);
}
END_TEST

START_TEST(no_meal_scores_zero_even_under_maxima)
{
    struct adherence_goals g = goals("{\"carbs_g_max\":250,\"sugar_g_max\":50}", NULL);
    struct adherence_day d = { 0 };
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 0, 1e-9);
    d.meals = 1;
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 100, 1e-9);
}
END_TEST

START_TEST(weights_renormalise_over_goals_set)
{
    /* protein .25 at 1.0, fiber .10 at 0.5: (0.25 + 0.05) / 0.35 = 0.857142... -> 85.71 */
    struct adherence_goals g = goals("{\"protein_g_min\":100,\"fiber_g_min\":30}", NULL);
    struct adherence_day d = { .meals = 3, .protein_g = 130, .fiber_g = 15 };
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 85.71, 1e-9);
}
END_TEST

START_TEST(strength_only_and_caps)
{
    struct adherence_goals g = goals(NULL, "{\"sessions_per_week\":4}");
    struct adherence_day d = { .sessions_7d = 2 };
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 50, 1e-9);
    d.sessions_7d = 9; /* capped */
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 100, 1e-9);
    g = goals(NULL, "{\"sessions_per_week\":4,\"minutes_per_session\":30}");
    d = (struct adherence_day){ .sessions_7d = 4, .minutes_7d = 60 }; /* (1 + 60/120) / 2 */
    ck_assert_double_eq_tol(adherence_score(&g, &d, NULL), 75, 1e-9);
}
END_TEST

START_TEST(no_goals_scores_zero_and_says_why)
{
    struct adherence_goals g = goals("{}", "{}");
    struct adherence_day d = { .meals = 3, .calories = 2000 };
    json_t *details = NULL;
    ck_assert_double_eq_tol(adherence_score(&g, &d, &details), 0, 1e-9);
    ck_assert_str_eq(json_string_value(json_object_get(details, "note")), "the program has no goals configured");
    json_decref(details);
}
END_TEST

START_TEST(bad_goal_values_are_ignored)
{
    struct adherence_goals g = goals("{\"calories\":\"2000\",\"protein_g_min\":-5,\"fat_g_max\":60,"
                                     "\"calorie_tolerance_pct\":80}",
                                     "{\"sessions_per_week\":null}");
    ck_assert_double_eq(g.calories, 0);
    ck_assert_double_eq(g.protein_g_min, 0);
    ck_assert_double_eq(g.fat_g_max, 60);
    ck_assert_double_eq(g.calorie_tolerance_pct, 10); /* 80% is no band at all: default */
    ck_assert_double_eq(g.sessions_per_week, 0);
    g = goals("{\"calories\":1800}", NULL);
    ck_assert_double_eq(g.calorie_tolerance_pct, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("adherence_score");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, mixed_day_matches_hand_computation);
    tcase_add_test(tc, calorie_band);
    tcase_add_test(tc, maximum_falls_to_zero_at_twice);
    tcase_add_test(tc, no_meal_scores_zero_even_under_maxima);
    tcase_add_test(tc, weights_renormalise_over_goals_set);
    tcase_add_test(tc, strength_only_and_caps);
    tcase_add_test(tc, no_goals_scores_zero_and_says_why);
    tcase_add_test(tc, bad_goal_values_are_ignored);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
