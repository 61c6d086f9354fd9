#include "stat.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

void hf_stat_init(void)
{
    gsl_set_error_handler_off();
}

const char *hf_stat_status_name(int status)
{
    switch (status) {
    case HF_STAT_OK:
        return "ok";
    case HF_STAT_TOO_FEW:
        return "too_few";
    default:
        return "no_variation";
    }
}

double hf_stat_bonferroni(double p, int m)
{
    double q = p * (m < 1 ? 1 : m);
    return q > 1 ? 1 : q;
}

double hf_stat_t_p2(double t, double df)
{
    if (isinf(t))
        return 0;
    gsl_sf_result r = { 0, 0 };
    /* The arguments are always in the domain; the only failure left is an
     * underflow (|t| enormous), which leaves 0: the answer. */
    (void)gsl_sf_beta_inc_e(df / 2, 0.5, df / (df + t * t), &r);
    return isfinite(r.val) ? fmin(fmax(r.val, 0), 1) : 0;
}

double hf_stat_mean(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n > 0 ? s / n : 0;
}

double hf_stat_var(const double *x, int n, double mean)
{
    if (n < 2)
        return 0;
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (x[i] - mean) * (x[i] - mean);
    return s / (n - 1);
}

double hf_stat_r_p2(double r, int n)
{
    double df = n - 2;
    return fabs(r) >= 1 ? 0 : hf_stat_t_p2(r * sqrt(df / ((1 - r) * (1 + r))), df);
}

void hf_stat_sums(const double *x, const double *y, int n, struct hf_stat_sums *out)
{
    *out = (struct hf_stat_sums){ hf_stat_mean(x, n), hf_stat_mean(y, n), 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        double dx = x[i] - out->mx, dy = y[i] - out->my;
        out->sxx += dx * dx;
        out->syy += dy * dy;
        out->sxy += dx * dy;
    }
}
