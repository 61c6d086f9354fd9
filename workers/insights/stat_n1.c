#include "stat_n1.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

#include "stat.h"

void hf_n1_effect(const double *before, int nb, const double *during, int nd, const struct hf_n1_prior *prior,
                  struct hf_n1 *out)
{
    *out = (struct hf_n1){ .status = HF_STAT_TOO_FEW, .n_before = nb, .n_during = nd, .p_positive = 0.5 };
    out->mean_before = hf_stat_mean(before, nb);
    out->mean_during = hf_stat_mean(during, nd);
    out->diff = out->mean_during - out->mean_before;
    if (nb < 2 || nd < 2)
        return;
    double pooled = ((nb - 1) * hf_stat_var(before, nb, out->mean_before) +
                     (nd - 1) * hf_stat_var(during, nd, out->mean_during)) /
                    (nb + nd - 2);
    double sigma = sqrt(pooled);
    out->sigma_floored = !(sigma >= prior->sigma_floor);
    out->sigma = out->sigma_floored ? prior->sigma_floor : sigma;
    double se2 = out->sigma * out->sigma * (1.0 / nb + 1.0 / nd);
    double tau2 = prior->sd * prior->sd;
    double v = 1 / (1 / tau2 + 1 / se2);
    out->status = HF_STAT_OK;
    out->effect = v * (prior->mean / tau2 + out->diff / se2);
    out->effect_sd = sqrt(v);
    double z = gsl_cdf_ugaussian_Pinv(0.975);
    out->ci_low = out->effect - z * out->effect_sd;
    out->ci_high = out->effect + z * out->effect_sd;
    out->p_positive = gsl_cdf_ugaussian_P(out->effect / out->effect_sd);
}
