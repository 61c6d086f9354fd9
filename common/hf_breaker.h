/* hf_breaker: guards for a third party we call (a vision model, USDA, Open
 * Food Facts): a circuit breaker and a token bucket. Both are in-process and
 * generic: the caller says what a failure is and what "now" is, so tests drive
 * them with a fake clock and every pool uses the same rules.
 *
 * Circuit breaker (002, "Circuit Breaker Pattern"): CLOSED lets calls
 * through and counts consecutive failures; `failure_threshold` of them open
 * it. OPEN refuses calls (fail fast, no load on a provider that is down)
 * until `recovery_ms` passed since the last failure; then it is HALF_OPEN and
 * lets one trial call at a time through. `success_threshold` successes in a
 * row close it; any failure in HALF_OPEN opens it again. 002's numbers are the
 * defaults: 5 failures, 30 s, 2 successes. A success in CLOSED resets the
 * failure count (002 counts failures "in a row": a provider that fails one
 * call in ten is slow, not down).
 *
 * Token bucket (002, "Rate Limit Configuration": 100/min for Open Food
 * Facts, 1000/hour for USDA): `rate` tokens per `window_ms`, refilled
 * continuously, at most `rate` stored (a full window's burst). The limit is
 * per process: with N processes the provider sees up to N times it, so set
 * it to the provider's limit divided by the number of replicas.
 *
 * Thread-safe: each object has its own mutex. */
#ifndef HF_BREAKER_H
#define HF_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum hf_breaker_state { HF_BREAKER_CLOSED, HF_BREAKER_OPEN, HF_BREAKER_HALF_OPEN };

struct hf_breaker_conf {
    int failure_threshold; /* consecutive failures that open it (002: 5) */
    int64_t recovery_ms;   /* open this long before a trial call (002: 30 s) */
    int success_threshold; /* trial successes that close it (002: 2) */
};

typedef struct hf_breaker hf_breaker;

/* Caller frees with hf_breaker_free. NULL when out of memory or conf has a
 * value below 1. */
hf_breaker *hf_breaker_new(const struct hf_breaker_conf *conf);
void hf_breaker_free(hf_breaker *b);

/* May a call start at now_ms (any monotonic clock in ms)? True in CLOSED; in
 * OPEN false until recovery_ms passed, then the breaker turns HALF_OPEN and
 * admits this call as its trial; in HALF_OPEN true only while no other trial
 * is in flight. Every true must be followed by hf_breaker_success or
 * hf_breaker_failure for that call. */
bool hf_breaker_allow(hf_breaker *b, int64_t now_ms);
void hf_breaker_success(hf_breaker *b, int64_t now_ms);
void hf_breaker_failure(hf_breaker *b, int64_t now_ms);
/* The state now (OPEN past its recovery time still reads OPEN until a call
 * asks). */
enum hf_breaker_state hf_breaker_state(hf_breaker *b);
/* "closed", "open", "half_open" (for logs and metrics). */
const char *hf_breaker_state_name(enum hf_breaker_state s);

typedef struct hf_bucket hf_bucket;

/* rate >= 1 tokens per window_ms >= 1, starting full. Caller frees with
 * hf_bucket_free. NULL when out of memory or out of range. */
hf_bucket *hf_bucket_new(int rate, int64_t window_ms, int64_t now_ms);
void hf_bucket_free(hf_bucket *k);

/* Takes one token at now_ms: returns 0 when taken, else how many ms until
 * one is there (nothing taken). */
int64_t hf_bucket_take(hf_bucket *k, int64_t now_ms);

#endif
