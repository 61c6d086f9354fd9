/* Unit tests of common/hf_json: the same text as jansson's json_dumps for
 * every kind of value, numbers above all (the fast path for two decimals
 * must never change a value or its text), and strings that need escaping. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hf_json.h"
#include "unit_util.h"

static void assert_same_as_jansson(const json_t *v, int precision)
{
    char *ours = hf_json_text(v, precision);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(precision));
    ck_assert_ptr_nonnull(ours);
    ck_assert_ptr_nonnull(theirs);
    ck_assert_msg(strcmp(ours, theirs) == 0, "precision %d: ours %s, jansson %s", precision, ours, theirs);
    free(ours);
    free(theirs);
}

START_TEST(documents_match_jansson)
{
    const char *docs[] = {
        "{}", "[]", "[null,true,false]", "{\"a\":{\"b\":[1,-2,{\"c\":\"d\"}]},\"e\":[]}",
        "[9223372036854775807,-9223372036854775808,0,-1]",
        "{\"text\":\"quote \\\" backslash \\\\ slash / tab \\t nl \\n cr \\r bell \\u0007 nul-free \\u001f\"}",
        "[\"caf\\u00e9 \\ud83c\\udf4e \\u2028\", \"\"]",
        "{\"z\":1,\"a\":2,\"m\":3}", /* insertion order, not sorted */
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t e;
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY, &e);
        ck_assert_msg(v != NULL, "%s: %s", docs[i], e.text);
        assert_same_as_jansson(v, 10);
        json_decref(v);
    }
}
END_TEST

START_TEST(reals_match_jansson)
{
    const double fixed[] = { 0.0, -0.0, 1.0, -1.0, 100.0, 0.1, 0.2, 0.1 + 0.2, 12.05, 12.5, 99.99, -0.01, 0.005,
                             1234567.89, 9999999.99, 10000000.0, 1e7 + 0.5, 1e15, 1e21, 1e-7, 123.456, 2.0 / 3,
                             72.35000000000001, 1e300, -1e-300, 4.9e-324, 5e-5, 1750.0, 0.6, 0.4 };
    int precisions[] = { 10, 12, 15, 17 };
    for (size_t p = 0; p < 4; p++)
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
            json_t *v = json_real(fixed[i]);
            assert_same_as_jansson(v, precisions[p]);
            json_decref(v);
        }
    /* Scores and amounts as the pools make them (rounded to cents), and
     * arbitrary doubles across magnitudes. */
    srand(20261123);
    for (int i = 0; i < 20000; i++) {
        double x = i % 2 ? round((rand() % 2000000 - 1000000) / 7.0) / 100
                         : ldexp((double)rand() / RAND_MAX - 0.5, rand() % 80 - 40);
        json_t *v = json_real(x);
        assert_same_as_jansson(v, precisions[i % 4]);
        json_decref(v);
    }
}
END_TEST

START_TEST(what_cannot_be_written)
{
    json_t *v = json_pack("[f]", 1.0);
    ck_assert_ptr_null(hf_json_text(v, 0));  /* precision out of range */
    ck_assert_ptr_null(hf_json_text(v, 18));
    ck_assert_ptr_null(hf_json_text(NULL, 10));
    json_decref(v);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("hf_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, documents_match_jansson);
    tcase_add_test(tc, reals_match_jansson);
    tcase_add_test(tc, what_cannot_be_written);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(json_suite());
}
