/* admin_prom: what the dashboard reads from the fleet's /metrics endpoints
 * (Prometheus text format 0.0.4), summed per pool over every endpoint
 * scraped, so replicas of one pool add up. Pure parsing here; the fetch is
 * admin_prom_scrape. */
#ifndef ADMIN_PROM_H
#define ADMIN_PROM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hf_err.h"

/* Upper bounds of the handler histogram kept per pool (hf_metrics has 16 or
 * fewer); a bucket past this is refused rather than mixed up. */
#define ADMIN_PROM_BUCKETS 32

/* One pool's counters and handler histogram. Plain value struct. */
struct admin_pool_stats {
    char pool[64];
    int endpoints;          /* how many scraped endpoints reported this pool */
    double processed;       /* hf_messages_total{outcome="processed"} */
    double replayed;        /* hf_messages_total{outcome="replayed"}: duplicates skipped */
    double dead_lettered;   /* hf_messages_total{outcome="dead_lettered"} */
    double failed;          /* hf_attempts_failed_total: transactions rolled back */
    double retried;         /* hf_retries_total, every reason */
    double lag;             /* hf_consumer_lag_messages, summed */
    double outage;          /* hf_dependency_outage, the largest */
    int n_buckets;
    double le[ADMIN_PROM_BUCKETS];  /* ascending; +Inf last */
    double cum[ADMIN_PROM_BUCKETS]; /* cumulative counts */
    double count, sum;              /* hf_handler_seconds_count / _sum */
};

/* Set of pools; caller owns the array and frees it with free(). */
struct admin_pools {
    struct admin_pool_stats *v;
    size_t n;
};

/* Adds one endpoint's /metrics text to pools (pools met the first time are
 * appended). Lines it does not know are skipped; a malformed line of a
 * series it reads is HF_EINVAL naming the line. Returns 0, HF_EINVAL or
 * HF_ENOMEM. */
int admin_prom_add(struct admin_pools *pools, const char *text, struct hf_err *err);

/* The q-quantile (0 < q < 1) of a cumulative histogram, interpolated
 * linearly inside its bucket as Prometheus' histogram_quantile does; NAN
 * with no observations. An answer in the +Inf bucket is the last finite
 * bound. */
double admin_prom_quantile(const struct admin_pool_stats *s, double q);

/* GET http://<endpoint>/metrics with a timeout into a malloc'd NUL-terminated
 * text (caller frees). endpoint is "host:port". Returns 0, HF_EINVAL (not
 * host:port), HF_ETOOBIG (past 4 MiB) or HF_EUNAVAIL. */
int admin_prom_scrape(const char *endpoint, int timeout_ms, char **text, struct hf_err *err);

/* The addresses behind endpoint "host:port" as "ip:port" / "[ip6]:port"
 * strings into out (up to max, each ADMIN_PROM_ADDR bytes), so a headless
 * Service name reaches every pod behind it. Returns 0, HF_EINVAL (not
 * host:port) or HF_EUNAVAIL (the name does not resolve). */
#define ADMIN_PROM_ADDR 80
int admin_prom_addresses(const char *endpoint, char (*out)[ADMIN_PROM_ADDR], int max, int *n, struct hf_err *err);

/* The pools as a JSON array of objects (counters, p50/p95/p99 in seconds or
 * null). New reference. */
json_t *admin_prom_json(const struct admin_pools *pools);

#endif
