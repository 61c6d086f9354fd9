/* stat_corr: Pearson correlation and its two forms the insights use.
 *
 *  - hf_corr_pearson is scipy.stats.pearsonr: r, and the two-sided p-value
 *    of t = r sqrt((n-2)/(1-r^2)) on n-2 degrees of freedom (SciPy writes
 *    it as a beta distribution; the same number).
 *  - the point-biserial r (scipy.stats.pointbiserialr) is Pearson's r with
 *    the group as 0/1: hf_corr_point_biserial.
 *  - hf_corr_lag pairs a daily exposure with an outcome k days later.
 * Degenerate inputs: n < 3 gives HF_STAT_TOO_FEW (SciPy answers r = +-1,
 * p = 1 at n = 2, NaN below); a constant x or y gives HF_STAT_NO_VARIATION
 * (SciPy: NaN). Both with r 0 and p 1. */
#ifndef HF_STAT_CORR_H
#define HF_STAT_CORR_H

#include <stdint.h>

struct hf_corr {
    int status; /* enum hf_stat_status */
    int n;      /* pairs used */
    double r;
    double p;
};

/* x[n], y[n]: finite values (borrowed). */
void hf_corr_pearson(const double *x, const double *y, int n, struct hf_corr *out);

/* group[i] is 1 when y[i] belongs to the group, 0 otherwise; other codes
 * make it plain Pearson. */
void hf_corr_point_biserial(const double *group, const double *y, int n, struct hf_corr *out);

/* Correlation of exposure on day t with outcome on day t + lag, over the
 * days where both are known: exposure[i] is 0/1 or negative for "unknown",
 * outcome[i] NaN for "unknown", both indexed by consecutive days 0..days-1.
 * scratch needs room for 2 * days doubles (caller's, so a caller running
 * many lags allocates once). */
void hf_corr_lag(const int8_t *exposure, const double *outcome, int days, int lag, double *scratch,
                 struct hf_corr *out);

#endif
