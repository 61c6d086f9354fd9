/* Unit tests of common/hf_breaker: the circuit breaker's states with 002's
 * numbers (5 failures, 30 s, 2 successes) on a fake clock, and the token
 * bucket's refill. */
#include <check.h>

#include "hf_breaker.h"
#include "unit_util.h"

static hf_breaker *b002(void)
{
    struct hf_breaker_conf c = { 5, 30000, 2 };
    hf_breaker *b = hf_breaker_new(&c);
    ck_assert_ptr_nonnull(b);
    return b;
}

START_TEST(opens_after_five_in_a_row)
{
    hf_breaker *b = b002();
    for (int i = 0; i < 4; i++) {
        ck_assert(hf_breaker_allow(b, i));
        hf_breaker_failure(b, i);
    }
    ck_assert(hf_breaker_allow(b, 10));
    hf_breaker_success(b, 10); /* resets the count: failures must be in a row */
    for (int i = 0; i < 4; i++) {
        ck_assert(hf_breaker_allow(b, 20 + i));
        hf_breaker_failure(b, 20 + i);
    }
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_CLOSED);
    ck_assert(hf_breaker_allow(b, 30));
    hf_breaker_failure(b, 30);
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_OPEN);
    ck_assert_str_eq(hf_breaker_state_name(hf_breaker_state(b)), "open");
    ck_assert(!hf_breaker_allow(b, 31));
    ck_assert(!hf_breaker_allow(b, 30 + 29999));
    hf_breaker_free(b);
}
END_TEST

START_TEST(half_open_trial)
{
    hf_breaker *b = b002();
    for (int i = 0; i < 5; i++) {
        hf_breaker_allow(b, 0);
        hf_breaker_failure(b, 0);
    }
    ck_assert(hf_breaker_allow(b, 30000)); /* the trial */
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_HALF_OPEN);
    ck_assert(!hf_breaker_allow(b, 30001)); /* one trial at a time */
    hf_breaker_success(b, 30002);
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_HALF_OPEN);
    ck_assert(hf_breaker_allow(b, 30003));
    hf_breaker_success(b, 30004);
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_CLOSED);
    ck_assert(hf_breaker_allow(b, 30005));
    hf_breaker_success(b, 30005);
    /* failing in half-open opens it again, for a full recovery time */
    for (int i = 0; i < 5; i++) {
        hf_breaker_allow(b, 40000);
        hf_breaker_failure(b, 40000);
    }
    ck_assert(hf_breaker_allow(b, 70000));
    hf_breaker_failure(b, 70001);
    ck_assert_int_eq(hf_breaker_state(b), HF_BREAKER_OPEN);
    ck_assert(!hf_breaker_allow(b, 100000));
    ck_assert(hf_breaker_allow(b, 100001));
    hf_breaker_free(b);
}
END_TEST

START_TEST(late_failure_while_open)
{
    hf_breaker *b = b002();
    for (int i = 0; i < 5; i++) {
        hf_breaker_allow(b, 0);
        hf_breaker_failure(b, 0);
    }
    hf_breaker_failure(b, 10000); /* a call admitted before it opened */
    ck_assert(!hf_breaker_allow(b, 30000));
    ck_assert(hf_breaker_allow(b, 40000));
    hf_breaker_free(b);
}
END_TEST

START_TEST(bad_conf)
{
    struct hf_breaker_conf c = { 0, 1, 1 };
    ck_assert_ptr_null(hf_breaker_new(&c));
    ck_assert_ptr_null(hf_breaker_new(NULL));
    hf_breaker_free(NULL);
    ck_assert_ptr_null(hf_bucket_new(0, 1000, 0));
    ck_assert_ptr_null(hf_bucket_new(1, 0, 0));
    hf_bucket_free(NULL);
}
END_TEST

START_TEST(bucket)
{
    /* Open Food Facts: 100 a minute */
    hf_bucket *k = hf_bucket_new(100, 60000, 0);
    ck_assert_ptr_nonnull(k);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(hf_bucket_take(k, 0), 0);
    int64_t wait = hf_bucket_take(k, 0);
    ck_assert_int_ge(wait, 600);
    ck_assert_int_le(wait, 601);
    ck_assert_int_gt(hf_bucket_take(k, 599), 0);
    ck_assert_int_eq(hf_bucket_take(k, 600), 0);
    ck_assert_int_gt(hf_bucket_take(k, 600), 0);
    /* never more than a window's worth stored */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(hf_bucket_take(k, 10000000), 0);
    ck_assert_int_gt(hf_bucket_take(k, 10000000), 0);
    hf_bucket_free(k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = tcase_create("breaker");
    tcase_add_test(tc, opens_after_five_in_a_row);
    tcase_add_test(tc, half_open_trial);
    tcase_add_test(tc, late_failure_while_open);
    tcase_add_test(tc, bad_conf);
    tcase_add_test(tc, bucket);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
