#include "stat_corr.h"

#include <math.h>

#include "stat.h"

void hf_corr_pearson(const double *x, const double *y, int n, struct hf_corr *out)
{
    *out = (struct hf_corr){ .status = HF_STAT_TOO_FEW, .n = n, .r = 0, .p = 1 };
    if (n < 3)
        return;
    struct hf_stat_sums s;
    hf_stat_sums(x, y, n, &s);
    if (!(s.sxx > 0) || !(s.syy > 0)) {
        out->status = HF_STAT_NO_VARIATION;
        return;
    }
    out->status = HF_STAT_OK;
    out->r = fmax(-1, fmin(1, s.sxy / sqrt(s.sxx * s.syy)));
    out->p = hf_stat_r_p2(out->r, n);
}

void hf_corr_point_biserial(const double *group, const double *y, int n, struct hf_corr *out)
{
    hf_corr_pearson(group, y, n, out);
}

void hf_corr_lag(const int8_t *exposure, const double *outcome, int days, int lag, double *scratch,
                 struct hf_corr *out)
{
    double *x = scratch, *y = scratch + days;
    int n = 0;
    for (int t = 0; t + lag < days; t++)
        if (exposure[t] >= 0 && !isnan(outcome[t + lag])) {
            x[n] = exposure[t];
            y[n] = outcome[t + lag];
            n++;
        }
    hf_corr_pearson(x, y, n, out);
}
