/* The meal_analyze pool (stage 2 of meal_image.c): photo or caption to
 * nutrients, written into the PROCESSING row. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"
#include "meal_analyzer.h"
#include "meal_caption.h"
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

/* The batch's analyses, by the job message's event_id; kept across begin()
 * (a batch may be attempted several times) until the next prepare. */
struct analyze_state {
    meal_analyzer *analyzer;
    struct meal_job *jobs;
    char (*ids)[37];
    int n, cap, cursor;
};

static int analyze_init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hf_err_set(err, HF_EIO, false, "curl could not start (curl_global_init failed)");
    struct analyze_state *st = calloc(1, sizeof *st);
    if (!st)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    int rc = meal_analyzer_new(hf_pool_config(ctx), &st->analyzer, err);
    if (rc) {
        free(st);
        return rc;
    }
    const struct hf_schema *s = hf_schema_latest(hf_pool_schemas(ctx), "job.meal_analyze");
    rc = s ? hf_bind_check(s, JOB_BIND, N_JOB_BIND, err) : hf_err_set(err, HF_ECONFLICT, false, "no job.meal_analyze schema");
    if (rc) {
        meal_analyzer_free(st->analyzer);
        free(st);
        return rc;
    }
    const struct hf_config *cfg = hf_pool_config(ctx);
    hf_info("meal analysis: %s, concurrency %d, image hosts [%s]",
            cfg->meal_provider_url[0] ? "vision model configured" : "no vision model (captions only)",
            cfg->meal_concurrency, cfg->meal_image_hosts);
    *out = st;
    return 0;
}

static void forget_jobs(struct analyze_state *st)
{
    for (int i = 0; i < st->n; i++) {
        free((char *)st->jobs[i].image_url);
        free((char *)st->jobs[i].caption);
    }
    st->n = 0;
    st->cursor = 0;
}

static void analyze_fini(void *arg)
{
    struct analyze_state *st = arg;
    forget_jobs(st);
    free(st->jobs);
    free(st->ids);
    meal_analyzer_free(st->analyzer);
    free(st);
    curl_global_cleanup();
}

static int grow(struct analyze_state *st, int n, struct hf_err *err)
{
    if (n <= st->cap)
        return 0;
    struct meal_job *jobs = realloc(st->jobs, (size_t)n * sizeof *jobs);
    if (jobs)
        st->jobs = jobs;
    char(*ids)[37] = jobs ? realloc(st->ids, (size_t)n * sizeof *ids) : NULL;
    if (!jobs || !ids)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    st->ids = ids;
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
    ((struct analyze_state *)arg)->cursor = 0;
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

/* "{"a","b"}": names are normalised (letters, digits, spaces), so quoting
 * them is enough. */
static void text_array(char (*names)[MEAL_NAME_MAX], int n, char *out, size_t outsz)
{
    size_t o = 0;
    o += (size_t)snprintf(out + o, outsz - o, "{");
    for (int i = 0; i < n && o < outsz; i++)
        o += (size_t)snprintf(out + o, outsz - o, "%s\"%s\"", i ? "," : "", names[i]);
    if (o < outsz)
        snprintf(out + o, outsz - o, "}");
}

/* The table's row for each item's name (as written, or its singular), by
 * food name first, then by alias. foods[i].unit_grams are new references the
 * caller decrefs. */
static int lookup_foods(hf_pool_ctx *ctx, const struct meal_item *items, int n, struct meal_food *foods,
                        struct hf_err *err)
{
    char names[MEAL_PORTIONS_MAX][MEAL_NAME_MAX], singular[MEAL_PORTIONS_MAX][MEAL_NAME_MAX];
    for (int i = 0; i < n; i++) {
        meal_name_normalise(items[i].asked, names[i], sizeof names[i]);
        meal_name_singular(names[i], singular[i], sizeof singular[i]);
    }
    char a1[MEAL_PORTIONS_MAX * (MEAL_NAME_MAX + 3) + 3], a2[sizeof a1];
    text_array(names, n, a1, sizeof a1);
    text_array(singular, n, a2, sizeof a2);
    const char *params[] = { a1, a2 };
    PGresult *res = NULL;
    int rc = hf_pg_exec(hf_pool_pg(ctx),
                        "SELECT q.i, f.name, coalesce(f.fdc_id, 0), f.kcal, f.protein_g, f.carbs_g, f.fat_g, f.fiber_g,"
                        " f.sugars_g, f.unit_grams::text"
                        " FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(name, singular, i)"
                        " JOIN LATERAL (SELECT * FROM ("
                        "   SELECT 0 AS rank, foods.* FROM foods WHERE name IN (q.name, q.singular)"
                        "   UNION ALL SELECT 1, foods.* FROM food_aliases a JOIN foods ON foods.id = a.food_id"
                        "   WHERE a.alias IN (q.name, q.singular)) c ORDER BY rank LIMIT 1) f ON true",
                        2, params, &res, err);
    if (rc)
        return rc;
    memset(foods, 0, (size_t)n * sizeof *foods);
    for (int r = 0; r < PQntuples(res); r++) {
        int i = atoi(PQgetvalue(res, r, 0)) - 1;
        if (i < 0 || i >= n)
            continue;
        struct meal_food *f = &foods[i];
        f->found = true;
        snprintf(f->name, sizeof f->name, "%s", PQgetvalue(res, r, 1));
        f->fdc_id = atoll(PQgetvalue(res, r, 2));
        for (int k = 0; k < MEAL_NUTRIENTS; k++)
            f->per100[k] = atof(PQgetvalue(res, r, 3 + k));
        f->unit_grams = json_loads(PQgetvalue(res, r, 9), 0, NULL);
    }
    PQclear(res);
    return 0;
}

static json_t *price(hf_pool_ctx *ctx, const struct meal_item *items, int n, const char *source, double confidence,
                     char *why, size_t whysz, struct hf_err *err, int *rc)
{
    struct meal_food foods[MEAL_PORTIONS_MAX];
    *rc = lookup_foods(ctx, items, n, foods, err);
    if (*rc)
        return NULL;
    json_t *out = meal_plate_build(items, foods, n, source, confidence, why, whysz);
    for (int i = 0; i < n; i++)
        json_decref(foods[i].unit_grams);
    return out;
}

/* The result fields for one log: VERIFIED with nutrients from the photo, or
 * from the caption when the photo gave nothing usable, or FAILED with a
 * reason for a person. *status gets which. */
static json_t *result_of(hf_pool_ctx *ctx, const struct meal_job *job, const struct job_ref *j, const char **status,
                         struct hf_err *err, int *rc)
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
        out = price(ctx, items, job->est.n, "vision", job->est.confidence, vision_why, sizeof vision_why, err, rc);
        if (*rc)
            return NULL;
    } else {
        snprintf(vision_why, sizeof vision_why, "%s", job->why);
    }
    if (!out && j->has_caption) {
        struct meal_portion portions[MEAL_PORTIONS_MAX];
        int n = 0;
        if (meal_caption_parse(j->caption, portions, MEAL_PORTIONS_MAX, &n) != 0)
            snprintf(caption_why, sizeof caption_why, "the caption lists more than %d foods", MEAL_PORTIONS_MAX);
        else if (n == 0)
            snprintf(caption_why, sizeof caption_why, "the caption names no food");
        for (int i = 0; i < n && !caption_why[0]; i++) {
            snprintf(items[i].asked, sizeof items[i].asked, "%s", portions[i].name);
            items[i].qty = portions[i].qty;
            items[i].unit = portions[i].unit;
        }
        if (!caption_why[0]) {
            out = price(ctx, items, n, "caption", CAPTION_CONFIDENCE, caption_why, sizeof caption_why, err, rc);
            if (*rc)
                return NULL;
        }
    }
    *status = out ? "VERIFIED" : "FAILED";
    if (!out) {
        char reason[600];
        snprintf(reason, sizeof reason, "The meal could not be analysed: %s%s%s.", vision_why,
                 j->has_caption ? "; from the caption: " : "; and there is no caption to read instead",
                 j->has_caption ? caption_why : "");
        out = json_pack("{s:s}", "reason", reason);
    } else if (job->outcome != MEAL_VISION_OK || strcmp(json_string_value(json_object_get(out, "source")), "caption") == 0) {
        /* Caption-based: say why the photo was not used. */
        json_object_set_new(out, "vision_error", json_string(vision_why));
    }
    if (!out)
        *rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
    return out;
}

static int emit_followups(hf_pool_ctx *ctx, const struct job_ref *j, struct hf_err *err)
{
    char date[16], at[40];
    hf_time_format_date(j->logged_at, date, sizeof date);
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    json_t *recalc = json_pack("{s:I, s:s}", "program_id", (json_int_t)j->program_id, "date", date);
    json_t *inval = json_pack("{s:s, s:I, s:s, s:s, s:s}", "entity", "program", "entity_id", (json_int_t)j->program_id,
                              "kind", "adherence", "date", date, "at", at);
    int rc = recalc && inval ? hf_pool_emit(ctx, "job.adherence_recalc", recalc, err)
                             : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    if (rc == 0)
        rc = hf_pool_emit(ctx, "cache.invalidate", inval, err);
    json_decref(recalc);
    json_decref(inval);
    return rc;
}

static int analyze_handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
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
    const char *status = NULL;
    json_t *result = result_of(ctx, job, &j, &status, err, &rc);
    if (!result)
        return rc;
    char *text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(result);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    char at[40];
    hf_time_format_rfc3339(j.logged_at, at, sizeof at);
    const char *params[] = { j.log_event_id, at, text, status };
    PGresult *res = NULL;
    /* Never downgrade: a replayed or duplicated job finds a VERIFIED row and
     * leaves it as it is. The status after the statement says whether the
     * follow-ups are due (again, on a replay: they may not have been sent). */
    rc = hf_pg_exec(hf_pool_pg(ctx),
                    "WITH u AS (UPDATE daily_logs SET payload = payload || $3::jsonb, status = $4, updated_at = now()"
                    "  WHERE event_id = $1 AND logged_at = $2 AND status <> 'VERIFIED' AND deleted_at IS NULL"
                    "  RETURNING status)"
                    " SELECT coalesce((SELECT status FROM u), (SELECT status FROM daily_logs WHERE event_id = $1"
                    "  AND logged_at = $2 AND deleted_at IS NULL))",
                    4, params, &res, err);
    free(text);
    if (rc)
        return rc;
    bool verified = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "VERIFIED") == 0;
    if (PQntuples(res) == 1 && PQgetisnull(res, 0, 0))
        hf_log(HF_LOG_WARN, j.log_event_id, "no daily_logs row for this meal photo (deleted?); result dropped");
    PQclear(res);
    if (verified && j.has_program)
        rc = emit_followups(ctx, &j, err);
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
    .fini = analyze_fini,
};
