/* libFuzzer target: a meal photo's caption, text a person typed ("2 eggs,
 * 1 slice whole wheat toast, 200 g greek yogurt").
 *
 * Properties: never more portions than asked for; every portion has a
 * finite positive quantity, a unit from the documented list and a
 * normalised name (lower case letters, digits, single spaces). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"
#include "meal_caption.h"

static const char *const units[] = { "g", "oz", "cup", "tbsp", "tsp", "slice", "piece", "serving" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char caption[600];
    if (size >= sizeof caption)
        return 0;
    memcpy(caption, data, size);
    caption[size] = '\0';
    struct meal_portion p[MEAL_PORTIONS_MAX];
    int n = -1;
    int rc = meal_caption_parse(caption, p, MEAL_PORTIONS_MAX, &n);
    if (rc != 0 && rc != HF_ETOOBIG)
        abort();
    if (rc == 0 && (n < 0 || n > MEAL_PORTIONS_MAX))
        abort();
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!isfinite(p[i].qty) || p[i].qty <= 0)
            abort();
        bool known = false;
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
            known = known || (p[i].unit && strcmp(p[i].unit, units[u]) == 0);
        const char *s = p[i].name;
        size_t len = strlen(s);
        if (!known || len == 0 || len >= MEAL_NAME_MAX || s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  "))
            abort();
        for (size_t k = 0; k < len; k++)
            if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') || s[k] == ' ' ||
                  (unsigned char)s[k] >= 0x80))
                abort();
    }
    return 0;
}
