/* stat_n1: the effect of an N=1 experiment (design doc 003), before versus
 * during, from a conjugate normal model with stated priors:
 *
 *   before_i ~ N(mu, sigma^2),  during_j ~ N(mu + delta, sigma^2)
 *   mu: flat prior;  delta ~ N(prior.mean, prior.sd^2), in outcome units
 *   sigma: the pooled sample SD of the two windows, taken as known (plug-in),
 *          and floored at prior.sigma_floor so constant data stay defined.
 *
 * With mu integrated out, the difference of means d = mean(during) -
 * mean(before) has likelihood N(delta, se^2), se^2 = sigma^2 (1/nb + 1/nd),
 * so the posterior of delta is normal with
 *   precision 1/v = 1/tau^2 + 1/se^2,  mean m = v (prior.mean/tau^2 + d/se^2),
 * tau = prior.sd; the 95% credible interval is m +- 1.959964 sqrt(v)
 * and P(delta > 0) = Phi(m / sqrt(v)).
 * Plug-in sigma makes the interval a little narrow for very small windows
 * (a Student-t would widen it); windows need at least 2 values each.
 * Degenerate inputs: fewer than 2 values in a window gives HF_STAT_TOO_FEW
 * with effect 0, interval [0, 0] and P(delta > 0) = 0.5. */
#ifndef HF_STAT_N1_H
#define HF_STAT_N1_H

#include <stdbool.h>

struct hf_n1_prior {
    double mean;        /* prior mean of the effect, in outcome units */
    double sd;          /* prior SD of the effect, in outcome units, > 0 */
    double sigma_floor; /* smallest sigma used, in outcome units, > 0 */
};

struct hf_n1 {
    int status; /* enum hf_stat_status */
    int n_before, n_during;
    double mean_before, mean_during;
    double diff;        /* mean_during - mean_before */
    double sigma;       /* pooled SD used (after the floor) */
    bool sigma_floored; /* the data's pooled SD was below the floor */
    double effect;      /* posterior mean of delta */
    double effect_sd;   /* posterior SD of delta */
    double ci_low, ci_high;
    double p_positive;  /* P(delta > 0 | data) */
};

void hf_n1_effect(const double *before, int nb, const double *during, int nd, const struct hf_n1_prior *prior,
                  struct hf_n1 *out);

#endif
