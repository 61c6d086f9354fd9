/* stat_mwu: the Mann-Whitney U test, two-sided, as SciPy 1.11's
 * scipy.stats.mannwhitneyu(x, y) computes it with its defaults
 * (use_continuity=True, alternative='two-sided', method='auto'):
 *
 *  - U is U1 = R1 - nx(nx+1)/2, R1 the sum of x's mid-ranks in the pooled
 *    sample (SciPy's returned statistic);
 *  - 'auto' picks the exact null distribution when at least one sample has
 *    8 values or fewer AND there are no ties; otherwise the normal
 *    approximation with tie correction and continuity correction;
 *  - exact: p = 2 P(U >= max(U1, U2)), clipped to 1;
 *  - normal: z = (max(U1, U2) - nx ny / 2 - 0.5) / s with
 *    s = sqrt(nx ny / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1)))), p = 2 P(Z > z),
 *    clipped to 1.
 * Degenerate inputs: an empty sample gives HF_STAT_TOO_FEW, U 0, p 1 (SciPy
 * returns NaN); every value equal gives HF_STAT_NO_VARIATION, U = nx ny / 2,
 * p 1 (what SciPy returns too). */
#ifndef HF_STAT_MWU_H
#define HF_STAT_MWU_H

#include <stdbool.h>

struct hf_mwu {
    int status;   /* enum hf_stat_status */
    double u;     /* U1, the statistic of the first sample */
    double p;
    double z;     /* normal approximation's z; 0 when exact */
    bool exact;   /* the exact distribution was used */
};

/* x[nx], y[ny]: finite values (borrowed). Returns 0 or HF_ENOMEM; *out is
 * filled whenever 0 is returned. */
int hf_mwu_test(const double *x, int nx, const double *y, int ny, struct hf_mwu *out);

#endif
