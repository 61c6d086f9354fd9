/* The meal_analyze pool (stage 2 of meal_image.c): photo or caption to
 * nutrients, written into the PROCESSING row. */
#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_json.h"
#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"
#include "meal_analyzer.h"
#include "meal_caption.h"
#include "meal_foods.h"
#include "meal_plate.h"

#define CAPTION_CONFIDENCE 0.3 /* a caption names foods but rarely weighs them */

struct job_ref {
    const char *log_event_id, *image_url, *caption;
    int64_t member_id, program_id, logged_at;
    bool has_program, has_caption;
};

static const struct hf_bind JOB_BIND[] = {
    HF_BIND(struct job_ref, log_event_id, HF_B_STR),
    HF_BIND(struct job_ref, member_id, HF_B_INT),
    HF_BIND(struct job_ref, logged_at, HF_B_TIMESTAMP),
    HF_BIND(struct job_ref, image_url, HF_B_STR),
    HF_BIND_OPT(struct job_ref, program_id, HF_B_INT, has_program),
    HF_BIND_OPT(struct job_ref, caption, HF_B_STR, has_caption),
};
#define N_JOB_BIND (sizeof JOB_BIND / sizeof JOB_BIND[0])

/* One message of the attempt: handle() records it, before_commit() writes
 * it with the rest of the batch. */
struct pending {
    const struct meal_job *job;
    char log_event_id[64];
    int64_t program_id, logged_at;
    bool has_program;
};

/* The batch's analyses, by the job message's event_id; kept across begin()
 * (a batch may be attempted several times) until the next prepare. */
struct analyze_state {
    meal_analyzer *analyzer;
    meal_foods *foods;
    struct meal_job *jobs;
    char (*ids)[37];
    struct pending *pend; /* this attempt's messages, n_pend of them */
    int n, cap, cursor, n_pend;
};

static void forget_jobs(struct analyze_state *st)
{
    for (int i = 0; i < st->n; i++) {
        free((char *)st->jobs[i].image_url);
        free((char *)st->jobs[i].caption);
    }
    st->n = 0;
    st->cursor = 0;
    st->n_pend = 0;
}

static void analyze_fini(void *arg)
{
    struct analyze_state *st = arg;
    forget_jobs(st);
    free(st->jobs);
    free(st->ids);
    free(st->pend);
    meal_foods_free(st->foods);
    meal_analyzer_free(st->analyzer);
    free(st);
    curl_global_cleanup();
}

static int analyze_init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hf_err_set(err, HF_EIO, false, "curl could not start (curl_global_init failed)");
    struct analyze_state *st = calloc(1, sizeof *st);
    if (!st) {
        curl_global_cleanup();
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    }
    st->foods = meal_foods_new();
    int rc = st->foods ? meal_analyzer_new(hf_pool_config(ctx), &st->analyzer, err)
                       : hf_err_set(err, HF_ENOMEM, false, "out of memory");
    const struct hf_schema *s = hf_schema_latest(hf_pool_schemas(ctx), "job.meal_analyze");
    if (rc == 0)
        rc = s ? hf_bind_check(s, JOB_BIND, N_JOB_BIND, err)
               : hf_err_set(err, HF_ECONFLICT, false, "no job.meal_analyze schema");
    if (rc) {
        analyze_fini(st);
        return rc;
    }
    const struct hf_config *cfg = hf_pool_config(ctx);
    hf_info("meal analysis: %s, concurrency %d, image hosts [%s]",
            cfg->meal_provider_url[0] ? "vision model configured" : "no vision model (captions only)",
            cfg->meal_concurrency, cfg->meal_image_hosts);
    *out = st;
    return 0;
}

static int grow(struct analyze_state *st, int n, struct hf_err *err)
{
    if (n <= st->cap)
        return 0;
    struct meal_job *jobs = realloc(st->jobs, (size_t)n * sizeof *jobs);
    if (jobs)
        st->jobs = jobs;
    char(*ids)[37] = jobs ? realloc(st->ids, (size_t)n * sizeof *ids) : NULL;
    if (ids)
        st->ids = ids;
    struct pending *pend = ids ? realloc(st->pend, (size_t)n * sizeof *pend) : NULL;
    if (!pend)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    st->pend = pend;
    st->cap = n;
    return 0;
}

/* Outside the transaction: every photo of the batch at once. A message that
 * does not bind gets no job; handle() reports its error. */
static int analyze_prepare(hf_pool_ctx *ctx, void *arg, const struct hf_msg *const *msgs, int n, struct hf_err *err)
{
    (void)ctx;
    struct analyze_state *st = arg;
    forget_jobs(st);
    int rc = grow(st, n, err);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        struct job_ref j = { 0 };
        if (strcmp(msgs[i]->schema->name, "job.meal_analyze") != 0 ||
            hf_doc_bind(msgs[i]->doc, JOB_BIND, N_JOB_BIND, &j, NULL) != 0)
            continue;
        struct meal_job *job = &st->jobs[st->n];
        memset(job, 0, sizeof *job);
        job->image_url = strdup(j.image_url);
        job->caption = j.has_caption ? strdup(j.caption) : NULL;
        snprintf(st->ids[st->n], sizeof st->ids[0], "%s", msgs[i]->event_id);
        st->n++;
        if (!job->image_url || (j.has_caption && !job->caption))
            return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    int64_t t0 = hf_time_mono_us();
    meal_analyzer_run(st->analyzer, st->jobs, st->n);
    hf_debug("analysed %d photo(s) in %.0f ms; breaker %s", st->n, (double)(hf_time_mono_us() - t0) / 1000.0,
             meal_analyzer_breaker(st->analyzer));
    return 0;
}

static void analyze_begin(void *arg)
{
    struct analyze_state *st = arg;
    st->cursor = 0;
    st->n_pend = 0;
}

/* Handle sees the batch in prepare's order, so the cursor usually hits. */
static const struct meal_job *find_job(struct analyze_state *st, const char *event_id)
{
    for (int k = 0; k < st->n; k++) {
        int i = (st->cursor + k) % st->n;
        if (strcmp(st->ids[i], event_id) == 0) {
            st->cursor = i + 1;
            return &st->jobs[i];
        }
    }
    return NULL;
}

/* Every name the job's result may be priced with: the model's items and the
 * caption's foods (the caption is the fallback of a plate the table does
 * not know). */
static int want_names(meal_foods *foods, const struct meal_job *job, struct hf_err *err)
{
    int rc = 0;
    if (job->outcome == MEAL_VISION_OK)
        for (int i = 0; i < job->est.n && rc == 0; i++)
            rc = meal_foods_want(foods, job->est.items[i].name, err);
    struct meal_portion portions[MEAL_PORTIONS_MAX];
    int n = 0;
    if (job->caption && meal_caption_parse(job->caption, portions, MEAL_PORTIONS_MAX, &n) == 0)
        for (int i = 0; i < n && rc == 0; i++)
            rc = meal_foods_want(foods, portions[i].name, err);
    return rc;
}

static json_t *price(const meal_foods *table, const struct meal_item *items, int n, const char *source,
                     double confidence, char *why, size_t whysz)
{
    struct meal_food foods[MEAL_PORTIONS_MAX];
    for (int i = 0; i < n; i++)
        foods[i] = meal_foods_find(table, items[i].asked);
    return meal_plate_build(items, foods, n, source, confidence, why, whysz);
}

/* The result fields for one log: VERIFIED with nutrients from the photo, or
 * from the caption when the photo gave nothing usable, or FAILED with a
 * reason for a person. *status gets which; NULL when out of memory. */
static json_t *result_of(const meal_foods *table, const struct meal_job *job, const char **status)
{
    char vision_why[300] = "", caption_why[200] = "";
    json_t *out = NULL;
    struct meal_item items[MEAL_PORTIONS_MAX];
    if (job->outcome == MEAL_VISION_OK) {
        for (int i = 0; i < job->est.n; i++) {
            snprintf(items[i].asked, sizeof items[i].asked, "%s", job->est.items[i].name);
            items[i].qty = job->est.items[i].grams;
            items[i].unit = "g";
        }
        out = price(table, items, job->est.n, "vision", job->est.confidence, vision_why, sizeof vision_why);
    } else {
        snprintf(vision_why, sizeof vision_why, "%s", job->why);
    }
    if (!out && job->caption) {
        struct meal_portion portions[MEAL_PORTIONS_MAX];
        int n = 0;
        if (meal_caption_parse(job->caption, portions, MEAL_PORTIONS_MAX, &n) != 0)
            snprintf(caption_why, sizeof caption_why, "the caption lists more than %d foods", MEAL_PORTIONS_MAX);
        else if (n == 0)
            snprintf(caption_why, sizeof caption_why, "the caption names no food");
        for (int i = 0; i < n && !caption_why[0]; i++) {
            snprintf(items[i].asked, sizeof items[i].asked, "%s", portions[i].name);
            items[i].qty = portions[i].qty;
            items[i].unit = portions[i].unit;
        }
        if (!caption_why[0])
            out = price(table, items, n, "caption", CAPTION_CONFIDENCE, caption_why, sizeof caption_why);
    }
    *status = out ? "VERIFIED" : "FAILED";
    if (!out) {
        char reason[600];
        snprintf(reason, sizeof reason, "The meal could not be analysed: %s%s%s.", vision_why,
                 job->caption ? "; from the caption: " : "; and there is no caption to read instead",
                 job->caption ? caption_why : "");
        out = json_pack("{s:s}", "reason", reason);
    } else if (job->outcome != MEAL_VISION_OK || strcmp(json_string_value(json_object_get(out, "source")), "caption") == 0) {
        /* Caption-based: say why the photo was not used. */
        json_object_set_new(out, "vision_error", json_string(vision_why));
    }
    return out;
}

/* A program day whose adherence and cache a verified meal changed. */
struct followup {
    int64_t program_id;
    char date[16];
};

static int by_program_day(const void *a, const void *b)
{
    const struct followup *x = a, *y = b;
    if (x->program_id != y->program_id)
        return x->program_id < y->program_id ? -1 : 1;
    return strcmp(x->date, y->date);
}

/* One recalculation and one invalidation per program day of the batch, not
 * per photo: both recompute or drop the whole day, after the commit. */
static int emit_followups(hf_pool_ctx *ctx, struct followup *days, int n, struct hf_err *err)
{
    qsort(days, (size_t)n, sizeof *days, by_program_day);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (i > 0 && by_program_day(&days[i - 1], &days[i]) == 0)
            continue;
        json_t *recalc = json_pack("{s:I, s:s}", "program_id", (json_int_t)days[i].program_id, "date", days[i].date);
        rc = recalc ? hf_pool_emit(ctx, "job.adherence_recalc", recalc, err)
                    : hf_err_set(err, HF_ENOMEM, true, "out of memory");
        if (rc == 0)
            rc = hf_pool_invalidate(ctx, "program", days[i].program_id, "adherence", days[i].date, err);
        json_decref(recalc);
    }
    return rc;
}

/* Records the message for before_commit, which writes the whole batch. */
static int analyze_handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    (void)ctx;
    struct analyze_state *st = arg;
    if (strcmp(msg->schema->name, "job.meal_analyze") != 0)
        return 0;
    struct job_ref j = { 0 };
    int rc = hf_doc_bind(msg->doc, JOB_BIND, N_JOB_BIND, &j, err);
    if (rc)
        return rc;
    const struct meal_job *job = find_job(st, msg->event_id);
    if (!job) /* prepare saw every message of the batch: a bug, not bad input */
        return hf_err_set(err, HF_EINVAL, true, "no analysis prepared for job %s", msg->event_id);
    assert(st->n_pend < st->n); /* at most one record per prepared job and attempt */
    struct pending *p = &st->pend[st->n_pend++];
    p->job = job;
    snprintf(p->log_event_id, sizeof p->log_event_id, "%s", j.log_event_id);
    p->logged_at = j.logged_at;
    p->program_id = j.program_id;
    p->has_program = j.has_program;
    return 0;
}

/* The batch's rows as one JSON array [{e, at, p, s}] for the bulk update;
 * NULL when out of memory. Caller frees. */
static char *batch_rows(struct analyze_state *st)
{
    json_t *rows = json_array();
    for (int i = 0; rows && i < st->n_pend; i++) {
        const struct pending *p = &st->pend[i];
        const char *status = NULL;
        json_t *result = result_of(st->foods, p->job, &status);
        char at[40];
        hf_time_format_rfc3339(p->logged_at, at, sizeof at);
        json_t *row = result ? json_pack("{s:s, s:s, s:o, s:s}", "e", p->log_event_id, "at", at, "p", result, "s", status)
                             : NULL;
        if (!row || json_array_append_new(rows, row) != 0) {
            json_decref(rows);
            rows = NULL;
        }
    }
    char *text = rows ? hf_json_text(rows, 10) : NULL;
    json_decref(rows);
    return text;
}

/* The batch's writes in two statements, whatever its size: the food rows of
 * every name (meal_foods), then one UPDATE of every log. Per log as before:
 * `payload || result` and the status, never touching a VERIFIED row (a
 * replayed or duplicated job changes nothing); the status after the
 * statement says whether the follow-ups are due (again, on a replay: they
 * may not have been sent). */
static int analyze_before_commit(hf_pool_ctx *ctx, void *arg, struct hf_err *err)
{
    struct analyze_state *st = arg;
    if (st->n_pend == 0)
        return 0;
    meal_foods_reset(st->foods);
    int rc = 0;
    for (int i = 0; i < st->n_pend && rc == 0; i++)
        rc = want_names(st->foods, st->pend[i].job, err);
    if (rc == 0)
        rc = meal_foods_load(st->foods, hf_pool_pg(ctx), err);
    if (rc)
        return rc;
    char *rows = batch_rows(st);
    if (!rows)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    const char *params[] = { rows };
    PGresult *res = NULL;
    rc = hf_pg_exec(hf_pool_pg(ctx),
                    "WITH v AS (SELECT x.i, (x.r->>'e')::uuid AS e, (x.r->>'at')::timestamptz AS at, x.r->'p' AS p,"
                    "  x.r->>'s' AS s FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, i)),"
                    " u AS (UPDATE daily_logs d SET payload = d.payload || v.p, status = v.s, updated_at = now()"
                    "  FROM v WHERE d.event_id = v.e AND d.logged_at = v.at AND d.status <> 'VERIFIED'"
                    "  AND d.deleted_at IS NULL RETURNING d.event_id, d.logged_at, d.status)"
                    " SELECT v.i, coalesce(u.status, d.status) FROM v"
                    " LEFT JOIN u ON u.event_id = v.e AND u.logged_at = v.at"
                    " LEFT JOIN daily_logs d ON d.event_id = v.e AND d.logged_at = v.at AND d.deleted_at IS NULL"
                    " ORDER BY v.i",
                    1, params, &res, err);
    free(rows);
    if (rc)
        return rc;
    struct followup *days = malloc((size_t)st->n_pend * sizeof *days);
    int n_days = 0;
    for (int r = 0; days && r < PQntuples(res); r++) {
        long i = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
        if (i < 0 || i >= st->n_pend)
            continue;
        const struct pending *p = &st->pend[i];
        if (PQgetisnull(res, r, 1)) {
            hf_log(HF_LOG_WARN, p->log_event_id, "no daily_logs row for this meal photo (deleted?); result dropped");
        } else if (strcmp(PQgetvalue(res, r, 1), "VERIFIED") == 0 && p->has_program) {
            days[n_days].program_id = p->program_id;
            hf_time_format_date(p->logged_at, days[n_days].date, sizeof days[n_days].date);
            n_days++;
        }
    }
    PQclear(res);
    rc = days ? emit_followups(ctx, days, n_days, err) : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    free(days);
    return rc;
}

static const char *const analyze_families[] = { "jobs.meals", NULL };

const struct hf_pool_def hf_pool_meal_analyze = {
    .name = "meal_analyze",
    .families = analyze_families,
    .init = analyze_init,
    .prepare = analyze_prepare,
    .begin = analyze_begin,
    .handle = analyze_handle,
    .before_commit = analyze_before_commit,
    .fini = analyze_fini,
};
