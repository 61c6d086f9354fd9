/* workers/ingredient_scoring/ingredient_data.c: the answer shapes of FoodData Central and Open Food Facts (as their public
 * documentation shows them), bad answers, and 002's merge. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ingredient_data.h"
#include "unit_util.h"

static json_t *load(const char *text)
{
    char *t = unit_dq(text);
    json_error_t je;
    json_t *j = json_loads(t, 0, &je);
    ck_assert_msg(j != NULL, "bad test JSON: %s", je.text);
    free(t);
    return j;
}

/* /fdc/v1/foods/search: a Branded hit first, then the SR Legacy one we want. */
static const char *const FDC_SEARCH =
    "{'totalHits': 2, 'currentPage': 1, 'totalPages': 1, 'foodSearchCriteria': {'query': 'salmon'},"
    " 'foods': ["
    "  {'fdcId': 111, 'description': 'SALMON BITES', 'dataType': 'Branded', 'foodNutrients': []},"
    "  {'fdcId': 175168, 'description': 'Fish, salmon, Atlantic, farmed, raw', 'dataType': 'SR Legacy',"
    "   'foodCategory': 'Finfish and Shellfish Products', 'foodNutrients': ["
    "    {'nutrientId': 1008, 'nutrientName': 'Energy', 'nutrientNumber': '208', 'unitName': 'KCAL', 'value': 208},"
    "    {'nutrientId': 1003, 'nutrientName': 'Protein', 'unitName': 'G', 'value': 20.4},"
    "    {'nutrientId': 1005, 'nutrientName': 'Carbohydrate, by difference', 'unitName': 'G', 'value': 0},"
    "    {'nutrientId': 1004, 'nutrientName': 'Total lipid (fat)', 'unitName': 'G', 'value': 13.4},"
    "    {'nutrientId': 1258, 'nutrientName': 'Fatty acids, total saturated', 'unitName': 'G', 'value': 3.05},"
    "    {'nutrientId': 1270, 'nutrientName': 'PUFA 18:3', 'unitName': 'G', 'value': 0.11},"
    "    {'nutrientId': 1278, 'nutrientName': 'PUFA 20:5 n-3 (EPA)', 'unitName': 'G', 'value': 0.86},"
    "    {'nutrientId': 1272, 'nutrientName': 'PUFA 22:6 n-3 (DHA)', 'unitName': 'G', 'value': 1.1},"
    "    {'nutrientId': 1269, 'nutrientName': 'PUFA 18:2', 'unitName': 'G', 'value': 0.59},"
    "    {'nutrientId': 1162, 'nutrientName': 'Vitamin C', 'unitName': 'MG', 'value': 3.9},"
    "    {'nutrientId': 1109, 'nutrientName': 'Vitamin E', 'unitName': 'UG', 'value': 3550},"
    "    {'nutrientId': 1079, 'nutrientName': 'Fiber', 'unitName': 'G', 'value': 0}"
    "  ]}]}";

START_TEST(fdc_search)
{
    json_t *j = load(FDC_SEARCH);
    struct ing_source s;
    ing_source_init(&s);
    ck_assert_int_eq(ing_parse_fdc(j, &s, NULL), 0);
    ck_assert(s.found);
    ck_assert_int_eq(s.fdc_id, 175168);
    ck_assert_double_eq(s.kcal, 208);
    ck_assert_double_eq(s.fat_g, 13.4);
    ck_assert_double_eq_tol(s.facts.omega3_g, 0.11 + 0.86 + 1.1, 1e-9);
    ck_assert_double_eq(s.facts.omega6_g, 0.59);
    ck_assert_double_eq_tol(s.facts.vitamin_e_mg, 3.55, 1e-9); /* µg -> mg */
    ck_assert(isnan(s.facts.sugars_g));                        /* not given: unknown, not 0 */
    ck_assert_str_eq(s.category, "Finfish and Shellfish Products");
    ck_assert_int_eq(json_integer_value(json_object_get(s.raw, "fdcId")), 175168);
    ing_source_clear(&s);
    json_decref(j);
}
END_TEST

/* /fdc/v1/food/{id}: nutrients nested, the category an object. */
START_TEST(fdc_details)
{
    json_t *j = load("{'fdcId': 173944, 'description': 'Bananas, raw', 'dataType': 'SR Legacy',"
                     " 'foodCategory': {'id': 9, 'code': '0900', 'description': 'Fruits and Fruit Juices'},"
                     " 'foodNutrients': ["
                     "  {'type': 'FoodNutrient', 'id': 1, 'amount': 89,"
                     "   'nutrient': {'id': 1008, 'number': '208', 'name': 'Energy', 'rank': 300, 'unitName': 'kcal'}},"
                     "  {'type': 'FoodNutrient', 'amount': 2.6, 'nutrient': {'id': 1079, 'unitName': 'g'}},"
                     "  {'type': 'FoodNutrient', 'amount': 12.2, 'nutrient': {'id': 2000, 'unitName': 'g'}},"
                     "  {'type': 'FoodNutrient', 'amount': 8.7, 'nutrient': {'id': 1162, 'unitName': 'mg'}},"
                     "  {'type': 'FoodNutrient', 'amount': 'lots', 'nutrient': {'id': 1003, 'unitName': 'g'}},"
                     "  {'type': 'FoodNutrient', 'amount': 250, 'nutrient': {'id': 1005, 'unitName': 'g'}}"
                     " ], 'foodPortions': []}");
    struct ing_source s;
    ing_source_init(&s);
    ck_assert_int_eq(ing_parse_fdc(j, &s, NULL), 0);
    ck_assert(s.found);
    ck_assert_double_eq(s.kcal, 89);
    ck_assert_double_eq(s.facts.fiber_g, 2.6);
    ck_assert_double_eq(s.facts.sugars_g, 12.2);
    ck_assert_double_eq(s.facts.vitamin_c_mg, 8.7);
    ck_assert(isnan(s.protein_g)); /* a string is not a number */
    ck_assert(isnan(s.carbs_g));   /* 250 g per 100 g is impossible: dropped */
    ck_assert_str_eq(s.category, "Fruits and Fruit Juices");
    ck_assert(s.facts.prebiotics); /* "bananas" */
    ing_source_clear(&s);
    json_decref(j);
}
END_TEST

START_TEST(fdc_bad_and_empty)
{
    struct ing_source s;
    ing_source_init(&s);
    const char *bad[] = {
        "[1, 2]",
        "{'foods': 'none'}",
        "{'foods': [{'description': 'no id', 'foodNutrients': []}]}",
        "{'fdcId': 5, 'description': 'no nutrients'}",
        "{'fdcId': -5, 'foodNutrients': []}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = load(bad[i]);
        struct hf_err err = { 0 };
        ck_assert_msg(ing_parse_fdc(j, &s, &err) == HF_EINVAL, "accepted %s", bad[i]);
        ck_assert(err.msg[0]);
        ck_assert(!s.found);
        json_decref(j);
    }
    json_t *j = load("{'totalHits': 0, 'foods': []}");
    ck_assert_int_eq(ing_parse_fdc(j, &s, NULL), 0);
    ck_assert(!s.found);
    json_decref(j);
}
END_TEST

/* /api/v2/product/{code} */
static const char *const OFF_PRODUCT =
    "{'code': '3017620422003', 'status': 1, 'status_verbose': 'product found', 'product': {"
    " 'product_name': 'Nutella', 'nova_group': 4,"
    " 'categories': 'Spreads, Sweet spreads, Hazelnut spreads',"
    " 'categories_tags': ['en:spreads', 'en:sweet-spreads', 'en:hazelnut-spreads'],"
    " 'additives_tags': ['en:e322', 'en:e322i'], 'allergens_tags': ['en:milk', 'en:nuts', 'en:soybeans'],"
    " 'ingredients_text': 'Sugar, palm oil, hazelnuts 13%, skimmed milk powder 8.7%, fat-reduced cocoa 7.4%,"
    "  emulsifier: lecithins (soya), vanillin',"
    " 'nutriments': {'energy-kcal_100g': 539, 'proteins_100g': 6.3, 'carbohydrates_100g': 57.5,"
    "  'fat_100g': 30.9, 'saturated-fat_100g': 10.6, 'sugars_100g': 56.3, 'fiber_100g': 0,"
    "  'vitamin-c_100g': 0.004, 'salt_100g': 0.107}}}";

START_TEST(off_product)
{
    json_t *j = load(OFF_PRODUCT);
    struct ing_source s;
    ing_source_init(&s);
    ck_assert_int_eq(ing_parse_off(j, &s, NULL), 0);
    ck_assert(s.found);
    ck_assert_int_eq(s.nova, 4);
    ck_assert_double_eq(s.kcal, 539);
    ck_assert_double_eq(s.facts.sat_fat_g, 10.6);
    ck_assert_double_eq_tol(s.facts.vitamin_c_mg, 4, 1e-9); /* grams -> mg */
    ck_assert_str_eq(s.category, "hazelnut spreads");
    ck_assert_int_eq(json_array_size(s.allergens), 3);
    ck_assert_int_eq(json_array_size(s.additives), 2);
    ck_assert(s.facts.refined_sugar);  /* "sugar" in the ingredients */
    ck_assert(s.facts.phytoestrogens); /* soya */
    ck_assert(s.facts.polyphenols);    /* cocoa */
    ck_assert(!s.facts.emulsifiers);   /* lecithin is not carrageenan or polysorbate */
    ing_source_clear(&s);
    json_decref(j);
}
END_TEST

START_TEST(off_search_and_missing)
{
    struct ing_source s;
    ing_source_init(&s);
    json_t *j = load("{'count': 1, 'page': 1, 'page_size': 1, 'skip': 0, 'products': [{'code': '1',"
                     " 'product_name': 'Diet cola', 'additives_tags': ['en:e150d', 'en:e951', 'en:e338'],"
                     " 'nutriments': {'energy-kcal_100g': 0.4, 'caffeine_100g': 0.012}}]}");
    ck_assert_int_eq(ing_parse_off(j, &s, NULL), 0);
    ck_assert(s.found);
    ck_assert(s.facts.artificial_sweeteners); /* E951 aspartame */
    ck_assert(s.facts.caffeinated);           /* cola */
    ck_assert_double_eq_tol(s.facts.caffeine_mg, 12, 1e-9);
    ing_source_clear(&s);
    json_decref(j);

    /* The first product with a nutrition table, not the first listed. */
    j = load("{'count': 3, 'products': [{'code': '1', 'product_name': 'Cola', 'nutriments': {}},"
             " {'code': '2', 'product_name': 'Cola 33cl', 'nutriments': {'energy-kcal_100g': 42, 'sugars_100g': 10.6}},"
             " {'code': '3', 'product_name': 'Cola zero', 'nutriments': {'energy-kcal_100g': 0.3}}]}");
    ck_assert_int_eq(ing_parse_off(j, &s, NULL), 0);
    ck_assert(s.found);
    ck_assert_str_eq(s.description, "Cola 33cl");
    ck_assert_double_eq_tol(s.kcal, 42, 1e-9);
    ing_source_clear(&s);
    json_decref(j);
    j = load("{'count': 1, 'products': [{'code': '1', 'product_name': 'Mystery', 'nutriments': {}}]}");
    ck_assert_int_eq(ing_parse_off(j, &s, NULL), 0);
    ck_assert_str_eq(s.description, "Mystery"); /* none states it: the first */
    ing_source_clear(&s);
    json_decref(j);

    const char *not_found[] = { "{'code': '123', 'status': 0, 'status_verbose': 'product not found'}",
                                "{'count': 0, 'products': []}" };
    for (size_t i = 0; i < 2; i++) {
        j = load(not_found[i]);
        ck_assert_int_eq(ing_parse_off(j, &s, NULL), 0);
        ck_assert(!s.found);
        json_decref(j);
    }
    const char *bad[] = { "[1]", "{'products': {}}", "{'status': 1, 'product': [1]}" };
    for (size_t i = 0; i < 3; i++) {
        j = load(bad[i]);
        ck_assert_msg(ing_parse_off(j, &s, NULL) == HF_EINVAL, "accepted %s", bad[i]);
        json_decref(j);
    }
}
END_TEST

START_TEST(detection)
{
    static const struct {
        const char *text;
        const char *additive;
        size_t offset;
        bool want;
    } cc[] = {
        { "white bread", NULL, offsetof(struct ing_facts, refined_grains), true },
        { "whole wheat flour, water", NULL, offsetof(struct ing_facts, refined_grains), false },
        { "wheat flour, water", NULL, offsetof(struct ing_facts, refined_grains), true },
        { "kimchi", NULL, offsetof(struct ing_facts, fermented), true },
        { "yogurts", NULL, offsetof(struct ing_facts, fermented), true },  /* plural */
        { "sugarcane juice", NULL, offsetof(struct ing_facts, refined_sugar), false }, /* whole words only */
        { "tofu", NULL, offsetof(struct ing_facts, phytoestrogens), true },
        { "ground flaxseed", NULL, offsetof(struct ing_facts, phytoestrogens), true },
        { "espresso", NULL, offsetof(struct ing_facts, caffeinated), true },
        { "chamomile tea", NULL, offsetof(struct ing_facts, caffeinated), false },
        { NULL, "en:e407a", offsetof(struct ing_facts, emulsifiers), true },   /* carrageenan family */
        { NULL, "en:e433", offsetof(struct ing_facts, emulsifiers), true },    /* polysorbate 80 */
        { NULL, "en:e4070", offsetof(struct ing_facts, emulsifiers), false },  /* another number */
        { NULL, "en:e129", offsetof(struct ing_facts, artificial_colors), true },
        { NULL, "en:e955", offsetof(struct ing_facts, artificial_sweeteners), true },
        { NULL, "en:e1520", offsetof(struct ing_facts, artificial_colors), false },
    };
    for (size_t i = 0; i < sizeof cc / sizeof cc[0]; i++) {
        struct ing_facts f;
        ing_facts_init(&f);
        json_t *adds = cc[i].additive ? json_pack("[s]", cc[i].additive) : NULL;
        ing_detect(cc[i].text, adds, &f);
        json_decref(adds);
        ck_assert_msg(*(bool *)((char *)&f + cc[i].offset) == cc[i].want, "%s %s", cc[i].text ? cc[i].text : "",
                      cc[i].additive ? cc[i].additive : "");
    }
}
END_TEST

/* 002 lines 143-155: nutrients table > USDA > OFF; additives OFF only;
 * allergens and category OFF first. */
START_TEST(merge)
{
    struct ing_source table, usda, off;
    ing_source_init(&table);
    ing_source_init(&usda);
    ing_source_init(&off);
    table.found = true;
    table.kcal = 100, table.protein_g = 1, table.carbs_g = 20, table.fat_g = 1;
    table.facts.glycemic_index = 40;
    usda.found = true;
    usda.kcal = 110, usda.facts.fiber_g = 3, usda.facts.sat_fat_g = 0.5, usda.fdc_id = 42;
    snprintf(usda.category, sizeof usda.category, "Fruits");
    off.found = true;
    off.kcal = 300, off.facts.fiber_g = 9, off.facts.sugars_g = 15, off.nova = 3;
    snprintf(off.category, sizeof off.category, "fruit snacks");
    off.additives = json_pack("[s]", "en:e129");
    off.allergens = json_pack("[s]", "en:nuts");
    off.facts.artificial_colors = true;
    struct ing_merged m;
    ing_merge("apple", &table, &usda, &off, &m);
    ck_assert_double_eq(m.kcal, 100);             /* table first */
    ck_assert_double_eq(m.facts.fiber_g, 3);      /* USDA before OFF */
    ck_assert_double_eq(m.facts.sugars_g, 15);    /* only OFF has it */
    ck_assert_double_eq(m.facts.glycemic_index, 40);
    ck_assert_str_eq(json_string_value(json_object_get(m.origin, "kcal")), "table");
    ck_assert_str_eq(json_string_value(json_object_get(m.origin, "fiber_g")), "usda");
    ck_assert_str_eq(json_string_value(json_object_get(m.origin, "sugars_g")), "off");
    ck_assert_str_eq(m.category, "fruit snacks"); /* OFF first */
    ck_assert_ptr_eq(m.additives, off.additives);
    ck_assert_ptr_eq(m.allergens, off.allergens);
    ck_assert_int_eq(m.nova, 3);
    ck_assert_int_eq(m.fdc_id, 42);
    ck_assert(m.facts.artificial_colors);
    ck_assert(m.evidence.usda && m.evidence.off && m.evidence.table);
    ck_assert(m.evidence.sources_agree); /* table 100 and USDA 110 kcal: within 25% */
    json_decref(m.origin);

    /* without OFF: category from USDA, no additives; USDA vs nothing else agrees with nothing */
    off.found = false;
    table.found = false;
    ing_merge("apple", &table, &usda, &off, &m);
    ck_assert_str_eq(m.category, "Fruits");
    ck_assert_ptr_null(m.additives);
    ck_assert(!m.evidence.sources_agree && !m.evidence.off && !m.evidence.table && m.evidence.usda);
    ck_assert_double_eq(m.kcal, 110);
    json_decref(m.origin);

    /* OFF 300 vs USDA 110 kcal: they disagree */
    off.found = true;
    ing_merge("apple", NULL, &usda, &off, &m);
    ck_assert(!m.evidence.sources_agree);
    json_decref(m.origin);
    ing_source_clear(&table);
    ing_source_clear(&usda);
    ing_source_clear(&off);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ingredient_data");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, fdc_search);
    tcase_add_test(tc, fdc_details);
    tcase_add_test(tc, fdc_bad_and_empty);
    tcase_add_test(tc, off_product);
    tcase_add_test(tc, off_search_and_missing);
    tcase_add_test(tc, detection);
    tcase_add_test(tc, merge);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
