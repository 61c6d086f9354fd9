/* intake_limits: the intake's Redis connections and its rate limits.
 *
 * Limits (hf_ratelimit token buckets in Redis, shared by every intake
 * replica; the local fallback of hf_ratelimit.h when Redis is away):
 *  - per API client: api_clients.rate_limit_per_min (default
 *    HF_INTAKE_CLIENT_RPM) units a minute; an event posted is one unit, a read
 *    is one unit;
 *  - per user, reads: HF_RATE_USER_READ_RPM (001: 100 a minute);
 *  - per user, writes: HF_RATE_USER_WRITE_RPM (001: 60 a minute) posts of a
 *    single event (POST /v1/events, 001's POST /logs); batches are an app's
 *    sync channel and count against the client's budget only.
 * Thread-safe. */
#ifndef INTAKE_LIMITS_H
#define INTAKE_LIMITS_H

#include <stdint.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_metrics.h"
#include "hf_redis.h"

typedef struct intake_limits intake_limits;

/* One Redis connection per HTTP thread, made lazily. Registers its metrics
 * in m. Caller frees with intake_limits_free. */
int intake_limits_new(const struct hf_config *cfg, hf_metrics *m, intake_limits **out, struct hf_err *err);
void intake_limits_free(intake_limits *l);

/* Borrows a Redis connection (waits when every one is in use); give it back
 * with the slot. */
hf_redis *intake_limits_redis(intake_limits *l, int *slot);
void intake_limits_redis_return(intake_limits *l, int slot);

enum intake_limit { INTAKE_LIMIT_CLIENT, INTAKE_LIMIT_USER_READ, INTAKE_LIMIT_USER_WRITE };

/* One request's take: n units of the client's budget (per_min is its limit)
 * and, unless user is INTAKE_LIMIT_CLIENT, one unit of that user's read or
 * write budget. */
struct intake_take {
    int64_t client_id, client_rpm;
    int n;
    enum intake_limit user;
    int64_t user_id;
};

/* Takes every unit of t in one Redis round trip, or none. Returns 0, or
 * HF_EDENIED with *retry_after_s (>= 1) set and *refused_by saying whose
 * budget was short (the client's first). */
int intake_limits_take(intake_limits *l, const struct intake_take *t, int *retry_after_s,
                       enum intake_limit *refused_by);

#endif
