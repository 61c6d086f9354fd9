#include "intake_limits.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "hf_cache.h"
#include "hf_log.h"
#include "hf_ratelimit.h"

struct slot {
    pthread_mutex_t lock;
    hf_redis *redis;
};

struct intake_limits {
    const struct hf_config *cfg;
    hf_ratelimit *rl;
    struct slot *slots;
    int n;
    atomic_uint next;
    hf_metric *m_local, *m_refused;
};

int intake_limits_new(const struct hf_config *cfg, hf_metrics *m, intake_limits **out, struct hf_err *err)
{
    *out = NULL;
    intake_limits *l = calloc(1, sizeof *l);
    if (!l)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    l->cfg = cfg;
    l->n = cfg->intake_threads;
    l->slots = calloc((size_t)l->n, sizeof *l->slots);
    if (!l->slots || hf_ratelimit_new(cfg->rate_local_share, &l->rl, err)) {
        free(l->slots);
        free(l);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    for (int i = 0; i < l->n; i++)
        pthread_mutex_init(&l->slots[i].lock, NULL);
    l->m_local = hf_metrics_counter(m, "hf_ratelimit_local_total",
                                    "Rate-limit decisions taken by the in-process fallback (Redis away).", "");
    l->m_refused = hf_metrics_counter(m, "hf_ratelimit_refused_total", "Requests refused with 429.", "");
    *out = l;
    return 0;
}

void intake_limits_free(intake_limits *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++) {
        hf_redis_free(l->slots[i].redis);
        pthread_mutex_destroy(&l->slots[i].lock);
    }
    free(l->slots);
    hf_ratelimit_free(l->rl);
    free(l);
}

hf_redis *intake_limits_redis(intake_limits *l, int *slot)
{
    unsigned start = atomic_fetch_add(&l->next, 1);
    int i = -1;
    for (int k = 0; k < l->n && i < 0; k++)
        if (pthread_mutex_trylock(&l->slots[(start + (unsigned)k) % (unsigned)l->n].lock) == 0)
            i = (int)((start + (unsigned)k) % (unsigned)l->n);
    if (i < 0) {
        i = (int)(start % (unsigned)l->n);
        pthread_mutex_lock(&l->slots[i].lock);
    }
    *slot = i;
    struct slot *s = &l->slots[i];
    if (!s->redis) {
        struct hf_err err = { 0 };
        /* Kept even when Redis is away now: it reconnects on a later call. */
        if (hf_redis_connect(l->cfg->redis_url, l->cfg->redis_timeout_ms, l->cfg->redis_retry_ms, &s->redis, &err))
            hf_warn("Redis: %s", err.msg);
    }
    return s->redis;
}

void intake_limits_redis_return(intake_limits *l, int slot)
{
    pthread_mutex_unlock(&l->slots[slot].lock);
}

int intake_limits_take(intake_limits *l, const struct intake_take *t, int *retry_after_s,
                       enum intake_limit *refused_by)
{
    char client_key[96], user_key[96];
    hf_cache_ratelimit_key("client", t->client_id, NULL, client_key, sizeof client_key);
    struct hf_ratelimit_bucket b[2] = { { client_key, t->client_rpm, 60000, t->n } };
    size_t nb = 1;
    if (t->user != INTAKE_LIMIT_CLIENT) {
        bool read = t->user == INTAKE_LIMIT_USER_READ;
        hf_cache_ratelimit_key("user", t->user_id, read ? "read" : "write", user_key, sizeof user_key);
        b[nb++] = (struct hf_ratelimit_bucket){ user_key,
                                                read ? l->cfg->rate_user_read_rpm : l->cfg->rate_user_write_rpm,
                                                60000, 1 };
    }
    int slot;
    hf_redis *redis = intake_limits_redis(l, &slot);
    struct hf_ratelimit_result res;
    struct hf_err err = { 0 };
    int rc = hf_ratelimit_take(l->rl, redis, b, nb, &res, &err);
    intake_limits_redis_return(l, slot);
    if (rc) {
        /* A broken script is a bug; refusing everyone would turn it into an outage. */
        hf_error("rate limit %s: %s", client_key, err.msg);
        return 0;
    }
    if (res.local)
        hf_metric_add(l->m_local, 1);
    if (res.allowed)
        return 0;
    hf_metric_add(l->m_refused, 1);
    *refused_by = res.refused == 1 ? t->user : INTAKE_LIMIT_CLIENT;
    *retry_after_s = (int)((res.retry_after_ms + 999) / 1000);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return HF_EDENIED;
}
