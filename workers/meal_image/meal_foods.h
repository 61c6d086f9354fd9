/* meal_foods: the nutrition table's rows for one batch's food names, read in
 * ONE query.
 *
 * Why per batch and not per item: a query per photo (about 1 ms of
 * PostgreSQL's time each, more on a loaded machine) made the write phase of
 * a 500-photo batch take as long as its analysis; the table is also written
 * at run time (the ingredient pool adds rows), so a process-wide copy would
 * go stale. The batch collects every name it will price (meal_foods_want),
 * reads their rows at once (meal_foods_load), then prices from memory
 * (meal_foods_find).
 *
 * A name is looked up normalised (meal_name_normalise), then as its singular,
 * by food name first, then by alias: the same preference the pool had. */
#ifndef MEAL_FOODS_H
#define MEAL_FOODS_H

#include "hf_err.h"
#include "hf_pg.h"
#include "meal_plate.h"

typedef struct meal_foods meal_foods;

/* Caller frees with meal_foods_free (NULL accepted). NULL when out of memory. */
meal_foods *meal_foods_new(void);
void meal_foods_free(meal_foods *f);

/* Forgets every name and row (the next batch starts empty); keeps the memory. */
void meal_foods_reset(meal_foods *f);

/* Adds `asked` (any spelling) to the names the next load reads.
 * Returns 0 or HF_ENOMEM. */
int meal_foods_want(meal_foods *f, const char *asked, struct hf_err *err);

/* Reads the rows of every wanted name in one query. Returns 0 or hf_pg's
 * codes (HF_EIO with unavailable set when PostgreSQL is away), HF_ENOMEM. */
int meal_foods_load(meal_foods *f, hf_pg *pg, struct hf_err *err);

/* The row for `asked` after a load; .found is false when the table has no
 * such food (or it was not wanted). .unit_grams is borrowed from f, valid
 * until the next reset or load. */
struct meal_food meal_foods_find(const meal_foods *f, const char *asked);

#endif
