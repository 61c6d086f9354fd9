/* stat_linreg: least-squares line y = intercept + slope x and the test of
 * slope = 0, as scipy.stats.linregress: r, p = two-sided t-test on n-2
 * degrees of freedom, stderr = sqrt((1 - r^2) Syy / Sxx / (n-2)).
 * Degenerate inputs: n < 3 gives HF_STAT_TOO_FEW (SciPy answers p 0 or 1 at
 * n = 2); every x equal gives HF_STAT_NO_VARIATION (SciPy raises). Both with
 * slope 0 and p 1. A constant y is defined: slope 0, r 0, p 1, like SciPy. */
#ifndef HF_STAT_LINREG_H
#define HF_STAT_LINREG_H

struct hf_linreg {
    int status; /* enum hf_stat_status */
    double slope, intercept, r, p, stderr_slope;
};

void hf_linreg_fit(const double *x, const double *y, int n, struct hf_linreg *out);

#endif
