#include "stat_linreg.h"

#include <math.h>

#include "stat.h"

void hf_linreg_fit(const double *x, const double *y, int n, struct hf_linreg *out)
{
    *out = (struct hf_linreg){ .status = HF_STAT_TOO_FEW, .p = 1 };
    if (n < 3)
        return;
    struct hf_stat_sums s;
    hf_stat_sums(x, y, n, &s);
    if (!(s.sxx > 0)) {
        out->status = HF_STAT_NO_VARIATION;
        return;
    }
    double r = s.syy > 0 ? fmax(-1, fmin(1, s.sxy / sqrt(s.sxx * s.syy))) : 0;
    out->status = HF_STAT_OK;
    out->slope = s.sxy / s.sxx;
    out->intercept = s.my - out->slope * s.mx;
    out->r = r;
    out->p = hf_stat_r_p2(r, n);
    out->stderr_slope = sqrt((1 - r * r) * s.syy / s.sxx / (n - 2));
}
