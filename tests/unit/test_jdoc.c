/* Unit tests of common/hf_jdoc: it must accept exactly what jansson accepts
 * with JSON_REJECT_DUPLICATES (the intake's parser before it), read the same
 * values, and say where a body is wrong. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hf_jdoc.h"
#include "unit_util.h"

static const int JANSSON_STRICT = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;

START_TEST(reads_what_jansson_reads)
{
    static const char *const docs[] = {
        "{}",
        "[]",
        " \n\t{ \"a\" : [ 1 , -2 , 3.5 , -0.25e2 , 1E3 , 0 ] } \r\n",
        "{\"type\":\"log.nutrition\",\"member_id\":42,\"calories\":512.5,\"items\":[{\"name\":\"rice\",\"grams\":150}]}",
        "[null,true,false,\"\",\"x\"]",
        "[9223372036854775807,-9223372036854775807,1.5e308,-1.5e-308,5e-324]",
        "{\"text\":\"quote \\\" backslash \\\\ slash \\/ tab \\t nl \\n cr \\r \\b \\f \\u0007 \\u001f\"}",
        "[\"caf\\u00e9 \\ud83c\\udf4e \\u2028\", \"caf\xc3\xa9 \xf0\x9f\x8d\x8e\"]",
        "{\"z\":1,\"a\":2,\"m\":3,\"nested\":{\"z\":1},\"n2\":{\"z\":2}}",
        "\"a top-level string\"",
        "12",
        "{\"\":0,\"a b\":1}",
        "[\"\\\\ud800 is no escape\", \"\\\\\\ud83c\\udf4e\", \"\\ud83c\\udf4e\\ud83c\\udf4e\"]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t je;
        json_t *theirs = json_loads(docs[i], JANSSON_STRICT, &je);
        ck_assert_msg(theirs, "premise: jansson reads %s (%s)", docs[i], je.text);
        hf_jdoc *ours, *copy = hf_jdoc_from_json(theirs);
        struct hf_err err = { 0 };
        ck_assert_msg(hf_jdoc_parse(docs[i], strlen(docs[i]), &ours, &err) == 0, "%s: %s", docs[i], err.msg);
        ck_assert_msg(hf_jval_equal(hf_jdoc_root(ours), hf_jdoc_root(copy)), "different values for %s", docs[i]);
        hf_jdoc_free(ours);
        hf_jdoc_free(copy);
        json_decref(theirs);
    }
}
END_TEST

START_TEST(refuses_what_jansson_refuses)
{
    static const struct {
        const char *doc;
        size_t len; /* 0: strlen */
        const char *why;
    } bad[] = {
        { "", 0, "line 1, column 1: premature EOF" },
        { "{\"a\":1", 0, "premature EOF" },
        { "{\"a\":1,}", 0, "" },
        { "[1,]", 0, "" },
        { "{\"a\":1} x", 0, "trailing garbage" },
        { "{\"a\":1}{}", 0, "" },
        { "{\"a\":1}\"}", 0, "line 1, column 8: trailing garbage" },
        { "12 \"", 0, "trailing garbage" },
        { "{'a':1}", 0, "" },
        { "{\"a\":01}", 0, "" },
        { "{\"a\":NaN}", 0, "" },
        { "{\"a\":1 /* no */}", 0, "" },
        { "{\"a\":1,\"a\":2}", 0, "duplicate key \"a\"" },
        { "{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", 0, "duplicate key \"b\"" },
        { "{\"a\":\"\xff\"}", 0, "not valid UTF-8" },
        { "{\"a\":\"\xc0\xaf\"}", 0, "not valid UTF-8" },         /* overlong "/" */
        { "{\"a\":\"\xed\xa0\x80\"}", 0, "not valid UTF-8" },     /* a surrogate */
        { "{\"a\":\"\xf4\x90\x80\x80\"}", 0, "not valid UTF-8" }, /* past U+10FFFF */
        { "{\"a\":\"\xe2\x82\"}", 0, "not valid UTF-8" },         /* cut short */
        { "{\"\xff\":1}", 0, "not valid UTF-8" },
        { "{\"a\":\"x\\u0000y\"}", 0, "\\u0000" },
        { "{\"a\\u0000\":1}", 0, "\\u0000" },
        { "{\"a\":\"x\0y\"}", 11, "" },
        { "{\"a\":\"\\ud800\"}", 0, "column 7: \\ud800 is half of a surrogate pair" },
        { "{\"a\":\"\\udc00\\ud800\"}", 0, "\\udc00 is half" }, /* the wrong order */
        { "{\"a\":\"\\ud800\\u0041\"}", 0, "\\ud800 is half" },
        { "{\"a\":\"x\\ud83c\"}", 0, "\\ud83c is half" },
        { "{\"a\":\"\\x41\"}", 0, "" },
        { "{\"a\":\"tab\there\"}", 0, "" },
        { "{\"a\":9223372036854775808}", 0, "integer overflow" },
        { "{\"a\":1e400}", 0, "overflow" },
        { "{\"a\":-}", 0, "" },
        { "{\"a\":1.}", 0, "" },
        { "{\"a\":tru}", 0, "" },
        { "[1\v]", 0, "line 1, column 3: invalid char" },
        { "{\f\"a\":1}", 0, "line 1, column 2: invalid char" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].doc);
        json_error_t je;
        json_t *theirs = json_loadb(bad[i].doc, len, JANSSON_STRICT, &je);
        ck_assert_msg(!theirs, "premise: jansson refuses case %zu", i);
        hf_jdoc *ours = NULL;
        struct hf_err err = { 0 };
        ck_assert_msg(hf_jdoc_parse(bad[i].doc, len, &ours, &err) == HF_EINVAL, "case %zu accepted", i);
        ck_assert_ptr_null(ours);
        ck_assert_msg(strncmp(err.msg, "line ", 5) == 0 && strstr(err.msg, bad[i].why), "case %zu: \"%s\" lacks \"%s\"",
                      i, err.msg, bad[i].why);
    }
}
END_TEST

START_TEST(says_where)
{
    const char *doc = "{\n  \"member_id\": 1,\n  \"caf\xc3\xa9\": 2,\n  \"member_id\": 3\n}";
    struct hf_err err = { 0 };
    hf_jdoc *out;
    ck_assert_int_eq(hf_jdoc_parse(doc, strlen(doc), &out, &err), HF_EINVAL);
    ck_assert_str_eq(err.msg, "line 4, column 14: duplicate key \"member_id\"");
    const char *cut = "{\"type\":\"log.nutrition\",\n\"calories\":";
    ck_assert_int_eq(hf_jdoc_parse(cut, strlen(cut), &out, &err), HF_EINVAL);
    ck_assert_str_eq(err.msg, "line 2, column 12: premature EOF");
    const char *no_comma = "{\"a\":1\n \"b\":2}";
    ck_assert_int_eq(hf_jdoc_parse(no_comma, strlen(no_comma), &out, &err), HF_EINVAL);
    ck_assert_msg(strncmp(err.msg, "line 2, column ", 15) == 0 && strstr(err.msg, "expect ',' or '}'"), "%s", err.msg);
}
END_TEST

static char *repeat(const char *open, const char *mid, const char *close, int n)
{
    size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
    char *s = malloc((size_t)n * (lo + lc) + lm + 1), *p = s;
    for (int i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, mid, lm);
    p += lm;
    for (int i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    *p = 0;
    return s;
}

static char *members(int n)
{
    char *s = malloc((size_t)n * 16 + 3), *p = s;
    *p++ = '{';
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s\"k%d\":%d", i ? "," : "", i, i);
    strcpy(p, "}");
    return s;
}

START_TEST(bounds_the_work_of_a_hostile_body)
{
    struct hf_err err = { 0 };
    hf_jdoc *doc;
    char *deep = repeat("{\"a\":[", "1", "]}", HF_JDOC_MAX_DEPTH / 2);
    ck_assert_msg(hf_jdoc_parse(deep, strlen(deep), &doc, &err) == 0, "%s", err.msg);
    hf_jdoc_free(doc);
    free(deep);
    deep = repeat("[", "1", "]", HF_JDOC_MAX_DEPTH + 1);
    ck_assert_int_eq(hf_jdoc_parse(deep, strlen(deep), &doc, &err), HF_EINVAL);
    ck_assert_msg(strstr(err.msg, "nested deeper than 32 levels"), "%s", err.msg);
    free(deep);

    char *wide = members(HF_JDOC_MAX_MEMBERS);
    ck_assert_msg(hf_jdoc_parse(wide, strlen(wide), &doc, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(hf_jval_size(hf_jdoc_root(doc)), HF_JDOC_MAX_MEMBERS);
    ck_assert_int_eq(hf_jval_int(hf_jval_get(hf_jdoc_root(doc), "k255")), 255);
    hf_jdoc_free(doc);
    free(wide);
    wide = members(HF_JDOC_MAX_MEMBERS + 1);
    ck_assert_int_eq(hf_jdoc_parse(wide, strlen(wide), &doc, &err), HF_EINVAL);
    ck_assert_msg(strstr(err.msg, "more than 256 members"), "%s", err.msg);
    free(wide);

    /* Arrays have no such limit (a batch's own cap is the intake's), and a
     * big one spans many arena chunks. */
    static const char item[] = "[\"some text to fill the arena\",1.5]";
    char *long_array = malloc(50000 * sizeof item + 2), *p = long_array;
    for (int i = 0; i < 50000; i++)
        p += sprintf(p, "%c%s", i ? ',' : '[', item);
    strcpy(p, "]");
    ck_assert_msg(hf_jdoc_parse(long_array, strlen(long_array), &doc, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(hf_jval_size(hf_jdoc_root(doc)), 50000);
    hf_jdoc_free(doc);
    free(long_array);
}
END_TEST

START_TEST(reading_the_wrong_type_is_harmless)
{
    const char *text = "{\"s\":\"x\",\"i\":-7,\"r\":2.5,\"b\":true,\"n\":null,\"a\":[1,2]}";
    hf_jdoc *doc;
    ck_assert_int_eq(hf_jdoc_parse(text, strlen(text), &doc, NULL), 0);
    const hf_jval *root = hf_jdoc_root(doc);
    ck_assert_int_eq(hf_jval_type(hf_jval_get(root, "missing")), HF_J_NULL);
    ck_assert_int_eq(hf_jval_type(hf_jval_get(root, "n")), HF_J_NULL);
    ck_assert_ptr_null(hf_jval_str(hf_jval_get(root, "i"), NULL));
    ck_assert_int_eq(hf_jval_int(hf_jval_get(root, "r")), 0); /* a real is no integer */
    ck_assert(hf_jval_number(hf_jval_get(root, "i")) == -7.0);
    ck_assert(hf_jval_number(hf_jval_get(root, "r")) == 2.5);
    ck_assert(!hf_jval_true(hf_jval_get(root, "s")));
    ck_assert(hf_jval_true(hf_jval_get(root, "b")));
    ck_assert_uint_eq(hf_jval_size(hf_jval_get(root, "s")), 0);
    ck_assert_ptr_null(hf_jval_at(hf_jval_get(root, "a"), 2));
    ck_assert_ptr_null(hf_jval_key(hf_jval_get(root, "a"), 0)); /* arrays have no keys */
    ck_assert_ptr_null(hf_jval_get(hf_jval_get(root, "a"), "0"));
    ck_assert_str_eq(hf_jval_key(root, 5), "a");
    ck_assert_ptr_null(hf_jval_key(root, 6));
    ck_assert_ptr_null(hf_jval_get(NULL, "s"));
    hf_jdoc_free(doc);
}
END_TEST

static Suite *jdoc_suite(void)
{
    Suite *s = suite_create("hf_jdoc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, reads_what_jansson_reads);
    tcase_add_test(tc, refuses_what_jansson_refuses);
    tcase_add_test(tc, says_where);
    tcase_add_test(tc, bounds_the_work_of_a_hostile_body);
    tcase_add_test(tc, reading_the_wrong_type_is_harmless);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(jdoc_suite());
}
