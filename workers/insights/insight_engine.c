/* The analyses of one person's data (insight.h); rules in README.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"
#include "hf_time.h"
#include "insight_internal.h"
#include "stat.h"
#include "stat_anova.h"
#include "stat_corr.h"
#include "stat_linreg.h"
#include "stat_mwu.h"
#include "stat_n1.h"
#include "stat_welch.h"

#define ALPHA 0.05
#define TOP 5
#define MIN_TIMES_EATEN 4 /* "consumed more than 3 times" (002), counted in days */
#define MAX_LAG 3
/* A lag correlation needs this many days with both the food known and the
 * symptom logged: over 3 days r is +-1 by accident and its p-value ~0, which
 * reported "quinoa is followed by less energy, p < 1e-300" after a week of
 * demo data. 14, as 002 asks before any model learns from a person's logs. */
#define MIN_LAG_PAIRS 14
/* Weekday/weekend and trend results are kept in the JSON from any size, but
 * told to the person (the summary) only from this many logged days: a week
 * gave "energy averages 1.00 on weekends (n = 2) and 2.75 on weekdays (n = 4),
 * p = 0.035", which is noise however small p is. */
#define MIN_DAYS_TO_TELL 14
#define SEASON_MIN_DAYS 91 /* "more than 3 months of data" */
#define BASELINE_MIN_DAYS 14
#define DAY_US (86400LL * 1000000)

/* Dense per-day arrays over the analysed span (index t = day - first). */
struct series {
    int32_t first;
    int span;
    double *sym[INS_N_SYMPTOMS]; /* daily mean, NAN when not logged */
    double *bio[INS_N_BIOMETRICS];
    int8_t *phase;  /* logged, else derived from periods, else -1 */
    uint8_t *food;  /* an ingredient list is known for the day */
    uint8_t *eat;   /* [ingredient * span + t] */
    int *eat_days;  /* days each ingredient was eaten */
    double *buf[4]; /* scratch, span doubles each */
    void *block;
};

/* ---------- small helpers ---------- */

static void put(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

static void put_int(json_t *o, const char *key, long long v)
{
    json_object_set_new(o, key, json_integer(v));
}

/* p-values as a person reads them: 0.034, 0.0021 -> "0.002", 2.3e-05, 0 -> "1e-300 or less". */
static const char *fmt_p(double p, char *buf, size_t n)
{
    if (p >= 0.001)
        snprintf(buf, n, "%.3f", p);
    else if (p > 0)
        snprintf(buf, n, "%.1e", p);
    else
        snprintf(buf, n, "1e-300 or less"); /* reads "p = 1e-300 or less", not "p = < 1e-300" */
    return buf;
}

/* "sleep_quality" -> "sleep quality"; capitalised on request. */
static const char *label(const char *name, bool capital, char *buf, size_t n)
{
    snprintf(buf, n, "%s", name);
    for (char *c = buf; *c; c++)
        if (*c == '_')
            *c = ' ';
    if (capital && buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
    return buf;
}

static void date_text(int32_t day, char out[16])
{
    hf_time_format_date((int64_t)day * DAY_US, out, 16);
}

/* Month 1-12 of a day since the epoch (Hinnant's civil_from_days). */
static int month_of(int32_t day)
{
    int64_t z = (int64_t)day + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    return (int)(mp < 10 ? mp + 3 : mp - 9);
}

static const char *const month_names[12] = { "January", "February", "March",     "April",   "May",      "June",
                                             "July",    "August",   "September", "October", "November", "December" };

static const char *const lag_words[MAX_LAG + 1] = { "on the same day", "one day later", "two days later",
                                                    "three days later" };

/* Appends the text to the item and, when `summary` is non-NULL, to it. */
static void say(json_t *item, json_t *summary, const char *text)
{
    json_object_set_new(item, "text", json_string(text));
    if (summary)
        json_array_append_new(summary, json_string(text));
}

/* ---------- the series ---------- */

static void series_free(struct series *s)
{
    free(s->block);
    free(s->eat);
}

/* Phase from logged periods where none was logged: a 28-day model counted
 * from the latest period start at most 40 days back. */
static int8_t derived_phase(const hf_insight_data *d, int32_t day)
{
    const struct ins_period *best = NULL;
    for (int i = 0; i < d->n_periods; i++)
        if (d->periods[i].start <= day && (!best || d->periods[i].start > best->start))
            best = &d->periods[i];
    if (!best || day - best->start >= 40)
        return -1;
    int32_t since = day - best->start, end = best->end != INT32_MIN ? best->end : best->start + 4;
    if (day <= end)
        return 0;
    return since < 13 ? 1 : since < 16 ? 2 : 3;
}

static int series_build(const hf_insight_data *d, struct series *s)
{
    memset(s, 0, sizeof *s);
    if (d->n_days == 0)
        return 0;
    int32_t last = d->days[d->n_days - 1].day;
    s->first = d->days[0].day;
    if (last - s->first + 1 > INS_MAX_SPAN)
        s->first = last - INS_MAX_SPAN + 1;
    s->span = last - s->first + 1;
    size_t n = (size_t)s->span, ni = (size_t)d->n_ingredients;
    size_t doubles = (INS_N_SYMPTOMS + INS_N_BIOMETRICS + 4) * n;
    s->block = malloc(doubles * sizeof(double) + ni * sizeof(int) + 2 * n);
    s->eat = calloc(ni ? ni * n : 1, 1);
    if (!s->block || !s->eat)
        return HF_ENOMEM;
    double *p = s->block;
    for (int i = 0; i < INS_N_SYMPTOMS; i++, p += n)
        s->sym[i] = p;
    for (int i = 0; i < INS_N_BIOMETRICS; i++, p += n)
        s->bio[i] = p;
    for (int i = 0; i < 4; i++, p += n)
        s->buf[i] = p;
    s->eat_days = (int *)p;
    s->phase = (int8_t *)(s->eat_days + ni);
    s->food = (uint8_t *)(s->phase + n);
    for (size_t i = 0; i < (INS_N_SYMPTOMS + INS_N_BIOMETRICS) * n; i++)
        ((double *)s->block)[i] = NAN;
    memset(s->eat_days, 0, ni * sizeof(int));
    memset(s->food, 0, n);
    for (int t = 0; t < s->span; t++)
        s->phase[t] = derived_phase(d, s->first + t);
    for (int i = 0; i < d->n_days; i++) {
        const struct ins_day *day = &d->days[i];
        if (day->day < s->first)
            continue;
        int t = day->day - s->first;
        for (int k = 0; k < INS_N_SYMPTOMS; k++)
            if (day->sym_n[k])
                s->sym[k][t] = day->sym_sum[k] / day->sym_n[k];
        for (int k = 0; k < INS_N_BIOMETRICS; k++)
            if (day->bio_n[k])
                s->bio[k][t] = day->bio_sum[k] / day->bio_n[k];
        if (day->phase >= 0)
            s->phase[t] = day->phase;
        s->food[t] = day->food;
    }
    for (int i = 0; i < d->n_eats; i++) {
        const struct ins_eat *e = &d->eats[i];
        if (e->day < s->first)
            continue;
        uint8_t *cell = &s->eat[(size_t)e->ingredient * n + (size_t)(e->day - s->first)];
        s->eat_days[e->ingredient] += !*cell;
        *cell = 1;
    }
    return 0;
}

/* ---------- triggers: ingredient days against the others ---------- */

struct finding {
    int ingredient, symptom, lag;
    int n_with, n_without;
    double mean_with, mean_without, u, p, r;
    bool exact, defined;
    double lag_r[MAX_LAG + 1];
    int lag_status[MAX_LAG + 1];
};

static int by_abs_r(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (fabs(x->r) != fabs(y->r))
        return fabs(x->r) < fabs(y->r) ? 1 : -1;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    if (x->ingredient != y->ingredient)
        return x->ingredient - y->ingredient;
    return x->symptom - y->symptom;
}

static int candidates(const hf_insight_data *d, const struct series *s)
{
    int n = 0;
    for (int i = 0; i < d->n_ingredients; i++)
        n += s->eat_days[i] >= MIN_TIMES_EATEN;
    return n;
}

static json_t *triggers(const hf_insight_data *d, const struct series *s, json_t *summary)
{
    struct finding *f = malloc(sizeof *f * (size_t)(d->n_ingredients * INS_N_SYMPTOMS + 1));
    json_t *out = json_object(), *items = json_array();
    if (!f || !out || !items) {
        free(f);
        json_decref(out);
        json_decref(items);
        return NULL;
    }
    double *with = s->buf[0], *without = s->buf[1], *y = s->buf[2], *g = s->buf[3];
    int m = 0;
    for (int i = 0; i < d->n_ingredients; i++) {
        if (s->eat_days[i] < MIN_TIMES_EATEN)
            continue;
        const uint8_t *eat = &s->eat[(size_t)i * (size_t)s->span];
        for (int k = 0; k < INS_N_SYMPTOMS; k++) {
            int nw = 0, no = 0, n = 0;
            for (int t = 0; t < s->span; t++) {
                if (!s->food[t] || isnan(s->sym[k][t]))
                    continue;
                if (eat[t])
                    with[nw++] = s->sym[k][t];
                else
                    without[no++] = s->sym[k][t];
                y[n] = s->sym[k][t];
                g[n++] = eat[t];
            }
            if (nw == 0 || no == 0)
                continue; /* one group empty: nothing to compare, not a test */
            struct hf_mwu mw;
            struct hf_corr pb;
            if (hf_mwu_test(with, nw, without, no, &mw) != 0)
                continue;
            hf_corr_point_biserial(g, y, n, &pb);
            f[m++] = (struct finding){ .defined = mw.status == HF_STAT_OK && pb.status == HF_STAT_OK,
                                       .ingredient = i,
                                         .symptom = k,
                                         .n_with = nw,
                                         .n_without = no,
                                         .mean_with = hf_stat_mean(with, nw),
                                         .mean_without = hf_stat_mean(without, no),
                                         .u = mw.u,
                                         .p = mw.p,
                                         .r = pb.r,
                                         .exact = mw.exact };
        }
    }
    int kept = 0;
    for (int j = 0; j < m; j++)
        if (f[j].defined && hf_stat_bonferroni(f[j].p, m) < ALPHA)
            f[kept++] = f[j];
    qsort(f, (size_t)kept, sizeof *f, by_abs_r);
    for (int j = 0; j < kept && j < TOP; j++) {
        const struct finding *x = &f[j];
        char ing[96], sym[32], p[24], pa[24], text[512];
        bool more = x->mean_with > x->mean_without;
        json_t *it = json_object();
        json_object_set_new(it, "ingredient", json_string(d->ingredients[x->ingredient]));
        json_object_set_new(it, "symptom", json_string(ins_symptoms[x->symptom]));
        json_object_set_new(it, "worse", json_boolean(more != ins_symptom_good[x->symptom]));
        put_int(it, "n_with", x->n_with);
        put_int(it, "n_without", x->n_without);
        put(it, "mean_with", x->mean_with);
        put(it, "mean_without", x->mean_without);
        put(it, "u", x->u);
        json_object_set_new(it, "method", json_string(x->exact ? "exact" : "normal approximation"));
        put(it, "p", x->p);
        put(it, "p_adjusted", hf_stat_bonferroni(x->p, m));
        put(it, "r", x->r);
        snprintf(text, sizeof text,
                 "%s goes with %s %s: %.2f on days with it (n = %d) against %.2f without (n = %d); Mann-Whitney "
                 "U = %.1f, p = %s (%s after Bonferroni correction for %d tests), point-biserial r = %.2f.",
                 label(d->ingredients[x->ingredient], true, ing, sizeof ing), more ? "more" : "less",
                 label(ins_symptoms[x->symptom], false, sym, sizeof sym), x->mean_with, x->n_with, x->mean_without,
                 x->n_without, x->u, fmt_p(x->p, p, sizeof p), fmt_p(hf_stat_bonferroni(x->p, m), pa, sizeof pa), m,
                 x->r);
        say(it, summary, text);
        json_array_append_new(items, it);
    }
    put_int(out, "ingredients_tested", candidates(d, s));
    put_int(out, "tests", m);
    put(out, "alpha", ALPHA);
    json_object_set_new(out, "items", items);
    free(f);
    return out;
}

/* ---------- lag effects: ingredient on day t, symptom on day t + lag ---------- */

static json_t *lag_effects(const hf_insight_data *d, const struct series *s, json_t *summary)
{
    struct finding *f = malloc(sizeof *f * (size_t)(d->n_ingredients * INS_N_SYMPTOMS + 1));
    int8_t *exposure = malloc((size_t)s->span + 1);
    json_t *out = json_object(), *items = json_array();
    if (!f || !exposure || !out || !items) {
        free(f);
        free(exposure);
        json_decref(out);
        json_decref(items);
        return NULL;
    }
    int m = 0;
    for (int i = 0; i < d->n_ingredients; i++) {
        if (s->eat_days[i] < MIN_TIMES_EATEN)
            continue;
        for (int t = 0; t < s->span; t++)
            exposure[t] = s->food[t] ? (int8_t)s->eat[(size_t)i * (size_t)s->span + (size_t)t] : -1;
        for (int k = 0; k < INS_N_SYMPTOMS; k++) {
            struct finding x = { .ingredient = i, .symptom = k, .lag = -1 };
            for (int lag = 0; lag <= MAX_LAG; lag++) {
                struct hf_corr c;
                hf_corr_lag(exposure, s->sym[k], s->span, lag, s->buf[0], &c);
                x.lag_r[lag] = c.r;
                x.lag_status[lag] = c.status;
                if (c.status == HF_STAT_OK && c.n >= MIN_LAG_PAIRS && (x.lag < 0 || fabs(c.r) > fabs(x.r))) {
                    x.lag = lag;
                    x.r = c.r;
                    x.p = c.p;
                    x.n_with = c.n;
                }
            }
            if (x.lag >= 0)
                f[m++] = x;
        }
    }
    int tests = m * (MAX_LAG + 1), kept = 0;
    for (int j = 0; j < m; j++)
        if (hf_stat_bonferroni(f[j].p, tests) < ALPHA)
            f[kept++] = f[j];
    qsort(f, (size_t)kept, sizeof *f, by_abs_r);
    for (int j = 0; j < kept && j < TOP; j++) {
        const struct finding *x = &f[j];
        char ing[96], sym[32], p[24], pa[24], text[512];
        json_t *it = json_object(), *lags = json_array();
        json_object_set_new(it, "ingredient", json_string(d->ingredients[x->ingredient]));
        json_object_set_new(it, "symptom", json_string(ins_symptoms[x->symptom]));
        put_int(it, "lag_days", x->lag);
        json_object_set_new(it, "delayed", json_boolean(x->lag > 0));
        put(it, "r", x->r);
        put(it, "p", x->p);
        put(it, "p_adjusted", hf_stat_bonferroni(x->p, tests));
        put_int(it, "n", x->n_with);
        for (int lag = 0; lag <= MAX_LAG; lag++)
            json_array_append_new(lags, x->lag_status[lag] == HF_STAT_OK ? json_real(x->lag_r[lag]) : json_null());
        json_object_set_new(it, "r_by_lag", lags);
        snprintf(text, sizeof text,
                 "%s is followed by %s %s %s: r = %.2f, p = %s (%s after Bonferroni correction for %d tests), "
                 "over %d days.",
                 label(d->ingredients[x->ingredient], true, ing, sizeof ing), x->r > 0 ? "more" : "less",
                 label(ins_symptoms[x->symptom], false, sym, sizeof sym), lag_words[x->lag], x->r,
                 fmt_p(x->p, p, sizeof p), fmt_p(hf_stat_bonferroni(x->p, tests), pa, sizeof pa), tests, x->n_with);
        say(it, summary, text);
        json_array_append_new(items, it);
    }
    put_int(out, "tests", tests);
    put(out, "alpha", ALPHA);
    put_int(out, "max_lag_days", MAX_LAG);
    json_object_set_new(out, "items", items);
    free(f);
    free(exposure);
    return out;
}

/* ---------- groups of one symptom's days (phases, months) ---------- */

/* ANOVA over the groups of days that `group_of` assigns (0..k-1, -1 none);
 * fills means/sizes and returns the index of the worst group, or -1. */
static int grouped(const struct series *s, int symptom, int k, int (*group_of)(const struct series *, int),
                   double *store, int *sizes, double *means, struct hf_anova *a)
{
    int at[12] = { 0 }, start[12], worst = -1;
    const double *groups[12];
    int g_sizes[12], ng = 0, total = 0;
    for (int g = 0; g < k; g++)
        sizes[g] = 0;
    for (int t = 0; t < s->span; t++) {
        int g = group_of(s, t);
        if (g >= 0 && !isnan(s->sym[symptom][t]))
            sizes[g]++;
    }
    for (int g = 0; g < k; g++) {
        start[g] = total;
        total += sizes[g];
    }
    for (int t = 0; t < s->span; t++) {
        int g = group_of(s, t);
        if (g >= 0 && !isnan(s->sym[symptom][t]))
            store[start[g] + at[g]++] = s->sym[symptom][t];
    }
    for (int g = 0; g < k; g++) {
        means[g] = hf_stat_mean(store + start[g], sizes[g]);
        if (sizes[g] == 0)
            continue;
        groups[ng] = store + start[g];
        g_sizes[ng++] = sizes[g];
        bool higher = ins_symptom_good[symptom] ? means[g] < means[worst < 0 ? g : worst]
                                                : means[g] > means[worst < 0 ? g : worst];
        if (worst < 0 || higher)
            worst = g;
    }
    hf_anova_oneway(groups, g_sizes, ng, a);
    return worst;
}

static int phase_of(const struct series *s, int t)
{
    return s->phase[t];
}

static int month_group(const struct series *s, int t)
{
    return month_of(s->first + t) - 1;
}

static json_t *cycle_phases(const struct series *s, json_t *summary)
{
    json_t *out = json_object(), *items = json_array();
    if (!out || !items) {
        json_decref(out);
        json_decref(items);
        return NULL;
    }
    struct hf_anova a[INS_N_SYMPTOMS];
    double means[INS_N_SYMPTOMS][INS_N_PHASES];
    int sizes[INS_N_SYMPTOMS][INS_N_PHASES], worst[INS_N_SYMPTOMS], tests = 0;
    for (int k = 0; k < INS_N_SYMPTOMS; k++) {
        worst[k] = grouped(s, k, INS_N_PHASES, phase_of, s->buf[0], sizes[k], means[k], &a[k]);
        tests += a[k].status == HF_STAT_OK;
    }
    for (int k = 0; k < INS_N_SYMPTOMS; k++) {
        if (worst[k] < 0)
            continue; /* no day of this symptom has a phase */
        json_t *it = json_object(), *phases = json_object();
        json_object_set_new(it, "symptom", json_string(ins_symptoms[k]));
        json_object_set_new(it, "status", json_string(hf_stat_status_name(a[k].status)));
        for (int p = 0; p < INS_N_PHASES; p++) {
            if (!sizes[k][p])
                continue;
            json_t *ph = json_object();
            put_int(ph, "n", sizes[k][p]);
            put(ph, "mean", means[k][p]);
            json_object_set_new(phases, ins_phases[p], ph);
        }
        json_object_set_new(it, "phases", phases);
        json_object_set_new(it, "worst_phase", json_string(ins_phases[worst[k]]));
        char sym[32], p[24], pa[24], text[512];
        if (a[k].status == HF_STAT_OK) {
            double padj = hf_stat_bonferroni(a[k].p, tests);
            put(it, "f", a[k].f);
            put_int(it, "df_between", a[k].df_between);
            put_int(it, "df_within", a[k].df_within);
            put(it, "p", a[k].p);
            put(it, "p_adjusted", padj);
            json_object_set_new(it, "significant", json_boolean(padj < ALPHA));
            snprintf(text, sizeof text,
                     "%s is worst in the %s phase (mean %.2f over %d days); ANOVA across %d phases F = %.2f, "
                     "p = %s (%s after Bonferroni correction for %d symptoms): %s.",
                     label(ins_symptoms[k], true, sym, sizeof sym), ins_phases[worst[k]], means[k][worst[k]],
                     sizes[k][worst[k]], a[k].df_between + 1, a[k].f, fmt_p(a[k].p, p, sizeof p),
                     fmt_p(padj, pa, sizeof pa), tests, padj < ALPHA ? "a clear difference" : "no clear difference");
            say(it, padj < ALPHA ? summary : NULL, text);
        } else {
            snprintf(text, sizeof text, "%s: not enough phases or variation yet to compare phases (%s).",
                     label(ins_symptoms[k], true, sym, sizeof sym), hf_stat_status_name(a[k].status));
            say(it, NULL, text);
        }
        json_array_append_new(items, it);
    }
    put_int(out, "tests", tests);
    json_object_set_new(out, "items", items);
    return out;
}

/* ---------- time patterns ---------- */

static bool weekend(int32_t day)
{
    int dow = ((day % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
    return dow == 0 || dow == 6;
}

static json_t *weekday_weekend(const struct series *s, int k, json_t *summary)
{
    double *wd = s->buf[0], *we = s->buf[1];
    int nd = 0, ne = 0;
    for (int t = 0; t < s->span; t++)
        if (!isnan(s->sym[k][t])) {
            if (weekend(s->first + t))
                we[ne++] = s->sym[k][t];
            else
                wd[nd++] = s->sym[k][t];
        }
    struct hf_welch w;
    hf_welch_test(we, ne, wd, nd, &w);
    json_t *it = json_object();
    char sym[32], p[24], text[512];
    json_object_set_new(it, "status", json_string(hf_stat_status_name(w.status)));
    put_int(it, "n_weekend", ne);
    put_int(it, "n_weekday", nd);
    put(it, "mean_weekend", w.mean_x);
    put(it, "mean_weekday", w.mean_y);
    if (w.status == HF_STAT_OK) {
        put(it, "t", w.t);
        put(it, "df", w.df);
        put(it, "p", w.p);
        snprintf(text, sizeof text,
                 "%s averages %.2f on weekends (n = %d) and %.2f on weekdays (n = %d): Welch t = %.2f, p = %s.",
                 label(ins_symptoms[k], true, sym, sizeof sym), w.mean_x, ne, w.mean_y, nd, w.t,
                 fmt_p(w.p, p, sizeof p));
        say(it, w.p < ALPHA && ne + nd >= MIN_DAYS_TO_TELL ? summary : NULL, text);
    }
    return it;
}

static json_t *trend(const struct series *s, int k, json_t *summary)
{
    double *x = s->buf[0], *y = s->buf[1];
    int n = 0;
    for (int t = 0; t < s->span; t++)
        if (!isnan(s->sym[k][t])) {
            x[n] = t;
            y[n++] = s->sym[k][t];
        }
    struct hf_linreg l;
    hf_linreg_fit(x, y, n, &l);
    json_t *it = json_object();
    json_object_set_new(it, "status", json_string(hf_stat_status_name(l.status)));
    put_int(it, "n", n);
    if (l.status == HF_STAT_OK) {
        char sym[32], p[24], text[512];
        put(it, "slope_per_day", l.slope);
        put(it, "intercept", l.intercept);
        put(it, "r", l.r);
        put(it, "p", l.p);
        put(it, "stderr", l.stderr_slope);
        snprintf(text, sizeof text,
                 "%s has gone %s by %.2f points a week over %d logged days (slope %.4f a day, p = %s).",
                 label(ins_symptoms[k], true, sym, sizeof sym), l.slope >= 0 ? "up" : "down", fabs(l.slope) * 7, n,
                 l.slope, fmt_p(l.p, p, sizeof p));
        say(it, l.p < ALPHA && n >= MIN_DAYS_TO_TELL ? summary : NULL, text);
    }
    return it;
}

static json_t *seasonality(const struct series *s, int k, json_t *summary)
{
    json_t *it = json_object();
    int32_t first = -1, last = -1;
    for (int t = 0; t < s->span; t++)
        if (!isnan(s->sym[k][t])) {
            first = first < 0 ? t : first;
            last = t;
        }
    put_int(it, "days_covered", first < 0 ? 0 : last - first + 1);
    if (first < 0 || last - first + 1 < SEASON_MIN_DAYS) {
        json_object_set_new(it, "status", json_string("needs_more_than_3_months"));
        return it;
    }
    double means[12];
    int sizes[12];
    struct hf_anova a;
    int worst = grouped(s, k, 12, month_group, s->buf[0], sizes, means, &a);
    json_object_set_new(it, "status", json_string(hf_stat_status_name(a.status)));
    json_t *months = json_object();
    for (int mth = 0; mth < 12; mth++)
        if (sizes[mth]) {
            json_t *mo = json_object();
            put_int(mo, "n", sizes[mth]);
            put(mo, "mean", means[mth]);
            json_object_set_new(months, month_names[mth], mo);
        }
    json_object_set_new(it, "months", months);
    if (a.status == HF_STAT_OK) {
        char sym[32], p[24], text[512];
        put(it, "f", a.f);
        put(it, "p", a.p);
        json_object_set_new(it, "worst_month", json_string(month_names[worst]));
        snprintf(text, sizeof text, "%s is worst in %s (mean %.2f over %d days); ANOVA across %d months F = %.2f, p = %s.",
                 label(ins_symptoms[k], true, sym, sizeof sym), month_names[worst], means[worst], sizes[worst],
                 a.df_between + 1, a.f, fmt_p(a.p, p, sizeof p));
        say(it, a.p < ALPHA ? summary : NULL, text);
    }
    return it;
}

static json_t *time_patterns(const struct series *s, json_t *summary)
{
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (int k = 0; k < INS_N_SYMPTOMS; k++) {
        bool any = false;
        for (int t = 0; t < s->span && !any; t++)
            any = !isnan(s->sym[k][t]);
        if (!any)
            continue;
        json_t *it = json_object();
        json_object_set_new(it, "weekday_weekend", weekday_weekend(s, k, summary));
        json_object_set_new(it, "trend", trend(s, k, summary));
        json_object_set_new(it, "seasonality", seasonality(s, k, summary));
        json_object_set_new(out, ins_symptoms[k], it);
    }
    return out;
}

/* ---------- N=1 experiments ---------- */

/* Stated priors for an experiment's effect, in the outcome's units: a
 * sceptical N(0, sd^2), sd about a large effect; sigma floored at sd / 20. */
static const struct {
    const char *outcome;
    double sd;
} priors[] = {
    { "basal_temp_c", 0.2 }, { "weight_kg", 2 },      { "resting_hr_bpm", 5 }, { "hrv_ms", 10 },
    { "sleep_hours", 1 },    { "sleep_score", 10 },   { "steps", 2000 },       { "lh_test", 0.3 },
    { "glucose_mg_dl", 15 }, { "bp_systolic", 8 },    { "bp_diastolic", 5 },
};
#define SYMPTOM_PRIOR_SD 1.0 /* one point on the 0-5 scale */

static const double *outcome_series(const struct series *s, const char *outcome, double *prior_sd)
{
    for (int k = 0; k < INS_N_SYMPTOMS; k++)
        if (strcmp(outcome, ins_symptoms[k]) == 0) {
            *prior_sd = SYMPTOM_PRIOR_SD;
            return s->sym[k];
        }
    for (int b = 0; b < INS_N_BIOMETRICS; b++)
        if (strcmp(outcome, ins_biometrics[b]) == 0) {
            *prior_sd = priors[b].sd;
            return s->bio[b];
        }
    return NULL;
}

/* Values of days [from, to] inside the span, into out; returns how many. */
static int window(const struct series *s, const double *v, int32_t from, int32_t to, double *out)
{
    int n = 0;
    for (int32_t day = from; day <= to; day++) {
        int t = day - s->first;
        if (t >= 0 && t < s->span && !isnan(v[t]))
            out[n++] = v[t];
    }
    return n;
}

static json_t *experiment(const struct ins_experiment *e, const struct series *s, json_t *summary)
{
    json_t *it = json_object();
    char from[16], to[16], bfrom[16], out_label[32], text[640];
    put_int(it, "id", e->id);
    json_object_set_new(it, "name", json_string(e->name));
    json_object_set_new(it, "intervention", json_string(e->intervention));
    json_object_set_new(it, "outcome", json_string(e->outcome));
    double prior_sd = 1;
    const double *v = s->span ? outcome_series(s, e->outcome, &prior_sd) : NULL;
    int32_t last = s->first + s->span - 1;
    int32_t end = e->end != INT32_MIN ? e->end : last;
    if (!v || e->start > last) {
        json_object_set_new(it, "status", json_string(!s->span ? "no_data" : !v ? "unknown_outcome" : "not_started"));
        snprintf(text, sizeof text, "%s: no %s data during the experiment yet.", e->name,
                 label(e->outcome, false, out_label, sizeof out_label));
        say(it, NULL, text);
        return it;
    }
    int32_t len = end - e->start + 1, base = len > BASELINE_MIN_DAYS ? len : BASELINE_MIN_DAYS;
    /* Both windows go into scratch buffers of span doubles each; a window
     * only holds days inside the span. */
    int nb = window(s, v, e->start - base, e->start - 1, s->buf[0]);
    int nd = window(s, v, e->start, end, s->buf[1]);
    struct hf_n1_prior prior = { 0, prior_sd, prior_sd / 20 };
    struct hf_n1 r;
    hf_n1_effect(s->buf[0], nb, s->buf[1], nd, &prior, &r);
    date_text(e->start, from);
    date_text(end, to);
    date_text(e->start - base, bfrom);
    json_object_set_new(it, "status", json_string(hf_stat_status_name(r.status)));
    json_object_set_new(it, "during", json_pack("{s:s, s:s, s:i}", "from", from, "to", to, "n", nd));
    json_object_set_new(it, "before", json_pack("{s:s, s:i, s:i}", "from", bfrom, "days", base, "n", nb));
    json_object_set_new(it, "prior", json_pack("{s:f, s:f, s:f}", "mean", prior.mean, "sd", prior.sd, "sigma_floor",
                                               prior.sigma_floor));
    label(e->outcome, false, out_label, sizeof out_label);
    if (r.status != HF_STAT_OK) {
        snprintf(text, sizeof text,
                 "%s: not enough %s data yet (%d days during, %d in the %d days before; each needs at least 2).",
                 e->name, out_label, nd, nb, base);
        say(it, NULL, text);
        return it;
    }
    put(it, "mean_before", r.mean_before);
    put(it, "mean_during", r.mean_during);
    put(it, "difference", r.diff);
    put(it, "sigma", r.sigma);
    json_object_set_new(it, "sigma_floored", json_boolean(r.sigma_floored));
    put(it, "effect", r.effect);
    put(it, "effect_sd", r.effect_sd);
    put(it, "ci95_low", r.ci_low);
    put(it, "ci95_high", r.ci_high);
    put(it, "p_positive", r.p_positive);
    snprintf(text, sizeof text,
             "During %s (%s, %s to %s), %s averaged %.2f over %d days against %.2f over %d days in the %d days "
             "before: estimated effect %+.2f (95%% credible interval %.2f to %.2f), %.1f%% probability that it "
             "is positive.",
             e->name, e->intervention, from, to, out_label, r.mean_during, nd, r.mean_before, nb, base, r.effect,
             r.ci_low, r.ci_high, 100 * r.p_positive);
    say(it, summary, text);
    return it;
}

/* ---------- all of it ---------- */

json_t *hf_insight_compute(const hf_insight_data *d)
{
    struct series s;
    json_t *out = NULL, *summary = json_array();
    if (!summary || series_build(d, &s) != 0)
        goto fail;
    out = json_object();
    if (!out)
        goto fail;
    put_int(out, "engine", HF_INSIGHT_ENGINE_VERSION);
    put_int(out, "logs", d->logs);
    put_int(out, "skipped_logs", d->skipped_logs);
    put_int(out, "skipped_values", d->skipped_values);
    put_int(out, "days", s.span);
    put_int(out, "ingredients", d->n_ingredients);
    if (d->dropped_ingredients)
        put_int(out, "ingredients_dropped", d->dropped_ingredients);
    if (s.span) {
        char a[16], b[16];
        date_text(s.first, a);
        date_text(s.first + s.span - 1, b);
        json_object_set_new(out, "from", json_string(a));
        json_object_set_new(out, "to", json_string(b));
    }
    json_t *parts[4] = { triggers(d, &s, summary), lag_effects(d, &s, summary), cycle_phases(&s, summary),
                         time_patterns(&s, summary) };
    static const char *const names[4] = { "triggers", "lag_effects", "cycle_phase", "time_patterns" };
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        ok = ok && parts[i];
        if (parts[i])
            json_object_set_new(out, names[i], parts[i]);
    }
    json_t *exps = json_array();
    for (int i = 0; exps && i < d->n_experiments; i++)
        json_array_append_new(exps, experiment(&d->experiments[i], &s, summary));
    if (!ok || !exps) {
        json_decref(exps);
        goto fail;
    }
    json_object_set_new(out, "experiments", exps);
    if (json_array_size(summary) == 0)
        json_array_append_new(summary, json_string(s.span ? "No clear pattern in the data so far."
                                                          : "No logs yet: nothing to analyse."));
    json_object_set_new(out, "summary", summary);
    series_free(&s);
    return out;
fail:
    series_free(&s);
    json_decref(out);
    json_decref(summary);
    return NULL;
}
