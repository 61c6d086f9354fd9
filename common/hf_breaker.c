#include "hf_breaker.h"

#include <pthread.h>
#include <stdlib.h>

struct hf_breaker {
    pthread_mutex_t lock;
    struct hf_breaker_conf conf;
    enum hf_breaker_state state;
    int failures;  /* consecutive, in CLOSED */
    int successes; /* consecutive trial successes, in HALF_OPEN */
    bool trial_in_flight;
    int64_t opened_at_ms; /* time of the failure that (re)opened it */
};

hf_breaker *hf_breaker_new(const struct hf_breaker_conf *conf)
{
    if (!conf || conf->failure_threshold < 1 || conf->recovery_ms < 1 || conf->success_threshold < 1)
        return NULL;
    hf_breaker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_mutex_init(&b->lock, NULL);
    b->conf = *conf;
    b->state = HF_BREAKER_CLOSED;
    return b;
}

void hf_breaker_free(hf_breaker *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

bool hf_breaker_allow(hf_breaker *b, int64_t now_ms)
{
    pthread_mutex_lock(&b->lock);
    bool ok = true;
    if (b->state == HF_BREAKER_OPEN) {
        ok = now_ms - b->opened_at_ms >= b->conf.recovery_ms;
        if (ok) {
            b->state = HF_BREAKER_HALF_OPEN;
            b->successes = 0;
            b->trial_in_flight = true;
        }
    } else if (b->state == HF_BREAKER_HALF_OPEN) {
        /* One trial at a time: a provider just back up gets one call, not
         * the whole queue at once. */
        ok = !b->trial_in_flight;
        if (ok)
            b->trial_in_flight = true;
    }
    pthread_mutex_unlock(&b->lock);
    return ok;
}

void hf_breaker_success(hf_breaker *b, int64_t now_ms)
{
    (void)now_ms;
    pthread_mutex_lock(&b->lock);
    if (b->state == HF_BREAKER_HALF_OPEN) {
        b->trial_in_flight = false;
        if (++b->successes >= b->conf.success_threshold) {
            b->state = HF_BREAKER_CLOSED;
            b->failures = 0;
        }
    } else if (b->state == HF_BREAKER_CLOSED) {
        b->failures = 0;
    }
    pthread_mutex_unlock(&b->lock);
}

void hf_breaker_failure(hf_breaker *b, int64_t now_ms)
{
    pthread_mutex_lock(&b->lock);
    if (b->state == HF_BREAKER_HALF_OPEN) {
        b->trial_in_flight = false;
        b->state = HF_BREAKER_OPEN;
        b->opened_at_ms = now_ms;
    } else if (b->state == HF_BREAKER_CLOSED) {
        if (++b->failures >= b->conf.failure_threshold) {
            b->state = HF_BREAKER_OPEN;
            b->opened_at_ms = now_ms;
        }
    } else {
        /* A call admitted before the breaker opened, failing late: the
         * provider is still down, so the recovery wait starts again. */
        b->opened_at_ms = now_ms;
    }
    pthread_mutex_unlock(&b->lock);
}

enum hf_breaker_state hf_breaker_state(hf_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    enum hf_breaker_state s = b->state;
    pthread_mutex_unlock(&b->lock);
    return s;
}

const char *hf_breaker_state_name(enum hf_breaker_state s)
{
    switch (s) {
    case HF_BREAKER_CLOSED:
        return "closed";
    case HF_BREAKER_OPEN:
        return "open";
    case HF_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}

struct hf_bucket {
    pthread_mutex_t lock;
    double tokens;
    double per_ms; /* refill rate */
    int rate;
    int64_t last_ms;
};

hf_bucket *hf_bucket_new(int rate, int64_t window_ms, int64_t now_ms)
{
    if (rate < 1 || window_ms < 1)
        return NULL;
    hf_bucket *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    pthread_mutex_init(&k->lock, NULL);
    k->rate = rate;
    k->tokens = rate;
    k->per_ms = (double)rate / (double)window_ms;
    k->last_ms = now_ms;
    return k;
}

void hf_bucket_free(hf_bucket *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->lock);
    free(k);
}

int64_t hf_bucket_take(hf_bucket *k, int64_t now_ms)
{
    pthread_mutex_lock(&k->lock);
    if (now_ms > k->last_ms) {
        k->tokens += (double)(now_ms - k->last_ms) * k->per_ms;
        if (k->tokens > k->rate)
            k->tokens = k->rate;
        k->last_ms = now_ms;
    }
    int64_t wait = 0;
    if (k->tokens >= 1.0) {
        k->tokens -= 1.0;
    } else {
        wait = (int64_t)((1.0 - k->tokens) / k->per_ms) + 1;
    }
    pthread_mutex_unlock(&k->lock);
    return wait;
}
