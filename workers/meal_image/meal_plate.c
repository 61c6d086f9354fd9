#include "meal_plate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define GRAMS_PER_OZ 28.349523125

static const char *const FIELD[MEAL_NUTRIENTS] = { "calories", "protein_g", "carbs_g", "fat_g", "fiber_g", "sugar_g" };

static double unit_of(const json_t *unit_grams, const char *unit)
{
    json_t *v = json_object_get(unit_grams, unit);
    return json_is_number(v) && json_number_value(v) > 0 ? json_number_value(v) : -1;
}

double meal_unit_grams(const char *unit, double qty, const json_t *unit_grams)
{
    if (strcmp(unit, "g") == 0)
        return qty;
    if (strcmp(unit, "oz") == 0)
        return qty * GRAMS_PER_OZ;
    double g = unit_of(unit_grams, unit);
    if (g < 0 && (strcmp(unit, "tbsp") == 0 || strcmp(unit, "tsp") == 0)) {
        double cup = unit_of(unit_grams, "cup");
        if (cup > 0)
            g = cup / (strcmp(unit, "tbsp") == 0 ? 16.0 : 48.0);
    }
    if (g < 0 && strcmp(unit, "serving") == 0)
        g = unit_of(unit_grams, "piece");
    return g < 0 ? -1 : g * qty;
}

static double round_to(double v, double step)
{
    return round(v / step) * step;
}

static int add_unmatched(json_t *unmatched, const char *name, const char *reason)
{
    return json_array_append_new(unmatched, json_pack("{s:s, s:s}", "name", name, "reason", reason));
}

json_t *meal_plate_build(const struct meal_item *items, const struct meal_food *foods, int n, const char *source,
                         double base_confidence, char *why, size_t whysz)
{
    json_t *list = json_array(), *unmatched = json_array(), *out = NULL;
    double sum[MEAL_NUTRIENTS] = { 0 }, grams_total = 0;
    int matched = 0;
    if (!list || !unmatched)
        goto out;
    for (int i = 0; i < n; i++) {
        const struct meal_item *it = &items[i];
        const struct meal_food *f = &foods[i];
        if (!f->found) {
            add_unmatched(unmatched, it->asked, "not in the nutrition table");
            continue;
        }
        double g = meal_unit_grams(it->unit, it->qty, f->unit_grams);
        if (g <= 0) {
            char reason[96];
            snprintf(reason, sizeof reason, "no gram weight known for a %s of %s", it->unit, f->name);
            add_unmatched(unmatched, it->asked, reason);
            continue;
        }
        json_t *row = json_pack("{s:s, s:s, s:f}", "name", it->asked, "food", f->name, "grams", round_to(g, 0.1));
        if (!row)
            goto out;
        json_object_set_new(row, "fdc_id", f->fdc_id ? json_integer(f->fdc_id) : json_null());
        for (int k = 0; k < MEAL_NUTRIENTS; k++) {
            double v = f->per100[k] * g / 100.0;
            sum[k] += v;
            json_object_set_new(row, FIELD[k], json_real(round_to(v, 0.1)));
        }
        json_array_append_new(list, row);
        grams_total += g;
        matched++;
    }
    if (matched == 0) {
        if (n == 0)
            snprintf(why, whysz, "no food was found on the plate");
        else
            snprintf(why, whysz, "none of the %d food%s (%s%s) could be matched to the nutrition table", n,
                     n == 1 ? "" : "s", items[0].asked, n > 1 ? ", ..." : "");
        goto out;
    }
    out = json_pack("{s:O, s:f, s:s, s:f, s:O}", "items", list, "grams", round_to(grams_total, 0.1), "source", source,
                    "confidence", round_to(base_confidence * matched / n, 0.01), "unmatched", unmatched);
    for (int k = 0; out && k < MEAL_NUTRIENTS; k++)
        json_object_set_new(out, FIELD[k], json_real(round_to(sum[k], 0.1)));
out:
    json_decref(list);
    json_decref(unmatched);
    return out;
}
