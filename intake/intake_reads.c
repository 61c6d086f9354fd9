#include "intake_reads.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_cache.h"
#include "hf_codec.h"
#include "hf_food_name.h"
#include "hf_log.h"
#include "hf_reads.h"
#include "hf_time.h"
#include "hf_uuid.h"

#define DAY_US (86400LL * 1000000)
#define MAX_RANGE_DAYS 92 /* a program is 90 days; a range longer than it is a mistake */

struct intake_reads {
    const struct hf_config *cfg;
    intake_auth *auth;
    intake_limits *limits;
    hf_producer *producer;
    const struct hf_schema *refresh_schema, *score_schema;
    hf_metric *m_hit, *m_miss, *m_fallback, *m_off, *m_refresh, *m_stale, *m_score_asked;
    hf_metric *m_lat_hit, *m_lat_miss;
};

int intake_reads_new(const struct hf_config *cfg, intake_auth *auth, intake_limits *limits, hf_producer *producer,
                     const hf_schema_registry *schemas, hf_metrics *m, intake_reads **out, struct hf_err *err)
{
    *out = NULL;
    intake_reads *r = calloc(1, sizeof *r);
    if (!r)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    r->cfg = cfg;
    r->auth = auth;
    r->limits = limits;
    r->producer = producer;
    r->refresh_schema = hf_schema_latest(schemas, "job.insight_refresh");
    r->score_schema = hf_schema_latest(schemas, "job.ingredient_score");
    if (!r->refresh_schema || !r->score_schema) {
        free(r);
        return hf_err_set(err, HF_EINVAL, false, "schemas job.insight_refresh and job.ingredient_score must be built in");
    }
    static const char help[] = "Cached reads by outcome: hit (Redis), miss (PostgreSQL, then stored), fallback "
                               "(Redis away: PostgreSQL only), off (HF_CACHE_READS=0).";
    r->m_hit = hf_metrics_counter(m, "hf_cache_reads_total", help, "outcome=\"hit\"");
    r->m_miss = hf_metrics_counter(m, "hf_cache_reads_total", help, "outcome=\"miss\"");
    r->m_fallback = hf_metrics_counter(m, "hf_cache_reads_total", help, "outcome=\"fallback\"");
    r->m_off = hf_metrics_counter(m, "hf_cache_reads_total", help, "outcome=\"off\"");
    r->m_stale = hf_metrics_counter(m, "hf_cache_stale_served_total", "Insights served stale (refresh asked).", "");
    r->m_refresh = hf_metrics_counter(m, "hf_cache_refresh_jobs_total", "job.insight_refresh produced by stale reads.",
                                      "");
    r->m_score_asked = hf_metrics_counter(m, "hf_ingredient_scores_asked_total",
                                          "job.ingredient_score produced for reads of unscored ingredients.", "");
    static const char lhelp[] = "Time to answer a read, from the cache or not.";
    r->m_lat_hit = hf_metrics_histogram(m, "hf_cache_read_seconds", lhelp, "source=\"redis\"");
    r->m_lat_miss = hf_metrics_histogram(m, "hf_cache_read_seconds", lhelp, "source=\"postgres\"");
    *out = r;
    return 0;
}

void intake_reads_free(intake_reads *r)
{
    free(r);
}

enum what { W_NONE, W_PREDICTIONS, W_INSIGHTS, W_ADHERENCE };

/* "/v1/members/12/insights" -> W_INSIGHTS, 12. W_NONE for anything else;
 * *id is 0 when the route matches but the id is not a positive number. */
static enum what parse_path(const char *path, int64_t *id)
{
    static const struct {
        const char *prefix, *suffix;
        enum what what;
    } routes[] = {
        { "/v1/members/", "/predictions", W_PREDICTIONS },
        { "/v1/members/", "/insights", W_INSIGHTS },
        { "/v1/programs/", "/adherence", W_ADHERENCE },
    };
    *id = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t pl = strlen(routes[i].prefix);
        if (strncmp(path, routes[i].prefix, pl) != 0)
            continue;
        const char *p = path + pl;
        size_t digits = strcspn(p, "/");
        if (strcmp(p + digits, routes[i].suffix) != 0)
            continue;
        if (digits >= 1 && digits <= 18 && strspn(p, "0123456789") == digits) {
            *id = strtoll(p, NULL, 10);
            if (*id < 1)
                *id = 0;
        }
        return routes[i].what;
    }
    return W_NONE;
}

#define INGREDIENTS "/v1/ingredients/"

/* "/v1/ingredients/greek%20yogurt" (MHD has decoded it): the name as asked
 * (a "/" in it is punctuation like any other), or NULL when path is not
 * this route. */
static const char *ingredient_path(const char *path)
{
    size_t n = strlen(INGREDIENTS);
    return strncmp(path, INGREDIENTS, n) == 0 && path[n] ? path + n : NULL;
}

bool intake_reads_route(const char *path)
{
    int64_t id;
    return parse_path(path, &id) != W_NONE || ingredient_path(path);
}

static void fail(struct intake_answer *a, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(struct intake_answer *a, int status, const char *code, const char *field, const char *fmt, ...)
{
    a->status = status;
    a->code = code;
    a->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

/* Fills ref's query part; false (a answered 400) when an argument is bad. */
static bool parse_query(const struct intake_get *q, enum what w, struct hf_cache_ref *ref, struct intake_answer *a)
{
    if (w == W_PREDICTIONS) {
        ref->sub = q->kind;
        char key[160]; /* the key scheme knows the kinds: one list */
        if (q->kind && hf_cache_key(ref, 0, key, sizeof key)) {
            fail(a, 400, "invalid_field", "kind", "kind must be cycle, symptoms, energy or mood");
            return false;
        }
        return true;
    }
    if (w != W_ADHERENCE)
        return true;
    int32_t today = (int32_t)(hf_time_now_us() / DAY_US);
    ref->to = today;
    if (q->to && hf_time_parse_date(q->to, &ref->to)) {
        fail(a, 400, "invalid_field", "to", "to must be a date, YYYY-MM-DD");
        return false;
    }
    ref->from = ref->to - 6;
    if (q->from && hf_time_parse_date(q->from, &ref->from)) {
        fail(a, 400, "invalid_field", "from", "from must be a date, YYYY-MM-DD");
        return false;
    }
    if (ref->from > ref->to) {
        fail(a, 400, "invalid_field", "from", "from is after to");
        return false;
    }
    if (ref->to - ref->from + 1 > MAX_RANGE_DAYS) {
        fail(a, 400, "invalid_field", "to", "a range holds at most %d days", MAX_RANGE_DAYS);
        return false;
    }
    return true;
}

static void etag_of(const char *body, size_t len, char out[24])
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64: a fingerprint, not a secret */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)body[i]) * 1099511628211ull;
    snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

/* Does If-None-Match (a list, or *) name etag? */
static bool etag_matches(const char *header, const char *etag)
{
    if (!header)
        return false;
    if (strcmp(header, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = header; (p = strstr(p, etag)); p += n)
        if ((p == header || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
    return false;
}

/* Is the insights body stale: computed more than a day ago, or before the
 * member's data last changed (changed: the mark in milliseconds, or NULL)?
 * *computed_us receives its computed_at. */
static bool insights_stale(const char *body, const char *changed, int64_t *computed_us)
{
    json_t *doc = json_loads(body, 0, NULL);
    const char *at = json_string_value(json_object_get(doc, "computed_at"));
    bool stale = true;
    *computed_us = 0;
    if (at && hf_time_parse_rfc3339(at, computed_us) == 0) {
        stale = hf_time_now_us() - *computed_us > (int64_t)hf_cache_ttl_s(HF_CACHE_INSIGHTS) * 1000000;
        if (changed && strtoll(changed, NULL, 10) * 1000 > *computed_us)
            stale = true;
    }
    json_decref(doc);
    return stale;
}

/* Produces a job of schema s from fields, keyed by key, fire and forget
 * (the producer's delivery report only counts a failure); its event id is
 * derived from id_name in namespace ns, so asking again is the same job. */
static int produce_job(intake_reads *r, const struct hf_schema *s, json_t *fields, const char *key, const char *ns,
                       const char *id_name, struct hf_err *err)
{
    char event_id[HF_UUID_STRLEN];
    hf_uuid_v5(ns, id_name, event_id);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    int rc = fields ? hf_codec_encode_json(s, fields, NULL, event_id, &buf, err)
                    : hf_err_set(err, HF_ENOMEM, false, "out of memory");
    if (rc == 0)
        rc = hf_producer_send_message(r->producer, r->cfg, s, key, event_id, buf.data, buf.size, "intake", err);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

/* Asks the insights pool to recompute (stale-while-revalidate). The event id
 * is derived from the member and the stale answer, so repeats of it are one
 * job downstream; the Redis guard keeps repeats off Kafka too. */
static void request_refresh(intake_reads *r, hf_redis *redis, int64_t member_id, int64_t computed_us)
{
    if (redis) {
        char key[64], ttl[16];
        hf_cache_refresh_key(member_id, key, sizeof key);
        snprintf(ttl, sizeof ttl, "%d", HF_CACHE_REFRESH_GUARD_S);
        const char *argv[] = { "SET", key, "1", "NX", "EX", ttl };
        redisReply *rep = NULL;
        if (hf_redis_cmd(redis, 6, argv, NULL, &rep, NULL) == 0 && rep->type == REDIS_REPLY_NIL) {
            freeReplyObject(rep);
            return; /* asked recently */
        }
        freeReplyObject(rep);
    }
    char name[64], key[24];
    snprintf(name, sizeof name, "%lld:%lld", (long long)member_id, (long long)computed_us);
    snprintf(key, sizeof key, "%lld", (long long)member_id);
    json_t *fields = json_pack("{s:I, s:s, s:s}", "member_id", (json_int_t)member_id, "reason", "stale_read", "trigger",
                               "intake stale read");
    struct hf_err err = { 0 };
    if (produce_job(r, r->refresh_schema, fields, key, "intake.stale_read", name, &err))
        hf_warn("insight refresh for a stale read not queued: %s", err.msg);
    else
        hf_metric_add(r->m_refresh, 1);
    json_decref(fields);
}

/* 002: an app asking for an ingredient with no score gets one made. The
 * event id is derived from the name and the day, so an app that asks again
 * and again until the score is there causes one scoring a day downstream. */
static void ask_score(intake_reads *r, const char *name)
{
    char day[16], trigger[32], id_name[HF_FOOD_NAME_MAX + 20];
    hf_time_format_date(hf_time_now_us(), day, sizeof day);
    snprintf(trigger, sizeof trigger, "intake:%s", day);
    snprintf(id_name, sizeof id_name, "%s:%s", name, day);
    json_t *fields = json_pack("{s:s, s:s, s:s}", "name", name, "reason", "app_request", "trigger", trigger);
    struct hf_err err = { 0 };
    if (produce_job(r, r->score_schema, fields, name, "intake.app_request", id_name, &err))
        hf_warn("ingredient score for a read not asked for: %s", err.msg);
    else
        hf_metric_add(r->m_score_asked, 1);
    json_decref(fields);
}

/* GET /v1/ingredients/{name}: a score by any spelling, from PostgreSQL (see
 * hf_reads_load for why not cached). 202 when there is none yet. */
static void answer_ingredient(intake_reads *r, const struct intake_get *q, const char *asked, struct intake_answer *a)
{
    char name[HF_FOOD_NAME_MAX + 1];
    struct hf_err err = { 0 };
    struct intake_take take = { q->client_id, q->client_rpm, 1, INTAKE_LIMIT_CLIENT, 0 };
    enum intake_limit refused_by;
    if (intake_limits_take(r->limits, &take, &a->retry_after, &refused_by))
        return fail(a, 429, "rate_limited", NULL, "too many requests for this API key; retry later");
    if (hf_food_name_normalise(asked, name, &err))
        return fail(a, 400, "invalid_field", "name", "%s", err.msg);
    const struct hf_cache_ref ref = { .kind = HF_CACHE_INGREDIENT_SCORE, .name = name };
    int slot = -1, rc;
    hf_pg *pg = intake_auth_pg_borrow(r->auth, &slot, &err);
    rc = pg ? hf_reads_load(pg, &ref, &a->body, &a->len, &err) : HF_EUNAVAIL;
    if (pg)
        intake_auth_pg_return(r->auth, slot);
    if (rc == HF_ENOTFOUND) {
        ask_score(r, name);
        json_t *body = json_pack("{s:s, s:s}", "name", name, "status", "scoring");
        a->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (!a->body)
            return fail(a, 503, "unavailable", NULL, "out of memory");
        a->len = strlen(a->body);
        a->status = 202;
        a->retry_after = 10;
        return;
    }
    if (rc) {
        a->retry_after = 2;
        return fail(a, 503, "unavailable", NULL, "cannot read right now: %s", err.msg);
    }
    etag_of(a->body, a->len, a->etag);
    a->status = 200;
    if (etag_matches(q->if_none_match, a->etag)) {
        free(a->body);
        a->body = NULL;
        a->len = 0;
        a->status = 304;
    }
}

void intake_reads_answer(intake_reads *r, const struct intake_get *q, struct intake_answer *a)
{
    memset(a, 0, sizeof *a);
    const char *ingredient = ingredient_path(q->path);
    if (ingredient)
        return answer_ingredient(r, q, ingredient, a);
    int64_t id, member_id = 0, user_id = 0, t0 = hf_time_mono_us();
    enum what w = parse_path(q->path, &id);
    struct hf_cache_ref ref = { .id = id };
    ref.kind = w == W_ADHERENCE ? HF_CACHE_ADHERENCE : w == W_INSIGHTS ? HF_CACHE_INSIGHTS : HF_CACHE_PREDICTIONS;
    if (w == W_NONE || id == 0)
        return fail(a, 404, "not_found", NULL, "no such endpoint (ids are positive whole numbers)");
    if (!parse_query(q, w, &ref, a))
        return;
    struct hf_err err = { 0 };
    int rc = intake_auth_reader(r->auth, q->client_id, w == W_ADHERENCE, id, &member_id, &user_id, &err);
    /* The app's unit and the person's are one take; a read of someone not
     * found still costs the app its unit, so probing ids is limited too. */
    struct intake_take take = { q->client_id, q->client_rpm, 1, rc == 0 ? INTAKE_LIMIT_USER_READ : INTAKE_LIMIT_CLIENT,
                                user_id };
    enum intake_limit refused_by;
    if (intake_limits_take(r->limits, &take, &a->retry_after, &refused_by))
        return fail(a, 429, "rate_limited", NULL,
                    refused_by == INTAKE_LIMIT_CLIENT ? "too many requests for this API key; retry later"
                                                      : "too many reads for this user; retry later");
    if (rc == HF_ENOTFOUND)
        return fail(a, 404, "not_found", NULL, "%s", err.msg);
    if (rc) {
        a->retry_after = 2;
        return fail(a, 503, "unavailable", NULL, "cannot check ownership right now");
    }

    int rslot = -1, pslot = -1;
    hf_redis *redis = r->cfg->cache_reads ? intake_limits_redis(r->limits, &rslot) : NULL;
    char changed_key[64];
    if (w == W_INSIGHTS)
        hf_cache_changed_key(member_id, changed_key, sizeof changed_key);
    struct hf_read got = { 0 };
    hf_pg *pg = intake_auth_pg_borrow(r->auth, &pslot, &err);
    if (!pg) {
        rc = HF_EUNAVAIL;
    } else {
        rc = hf_reads_get(redis, pg, &ref, w == W_INSIGHTS ? changed_key : NULL, &got, &err);
        intake_auth_pg_return(r->auth, pslot);
    }
    if (rc == 0 && w == W_INSIGHTS) {
        int64_t computed_us;
        a->stale = insights_stale(got.body, got.extra, &computed_us);
        if (a->stale) {
            hf_metric_add(r->m_stale, 1);
            request_refresh(r, got.degraded ? NULL : redis, member_id, computed_us);
        }
    } else if (rc == HF_ENOTFOUND && w == W_INSIGHTS) {
        request_refresh(r, got.degraded ? NULL : redis, member_id, 0); /* 002: a miss asks for a refresh */
    }
    if (rslot >= 0)
        intake_limits_redis_return(r->limits, rslot);
    hf_metric_add(!r->cfg->cache_reads ? r->m_off : got.hit ? r->m_hit : got.degraded ? r->m_fallback : r->m_miss, 1);
    hf_metric_observe(got.hit ? r->m_lat_hit : r->m_lat_miss, (double)(hf_time_mono_us() - t0) / 1e6);
    if (rc == HF_ENOTFOUND) {
        hf_read_clear(&got);
        return fail(a, 404, "not_found", NULL, "no insights computed yet for this member; a refresh was requested");
    }
    if (rc) {
        hf_read_clear(&got);
        a->retry_after = 2;
        return fail(a, 503, "unavailable", NULL, "cannot read right now: %s", err.msg);
    }
    etag_of(got.body, got.len, a->etag);
    if (etag_matches(q->if_none_match, a->etag)) {
        a->status = 304;
        hf_read_clear(&got);
        return;
    }
    a->status = 200;
    a->body = got.body;
    a->len = got.len;
    got.body = NULL;
    hf_read_clear(&got);
}
