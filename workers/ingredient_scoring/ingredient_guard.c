/* STAND-IN until common/hf_breaker and common/hf_ratelimit land on main:
 * an in-process breaker and token bucket with 002's rules, so the pool runs
 * and its tests exercise the breaker. The rate limit here is per process,
 * not shared through Redis; swapping this file for one over the shared
 * modules is the whole change (README.md, "Guards"). */
#include "ingredient_guard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hf_time.h"

enum state { CLOSED, OPEN, HALF_OPEN };

struct ing_guard {
    struct ing_guard_conf conf;
    enum state state;
    int failures, successes;
    int64_t opened_ms;
    bool trial_in_flight;
    double tokens;
    int64_t stamp_ms;
};

static int64_t now_ms(void)
{
    return hf_time_mono_us() / 1000;
}

int ing_guard_new(const struct ing_guard_conf *conf, const char *redis_url, ing_guard **out, struct hf_err *err)
{
    (void)redis_url;
    if (conf->rate < 1 || conf->window_ms < 1 || conf->failure_threshold < 1 || conf->recovery_ms < 1 ||
        conf->success_threshold < 1)
        return hf_err_set(err, HF_EINVAL, false, "guard of %s: every limit must be at least 1", conf->api);
    ing_guard *g = calloc(1, sizeof *g);
    if (!g)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    g->conf = *conf;
    g->tokens = conf->rate;
    g->stamp_ms = now_ms();
    *out = g;
    return 0;
}

void ing_guard_free(ing_guard *g)
{
    free(g);
}

enum ing_admit ing_guard_admit(ing_guard *g, int64_t *retry_after_ms)
{
    int64_t now = now_ms();
    *retry_after_ms = 0;
    if (g->state == OPEN && now - g->opened_ms < g->conf.recovery_ms)
        return ING_ADMIT_OPEN;
    if (g->state == HALF_OPEN && g->trial_in_flight)
        return ING_ADMIT_OPEN;
    double per_ms = (double)g->conf.rate / (double)g->conf.window_ms;
    g->tokens = fmin(g->conf.rate, g->tokens + (double)(now - g->stamp_ms) * per_ms);
    g->stamp_ms = now;
    if (g->tokens < 1) {
        *retry_after_ms = (int64_t)ceil((1 - g->tokens) / per_ms);
        return ING_ADMIT_LIMITED;
    }
    g->tokens -= 1;
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
