/* stat: conventions shared by the insights pool's statistics modules
 * (stat_mwu, stat_corr, stat_anova, stat_welch, stat_linreg, stat_n1).
 *
 * Every test fills a plain result struct whose `status` says whether the
 * numbers mean anything. Inputs that make a statistic undefined (too few
 * values, every value equal) never yield NaN: the result carries a status
 * other than HF_STAT_OK and the documented placeholder numbers (usually
 * statistic 0 and p = 1, "no evidence of a difference"). Callers pass finite
 * values only; the data layer drops NaN and missing fields before. */
#ifndef HF_STAT_H
#define HF_STAT_H

enum hf_stat_status {
    HF_STAT_OK = 0,
    HF_STAT_TOO_FEW = 1,      /* a group is empty or smaller than the test needs */
    HF_STAT_NO_VARIATION = 2, /* a variance the test divides by is zero */
};

/* Turns off GSL's default error handler, which aborts the process on a
 * range error (an underflowing tail probability is such an "error"). Call
 * once at start, before any other hf_stat function; idempotent. */
void hf_stat_init(void);

/* "ok", "too_few", "no_variation". */
const char *hf_stat_status_name(int status);

/* Bonferroni: min(1, p * m); m < 1 counts as 1. */
double hf_stat_bonferroni(double p, int m);

/* Two-sided p-value of Student's t with df degrees of freedom:
 * 2 * P(T > |t|) = I_{df/(df+t^2)}(df/2, 1/2). df > 0. */
double hf_stat_t_p2(double t, double df);

/* Two-sided p-value of a correlation r over n pairs (t-test on n-2 degrees
 * of freedom; 0 when |r| = 1). n >= 3. */
double hf_stat_r_p2(double r, int n);

/* Means and centred sums of squares and products of n pairs, two-pass. */
struct hf_stat_sums {
    double mx, my, sxx, syy, sxy;
};
void hf_stat_sums(const double *x, const double *y, int n, struct hf_stat_sums *out);

/* Mean and sample variance (n - 1 denominator; 0 when n < 2), two-pass. */
double hf_stat_mean(const double *x, int n);
double hf_stat_var(const double *x, int n, double mean);

#endif
