/* stat_welch: Welch's unequal-variance t-test, two-sided, as
 * scipy.stats.ttest_ind(x, y, equal_var=False): t = (mean x - mean y) /
 * sqrt(vx/nx + vy/ny) with sample variances, Welch-Satterthwaite degrees of
 * freedom, p = 2 P(T > |t|).
 * Degenerate inputs: a sample with fewer than 2 values gives HF_STAT_TOO_FEW;
 * both variances 0 gives HF_STAT_NO_VARIATION. Both with t 0 and p 1
 * (SciPy: NaN, or +-inf when the constant samples differ). */
#ifndef HF_STAT_WELCH_H
#define HF_STAT_WELCH_H

struct hf_welch {
    int status; /* enum hf_stat_status */
    double t;
    double df;
    double p;
    double mean_x, mean_y;
};

void hf_welch_test(const double *x, int nx, const double *y, int ny, struct hf_welch *out);

#endif
