/* 002's IngredientScorer as data: one row per rule, with the line of
 * /work/shared/seeds/002_4e6610f475d059ab.txt it comes from, so a reviewer
 * reads the two side by side. "ours:" marks a choice 002 leaves open
 * (README.md says why). */
#include "ingredient_rules.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum dim { D_BLOOD_SUGAR, D_INFLAMMATION, D_GUT, D_INSULIN, D_ESTROGEN, D_CORTISOL };

enum input {
    IN_GI,
    IN_FIBER,
    IN_SUGARS,      /* added sugars; see effective_sugars() */
    IN_OMEGA_RATIO, /* omega-6 / omega-3 */
    IN_TRANS_FAT,
    IN_SAT_FAT,
    IN_VITAMIN_C,
    IN_VITAMIN_E,
    /* properties: 1 or 0, never unknown */
    IN_REFINED_SUGAR,
    IN_REFINED_GRAINS,
    IN_REFINED_CARBS,
    IN_ART_SWEETENERS,
    IN_POLYPHENOLS,
    IN_OMEGA3_RICH,
    IN_FERMENTED,
    IN_PREBIOTICS,
    IN_EMULSIFIERS,
    IN_ART_COLORS,
    IN_PHYTOESTROGENS,
    IN_CAFFEINE,
};

/* A rule fires when its input x is known and inside (lo, hi) with the
 * inclusive ends flagged; it adds p0 at x0 to p1 at x1, linearly, x clamped
 * to [x0, x1] (a flat rule has p0 == p1). Hormone rules carry an ing_level
 * as points. */
struct rule {
    enum dim dim;
    int line; /* in 002 */
    const char *text;
    enum input in;
    double lo;
    bool lo_inc;
    double hi;
    bool hi_inc;
    double x0, p0, x1, p1;
    const char *because; /* hormone rules: the reason in the sentence */
};

#define INF INFINITY
/* x > t (a property: x > 0.5), flat points */
#define ABOVE(d, line, text, in, t, pts) { d, line, text, in, t, false, INF, true, 0, pts, 0, pts, NULL }
#define HAS(d, line, text, in, pts) ABOVE(d, line, text, in, 0.5, pts)
/* lo < x <= hi, flat */
#define BAND(d, line, text, in, lo, hi, pts) { d, line, text, in, lo, false, hi, true, 0, pts, 0, pts, NULL }
#define LEVEL(d, line, text, in, lo, lo_inc, hi, hi_inc, level, because) \
    { d, line, text, in, lo, lo_inc, hi, hi_inc, 0, level, 0, level, because }

static const struct rule rules[] = {
    /* BLOOD_SUGAR_SCORE (002 175-193), base 50 (177). GI bands slide linearly
     * inside each range of 002, lower GI scoring higher; ours: the (55, 70]
     * band runs +9 -> -10 and >70 runs -10 -> -30 (at GI 100), which keeps
     * every value inside both of 002's overlapping ranges (182 and 183) and
     * the curve monotonic. */
    { D_BLOOD_SUGAR, 180, "GI < 35: +40 to +50 (low GI)", IN_GI, -INF, false, 35, false, 0, 50, 35, 40, NULL },
    { D_BLOOD_SUGAR, 181, "GI 35-55: +10 to +39 (medium GI)", IN_GI, 35, true, 55, true, 35, 39, 55, 10, NULL },
    { D_BLOOD_SUGAR, 182, "GI > 55: -20 to +9 (high GI)", IN_GI, 55, false, 70, true, 55, 9, 70, -10, NULL },
    { D_BLOOD_SUGAR, 183, "GI > 70: -30 to -10 (very high GI)", IN_GI, 70, false, INF, true, 70, -10, 100, -30, NULL },
    /* ours: tiers do not add up; the higher one replaces the lower (186-191) */
    BAND(D_BLOOD_SUGAR, 186, "fiber_g > 5: +10", IN_FIBER, 5, 10, 10),
    ABOVE(D_BLOOD_SUGAR, 187, "fiber_g > 10: +15", IN_FIBER, 10, 15),
    BAND(D_BLOOD_SUGAR, 190, "added_sugars > 10g: -20", IN_SUGARS, 10, 20, -20),
    ABOVE(D_BLOOD_SUGAR, 191, "added_sugars > 20g: -30", IN_SUGARS, 20, -30),

    /* INFLAMMATION_SCORE (195-223), base 30 (196) */
    ABOVE(D_INFLAMMATION, 199, "omega-6/omega-3 ratio > 10: +40", IN_OMEGA_RATIO, 10, 40),
    { D_INFLAMMATION, 200, "ratio 5-10: +20", IN_OMEGA_RATIO, 5, true, 10, true, 0, 20, 0, 20, NULL },
    { D_INFLAMMATION, 201, "ratio < 5: +0", IN_OMEGA_RATIO, 2, true, 5, false, 0, 0, 0, 0, NULL },
    { D_INFLAMMATION, 202, "ratio < 2: -10", IN_OMEGA_RATIO, -INF, false, 2, false, 0, -10, 0, -10, NULL },
    ABOVE(D_INFLAMMATION, 205, "trans_fat > 0: +30", IN_TRANS_FAT, 0, 30),
    ABOVE(D_INFLAMMATION, 208, "sat_fat > 5g: +15", IN_SAT_FAT, 5, 15),
    ABOVE(D_INFLAMMATION, 211, "vitamin_c > 20mg: -10", IN_VITAMIN_C, 20, -10),
    ABOVE(D_INFLAMMATION, 212, "vitamin_e > 5mg: -10", IN_VITAMIN_E, 5, -10),
    HAS(D_INFLAMMATION, 215, "refined_sugar: +15", IN_REFINED_SUGAR, 15),
    HAS(D_INFLAMMATION, 216, "refined_grains: +10", IN_REFINED_GRAINS, 10),
    HAS(D_INFLAMMATION, 217, "artificial_sweeteners: +10", IN_ART_SWEETENERS, 10),
    HAS(D_INFLAMMATION, 220, "polyphenols_present: -15", IN_POLYPHENOLS, -15),
    HAS(D_INFLAMMATION, 221, "omega_3_rich: -20", IN_OMEGA3_RICH, -20),

    /* GUT_IMPACT_SCORE (225-243), base 50 (226); fiber tiers replace (ours) */
    BAND(D_GUT, 229, "fiber_g > 3: +15", IN_FIBER, 3, 7, 15),
    ABOVE(D_GUT, 230, "fiber_g > 7: +25", IN_FIBER, 7, 25),
    HAS(D_GUT, 233, "is_fermented: +20", IN_FERMENTED, 20),
    HAS(D_GUT, 236, "contains_prebiotics: +15", IN_PREBIOTICS, 15),
    HAS(D_GUT, 239, "artificial_sweeteners: -20", IN_ART_SWEETENERS, -20),
    HAS(D_GUT, 240, "emulsifiers (carrageenan, polysorbate): -15", IN_EMULSIFIERS, -15),
    HAS(D_GUT, 241, "artificial_colors: -10", IN_ART_COLORS, -10),

    /* HORMONAL_RELEVANCE_SCORE (245-259): the level of each hormone is the
     * highest that fires; low when none does */
    LEVEL(D_INSULIN, 256, "High GI foods -> high insulin impact", IN_GI, 55, false, INF, true, ING_HIGH,
          "high glycemic index"),
    LEVEL(D_INSULIN, 259, "Refined carbs -> high insulin impact", IN_REFINED_CARBS, 0.5, false, INF, true, ING_HIGH,
          "refined carbohydrates"),
    /* ours: medium GI (002 line 181) -> moderate insulin impact */
    LEVEL(D_INSULIN, 181, "ours: medium GI (35-55) -> moderate insulin impact", IN_GI, 35, true, 55, true,
          ING_MODERATE, "medium glycemic index"),
    LEVEL(D_ESTROGEN, 257, "Phytoestrogens (soy, flax) -> moderate estrogen impact", IN_PHYTOESTROGENS, 0.5, false,
          INF, true, ING_MODERATE, "phytoestrogens"),
    LEVEL(D_CORTISOL, 258, "Caffeine -> moderate cortisol impact", IN_CAFFEINE, 0.5, false, INF, true, ING_MODERATE,
          "caffeine"),
};

/* Bases of the three additive scores (002 lines 177, 196, 226). */
static const struct {
    enum dim dim;
    int line;
    double base;
    const char *key;
} bases[] = {
    { D_BLOOD_SUGAR, 177, 50, "blood_sugar" },
    { D_INFLAMMATION, 196, 30, "inflammation" },
    { D_GUT, 226, 50, "gut" },
};

/* Hormonal score (ours: 002 gives the factors, not the numbers): points per
 * hormone by level, summed and clamped; 002's strongest combination (high
 * insulin, moderate estrogen, moderate cortisol) is exactly 100. */
static const double level_points[] = { [ING_LOW] = 0, [ING_MODERATE] = 25, [ING_HIGH] = 50 };

/* OVERALL_SCORE weights (002 lines 262-265). */
static const double W_BLOOD_SUGAR = 0.30, W_INFLAMMATION = 0.30, W_GUT = 0.25, W_HORMONAL = 0.15;

/* ours: "omega_3_rich" (002 line 221) from 1 g omega-3 per 100 g. */
static const double OMEGA3_RICH_G = 1.0;
/* ours: below this much omega-6 plus omega-3 per 100 g the ratio means nothing. */
static const double OMEGA_TRACE_G = 0.1;

/* Confidence values for 002's labels (ours: the column is 0..1). */
static const double CONF_HIGH = 0.9, CONF_MEDIUM = 0.6, CONF_LOW = 0.3;

void ing_facts_init(struct ing_facts *f)
{
    memset(f, 0, sizeof *f);
    f->glycemic_index = f->fiber_g = f->sugars_g = f->added_sugars_g = NAN;
    f->sat_fat_g = f->trans_fat_g = f->omega3_g = f->omega6_g = NAN;
    f->vitamin_c_mg = f->vitamin_e_mg = f->caffeine_mg = NAN;
}

const char *ing_level_name(enum ing_level level)
{
    return level == ING_HIGH ? "high" : level == ING_MODERATE ? "moderate" : "low";
}

/* 002 scores "added_sugars". Where the source states them we use them; where
 * it gives only total sugars, they count as added only in a refined-sugar
 * food (a sweet, a syrup), since a fruit's or milk's own sugars are not
 * added (ours). */
static double effective_sugars(const struct ing_facts *f)
{
    if (!isnan(f->added_sugars_g))
        return f->added_sugars_g;
    if (isnan(f->sugars_g))
        return NAN;
    return f->refined_sugar ? f->sugars_g : 0;
}

static double omega_ratio(const struct ing_facts *f)
{
    if (isnan(f->omega3_g) || isnan(f->omega6_g) || f->omega3_g + f->omega6_g < OMEGA_TRACE_G)
        return NAN;
    return f->omega3_g > 0 ? f->omega6_g / f->omega3_g : INF;
}

static double input_value(const struct ing_facts *f, enum input in)
{
    switch (in) {
    case IN_GI: return f->glycemic_index;
    case IN_FIBER: return f->fiber_g;
    case IN_SUGARS: return effective_sugars(f);
    case IN_OMEGA_RATIO: return omega_ratio(f);
    case IN_TRANS_FAT: return f->trans_fat_g;
    case IN_SAT_FAT: return f->sat_fat_g;
    case IN_VITAMIN_C: return f->vitamin_c_mg;
    case IN_VITAMIN_E: return f->vitamin_e_mg;
    case IN_REFINED_SUGAR: return f->refined_sugar;
    case IN_REFINED_GRAINS: return f->refined_grains;
    case IN_REFINED_CARBS: return f->refined_sugar || f->refined_grains;
    case IN_ART_SWEETENERS: return f->artificial_sweeteners;
    case IN_POLYPHENOLS: return f->polyphenols;
    case IN_OMEGA3_RICH: return !isnan(f->omega3_g) && f->omega3_g >= OMEGA3_RICH_G;
    case IN_FERMENTED: return f->fermented;
    case IN_PREBIOTICS: return f->prebiotics;
    case IN_EMULSIFIERS: return f->emulsifiers;
    case IN_ART_COLORS: return f->artificial_colors;
    case IN_PHYTOESTROGENS: return f->phytoestrogens;
    case IN_CAFFEINE: return f->caffeinated || (!isnan(f->caffeine_mg) && f->caffeine_mg > 0);
    }
    return NAN;
}

static bool fires(const struct rule *r, double x)
{
    if (isnan(x))
        return false;
    bool above = r->lo_inc ? x >= r->lo : x > r->lo;
    bool below = r->hi_inc ? x <= r->hi : x < r->hi;
    return above && below;
}

static double points(const struct rule *r, double x)
{
    if (r->p0 == r->p1)
        return r->p0;
    double t = (fmin(fmax(x, r->x0), r->x1) - r->x0) / (r->x1 - r->x0);
    return r->p0 + t * (r->p1 - r->p0);
}

static double clamp100(double v)
{
    return fmin(100.0, fmax(0.0, v));
}

static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

static json_t *fired_entry(const struct rule *r, double x, double pts)
{
    return json_pack("{s:i, s:s, s:f, s:f}", "line", r->line, "rule", r->text, "input", isinf(x) ? 1e9 : x, "points",
                     round2(pts));
}

/* The confidence rule (002 lines 268-286). 002's "well-studied (>100
 * studies)" needs a literature count we do not have, so "high" rests on the
 * other two criteria. */
static void confidence(const struct ing_facts *f, const struct ing_evidence *ev, struct ing_scores *out,
                       json_t *why)
{
    const double core[] = { f->fiber_g, f->sugars_g, f->sat_fat_g };
    const double extended[] = { f->trans_fat_g, f->omega3_g, f->omega6_g, f->vitamin_c_mg, f->vitamin_e_mg };
    int core_known = 0, known = 0;
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
        core_known += !isnan(core[i]);
    known = core_known;
    for (size_t i = 0; i < sizeof extended / sizeof extended[0]; i++)
        known += !isnan(extended[i]);
    const int total = (int)(sizeof core / sizeof core[0] + sizeof extended / sizeof extended[0]);
    const char *reason;
    if (!ev->usda && !ev->off && !ev->table) {
        out->confidence_label = "low";
        reason = "no source knows this ingredient (002 line 285: novel or obscure)";
    } else if (!ev->usda && !ev->table) {
        out->confidence_label = "low";
        reason = "Open Food Facts only (002 line 283: user-contributed data only)";
    } else if (known * 2 < total) {
        out->confidence_label = "low";
        reason = "fewer than half of the scored nutrients known (002 line 284: significant data gaps)";
    } else if (ev->usda && ev->sources_agree && core_known == 3) {
        out->confidence_label = "high";
        reason = "USDA data, a second source agrees, fiber, sugars and saturated fat known (002 lines 273-274)";
    } else {
        out->confidence_label = "medium";
        reason = core_known < 3 ? "some nutritional data missing (002 line 279)"
                                : "a single reliable source (002 line 278)";
    }
    out->confidence = strcmp(out->confidence_label, "high") == 0     ? CONF_HIGH
                      : strcmp(out->confidence_label, "medium") == 0 ? CONF_MEDIUM
                                                                     : CONF_LOW;
    if (why)
        json_object_set_new(why, "reason", json_string(reason));
    if (why)
        json_object_set_new(why, "nutrients_known", json_pack("{s:i, s:i}", "of", total, "known", known));
}

static void sentence(struct ing_scores *out, const char *const because[3][4], const int n_because[3])
{
    static const char *const names[3] = { "insulin", "estrogen", "cortisol" };
    const enum ing_level levels[3] = { out->insulin, out->estrogen, out->cortisol };
    size_t len = 0;
    out->sentence[0] = '\0';
    for (int h = 0; h < 3; h++) {
        char reasons[128] = "";
        size_t rl = 0;
        for (int i = 0; i < n_because[h]; i++)
            rl += (size_t)snprintf(reasons + rl, rl < sizeof reasons ? sizeof reasons - rl : 0, "%s%s",
                                   i ? ", " : " (", because[h][i]);
        if (n_because[h] && rl < sizeof reasons - 1)
            reasons[rl] = ')', reasons[rl + 1] = '\0';
        const char *level = ing_level_name(levels[h]);
        char first = (char)(h == 0 ? level[0] - 'a' + 'A' : level[0]);
        len += (size_t)snprintf(out->sentence + len, len < sizeof out->sentence ? sizeof out->sentence - len : 0,
                                "%s%c%s %s impact%s", h ? "; " : "", first, level + 1, names[h], reasons);
    }
    if (len + 1 < sizeof out->sentence)
        out->sentence[len] = '.', out->sentence[len + 1] = '\0';
}

void ing_score(const struct ing_facts *f, const struct ing_evidence *ev, struct ing_scores *out, json_t **details)
{
    memset(out, 0, sizeof *out);
    json_t *doc = details ? json_object() : NULL;
    json_t *fired[6] = { 0 };
    for (int d = 0; doc && d < 6; d++)
        fired[d] = json_array();
    double sum[3];
    for (size_t b = 0; b < 3; b++)
        sum[bases[b].dim] = bases[b].base;
    enum ing_level level[3] = { ING_LOW, ING_LOW, ING_LOW };
    const char *because[3][4] = { { 0 } };
    int n_because[3] = { 0 };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const struct rule *r = &rules[i];
        double x = input_value(f, r->in);
        if (!fires(r, x))
            continue;
        double pts = points(r, x);
        if (r->dim <= D_GUT) {
            sum[r->dim] += pts;
        } else {
            int h = r->dim - D_INSULIN;
            if ((enum ing_level)pts > level[h])
                level[h] = (enum ing_level)pts;
            if (n_because[h] < 4)
                because[h][n_because[h]++] = r->because;
        }
        if (fired[r->dim])
            json_array_append_new(fired[r->dim], fired_entry(r, x, pts));
    }
    /* Clamp to [0, 100] (002 lines 193, 223, 243). */
    out->blood_sugar = round2(clamp100(sum[D_BLOOD_SUGAR]));
    out->inflammation = round2(clamp100(sum[D_INFLAMMATION]));
    out->gut = round2(clamp100(sum[D_GUT]));
    out->insulin = level[0];
    out->estrogen = level[1];
    out->cortisol = level[2];
    out->hormonal = round2(clamp100(level_points[level[0]] + level_points[level[1]] + level_points[level[2]]));
    sentence(out, because, n_because);
    out->overall = round2(clamp100(out->blood_sugar * W_BLOOD_SUGAR + (100 - out->inflammation) * W_INFLAMMATION +
                                   out->gut * W_GUT + (100 - out->hormonal) * W_HORMONAL));
    json_t *why = doc ? json_object() : NULL;
    confidence(f, ev, out, why);
    if (!doc)
        return;
    const double scores[3] = { out->blood_sugar, out->inflammation, out->gut };
    for (size_t b = 0; b < 3; b++)
        json_object_set_new(doc, bases[b].key,
                            json_pack("{s:f, s:i, s:o, s:f}", "base", bases[b].base, "base_line", bases[b].line,
                                      "rules", fired[bases[b].dim], "score", scores[bases[b].dim]));
    json_t *rules_h = json_array();
    for (int h = 0; h < 3; h++)
        json_array_extend(rules_h, fired[D_INSULIN + h]);
    for (int h = 0; h < 3; h++)
        json_decref(fired[D_INSULIN + h]);
    json_object_set_new(doc, "hormonal",
                        json_pack("{s:f, s:s, s:s, s:s, s:s, s:o}", "score", out->hormonal, "insulin_impact",
                                  ing_level_name(out->insulin), "estrogen_impact", ing_level_name(out->estrogen),
                                  "cortisol_impact", ing_level_name(out->cortisol), "details", out->sentence, "rules",
                                  rules_h));
    json_object_set_new(doc, "overall",
                        json_pack("{s:f, s:s, s:[i,i]}", "score", out->overall, "formula",
                                  "0.30 blood_sugar + 0.30 (100 - inflammation) + 0.25 gut + 0.15 (100 - hormonal)",
                                  "lines", 262, 265));
    json_object_set_new(why, "level", json_string(out->confidence_label));
    json_object_set_new(why, "value", json_real(out->confidence));
    json_object_set_new(doc, "confidence", why);
    *details = doc;
}
