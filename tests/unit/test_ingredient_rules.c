/* 002's ingredient scoring rules (workers/ingredient_scoring/ingredient_rules.c)
 * at every threshold of 002, on both sides: each row sets one fact on an
 * otherwise unknown ingredient and states the score 002 gives, worked out in
 * the comment beside it. Bases: blood sugar 50, inflammation 30, gut 50. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingredient_rules.h"
#include "unit_util.h"

enum which { BS, INF_, GUT, HORM, OVERALL };

struct kase {
    const char *what;
    void (*set)(struct ing_facts *f, double v);
    double v;
    enum which which;
    double want;
};

#define SETTER(field)                                       \
    static void set_##field(struct ing_facts *f, double v) \
    {                                                       \
        f->field = v;                                       \
    }
SETTER(glycemic_index)
SETTER(fiber_g)
SETTER(added_sugars_g)
SETTER(trans_fat_g)
SETTER(sat_fat_g)
SETTER(vitamin_c_mg)
SETTER(vitamin_e_mg)
SETTER(caffeine_mg)

/* omega-6/omega-3 ratio of v */
static void set_ratio(struct ing_facts *f, double v)
{
    /* omega-3 under 1 g, so "omega_3_rich" (ours) stays out of these rows */
    f->omega3_g = 0.5;
    f->omega6_g = v * 0.5;
}

static double score_of(const struct ing_scores *s, enum which w)
{
    switch (w) {
    case BS: return s->blood_sugar;
    case INF_: return s->inflammation;
    case GUT: return s->gut;
    case HORM: return s->hormonal;
    case OVERALL: return s->overall;
    }
    return NAN;
}

static const struct ing_evidence USDA_ONLY = { .usda = true };

static const struct kase cases[] = {
    /* GI (002 180-183): <35 +50..+40, 35-55 +39..+10, (55,70] +9..-10, >70 -10..-30 at 100 */
    { "GI 0", set_glycemic_index, 0, BS, 100 },        /* 50 + 50 */
    { "GI 34.9", set_glycemic_index, 34.9, BS, 90.03 }, /* 50 + 50 - 10 * 34.9/35 = 90.0286 */
    { "GI 35", set_glycemic_index, 35, BS, 89 },        /* 50 + 39 */
    { "GI 45", set_glycemic_index, 45, BS, 74.5 },      /* 50 + 39 - 29 * 10/20 */
    { "GI 55", set_glycemic_index, 55, BS, 60 },        /* 50 + 10 */
    { "GI 55.1", set_glycemic_index, 55.1, BS, 58.87 }, /* 50 + 9 - 19 * 0.1/15 = 58.8733 */
    { "GI 70", set_glycemic_index, 70, BS, 40 },        /* 50 - 10 */
    { "GI 70.3", set_glycemic_index, 70.3, BS, 39.8 },  /* 50 - 10 - 20 * 0.3/30 */
    { "GI 100", set_glycemic_index, 100, BS, 20 },      /* 50 - 30 */
    { "GI 110", set_glycemic_index, 110, BS, 20 },      /* stays -30 past 100 */
    /* fiber (186-187): > 5 +10, > 10 +15 (tiers replace) */
    { "fiber 5", set_fiber_g, 5, BS, 50 },
    { "fiber 5.01", set_fiber_g, 5.01, BS, 60 },
    { "fiber 10", set_fiber_g, 10, BS, 60 },
    { "fiber 10.01", set_fiber_g, 10.01, BS, 65 },
    /* added sugars (190-191): > 10 -20, > 20 -30 */
    { "sugars 10", set_added_sugars_g, 10, BS, 50 },
    { "sugars 10.01", set_added_sugars_g, 10.01, BS, 30 },
    { "sugars 20", set_added_sugars_g, 20, BS, 30 },
    { "sugars 20.01", set_added_sugars_g, 20.01, BS, 20 },
    /* omega-6/omega-3 (199-202): > 10 +40, 5-10 +20, < 5 0, < 2 -10 */
    { "ratio 1.99", set_ratio, 1.99, INF_, 20 },
    { "ratio 2", set_ratio, 2, INF_, 30 },
    { "ratio 4.99", set_ratio, 4.99, INF_, 30 },
    { "ratio 5", set_ratio, 5, INF_, 50 },
    { "ratio 10", set_ratio, 10, INF_, 50 },
    { "ratio 10.01", set_ratio, 10.01, INF_, 70 },
    /* trans fat (205): > 0 +30 */
    { "trans 0", set_trans_fat_g, 0, INF_, 30 },
    { "trans 0.01", set_trans_fat_g, 0.01, INF_, 60 },
    /* saturated fat (208): > 5 g +15 */
    { "sat 5", set_sat_fat_g, 5, INF_, 30 },
    { "sat 5.01", set_sat_fat_g, 5.01, INF_, 45 },
    /* vitamin C (211): > 20 mg -10; vitamin E (212): > 5 mg -10 */
    { "vit C 20", set_vitamin_c_mg, 20, INF_, 30 },
    { "vit C 20.1", set_vitamin_c_mg, 20.1, INF_, 20 },
    { "vit E 5", set_vitamin_e_mg, 5, INF_, 30 },
    { "vit E 5.1", set_vitamin_e_mg, 5.1, INF_, 20 },
    /* gut fiber (229-230): > 3 +15, > 7 +25 */
    { "gut fiber 3", set_fiber_g, 3, GUT, 50 },
    { "gut fiber 3.01", set_fiber_g, 3.01, GUT, 65 },
    { "gut fiber 7", set_fiber_g, 7, GUT, 65 },
    { "gut fiber 7.01", set_fiber_g, 7.01, GUT, 75 },
    /* hormonal (256): high GI (> 55) -> high insulin (50); medium GI -> moderate (25, ours) */
    { "horm GI 34.9", set_glycemic_index, 34.9, HORM, 0 },
    { "horm GI 35", set_glycemic_index, 35, HORM, 25 },
    { "horm GI 55", set_glycemic_index, 55, HORM, 25 },
    { "horm GI 55.01", set_glycemic_index, 55.01, HORM, 50 },
    /* caffeine (258) -> moderate cortisol */
    { "caffeine 0", set_caffeine_mg, 0, HORM, 0 },
    { "caffeine 1", set_caffeine_mg, 1, HORM, 25 },
};

START_TEST(thresholds)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ing_facts f;
        ing_facts_init(&f);
        cases[i].set(&f, cases[i].v);
        struct ing_scores s;
        ing_score(&f, &USDA_ONLY, &s, NULL);
        double got = score_of(&s, cases[i].which);
        ck_assert_msg(fabs(got - cases[i].want) < 1e-9, "%s: got %.4f, want %.2f", cases[i].what, got,
                      cases[i].want);
    }
}
END_TEST

/* Properties one by one (215-221, 233-241, 257, 259). */
START_TEST(properties)
{
    static const struct {
        const char *what;
        size_t offset;
        double bs, inflammation, gut, hormonal;
    } props[] = {
        { "refined_sugar", offsetof(struct ing_facts, refined_sugar), 50, 45, 50, 50 },   /* +15; refined carb -> high insulin */
        { "refined_grains", offsetof(struct ing_facts, refined_grains), 50, 40, 50, 50 }, /* +10; high insulin */
        { "artificial_sweeteners", offsetof(struct ing_facts, artificial_sweeteners), 50, 40, 30, 0 }, /* +10; gut -20 */
        { "polyphenols", offsetof(struct ing_facts, polyphenols), 50, 15, 50, 0 },        /* -15 */
        { "fermented", offsetof(struct ing_facts, fermented), 50, 30, 70, 0 },            /* gut +20 */
        { "prebiotics", offsetof(struct ing_facts, prebiotics), 50, 30, 65, 0 },          /* gut +15 */
        { "emulsifiers", offsetof(struct ing_facts, emulsifiers), 50, 30, 35, 0 },        /* gut -15 */
        { "artificial_colors", offsetof(struct ing_facts, artificial_colors), 50, 30, 40, 0 }, /* gut -10 */
        { "phytoestrogens", offsetof(struct ing_facts, phytoestrogens), 50, 30, 50, 25 }, /* moderate estrogen */
        { "caffeinated", offsetof(struct ing_facts, caffeinated), 50, 30, 50, 25 },       /* moderate cortisol */
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        struct ing_facts f;
        ing_facts_init(&f);
        *(bool *)((char *)&f + props[i].offset) = true;
        struct ing_scores s;
        ing_score(&f, &USDA_ONLY, &s, NULL);
        ck_assert_msg(s.blood_sugar == props[i].bs && s.inflammation == props[i].inflammation &&
                          s.gut == props[i].gut && s.hormonal == props[i].hormonal,
                      "%s: %.2f/%.2f/%.2f/%.2f", props[i].what, s.blood_sugar, s.inflammation, s.gut, s.hormonal);
    }
}
END_TEST

/* Added sugars unknown: total sugars count only in a refined-sugar food (ours). */
START_TEST(total_sugars_only_when_refined)
{
    struct ing_facts f;
    ing_facts_init(&f);
    f.sugars_g = 25;
    struct ing_scores s;
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.blood_sugar, 50); /* fruit-like: intrinsic sugars */
    f.refined_sugar = true;
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.blood_sugar, 20); /* 50 - 30 */
    f.added_sugars_g = 12;                  /* stated added sugars win */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.blood_sugar, 30);
}
END_TEST

START_TEST(omega_edges)
{
    struct ing_facts f;
    ing_facts_init(&f);
    struct ing_scores s;
    f.omega3_g = 0;
    f.omega6_g = 1; /* no omega-3 at all: ratio infinite, > 10 */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 70);
    f.omega6_g = 0.05; /* trace fat: the ratio is not applied */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 30);
    f.omega3_g = 1.0; /* omega-3 rich (ours: >= 1 g): -20, and ratio 0.05 < 2: -10 */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 0);
    f.omega3_g = 0.99; /* just under rich: only the ratio */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 20);
}
END_TEST

START_TEST(clamps)
{
    struct ing_facts f;
    ing_facts_init(&f);
    struct ing_scores s;
    /* inflammation 30 + 40 + 30 + 15 + 15 + 10 + 10 = 150 -> 100 */
    f.omega3_g = 0.1, f.omega6_g = 2, f.trans_fat_g = 1, f.sat_fat_g = 9;
    f.refined_sugar = f.refined_grains = f.artificial_sweeteners = true;
    /* blood sugar 50 - 30 (GI 100) - 30 (sugars) = -10 -> 0 */
    f.glycemic_index = 100, f.added_sugars_g = 40;
    f.phytoestrogens = f.caffeinated = true; /* hormonal 50 + 25 + 25 = 100 */
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 100);
    ck_assert_double_eq(s.blood_sugar, 0);
    ck_assert_double_eq(s.hormonal, 100);
    /* gut 50 - 20 = 30 (sweeteners); overall 0 + 0 + 7.5 + 0 */
    ck_assert_double_eq(s.gut, 30);
    ck_assert_double_eq(s.overall, 7.5);

    ing_facts_init(&f);
    /* inflammation 30 - 10 (ratio) - 10 - 10 - 15 - 20 = -35 -> 0 */
    f.omega3_g = 2, f.omega6_g = 1, f.vitamin_c_mg = 50, f.vitamin_e_mg = 10, f.polyphenols = true;
    /* gut 50 + 25 + 20 + 15 = 110 -> 100; blood sugar 50 + 50 + 15 = 115 -> 100 */
    f.fiber_g = 12, f.fermented = f.prebiotics = true, f.glycemic_index = 0;
    ing_score(&f, &USDA_ONLY, &s, NULL);
    ck_assert_double_eq(s.inflammation, 0);
    ck_assert_double_eq(s.gut, 100);
    ck_assert_double_eq(s.blood_sugar, 100);
    /* GI 0 is low GI: insulin low; overall 30 + 30 + 25 + 15 = 100 */
    ck_assert_double_eq(s.overall, 100);
}
END_TEST

/* Overall (262-265) worked by hand. */
START_TEST(overall_weights)
{
    struct ing_facts f;
    ing_facts_init(&f);
    struct ing_scores s;
    ing_score(&f, &USDA_ONLY, &s, NULL);
    /* nothing known: 50*.3 + (100-30)*.3 + 50*.25 + (100-0)*.15 = 15 + 21 + 12.5 + 15 */
    ck_assert_double_eq_tol(s.overall, 63.5, 1e-9);
    f.glycemic_index = 80;
    f.refined_grains = true;
    ing_score(&f, &USDA_ONLY, &s, NULL);
    /* blood sugar 50 - 10 - 20*10/30 = 33.33; inflammation 40; gut 50; insulin high -> 50
     * overall 33.33*.3 + 60*.3 + 50*.25 + 50*.15 = 9.999 + 18 + 12.5 + 7.5 = 47.999 -> 48 */
    ck_assert_double_eq_tol(s.blood_sugar, 33.33, 1e-9);
    ck_assert_double_eq_tol(s.overall, 48, 1e-9);
    ck_assert_int_eq(s.insulin, ING_HIGH);
    ck_assert_str_eq(s.sentence, "High insulin impact (high glycemic index, refined carbohydrates); low estrogen "
                                 "impact; low cortisol impact.");
}
END_TEST

START_TEST(hormonal_details)
{
    struct ing_facts f;
    ing_facts_init(&f);
    f.phytoestrogens = true;
    f.caffeine_mg = 40;
    f.glycemic_index = 40;
    struct ing_scores s;
    json_t *d = NULL;
    ing_score(&f, &USDA_ONLY, &s, &d);
    ck_assert_ptr_nonnull(d);
    ck_assert_double_eq(s.hormonal, 75); /* 25 + 25 + 25 */
    json_t *h = json_object_get(d, "hormonal");
    ck_assert_str_eq(json_string_value(json_object_get(h, "insulin_impact")), "moderate");
    ck_assert_str_eq(json_string_value(json_object_get(h, "estrogen_impact")), "moderate");
    ck_assert_str_eq(json_string_value(json_object_get(h, "cortisol_impact")), "moderate");
    ck_assert_str_eq(json_string_value(json_object_get(h, "details")),
                     "Moderate insulin impact (medium glycemic index); moderate estrogen impact (phytoestrogens); "
                     "moderate cortisol impact (caffeine).");
    /* the blood-sugar rule that fired carries its 002 line */
    json_t *bs = json_array_get(json_object_get(json_object_get(d, "blood_sugar"), "rules"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(bs, "line")), 181);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(d, "blood_sugar"), "base_line")), 177);
    json_decref(d);
}
END_TEST

/* Evidence confidence (268-286). */
START_TEST(confidence_levels)
{
    struct ing_facts full;
    ing_facts_init(&full);
    full.fiber_g = 2, full.sugars_g = 5, full.sat_fat_g = 1, full.trans_fat_g = 0, full.omega3_g = 0.1;
    full.omega6_g = 0.3, full.vitamin_c_mg = 4, full.vitamin_e_mg = 0.2;
    struct ing_facts thin;
    ing_facts_init(&thin);
    thin.fiber_g = 2, thin.sugars_g = 5, thin.sat_fat_g = 1; /* 3 of 8 known */
    struct ing_facts some = full;
    some.sat_fat_g = NAN; /* a core nutrient missing */
    const struct {
        const char *what;
        const struct ing_facts *f;
        struct ing_evidence ev;
        const char *label;
        double value;
    } cc[] = {
        { "USDA + OFF agree, full", &full, { .usda = true, .off = true, .sources_agree = true }, "high", 0.9 },
        { "USDA + OFF disagree", &full, { .usda = true, .off = true }, "medium", 0.6 },
        { "USDA alone", &full, { .usda = true }, "medium", 0.6 },
        { "USDA + OFF agree, core gap", &some, { .usda = true, .off = true, .sources_agree = true }, "medium", 0.6 },
        { "table alone", &full, { .table = true }, "medium", 0.6 },
        { "OFF alone", &full, { .off = true }, "low", 0.3 },
        { "no source", &full, { 0 }, "low", 0.3 },
        { "USDA, significant gaps", &thin, { .usda = true, .off = true, .sources_agree = true }, "low", 0.3 },
    };
    for (size_t i = 0; i < sizeof cc / sizeof cc[0]; i++) {
        struct ing_scores s;
        ing_score(cc[i].f, &cc[i].ev, &s, NULL);
        ck_assert_msg(strcmp(s.confidence_label, cc[i].label) == 0 && s.confidence == cc[i].value, "%s: %s %.1f",
                      cc[i].what, s.confidence_label, s.confidence);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingredient_rules");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, thresholds);
    tcase_add_test(tc, properties);
    tcase_add_test(tc, total_sugars_only_when_refined);
    tcase_add_test(tc, omega_edges);
    tcase_add_test(tc, clamps);
    tcase_add_test(tc, overall_weights);
    tcase_add_test(tc, hormonal_details);
    tcase_add_test(tc, confidence_levels);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
