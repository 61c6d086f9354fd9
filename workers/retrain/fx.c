/* Feature engineering; see features.h. */
#include "fx.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SPAN 4000
#define LOOKBACK 31 /* days before the first log kept in the dense arrays */
#define SINCE_CAP 30

struct fx {
    int V;
    int32_t first;       /* day of dense index 0 */
    int32_t first_log;
    int span;
    uint32_t *eaten;     /* per dense day: bit v set when vocab v was eaten */
    int8_t *sym;         /* per dense day x FX_SYM */
    int8_t *phase;       /* per dense day */
    const int32_t *starts;
    int n_starts;
};

struct count {
    int name, days;
    const char *text;
};

static int cmp_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    if (x->days != y->days)
        return y->days - x->days;
    return strcmp(x->text, y->text);
}

int fx_choose_vocab(const struct fx_data *d, const char **vocab)
{
    struct count *c = calloc((size_t)(d->n_names ? d->n_names : 1), sizeof *c);
    if (!c)
        return 0;
    for (int i = 0; i < d->n_names; i++)
        c[i] = (struct count){ i, 0, d->names[i] };
    for (int t = 0; t < d->n_days; t++)
        for (int k = 0; k < d->days[t].n_ing; k++) {
            int nm = d->days[t].ing[k];
            bool dup = false; /* count a name once per day */
            for (int q = 0; q < k; q++)
                dup |= d->days[t].ing[q] == nm;
            if (!dup && nm >= 0 && nm < d->n_names)
                c[nm].days++;
        }
    qsort(c, (size_t)d->n_names, sizeof *c, cmp_count);
    int V = 0;
    for (int i = 0; i < d->n_names && V < FX_MAX_VOCAB && c[i].days >= FX_MIN_DAYS_EATEN; i++)
        vocab[V++] = c[i].text;
    free(c);
    return V;
}

void fx_free(fx *f)
{
    if (!f)
        return;
    free(f->eaten);
    free(f->sym);
    free(f->phase);
    free(f);
}

int fx_new(const struct fx_data *d, const char *const *vocab, int n_vocab, fx **out, struct hf_err *err)
{
    *out = NULL;
    if (n_vocab < 0 || n_vocab > FX_MAX_VOCAB)
        return hf_err_set(err, HF_EINVAL, false, "features: vocabulary of %d names (at most %d)", n_vocab, FX_MAX_VOCAB);
    for (int t = 1; t < d->n_days; t++)
        if (d->days[t].day <= d->days[t - 1].day)
            return hf_err_set(err, HF_EINVAL, false, "features: days are not ascending at %d", t);
    int32_t first_log = d->n_days ? d->days[0].day : 0, last = d->n_days ? d->days[d->n_days - 1].day : 0;
    if (last - first_log > MAX_SPAN)
        return hf_err_set(err, HF_EINVAL, false, "features: logs span %d days (at most %d)", last - first_log, MAX_SPAN);
    fx *f = calloc(1, sizeof *f);
    int *vmap = malloc(sizeof *vmap * (size_t)(d->n_names ? d->n_names : 1));
    if (!f || !vmap)
        goto oom;
    f->V = n_vocab;
    f->first_log = first_log;
    f->first = first_log - LOOKBACK;
    f->span = last - f->first + 2; /* through the day after the last log */
    f->starts = d->starts;
    f->n_starts = d->n_starts;
    f->eaten = calloc((size_t)f->span, sizeof *f->eaten);
    f->sym = malloc((size_t)f->span * FX_SYM);
    f->phase = malloc((size_t)f->span);
    if (!f->eaten || !f->sym || !f->phase)
        goto oom;
    memset(f->sym, -1, (size_t)f->span * FX_SYM);
    memset(f->phase, -1, (size_t)f->span);
    for (int i = 0; i < d->n_names; i++) {
        vmap[i] = -1;
        for (int v = 0; v < n_vocab; v++)
            if (strcmp(d->names[i], vocab[v]) == 0)
                vmap[i] = v;
    }
    for (int t = 0; t < d->n_days; t++) {
        const struct fx_day *dy = &d->days[t];
        int x = dy->day - f->first;
        for (int k = 0; k < dy->n_ing; k++)
            if (dy->ing[k] >= 0 && dy->ing[k] < d->n_names && vmap[dy->ing[k]] >= 0)
                f->eaten[x] |= 1u << vmap[dy->ing[k]];
        if (dy->logged)
            memcpy(f->sym + (long)x * FX_SYM, dy->sym, FX_SYM);
        f->phase[x] = dy->phase;
    }
    free(vmap);
    *out = f;
    return 0;
oom:
    free(vmap);
    fx_free(f);
    return hf_err_set(err, HF_ENOMEM, true, "out of memory");
}

int fx_width(const fx *f)
{
    return 4 * f->V + 12;
}

/* Phase of `day` from the period starts: menstrual for the first 5 days,
 * ovulation within a day of (cycle end - 14), follicular before, luteal after. */
static int phase_from_starts(const fx *f, int32_t day)
{
    int k = -1;
    for (int i = 0; i < f->n_starts; i++)
        if (f->starts[i] <= day)
            k = i;
    if (k < 0 || day - f->starts[k] > 60)
        return -1;
    int32_t len = k + 1 < f->n_starts ? f->starts[k + 1] - f->starts[k] : 28;
    int32_t d = day - f->starts[k], ov = len - 14;
    if (d < 5)
        return 0;
    if (d >= ov - 1 && d <= ov + 1)
        return 2;
    return d < ov ? 1 : 3;
}

/* Mean of symptom s over dense days [a, b); *n gets how many were logged. */
static double sym_mean(const fx *f, int s, int a, int b, int *n)
{
    double sum = 0;
    *n = 0;
    for (int x = a < 0 ? 0 : a; x < b; x++) {
        int v = f->sym[(long)x * FX_SYM + s];
        if (v >= 0) {
            sum += v;
            (*n)++;
        }
    }
    return *n ? sum / *n : 0;
}

void fx_row(const fx *f, int32_t day, double *out)
{
    int x = day - f->first;
    if (x < 0)
        x = 0;
    if (x >= f->span)
        x = f->span - 1;
    double *o = out;
    for (int v = 0; v < f->V; v++) {
        uint32_t bit = 1u << v;
        int last3 = 0, in7 = 0, since = SINCE_CAP;
        for (int k = 1; k <= 3 && x - k >= 0; k++)
            last3 |= (f->eaten[x - k] & bit) != 0;
        for (int k = 0; k <= 6 && x - k >= 0; k++)
            in7 += (f->eaten[x - k] & bit) != 0;
        for (int k = 0; k < SINCE_CAP && x - k >= 0; k++)
            if (f->eaten[x - k] & bit) {
                since = k;
                break;
            }
        *o++ = (f->eaten[x] & bit) != 0;
        *o++ = last3;
        *o++ = in7;
        *o++ = since;
    }
    int32_t d = f->first + x;
    int wd = (int)(((d % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    *o++ = wd;
    *o++ = wd >= 5;
    *o++ = d - f->first_log;
    int ph = f->phase[x] >= 0 ? f->phase[x] : phase_from_starts(f, d);
    for (int q = 0; q < 4; q++)
        *o++ = ph == q;
    for (int s = 0; s < FX_SYM; s++) {
        int n;
        double m = sym_mean(f, s, x - 7, x, &n);
        if (!n)
            m = sym_mean(f, s, 0, x, &n);
        *o++ = n ? m : 2.5;
    }
    int n1, n2;
    double recent = sym_mean(f, FX_BLOATING, x - 3, x, &n1), before = sym_mean(f, FX_BLOATING, x - 7, x - 3, &n2);
    *o++ = n1 && n2 ? recent - before : 0;
}
