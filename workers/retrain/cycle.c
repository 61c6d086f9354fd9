/* The cycle forecaster; see cycle.h and README.md. */
#include "cycle.h"

#include <gsl/gsl_fit.h>
#include <math.h>
#include <stdlib.h>

#define MIN_LEN 15
#define MAX_LEN 60
#define RECENCY 0.8
#define ORIGINS 6
#define AR_MIN 5
#define SIGMA_PRIOR 2.5
#define SIGMA_PRIOR_WEIGHT 2.0
#define Z90 1.645
#define LUTEAL_DEFAULT 14.0

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_reading(const void *a, const void *b)
{
    const struct cycle_reading *x = a, *y = b;
    return (x->day > y->day) - (x->day < y->day);
}

/* The newest CYCLE_MAX_STARTS distinct starts, ascending. */
static int sorted_starts(const struct cycle_input *in, int32_t *out)
{
    int32_t *tmp = malloc(sizeof *tmp * (size_t)(in->n_starts ? in->n_starts : 1));
    if (!tmp)
        return -1;
    for (int i = 0; i < in->n_starts; i++)
        tmp[i] = in->starts[i];
    qsort(tmp, (size_t)in->n_starts, sizeof *tmp, cmp_i32);
    int m = 0;
    for (int i = 0; i < in->n_starts; i++)
        if (m == 0 || tmp[i] != tmp[m - 1])
            tmp[m++] = tmp[i];
    int first = m > CYCLE_MAX_STARTS ? m - CYCLE_MAX_STARTS : 0;
    for (int i = first; i < m; i++)
        out[i - first] = tmp[i];
    free(tmp);
    return m - first;
}

static double wmean(const double *L, int n)
{
    double s = 0, w = 0, wi = 1;
    for (int i = n - 1; i >= 0; i--, wi *= RECENCY) {
        s += wi * L[i];
        w += wi;
    }
    return s / w;
}

bool cycle_ar1_fit(const double *x, int n, double *c, double *phi)
{
    if (n < 3)
        return false;
    bool varies = false;
    for (int i = 1; i < n - 1; i++)
        varies |= x[i] != x[0];
    if (!varies)
        return false;
    double cov00, cov01, cov11, sumsq;
    /* regress x[1..n-1] on x[0..n-2] */
    if (gsl_fit_linear(x, 1, x + 1, 1, (size_t)(n - 1), c, phi, &cov00, &cov01, &cov11, &sumsq) != 0)
        return false;
    return isfinite(*c) && isfinite(*phi);
}

/* Model B's prediction from lengths L[0..n-1]: NAN when it cannot be fitted. */
static double ar_predict(const double *L, int n, double *c_out, double *phi_out)
{
    double c, phi;
    if (n < AR_MIN || !cycle_ar1_fit(L, n, &c, &phi))
        return NAN;
    if (phi > 0.95 || phi < -0.95) {
        /* Keep the process stationary: clamp phi, refit c to the mean. */
        double mean = 0;
        for (int i = 0; i < n; i++)
            mean += L[i];
        mean /= n;
        phi = phi > 0 ? 0.95 : -0.95;
        c = mean * (1 - phi);
    }
    if (c_out) {
        *c_out = c;
        *phi_out = phi;
    }
    return c + phi * L[n - 1];
}

static void weights(double mae_a, double mae_b, double *wa, double *wb)
{
    if (isnan(mae_b)) {
        *wa = 1;
        *wb = 0;
        return;
    }
    if (isnan(mae_a)) {
        *wa = *wb = 0.5;
        return;
    }
    double a = 1 / (mae_a + 0.5), b = 1 / (mae_b + 0.5);
    *wa = a / (a + b);
    *wb = b / (a + b);
}

/* Mean absolute error of e[from, to) ignoring NANs; NAN when none. */
static double mae_of(const double *e, int from, int to)
{
    double s = 0;
    int k = 0;
    for (int i = from < 0 ? 0 : from; i < to; i++)
        if (!isnan(e[i])) {
            s += fabs(e[i]);
            k++;
        }
    return k ? s / k : NAN;
}

static int usable_lengths(const int32_t *st, int ns, double *L)
{
    int n = 0;
    for (int i = 1; i < ns; i++) {
        int32_t g = st[i] - st[i - 1];
        if (g >= MIN_LEN && g <= MAX_LEN)
            L[n++] = g;
    }
    return n;
}

/* Readings in [from, to), one per day (the mean of that day's), ascending. */
static int day_series(const struct cycle_reading *r, int n, int32_t from, int32_t to, struct cycle_reading *out)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (r[i].day >= from && r[i].day < to && isfinite(r[i].value))
            out[m++] = r[i];
    qsort(out, (size_t)m, sizeof *out, cmp_reading);
    int k = 0;
    for (int i = 0; i < m;) {
        int j = i;
        double s = 0;
        while (j < m && out[j].day == out[i].day)
            s += out[j++].value;
        out[k].day = out[i].day;
        out[k++].value = s / (j - i);
        i = j;
    }
    return k;
}

bool cycle_detect_ovulation(const struct cycle_input *in, int32_t from, int32_t to, int32_t *day, const char **method)
{
    bool found = false;
    for (int i = 0; i < in->n_lh; i++)
        if (in->lh[i].day >= from && in->lh[i].day < to && in->lh[i].value >= 0.5 && (!found || in->lh[i].day + 1 < *day)) {
            *day = in->lh[i].day + 1;
            found = true;
        }
    if (found) {
        *method = "lh";
        return true;
    }
    if (in->n_bbt < 9)
        return false;
    struct cycle_reading *t = malloc(sizeof *t * (size_t)in->n_bbt);
    if (!t)
        return false;
    int m = day_series(in->bbt, in->n_bbt, from, to, t);
    for (int j = 6; j + 2 < m && !found; j++) {
        double base = t[j - 6].value;
        for (int k = j - 5; k < j; k++)
            base = t[k].value > base ? t[k].value : base;
        if (t[j].value > base && t[j + 1].value > base && t[j + 2].value >= base + 0.2) {
            *day = t[j].day - 1;
            found = true;
        }
    }
    free(t);
    if (found)
        *method = "bbt";
    return found;
}

int cycle_lengths(const struct cycle_input *in, double *L)
{
    int32_t st[CYCLE_MAX_STARTS];
    int ns = sorted_starts(in, st);
    return ns < 0 ? -1 : usable_lengths(st, ns, L);
}

double cycle_predict_length(const struct cycle_model *m, const double *L, int n)
{
    double len = m->n_lengths ? m->wmean : 28.0;
    if (m->has_ar && n >= 1)
        len = m->w_mean * m->wmean + m->w_ar * (m->ar_c + m->ar_phi * L[n - 1]);
    if (!isfinite(len) || len < MIN_LEN || len > MAX_LEN)
        len = len < MIN_LEN ? MIN_LEN : MAX_LEN;
    return len;
}

int cycle_fit(const struct cycle_input *in, struct cycle_model *m, struct hf_err *err)
{
    int32_t st[CYCLE_MAX_STARTS];
    double L[CYCLE_MAX_STARTS], ea[CYCLE_MAX_STARTS], eb[CYCLE_MAX_STARTS], ee[CYCLE_MAX_STARTS];
    int ns = sorted_starts(in, st);
    if (ns < 0)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (ns == 0)
        return hf_err_set(err, HF_ENOTFOUND, false, "no period start logged");
    *m = (struct cycle_model){ .mae_mean = NAN, .mae_ar = NAN, .mae = NAN, .luteal = LUTEAL_DEFAULT };
    int n = m->n_lengths = usable_lengths(st, ns, L);

    /* One-step-ahead errors at every origin i (predicting L[i] from L[0..i-1]). */
    for (int i = 0; i < n; i++) {
        ea[i] = i >= 1 ? wmean(L, i) - L[i] : NAN;
        eb[i] = ar_predict(L, i, NULL, NULL) - L[i];
        ee[i] = NAN;
        if (i < 1)
            continue;
        double wa, wb;
        weights(mae_of(ea, i - ORIGINS, i), mae_of(eb, i - ORIGINS, i), &wa, &wb);
        if (isnan(eb[i])) {
            wa = 1;
            wb = 0;
        }
        ee[i] = wa * ea[i] + (wb > 0 ? wb * eb[i] : 0);
    }
    m->mae_mean = mae_of(ea, n - ORIGINS, n);
    m->mae_ar = mae_of(eb, n - ORIGINS, n);
    m->mae = mae_of(ee, n - ORIGINS, n);
    double ss = 0;
    for (int i = n - ORIGINS < 0 ? 0 : n - ORIGINS; i < n; i++)
        if (!isnan(ee[i])) {
            ss += ee[i] * ee[i];
            m->n_errors++;
        }
    double prior = n >= 2 ? SIGMA_PRIOR : 2 * SIGMA_PRIOR;
    m->sigma = sqrt((ss + SIGMA_PRIOR_WEIGHT * prior * prior) / (m->n_errors + SIGMA_PRIOR_WEIGHT));

    m->wmean = n ? wmean(L, n) : 28.0;
    m->has_ar = !isnan(ar_predict(L, n, &m->ar_c, &m->ar_phi));
    if (!m->has_ar)
        m->ar_c = m->ar_phi = 0;
    weights(m->mae_mean, m->has_ar ? m->mae_ar : NAN, &m->w_mean, &m->w_ar);

    double lsum = 0;
    for (int i = ns - 1; i >= 1 && m->n_luteal < ORIGINS; i--) {
        int32_t g = st[i] - st[i - 1], ov;
        const char *how;
        if (g < MIN_LEN || g > MAX_LEN || !cycle_detect_ovulation(in, st[i - 1], st[i], &ov, &how))
            continue;
        int32_t lut = st[i] - ov;
        if (lut >= 9 && lut <= 18) {
            lsum += lut;
            m->n_luteal++;
        }
    }
    if (m->n_luteal)
        m->luteal = lsum / m->n_luteal;
    return 0;
}

int cycle_forecast(const struct cycle_model *m, const struct cycle_input *in, struct cycle_forecast *out,
                   struct hf_err *err)
{
    int32_t st[CYCLE_MAX_STARTS];
    double L[CYCLE_MAX_STARTS];
    int ns = sorted_starts(in, st);
    if (ns < 0)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (ns == 0)
        return hf_err_set(err, HF_ENOTFOUND, false, "no period start logged");
    double len = cycle_predict_length(m, L, usable_lengths(st, ns, L));
    int32_t last = st[ns - 1];
    int32_t half = (int32_t)lround(Z90 * m->sigma);
    *out = (struct cycle_forecast){ .length = len, .next_start = last + (int32_t)lround(len) };
    out->lo = out->next_start - half;
    out->hi = out->next_start + half;
    int32_t ov;
    if (cycle_detect_ovulation(in, last, last + MAX_LEN, &ov, &out->ovulation_method)) {
        out->ovulation = ov;
    } else {
        out->ovulation = out->next_start - (int32_t)lround(m->luteal);
        out->ovulation_method = m->n_luteal ? "luteal" : "calendar";
    }
    out->fertile_start = out->ovulation - 5;
    out->fertile_end = out->ovulation + 1;
    return 0;
}
