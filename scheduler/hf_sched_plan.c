#include "hf_sched_plan.h"

#include <stdlib.h>
#include <string.h>

int hf_sched_plan(const struct hf_schedule *s, int64_t decided_until, int64_t now_ms, int grace_ms,
                  struct hf_sched_plan *out, struct hf_err *err)
{
    memset(out, 0, sizeof *out);
    out->until = decided_until;
    int64_t now = now_ms / 1000;
    int64_t *due = NULL;
    int n = 0, cap = 0, first_on_time = -1;
    int64_t t = decided_until;
    while (n < HF_SCHED_PLAN_MAX_SCAN && hf_cron_next(s->cron, s->tz, t, &t) == 0 && t <= now) {
        if (n == cap) {
            int ncap = cap ? cap * 2 : 16;
            int64_t *nd = realloc(due, (size_t)ncap * sizeof *nd);
            if (!nd) {
                free(due);
                return hf_err_set(err, HF_ENOMEM, true, "out of memory");
            }
            due = nd;
            cap = ncap;
        }
        if (first_on_time < 0 && now_ms - t * 1000 <= grace_ms)
            first_on_time = n;
        due[n++] = t;
    }
    if (n == 0) {
        free(due);
        return 0;
    }
    out->until = due[n - 1];
    int missed = first_on_time < 0 ? n : first_on_time;
    int keep = s->catch_up == HF_CATCH_UP_SKIP ? 0 : s->catch_up == HF_CATCH_UP_ONCE ? 1 : s->catch_up_max;
    if (keep > missed)
        keep = missed;
    /* drop the oldest missed times, keep the latest `keep` and the on-time ones */
    int drop = missed - keep;
    memmove(due, due + drop, (size_t)(n - drop) * sizeof *due);
    out->times = due;
    out->n = n - drop;
    out->missed = drop;
    return 0;
}
