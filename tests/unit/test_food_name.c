/* common/hf_food_name: 002's name normalisation, its limits, and names
 * that are not text. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "hf_food_name.h"
#include "unit_util.h"

START_TEST(names)
{
    static const struct {
        const char *in, *want;
    } ok[] = {
        { "Greek Yogurt", "greek yogurt" },
        { "  Greek   YOGURT!! ", "greek yogurt" },
        { "Ben & Jerry's", "ben jerry s" },
        { "oats, rolled (dry)", "oats rolled dry" },
        { "Crème fraîche", "cr\xc3\xa8" "me fra\xc3\xae" "che" },
        { "3017620422003", "3017620422003" },
        { "a", "a" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[HF_FOOD_NAME_MAX + 1];
        struct hf_err err = { 0 };
        ck_assert_msg(hf_food_name_normalise(ok[i].in, out, &err) == 0, "%s: %s", ok[i].in, err.msg);
        ck_assert_str_eq(out, ok[i].want);
    }
    const char *bad[] = { "", "   ", "!!!", "-_-", "caf\xe9", "ab\xc0\xaf" "cd", "x\xe2\x82", "x\xed\xa0\x80" /* a surrogate */ };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[HF_FOOD_NAME_MAX + 1];
        struct hf_err err = { 0 };
        ck_assert_int_eq(hf_food_name_normalise(bad[i], out, &err), HF_EINVAL);
        ck_assert_str_eq(err.field, "name");
    }
    /* 80 characters pass, 81 do not, spaces collapsed first */
    char long_ok[200], long_bad[200], out[HF_FOOD_NAME_MAX + 1];
    memset(long_ok, 'a', 80);
    long_ok[80] = '\0';
    memset(long_bad, 'b', 81);
    long_bad[81] = '\0';
    ck_assert_int_eq(hf_food_name_normalise(long_ok, out, NULL), 0);
    ck_assert_int_eq(hf_food_name_normalise(long_bad, out, NULL), HF_EINVAL);
    snprintf(long_ok, sizeof long_ok, "%s", "x     y");
    ck_assert_int_eq(hf_food_name_normalise(long_ok, out, NULL), 0);
    ck_assert_str_eq(out, "x y");
}
END_TEST

static Suite *food_name_suite(void)
{
    Suite *s = suite_create("hf_food_name");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(food_name_suite());
}
