#include "hf_reads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_log.h"
#include "hf_time.h"

#define DAY_US (86400LL * 1000000)

/* A program's daily scores of from..to and the weekly summaries of weeks
 * starting in from-6..to (every week overlapping the range). */
static const char *const adherence_sql =
    "SELECT json_build_object('program_id', $1::bigint, 'from', $2::date, 'to', $3::date,"
    " 'days', coalesce((SELECT json_agg(json_build_object('date', date, 'total_score', total_score,"
    "   'details', details, 'computed_at', computed_at) ORDER BY date) FROM adherence_metrics"
    "   WHERE program_id = $1 AND date BETWEEN $2::date AND $3::date), '[]'),"
    " 'weeks', coalesce((SELECT json_agg(json_build_object('week_start', week_start, 'avg_score', avg_score,"
    "   'days_logged', days_logged, 'details', details, 'computed_at', computed_at) ORDER BY week_start)"
    "   FROM adherence_weekly WHERE program_id = $1 AND week_start BETWEEN $2::date - 6 AND $3::date), '[]'))::text";

/* The newest prediction per (kind, target): the current ones. */
static const char *const predictions_sql =
    "SELECT json_build_object('member_id', $1::bigint, 'predictions', coalesce(json_agg(json_build_object("
    "  'kind', kind, 'target', target, 'predicted_for', predicted_for, 'value', value, 'model_id', model_id,"
    "  'created_at', created_at) ORDER BY kind, target), '[]'))::text"
    " FROM (SELECT DISTINCT ON (kind, target) * FROM predictions WHERE member_id = $1"
    "  AND ($2::text IS NULL OR kind = $2) ORDER BY kind, target, created_at DESC, id DESC) p";

static const char *const insights_sql =
    "SELECT json_build_object('member_id', member_id, 'data_hash', data_hash, 'computed_at', computed_at,"
    " 'insights', insights)::text FROM user_insights WHERE member_id = $1";

/* An ingredient's score, asked by any spelling: the name normalised by
 * hf_food_name, an alias standing for its food (migration 0010). */
static const char *const ingredient_sql =
    "SELECT json_build_object('name', name, 'blood_sugar', blood_sugar, 'inflammation', inflammation, 'gut', gut,"
    " 'hormonal', hormonal, 'overall', overall, 'confidence', confidence, 'details', details,"
    " 'scored_at', scored_at)::text FROM ingredient_scores WHERE name = ingredient_canonical($1)";

int hf_reads_load(hf_pg *pg, const struct hf_cache_ref *ref, char **body, size_t *len, struct hf_err *err)
{
    char id[24], from[16], to[16];
    snprintf(id, sizeof id, "%lld", (long long)ref->id);
    const char *params[3] = { id, NULL, NULL };
    const char *sql;
    int n = 1;
    switch (ref->kind) {
    case HF_CACHE_ADHERENCE:
        hf_time_format_date((int64_t)ref->from * DAY_US, from, sizeof from);
        hf_time_format_date((int64_t)ref->to * DAY_US, to, sizeof to);
        params[1] = from;
        params[2] = to;
        n = 3;
        sql = adherence_sql;
        break;
    case HF_CACHE_PREDICTIONS:
        params[1] = ref->sub;
        n = 2;
        sql = predictions_sql;
        break;
    case HF_CACHE_INSIGHTS:
        sql = insights_sql;
        break;
    case HF_CACHE_INGREDIENT_SCORE:
        params[0] = ref->name;
        sql = ingredient_sql;
        break;
    default:
        return hf_err_set(err, HF_EINVAL, false, "no PostgreSQL read for cache kind %d", (int)ref->kind);
    }
    PGresult *res = NULL;
    int rc = hf_pg_exec(pg, sql, n, params, &res, err);
    if (rc)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ref->kind == HF_CACHE_INGREDIENT_SCORE
                   ? hf_err_set(err, HF_ENOTFOUND, false, "no score for \"%s\" yet", ref->name)
                   : hf_err_set(err, HF_ENOTFOUND, false, "nothing computed yet for %lld", (long long)ref->id);
    }
    size_t l = (size_t)PQgetlength(res, 0, 0);
    *body = malloc(l + 1);
    if (!*body) {
        PQclear(res);
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    }
    memcpy(*body, PQgetvalue(res, 0, 0), l + 1);
    *len = l;
    PQclear(res);
    return 0;
}

int hf_reads_get(hf_redis *redis, hf_pg *pg, const struct hf_cache_ref *ref, const char *extra_key,
                 struct hf_read *out, struct hf_err *err)
{
    memset(out, 0, sizeof *out);
    uint64_t version = 0;
    struct hf_err cerr = { 0 };
    out->degraded = true;
    if (redis) {
        /* The version is read BEFORE PostgreSQL is queried: see hf_cache.h. */
        int rc = hf_cache_get(redis, ref, extra_key, &version, &out->body, &out->len, &out->extra, &cerr);
        if (rc == 0 && out->body) {
            out->hit = true;
            out->degraded = false;
            return 0;
        }
        out->degraded = rc != 0;
        if (rc && rc != HF_EUNAVAIL)
            hf_warn("cache read failed, serving from PostgreSQL: %s", cerr.msg);
    }
    int rc = hf_reads_load(pg, ref, &out->body, &out->len, err);
    if (rc || out->degraded)
        return rc;
    if (hf_cache_put(redis, ref, version, out->body, out->len, &cerr)) {
        out->degraded = true;
        if (cerr.code != HF_EUNAVAIL)
            hf_warn("cache store failed: %s", cerr.msg);
    }
    return 0;
}

void hf_read_clear(struct hf_read *out)
{
    free(out->body);
    free(out->extra);
    memset(out, 0, sizeof *out);
}
