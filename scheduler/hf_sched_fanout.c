#include "hf_sched_fanout.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_codec.h"
#include "hf_uuid.h"

/* Recipients of a firing: $1 the last key of the previous page, $2 the page
 * size, then `extra` (below). Column 0 is the key; column 1, when present,
 * the week. */
enum extra { X_NONE, X_AT, X_AT_ARG, X_LOCAL_DATE };

static const struct {
    const char *schema;
    const char *sql; /* NULL: one job, no query */
    enum extra extra;
    bool text_key;
} kinds[HF_JOB_KIND_COUNT] = {
    /* 002's should_retrain: at least 14 logs, and never trained, or the
     * stalest active model is 7 days old, or 7 or 20% more logs since. */
    [HF_JOB_RETRAIN] = { "job.retrain",
                         "SELECT m.id FROM members m"
                         " CROSS JOIN LATERAL (SELECT count(*) AS n FROM daily_logs l"
                         "  WHERE l.member_id = m.id AND l.deleted_at IS NULL) c"
                         " LEFT JOIN LATERAL (SELECT min(um.trained_at) AS trained_at, min(um.samples) AS samples"
                         "  FROM user_models um WHERE um.member_id = m.id AND um.active) t ON true"
                         " WHERE m.id > $1::bigint AND m.deleted_at IS NULL AND c.n >= 14"
                         "  AND (t.trained_at IS NULL OR t.trained_at <= to_timestamp($3::bigint) - interval '7 days'"
                         "   OR c.n - t.samples >= 7 OR c.n - t.samples > 0.2 * t.samples)"
                         " ORDER BY m.id LIMIT $2::int",
                         X_AT, false },
    [HF_JOB_INSIGHT_REFRESH] = { "job.insight_refresh",
                                 "SELECT m.id FROM members m LEFT JOIN user_insights ui ON ui.member_id = m.id"
                                 " WHERE m.id > $1::bigint AND m.deleted_at IS NULL AND EXISTS (SELECT 1"
                                 "  FROM daily_logs l WHERE l.member_id = m.id"
                                 "  AND l.updated_at > coalesce(ui.computed_at, '-infinity'::timestamptz))"
                                 " ORDER BY m.id LIMIT $2::int",
                                 X_NONE, false },
    [HF_JOB_CACHE_WARM] = { "job.cache_warm",
                            "SELECT m.id FROM members m WHERE m.id > $1::bigint AND m.deleted_at IS NULL"
                            " AND EXISTS (SELECT 1 FROM daily_logs l WHERE l.member_id = m.id AND l.deleted_at IS NULL"
                            "  AND l.logged_at > to_timestamp($3::bigint) - make_interval(days => $4::int)"
                            "  AND l.logged_at <= to_timestamp($3::bigint))"
                            " ORDER BY m.id LIMIT $2::int",
                            X_AT_ARG, false },
    [HF_JOB_INGREDIENT_STALE] = { "job.ingredient_score",
                                  "SELECT name FROM ingredient_scores WHERE name > $1::text"
                                  " AND scored_at < to_timestamp($3::bigint) - make_interval(days => $4::int)"
                                  " ORDER BY name LIMIT $2::int",
                                  X_AT_ARG, true },
    [HF_JOB_PURGE] = { "job.maintenance", NULL, X_NONE, false },
    [HF_JOB_PARTITIONS] = { "job.maintenance", NULL, X_NONE, false },
    /* the week before the firing's week (Monday to Sunday, in its zone) */
    [HF_JOB_ADHERENCE_WEEKLY] = { "job.adherence_weekly",
                                  "SELECT p.id, (date_trunc('week', $3::date)::date - 7)::text FROM care_programs p"
                                  " JOIN members m ON m.id = p.member_id AND m.deleted_at IS NULL"
                                  " WHERE p.id > $1::bigint AND p.status = 'ACTIVE' AND p.deleted_at IS NULL"
                                  "  AND p.start_date <= date_trunc('week', $3::date)::date - 1"
                                  "  AND p.end_date >= date_trunc('week', $3::date)::date - 7"
                                  " ORDER BY p.id LIMIT $2::int",
                                  X_LOCAL_DATE, false },
};

const char *hf_fanout_schema(enum hf_job_kind k)
{
    return kinds[k].schema;
}

/* The job for one recipient (key, week from the query row). */
static json_t *job_json(const struct hf_firing *f, const char *key, const char *week)
{
    json_int_t id = (json_int_t)strtoll(key ? key : "0", NULL, 10);
    const char *trigger = f->id;
    switch (f->job) {
    case HF_JOB_RETRAIN:
        return json_pack("{s:I, s:s, s:s, s:s}", "member_id", id, "model", "all", "reason",
                         f->manual ? "manual" : "schedule", "trigger", trigger);
    case HF_JOB_INSIGHT_REFRESH:
        return json_pack("{s:I, s:s, s:s}", "member_id", id, "reason", f->manual ? "manual" : "schedule", "trigger",
                         trigger);
    case HF_JOB_CACHE_WARM:
        return json_pack("{s:I, s:s}", "member_id", id, "trigger", trigger);
    case HF_JOB_INGREDIENT_STALE:
        return json_pack("{s:s, s:s, s:s}", "name", key, "reason", f->manual ? "manual" : "stale_refresh", "trigger",
                         trigger);
    case HF_JOB_PURGE:
        return json_pack("{s:s, s:i, s:i, s:s}", "task", "purge", "shard", 0, "days", f->arg, "trigger", trigger);
    case HF_JOB_PARTITIONS:
        return json_pack("{s:s, s:i, s:i, s:s}", "task", "partitions", "shard", 0, "months", f->arg, "trigger",
                         trigger);
    case HF_JOB_ADHERENCE_WEEKLY:
        return json_pack("{s:I, s:s}", "program_id", id, "week_start", week);
    case HF_JOB_KIND_COUNT:
        break;
    }
    return NULL;
}

/* Encodes one job like hf_pool_emit does and queues it; waits for room once
 * when the local queue is full. */
static int send_job(hf_producer *producer, const struct hf_schema *s, const struct hf_config *cfg, json_t *job,
                    struct hf_err *err)
{
    char event_id[HF_UUID_STRLEN], key[208];
    char *canon = json_dumps(job, JSON_SORT_KEYS | JSON_COMPACT);
    if (!canon)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    hf_uuid_v5(s->name, canon, event_id);
    free(canon);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    int rc = hf_codec_encode_json(s, job, NULL, event_id, &buf, err);
    if (rc)
        goto out;
    json_t *k = json_object_get(job, s->key_field);
    if (json_is_string(k))
        snprintf(key, sizeof key, "%s", json_string_value(k));
    else
        snprintf(key, sizeof key, "%lld", (long long)json_integer_value(k));
    rc = hf_producer_send_message(producer, cfg, s, key, event_id, buf.data, buf.size, "scheduler", err);
    if (rc == HF_EUNAVAIL) {
        rc = hf_producer_flush(producer, cfg->kafka_timeout_ms, err);
        if (rc == 0)
            rc = hf_producer_send_message(producer, cfg, s, key, event_id, buf.data, buf.size, "scheduler", err);
    }
out:
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

static int send_one(hf_producer *producer, const struct hf_schema *s, const struct hf_config *cfg,
                    const struct hf_firing *f, const char *key, const char *week, struct hf_err *err)
{
    json_t *job = job_json(f, key, week);
    if (!job)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    int rc = send_job(producer, s, cfg, job, err);
    json_decref(job);
    return rc;
}

int hf_fanout(hf_pg *pg, hf_producer *producer, const hf_schema_registry *reg, const struct hf_config *cfg,
              const struct hf_firing *f, hf_fanout_keep_fn keep, void *keep_arg, long *jobs, struct hf_err *err)
{
    *jobs = 0;
    const struct hf_schema *s = hf_schema_latest(reg, kinds[f->job].schema);
    if (!s)
        return hf_err_set(err, HF_EINVAL, false, "no schema %s", kinds[f->job].schema);
    if (!kinds[f->job].sql) {
        int rc = send_one(producer, s, cfg, f, NULL, NULL, err);
        if (rc == 0)
            rc = hf_producer_flush(producer, cfg->kafka_timeout_ms, err);
        if (rc == 0)
            *jobs = 1;
        return rc;
    }
    char last[128], limit[16], at[24], arg[16];
    snprintf(last, sizeof last, "%s", kinds[f->job].text_key ? "" : "0");
    snprintf(limit, sizeof limit, "%d", cfg->scheduler_page);
    snprintf(at, sizeof at, "%lld", (long long)f->scheduled_at);
    snprintf(arg, sizeof arg, "%d", f->arg);
    for (;;) {
        if (keep && !keep(keep_arg))
            return hf_err_set(err, HF_ECONFLICT, false, "firing %s: stopped after %ld jobs (lease lost)", f->id,
                              *jobs);
        /* the firing's instant is the queries' "now": a late firing sees
         * what was due at its time */
        const char *params[4] = { last, limit, NULL, NULL };
        int nparams = 2;
        switch (kinds[f->job].extra) {
        case X_AT:
        case X_AT_ARG:
            params[nparams++] = at;
            if (kinds[f->job].extra == X_AT_ARG)
                params[nparams++] = arg;
            break;
        case X_LOCAL_DATE:
            params[nparams++] = f->local_date;
            break;
        case X_NONE:
            break;
        }
        PGresult *res = NULL;
        int rc = hf_pg_exec(pg, kinds[f->job].sql, nparams, params, &res, err);
        int n = rc == 0 ? PQntuples(res) : 0;
        for (int i = 0; rc == 0 && i < n; i++) {
            rc = send_one(producer, s, cfg, f, PQgetvalue(res, i, 0), PQnfields(res) > 1 ? PQgetvalue(res, i, 1) : NULL,
                          err);
            if (rc == 0)
                (*jobs)++;
        }
        if (rc == 0 && n > 0)
            snprintf(last, sizeof last, "%s", PQgetvalue(res, n - 1, 0));
        PQclear(res);
        if (rc == 0)
            rc = hf_producer_flush(producer, cfg->kafka_timeout_ms, err);
        if (rc || n < cfg->scheduler_page)
            return rc;
    }
}
