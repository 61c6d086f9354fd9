/* ingredient_rules: 002's IngredientScorer (blood sugar, inflammation, gut,
 * hormonal relevance, overall) and its evidence confidence, as one table in
 * ingredient_rules.c with the line of 002 beside each rule.
 *
 * Pure functions: no I/O. Nutrients are per 100 g; NAN means unknown, and a
 * rule whose input is unknown does not fire (the gap lowers the confidence
 * instead). Where 002 is silent or ambiguous the choice is ours and marked so
 * in the table and in README.md. */
#ifndef INGREDIENT_RULES_H
#define INGREDIENT_RULES_H

#include <jansson.h>
#include <stdbool.h>

/* What the scorer knows about one ingredient, after the merge. */
struct ing_facts {
    /* numbers: NAN when unknown */
    double glycemic_index;
    double fiber_g, sugars_g, added_sugars_g;
    double sat_fat_g, trans_fat_g, omega3_g, omega6_g;
    double vitamin_c_mg, vitamin_e_mg, caffeine_mg;
    /* properties found in the name, category, ingredient list or additives */
    bool refined_sugar, refined_grains, artificial_sweeteners, polyphenols;
    bool fermented, prebiotics, emulsifiers, artificial_colors, phytoestrogens, caffeinated;
};

/* Where the facts came from, for the confidence rule (002 lines 268-286). */
struct ing_evidence {
    bool usda;          /* USDA answered with this food (peer-reviewed) */
    bool off;           /* Open Food Facts answered with it (crowd-sourced) */
    bool table;         /* the curated foods table knows it */
    bool sources_agree; /* two sources gave energy within 25% of each other */
};

enum ing_level { ING_LOW = 0, ING_MODERATE = 1, ING_HIGH = 2 };

struct ing_scores {
    double blood_sugar, inflammation, gut, hormonal, overall; /* 0..100, two decimals */
    enum ing_level insulin, estrogen, cortisol;
    char sentence[256]; /* 002 line 252: a human-readable explanation */
    double confidence;  /* 0..1: high 0.9, medium 0.6, low 0.3 */
    const char *confidence_label; /* "high", "medium", "low" (static) */
};

/* A facts value with every number unknown and every property false. */
void ing_facts_init(struct ing_facts *f);

/* Scores f. When details is non-NULL it receives a new JSON object (caller
 * decrefs): the levels, the sentence, the confidence and why, and every rule
 * that fired per dimension with its 002 line and points. NULL details when
 * out of memory. */
void ing_score(const struct ing_facts *f, const struct ing_evidence *ev, struct ing_scores *out, json_t **details);

const char *ing_level_name(enum ing_level level);

#endif
