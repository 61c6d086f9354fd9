/* admin_rates: the consumer-group samples hf-admin keeps in memory for its
 * charts, rates and drain times. Offsets say nothing about speed; two
 * samples a known time apart do. Each group keeps a ring of samples covering
 * the configured history. Thread-safe: the sampler thread adds while HTTP
 * threads read. */
#ifndef ADMIN_RATES_H
#define ADMIN_RATES_H

#include <jansson.h>
#include <stdint.h>

#include "hf_err.h"

typedef struct admin_rates admin_rates;

/* Rates over a window. Plain value struct. */
struct admin_rate {
    double consumed_per_s; /* committed position's growth */
    double produced_per_s; /* end offsets' growth */
    double drain_s;        /* lag / (consumed - produced); 0 without lag; -1 when not draining */
    int samples;           /* samples in the window (fewer than 2: no rates, both 0) */
};

/* capacity: samples kept per group (at least 2), max_groups: groups tracked
 * (more are ignored). Caller frees with admin_rates_free. Returns 0 or
 * HF_ENOMEM. */
int admin_rates_new(int capacity, int max_groups, admin_rates **out, struct hf_err *err);
void admin_rates_free(admin_rates *r);

/* Records that at t_ms the group had consumed up to `position` (sum over
 * partitions of end - lag) and its partitions ended at `end` (sums). A
 * sample older than the group's last is ignored (clock went back). */
void admin_rates_add(admin_rates *r, const char *group, int64_t t_ms, int64_t position, int64_t end);

/* Rates of group over the samples of the last window_ms before its newest
 * sample, with lag = its newest end - position. */
struct admin_rate admin_rates_get(admin_rates *r, const char *group, int64_t window_ms);

/* The group's samples as [[t_ms, lag, consumed_per_s], ...] (the rate from
 * the previous sample; 0 for the first). New reference; an empty array for
 * a group never sampled. */
json_t *admin_rates_series(admin_rates *r, const char *group);

#endif
