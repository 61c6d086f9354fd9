/* Unit tests of common/hf_ratelimit: the bucket arithmetic (exact at the
 * limit, refill, retry-after) and the local fallback used when Redis is away
 * (no Redis here: redis NULL). The shared Redis bucket is exercised by the
 * integration tests 0200 and 0202. */
#include <check.h>

#include "hf_ratelimit.h"
#include "unit_util.h"

START_TEST(step_is_exact_at_the_limit)
{
    double tokens = 100;
    int64_t stamp = 1000, retry = -1;
    for (int i = 0; i < 100; i++)
        ck_assert_msg(hf_ratelimit_step(&tokens, &stamp, 1000, 100, 60000, 1, &retry), "take %d of 100", i + 1);
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 1000, 100, 60000, 1, &retry)); /* the 101st */
    ck_assert_int_eq(retry, 600);                                                /* one token: 60 s / 100 */
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 1599, 100, 60000, 1, &retry)); /* 599 ms later: not yet */
    ck_assert_int_eq(retry, 1);
    ck_assert(hf_ratelimit_step(&tokens, &stamp, 1600, 100, 60000, 1, &retry)); /* 600 ms: one token */
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 1600, 100, 60000, 1, &retry));
}
END_TEST

START_TEST(step_refills_to_the_limit_only)
{
    double tokens = 0;
    int64_t stamp = 0, retry;
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 0, 60, 60000, 1, &retry));
    ck_assert(hf_ratelimit_step(&tokens, &stamp, 3600000, 60, 60000, 60, &retry)); /* an hour idle: 60, not 3600 */
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 3600000, 60, 60000, 1, &retry));
    /* a clock going backwards refills nothing and breaks nothing */
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 1000, 60, 60000, 1, &retry));
    ck_assert_int_eq(stamp, 3600000);
    /* more than the bucket holds can never pass; retry says how far away */
    tokens = 60;
    ck_assert(!hf_ratelimit_step(&tokens, &stamp, 3600000, 60, 60000, 120, &retry));
    ck_assert_int_eq(retry, 60000);
    ck_assert(tokens == 60); /* a refusal takes nothing */
}
END_TEST

static int take1(hf_ratelimit *rl, const char *name, int64_t limit, int64_t window_ms, int64_t n,
                 struct hf_ratelimit_result *res, struct hf_err *err)
{
    const struct hf_ratelimit_bucket b = { name, limit, window_ms, n };
    return hf_ratelimit_take(rl, NULL, &b, 1, res, err);
}

START_TEST(local_fallback_limits)
{
    struct hf_err err = { 0 };
    hf_ratelimit *rl = NULL;
    ck_assert_int_eq(hf_ratelimit_new(1, &rl, &err), 0);
    struct hf_ratelimit_result res;
    ck_assert_int_eq(take1(rl, "hf:rl:client:99", 60, 60000, 60, &res, &err), 0);
    ck_assert(res.allowed && res.local);
    ck_assert_int_eq(take1(rl, "hf:rl:client:99", 60, 60000, 1, &res, &err), 0);
    ck_assert(!res.allowed);
    ck_assert_int_ge(res.retry_after_ms, 900);
    ck_assert_int_le(res.retry_after_ms, 1000);
    ck_assert_int_eq(take1(rl, "hf:rl:client:100", 60, 60000, 1, &res, &err), 0);
    ck_assert(res.allowed); /* budgets are per bucket */
    ck_assert_int_eq(take1(rl, "hf:rl:client:100", 60, 60000, 0, &res, &err), HF_EINVAL);
    ck_assert_int_eq(take1(rl, "hf:rl:client:100", 0, 60000, 1, &res, &err), HF_EINVAL);
    hf_ratelimit_free(rl);
    hf_ratelimit_free(NULL);
}
END_TEST

START_TEST(local_share_divides_the_limit)
{
    struct hf_err err = { 0 };
    hf_ratelimit *rl = NULL;
    ck_assert_int_eq(hf_ratelimit_new(4, &rl, &err), 0);
    struct hf_ratelimit_result res;
    int allowed = 0;
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(take1(rl, "hf:rl:api:usda", 100, 3600000, 1, &res, &err), 0);
        allowed += res.allowed;
    }
    ck_assert_int_eq(allowed, 25); /* four processes share 100 */
    hf_ratelimit_free(rl);
}
END_TEST

/* An app's budget and a person's are taken together or not at all: the
 * person at their limit costs the app nothing, and the other way round. */
START_TEST(a_take_is_all_or_nothing)
{
    struct hf_err err = { 0 };
    hf_ratelimit *rl = NULL;
    ck_assert_int_eq(hf_ratelimit_new(1, &rl, &err), 0);
    struct hf_ratelimit_result res;
    struct hf_ratelimit_bucket both[] = { { "hf:rl:client:7", 10, 60000, 1 }, { "hf:rl:user:70:write", 2, 60000, 1 } };
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(hf_ratelimit_take(rl, NULL, both, 2, &res, &err), 0);
        ck_assert(res.allowed);
        ck_assert_int_eq(res.refused, -1);
    }
    ck_assert_int_eq(hf_ratelimit_take(rl, NULL, both, 2, &res, &err), 0);
    ck_assert(!res.allowed);
    ck_assert_int_eq(res.refused, 1); /* the person, not the app */
    ck_assert_int_ge(res.retry_after_ms, 29000);
    /* the app still has its 8: the refusal took nothing from it */
    ck_assert_int_eq(take1(rl, "hf:rl:client:7", 10, 60000, 8, &res, &err), 0);
    ck_assert(res.allowed);
    ck_assert_int_eq(hf_ratelimit_take(rl, NULL, both, 2, &res, &err), 0);
    ck_assert(!res.allowed);
    ck_assert_int_eq(res.refused, 0); /* now both are short; the first is named */
    /* the same bucket twice takes twice, never once */
    struct hf_ratelimit_bucket twice[] = { { "hf:rl:client:8", 3, 60000, 2 }, { "hf:rl:client:8", 3, 60000, 2 } };
    ck_assert_int_eq(hf_ratelimit_take(rl, NULL, twice, 2, &res, &err), 0);
    ck_assert(!res.allowed);
    ck_assert_int_eq(take1(rl, "hf:rl:client:8", 3, 60000, 3, &res, &err), 0);
    ck_assert(res.allowed); /* and the refused take put back what it had stepped */
    ck_assert_int_eq(hf_ratelimit_take(rl, NULL, both, 0, &res, &err), HF_EINVAL);
    ck_assert_int_eq(hf_ratelimit_take(rl, NULL, both, HF_RATELIMIT_MAX_BUCKETS + 1, &res, &err), HF_EINVAL);
    hf_ratelimit_free(rl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("ratelimit");
    tcase_add_test(tc, step_is_exact_at_the_limit);
    tcase_add_test(tc, step_refills_to_the_limit_only);
    tcase_add_test(tc, local_fallback_limits);
    tcase_add_test(tc, local_share_divides_the_limit);
    tcase_add_test(tc, a_take_is_all_or_nothing);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
