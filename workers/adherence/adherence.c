/* Adherence pool: records every daily log, and keeps each program's
 * adherence per day (and per week, on request) equal to what its goals and
 * logs say. Scores are recomputed from the logs, never incremented, so a
 * replay changes nothing. Rules: README.md beside this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adherence_score.h"
#include "hf_civil.h"
#include "hf_food_name.h"
#include "hf_json.h"
#include "hf_log.h"
#include "hf_runtime.h"
#include "hf_time.h"

#define MAX_DIRTY 4096
#define MAX_NAMES 512 /* ingredient names noted per batch; the rest are seen again later */
#define DAY_US (86400LL * 1000000)

struct program_day {
    int64_t program_id;
    int32_t day; /* days since the epoch */
};

struct log_ref {
    int64_t member_id, program_id, occurred_at;
};

struct state {
    struct program_day days[MAX_DIRTY];
    int n_days;
    struct program_day weeks[MAX_DIRTY]; /* day = week_start */
    int n_weeks;
    struct program_day stale_weeks[MAX_DIRTY]; /* day = Monday; scratch of recompute_days */
    int n_stale_weeks;
    /* The batch's new logs, inserted by one statement before the recomputes. */
    json_t *rows;
    /* Ingredients the batch's new logs name, normalised, each once. */
    char names[MAX_NAMES][HF_FOOD_NAME_MAX + 1];
    int n_names;
};

static const struct {
    const char *schema;
    const char *log_type;
} log_types[] = {
    { "log.nutrition", "NUTRITION" }, { "log.workout", "WORKOUT" },     { "log.symptom", "SYMPTOM" },
    { "cycle.period", "CYCLE" },      { "biometric.reading", "BIOMETRIC" },
};

static int init(hf_pool_ctx *ctx, void **out, struct hf_err *err)
{
    (void)ctx;
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
    free(st);
}

static void begin(void *arg)
{
    struct state *st = arg;
    st->n_days = 0;
    st->n_weeks = 0;
    st->n_names = 0;
    json_array_clear(st->rows);
}

static int mark(struct program_day *set, int *n, int64_t program_id, int32_t day, struct hf_err *err)
{
    for (int i = 0; i < *n; i++)
        if (set[i].program_id == program_id && set[i].day == day)
            return 0;
    if (*n == MAX_DIRTY)
        return hf_err_set(err, HF_ETOOBIG, true, "more than %d program days in one batch; lower HF_BATCH_MAX",
                          MAX_DIRTY);
    set[(*n)++] = (struct program_day){ program_id, day };
    return 0;
}

static void day_text(int32_t day, char *out, size_t outsz)
{
    hf_time_format_date((int64_t)day * DAY_US, out, outsz);
}

static int record_log(hf_pool_ctx *ctx, struct state *st, const struct hf_msg *msg, const char *log_type,
                      const struct log_ref *log, struct hf_err *err)
{
    int rc = hf_pool_ensure_log_partition(ctx, log->occurred_at, err);
    if (rc)
        return rc;
    char ts[40];
    hf_time_format_rfc3339(log->occurred_at, ts, sizeof ts);
    json_t *row = json_pack("{s:s, s:I, s:o, s:s, s:o, s:o, s:s}", "event_id", msg->event_id, "member_id",
                            (json_int_t)log->member_id, "program_id",
                            log->program_id ? json_integer(log->program_id) : json_null(), "log_type", log_type,
                            "payload", hf_doc_to_json(msg->doc, msg->schema), "source_client",
                            msg->client_id ? json_integer(msg->client_id) : json_null(), "logged_at", ts);
    if (!row || json_array_append_new(st->rows, row))
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    return 0;
}

/* Every HF_RETRAIN_EVERY_LOGS (7) new logs a model learns from, a member's
 * models are retrained (002: "every 7 new logs"). Workouts and wearable
 * readings do not count: a watch would retrain someone every hour. */
static int emit_retrain(hf_pool_ctx *ctx, int64_t member_id, long long milestone, struct hf_err *err)
{
    char trigger[64];
    snprintf(trigger, sizeof trigger, "new_logs:%lld:%lld", (long long)member_id, milestone);
    json_t *job = json_pack("{s:I, s:s, s:s}", "member_id", (json_int_t)member_id, "reason", "new_logs", "trigger",
                            trigger);
    int rc = job ? hf_pool_emit(ctx, "job.retrain", job, err) : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    json_decref(job);
    return rc;
}

/* One statement for the whole batch's logs: the rows travel as one JSON
 * array. It returns, per member, the logs that were really new (a replayed
 * row conflicts and is not counted) and how many there were before, so a
 * member who crosses a multiple of HF_RETRAIN_EVERY_LOGS gets one retrain job, named
 * by the milestone so that a replay emits the same id. A replay after a crash
 * between COMMIT and produce loses that job; the nightly retraining fan-out
 * catches the member up. */
static int insert_rows(hf_pool_ctx *ctx, struct state *st, struct hf_err *err)
{
    if (json_array_size(st->rows) == 0)
        return 0;
    char *text = hf_json_text(st->rows, 15);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    PGresult *res = NULL;
    const char *params[] = { text };
    int rc = hf_pg_exec(
        hf_pool_pg(ctx),
        "WITH ins AS (INSERT INTO daily_logs (event_id, member_id, program_id, log_type, payload, source_client,"
        "   logged_at)"
        "  SELECT r.event_id, r.member_id, r.program_id, r.log_type, r.payload, r.source_client,"
        "  r.logged_at FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, member_id bigint,"
        "  program_id bigint, log_type text, payload jsonb, source_client bigint, logged_at timestamptz)"
        "  ON CONFLICT (event_id, logged_at) DO NOTHING RETURNING member_id, log_type),"
        " fresh AS (SELECT member_id, count(*) AS n FROM ins"
        "  WHERE log_type IN ('SYMPTOM', 'NUTRITION', 'CYCLE') GROUP BY member_id),"
        " counted AS (INSERT INTO member_log_counts (member_id, logs) SELECT member_id, n FROM fresh"
        "  ON CONFLICT (member_id) DO UPDATE SET logs = member_log_counts.logs + EXCLUDED.logs"
        "  RETURNING member_id, logs)"
        " SELECT f.member_id, f.n, c.logs - f.n FROM fresh f JOIN counted c USING (member_id)",
        1, params, &res, err);
    free(text);
    long long every = hf_pool_config(ctx)->retrain_every_logs;
    for (int r = 0; rc == 0 && every > 0 && r < PQntuples(res); r++) {
        long long before = atoll(PQgetvalue(res, r, 2)), after = before + atoll(PQgetvalue(res, r, 1));
        if (after / every > before / every)
            rc = emit_retrain(ctx, atoll(PQgetvalue(res, r, 0)), after / every * every, err);
    }
    PQclear(res);
    return rc;
}

static void note_name(struct state *st, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_STR || st->n_names == MAX_NAMES)
        return;
    char raw[256], norm[HF_FOOD_NAME_MAX + 1];
    snprintf(raw, sizeof raw, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    /* A name that normalises to nothing, or too long a one, is no
     * ingredient to score; the log itself is fine. */
    if (hf_food_name_normalise(raw, norm, NULL))
        return;
    for (int i = 0; i < st->n_names; i++)
        if (strcmp(st->names[i], norm) == 0)
            return;
    memcpy(st->names[st->n_names++], norm, sizeof norm);
}

/* The ingredients a log names: a symptom log's "ingredients" (002's daily
 * log), a meal's items. */
static void note_ingredients(struct state *st, const hf_doc *doc)
{
    const msgpack_object *list = hf_doc_get(doc, "ingredients");
    bool items = !list;
    if (items)
        list = hf_doc_get(doc, "items");
    if (!list || list->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *o = &list->via.array.ptr[i];
        if (!items) {
            note_name(st, o);
            continue;
        }
        for (uint32_t k = 0; o->type == MSGPACK_OBJECT_MAP && k < o->via.map.size; k++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[k];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 4 &&
                memcmp(kv->key.via.str.ptr, "name", 4) == 0)
                note_name(st, &kv->val);
        }
    }
}

/* 002's ingredient pages need a score of every ingredient people log: one
 * job.ingredient_score (unknown_ingredient) per name of the batch with no
 * score yet. Its id comes from the name and the day, so a name seen by many
 * batches before its score lands is scored once a day at most. */
static int ask_unknown_ingredients(hf_pool_ctx *ctx, struct state *st, struct hf_err *err)
{
    if (st->n_names == 0)
        return 0;
    json_t *names = json_array();
    for (int i = 0; names && i < st->n_names; i++)
        if (json_array_append_new(names, json_string(st->names[i]))) {
            json_decref(names);
            names = NULL;
        }
    char *text = names ? hf_json_text(names, 15) : NULL;
    json_decref(names);
    if (!text)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    PGresult *res = NULL;
    const char *params[] = { text };
    int rc = hf_pg_exec(hf_pool_pg(ctx),
                        "SELECT n FROM jsonb_array_elements_text($1::jsonb) AS n WHERE NOT EXISTS"
                        " (SELECT 1 FROM ingredient_scores s WHERE s.name = ingredient_canonical(n))",
                        1, params, &res, err);
    free(text);
    char trigger[32];
    snprintf(trigger, sizeof trigger, "log:");
    hf_time_format_date(hf_time_now_us(), trigger + 4, sizeof trigger - 4);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        json_t *job = json_pack("{s:s, s:s, s:s}", "name", PQgetvalue(res, r, 0), "reason", "unknown_ingredient",
                                "trigger", trigger);
        rc = job ? hf_pool_emit(ctx, "job.ingredient_score", job, err)
                 : hf_err_set(err, HF_ENOMEM, true, "out of memory");
        json_decref(job);
    }
    PQclear(res);
    return rc;
}

static int handle(hf_pool_ctx *ctx, void *arg, const struct hf_msg *msg, struct hf_err *err)
{
    struct state *st = arg;
    const char *name = msg->schema->name;
    if (strcmp(name, "job.adherence_recalc") == 0 || strcmp(name, "job.adherence_weekly") == 0) {
        struct program_day job;
        const struct hf_bind bind[] = {
            HF_BIND(struct program_day, program_id, HF_B_INT),
            { strcmp(name, "job.adherence_recalc") == 0 ? "date" : "week_start", HF_B_DATE,
              offsetof(struct program_day, day), -1 },
        };
        int rc = hf_doc_bind(msg->doc, bind, 2, &job, err);
        if (rc)
            return rc;
        if (strcmp(name, "job.adherence_recalc") == 0)
            return mark(st->days, &st->n_days, job.program_id, job.day, err);
        return mark(st->weeks, &st->n_weeks, job.program_id, job.day, err);
    }
    const char *log_type = NULL;
    for (size_t i = 0; i < sizeof log_types / sizeof log_types[0]; i++)
        if (strcmp(name, log_types[i].schema) == 0)
            log_type = log_types[i].log_type;
    if (!log_type)
        return 0; /* another pool's message on a shared topic */
    struct log_ref log = { 0 };
    /* Every log schema has member_id and occurred_at; program_id is optional
     * and absent from some (symptoms), so it is read, not bound. */
    const struct hf_bind bind[] = {
        HF_BIND(struct log_ref, member_id, HF_B_INT),
        HF_BIND(struct log_ref, occurred_at, HF_B_TIMESTAMP),
    };
    int rc = hf_doc_bind(msg->doc, bind, 2, &log, err);
    const msgpack_object *program = hf_doc_get(msg->doc, "program_id");
    if (program && program->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        log.program_id = program->via.i64;
    if (rc == 0 && !msg->replayed) {
        rc = record_log(ctx, st, msg, log_type, &log, err);
        note_ingredients(st, msg->doc);
    }
    if (rc || !log.program_id)
        return rc;
    int32_t day = (int32_t)((log.occurred_at - ((log.occurred_at % DAY_US) + DAY_US) % DAY_US) / DAY_US);
    if (strcmp(log_type, "NUTRITION") == 0)
        return mark(st->days, &st->n_days, log.program_id, day, err);
    /* A workout counts toward the 7-day windows of its day and the 6 after;
     * days past tomorrow are never scored (days_sql), so they are not asked for. */
    int32_t tomorrow = (int32_t)(hf_time_now_us() / DAY_US) + 1;
    if (strcmp(log_type, "WORKOUT") == 0)
        for (int i = 0; i < 7 && day + i <= tomorrow && rc == 0; i++)
            rc = mark(st->days, &st->n_days, log.program_id, day + i, err);
    return rc;
}

static int emit_invalidation(hf_pool_ctx *ctx, int64_t program_id, const char *kind, int32_t day, struct hf_err *err)
{
    char date[16];
    day_text(day, date, sizeof date);
    return hf_pool_invalidate(ctx, "program", program_id, kind, date, err);
}

/* The logged totals of every program day of the batch, in one query ($3 and
 * $4 bound all of the batch's days, so only their month partitions are
 * opened, not every month's for every day): day d
 * sums its meals, typed in (NUTRITION) or analysed from a photo (MEAL_PHOTO,
 * once VERIFIED: its payload carries the same top-level nutrient fields); the strength window sums workouts of d-6..d. */
static const char *const days_sql =
    "SELECT d.program_id, d.day::text, c.nutrition_goals::text, c.strength_goals::text,"
    "  d.day BETWEEN p.start_date AND p.end_date AND (d.day <= (now() AT TIME ZONE 'UTC')::date"
    "   OR (d.day = (now() AT TIME ZONE 'UTC')::date + 1 AND n.meals > 0)),"
    "  n.meals, n.calories, n.protein, n.carbs, n.fat, n.fiber, n.sugar, n.water, w.sessions, w.minutes"
    " FROM unnest($1::bigint[], $2::date[]) AS d(program_id, day)"
    " JOIN care_programs p ON p.id = d.program_id AND p.deleted_at IS NULL"
    " LEFT JOIN program_configs c ON c.program_id = p.id"
    " CROSS JOIN LATERAL (SELECT count(*) AS meals,"
    "   coalesce(sum((payload->>'calories')::float8), 0) AS calories,"
    "   coalesce(sum((payload->>'protein_g')::float8), 0) AS protein,"
    "   coalesce(sum((payload->>'carbs_g')::float8), 0) AS carbs,"
    "   coalesce(sum((payload->>'fat_g')::float8), 0) AS fat,"
    "   coalesce(sum((payload->>'fiber_g')::float8), 0) AS fiber,"
    "   coalesce(sum((payload->>'sugar_g')::float8), 0) AS sugar,"
    "   coalesce(sum((payload->>'water_ml')::float8), 0) AS water"
    "   FROM daily_logs WHERE program_id = p.id AND log_type IN ('NUTRITION', 'MEAL_PHOTO') AND status = 'VERIFIED'"
    "   AND deleted_at IS NULL AND logged_at >= d.day AND logged_at < d.day + 1"
    "   AND logged_at >= $3::date AND logged_at < $4::date) n"
    " CROSS JOIN LATERAL (SELECT count(*) AS sessions, coalesce(sum((payload->>'minutes')::float8), 0) AS minutes"
    "   FROM daily_logs WHERE program_id = p.id AND log_type = 'WORKOUT' AND status = 'VERIFIED'"
    "   AND deleted_at IS NULL AND logged_at >= d.day - 6 AND logged_at < d.day + 1"
    "   AND logged_at >= $3::date AND logged_at < $4::date) w";

/* The batch's program days as two array literals, "{7,7,9}" and
 * "{2026-11-20,...}" (the second through *days_out); caller frees both. */
static char *day_arrays(const struct state *st, char **days_out)
{
    size_t cap = (size_t)st->n_days * 24 + 3;
    char *ids = malloc(cap), *days = malloc((size_t)st->n_days * 12 + 3);
    if (!ids || !days) {
        free(ids);
        free(days);
        return NULL;
    }
    size_t a = 0, b = 0;
    ids[a++] = '{';
    days[b++] = '{';
    for (int i = 0; i < st->n_days; i++) {
        a += (size_t)snprintf(ids + a, cap - a, "%s%lld", i ? "," : "", (long long)st->days[i].program_id);
        if (i)
            days[b++] = ',';
        day_text(st->days[i].day, days + b, 11);
        b += 10;
    }
    strcpy(ids + a, "}");
    strcpy(days + b, "}");
    *days_out = days;
    return ids;
}

/* Scores one row of days_sql into rows (a JSON array for the upsert);
 * returns false when the day is not to be scored. */
static bool score_row(PGresult *res, int r, json_t *rows)
{
    /* No such program, the day is outside it, or it is tomorrow (UTC) with
     * nothing eaten yet (a workout's 7-day window reaching ahead). */
    if (PQgetvalue(res, r, 4)[0] != 't')
        return false;
    json_t *ngoals = json_loads(PQgetvalue(res, r, 2), 0, NULL), *sgoals = json_loads(PQgetvalue(res, r, 3), 0, NULL);
    struct adherence_goals goals;
    adherence_goals_from_json(ngoals, sgoals, &goals);
    json_decref(ngoals);
    json_decref(sgoals);
    struct adherence_day d = {
        .meals = atoi(PQgetvalue(res, r, 5)),        .calories = atof(PQgetvalue(res, r, 6)),
        .protein_g = atof(PQgetvalue(res, r, 7)),    .carbs_g = atof(PQgetvalue(res, r, 8)),
        .fat_g = atof(PQgetvalue(res, r, 9)),        .fiber_g = atof(PQgetvalue(res, r, 10)),
        .sugar_g = atof(PQgetvalue(res, r, 11)),     .water_ml = atof(PQgetvalue(res, r, 12)),
        .sessions_7d = atoi(PQgetvalue(res, r, 13)), .minutes_7d = atof(PQgetvalue(res, r, 14)),
    };
    json_t *details = NULL;
    double total = adherence_score(&goals, &d, &details);
    char score[32];
    snprintf(score, sizeof score, "%.2f", total);
    json_array_append_new(rows, json_pack("{s:I, s:s, s:s, s:o}", "program_id",
                                          (json_int_t)atoll(PQgetvalue(res, r, 0)), "date", PQgetvalue(res, r, 1),
                                          "total_score", score, "details", details));
    return true;
}

/* Recomputes every program day the batch touched: one query for the totals,
 * the scores in C, one upsert. The upsert's WHERE keeps an identical
 * recompute from rewriting a row: a replay leaves the table as it was.
 * Invalidations go out even then: the crash that caused the replay may have
 * come before the first ones were sent. */
static int recompute_days(hf_pool_ctx *ctx, struct state *st, struct hf_err *err)
{
    if (st->n_days == 0)
        return 0;
    char *days = NULL, *text = NULL;
    PGresult *res = NULL;
    json_t *rows = json_array();
    int rc = 0;
    char *ids = rows ? day_arrays(st, &days) : NULL;
    if (!ids) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    int32_t first = st->days[0].day, last = st->days[0].day;
    for (int i = 1; i < st->n_days; i++) {
        first = st->days[i].day < first ? st->days[i].day : first;
        last = st->days[i].day > last ? st->days[i].day : last;
    }
    char lo[16], hi[16];
    day_text(first - 6, lo, sizeof lo);
    day_text(last + 1, hi, sizeof hi);
    const char *params[] = { ids, days, lo, hi };
    if ((rc = hf_pg_exec(hf_pool_pg(ctx), days_sql, 4, params, &res, err)))
        goto out;
    /* The cache keeps a program's adherence per week (hf_cache.h): one
     * invalidation per program week, named by its Monday, not one per day. */
    st->n_stale_weeks = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        int32_t day;
        if (score_row(res, r, rows) && hf_time_parse_date(PQgetvalue(res, r, 1), &day) == 0)
            rc = mark(st->stale_weeks, &st->n_stale_weeks, atoll(PQgetvalue(res, r, 0)),
                      (int32_t)hf_civil_monday(day), err);
    }
    for (int i = 0; i < st->n_stale_weeks && rc == 0; i++)
        rc = emit_invalidation(ctx, st->stale_weeks[i].program_id, "adherence", st->stale_weeks[i].day, err);
    if (rc || json_array_size(rows) == 0)
        goto out;
    text = hf_json_text(rows, 10);
    if (!text) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    const char *up[] = { text };
    rc = hf_pg_exec(hf_pool_pg(ctx),
                    "INSERT INTO adherence_metrics (program_id, date, total_score, details)"
                    " SELECT r.program_id, r.date, r.total_score, r.details FROM jsonb_to_recordset($1::jsonb)"
                    " AS r(program_id bigint, date date, total_score numeric, details jsonb)"
                    " ON CONFLICT (program_id, date) DO UPDATE SET total_score = EXCLUDED.total_score,"
                    " details = EXCLUDED.details, computed_at = now()"
                    " WHERE adherence_metrics.total_score IS DISTINCT FROM EXCLUDED.total_score"
                    " OR adherence_metrics.details IS DISTINCT FROM EXCLUDED.details",
                    1, up, NULL, err);
out:
    PQclear(res);
    free(text);
    free(ids);
    free(days);
    json_decref(rows);
    return rc;
}

static int recompute_week(hf_pool_ctx *ctx, const struct program_day *pw, struct hf_err *err)
{
    char program[24], week[16];
    snprintf(program, sizeof program, "%lld", (long long)pw->program_id);
    day_text(pw->day, week, sizeof week);
    const char *params[] = { program, week };
    /* Days of the week inside the program and not in the future count; a day
     * without a score (nothing logged, never computed) counts as 0. */
    return hf_pg_exec(
        hf_pool_pg(ctx),
        "WITH days AS (SELECT d::date AS day FROM care_programs p,"
        "   generate_series($2::date, $2::date + 6, interval '1 day') d"
        "   WHERE p.id = $1 AND d::date BETWEEN p.start_date AND p.end_date"
        "   AND d::date <= (now() AT TIME ZONE 'UTC')::date),"
        " scored AS (SELECT days.day, coalesce(m.total_score, 0) AS score,"
        "   coalesce((m.details->>'meals')::int, 0) + coalesce((m.details->>'sessions_7d')::int, 0) AS activity"
        "   FROM days LEFT JOIN adherence_metrics m ON m.program_id = $1 AND m.date = days.day)"
        " INSERT INTO adherence_weekly (program_id, week_start, avg_score, days_logged, details)"
        " SELECT $1, $2::date, round(coalesce(avg(score), 0), 2), count(*) FILTER (WHERE activity > 0),"
        "  jsonb_build_object('days', count(*),"
        "   'daily', coalesce(jsonb_object_agg(day, score) FILTER (WHERE day IS NOT NULL), '{}'),"
        "   'best_day', (SELECT day FROM scored ORDER BY score DESC, day LIMIT 1),"
        "   'worst_day', (SELECT day FROM scored ORDER BY score, day LIMIT 1))"
        " FROM scored"
        " ON CONFLICT (program_id, week_start) DO UPDATE SET avg_score = EXCLUDED.avg_score,"
        "  days_logged = EXCLUDED.days_logged, details = EXCLUDED.details, computed_at = now()",
        2, params, NULL, err);
}

static int before_commit(hf_pool_ctx *ctx, void *arg, struct hf_err *err)
{
    struct state *st = arg;
    int rc = insert_rows(ctx, st, err);
    if (rc == 0)
        rc = ask_unknown_ingredients(ctx, st, err);
    if (rc == 0)
        rc = recompute_days(ctx, st, err);
    if (rc)
        return rc;
    for (int i = 0; i < st->n_weeks; i++) {
        rc = recompute_week(ctx, &st->weeks[i], err);
        if (rc == 0)
            rc = emit_invalidation(ctx, st->weeks[i].program_id, "adherence_weekly", st->weeks[i].day, err);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *const families[] = { "logs", "cycles", "biometrics", "jobs.adherence", NULL };

const struct hf_pool_def hf_pool_adherence = {
    .name = "adherence",
    .families = families,
    .init = init,
    .begin = begin,
    .handle = handle,
    .before_commit = before_commit,
    .fini = fini,
};
