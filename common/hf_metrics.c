#include "hf_metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { COUNTER, GAUGE, HISTOGRAM };

/* Fine between 5 and 100 ms, where latency targets live (end-to-end p99 under
 * 50 ms), so quantiles read from the buckets are within a few milliseconds. */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04,
                                 0.05,   0.075, 0.1,    0.15,  0.25,   0.5,  1,     2.5,  5,     10,    30 };
#define NB (sizeof bounds / sizeof bounds[0])

struct hf_metric {
    enum kind kind;
    char *name, *help, *labels;
    _Atomic uint64_t count;
    _Atomic double value;            /* gauge value, or histogram sum */
    _Atomic uint64_t buckets[NB + 1]; /* last: +Inf */
    struct hf_metric *next;
};

struct collector {
    hf_metrics_collector fn;
    void *arg;
};

struct hf_metrics {
    pthread_mutex_t lock; /* guards registration only */
    hf_metric *head;
    struct collector collectors[8];
    int n_collectors;
};

hf_metrics *hf_metrics_new(void)
{
    hf_metrics *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void hf_metrics_free(hf_metrics *m)
{
    if (!m)
        return;
    for (hf_metric *c = m->head, *next; c; c = next) {
        next = c->next;
        free(c->name);
        free(c->help);
        free(c->labels);
        free(c);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static hf_metric *add(hf_metrics *m, enum kind kind, const char *name, const char *help, const char *labels)
{
    if (!m)
        return NULL;
    hf_metric *c = calloc(1, sizeof *c);
    if (!c || !(c->name = strdup(name)) || !(c->help = strdup(help)) || !(c->labels = strdup(labels ? labels : ""))) {
        if (c) {
            free(c->name);
            free(c->help);
        }
        free(c);
        return NULL;
    }
    c->kind = kind;
    pthread_mutex_lock(&m->lock);
    /* Keep series of one name together so # HELP and # TYPE print once. */
    hf_metric **at = &m->head;
    hf_metric **last_same = NULL;
    for (; *at; at = &(*at)->next)
        if (strcmp((*at)->name, name) == 0)
            last_same = &(*at)->next;
    if (last_same)
        at = last_same;
    c->next = *at;
    *at = c;
    pthread_mutex_unlock(&m->lock);
    return c;
}

hf_metric *hf_metrics_counter(hf_metrics *m, const char *name, const char *help, const char *labels)
{
    return add(m, COUNTER, name, help, labels);
}

hf_metric *hf_metrics_gauge(hf_metrics *m, const char *name, const char *help, const char *labels)
{
    return add(m, GAUGE, name, help, labels);
}

hf_metric *hf_metrics_histogram(hf_metrics *m, const char *name, const char *help, const char *labels)
{
    return add(m, HISTOGRAM, name, help, labels);
}

void hf_metric_add(hf_metric *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->count, n, memory_order_relaxed);
}

void hf_metric_set(hf_metric *g, double v)
{
    if (g)
        atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

void hf_metric_observe(hf_metric *h, double seconds)
{
    if (!h)
        return;
    size_t i = 0;
    while (i < NB && seconds > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    double old = atomic_load_explicit(&h->value, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->value, &old, old + seconds, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

uint64_t hf_metric_count(const hf_metric *c)
{
    return c ? atomic_load_explicit(&((hf_metric *)c)->count, memory_order_relaxed) : 0;
}

double hf_metric_value(const hf_metric *g)
{
    return g ? atomic_load_explicit(&((hf_metric *)g)->value, memory_order_relaxed) : 0;
}

double hf_metric_quantile(const hf_metric *h, double q)
{
    uint64_t total = hf_metric_count(h);
    if (!total)
        return 0;
    double rank = q * (double)total, seen = 0, lower = 0;
    for (size_t i = 0; i <= NB; i++) {
        double n = (double)atomic_load_explicit(&((hf_metric *)h)->buckets[i], memory_order_relaxed);
        double upper = i < NB ? bounds[i] : bounds[NB - 1];
        if (seen + n >= rank && n > 0)
            return lower + (upper - lower) * ((rank - seen) / n);
        seen += n;
        lower = upper;
    }
    return bounds[NB - 1];
}

void hf_metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    for (;;) {
        if (!*buf)
            return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        size_t ncap = (*cap + (size_t)n) * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = nb;
        *cap = ncap;
    }
}

int hf_metrics_add_collector(hf_metrics *m, hf_metrics_collector fn, void *arg)
{
    pthread_mutex_lock(&m->lock);
    int rc = -1;
    if (m->n_collectors < (int)(sizeof m->collectors / sizeof m->collectors[0])) {
        m->collectors[m->n_collectors++] = (struct collector){ fn, arg };
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

char *hf_metrics_render(hf_metrics *m, size_t *len_out)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    if (buf)
        buf[0] = '\0';
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    pthread_mutex_lock(&m->lock);
    const char *prev = "";
    for (hf_metric *c = m->head; c; c = c->next) {
        if (strcmp(prev, c->name) != 0)
            hf_metrics_appendf(&buf, &len, &cap, "# HELP %s %s\n# TYPE %s %s\n", c->name, c->help, c->name,
                               type_names[c->kind]);
        prev = c->name;
        const char *open = *c->labels ? "{" : "", *close = *c->labels ? "}" : "";
        if (c->kind == COUNTER) {
            hf_metrics_appendf(&buf, &len, &cap, "%s%s%s%s %llu\n", c->name, open, c->labels, close,
                               (unsigned long long)hf_metric_count(c));
        } else if (c->kind == GAUGE) {
            hf_metrics_appendf(&buf, &len, &cap, "%s%s%s%s %.17g\n", c->name, open, c->labels, close,
                               hf_metric_value(c));
        } else {
            uint64_t cum = 0;
            const char *sep = *c->labels ? "," : "";
            for (size_t i = 0; i <= NB; i++) {
                cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
                char le[32];
                if (i < NB)
                    snprintf(le, sizeof le, "%g", bounds[i]);
                else
                    snprintf(le, sizeof le, "+Inf");
                hf_metrics_appendf(&buf, &len, &cap, "%s_bucket{%s%sle=\"%s\"} %llu\n", c->name, c->labels, sep, le,
                                   (unsigned long long)cum);
            }
            hf_metrics_appendf(&buf, &len, &cap, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n", c->name, open,
                               c->labels, close, hf_metric_value(c), c->name, open, c->labels, close,
                               (unsigned long long)hf_metric_count(c));
        }
    }
    for (int i = 0; i < m->n_collectors; i++)
        m->collectors[i].fn(m->collectors[i].arg, &buf, &len, &cap);
    pthread_mutex_unlock(&m->lock);
    if (len_out)
        *len_out = len;
    return buf;
}
