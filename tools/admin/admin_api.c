/* hf-admin's JSON API: each endpoint asks the broker, the database, Redis or
 * the pools' /metrics at the time of the request, so the page shows what
 * hfctl would print at that moment; only rates come from the sampler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "admin_prom.h"
#include "hf_admin.h"
#include "hf_cron.h"
#include "hf_dlq.h"
#include "hf_log.h"
#include "hf_pg.h"
#include "hf_redis.h"
#include "hf_sched_conf.h"
#include "hf_time.h"
#include "hf_tz.h"

/* Rates are over the last minute: long enough to smooth a batch, short
 * enough to follow a change of load. */
#define RATE_WINDOW_MS 60000
#define DLQ_ROWS_DEFAULT 200
#define DLQ_ROWS_MAX 2000

static int error_doc(int status, const char *code, const char *msg, json_t **out)
{
    *out = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    return status;
}

static int from_err(const struct hf_err *err, json_t **out)
{
    switch (err->code) {
    case HF_EINVAL: return error_doc(400, "invalid", err->msg, out);
    case HF_ENOTFOUND: return error_doc(404, "not_found", err->msg, out);
    case HF_EUNAVAIL:
    case HF_ETIMEOUT: return error_doc(503, "unavailable", err->msg, out);
    default: return error_doc(500, "internal", err->msg, out);
    }
}

static const char *pool_of_group(const struct hf_config *cfg, const char *group)
{
    char prefix[96];
    hf_config_topic(cfg, "pool.", prefix, sizeof prefix);
    return strncmp(group, prefix, strlen(prefix)) == 0 ? group + strlen(prefix) : group;
}

int admin_sample(struct admin *a, struct hf_err *err)
{
    struct hf_lag_report r;
    int rc = hf_admin_lag(&a->cfg, NULL, &r, err);
    if (rc)
        return rc;
    int64_t now = hf_time_now_us() / 1000;
    for (size_t g = 0; g < r.n_groups; g++) {
        int64_t position = 0, end = 0;
        for (size_t i = 0; i < r.n_parts; i++)
            if (strcmp(r.parts[i].group, r.groups[g].group) == 0) {
                position += r.parts[i].end - r.parts[i].lag;
                end += r.parts[i].end;
            }
        admin_rates_add(a->rates, r.groups[g].group, now, position, end);
    }
    hf_lag_report_clear(&r);
    return 0;
}

static json_t *group_doc(struct admin *a, const struct hf_lag_report *r, const struct hf_group *g)
{
    json_t *parts = json_array(), *members = json_array();
    for (size_t i = 0; i < r->n_parts; i++) {
        const struct hf_lag *p = &r->parts[i];
        if (strcmp(p->group, g->group) != 0)
            continue;
        json_array_append_new(parts, json_pack("{s:s, s:i, s:I, s:I, s:I, s:s}", "topic", p->topic, "partition",
                                               (int)p->partition, "committed", (json_int_t)p->committed, "end",
                                               (json_int_t)p->end, "lag", (json_int_t)p->lag, "owner", p->owner));
        bool known = !p->owner[0];
        for (size_t k = 0; !known && k < json_array_size(members); k++)
            known = strcmp(json_string_value(json_array_get(members, k)), p->owner) == 0;
        if (!known)
            json_array_append_new(members, json_string(p->owner));
    }
    struct admin_rate rate = admin_rates_get(a->rates, g->group, RATE_WINDOW_MS);
    return json_pack("{s:s, s:s, s:s, s:i, s:o, s:I, s:f, s:f, s:o, s:i, s:o, s:o}", "group", g->group, "pool",
                     pool_of_group(&a->cfg, g->group), "state", g->state, "members", g->members, "owners", members,
                     "lag", (json_int_t)g->lag, "consumed_per_s", rate.consumed_per_s, "produced_per_s",
                     rate.produced_per_s, "drain_s", rate.drain_s >= 0 ? json_real(rate.drain_s) : json_null(),
                     "rate_samples", rate.samples, "partitions", parts, "series", admin_rates_series(a->rates, g->group));
}

static int groups(struct admin *a, json_t **out)
{
    struct hf_lag_report r;
    struct hf_err err = { 0 };
    if (hf_admin_lag(&a->cfg, NULL, &r, &err))
        return from_err(&err, out);
    json_t *list = json_array();
    for (size_t g = 0; g < r.n_groups; g++)
        json_array_append_new(list, group_doc(a, &r, &r.groups[g]));
    hf_lag_report_clear(&r);
    *out = json_pack("{s:o, s:I, s:i}", "groups", list, "at_ms", (json_int_t)(hf_time_now_us() / 1000), "window_s",
                     RATE_WINDOW_MS / 1000);
    return 200;
}

/* Every pod behind every HF_ADMIN_SCRAPE name, summed per pool; one that
 * does not answer is listed with its error and the others still count. */
static void scrape(const char *address, struct admin_pools *p, json_t *endpoints)
{
    char *text = NULL;
    struct hf_err err = { 0 };
    int rc = admin_prom_scrape(address, 2000, &text, &err);
    if (rc == 0)
        rc = admin_prom_add(p, text, &err);
    free(text);
    json_array_append_new(endpoints, json_pack("{s:s, s:b, s:s}", "endpoint", address, "up", rc == 0, "error",
                                               rc ? err.msg : ""));
}

static int pools(struct admin *a, json_t **out)
{
    struct admin_pools p = { 0 };
    json_t *endpoints = json_array();
    for (const char *next = a->cfg.admin_scrape + strspn(a->cfg.admin_scrape, ", "); *next;
         next += strspn(next, ", ")) {
        char e[256], addr[64][ADMIN_PROM_ADDR];
        size_t len = strcspn(next, ", ");
        snprintf(e, sizeof e, "%.*s", (int)len, next);
        next += len;
        int n = 0;
        struct hf_err err = { 0 };
        if (admin_prom_addresses(e, addr, 64, &n, &err))
            json_array_append_new(endpoints, json_pack("{s:s, s:b, s:s}", "endpoint", e, "up", 0, "error", err.msg));
        for (int i = 0; i < n; i++)
            scrape(addr[i], &p, endpoints);
    }
    *out = json_pack("{s:o, s:o}", "pools", admin_prom_json(&p), "endpoints", endpoints);
    free(p.v);
    return 200;
}

static int dlq_list(struct admin *a, json_t **out)
{
    json_t *rows = NULL;
    struct hf_err err = { 0 };
    if (hf_dlq_list(&a->cfg, &rows, &err))
        return from_err(&err, out);
    *out = json_pack("{s:o}", "topics", rows);
    return 200;
}

static int parse_limit(const char *text, int *limit)
{
    char *end = NULL;
    long n = text ? strtol(text, &end, 10) : DLQ_ROWS_DEFAULT;
    if (text && (!*text || *end || n < 1 || n > DLQ_ROWS_MAX))
        return -1;
    *limit = (int)n;
    return 0;
}

static int dlq_show(struct admin *a, const char *pool, admin_query_fn query, void *qarg, json_t **out)
{
    struct hf_dlq_filter f = { query(qarg, "schema"), query(qarg, "error"), -1, 0 };
    if (f.schema && !*f.schema)
        f.schema = NULL;
    if (f.error && !*f.error)
        f.error = NULL;
    if (parse_limit(query(qarg, "limit"), &f.limit))
        return error_doc(400, "invalid", "limit must be a whole number from 1 to 2000", out);
    json_t *rows = NULL;
    struct hf_err err = { 0 };
    if (hf_dlq_run(&a->cfg, pool, &f, HF_DLQ_SHOW, false, NULL, &rows, NULL, &err))
        return from_err(&err, out);
    *out = json_pack("{s:s, s:o, s:i}", "pool", pool, "rows", rows, "limit", f.limit);
    return 200;
}

/* POST {"dry_run": true} shows what would be replayed; a replay needs
 * {"dry_run": false, "confirm": "<pool>"}: the pool's name typed again, the
 * page's confirmation, so a stray request replays nothing. */
static int dlq_replay(struct admin *a, const char *pool, const char *body, size_t len, const char *who, json_t **out)
{
    json_error_t je;
    json_t *req = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(req)) {
        json_decref(req);
        return error_doc(400, "invalid", "the body must be a JSON object like {\"dry_run\": true}", out);
    }
    json_t *dry = json_object_get(req, "dry_run"), *confirm = json_object_get(req, "confirm"),
           *offset = json_object_get(req, "offset"), *schema = json_object_get(req, "schema"),
           *error = json_object_get(req, "error"), *again = json_object_get(req, "again");
    int status = 0;
    if (!json_is_boolean(dry))
        status = error_doc(400, "invalid", "dry_run (true or false) is required", out);
    else if ((offset && !json_is_null(offset) && (!json_is_integer(offset) || json_integer_value(offset) < 0)) ||
             (schema && !json_is_null(schema) && !json_is_string(schema)) ||
             (error && !json_is_null(error) && !json_is_string(error)) || (again && !json_is_boolean(again)))
        status = error_doc(400, "invalid", "offset must be a whole number, schema and error text, again a boolean",
                           out);
    else if (!json_is_true(dry) && (!json_is_string(confirm) || strcmp(json_string_value(confirm), pool) != 0))
        status = error_doc(409, "confirmation_required",
                           "a replay needs \"confirm\" set to the pool's name; look at the dry run first", out);
    if (status) {
        json_decref(req);
        return status;
    }
    struct hf_dlq_filter f = { json_is_string(schema) && json_string_length(schema) ? json_string_value(schema) : NULL,
                               json_is_string(error) && json_string_length(error) ? json_string_value(error) : NULL,
                               json_is_integer(offset) ? (long long)json_integer_value(offset) : -1, 0 };
    char actor[128];
    snprintf(actor, sizeof actor, "hf-admin:%s", who);
    enum hf_dlq_mode mode = json_is_true(dry) ? HF_DLQ_DRY_RUN : HF_DLQ_REPLAY;
    json_t *rows = NULL;
    int skipped = 0;
    struct hf_err err = { 0 };
    status = hf_dlq_run(&a->cfg, pool, &f, mode, json_is_true(again), actor, &rows, &skipped, &err);
    json_decref(req);
    if (status)
        return from_err(&err, out);
    hf_info("dlq %s of %s by %s: %zu dead letter(s), %d skipped", mode == HF_DLQ_DRY_RUN ? "dry run" : "replay", pool,
            actor, json_array_size(rows), skipped);
    *out = json_pack("{s:s, s:b, s:i, s:i, s:o}", "pool", pool, "dry_run", mode == HF_DLQ_DRY_RUN, "count",
                     (int)json_array_size(rows), "skipped", skipped, "rows", rows);
    return 200;
}

static json_t *format_time(int64_t s)
{
    char t[40];
    time_t tt = (time_t)s;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(t);
}

static int schedules(struct admin *a, json_t **out)
{
    hf_schedules *s = NULL;
    hf_pg *pg = NULL;
    PGresult *res = NULL;
    struct hf_err err = { 0 };
    int status = 200;
    if (hf_schedules_load(a->cfg.schedules, &s, &err))
        return from_err(&err, out);
    json_t *list = json_array(), *leader = json_null();
    int64_t now = hf_time_now_us() / 1000000;
    const char *fleet[] = { a->cfg.topic_prefix };
    if (hf_pg_connect(a->cfg.pg_url, &pg, &err) == 0 &&
        hf_pg_exec(pg,
                   "SELECT holder, epoch, to_char(renewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                   " to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), expires_at > now()"
                   " FROM scheduler_leases WHERE fleet = $1",
                   1, fleet, &res, &err) == 0 &&
        PQntuples(res) == 1) {
        json_decref(leader);
        leader = json_pack("{s:s, s:I, s:s, s:s, s:b}", "holder", PQgetvalue(res, 0, 0), "epoch",
                           (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "renewed_at", PQgetvalue(res, 0, 2),
                           "expires_at", PQgetvalue(res, 0, 3), "live", PQgetvalue(res, 0, 4)[0] == 't');
    }
    PQclear(res);
    for (size_t i = 0; status == 200 && i < hf_schedules_count(s); i++) {
        const struct hf_schedule *sc = hf_schedules_at(s, i);
        int64_t next = 0;
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "name", sc->name, "cron", sc->expr, "zone",
                                hf_tz_name(sc->tz), "job", hf_job_kind_name(sc->job), "arg", sc->arg, "catch_up",
                                hf_catch_up_name(sc->catch_up), "next",
                                hf_cron_next(sc->cron, sc->tz, now, &next) == 0 ? format_time(next) : json_null());
        const char *params[] = { a->cfg.topic_prefix, sc->name };
        res = NULL;
        if (hf_pg_ok(pg) &&
            hf_pg_exec(pg,
                       "SELECT to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), state,"
                       " recorded_by, manual, coalesce(jobs::text, '')"
                       " FROM scheduler_firings WHERE fleet = $1 AND schedule = $2"
                       " ORDER BY scheduled_at DESC LIMIT 1",
                       2, params, &res, &err) == 0 &&
            PQntuples(res) == 1)
            json_object_set_new(row, "last",
                                json_pack("{s:s, s:s, s:s, s:b, s:s}", "scheduled_at", PQgetvalue(res, 0, 0), "state",
                                          PQgetvalue(res, 0, 1), "recorded_by", PQgetvalue(res, 0, 2), "manual",
                                          PQgetvalue(res, 0, 3)[0] == 't', "jobs", PQgetvalue(res, 0, 4)));
        else
            json_object_set_new(row, "last", json_null());
        PQclear(res);
        json_array_append_new(list, row);
    }
    *out = json_pack("{s:o, s:o, s:b, s:s}", "schedules", list, "leader", leader, "database", hf_pg_ok(pg) != 0,
                     "file", a->cfg.schedules);
    hf_pg_free(pg);
    hf_schedules_free(s);
    return status;
}

static json_t *probe(int rc, int64_t t0, const struct hf_err *err)
{
    double ms = (double)(hf_time_mono_us() - t0) / 1000.0;
    return json_pack("{s:b, s:f, s:s}", "ok", rc == 0, "ms", ms, "error", rc ? err->msg : "");
}

static int health(struct admin *a, json_t **out)
{
    struct hf_err err = { 0 };
    int64_t t0 = hf_time_mono_us();
    int rc = hf_producer_ping(a->producer, NULL, 0, 2000, &err);
    json_t *kafka = probe(rc, t0, &err);

    hf_pg *pg = NULL;
    t0 = hf_time_mono_us();
    rc = hf_pg_connect(a->cfg.pg_url, &pg, &err);
    if (rc == 0)
        rc = hf_pg_cmd(pg, "SELECT 1", &err);
    json_t *postgres = probe(rc, t0, &err);
    hf_pg_free(pg);

    hf_redis *r = NULL;
    redisReply *reply = NULL;
    const char *ping[] = { "PING" };
    t0 = hf_time_mono_us();
    rc = hf_redis_connect(a->cfg.redis_url, a->cfg.redis_timeout_ms, 0, &r, &err);
    if (rc == 0)
        rc = hf_redis_cmd(r, 1, ping, NULL, &reply, &err);
    json_t *redis = probe(rc, t0, &err);
    freeReplyObject(reply);
    hf_redis_free(r);
    *out = json_pack("{s:o, s:o, s:o}", "kafka", kafka, "postgres", postgres, "redis", redis);
    return 200;
}

int admin_api(struct admin *a, const char *method, const char *path, admin_query_fn query, void *qarg,
              const char *body, size_t body_len, const char *who, json_t **out)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    const char *dlq = "/api/dlq/";
    if (strncmp(path, dlq, strlen(dlq)) == 0 && path[strlen(dlq)]) {
        char pool[80];
        const char *rest = path + strlen(dlq), *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n >= sizeof pool)
            return error_doc(404, "not_found", "no such pool", out);
        memcpy(pool, rest, n);
        pool[n] = '\0';
        if (!slash && get)
            return dlq_show(a, pool, query, qarg, out);
        if (slash && strcmp(slash, "/replay") == 0 && post)
            return dlq_replay(a, pool, body, body_len, who, out);
        return error_doc(slash && strcmp(slash, "/replay") == 0 ? 405 : 404, "not_found",
                         "GET /api/dlq/POOL or POST /api/dlq/POOL/replay", out);
    }
    static const struct {
        const char *path;
        int (*fn)(struct admin *, json_t **);
    } routes[] = { { "/api/groups", groups }, { "/api/pools", pools },         { "/api/dlq", dlq_list },
                   { "/api/schedules", schedules }, { "/api/health", health } };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(path, routes[i].path) == 0)
            return get ? routes[i].fn(a, out) : error_doc(405, "method_not_allowed", "only GET here", out);
    return error_doc(404, "not_found", "no such API path", out);
}
