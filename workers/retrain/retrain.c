/* Retraining pool: on job.retrain, retrains a member's models (cycle,
 * symptoms, energy, mood), keeps the registry in user_models, writes the
 * current predictions and, after the commit, invalidates the member's cached
 * predictions and models. The batch's jobs are done together in
 * before_commit: three queries load every member's data, the training runs
 * in C (milliseconds per member), three statements write the results. The
 * math: README.md beside this file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_json.h"
#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"
#include "loader.h"
#include "model.h"
#include "registry.h"

#define MAX_JOBS 4096
#define ALL_KINDS ((1u << KIND_N) - 1)

struct job {
    int64_t member_id;
    unsigned kinds; /* bit per enum model_kind */
};

/* What user_models holds for one member and kind before this batch. */
struct current {
    int newest;           /* newest version, 0 when none */
    char newest_hash[17];
    int active;           /* active version, 0 when none */
    model *active_model;  /* decoded artifact of the active version */
};

struct state {
    struct job jobs[MAX_JOBS];
    int n;
    struct current *cur; /* n x KIND_N, per batch */
    json_t *deactivate, *models, *predictions;
};

static void forget(struct state *st)
{
    if (st->cur)
        for (int i = 0; i < st->n * KIND_N; i++)
            model_free(st->cur[i].active_model);
    free(st->cur);
    st->cur = NULL;
    json_array_clear(st->deactivate);
    json_array_clear(st->models);
    json_array_clear(st->predictions);
}

static void begin(void *arg)
{
    struct state *st = arg;
    forget(st);
    st->n = 0;
}

static void fini(void *arg)
{
    struct state *st = arg;
    forget(st);
    json_decref(st->deactivate);
    json_decref(st->models);
    json_decref(st->predictions);
    free(st);
}

static int init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    (void)ctx;
    struct state *st = calloc(1, sizeof *st);
    if (st) {
        st->deactivate = json_array();
        st->models = json_array();
        st->predictions = json_array();
    }
    if (!st || !st->deactivate || !st->models || !st->predictions) {
        if (st)
            fini(st);
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    *out = st;
    return 0;
}

struct retrain_job {
    int64_t member_id;
    const char *model;
    bool has_model;
};

/* Replays are handled like first deliveries: a retrain of unchanged data
 * stores nothing new, and the invalidations a crash may have lost go out. */
static int handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    (void)ctx;
    struct state *st = arg;
    if (strcmp(msg->schema->name, "job.retrain") != 0)
        return 0;
    struct retrain_job j = { 0 };
    const struct hf_bind bind[] = {
        HF_BIND(struct retrain_job, member_id, HF_B_INT),
        HF_BIND_OPT(struct retrain_job, model, HF_B_STR, has_model),
    };
    int rc = hf_doc_bind(msg->doc, bind, 2, &j, err);
    if (rc)
        return rc;
    unsigned kinds = ALL_KINDS;
    if (j.has_model && strcmp(j.model, "all") != 0) {
        int k = model_kind_parse(j.model);
        if (k < 0)
            return hf_err_field(err, HF_EINVAL, "model", "unknown model kind \"%s\"", j.model);
        kinds = 1u << k;
    }
    for (int i = 0; i < st->n; i++)
        if (st->jobs[i].member_id == j.member_id) {
            st->jobs[i].kinds |= kinds;
            return 0;
        }
    if (st->n == MAX_JOBS)
        return hf_err_set(err, HF_ETOOBIG, true, "more than %d members in one batch; lower HF_BATCH_MAX", MAX_JOBS);
    st->jobs[st->n++] = (struct job){ j.member_id, kinds };
    return 0;
}

static int cmp_job(const void *a, const void *b)
{
    const struct job *x = a, *y = b;
    return (x->member_id > y->member_id) - (x->member_id < y->member_id);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The batch's registry rows: every active version and every newest one. */
static const char *const current_sql =
    "SELECT u.member_id, u.kind, u.version, u.active, u.version = x.v, coalesce(u.data_hash, ''),"
    "  CASE WHEN u.active THEN encode(u.artifact, 'hex') ELSE '' END"
    " FROM user_models u JOIN (SELECT member_id, kind, max(version) AS v FROM user_models"
    "   WHERE member_id = ANY($1::bigint[]) GROUP BY 1, 2) x ON x.member_id = u.member_id AND x.kind = u.kind"
    " WHERE u.active OR u.version = x.v";

/* Reads current_sql into st->cur. An active artifact that does not decode is
 * logged and treated as no active model, so a new version can replace it. */
static int load_current(hf_pg *pg, struct state *st, const char *ids, struct hf_err *err)
{
    PGresult *res = NULL;
    const char *params[] = { ids };
    int rc = hf_pg_exec(pg, current_sql, 1, params, &res, err);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        int64_t member = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        int kind = model_kind_parse(PQgetvalue(res, r, 1)), version = (int)strtol(PQgetvalue(res, r, 2), NULL, 10);
        struct job key = { member, 0 };
        struct job *j = bsearch(&key, st->jobs, (size_t)st->n, sizeof key, cmp_job);
        if (!j || kind < 0)
            continue;
        struct current *c = &st->cur[(j - st->jobs) * KIND_N + kind];
        if (PQgetvalue(res, r, 4)[0] == 't') {
            c->newest = version;
            snprintf(c->newest_hash, sizeof c->newest_hash, "%s", PQgetvalue(res, r, 5));
        }
        if (PQgetvalue(res, r, 3)[0] != 't')
            continue;
        c->active = version;
        const char *hex = PQgetvalue(res, r, 6);
        size_t n = strlen(hex) / 2;
        unsigned char *bytes = malloc(n ? n : 1);
        if (!bytes) {
            rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++)
            bytes[i] = (unsigned char)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
        struct hf_err derr = { 0 };
        if (model_decode(bytes, n, &c->active_model, &derr))
            hf_warn("member %lld %s version %d: artifact unreadable, treated as inactive: %s", (long long)member,
                    model_kind_name(kind), version, derr.msg);
        free(bytes);
    }
    PQclear(res);
    return rc;
}

static char *to_hex(const char *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[(unsigned char)data[i] >> 4];
        s[2 * i + 1] = digits[(unsigned char)data[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

/* Queues the insert of version `version` of m. */
static int queue_model(struct state *st, int64_t member, const model *m, int version, bool active, const char *hash,
                       json_t *metrics, struct hf_err *err)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = model_encode(m, &sb, err);
    char *hex = rc ? NULL : to_hex(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
        return rc;
    json_t *row = hex ? json_pack("{s:I, s:s, s:i, s:s, s:i, s:O, s:s, s:b, s:s}", "member_id", (json_int_t)member,
                                  "kind", model_kind_name(model_kind(m)), "version", version, "algorithm",
                                  model_algorithm(m), "samples", model_samples(m), "metrics", metrics, "artifact", hex,
                                  "active", active, "data_hash", hash)
                      : NULL;
    free(hex);
    if (!row || json_array_append_new(st->models, row))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (active && json_array_append_new(st->deactivate, json_pack("{s:I, s:s}", "member_id", (json_int_t)member,
                                                                   "kind", model_kind_name(model_kind(m)))))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    return 0;
}

/* Retrains one kind of one member (when its data changed), applies the
 * activation rule, and queues the predictions of the model now in charge. */
static int retrain_kind(struct state *st, int64_t member, int kind, const struct member_data *d, struct current *c,
                        bool *models_changed, struct hf_err *err)
{
    char hash[17];
    registry_hash_text(model_data_hash(kind, d), hash);
    model *fresh = NULL;
    const model *use = c->active_model;
    int use_version = c->active_model ? c->active : 0;
    int rc = 0;
    if (c->newest == 0 || strcmp(c->newest_hash, hash) != 0) {
        struct hf_err terr = { 0 };
        rc = model_train(kind, d, &fresh, &terr);
        if (rc == HF_ENOMEM)
            return hf_err_set(err, rc, true, "%s", terr.msg);
        if (rc && rc != HF_ENOTFOUND) /* a numerical failure: keep what is active */
            hf_warn("member %lld %s: training failed, the active model stays: %s", (long long)member,
                    model_kind_name(kind), terr.msg);
        rc = 0;
    }
    if (fresh) {
        double score = model_evaluate(fresh, d);
        double active_score = c->active_model ? model_evaluate(c->active_model, d) : NAN;
        bool activate = registry_should_activate(model_passed(fresh), score, c->active_model != NULL, active_score);
        json_t *metrics = model_metrics(fresh);
        if (!metrics)
            rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        else if (c->active_model)
            json_object_set_new(metrics, "compared", json_pack("{s:i, s:o, s:o}", "active_version", c->active,
                                                              "active_score", isfinite(active_score) ? json_real(active_score) : json_null(),
                                                              "score", isfinite(score) ? json_real(score) : json_null()));
        if (rc == 0)
            rc = queue_model(st, member, fresh, c->newest + 1, activate, hash, metrics, err);
        json_decref(metrics);
        *models_changed = true;
        if (activate) {
            use = fresh;
            use_version = c->newest + 1;
        }
    }
    json_t *preds = rc ? NULL : json_array();
    if (!rc && !preds)
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (rc == 0)
        rc = model_predict(use, kind, d, preds, err);
    size_t i;
    json_t *p;
    json_array_foreach(preds, i, p)
    {
        if (rc)
            break;
        json_object_set_new(p, "member_id", json_integer(member));
        json_object_set_new(p, "kind", json_string(model_kind_name(kind)));
        json_object_set_new(p, "version", use_version ? json_integer(use_version) : json_null());
        if (json_array_append(st->predictions, p))
            rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    json_decref(preds);
    model_free(fresh);
    return rc;
}

static int exec_json(hf_pool_ctx *ctx, const char *sql, json_t *rows, struct hf_err *err)
{
    if (json_array_size(rows) == 0)
        return 0;
    char *text = hf_json_text(rows, 10);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { text };
    int rc = hf_pg_exec(hf_pool_pg(ctx), sql, 1, params, NULL, err);
    free(text);
    return rc;
}

static const char *const deactivate_sql =
    "UPDATE user_models u SET active = false FROM jsonb_to_recordset($1::jsonb) AS r(member_id bigint, kind text)"
    " WHERE u.member_id = r.member_id AND u.kind = r.kind AND u.active";

static const char *const insert_models_sql =
    "INSERT INTO user_models (member_id, kind, version, algorithm, samples, metrics, artifact, active, data_hash)"
    " SELECT r.member_id, r.kind, r.version, r.algorithm, r.samples, r.metrics, decode(r.artifact, 'hex'), r.active,"
    "  r.data_hash FROM jsonb_to_recordset($1::jsonb) AS r(member_id bigint, kind text, version int, algorithm text,"
    "  samples int, metrics jsonb, artifact text, active boolean, data_hash text)";

/* A prediction is stored unless the member's current one for the target
 * (the newest row) already says the same from the same model: a retrain of
 * unchanged data adds no rows. */
static const char *const insert_predictions_sql =
    "INSERT INTO predictions (member_id, kind, target, model_id, predicted_for, value)"
    " SELECT r.member_id, r.kind, r.target, m.id, r.predicted_for, r.value"
    " FROM jsonb_to_recordset($1::jsonb) AS r(member_id bigint, kind text, target text, version int,"
    "  predicted_for date, value jsonb)"
    " LEFT JOIN user_models m ON m.member_id = r.member_id AND m.kind = r.kind AND m.version = r.version"
    " WHERE NOT EXISTS (SELECT 1 FROM (SELECT p.model_id, p.predicted_for, p.value FROM predictions p"
    "   WHERE p.member_id = r.member_id AND p.kind = r.kind AND p.target = r.target"
    "   ORDER BY p.created_at DESC, p.id DESC LIMIT 1) cur"
    "  WHERE cur.model_id IS NOT DISTINCT FROM m.id AND cur.predicted_for = r.predicted_for AND cur.value = r.value)";


static int before_commit(hf_pool_ctx *ctx, void *arg, struct hf_err *err)
{
    struct state *st = arg;
    if (st->n == 0)
        return 0;
    qsort(st->jobs, (size_t)st->n, sizeof st->jobs[0], cmp_job);
    int64_t ids[MAX_JOBS];
    for (int i = 0; i < st->n; i++)
        ids[i] = st->jobs[i].member_id;
    loader *l = NULL;
    char *arr = hf_pg_id_array(ids, (size_t)st->n);
    st->cur = calloc((size_t)st->n * KIND_N, sizeof *st->cur);
    if (!arr || !st->cur) {
        free(arr);
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    /* hfctl model rollback takes the same per-member locks, so a rollback
     * and a retrain of one member never interleave. */
    const char *params[] = { arr };
    int rc = hf_pg_exec(hf_pool_pg(ctx),
                        "SELECT pg_advisory_xact_lock(1380, (m % 2147483647)::int) FROM unnest($1::bigint[]) m ORDER BY m",
                        1, params, NULL, err);
    if (rc == 0)
        rc = loader_load(hf_pool_pg(ctx), ids, st->n, &l, err);
    if (rc == 0)
        rc = load_current(hf_pool_pg(ctx), st, arr, err);
    bool *changed = calloc((size_t)st->n, sizeof *changed);
    if (rc == 0 && !changed)
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
    for (int i = 0; i < st->n && rc == 0; i++) {
        const struct member_data *d = loader_member(l, st->jobs[i].member_id);
        if (!d) {
            hf_info("member %lld does not exist: retrain skipped", (long long)st->jobs[i].member_id);
            continue;
        }
        for (int k = 0; k < KIND_N && rc == 0; k++)
            if (st->jobs[i].kinds & (1u << k))
                rc = retrain_kind(st, st->jobs[i].member_id, k, d, &st->cur[i * KIND_N + k], &changed[i], err);
    }
    if (rc == 0)
        rc = exec_json(ctx, deactivate_sql, st->deactivate, err);
    if (rc == 0)
        rc = exec_json(ctx, insert_models_sql, st->models, err);
    if (rc == 0)
        rc = exec_json(ctx, insert_predictions_sql, st->predictions, err);
    for (int i = 0; i < st->n && rc == 0; i++) {
        if (!loader_member(l, st->jobs[i].member_id))
            continue;
        rc = hf_pool_invalidate(ctx, "member", st->jobs[i].member_id, "predictions", NULL, err);
        if (rc == 0 && changed[i])
            rc = hf_pool_invalidate(ctx, "member", st->jobs[i].member_id, "models", NULL, err);
    }
    free(changed);
    free(arr);
    loader_free(l);
    return rc;
}

static const char *const families[] = { "jobs.retrain", NULL };

const struct hf_pool_def hf_pool_retrain = {
    .name = "retrain",
    .families = families,
    .init = init,
    .begin = begin,
    .handle = handle,
    .before_commit = before_commit,
    .fini = fini,
};
