/* adherence_score: how well one program day met its goals, 0 to 100.
 * Pure functions: no I/O, so every rule is unit-tested. The rules are in
 * workers/adherence/README.md. */
#ifndef ADHERENCE_SCORE_H
#define ADHERENCE_SCORE_H

#include <jansson.h>
#include <stdbool.h>

/* A goal is used only when present and positive; others are ignored. */
struct adherence_goals {
    double calories, calorie_tolerance_pct;
    double protein_g_min, carbs_g_max, fat_g_max, fiber_g_min, sugar_g_max, water_ml_min;
    double sessions_per_week, minutes_per_session;
};

/* What was logged: nutrition on the day, workouts over the 7 days ending on it. */
struct adherence_day {
    int meals;
    double calories, protein_g, carbs_g, fat_g, fiber_g, sugar_g, water_ml;
    int sessions_7d;
    double minutes_7d;
};

/* Reads program_configs.nutrition_goals and strength_goals (either may be
 * NULL). Missing, non-numeric or non-positive goals read as 0 (unused); the
 * calorie tolerance defaults to 10%. */
void adherence_goals_from_json(const json_t *nutrition, const json_t *strength, struct adherence_goals *g);

/* Returns the day's total score in 0..100 (two decimals) and, when details is
 * non-NULL, a new JSON object explaining each part (caller decrefs). */
double adherence_score(const struct adherence_goals *g, const struct adherence_day *d, json_t **details);

#endif
