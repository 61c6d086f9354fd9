/* Answers of FoodData Central and Open Food Facts into struct ing_source,
 * and 002's merge. Shapes: README.md beside this file. */
#include "ingredient_data.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ing_source_init(struct ing_source *s)
{
    memset(s, 0, sizeof *s);
    s->kcal = s->protein_g = s->carbs_g = s->fat_g = NAN;
    ing_facts_init(&s->facts);
}

void ing_source_clear(struct ing_source *s)
{
    json_decref(s->allergens);
    json_decref(s->additives);
    json_decref(s->raw);
    ing_source_init(s);
}

/* ---------- properties from words and additives (ours: README.md) ---------- */

enum prop {
    P_REFINED_SUGAR,
    P_REFINED_GRAINS,
    P_SWEETENERS,
    P_EMULSIFIERS,
    P_COLORS,
    P_FERMENTED,
    P_PREBIOTICS,
    P_POLYPHENOLS,
    P_PHYTOESTROGENS,
    P_CAFFEINE,
};

/* Whole words (a trailing "s" or "es" allowed), in normalised text. */
static const struct {
    enum prop prop;
    const char *const *words;
} word_lists[] = {
    { P_REFINED_SUGAR, (const char *const[]){ "sugar", "sucrose", "dextrose", "glucose syrup", "corn syrup",
                                               "invert sugar", "candy", "candies", "sweets", "confectionery",
                                               NULL } },
    { P_REFINED_GRAINS, (const char *const[]){ "white bread", "white rice", "white flour", "wheat flour",
                                                "refined flour", "enriched flour", "pasta", "spaghetti", "noodle",
                                                "cracker", "bagel", "cornflakes", "corn flakes", "pastry", "pastries",
                                                "croissant", "cookie", "biscuit", "cake", NULL } },
    { P_SWEETENERS, (const char *const[]){ "aspartame", "sucralose", "saccharin", "acesulfame", "cyclamate",
                                            "neotame", "advantame", "artificial sweetener", NULL } },
    { P_EMULSIFIERS, (const char *const[]){ "carrageenan", "polysorbate", NULL } },
    { P_COLORS, (const char *const[]){ "tartrazine", "sunset yellow", "allura red", "ponceau", "azorubine",
                                        "carmoisine", "brilliant blue", "erythrosine", "quinoline yellow",
                                        "indigo carmine", "patent blue", "artificial color", "artificial colour",
                                        NULL } },
    { P_FERMENTED, (const char *const[]){ "yogurt", "yoghurt", "kefir", "kimchi", "sauerkraut", "miso", "tempeh",
                                           "kombucha", "natto", "fermented", "sourdough", "buttermilk", "cultured",
                                           NULL } },
    { P_PREBIOTICS, (const char *const[]){ "inulin", "chicory", "garlic", "onion", "leek", "asparagus",
                                            "jerusalem artichoke", "banana", "oat", "oats", "barley", "oligofructose",
                                            "fructooligosaccharide", "lentil", "chickpea", NULL } },
    { P_POLYPHENOLS, (const char *const[]){ "blueberry", "blueberries", "strawberry", "strawberries", "raspberry",
                                             "raspberries", "blackberry", "blackberries", "cranberry", "cranberries",
                                             "cherry", "cherries", "pomegranate", "grape", "green tea", "cocoa",
                                             "dark chocolate", "olive oil", "coffee", "red wine", "turmeric", NULL } },
    { P_PHYTOESTROGENS, (const char *const[]){ "soy", "soya", "soybean", "tofu", "tempeh", "edamame", "miso", "flax",
                                                "flaxseed", "linseed", NULL } },
    { P_CAFFEINE, (const char *const[]){ "coffee", "espresso", "black tea", "green tea", "matcha", "cola",
                                          "energy drink", "guarana", "yerba mate", "caffeine", NULL } },
};

/* Words that undo a refined-grain match: whole grain is not refined. */
static const char *const whole_grain[] = { "whole grain", "whole wheat", "wholemeal", "wholegrain", NULL };

/* E-numbers by property (an "en:e407a" tag matches "e407"). */
static const struct {
    enum prop prop;
    const char *const *codes;
} enumber_lists[] = {
    { P_SWEETENERS, (const char *const[]){ "e950", "e951", "e952", "e954", "e955", "e961", "e962", "e969", NULL } },
    { P_EMULSIFIERS, (const char *const[]){ "e407", "e432", "e433", "e434", "e435", "e436", NULL } },
    { P_COLORS, (const char *const[]){ "e102", "e104", "e110", "e122", "e123", "e124", "e127", "e129", "e131", "e132",
                                       "e133", "e142", "e151", "e155", NULL } },
};

static void set_prop(struct ing_facts *f, enum prop p)
{
    switch (p) {
    case P_REFINED_SUGAR: f->refined_sugar = true; break;
    case P_REFINED_GRAINS: f->refined_grains = true; break;
    case P_SWEETENERS: f->artificial_sweeteners = true; break;
    case P_EMULSIFIERS: f->emulsifiers = true; break;
    case P_COLORS: f->artificial_colors = true; break;
    case P_FERMENTED: f->fermented = true; break;
    case P_PREBIOTICS: f->prebiotics = true; break;
    case P_POLYPHENOLS: f->polyphenols = true; break;
    case P_PHYTOESTROGENS: f->phytoestrogens = true; break;
    case P_CAFFEINE: f->caffeinated = true; break;
    }
}

/* text is " words like these " (normalised, padded with spaces). */
static bool has_word(const char *text, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        if (p == text || p[-1] != ' ')
            continue;
        const char *end = p + wl;
        if (*end == 's')
            end++;
        else if (end[0] == 'e' && end[1] == 's')
            end += 2;
        if (*end == ' ')
            return true;
    }
    return false;
}

static bool has_any(const char *text, const char *const *words)
{
    for (; *words; words++)
        if (has_word(text, *words))
            return true;
    return false;
}

void ing_detect(const char *text, const json_t *additives, struct ing_facts *f)
{
    if (text && *text) {
        size_t len = strlen(text);
        char *norm = malloc(len + 3);
        if (norm) {
            size_t n = 0;
            norm[n++] = ' ';
            for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                norm[n++] = (char)(*p >= 0x80 || isalnum(*p) ? tolower(*p) : ' ');
            norm[n++] = ' ';
            norm[n] = '\0';
            for (size_t i = 0; i < sizeof word_lists / sizeof word_lists[0]; i++) {
                if (!has_any(norm, word_lists[i].words))
                    continue;
                if (word_lists[i].prop == P_REFINED_GRAINS && has_any(norm, whole_grain))
                    continue;
                set_prop(f, word_lists[i].prop);
            }
            free(norm);
        }
    }
    size_t i;
    json_t *tag;
    json_array_foreach(additives, i, tag)
    {
        const char *t = json_string_value(tag);
        if (!t)
            continue;
        if (strncmp(t, "en:", 3) == 0)
            t += 3;
        for (size_t l = 0; l < sizeof enumber_lists / sizeof enumber_lists[0]; l++)
            for (const char *const *c = enumber_lists[l].codes; *c; c++) {
                size_t cl = strlen(*c);
                if (strncasecmp(t, *c, cl) == 0 && !isdigit((unsigned char)t[cl]))
                    set_prop(f, enumber_lists[l].prop);
            }
    }
}

/* ---------- numbers ---------- */

/* A grams-per-100-g value, or NAN when absent or impossible. */
static double grams(double v)
{
    return isfinite(v) && v >= 0 && v <= 100 ? v : NAN;
}

static double milligrams(double v)
{
    return isfinite(v) && v >= 0 && v <= 100000 ? v : NAN;
}

static double kcal_value(double v)
{
    return isfinite(v) && v >= 0 && v <= 900 ? v : NAN;
}

static double number(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void copy_text(char *dst, size_t dstsz, const char *src)
{
    snprintf(dst, dstsz, "%s", src ? src : "");
}

/* ---------- FoodData Central ---------- */

enum fdc_slot {
    F_KCAL, F_KCAL_ATWATER_GEN, F_KCAL_ATWATER_SPEC, F_PROTEIN, F_CARBS, F_CARBS_SUM, F_FAT, F_FIBER, F_SUGARS,
    F_SUGARS_NLEA, F_ADDED_SUGARS, F_SAT, F_TRANS, F_ALA, F_ALA_UNDIFF, F_EPA, F_DHA, F_DPA, F_LA, F_LA_UNDIFF,
    F_AA, F_VIT_C, F_VIT_E, F_CAFFEINE, F_N
};

/* FoodData Central nutrient ids and the unit we keep ('g', 'm' for mg, 'k' for kcal). */
static const struct {
    int id;
    char unit;
} fdc_ids[F_N] = {
    [F_KCAL] = { 1008, 'k' },        [F_KCAL_ATWATER_GEN] = { 2047, 'k' }, [F_KCAL_ATWATER_SPEC] = { 2048, 'k' },
    [F_PROTEIN] = { 1003, 'g' },     [F_CARBS] = { 1005, 'g' },            [F_CARBS_SUM] = { 1050, 'g' },
    [F_FAT] = { 1004, 'g' },         [F_FIBER] = { 1079, 'g' },            [F_SUGARS] = { 2000, 'g' },
    [F_SUGARS_NLEA] = { 1063, 'g' }, [F_ADDED_SUGARS] = { 1235, 'g' },     [F_SAT] = { 1258, 'g' },
    [F_TRANS] = { 1257, 'g' },       [F_ALA] = { 1404, 'g' },              [F_ALA_UNDIFF] = { 1270, 'g' },
    [F_EPA] = { 1278, 'g' },         [F_DHA] = { 1272, 'g' },              [F_DPA] = { 1280, 'g' },
    [F_LA] = { 1316, 'g' },          [F_LA_UNDIFF] = { 1269, 'g' },        [F_AA] = { 1271, 'g' },
    [F_VIT_C] = { 1162, 'm' },       [F_VIT_E] = { 1109, 'm' },            [F_CAFFEINE] = { 1057, 'm' },
};

/* Scale of a value in `unit` to the unit we keep; 0 when they do not convert. */
static double unit_scale(const char *unit, char want)
{
    if (!unit)
        return 1; /* FoodData Central omits it on some items: its documented unit */
    if (want == 'k')
        return strcasecmp(unit, "kcal") == 0 ? 1 : 0;
    double g = strcasecmp(unit, "g") == 0 ? 1 : strcasecmp(unit, "mg") == 0 ? 1e-3
               : strcasecmp(unit, "ug") == 0 || strcmp(unit, "\xc2\xb5g") == 0 ? 1e-6
                                                                                : 0;
    return want == 'g' ? g : g * 1e3;
}

static double first_known(double a, double b)
{
    return isnan(a) ? b : a;
}

/* A sum of parts where any known part makes the sum known. */
static double sum_known(const double *v, int n)
{
    double s = NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            s = isnan(s) ? v[i] : s + v[i];
    return s;
}

static void fdc_nutrients(const json_t *list, struct ing_source *out)
{
    double v[F_N];
    for (int i = 0; i < F_N; i++)
        v[i] = NAN;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const json_t *nutrient = json_object_get(item, "nutrient");
        /* search items are flat ("nutrientId", "value"); food details nest ("nutrient", "amount") */
        int id = (int)json_integer_value(nutrient ? json_object_get(nutrient, "id") : json_object_get(item, "nutrientId"));
        const char *unit = json_string_value(json_object_get(nutrient ? nutrient : item, "unitName"));
        double amount = number(json_object_get(item, nutrient ? "amount" : "value"));
        for (int s = 0; s < F_N; s++) {
            if (fdc_ids[s].id != id)
                continue;
            double scale = unit_scale(unit, fdc_ids[s].unit);
            if (scale > 0 && !isnan(amount))
                v[s] = amount * scale;
        }
    }
    out->kcal = kcal_value(first_known(v[F_KCAL], first_known(v[F_KCAL_ATWATER_SPEC], v[F_KCAL_ATWATER_GEN])));
    out->protein_g = grams(v[F_PROTEIN]);
    out->carbs_g = grams(first_known(v[F_CARBS], v[F_CARBS_SUM]));
    out->fat_g = grams(v[F_FAT]);
    struct ing_facts *f = &out->facts;
    f->fiber_g = grams(v[F_FIBER]);
    f->sugars_g = grams(first_known(v[F_SUGARS], v[F_SUGARS_NLEA]));
    f->added_sugars_g = grams(v[F_ADDED_SUGARS]);
    f->sat_fat_g = grams(v[F_SAT]);
    f->trans_fat_g = grams(v[F_TRANS]);
    const double n3[] = { first_known(v[F_ALA], v[F_ALA_UNDIFF]), v[F_EPA], v[F_DHA], v[F_DPA] };
    const double n6[] = { first_known(v[F_LA], v[F_LA_UNDIFF]), v[F_AA] };
    f->omega3_g = grams(sum_known(n3, 4));
    f->omega6_g = grams(sum_known(n6, 2));
    f->vitamin_c_mg = milligrams(v[F_VIT_C]);
    f->vitamin_e_mg = milligrams(v[F_VIT_E]);
    f->caffeine_mg = milligrams(v[F_CAFFEINE]);
}

static const json_t *fdc_pick(const json_t *foods)
{
    size_t i;
    json_t *food;
    json_array_foreach(foods, i, food)
    {
        const char *type = json_string_value(json_object_get(food, "dataType"));
        if (type && (strcmp(type, "Foundation") == 0 || strcmp(type, "SR Legacy") == 0))
            return food;
    }
    return json_array_get(foods, 0);
}

int ing_parse_fdc(const json_t *answer, struct ing_source *out, struct hf_err *err)
{
    if (!json_is_object(answer))
        return hf_err_set(err, HF_EINVAL, false, "FoodData Central answered with something other than a JSON object");
    const json_t *food = answer;
    const json_t *foods = json_object_get(answer, "foods");
    if (foods) {
        if (!json_is_array(foods))
            return hf_err_set(err, HF_EINVAL, false, "FoodData Central search: \"foods\" is not an array");
        food = fdc_pick(foods);
        if (!food)
            return 0;
    }
    const json_t *nutrients = json_object_get(food, "foodNutrients");
    json_int_t id = json_integer_value(json_object_get(food, "fdcId"));
    if (!json_is_object(food) || id <= 0 || !json_is_array(nutrients))
        return hf_err_set(err, HF_EINVAL, false,
                          "FoodData Central food without a positive \"fdcId\" and a \"foodNutrients\" array");
    out->found = true;
    out->fdc_id = (long)id;
    fdc_nutrients(nutrients, out);
    copy_text(out->description, sizeof out->description, json_string_value(json_object_get(food, "description")));
    const json_t *cat = json_object_get(food, "foodCategory");
    const char *category = json_is_string(cat) ? json_string_value(cat)
                                                : json_string_value(json_object_get(cat, "description"));
    if (!category)
        category = json_string_value(json_object_get(food, "brandedFoodCategory"));
    copy_text(out->category, sizeof out->category, category);
    ing_detect(out->description, NULL, &out->facts);
    ing_detect(out->category, NULL, &out->facts);
    ing_detect(json_string_value(json_object_get(food, "ingredients")), NULL, &out->facts);
    out->raw = json_deep_copy(food);
    return 0;
}

/* ---------- Open Food Facts ---------- */

static json_t *string_tags(const json_t *v)
{
    if (!json_is_array(v))
        return NULL;
    json_t *tags = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t)
    if (json_is_string(t) && json_string_length(t) > 0 && json_string_length(t) < 64)
        json_array_append(tags, t);
    return tags;
}

/* Open Food Facts keeps vitamins and caffeine in grams per 100 g. */
static double off_number(const json_t *nutriments, const char *key)
{
    return number(json_object_get(nutriments, key));
}

/* Open Food Facts ranks by relevance, but many of its products carry no
 * nutrition table: the first product that states its energy per 100 g, else
 * the first. */
static const json_t *off_pick(const json_t *products)
{
    size_t i;
    json_t *product;
    json_array_foreach(products, i, product)
    {
        if (json_is_number(json_object_get(json_object_get(product, "nutriments"), "energy-kcal_100g")))
            return product;
    }
    return json_array_get(products, 0);
}

int ing_parse_off(const json_t *answer, struct ing_source *out, struct hf_err *err)
{
    if (!json_is_object(answer))
        return hf_err_set(err, HF_EINVAL, false, "Open Food Facts answered with something other than a JSON object");
    const json_t *product = json_object_get(answer, "product");
    const json_t *products = json_object_get(answer, "products");
    if (products) {
        if (!json_is_array(products))
            return hf_err_set(err, HF_EINVAL, false, "Open Food Facts search: \"products\" is not an array");
        product = off_pick(products);
    } else if (json_integer_value(json_object_get(answer, "status")) != 1) {
        return 0; /* status 0: product not found */
    }
    if (!product)
        return 0;
    if (!json_is_object(product))
        return hf_err_set(err, HF_EINVAL, false, "Open Food Facts: the product is not a JSON object");
    out->found = true;
    const json_t *n = json_object_get(product, "nutriments");
    out->kcal = kcal_value(off_number(n, "energy-kcal_100g"));
    out->protein_g = grams(off_number(n, "proteins_100g"));
    out->carbs_g = grams(off_number(n, "carbohydrates_100g"));
    out->fat_g = grams(off_number(n, "fat_100g"));
    struct ing_facts *f = &out->facts;
    f->fiber_g = grams(off_number(n, "fiber_100g"));
    f->sugars_g = grams(off_number(n, "sugars_100g"));
    f->added_sugars_g = grams(off_number(n, "added-sugars_100g"));
    f->sat_fat_g = grams(off_number(n, "saturated-fat_100g"));
    f->trans_fat_g = grams(off_number(n, "trans-fat_100g"));
    f->omega3_g = grams(off_number(n, "omega-3-fat_100g"));
    f->omega6_g = grams(off_number(n, "omega-6-fat_100g"));
    f->vitamin_c_mg = milligrams(off_number(n, "vitamin-c_100g") * 1e3);
    f->vitamin_e_mg = milligrams(off_number(n, "vitamin-e_100g") * 1e3);
    f->caffeine_mg = milligrams(off_number(n, "caffeine_100g") * 1e3);
    json_int_t nova = json_integer_value(json_object_get(product, "nova_group"));
    out->nova = nova >= 1 && nova <= 4 ? (int)nova : 0;
    copy_text(out->description, sizeof out->description,
              json_string_value(json_object_get(product, "product_name")));
    /* The last category tag is the most specific ("en:plain-yogurts"). */
    const json_t *cats = json_object_get(product, "categories_tags");
    const char *last = json_string_value(json_array_get(cats, json_array_size(cats) ? json_array_size(cats) - 1 : 0));
    if (last && strncmp(last, "en:", 3) == 0)
        last += 3;
    copy_text(out->category, sizeof out->category, last);
    for (char *p = out->category; *p; p++)
        if (*p == '-')
            *p = ' ';
    out->additives = string_tags(json_object_get(product, "additives_tags"));
    out->allergens = string_tags(json_object_get(product, "allergens_tags"));
    ing_detect(out->description, out->additives, f);
    ing_detect(json_string_value(json_object_get(product, "categories")), NULL, f);
    ing_detect(out->category, NULL, f);
    ing_detect(json_string_value(json_object_get(product, "ingredients_text")), NULL, f);
    out->raw = json_deep_copy(product);
    return 0;
}

/* ---------- merge ---------- */

static void or_props(struct ing_facts *dst, const struct ing_facts *src)
{
    dst->refined_sugar |= src->refined_sugar;
    dst->refined_grains |= src->refined_grains;
    dst->artificial_sweeteners |= src->artificial_sweeteners;
    dst->polyphenols |= src->polyphenols;
    dst->fermented |= src->fermented;
    dst->prebiotics |= src->prebiotics;
    dst->emulsifiers |= src->emulsifiers;
    dst->artificial_colors |= src->artificial_colors;
    dst->phytoestrogens |= src->phytoestrogens;
    dst->caffeinated |= src->caffeinated;
}

/* Energy within 25% of each other (ours: 002 line 274 says "agree"). */
static bool agree(const struct ing_source *a, const struct ing_source *b)
{
    if (!a || !b || isnan(a->kcal) || isnan(b->kcal))
        return false;
    double hi = fmax(a->kcal, b->kcal);
    return hi < 5 || fabs(a->kcal - b->kcal) <= 0.25 * hi;
}

void ing_merge(const char *name, const struct ing_source *table, const struct ing_source *usda,
               const struct ing_source *off, struct ing_merged *out)
{
    memset(out, 0, sizeof *out);
    ing_facts_init(&out->facts);
    if (table && !table->found)
        table = NULL;
    if (usda && !usda->found)
        usda = NULL;
    if (off && !off->found)
        off = NULL;
    /* nutrients: table, USDA, Open Food Facts (002 lines 149-150) */
    const struct {
        const struct ing_source *s;
        const char *name;
    } order[3] = { { table, "table" }, { usda, "usda" }, { off, "off" } };
    out->origin = json_object();
#define PICK(dst, member, key)                                              \
    do {                                                                    \
        dst = NAN;                                                          \
        for (int k = 0; k < 3; k++)                                         \
            if (order[k].s && !isnan(order[k].s->member)) {                 \
                dst = order[k].s->member;                                   \
                json_object_set_new(out->origin, key, json_string(order[k].name)); \
                break;                                                      \
            }                                                               \
    } while (0)
    PICK(out->kcal, kcal, "kcal");
    PICK(out->protein_g, protein_g, "protein_g");
    PICK(out->carbs_g, carbs_g, "carbs_g");
    PICK(out->fat_g, fat_g, "fat_g");
    PICK(out->facts.glycemic_index, facts.glycemic_index, "glycemic_index");
    PICK(out->facts.fiber_g, facts.fiber_g, "fiber_g");
    PICK(out->facts.sugars_g, facts.sugars_g, "sugars_g");
    PICK(out->facts.added_sugars_g, facts.added_sugars_g, "added_sugars_g");
    PICK(out->facts.sat_fat_g, facts.sat_fat_g, "sat_fat_g");
    PICK(out->facts.trans_fat_g, facts.trans_fat_g, "trans_fat_g");
    PICK(out->facts.omega3_g, facts.omega3_g, "omega3_g");
    PICK(out->facts.omega6_g, facts.omega6_g, "omega6_g");
    PICK(out->facts.vitamin_c_mg, facts.vitamin_c_mg, "vitamin_c_mg");
    PICK(out->facts.vitamin_e_mg, facts.vitamin_e_mg, "vitamin_e_mg");
    PICK(out->facts.caffeine_mg, facts.caffeine_mg, "caffeine_mg");
#undef PICK
    out->fdc_id = usda ? usda->fdc_id : table ? table->fdc_id : 0;
    /* additives only from Open Food Facts (151); allergens and category:
     * Open Food Facts, then USDA (152-153), then the table */
    out->additives = off ? off->additives : NULL;
    const struct ing_source *by_off_first[3] = { off, usda, table };
    for (int k = 0; k < 3; k++) {
        if (!out->allergens && by_off_first[k] && by_off_first[k]->allergens)
            out->allergens = by_off_first[k]->allergens;
        if (!out->category && by_off_first[k] && by_off_first[k]->category[0])
            out->category = by_off_first[k]->category;
    }
    out->nova = off ? off->nova : 0;
    for (int k = 0; k < 3; k++)
        if (order[k].s)
            or_props(&out->facts, &order[k].s->facts);
    ing_detect(name, NULL, &out->facts);
    out->evidence.table = table != NULL;
    out->evidence.usda = usda != NULL;
    out->evidence.off = off != NULL;
    out->evidence.sources_agree = agree(usda, off) || agree(usda, table) || agree(table, off);
}
