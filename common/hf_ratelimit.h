/* hf_ratelimit: token buckets shared by every process of the fleet, in Redis,
 * with a local fallback when Redis is away.
 *
 * A bucket is named by the caller (build names with hf_cache_ratelimit_key,
 * e.g. "hf:rl:user:12:read", "hf:rl:api:usda") and holds at most `limit`
 * tokens, refilled continuously at limit per window_ms. A take of n tokens
 * succeeds when n are there, so a burst of exactly `limit` passes and the
 * next take is refused: limits are exact at the limit. A refused take
 * consumes nothing and says how long until n tokens are there.
 *
 * The shared bucket is one Lua script run atomically by Redis (refill by the
 * server's clock, take, store, expire after two windows of idleness), so any
 * number of processes and threads share one budget without races.
 *
 * Redis away (hf_redis says HF_EUNAVAIL, or no connection is given): the take
 * is made on a bucket in this process instead (same arithmetic, a fixed table
 * of HF_RATELIMIT_LOCAL_SLOTS buckets; a collision shares a bucket, which is
 * stricter, never looser). Each process then allows limit / local_share, so
 * with local_share set to the number of processes sharing the limit the
 * fleet stays within it: not an open door, at worst briefly stricter. When
 * Redis returns, the shared bucket resumes where Redis left it (or full,
 * after a restart that lost it).
 *
 * Thread-safe: the local table is locked; each thread passes its own
 * hf_redis. */
#ifndef HF_RATELIMIT_H
#define HF_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_err.h"
#include "hf_redis.h"

typedef struct hf_ratelimit hf_ratelimit;

/* local_share >= 1: the number of processes sharing each limit when Redis is
 * away (see above). Caller frees with hf_ratelimit_free. Returns 0 or
 * HF_ENOMEM. */
int hf_ratelimit_new(int local_share, hf_ratelimit **out, struct hf_err *err);
void hf_ratelimit_free(hf_ratelimit *rl);

#define HF_RATELIMIT_MAX_BUCKETS 4

/* One bucket of a take: limit tokens per window_ms (both >= 1), take n >= 1.
 * name is borrowed for the call. */
struct hf_ratelimit_bucket {
    const char *name;
    int64_t limit, window_ms, n;
};

struct hf_ratelimit_result {
    bool allowed;
    int64_t retry_after_ms; /* when refused: until every bucket has its n; else 0 */
    int refused;            /* when refused: the index of the first bucket short of tokens; else -1 */
    bool local;             /* decided by the local fallback (Redis away) */
};

/* Takes from every one of the n_buckets buckets (1 to HF_RATELIMIT_MAX_BUCKETS)
 * or from none: one request counted against an app and against a person is
 * one Redis round trip, and a refusal by either charges neither. redis may be
 * NULL (local only). Returns 0 with *res filled (a refusal is not an error),
 * or HF_EINVAL for bad arguments or a bug in the script (err says which). An
 * outage is not an error: it is res->local. */
int hf_ratelimit_take(hf_ratelimit *rl, hf_redis *redis, const struct hf_ratelimit_bucket *buckets, size_t n_buckets,
                      struct hf_ratelimit_result *res, struct hf_err *err);

/* The bucket arithmetic both sides use, exposed for tests: refills *tokens
 * (at most limit) for the time from *stamp_ms to now_ms, then takes n if it
 * can. Returns true when taken; else *retry_after_ms says when. Pure. */
bool hf_ratelimit_step(double *tokens, int64_t *stamp_ms, int64_t now_ms, int64_t limit, int64_t window_ms, int64_t n,
                       int64_t *retry_after_ms);

#endif
