/* ingredient_guard: what stands between the pool and one external API:
 * 002's token-bucket rate limit (lines 749-758), shared by every process
 * through Redis, and its circuit breaker (lines 816-873: closed, open,
 * half-open). The pool asks before each call and reports each call's
 * outcome; the guard decides nothing else.
 *
 * The mechanisms are the fleet's shared ones (common/hf_breaker,
 * common/hf_ratelimit); this small interface is all the pool sees of them. */
#ifndef INGREDIENT_GUARD_H
#define INGREDIENT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_err.h"
#include "hf_redis.h"

typedef struct ing_guard ing_guard;

struct ing_guard_conf {
    const char *api;          /* "usda", "off" (logs) */
    const char *bucket;       /* the shared bucket's name (hf_cache_ratelimit_key) */
    int rate;                 /* calls per window, across every process */
    int64_t window_ms;
    int failure_threshold;    /* consecutive failures that open the breaker */
    int64_t recovery_ms;      /* open this long before a trial call */
    int success_threshold;    /* trial successes that close it */
    int local_share;          /* processes sharing the limit while Redis is away (hf_ratelimit) */
};

/* Caller frees with ing_guard_free. Returns 0, HF_EINVAL (a bad
 * configuration value) or HF_ENOMEM. */
int ing_guard_new(const struct ing_guard_conf *conf, ing_guard **out, struct hf_err *err);
void ing_guard_free(ing_guard *g);

enum ing_admit {
    ING_ADMIT_GO,      /* call now, then report with ing_guard_done */
    ING_ADMIT_OPEN,    /* the breaker is open: do not call (fail fast) */
    ING_ADMIT_LIMITED, /* no token: *retry_after_ms says when one is there */
};

/* redis: where the shared bucket lives; NULL or away, a local bucket takes
 * the limit / local_share (hf_ratelimit). */
enum ing_admit ing_guard_admit(ing_guard *g, hf_redis *redis, int64_t *retry_after_ms);

/* The outcome of a call that was admitted: ok when the API answered
 * (even "not found"), false on a timeout, a refused connection, 5xx, 429 or
 * an answer that is not the API's shape. */
void ing_guard_done(ing_guard *g, bool ok);

/* "closed", "open" or "half_open" (logs, metrics, tests). */
const char *ing_guard_state(ing_guard *g);

#endif
