#include "adherence_score.h"

#include <math.h>

/* Part weights inside the nutrition score; only the goals a program sets
 * count, and the weights of those are renormalised to sum to 1. Calories and
 * protein dominate because the programs of 001 are built around them. */
static const struct {
    const char *name;
    double weight;
} nutrition_parts[] = {
    { "calories", 0.35 }, { "protein", 0.25 }, { "carbs", 0.10 }, { "fat", 0.10 },
    { "fiber", 0.10 },    { "sugar", 0.05 },   { "water", 0.05 },
};

/* Nutrition and strength, when a program has both, weigh 60/40: daily eating
 * is the larger share of a 90-day care program's work. */
#define NUTRITION_SHARE 0.6

static double positive(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    double x = json_is_number(v) ? json_number_value(v) : 0;
    return isfinite(x) && x > 0 ? x : 0;
}

void adherence_goals_from_json(const json_t *n, const json_t *s, struct adherence_goals *g)
{
    *g = (struct adherence_goals){ 0 };
    g->calories = positive(n, "calories");
    g->calorie_tolerance_pct = positive(n, "calorie_tolerance_pct");
    if (g->calorie_tolerance_pct == 0 || g->calorie_tolerance_pct >= 50)
        g->calorie_tolerance_pct = 10;
    g->protein_g_min = positive(n, "protein_g_min");
    g->carbs_g_max = positive(n, "carbs_g_max");
    g->fat_g_max = positive(n, "fat_g_max");
    g->fiber_g_min = positive(n, "fiber_g_min");
    g->sugar_g_max = positive(n, "sugar_g_max");
    g->water_ml_min = positive(n, "water_ml_min");
    g->sessions_per_week = positive(s, "sessions_per_week");
    g->minutes_per_session = positive(s, "minutes_per_session");
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Full marks for reaching a minimum, proportional below it. */
static double at_least(double actual, double goal)
{
    return clamp01(actual / goal);
}

/* Full marks up to a maximum, falling linearly to zero at twice it. */
static double at_most(double actual, double goal)
{
    return actual <= goal ? 1 : clamp01(1 - (actual - goal) / goal);
}

/* Full marks within the tolerance band, falling linearly to zero at 50% off. */
static double within(double actual, double goal, double tolerance_pct)
{
    double off = fabs(actual - goal) / goal, tol = tolerance_pct / 100;
    return off <= tol ? 1 : clamp01(1 - (off - tol) / (0.5 - tol));
}

static double round2(double x)
{
    return round(x * 100) / 100;
}

static void part(json_t *parts, const char *name, double actual, double goal, const char *rule, double score)
{
    json_object_set_new(parts, name, json_pack("{s:f, s:f, s:s, s:f}", "actual", round2(actual), "goal", goal, "rule",
                                               rule, "score", round2(score * 100)));
}

double adherence_score(const struct adherence_goals *g, const struct adherence_day *d, json_t **details)
{
    const double goal[] = { g->calories, g->protein_g_min, g->carbs_g_max, g->fat_g_max,
                            g->fiber_g_min, g->sugar_g_max, g->water_ml_min };
    const double actual[] = { d->calories, d->protein_g, d->carbs_g, d->fat_g, d->fiber_g, d->sugar_g, d->water_ml };
    json_t *nparts = details ? json_object() : NULL;
    double nsum = 0, nweight = 0;
    for (size_t i = 0; i < sizeof goal / sizeof goal[0]; i++) {
        if (goal[i] <= 0)
            continue;
        double s;
        const char *rule;
        if (i == 0) {
            s = within(actual[i], goal[i], g->calorie_tolerance_pct);
            rule = "within tolerance";
        } else if (i == 2 || i == 3 || i == 5) {
            s = at_most(actual[i], goal[i]);
            rule = "at most";
        } else {
            s = at_least(actual[i], goal[i]);
            rule = "at least";
        }
        if (d->meals == 0)
            s = 0; /* nothing logged is not "under every maximum" */
        nsum += s * nutrition_parts[i].weight;
        nweight += nutrition_parts[i].weight;
        if (nparts)
            part(nparts, nutrition_parts[i].name, actual[i], goal[i], rule, s);
    }
    bool has_n = nweight > 0, has_s = g->sessions_per_week > 0;
    double nscore = has_n ? nsum / nweight : 0, sscore = 0;
    json_t *sparts = details && has_s ? json_object() : NULL;
    if (has_s) {
        double sess = at_least(d->sessions_7d, g->sessions_per_week);
        sscore = sess;
        if (sparts)
            part(sparts, "sessions_7d", d->sessions_7d, g->sessions_per_week, "at least", sess);
        if (g->minutes_per_session > 0) {
            double mins = at_least(d->minutes_7d, g->sessions_per_week * g->minutes_per_session);
            sscore = (sess + mins) / 2;
            if (sparts)
                part(sparts, "minutes_7d", d->minutes_7d, g->sessions_per_week * g->minutes_per_session, "at least",
                     mins);
        }
    }
    double total;
    if (has_n && has_s)
        total = NUTRITION_SHARE * nscore + (1 - NUTRITION_SHARE) * sscore;
    else
        total = has_n ? nscore : sscore;
    total = round2(total * 100);
    if (details) {
        json_t *out = json_pack("{s:f, s:i, s:i}", "total_score", total, "meals", d->meals, "sessions_7d",
                                d->sessions_7d);
        if (has_n)
            json_object_set_new(out, "nutrition",
                                json_pack("{s:f, s:f, s:o}", "score", round2(nscore * 100), "share",
                                          has_s ? NUTRITION_SHARE : 1.0, "parts", nparts));
        else
            json_decref(nparts);
        if (has_s)
            json_object_set_new(out, "strength",
                                json_pack("{s:f, s:f, s:o}", "score", round2(sscore * 100), "share",
                                          has_n ? 1 - NUTRITION_SHARE : 1.0, "parts", sparts));
        if (!has_n && !has_s)
            json_object_set_new(out, "note", json_string("the program has no goals configured"));
        *details = out;
    }
    return total;
}
