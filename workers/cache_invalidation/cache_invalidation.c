/* Cache-invalidation pool: turns cache.invalidate messages, which the pools
 * produce after the commit that made a cached value wrong, into version bumps
 * of the entities' namespaces (hf_cache.h explains why a bump, made after
 * the commit, can never be overtaken by a value computed before it); and
 * warms a person's cached reads on job.cache_warm. Design: README.md beside
 * this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_cache.h"
#include "hf_log.h"
#include "hf_reads.h"
#include "hf_redis.h"
#include "hf_runtime.h"
#include "hf_time.h"

#define DAY_US (86400LL * 1000000)
#define WARM_DAYS 7 /* the dashboard's default range: the last 7 days */

struct state {
    hf_redis *redis;
    /* The batch's work, deduplicated: one bump per entity however many
     * messages name it. */
    struct hf_cache_target *targets;
    int n_targets, cap_targets;
    int64_t *programs_to_mark; /* programs with new logs: their member's insights go stale */
    int n_mark, cap_mark;
    int64_t *ingredients; /* by id: their names are looked up */
    int n_ingr, cap_ingr;
    char **names; /* the looked-up names, owned; the targets point into them */
    int n_names, cap_names;
    int64_t *warm; /* members to warm */
    int n_warm, cap_warm;
    int64_t *hot; /* programs whose dashboard range was cached before the bump */
    int n_hot, cap_hot;
};

struct invalidation {
    const char *entity;
    int64_t entity_id;
    const char *kind;
    int32_t date; /* days since the epoch */
    bool has_date;
};

struct warm_job {
    int64_t member_id;
};

static int grow(void **v, int *cap, int n, size_t size)
{
    if (n < *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, (size_t)ncap * size);
    if (!nv)
        return HF_ENOMEM;
    *v = nv;
    *cap = ncap;
    return 0;
}

static int add_id(int64_t **v, int *n, int *cap, int64_t id, struct hf_err *err)
{
    for (int i = 0; i < *n; i++)
        if ((*v)[i] == id)
            return 0;
    if (grow((void **)v, cap, *n, sizeof **v))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    (*v)[(*n)++] = id;
    return 0;
}

/* day < 0: the whole namespace; else (programs) the week of that day. */
static int add_target(struct state *st, enum hf_cache_entity e, int64_t id, const char *name, int32_t day,
                      struct hf_err *err)
{
    for (int i = 0; i < st->n_targets; i++) {
        const struct hf_cache_target *t = &st->targets[i];
        if (t->entity == e && t->id == id && (e != HF_CACHE_INGREDIENT || strcmp(t->name, name) == 0) &&
            t->has_day == (day >= 0) && (day < 0 || t->day == day))
            return 0;
    }
    if (grow((void **)&st->targets, &st->cap_targets, st->n_targets, sizeof *st->targets))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    st->targets[st->n_targets++] = (struct hf_cache_target){ e, id, name, 0, day >= 0, day >= 0 ? day : 0 };
    return 0;
}

static int init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    const struct hf_config *cfg = hf_pool_config(ctx);
    struct state *st = calloc(1, sizeof *st);
    if (!st)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    struct hf_err e = { 0 };
    int rc = hf_redis_connect(cfg->redis_url, cfg->redis_timeout_ms, cfg->redis_retry_ms, &st->redis, &e);
    if (rc && !st->redis) { /* a bad URL: nothing to retry */
        free(st);
        *err = e;
        return rc;
    }
    if (rc) /* Redis away at start: batches wait for it (the runtime retries) */
        hf_warn("%s", e.msg);
    *out = st;
    return 0;
}

static void begin(void *arg)
{
    struct state *st = arg;
    for (int i = 0; i < st->n_names; i++)
        free(st->names[i]);
    st->n_names = 0;
    st->n_targets = st->n_mark = st->n_ingr = st->n_warm = st->n_hot = 0;
}

static void fini(void *arg)
{
    struct state *st = arg;
    begin(st);
    hf_redis_free(st->redis);
    free(st->targets);
    free(st->programs_to_mark);
    free(st->ingredients);
    free(st->names);
    free(st->warm);
    free(st->hot);
    free(st);
}

static int handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    (void)ctx;
    struct state *st = arg;
    /* A replayed message is bumped again: a spare bump costs one cache miss,
     * and the crash that caused the replay may have come before the first. */
    if (strcmp(msg->schema->name, "job.cache_warm") == 0) {
        struct warm_job job;
        const struct hf_bind bind[] = { HF_BIND(struct warm_job, member_id, HF_B_INT) };
        int rc = hf_doc_bind(msg->doc, bind, 1, &job, err);
        return rc ? rc : add_id(&st->warm, &st->n_warm, &st->cap_warm, job.member_id, err);
    }
    if (strcmp(msg->schema->name, "cache.invalidate") != 0)
        return 0; /* another pool's message on a shared topic */
    struct invalidation inv = { 0 };
    const struct hf_bind bind[] = {
        HF_BIND(struct invalidation, entity, HF_B_STR),
        HF_BIND(struct invalidation, entity_id, HF_B_INT),
        HF_BIND(struct invalidation, kind, HF_B_STR),
        HF_BIND_OPT(struct invalidation, date, HF_B_DATE, has_date),
    };
    int rc = hf_doc_bind(msg->doc, bind, 4, &inv, err);
    if (rc)
        return rc;
    if (strcmp(inv.entity, "program") == 0) {
        /* New logs (kind adherence) also make the member's insights stale. */
        if (strcmp(inv.kind, "adherence") == 0)
            rc = add_id(&st->programs_to_mark, &st->n_mark, &st->cap_mark, inv.entity_id, err);
        /* A day of adherence (or a weekly summary starting that day) changed:
         * only ranges meeting its week are stale (hf_cache.h). Anything else
         * of the program: its whole namespace. */
        bool one_day = inv.has_date && inv.date >= 0 &&
                       (strcmp(inv.kind, "adherence") == 0 || strcmp(inv.kind, "adherence_weekly") == 0);
        return rc ? rc : add_target(st, HF_CACHE_PROGRAM, inv.entity_id, NULL, one_day ? inv.date : -1, err);
    }
    if (strcmp(inv.entity, "member") == 0)
        return add_target(st, HF_CACHE_MEMBER, inv.entity_id, NULL, -1, err);
    if (strcmp(inv.entity, "user") == 0)
        return add_target(st, HF_CACHE_USER, inv.entity_id, NULL, -1, err);
    return add_id(&st->ingredients, &st->n_ingr, &st->cap_ingr, inv.entity_id, err); /* the schema allows no other */
}

/* Runs sql with the ids as $1 and calls row() for each (id, text) row. */
static int lookup(hf_pool_ctx *ctx, struct state *st, const char *sql, const int64_t *ids, int n,
                  int (*row)(struct state *, const char *, const char *, struct hf_err *), struct hf_err *err)
{
    if (n == 0)
        return 0;
    char *arr = hf_pg_id_array(ids, (size_t)n);
    if (!arr)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { arr };
    PGresult *res = NULL;
    int rc = hf_pg_exec(hf_pool_pg(ctx), sql, 1, params, &res, err);
    free(arr);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++)
        rc = row(st, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), err);
    PQclear(res);
    return rc;
}

/* The program's targets (added by handle) also set its member's mark. */
static int mark_row(struct state *st, const char *program, const char *member, struct hf_err *err)
{
    (void)err;
    int64_t p = strtoll(program, NULL, 10);
    for (int i = 0; i < st->n_targets; i++)
        if (st->targets[i].entity == HF_CACHE_PROGRAM && st->targets[i].id == p)
            st->targets[i].mark_member = strtoll(member, NULL, 10);
    return 0;
}

static int name_row(struct state *st, const char *id, const char *name, struct hf_err *err)
{
    (void)id;
    if (grow((void **)&st->names, &st->cap_names, st->n_names, sizeof *st->names))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    char *copy = strdup(name);
    if (!copy)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    st->names[st->n_names++] = copy;
    return add_target(st, HF_CACHE_INGREDIENT, 0, copy, -1, err);
}

/* Loads one value into the cache unless it is there; Redis away is an
 * outage (the batch waits), nothing computed yet is not an error. */
static int warm_one(hf_pool_ctx *ctx, struct state *st, const struct hf_cache_ref *ref, struct hf_err *err)
{
    struct hf_read got;
    int rc = hf_reads_get(st->redis, hf_pool_pg(ctx), ref, NULL, &got, err);
    bool degraded = got.degraded;
    hf_read_clear(&got);
    if (rc == HF_ENOTFOUND)
        return 0;
    if (rc == 0 && degraded)
        return hf_err_set(err, HF_EUNAVAIL, true, "Redis is away: cannot warm the cache");
    return rc;
}

/* The range the dashboard shows by default: the program's last 7 days. */
static struct hf_cache_ref dashboard(int64_t program_id)
{
    int32_t today = (int32_t)(hf_time_now_us() / DAY_US);
    return (struct hf_cache_ref){ .kind = HF_CACHE_ADHERENCE, .id = program_id, .from = today - (WARM_DAYS - 1),
                                  .to = today };
}

/* Before the bumps: the programs whose dashboard range is cached now, i.e.
 * read in the last 5 minutes (its TTL). After the bumps, refresh() puts their
 * new values back, so the dashboard's next read is a hit (001 3.2 allows
 * write-through). Programs nobody reads are not recomputed. */
static int find_hot(struct state *st, struct hf_err *err)
{
    for (int i = 0; i < st->n_targets; i++) {
        const struct hf_cache_target *t = &st->targets[i];
        if (t->entity != HF_CACHE_PROGRAM)
            continue;
        struct hf_cache_ref ref = dashboard(t->id);
        uint64_t version;
        char *value = NULL;
        int rc = hf_cache_get(st->redis, &ref, NULL, &version, &value, NULL, NULL, err);
        bool cached = value != NULL;
        free(value);
        if (rc == 0 && cached)
            rc = add_id(&st->hot, &st->n_hot, &st->cap_hot, t->id, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* After the bumps, through the same cache-aside read as the intake: the
 * version is read after the bump and the query runs after the writer's
 * commit (the message was produced after it), so the value stored is the
 * new one, under the live version; a bump of a week the range does not
 * meet left it cached, and this costs one Redis call. */
static int refresh(hf_pool_ctx *ctx, struct state *st, struct hf_err *err)
{
    int rc = 0;
    for (int i = 0; i < st->n_hot && rc == 0; i++) {
        struct hf_cache_ref ref = dashboard(st->hot[i]);
        rc = warm_one(ctx, st, &ref, err);
    }
    return rc;
}

static int warm_member(hf_pool_ctx *ctx, struct state *st, int64_t member_id, struct hf_err *err)
{
    struct hf_cache_ref pred = { .kind = HF_CACHE_PREDICTIONS, .id = member_id };
    struct hf_cache_ref ins = { .kind = HF_CACHE_INSIGHTS, .id = member_id };
    int rc = warm_one(ctx, st, &pred, err);
    if (rc == 0)
        rc = warm_one(ctx, st, &ins, err);
    if (rc)
        return rc;
    char m[24];
    snprintf(m, sizeof m, "%lld", (long long)member_id);
    const char *params[] = { m };
    PGresult *res = NULL;
    rc = hf_pg_exec(hf_pool_pg(ctx),
                    "SELECT id FROM care_programs WHERE member_id = $1 AND status = 'ACTIVE' AND deleted_at IS NULL",
                    1, params, &res, err);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        struct hf_cache_ref adh = dashboard(strtoll(PQgetvalue(res, r, 0), NULL, 10));
        rc = warm_one(ctx, st, &adh, err);
    }
    PQclear(res);
    return rc;
}

static int before_commit(hf_pool_ctx *ctx, void *arg, struct hf_err *err)
{
    struct state *st = arg;
    int rc = lookup(ctx, st, "SELECT id, member_id FROM care_programs WHERE id = ANY($1::bigint[])",
                    st->programs_to_mark, st->n_mark, mark_row, err);
    if (rc == 0)
        rc = lookup(ctx, st, "SELECT id, name FROM ingredient_scores WHERE id = ANY($1::bigint[])", st->ingredients,
                    st->n_ingr, name_row, err);
    /* The bumps go out before this batch's offsets are stored: a failure
     * here (Redis away) rewinds the batch and it is retried, never skipped. */
    if (rc == 0)
        rc = find_hot(st, err);
    if (rc == 0)
        rc = hf_cache_invalidate(st->redis, st->targets, st->n_targets, err);
    if (rc == 0)
        rc = refresh(ctx, st, err);
    for (int i = 0; rc == 0 && i < st->n_warm; i++)
        rc = warm_member(ctx, st, st->warm[i], err);
    return rc;
}

static const char *const families[] = { "cache.invalidate", "jobs.cache", NULL };

const struct hf_pool_def hf_pool_cache_invalidation = {
    .name = "cache_invalidation",
    .families = families,
    .init = init,
    .begin = begin,
    .handle = handle,
    .before_commit = before_commit,
    .fini = fini,
};
