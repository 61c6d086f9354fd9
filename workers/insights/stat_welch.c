#include "stat_welch.h"

#include <math.h>

#include "stat.h"

void hf_welch_test(const double *x, int nx, const double *y, int ny, struct hf_welch *out)
{
    *out = (struct hf_welch){ .status = HF_STAT_TOO_FEW, .t = 0, .df = 0, .p = 1 };
    out->mean_x = hf_stat_mean(x, nx);
    out->mean_y = hf_stat_mean(y, ny);
    if (nx < 2 || ny < 2)
        return;
    double a = hf_stat_var(x, nx, out->mean_x) / nx, b = hf_stat_var(y, ny, out->mean_y) / ny;
    if (!(a + b > 0)) {
        out->status = HF_STAT_NO_VARIATION;
        return;
    }
    out->status = HF_STAT_OK;
    out->t = (out->mean_x - out->mean_y) / sqrt(a + b);
    out->df = (a + b) * (a + b) / (a * a / (nx - 1) + b * b / (ny - 1));
    out->p = hf_stat_t_p2(out->t, out->df);
}
