/* meal_analyzer: photo to food estimate, for many photos at once.
 *
 * For each job: fetch the image safely (meal_net's host and address rules,
 * https only, no redirect to another host, a size cap, connect and total
 * timeouts, meal_bytes' checks), then ask the vision model (meal_vision)
 * through the circuit breaker and the rate limit (hf_breaker), retrying a
 * timeout, 429 or 5xx with backoff. Every job of a run is driven by one
 * curl multi handle with up to HF_MEAL_CONCURRENCY jobs in flight, so a run
 * of n jobs takes about n / concurrency provider latencies, not n.
 *
 * One analyzer per thread (the breaker and bucket inside it are the
 * process's: create one per process). */
#ifndef MEAL_ANALYZER_H
#define MEAL_ANALYZER_H

#include <stdbool.h>

#include "hf_config.h"
#include "hf_err.h"
#include "meal_vision.h"

enum meal_outcome {
    MEAL_VISION_OK = 1, /* est holds the model's estimate */
    MEAL_VISION_SKIPPED, /* no provider configured: nothing was fetched */
    MEAL_VISION_FAILED,  /* why says what went wrong, for a person */
};

struct meal_job {
    const char *image_url; /* borrowed for the run */
    const char *caption;   /* borrowed, may be NULL: a hint for the model */
    /* filled by the run */
    enum meal_outcome outcome;
    struct meal_estimate est;
    char why[256];
};

typedef struct meal_analyzer meal_analyzer;

/* Reads the HF_MEAL_* settings of cfg (copied). Caller frees with
 * meal_analyzer_free. Returns 0, HF_ENOMEM, or HF_EIO when curl cannot start. */
int meal_analyzer_new(const struct hf_config *cfg, meal_analyzer **out, struct hf_err *err);
void meal_analyzer_free(meal_analyzer *a);

/* Analyses jobs[0..n) concurrently and returns when every job has its
 * outcome. Never fails as a whole: each job carries its own result. */
void meal_analyzer_run(meal_analyzer *a, struct meal_job *jobs, int n);

/* The breaker's state now (for logs and tests). */
const char *meal_analyzer_breaker(meal_analyzer *a);

#endif
