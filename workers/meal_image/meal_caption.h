/* meal_caption: food names and the amounts people write in a caption.
 *
 * "2 eggs, 1 slice whole wheat toast, 200 g greek yogurt, 1 cup rice" becomes
 * four portions: (2, piece, "egg"), (1, slice, "whole wheat toast"), (200, g,
 * "greek yogurt"), (1, cup, "rice"). Amounts: whole numbers, decimals,
 * fractions ("1/2", "1 1/2"), "a"/"an"/"half" and the words one to twelve.
 * Units: g, kg, oz, lb, cup, tbsp, tsp, slice, piece and their long and
 * plural forms; "200g" may be written as one word. Separators: commas,
 * semicolons, "+", "&", " and ", " with ", new lines. No amount: one serving.
 * Pure functions; no allocation. */
#ifndef MEAL_CAPTION_H
#define MEAL_CAPTION_H

#include <stddef.h>

#define MEAL_NAME_MAX 81
#define MEAL_PORTIONS_MAX 20

struct meal_portion {
    double qty;
    /* "g", "oz", "cup", "tbsp", "tsp", "slice", "piece" (a count: "2 eggs"),
     * or "serving" (no amount written) */
    const char *unit;
    char name[MEAL_NAME_MAX]; /* normalised, singular (meal_name_key) */
};

/* Parses caption into out[0..*n). Phrases with no food name ("2", "with")
 * are skipped. Returns 0 (possibly *n == 0), or HF_ETOOBIG past max portions. */
int meal_caption_parse(const char *caption, struct meal_portion *out, int max, int *n);

/* 002's normalisation: lower case, every run of characters other than
 * letters and digits one space, no leading or trailing space, cut to
 * MEAL_NAME_MAX - 1 bytes. "Greek-Yoghurt!" -> "greek yoghurt". */
void meal_name_normalise(const char *in, char *out, size_t outsz);

/* The normalised name with its last word made singular ("eggs" -> "egg",
 * "berries" -> "berry", "tomatoes" -> "tomato"); words ending in "ss", "us",
 * "is" are left alone ("hummus", "asparagus"). in may equal out. */
void meal_name_singular(const char *in, char *out, size_t outsz);

#endif
