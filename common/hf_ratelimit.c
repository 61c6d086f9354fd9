#include "hf_ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_time.h"

#define HF_RATELIMIT_LOCAL_SLOTS 4096

struct local_bucket {
    double tokens;
    int64_t stamp_ms; /* 0: never used */
};

struct hf_ratelimit {
    int local_share;
    pthread_mutex_t lock;
    struct local_bucket *slots;
};

/* The same arithmetic as hf_ratelimit_step, run by Redis on its own clock so
 * that processes on different hosts agree. Tokens are kept as text with 17
 * significant digits: a double survives the round trip exactly. The bucket
 * expires after two windows without a take, when it would be full anyway. */
static const char *const take_lua =
    "local now_t = redis.call('TIME')\n"
    "local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)\n"
    "local limit, window, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local b = redis.call('HMGET', KEYS[1], 't', 's')\n"
    "local tokens, stamp = tonumber(b[1]), tonumber(b[2])\n"
    "if tokens == nil or stamp == nil then tokens = limit; stamp = now end\n"
    "if now > stamp then tokens = math.min(limit, tokens + (now - stamp) * limit / window) end\n"
    "local allowed, wait = 0, 0\n"
    "if tokens >= n then tokens = tokens - n; allowed = 1\n"
    "else wait = math.ceil((n - tokens) * window / limit - 1e-6) end\n"
    "redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 's', math.max(now, stamp))\n"
    "redis.call('PEXPIRE', KEYS[1], 2 * window)\n"
    "return {allowed, wait}\n";

/* The script's SHA-1 is a function of a constant: computed once, read-only after. */
static struct hf_redis_script script;
static pthread_once_t script_once = PTHREAD_ONCE_INIT;

static void init_script(void)
{
    hf_redis_script_init(&script, take_lua);
}

int hf_ratelimit_new(int local_share, hf_ratelimit **out, struct hf_err *err)
{
    *out = NULL;
    hf_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl || !(rl->slots = calloc(HF_RATELIMIT_LOCAL_SLOTS, sizeof *rl->slots))) {
        free(rl);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    rl->local_share = local_share < 1 ? 1 : local_share;
    pthread_mutex_init(&rl->lock, NULL);
    *out = rl;
    return 0;
}

void hf_ratelimit_free(hf_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

bool hf_ratelimit_step(double *tokens, int64_t *stamp_ms, int64_t now_ms, int64_t limit, int64_t window_ms, int64_t n,
                       int64_t *retry_after_ms)
{
    if (now_ms > *stamp_ms) {
        *tokens += (double)(now_ms - *stamp_ms) * (double)limit / (double)window_ms;
        if (*tokens > (double)limit)
            *tokens = (double)limit;
        *stamp_ms = now_ms;
    }
    if (*tokens >= (double)n) {
        *tokens -= (double)n;
        *retry_after_ms = 0;
        return true;
    }
    /* less a hair, so float error never rounds an exact millisecond up */
    *retry_after_ms = (int64_t)ceil(((double)n - *tokens) * (double)window_ms / (double)limit - 1e-6);
    return false;
}

static void take_local(hf_ratelimit *rl, const char *name, int64_t limit, int64_t window_ms, int64_t n,
                       struct hf_ratelimit_result *res)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    int64_t local_limit = limit / rl->local_share;
    if (local_limit < 1)
        local_limit = 1;
    /* Monotonic, plus one so that 0 stays the "never used" mark. */
    int64_t now_ms = hf_time_mono_us() / 1000 + 1;
    pthread_mutex_lock(&rl->lock);
    struct local_bucket *b = &rl->slots[h % HF_RATELIMIT_LOCAL_SLOTS];
    if (b->stamp_ms == 0) {
        b->tokens = (double)local_limit;
        b->stamp_ms = now_ms;
    }
    res->allowed = hf_ratelimit_step(&b->tokens, &b->stamp_ms, now_ms, local_limit, window_ms, n, &res->retry_after_ms);
    pthread_mutex_unlock(&rl->lock);
    res->local = true;
}

int hf_ratelimit_take(hf_ratelimit *rl, hf_redis *redis, const char *name, int64_t limit, int64_t window_ms,
                      int64_t n, struct hf_ratelimit_result *res, struct hf_err *err)
{
    memset(res, 0, sizeof *res);
    if (limit < 1 || window_ms < 1 || n < 1)
        return hf_err_set(err, HF_EINVAL, false, "rate limit %s: limit %lld per %lld ms, taking %lld: all must be >= 1",
                          name, (long long)limit, (long long)window_ms, (long long)n);
    if (redis) {
        pthread_once(&script_once, init_script);
        char a_limit[24], a_window[24], a_n[24];
        snprintf(a_limit, sizeof a_limit, "%lld", (long long)limit);
        snprintf(a_window, sizeof a_window, "%lld", (long long)window_ms);
        snprintf(a_n, sizeof a_n, "%lld", (long long)n);
        const char *keys[] = { name }, *args[] = { a_limit, a_window, a_n };
        redisReply *rep = NULL;
        struct hf_err e = { 0 };
        int rc = hf_redis_eval(redis, &script, 1, keys, 3, args, &rep, &e);
        if (rc == 0 && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
                        rep->element[0]->type != REDIS_REPLY_INTEGER || rep->element[1]->type != REDIS_REPLY_INTEGER))
            rc = hf_err_set(&e, HF_EIO, false, "rate limit script answered an unexpected reply");
        if (rc == 0) {
            res->allowed = rep->element[0]->integer == 1;
            res->retry_after_ms = rep->element[1]->integer;
        }
        freeReplyObject(rep);
        if (rc == 0)
            return 0;
        if (rc != HF_EUNAVAIL) {
            if (err)
                *err = e;
            return HF_EINVAL;
        }
    }
    take_local(rl, name, limit, window_ms, n, res);
    return 0;
}
