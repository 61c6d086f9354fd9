/* ingredient_data: names, the answers of FoodData Central and Open Food
 * Facts read into one shape, and 002's merge of them (lines 138-155).
 *
 * Pure functions on parsed JSON: no I/O, so every answer shape and bad
 * answer is unit-tested. Validation happens here, at the trust boundary:
 * numbers outside what a food per 100 g can be are dropped as unknown. */
#ifndef INGREDIENT_DATA_H
#define INGREDIENT_DATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hf_err.h"
#include "hf_food_name.h"
#include "ingredient_rules.h"

/* What one source (the foods table, USDA, Open Food Facts) says, per 100 g.
 * Numbers are NAN when unknown. */
struct ing_source {
    bool found;
    double kcal, protein_g, carbs_g, fat_g;
    struct ing_facts facts; /* numbers, and properties seen in its texts */
    long fdc_id;            /* USDA's id, 0 if none */
    int nova;               /* Open Food Facts' NOVA group 1-4, 0 if unknown */
    char description[128];
    char category[128];
    json_t *allergens; /* array of tags ("en:milk"), owned; NULL when none given */
    json_t *additives; /* array of tags ("en:e407"), owned; NULL when none given */
    json_t *raw;       /* the item the answer was about (one food, one product), owned */
};

void ing_source_init(struct ing_source *s);
/* Drops what s owns and re-initialises it. */
void ing_source_clear(struct ing_source *s);

/* Reads a FoodData Central answer: /fdc/v1/foods/search ({"foods": [...]};
 * the first Foundation or SR Legacy food, else the first) or
 * /fdc/v1/food/{id} (one food, nutrients as {"nutrient": {...}, "amount"}).
 * found stays false when the search had no hit. Returns 0, or HF_EINVAL when
 * the answer is not FoodData Central's shape. */
int ing_parse_fdc(const json_t *answer, struct ing_source *out, struct hf_err *err);

/* Reads an Open Food Facts answer: /api/v2/product/{code} ({"status": 1,
 * "product": {...}}) or a search ({"products": [...]}: the first that states
 * its energy per 100 g, else the first). Returns
 * 0 (found false for status 0 or no product) or HF_EINVAL. */
int ing_parse_off(const json_t *answer, struct ing_source *out, struct hf_err *err);

/* Properties from a food's words (name, category, ingredient list) and its
 * additives' E-numbers: refined sugar or grains, sweeteners, emulsifiers,
 * colours, fermented, prebiotic, polyphenol-rich, phytoestrogens, caffeine.
 * Sets the flags in f (never clears one). text may be NULL. */
void ing_detect(const char *text, const json_t *additives, struct ing_facts *f);

struct ing_merged {
    struct ing_facts facts;
    struct ing_evidence evidence;
    double kcal, protein_g, carbs_g, fat_g;
    long fdc_id;
    int nova;
    const char *category;    /* borrowed from a source */
    const json_t *allergens; /* borrowed */
    const json_t *additives; /* borrowed */
    json_t *origin;          /* {"fiber_g": "usda", ...}: who gave each field; owned, caller decrefs */
};

/* 002's merge (lines 143-155): nutrients from the foods table, then USDA,
 * then Open Food Facts (the table is USDA-derived, and it is what the plate
 * estimates use); additives only from Open Food Facts; allergens and
 * category from Open Food Facts, then USDA, then the table. A source with
 * found false counts as absent. Properties are the union over the sources
 * plus the ingredient's own name. Borrowed pointers live as long as the
 * sources. */
void ing_merge(const char *name, const struct ing_source *table, const struct ing_source *usda,
               const struct ing_source *off, struct ing_merged *out);

#endif
