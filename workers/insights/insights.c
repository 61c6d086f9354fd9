/* Insights pool: recomputes a person's insights (insight.h) on request
 * (job.insight_refresh) and keeps user_insights equal to what their logs
 * say, with the hash of the data they came from. A job whose person's data
 * hash is unchanged costs one read and no write. Rules: README.md beside
 * this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_json.h"
#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"
#include "insight.h"
#include "stat.h"

struct job {
    int64_t member_id;
    bool replayed; /* every job of this member in the batch was a redelivery */
};

struct state {
    struct job *jobs; /* the batch's members, each once */
    int n, cap;
    json_t *rows;     /* upsert rows of the members recomputed */
};

struct refresh {
    int64_t member_id;
};

static int init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    (void)ctx;
    hf_stat_init();
    struct state *st = calloc(1, sizeof *st);
    if (!st || !(st->rows = json_array())) {
        free(st);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    *out = st;
    return 0;
}

static void fini(void *arg)
{
    struct state *st = arg;
    json_decref(st->rows);
    free(st->jobs);
    free(st);
}

static void begin(void *arg)
{
    struct state *st = arg;
    st->n = 0;
    json_array_clear(st->rows);
}

static int handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    (void)ctx;
    struct state *st = arg;
    if (strcmp(msg->schema->name, "job.insight_refresh") != 0)
        return 0;
    struct refresh job;
    const struct hf_bind bind[] = { HF_BIND(struct refresh, member_id, HF_B_INT) };
    int rc = hf_doc_bind(msg->doc, bind, 1, &job, err);
    if (rc)
        return rc;
    for (int i = 0; i < st->n; i++)
        if (st->jobs[i].member_id == job.member_id) {
            st->jobs[i].replayed = st->jobs[i].replayed && msg->replayed;
            return 0;
        }
    if (st->n == st->cap) {
        int cap = st->cap ? 2 * st->cap : 256;
        struct job *nj = realloc(st->jobs, (size_t)cap * sizeof *nj);
        if (!nj)
            return hf_err_set(err, HF_ENOMEM, true, "out of memory");
        st->jobs = nj;
        st->cap = cap;
    }
    st->jobs[st->n++] = (struct job){ job.member_id, msg->replayed };
    return 0;
}

static int job_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct job *)a)->member_id, y = ((const struct job *)b)->member_id;
    return (x > y) - (x < y);
}

/* "{1,2,3}" of the batch's members (sorted); caller frees. */
static char *id_array(const struct state *st)
{
    int64_t *ids = malloc((size_t)(st->n ? st->n : 1) * sizeof *ids);
    if (!ids)
        return NULL;
    for (int i = 0; i < st->n; i++)
        ids[i] = st->jobs[i].member_id;
    char *s = hf_pg_id_array(ids, (size_t)st->n);
    free(ids);
    return s;
}


/* The batch's inputs: who exists and their stored hash, their logs, their
 * experiments; three queries for the whole batch, each sorted by member. */
static const char *const members_sql =
    "SELECT m.id, ui.data_hash FROM unnest($1::bigint[]) AS j(id) JOIN members m ON m.id = j.id"
    " LEFT JOIN user_insights ui ON ui.member_id = m.id ORDER BY m.id";
static const char *const logs_sql =
    "SELECT member_id, (logged_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01', log_type, payload::text"
    " FROM daily_logs WHERE member_id = ANY($1::bigint[]) AND deleted_at IS NULL AND status = 'VERIFIED'"
    " AND log_type IN ('SYMPTOM', 'NUTRITION', 'BIOMETRIC', 'CYCLE') ORDER BY member_id, logged_at, id";
static const char *const experiments_sql =
    "SELECT member_id, id, name, intervention, outcome, start_date - DATE '1970-01-01',"
    " coalesce(end_date - DATE '1970-01-01', -2147483648) FROM experiments WHERE member_id = ANY($1::bigint[])"
    " ORDER BY member_id, id";

struct inputs {
    PGresult *members, *logs, *experiments;
    int log_row, exp_row;
};

/* Feeds one member's rows (the cursors advance past them) into a new data set. */
static int collect(struct inputs *in, int64_t member, hf_insight_data **out, struct hf_err *err)
{
    hf_insight_data *d = hf_insight_data_new();
    if (!d)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    int rc = 0;
    for (; in->log_row < PQntuples(in->logs) && rc == 0; in->log_row++) {
        int64_t m = strtoll(PQgetvalue(in->logs, in->log_row, 0), NULL, 10);
        if (m > member)
            break;
        if (m == member)
            rc = hf_insight_data_add_log(d, PQgetvalue(in->logs, in->log_row, 2),
                                         (int32_t)strtol(PQgetvalue(in->logs, in->log_row, 1), NULL, 10),
                                         PQgetvalue(in->logs, in->log_row, 3),
                                         (size_t)PQgetlength(in->logs, in->log_row, 3));
    }
    for (; in->exp_row < PQntuples(in->experiments) && rc == 0; in->exp_row++) {
        PGresult *e = in->experiments;
        int r = in->exp_row;
        int64_t m = strtoll(PQgetvalue(e, r, 0), NULL, 10);
        if (m > member)
            break;
        if (m == member) {
            rc = hf_insight_data_add_experiment(d, strtoll(PQgetvalue(e, r, 1), NULL, 10), PQgetvalue(e, r, 2),
                                                PQgetvalue(e, r, 3), PQgetvalue(e, r, 4),
                                                (int32_t)strtol(PQgetvalue(e, r, 5), NULL, 10),
                                                (int32_t)strtol(PQgetvalue(e, r, 6), NULL, 10));
            if (rc == HF_ETOOBIG) /* the first ones are kept; the hash says so */
                rc = 0;
        }
    }
    if (rc) {
        hf_insight_data_free(d);
        return hf_err_set(err, rc, true, "out of memory reading the logs of member %lld", (long long)member);
    }
    *out = d;
    return 0;
}

/* Recomputes one member unless the hash is the stored one; appends the
 * upsert row. *changed tells whether it did. */
static int refresh_member(struct state *st, struct inputs *in, int64_t member, const char *stored, bool *changed,
                          struct hf_err *err)
{
    hf_insight_data *d = NULL;
    int rc = collect(in, member, &d, err);
    if (rc)
        return rc;
    char hash[65];
    hf_insight_data_hash(d, hash);
    *changed = strcmp(hash, stored) != 0;
    json_t *insights = *changed ? hf_insight_compute(d) : NULL;
    hf_insight_data_free(d);
    if (!*changed)
        return 0;
    json_t *row = insights ? json_pack("{s:I, s:s, s:o}", "member_id", (json_int_t)member, "data_hash", hash,
                                       "insights", insights)
                           : NULL;
    if (!row || json_array_append_new(st->rows, row))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory computing the insights of member %lld",
                          (long long)member);
    return 0;
}

static int upsert(hf_pool_ctx *ctx, struct state *st, struct hf_err *err)
{
    if (json_array_size(st->rows) == 0)
        return 0;
    char *text = hf_json_text(st->rows, 12);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { text };
    int rc = hf_pg_exec(hf_pool_pg(ctx),
                        "INSERT INTO user_insights (member_id, data_hash, insights)"
                        " SELECT r.member_id, r.data_hash, r.insights FROM jsonb_to_recordset($1::jsonb)"
                        " AS r(member_id bigint, data_hash text, insights jsonb)"
                        " ON CONFLICT (member_id) DO UPDATE SET data_hash = EXCLUDED.data_hash,"
                        " insights = EXCLUDED.insights, computed_at = now()",
                        1, params, NULL, err);
    free(text);
    return rc;
}

static int before_commit(hf_pool_ctx *ctx, void *arg, struct hf_err *err)
{
    struct state *st = arg;
    if (st->n == 0)
        return 0;
    qsort(st->jobs, (size_t)st->n, sizeof *st->jobs, job_cmp);
    struct inputs in = { 0 };
    char *ids = id_array(st);
    int rc = ids ? 0 : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { ids };
    if (rc == 0)
        rc = hf_pg_exec(hf_pool_pg(ctx), members_sql, 1, params, &in.members, err);
    if (rc == 0)
        rc = hf_pg_exec(hf_pool_pg(ctx), logs_sql, 1, params, &in.logs, err);
    if (rc == 0)
        rc = hf_pg_exec(hf_pool_pg(ctx), experiments_sql, 1, params, &in.experiments, err);
    int computed = 0, unchanged = 0, j = 0;
    for (int r = 0; rc == 0 && r < PQntuples(in.members); r++) {
        int64_t member = strtoll(PQgetvalue(in.members, r, 0), NULL, 10);
        while (j < st->n && st->jobs[j].member_id < member)
            j++; /* a member gone since the job was queued: nothing to do */
        bool changed = false;
        rc = refresh_member(st, &in, member, PQgetvalue(in.members, r, 1), &changed, err);
        /* Unchanged after a redelivery: the crash may have come between the
         * commit and the invalidation, so it goes out again. */
        if (rc == 0 && (changed || st->jobs[j].replayed))
            rc = hf_pool_invalidate(ctx, "member", member, "insights", NULL, err);
        computed += changed;
        unchanged += !changed;
    }
    if (rc == 0)
        rc = upsert(ctx, st, err);
    if (rc == 0)
        hf_debug("insights: %d members recomputed, %d unchanged, %d unknown", computed, unchanged,
                 st->n - computed - unchanged);
    PQclear(in.members);
    PQclear(in.logs);
    PQclear(in.experiments);
    free(ids);
    return rc;
}

static const char *const families[] = { "jobs.insights", NULL };

const struct hf_pool_def hf_pool_insights = {
    .name = "insights",
    .families = families,
    .init = init,
    .begin = begin,
    .handle = handle,
    .before_commit = before_commit,
    .fini = fini,
};
