/* stat_anova: one-way analysis of variance, as scipy.stats.f_oneway:
 * F = (SSB / (k-1)) / (SSW / (N-k)) and p = P(F(k-1, N-k) > F).
 * Sums are computed around each group's mean (two-pass), not as SciPy's
 * raw sums of squares; the two agree to rounding.
 * Degenerate inputs: fewer than 2 groups, an empty group, or N - k < 1 give
 * HF_STAT_TOO_FEW; SSW = 0 (every group constant) gives HF_STAT_NO_VARIATION.
 * Both with F 0 and p 1 (SciPy: NaN, or F = inf and p = 0 when the constant
 * groups differ). */
#ifndef HF_STAT_ANOVA_H
#define HF_STAT_ANOVA_H

struct hf_anova {
    int status; /* enum hf_stat_status */
    double f;
    double p;
    int df_between, df_within;
};

/* groups[i] has sizes[i] finite values (borrowed), i < k. */
void hf_anova_oneway(const double *const *groups, const int *sizes, int k, struct hf_anova *out);

#endif
