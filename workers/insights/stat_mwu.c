#include "stat_mwu.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

#include "hf_err.h"
#include "stat.h"

/* SciPy's rule for method='auto' (scipy/stats/_mannwhitneyu.py, 1.11). */
#define EXACT_MAX_N 8

struct obs {
    double v;
    int first; /* 1 when the value belongs to x */
};

static int obs_cmp(const void *a, const void *b)
{
    double x = ((const struct obs *)a)->v, y = ((const struct obs *)b)->v;
    return (x > y) - (x < y);
}

/* P(U <= k) under the null for samples of m and n values (m <= n), by the
 * recurrence f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u) (the largest value is
 * an x, beating all n y's, or a y): additions only, so no cancellation, and
 * only u <= k is needed. f[j] holds f(j, n', .) while n' grows to n.
 * Returns -1 when out of memory. */
static double exact_cdf(int m, int n, int k)
{
    size_t w = (size_t)k + 1;
    double *f = calloc((size_t)(m + 1) * w, sizeof *f);
    if (!f)
        return -1;
    for (int j = 0; j <= m; j++)
        f[(size_t)j * w] = 1; /* U = 0: every x below every y, one way */
    for (int nn = 1; nn <= n; nn++)
        for (int j = 1; j <= m; j++)
            for (int u = k; u >= nn; u--) /* f[j] still holds f(j, nn-1, .) */
                f[(size_t)j * w + (size_t)u] += f[(size_t)(j - 1) * w + (size_t)(u - nn)];
    double below = 0, total = 1;
    for (int u = 0; u <= k; u++)
        below += f[(size_t)m * w + (size_t)u];
    for (int i = 1; i <= m; i++)
        total = total * (n + i) / i; /* C(n + m, m) arrangements in all */
    free(f);
    return below / total;
}

int hf_mwu_test(const double *x, int nx, const double *y, int ny, struct hf_mwu *out)
{
    *out = (struct hf_mwu){ .status = HF_STAT_TOO_FEW, .u = 0, .p = 1 };
    if (nx < 1 || ny < 1)
        return 0;
    int n = nx + ny;
    struct obs *o = malloc((size_t)n * sizeof *o);
    if (!o)
        return HF_ENOMEM;
    for (int i = 0; i < nx; i++)
        o[i] = (struct obs){ x[i], 1 };
    for (int i = 0; i < ny; i++)
        o[nx + i] = (struct obs){ y[i], 0 };
    qsort(o, (size_t)n, sizeof *o, obs_cmp);
    double r1 = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && o[j + 1].v == o[i].v)
            j++;
        double t = j - i + 1, rank = (i + j) / 2.0 + 1; /* mid-rank of positions i..j */
        ties += t * t * t - t;
        for (int k = i; k <= j; k++)
            if (o[k].first)
                r1 += rank;
        i = j + 1;
    }
    free(o);
    double u1 = r1 - nx * (nx + 1.0) / 2, u2 = (double)nx * ny - u1, umax = u1 > u2 ? u1 : u2;
    out->u = u1;
    out->status = HF_STAT_OK;
    if ((nx <= EXACT_MAX_N || ny <= EXACT_MAX_N) && ties == 0) {
        int m = nx < ny ? nx : ny, big = nx < ny ? ny : nx;
        /* P(U >= umax) = P(U <= m n - umax) by symmetry. */
        double p = exact_cdf(m, big, (int)((double)m * big - umax));
        if (p < 0)
            return HF_ENOMEM;
        out->exact = true;
        out->p = fmin(2 * p, 1);
        return 0;
    }
    double s = sqrt((double)nx * ny / 12 * ((n + 1) - ties / ((double)n * (n - 1))));
    if (!(s > 0)) { /* every value equal; SciPy's z is -inf, its p clipped to 1 */
        out->status = HF_STAT_NO_VARIATION;
        out->p = 1;
        return 0;
    }
    out->z = (umax - (double)nx * ny / 2 - 0.5) / s;
    out->p = fmin(2 * gsl_cdf_ugaussian_Q(out->z), 1);
    return 0;
}
