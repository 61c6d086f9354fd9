/* hf_sched_plan: which fire times a leader records now, by the schedule's
 * catch-up policy. Pure: no clock, no database, so every policy is unit
 * tested with exact times.
 *
 * A fire time is due when decided_until < t <= now. A due time no older
 * than the grace is on time and always fires; an older one was missed (the
 * scheduler was down or had no leader) and the policy decides: skip drops
 * it, once keeps the latest missed, each keeps the latest catch_up_max. */
#ifndef HF_SCHED_PLAN_H
#define HF_SCHED_PLAN_H

#include <stdint.h>

#include "hf_err.h"
#include "hf_sched_conf.h"

/* Most fire times one call examines; past it, the rest waits for the next
 * call (an every-second schedule after 11 days down). */
#define HF_SCHED_PLAN_MAX_SCAN 1000000

struct hf_sched_plan {
    int64_t *times; /* to record, ascending; caller frees with free() */
    int n;
    int64_t until;  /* new decided_until (the last due time looked at) */
    long long missed; /* due times dropped by the policy */
};

/* Plans schedule s from decided_until (Unix seconds) at now_ms (Unix
 * milliseconds). Returns 0 or HF_ENOMEM. */
int hf_sched_plan(const struct hf_schedule *s, int64_t decided_until, int64_t now_ms, int grace_ms,
                  struct hf_sched_plan *out, struct hf_err *err);

#endif
