/* hf_metrics: counters, gauges and histograms in the Prometheus text format.
 *
 * Series are registered at start-up (each name + label set once) and updated
 * lock-free from any thread; rendering takes a snapshot. Values computed at
 * scrape time (consumer lag) come from collectors. Names follow Prometheus
 * conventions: hf_<what>_<unit>[_total]; labels pool, topic, partition,
 * outcome. */
#ifndef HF_METRICS_H
#define HF_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct hf_metrics hf_metrics;
typedef struct hf_metric hf_metric;

/* Caller frees with hf_metrics_free, after every thread using it stopped. */
hf_metrics *hf_metrics_new(void);
void hf_metrics_free(hf_metrics *m);

/* Registers a series. labels is the inside of {...}, e.g. `pool="adherence"`,
 * or "" for none. The returned series is owned by m; NULL when out of memory
 * (updates on NULL are ignored, so metrics never break the work). */
hf_metric *hf_metrics_counter(hf_metrics *m, const char *name, const char *help, const char *labels);
hf_metric *hf_metrics_gauge(hf_metrics *m, const char *name, const char *help, const char *labels);
/* Latency histogram with fixed bucket bounds in seconds (0.5 ms .. 10 s). */
hf_metric *hf_metrics_histogram(hf_metrics *m, const char *name, const char *help, const char *labels);

void hf_metric_add(hf_metric *c, uint64_t n);
void hf_metric_set(hf_metric *g, double v);
void hf_metric_observe(hf_metric *h, double seconds);
uint64_t hf_metric_count(const hf_metric *c);
double hf_metric_value(const hf_metric *g);
/* Estimated quantile (0..1) of a histogram, by linear interpolation in its buckets. */
double hf_metric_quantile(const hf_metric *h, double q);

/* A collector appends whole lines (with # HELP/# TYPE) at each render. */
typedef void (*hf_metrics_collector)(void *arg, char **buf, size_t *len, size_t *cap);
int hf_metrics_add_collector(hf_metrics *m, hf_metrics_collector fn, void *arg);

/* Appends formatted text to a growing buffer (for collectors). */
void hf_metrics_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Renders every series. Returns a malloc'd NUL-terminated text the caller
 * frees, or NULL when out of memory. */
char *hf_metrics_render(hf_metrics *m, size_t *len);

#endif
