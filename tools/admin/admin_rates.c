#include "admin_rates.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sample {
    int64_t t_ms, position, end;
};

struct ring {
    char group[160];
    struct sample *s;
    int head, n; /* s[head] is the oldest of n */
};

struct admin_rates {
    pthread_mutex_t mu;
    int capacity, max_groups, n_groups;
    struct ring *rings;
};

int admin_rates_new(int capacity, int max_groups, admin_rates **out, struct hf_err *err)
{
    *out = NULL;
    admin_rates *r = calloc(1, sizeof *r);
    if (!r || !(r->rings = calloc((size_t)max_groups, sizeof *r->rings))) {
        free(r);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    r->capacity = capacity < 2 ? 2 : capacity;
    r->max_groups = max_groups;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

void admin_rates_free(admin_rates *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_groups; i++)
        free(r->rings[i].s);
    free(r->rings);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Under the lock. NULL when unknown and (create false, or no room). */
static struct ring *find(admin_rates *r, const char *group, bool create)
{
    for (int i = 0; i < r->n_groups; i++)
        if (strcmp(r->rings[i].group, group) == 0)
            return &r->rings[i];
    if (!create || r->n_groups == r->max_groups || strlen(group) >= sizeof r->rings[0].group)
        return NULL;
    struct ring *g = &r->rings[r->n_groups];
    if (!(g->s = calloc((size_t)r->capacity, sizeof *g->s)))
        return NULL;
    memcpy(g->group, group, strlen(group) + 1);
    r->n_groups++;
    return g;
}

static const struct sample *at(const admin_rates *r, const struct ring *g, int i)
{
    return &g->s[(g->head + i) % r->capacity];
}

void admin_rates_add(admin_rates *r, const char *group, int64_t t_ms, int64_t position, int64_t end)
{
    pthread_mutex_lock(&r->mu);
    struct ring *g = find(r, group, true);
    if (g && (g->n == 0 || at(r, g, g->n - 1)->t_ms < t_ms)) {
        struct sample s = { t_ms, position, end };
        if (g->n < r->capacity) {
            g->s[(g->head + g->n) % r->capacity] = s;
            g->n++;
        } else {
            g->s[g->head] = s;
            g->head = (g->head + 1) % r->capacity;
        }
    }
    pthread_mutex_unlock(&r->mu);
}

struct admin_rate admin_rates_get(admin_rates *r, const char *group, int64_t window_ms)
{
    struct admin_rate out = { 0, 0, 0, 0 };
    pthread_mutex_lock(&r->mu);
    const struct ring *g = find(r, group, false);
    if (g && g->n > 0) {
        const struct sample *last = at(r, g, g->n - 1), *first = last;
        out.samples = 1;
        for (int i = g->n - 2; i >= 0 && last->t_ms - at(r, g, i)->t_ms <= window_ms; i--) {
            first = at(r, g, i);
            out.samples++;
        }
        int64_t lag = last->end - last->position;
        if (out.samples >= 2) {
            double dt = (double)(last->t_ms - first->t_ms) / 1000.0;
            out.consumed_per_s = (double)(last->position - first->position) / dt;
            out.produced_per_s = (double)(last->end - first->end) / dt;
        }
        double net = out.consumed_per_s - out.produced_per_s;
        out.drain_s = lag <= 0 ? 0 : net > 0 ? (double)lag / net : -1;
    }
    pthread_mutex_unlock(&r->mu);
    return out;
}

json_t *admin_rates_series(admin_rates *r, const char *group)
{
    json_t *a = json_array();
    pthread_mutex_lock(&r->mu);
    const struct ring *g = find(r, group, false);
    for (int i = 0; a && g && i < g->n; i++) {
        const struct sample *s = at(r, g, i), *prev = i ? at(r, g, i - 1) : NULL;
        double rate = prev ? (double)(s->position - prev->position) * 1000.0 / (double)(s->t_ms - prev->t_ms) : 0;
        json_array_append_new(a, json_pack("[I, I, f]", (json_int_t)s->t_ms, (json_int_t)(s->end - s->position), rate));
    }
    pthread_mutex_unlock(&r->mu);
    return a;
}
