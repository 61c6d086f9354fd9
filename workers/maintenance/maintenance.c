/* Maintenance pool: database upkeep on request of the scheduler's firings
 * (job.maintenance). Rules: README.md beside this file.
 *
 *  - purge: hard-deletes the rows of the soft-deletable tables (daily_logs,
 *    care_programs, members, users) whose deleted_at is more than `days`
 *    (default 30) ago, writing one audit_logs row per deleted row in the
 *    same statement, so a row is never gone without its audit record; and
 *    forgets the fleet's own bookkeeping past its use: processed_events
 *    older than HF_PROCESSED_KEEP_DAYS, produced scheduler firings older
 *    than HF_FIRINGS_KEEP_DAYS (every event of every pool leaves a
 *    processed_events row: unpurged, it would become the largest table);
 *  - partitions: creates the daily_logs partitions of this month and the
 *    next `months` (default 3) with hf_ensure_log_partition.
 * Both are idempotent: a repeated job finds nothing more to do. */
#include <stdio.h>
#include <string.h>

#include "hf_log.h"
#include "hf_runtime.h"

struct maint_job {
    const char *task;
    int64_t shard;
    int64_t days;
    bool has_days;
    int64_t months;
    bool has_months;
    const char *trigger;
};

static const char *const families[] = { "jobs.maintenance", NULL };

/* One statement per table: the delete and its audit rows succeed or fail
 * together. hf_pg prepares statements by the address of their text, so
 * each is a literal of its own. */
#define PURGE_SQL(t)                                                                                        \
    "WITH d AS (DELETE FROM " t " WHERE deleted_at < now() - make_interval(days => $1::int)"               \
    " RETURNING id, deleted_at),"                                                                           \
    " a AS (INSERT INTO audit_logs (actor_id, target_resource, action, details)"                           \
    "  SELECT 'hf-maintenance', '" t "/' || id, 'PURGE', jsonb_build_object('deleted_at', deleted_at,"    \
    "   'days', $1::int, 'trigger', $2::text) FROM d RETURNING 1)"                                         \
    " SELECT count(*) FROM a"

/* Children first: purging a member cascades to whatever of theirs is left,
 * but each row that was itself soft-deleted gets its own audit row. */
static const struct {
    const char *table, *sql;
} purges[] = {
    { "daily_logs", PURGE_SQL("daily_logs") },
    { "care_programs", PURGE_SQL("care_programs") },
    { "members", PURGE_SQL("members") },
    { "users", PURGE_SQL("users") },
};

static int purge(hf_pool_ctx *ctx, const struct maint_job *job, const char *event_id, struct hf_err *err)
{
    char days[16];
    snprintf(days, sizeof days, "%lld", (long long)(job->has_days ? job->days : 30));
    const char *params[] = { days, job->trigger };
    for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
        PGresult *res = NULL;
        int rc = hf_pg_exec(hf_pool_pg(ctx), purges[i].sql, 2, params, &res, err);
        if (rc == 0 && PQgetvalue(res, 0, 0)[0] != '0')
            hf_log(HF_LOG_INFO, event_id, "purge %s: %s rows deleted more than %s days ago", purges[i].table,
                   PQgetvalue(res, 0, 0), days);
        PQclear(res);
        if (rc)
            return rc;
    }
    return 0;
}

/* No audit rows: these are the fleet's records of its own work, not anyone's
 * data. A redelivered event older than the kept window would be applied
 * again, so the window outlasts the topics' retention. */
static int forget(hf_pool_ctx *ctx, const char *event_id, struct hf_err *err)
{
    static const struct {
        const char *what, *sql;
    } bookkeeping[] = {
        { "processed_events", "WITH d AS (DELETE FROM processed_events WHERE processed_at < now()"
                              " - make_interval(days => $1::int) RETURNING 1) SELECT count(*) FROM d" },
        { "scheduler_firings", "WITH d AS (DELETE FROM scheduler_firings WHERE state = 'produced' AND scheduled_at < now()"
                               " - make_interval(days => $1::int) RETURNING 1) SELECT count(*) FROM d" },
    };
    const struct hf_config *cfg = hf_pool_config(ctx);
    const int keep[] = { cfg->processed_keep_days, cfg->firings_keep_days };
    for (size_t i = 0; i < sizeof bookkeeping / sizeof bookkeeping[0]; i++) {
        char days[16];
        snprintf(days, sizeof days, "%d", keep[i]);
        const char *params[] = { days };
        PGresult *res = NULL;
        int rc = hf_pg_exec(hf_pool_pg(ctx), bookkeeping[i].sql, 1, params, &res, err);
        if (rc == 0 && PQgetvalue(res, 0, 0)[0] != '0')
            hf_log(HF_LOG_INFO, event_id, "purge %s: %s rows older than %s days forgotten", bookkeeping[i].what,
                   PQgetvalue(res, 0, 0), days);
        PQclear(res);
        if (rc)
            return rc;
    }
    return 0;
}

static int partitions(hf_pool_ctx *ctx, const struct maint_job *job, struct hf_err *err)
{
    char months[16];
    snprintf(months, sizeof months, "%lld", (long long)(job->has_months ? job->months : 3));
    const char *params[] = { months };
    return hf_pg_exec(hf_pool_pg(ctx),
                      "SELECT hf_ensure_log_partition(date_trunc('month', now()) + make_interval(months => k))"
                      " FROM generate_series(0, $1::int) AS k",
                      1, params, NULL, err);
}

static int handle(hf_pool_ctx *ctx, void *state, const struct hf_msg *msg, struct hf_err *err)
{
    (void)state;
    if (msg->replayed)
        return 0;
    static const struct hf_bind bind[] = {
        HF_BIND(struct maint_job, task, HF_B_STR),
        HF_BIND(struct maint_job, shard, HF_B_INT),
        HF_BIND_OPT(struct maint_job, days, HF_B_INT, has_days),
        HF_BIND_OPT(struct maint_job, months, HF_B_INT, has_months),
        HF_BIND(struct maint_job, trigger, HF_B_STR),
    };
    struct maint_job job = { 0 };
    int rc = hf_doc_bind(msg->doc, bind, sizeof bind / sizeof bind[0], &job, err);
    if (rc)
        return rc;
    if (strcmp(job.task, "purge") == 0) {
        rc = purge(ctx, &job, msg->event_id, err);
        return rc ? rc : forget(ctx, msg->event_id, err);
    }
    return partitions(ctx, &job, err);
}

const struct hf_pool_def hf_pool_maintenance = {
    .name = "maintenance",
    .families = families,
    .handle = handle,
};
