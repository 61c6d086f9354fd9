/* The fleet's guards, put together for one external API: the shared token
 * bucket (common/hf_ratelimit, in Redis) and the circuit breaker
 * (common/hf_breaker). What this file adds is the order of the two. */
#include "ingredient_guard.h"

#include <stdio.h>
#include <stdlib.h>

#include "hf_breaker.h"
#include "hf_log.h"
#include "hf_ratelimit.h"
#include "hf_time.h"

struct ing_guard {
    struct ing_guard_conf conf;
    hf_breaker *breaker;
    hf_ratelimit *limit;
    char bucket[96];
};

static int64_t now_ms(void)
{
    return hf_time_mono_us() / 1000;
}

int ing_guard_new(const struct ing_guard_conf *conf, ing_guard **out, struct hf_err *err)
{
    if (conf->rate < 1 || conf->window_ms < 1)
        return hf_err_set(err, HF_EINVAL, false, "rate limit of %s: rate and window must be at least 1", conf->api);
    ing_guard *g = calloc(1, sizeof *g);
    if (!g)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    g->conf = *conf;
    snprintf(g->bucket, sizeof g->bucket, "%s", conf->bucket);
    g->conf.bucket = g->bucket;
    const struct hf_breaker_conf bc = { conf->failure_threshold, conf->recovery_ms, conf->success_threshold };
    g->breaker = hf_breaker_new(&bc);
    int rc = g->breaker ? hf_ratelimit_new(conf->local_share, &g->limit, err)
                        : hf_err_set(err, HF_EINVAL, false, "breaker of %s: every threshold must be at least 1",
                                     conf->api);
    if (rc) {
        ing_guard_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void ing_guard_free(ing_guard *g)
{
    if (!g)
        return;
    hf_breaker_free(g->breaker);
    hf_ratelimit_free(g->limit);
    free(g);
}

/* One token, or how long until there is one. */
static bool take_token(ing_guard *g, hf_redis *redis, int64_t *retry_after_ms)
{
    struct hf_ratelimit_result res = { 0 };
    struct hf_err err = { 0 };
    const struct hf_ratelimit_bucket bucket = { g->bucket, g->conf.rate, g->conf.window_ms, 1 };
    if (hf_ratelimit_take(g->limit, redis, &bucket, 1, &res, &err)) {
        /* only a bug gets here (bad arguments, a broken script): never call unguarded */
        hf_error("rate limit of %s: %s", g->conf.api, err.msg);
        *retry_after_ms = 1000;
        return false;
    }
    *retry_after_ms = res.retry_after_ms;
    return res.allowed;
}

/* An open breaker is asked first, so the calls it refuses spend no token;
 * if it admits a trial and no token is there, the trial is reported failed
 * (it could not be made: the breaker stays open one more recovery time,
 * which errs on the side of the provider). Otherwise the token comes first,
 * so every call the breaker admits is reported. */
enum ing_admit ing_guard_admit(ing_guard *g, hf_redis *redis, int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    if (hf_breaker_state(g->breaker) == HF_BREAKER_OPEN) {
        if (!hf_breaker_allow(g->breaker, now_ms()))
            return ING_ADMIT_OPEN;
        if (take_token(g, redis, retry_after_ms))
            return ING_ADMIT_GO;
        hf_breaker_failure(g->breaker, now_ms());
        return ING_ADMIT_LIMITED;
    }
    if (!take_token(g, redis, retry_after_ms))
        return ING_ADMIT_LIMITED;
    return hf_breaker_allow(g->breaker, now_ms()) ? ING_ADMIT_GO : ING_ADMIT_OPEN;
}

void ing_guard_done(ing_guard *g, bool ok)
{
    if (ok)
        hf_breaker_success(g->breaker, now_ms());
    else
        hf_breaker_failure(g->breaker, now_ms());
}

const char *ing_guard_state(ing_guard *g)
{
    return hf_breaker_state_name(hf_breaker_state(g->breaker));
}
