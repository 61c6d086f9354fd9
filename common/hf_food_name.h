/* hf_food_name: the one normalisation of a food or ingredient name, shared
 * by the pools that see names in logs and the pool that scores them.
 *
 * 002 line 119: lowercase, punctuation and symbols to spaces, spaces
 * collapsed and trimmed ("Greek  Yogurt!" -> "greek yogurt"). Non-ASCII
 * letters are kept as they are: SQL lower()s them, the function the tables'
 * CHECKs use, and ingredient_canonical() (migration 0010) then resolves an
 * alias to its food's name. */
#ifndef HF_FOOD_NAME_H
#define HF_FOOD_NAME_H

#include "hf_err.h"

#define HF_FOOD_NAME_MAX 80

/* Returns 0, or HF_EINVAL (field "name") when the name is not UTF-8,
 * nothing is left, or the result is longer than HF_FOOD_NAME_MAX bytes. */
int hf_food_name_normalise(const char *in, char out[HF_FOOD_NAME_MAX + 1], struct hf_err *err);

#endif
