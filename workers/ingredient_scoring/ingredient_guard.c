/* The rate limit is the fleet's shared token bucket (common/hf_ratelimit,
 * in Redis). The breaker below is a STAND-IN until common/hf_breaker lands
 * on main: 002's closed/open/half-open rules in process; swapping it for
 * hf_breaker is confined to this file (README.md, "Guards"). */
#include "ingredient_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_log.h"
#include "hf_ratelimit.h"
#include "hf_time.h"

enum state { CLOSED, OPEN, HALF_OPEN };

struct ing_guard {
    struct ing_guard_conf conf;
    enum state state;
    int failures, successes;
    int64_t opened_ms;
    bool trial_in_flight;
    hf_ratelimit *limit;
    char bucket[96];
};

static int64_t now_ms(void)
{
    return hf_time_mono_us() / 1000;
}

int ing_guard_new(const struct ing_guard_conf *conf, ing_guard **out, struct hf_err *err)
{
    if (conf->rate < 1 || conf->window_ms < 1 || conf->failure_threshold < 1 || conf->recovery_ms < 1 ||
        conf->success_threshold < 1)
        return hf_err_set(err, HF_EINVAL, false, "guard of %s: every limit must be at least 1", conf->api);
    ing_guard *g = calloc(1, sizeof *g);
    if (!g)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    g->conf = *conf;
    snprintf(g->bucket, sizeof g->bucket, "%s", conf->bucket);
    g->conf.bucket = g->bucket;
    int rc = hf_ratelimit_new(conf->local_share, &g->limit, err);
    if (rc) {
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void ing_guard_free(ing_guard *g)
{
    if (!g)
        return;
    hf_ratelimit_free(g->limit);
    free(g);
}

enum ing_admit ing_guard_admit(ing_guard *g, hf_redis *redis, int64_t *retry_after_ms)
{
    int64_t now = now_ms();
    *retry_after_ms = 0;
    /* the breaker first: a call it refuses spends no token */
    if (g->state == OPEN && now - g->opened_ms < g->conf.recovery_ms)
        return ING_ADMIT_OPEN;
    if (g->state == HALF_OPEN && g->trial_in_flight)
        return ING_ADMIT_OPEN;
    struct hf_ratelimit_result res = { 0 };
    struct hf_err err = { 0 };
    if (hf_ratelimit_take(g->limit, redis, g->bucket, g->conf.rate, g->conf.window_ms, 1, &res, &err)) {
        /* only a bug gets here (bad arguments, a broken script): never call unguarded */
        hf_error("rate limit of %s: %s", g->conf.api, err.msg);
        *retry_after_ms = 1000;
        return ING_ADMIT_LIMITED;
    }
    if (!res.allowed) {
        *retry_after_ms = res.retry_after_ms;
        return ING_ADMIT_LIMITED;
    }
    if (g->state == OPEN) {
        g->state = HALF_OPEN;
        g->successes = 0;
    }
    if (g->state == HALF_OPEN)
        g->trial_in_flight = true;
    return ING_ADMIT_GO;
}

void ing_guard_done(ing_guard *g, bool ok)
{
    g->trial_in_flight = false;
    if (!ok) {
        g->successes = 0;
        if (g->state == HALF_OPEN || ++g->failures >= g->conf.failure_threshold) {
            g->state = OPEN;
            g->opened_ms = now_ms();
        }
        return;
    }
    if (g->state == HALF_OPEN && ++g->successes < g->conf.success_threshold)
        return;
    g->state = CLOSED;
    g->failures = 0;
}

const char *ing_guard_state(ing_guard *g)
{
    return g->state == OPEN ? "open" : g->state == HALF_OPEN ? "half_open" : "closed";
}
