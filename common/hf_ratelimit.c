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
 * that processes on different hosts agree, over every bucket of one take:
 * all are refilled and checked first, and tokens are taken only when each has
 * enough. Tokens are kept as text with 17 significant digits: a double
 * survives the round trip exactly. A bucket expires after two windows without
 * a take, when it would be full anyway. Answers {allowed, wait ms, the first
 * refusing bucket (1-based) or 0}. */
static const char *const take_lua =
    "local now_t = redis.call('TIME')\n"
    "local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)\n"
    "local st, wait, refused = {}, 0, 0\n"
    "for i = 1, #KEYS do\n"
    "  local limit, window, n = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])\n"
    "  local b = redis.call('HMGET', KEYS[i], 't', 's')\n"
    "  local tokens, stamp = tonumber(b[1]), tonumber(b[2])\n"
    "  if tokens == nil or stamp == nil then tokens = limit; stamp = now end\n"
    "  if now > stamp then tokens = math.min(limit, tokens + (now - stamp) * limit / window); stamp = now end\n"
    "  if tokens < n then\n"
    "    if refused == 0 then refused = i end\n"
    "    wait = math.max(wait, math.ceil((n - tokens) * window / limit - 1e-6))\n"
    "  end\n"
    "  st[i] = {tokens, stamp, window, n}\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  local tokens = st[i][1]\n"
    "  if refused == 0 then tokens = tokens - st[i][4] end\n"
    "  redis.call('HSET', KEYS[i], 't', string.format('%.17g', tokens), 's', st[i][2])\n"
    "  redis.call('PEXPIRE', KEYS[i], 2 * st[i][3])\n"
    "end\n"
    "return {refused == 0 and 1 or 0, wait, refused}\n";

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

static uint64_t slot_of(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h % HF_RATELIMIT_LOCAL_SLOTS;
}

/* Steps each bucket in turn, keeping what it was; a refusal puts them all
 * back in reverse order, which is right even when two names share a slot. */
static void take_local(hf_ratelimit *rl, const struct hf_ratelimit_bucket *b, size_t nb,
                       struct hf_ratelimit_result *res)
{
    struct local_bucket saved[HF_RATELIMIT_MAX_BUCKETS];
    struct local_bucket *slot[HF_RATELIMIT_MAX_BUCKETS];
    /* Monotonic, plus one so that 0 stays the "never used" mark. */
    int64_t now_ms = hf_time_mono_us() / 1000 + 1;
    res->allowed = true;
    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i < nb; i++) {
        int64_t local_limit = b[i].limit / rl->local_share;
        if (local_limit < 1)
            local_limit = 1;
        slot[i] = &rl->slots[slot_of(b[i].name)];
        saved[i] = *slot[i];
        if (slot[i]->stamp_ms == 0) {
            slot[i]->tokens = (double)local_limit;
            slot[i]->stamp_ms = now_ms;
        }
        int64_t wait = 0;
        if (!hf_ratelimit_step(&slot[i]->tokens, &slot[i]->stamp_ms, now_ms, local_limit, b[i].window_ms, b[i].n,
                               &wait)) {
            if (res->allowed)
                res->refused = (int)i;
            res->allowed = false;
            if (wait > res->retry_after_ms)
                res->retry_after_ms = wait;
        }
    }
    if (!res->allowed)
        for (size_t i = nb; i-- > 0;)
            *slot[i] = saved[i];
    pthread_mutex_unlock(&rl->lock);
    res->local = true;
}

int hf_ratelimit_take(hf_ratelimit *rl, hf_redis *redis, const struct hf_ratelimit_bucket *buckets, size_t n_buckets,
                      struct hf_ratelimit_result *res, struct hf_err *err)
{
    memset(res, 0, sizeof *res);
    res->refused = -1;
    if (n_buckets < 1 || n_buckets > HF_RATELIMIT_MAX_BUCKETS)
        return hf_err_set(err, HF_EINVAL, false, "a rate limit take names 1 to %d buckets, not %zu",
                          HF_RATELIMIT_MAX_BUCKETS, n_buckets);
    for (size_t i = 0; i < n_buckets; i++)
        if (buckets[i].limit < 1 || buckets[i].window_ms < 1 || buckets[i].n < 1)
            return hf_err_set(err, HF_EINVAL, false,
                              "rate limit %s: limit %lld per %lld ms, taking %lld: all must be >= 1", buckets[i].name,
                              (long long)buckets[i].limit, (long long)buckets[i].window_ms, (long long)buckets[i].n);
    if (redis) {
        pthread_once(&script_once, init_script);
        char text[HF_RATELIMIT_MAX_BUCKETS * 3][24];
        const char *keys[HF_RATELIMIT_MAX_BUCKETS], *args[HF_RATELIMIT_MAX_BUCKETS * 3];
        for (size_t i = 0; i < n_buckets; i++) {
            keys[i] = buckets[i].name;
            const int64_t v[3] = { buckets[i].limit, buckets[i].window_ms, buckets[i].n };
            for (int k = 0; k < 3; k++) {
                snprintf(text[3 * i + k], sizeof text[0], "%lld", (long long)v[k]);
                args[3 * i + k] = text[3 * i + k];
            }
        }
        redisReply *rep = NULL;
        struct hf_err e = { 0 };
        int rc = hf_redis_eval(redis, &script, (int)n_buckets, keys, (int)(3 * n_buckets), args, &rep, &e);
        if (rc == 0 && (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
                        rep->element[0]->type != REDIS_REPLY_INTEGER || rep->element[1]->type != REDIS_REPLY_INTEGER ||
                        rep->element[2]->type != REDIS_REPLY_INTEGER))
            rc = hf_err_set(&e, HF_EIO, false, "rate limit script answered an unexpected reply");
        if (rc == 0) {
            res->allowed = rep->element[0]->integer == 1;
            res->retry_after_ms = rep->element[1]->integer;
            res->refused = (int)rep->element[2]->integer - 1;
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
    take_local(rl, buckets, n_buckets, res);
    return 0;
}
