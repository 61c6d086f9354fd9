/* meal_plate: from portions (a food name and an amount) and the nutrition
 * table's rows to the log's payload: grams per item, nutrients per item and
 * their sums. Pure: the pool looks the rows up, this does the arithmetic.
 *
 * Amounts: g and oz are weights; cup, tbsp, tsp, slice, piece and serving
 * use the food's unit_grams (tbsp and tsp fall back on a cup / 16 and / 48;
 * serving on piece). An item whose name is not in the table, or whose unit
 * has no weight for that food, is listed under "unmatched" with the reason and
 * counts for nothing; confidence is scaled by the share of items matched. */
#ifndef MEAL_PLATE_H
#define MEAL_PLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "meal_caption.h"

enum { MEAL_KCAL, MEAL_PROTEIN, MEAL_CARBS, MEAL_FAT, MEAL_FIBER, MEAL_SUGARS, MEAL_NUTRIENTS };

/* One row of `foods` (per 100 g), as the pool read it. */
struct meal_food {
    bool found;
    char name[MEAL_NAME_MAX];
    long long fdc_id; /* 0: none */
    double per100[MEAL_NUTRIENTS];
    json_t *unit_grams; /* borrowed object, may be NULL */
};

/* One item to price: what was asked for and how much. */
struct meal_item {
    char asked[MEAL_NAME_MAX];
    double qty;
    const char *unit; /* meal_portion's units; "g" for the vision model's grams */
};

/* Grams of qty units of a food, or -1 when the food has no weight for that
 * unit. */
double meal_unit_grams(const char *unit, double qty, const json_t *unit_grams);

/* The payload fields for items[i] matched to foods[i] (n of each): the
 * nutrient sums as top-level calories, protein_g, carbs_g, fat_g, fiber_g,
 * sugar_g (what the adherence pool reads), items, grams (the total), source,
 * confidence (base scaled by the share matched) and unmatched. Returns a new
 * object (caller decrefs), or NULL when no item matched, with the reason for
 * a person in why. */
json_t *meal_plate_build(const struct meal_item *items, const struct meal_food *foods, int n, const char *source,
                         double base_confidence, char *why, size_t whysz);

#endif
