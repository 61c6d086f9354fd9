/* The insights pool's statistics (workers/insights/stat_*.c) against
 * tests/vectors/insights/vectors.json, whose expected values SciPy computed
 * once (make_vectors.py beside it; the command is in its README): every
 * number to 1e-6 relative. Then each degenerate input and its defined
 * answer (no NaN, no crash). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "stat.h"
#include "stat_anova.h"
#include "stat_corr.h"
#include "stat_linreg.h"
#include "stat_mwu.h"
#include "stat_n1.h"
#include "stat_welch.h"
#include "unit_util.h"

static json_t *vectors;

static void load_vectors(void)
{
    hf_stat_init();
    json_error_t e;
    vectors = json_load_file(HF_SOURCE_DIR "/tests/vectors/insights/vectors.json", 0, &e);
    ck_assert_msg(vectors != NULL, "tests/vectors/insights/vectors.json: %s (line %d)", e.text, e.line);
}

static void free_vectors(void)
{
    json_decref(vectors);
    vectors = NULL;
}

/* Relative 1e-6; an expected 0 must come out within 1e-12. */
#define CLOSE(got, want, what, name)                                                                          \
    do {                                                                                                      \
        double g_ = (got), w_ = (want);                                                                       \
        ck_assert_msg(isfinite(g_) && (fabs(g_ - w_) <= 1e-6 * fmax(fabs(g_), fabs(w_)) || fabs(g_ - w_) <= 1e-12), \
                      "%s: %s = %.17g, SciPy %.17g", name, what, g_, w_);                                     \
    } while (0)

/* The JSON array as doubles (caller frees); *n its length. */
static double *nums(const json_t *a, int *n)
{
    *n = (int)json_array_size(a);
    double *v = malloc(sizeof *v * (size_t)(*n ? *n : 1));
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < *n; i++)
        v[i] = json_number_value(json_array_get(a, (size_t)i));
    return v;
}

static double num(const json_t *c, const char *key)
{
    const json_t *v = json_object_get(c, key);
    ck_assert_msg(json_is_number(v), "vector has no number %s", key);
    return json_number_value(v);
}

START_TEST(mwu_matches_scipy)
{
    const json_t *cases = json_object_get(vectors, "mwu");
    ck_assert_int_ge(json_array_size(cases), 10);
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        int nx, ny;
        double *x = nums(json_object_get(c, "x"), &nx), *y = nums(json_object_get(c, "y"), &ny);
        struct hf_mwu r;
        ck_assert_int_eq(hf_mwu_test(x, nx, y, ny, &r), 0);
        CLOSE(r.u, num(c, "u"), "U", name);
        CLOSE(r.p, num(c, "p"), "p", name);
        ck_assert_msg(r.exact == (strcmp(json_string_value(json_object_get(c, "method")), "exact") == 0),
                      "%s: exact is %d", name, r.exact);
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(pearson_and_point_biserial_match_scipy)
{
    static const char *const kinds[] = { "pearson", "pointbiserial" };
    for (int k = 0; k < 2; k++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(vectors, kinds[k]), i, c)
        {
            const char *name = json_string_value(json_object_get(c, "name"));
            int nx, ny;
            double *x = nums(json_object_get(c, k ? "group" : "x"), &nx), *y = nums(json_object_get(c, "y"), &ny);
            ck_assert_int_eq(nx, ny);
            struct hf_corr r;
            if (k)
                hf_corr_point_biserial(x, y, nx, &r);
            else
                hf_corr_pearson(x, y, nx, &r);
            ck_assert_int_eq(r.status, HF_STAT_OK);
            CLOSE(r.r, num(c, "r"), "r", name);
            CLOSE(r.p, num(c, "p"), "p", name);
            free(x);
            free(y);
        }
    }
}
END_TEST

START_TEST(anova_matches_scipy)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(vectors, "anova"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const json_t *groups = json_object_get(c, "groups");
        int k = (int)json_array_size(groups), sizes[8];
        double *g[8];
        ck_assert_int_le(k, 8);
        for (int j = 0; j < k; j++)
            g[j] = nums(json_array_get(groups, (size_t)j), &sizes[j]);
        struct hf_anova r;
        hf_anova_oneway((const double *const *)g, sizes, k, &r);
        ck_assert_int_eq(r.status, HF_STAT_OK);
        CLOSE(r.f, num(c, "f"), "F", name);
        CLOSE(r.p, num(c, "p"), "p", name);
        for (int j = 0; j < k; j++)
            free(g[j]);
    }
}
END_TEST

START_TEST(welch_matches_scipy)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(vectors, "welch"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        int nx, ny;
        double *x = nums(json_object_get(c, "x"), &nx), *y = nums(json_object_get(c, "y"), &ny);
        struct hf_welch r;
        hf_welch_test(x, nx, y, ny, &r);
        ck_assert_int_eq(r.status, HF_STAT_OK);
        CLOSE(r.t, num(c, "t"), "t", name);
        CLOSE(r.p, num(c, "p"), "p", name);
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(linregress_matches_scipy)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(vectors, "linregress"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        int nx, ny;
        double *x = nums(json_object_get(c, "x"), &nx), *y = nums(json_object_get(c, "y"), &ny);
        struct hf_linreg r;
        hf_linreg_fit(x, y, nx, &r);
        ck_assert_int_eq(r.status, HF_STAT_OK);
        CLOSE(r.slope, num(c, "slope"), "slope", name);
        CLOSE(r.intercept, num(c, "intercept"), "intercept", name);
        CLOSE(r.r, num(c, "r"), "r", name);
        CLOSE(r.p, num(c, "p"), "p", name);
        CLOSE(r.stderr_slope, num(c, "stderr"), "stderr", name);
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(n1_matches_scipy)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(vectors, "n1"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        int nb, nd;
        double *b = nums(json_object_get(c, "before"), &nb), *d = nums(json_object_get(c, "during"), &nd);
        struct hf_n1_prior prior = { num(c, "prior_mean"), num(c, "prior_sd"), num(c, "sigma_floor") };
        struct hf_n1 r;
        hf_n1_effect(b, nb, d, nd, &prior, &r);
        ck_assert_int_eq(r.status, HF_STAT_OK);
        CLOSE(r.sigma, num(c, "sigma"), "sigma", name);
        CLOSE(r.effect, num(c, "effect"), "effect", name);
        CLOSE(r.effect_sd, num(c, "effect_sd"), "effect_sd", name);
        CLOSE(r.ci_low, num(c, "ci_low"), "ci_low", name);
        CLOSE(r.ci_high, num(c, "ci_high"), "ci_high", name);
        CLOSE(r.p_positive, num(c, "p_positive"), "p_positive", name);
        free(b);
        free(d);
    }
}
END_TEST

/* ---------- degenerate inputs: a defined answer each ---------- */

START_TEST(mwu_degenerate)
{
    const double a[] = { 2, 2, 2 }, b[] = { 2, 2 }, one[] = { 1 };
    struct hf_mwu r;
    ck_assert_int_eq(hf_mwu_test(a, 3, b, 0, &r), 0); /* one group empty */
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert(r.u == 0 && r.p == 1);
    ck_assert_int_eq(hf_mwu_test(a, 0, b, 0, &r), 0);
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert_int_eq(hf_mwu_test(a, 3, b, 2, &r), 0); /* all equal: SciPy's own answer */
    ck_assert_int_eq(r.status, HF_STAT_NO_VARIATION);
    ck_assert(r.u == 3 && r.p == 1);
    ck_assert_int_eq(hf_mwu_test(one, 1, a, 1, &r), 0); /* n = 1 each, no tie: exact, p = 1 */
    ck_assert_int_eq(r.status, HF_STAT_OK);
    ck_assert(r.exact && r.p == 1 && r.u == 0);
}
END_TEST

START_TEST(corr_degenerate)
{
    const double x[] = { 1, 2, 3, 4 }, c[] = { 5, 5, 5, 5 };
    struct hf_corr r;
    hf_corr_pearson(x, c, 4, &r); /* constant y */
    ck_assert_int_eq(r.status, HF_STAT_NO_VARIATION);
    ck_assert(r.r == 0 && r.p == 1);
    hf_corr_pearson(c, x, 4, &r); /* constant x: a group empty in point-biserial terms */
    ck_assert_int_eq(r.status, HF_STAT_NO_VARIATION);
    hf_corr_pearson(x, x, 2, &r);
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert(r.r == 0 && r.p == 1);
    hf_corr_pearson(x, x, 4, &r); /* perfect: p 0, not NaN */
    ck_assert_int_eq(r.status, HF_STAT_OK);
    ck_assert(r.r == 1 && r.p == 0);
    /* lag: unknown days are skipped; lag past the data leaves too few pairs */
    const int8_t ex[] = { 1, -1, 0, 1, 0, 1 };
    const double out[] = { NAN, 3, 1, NAN, 2, 4 };
    double scratch[12];
    /* lag 1: t=0 (1, 3), t=1 unknown exposure, t=2 unknown outcome, t=3 (1, 2),
     * t=4 (0, 4): r = -1 / sqrt(2/3 * 2) = -0.8660254 */
    hf_corr_lag(ex, out, 6, 1, scratch, &r);
    ck_assert_int_eq(r.status, HF_STAT_OK);
    ck_assert_int_eq(r.n, 3);
    ck_assert_double_eq_tol(r.r, -0.8660254037844386, 1e-12);
    hf_corr_lag(ex, out, 6, 5, scratch, &r); /* only t=0 reaches a known day */
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
}
END_TEST

START_TEST(anova_degenerate)
{
    const double a[] = { 1, 1, 1 }, b[] = { 3, 3 }, c[] = { 2 };
    const double *g[] = { a, b, c };
    int sizes[] = { 3, 2, 1 };
    struct hf_anova r;
    hf_anova_oneway(g, sizes, 1, &r); /* one group */
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    hf_anova_oneway(g, sizes, 3, &r); /* constant groups that differ */
    ck_assert_int_eq(r.status, HF_STAT_NO_VARIATION);
    ck_assert(r.f == 0 && r.p == 1);
    int empty[] = { 3, 0, 1 };
    hf_anova_oneway(g, empty, 3, &r);
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    const double *singles[] = { c, c };
    int ones[] = { 1, 1 };
    hf_anova_oneway(singles, ones, 2, &r); /* n = 1 per group: no within df */
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert(r.f == 0 && r.p == 1);
}
END_TEST

START_TEST(welch_and_linreg_degenerate)
{
    const double x[] = { 4, 4, 4 }, y[] = { 4, 4 }, one[] = { 1 };
    struct hf_welch w;
    hf_welch_test(x, 3, y, 2, &w);
    ck_assert_int_eq(w.status, HF_STAT_NO_VARIATION);
    ck_assert(w.t == 0 && w.p == 1);
    hf_welch_test(x, 3, one, 1, &w);
    ck_assert_int_eq(w.status, HF_STAT_TOO_FEW);
    hf_welch_test(x, 3, one, 0, &w); /* empty: means stay finite */
    ck_assert_int_eq(w.status, HF_STAT_TOO_FEW);
    ck_assert(isfinite(w.mean_y) && w.p == 1);
    struct hf_linreg l;
    hf_linreg_fit(x, x, 3, &l); /* every x equal */
    ck_assert_int_eq(l.status, HF_STAT_NO_VARIATION);
    ck_assert(l.slope == 0 && l.p == 1);
    hf_linreg_fit(one, one, 1, &l);
    ck_assert_int_eq(l.status, HF_STAT_TOO_FEW);
    const double t[] = { 0, 1, 2 }, line[] = { 1, 3, 5 };
    hf_linreg_fit(t, line, 3, &l); /* exact line: p 0, stderr 0 */
    ck_assert_int_eq(l.status, HF_STAT_OK);
    ck_assert(l.slope == 2 && l.p == 0 && l.stderr_slope == 0);
}
END_TEST

START_TEST(n1_degenerate)
{
    const struct hf_n1_prior prior = { 0, 1, 0.05 };
    const double b[] = { 3 }, d[] = { 3, 3, 3 };
    struct hf_n1 r;
    hf_n1_effect(b, 1, d, 3, &prior, &r);
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert(r.effect == 0 && r.p_positive == 0.5 && r.ci_low == 0 && r.ci_high == 0);
    hf_n1_effect(b, 0, d, 0, &prior, &r); /* both empty */
    ck_assert_int_eq(r.status, HF_STAT_TOO_FEW);
    ck_assert(isfinite(r.mean_before) && isfinite(r.diff));
    hf_n1_effect(d, 3, d, 3, &prior, &r); /* all equal: floored sigma, no effect */
    ck_assert_int_eq(r.status, HF_STAT_OK);
    ck_assert(r.sigma_floored && r.sigma == 0.05 && r.effect == 0 && r.p_positive == 0.5);
    ck_assert(r.ci_low < 0 && r.ci_high > 0);
}
END_TEST

START_TEST(bonferroni_and_t)
{
    ck_assert(hf_stat_bonferroni(0.01, 4) == 0.04);
    ck_assert(hf_stat_bonferroni(0.4, 4) == 1);
    ck_assert(hf_stat_bonferroni(0.3, 0) == 0.3);
    ck_assert(hf_stat_t_p2(0, 5) == 1);
    ck_assert(hf_stat_t_p2(1e200, 5) == 0); /* underflow: 0, not an abort */
    ck_assert(hf_stat_t_p2(INFINITY, 3) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("insight_stats");
    TCase *tc = tcase_create("scipy_vectors");
    tcase_add_checked_fixture(tc, load_vectors, free_vectors);
    tcase_add_test(tc, mwu_matches_scipy);
    tcase_add_test(tc, pearson_and_point_biserial_match_scipy);
    tcase_add_test(tc, anova_matches_scipy);
    tcase_add_test(tc, welch_matches_scipy);
    tcase_add_test(tc, linregress_matches_scipy);
    tcase_add_test(tc, n1_matches_scipy);
    suite_add_tcase(s, tc);
    TCase *dg = tcase_create("degenerate");
    tcase_add_checked_fixture(dg, hf_stat_init, NULL);
    tcase_add_test(dg, mwu_degenerate);
    tcase_add_test(dg, corr_degenerate);
    tcase_add_test(dg, anova_degenerate);
    tcase_add_test(dg, welch_and_linreg_degenerate);
    tcase_add_test(dg, n1_degenerate);
    tcase_add_test(dg, bonferroni_and_t);
    suite_add_tcase(s, dg);
    return unit_run(s);
}
