#include "stat_anova.h"

#include <gsl/gsl_cdf.h>

#include "stat.h"

void hf_anova_oneway(const double *const *groups, const int *sizes, int k, struct hf_anova *out)
{
    *out = (struct hf_anova){ .status = HF_STAT_TOO_FEW, .f = 0, .p = 1 };
    int total = 0;
    double sum = 0;
    for (int g = 0; g < k; g++) {
        if (sizes[g] < 1)
            return;
        total += sizes[g];
        for (int i = 0; i < sizes[g]; i++)
            sum += groups[g][i];
    }
    if (k < 2 || total - k < 1)
        return;
    double grand = sum / total, ssb = 0, ssw = 0;
    for (int g = 0; g < k; g++) {
        double m = hf_stat_mean(groups[g], sizes[g]);
        ssb += sizes[g] * (m - grand) * (m - grand);
        ssw += hf_stat_var(groups[g], sizes[g], m) * (sizes[g] - 1);
    }
    out->df_between = k - 1;
    out->df_within = total - k;
    if (!(ssw > 0)) {
        out->status = HF_STAT_NO_VARIATION;
        return;
    }
    out->status = HF_STAT_OK;
    out->f = (ssb / out->df_between) / (ssw / out->df_within);
    out->p = gsl_cdf_fdist_Q(out->f, out->df_between, out->df_within);
}
