#include "hf_dlq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_admin.h"
#include "hf_kafka.h"
#include "hf_pg.h"

struct scan {
    const struct hf_dlq_filter *f;
    json_t *rows;
    hf_producer *producer; /* replay: where re-produced records go */
    hf_pg *pg;             /* dry run and replay: audit_logs */
    bool again;
    int skipped;
};

int hf_dlq_list(const struct hf_config *cfg, json_t **rows, struct hf_err *err)
{
    char prefix[96];
    hf_config_topic(cfg, "dlq.", prefix, sizeof prefix);
    struct hf_topic_count *t = NULL;
    size_t n = 0;
    *rows = NULL;
    int rc = hf_admin_topics(cfg, prefix, &t, &n, err);
    if (rc)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "topic", t[i].topic, "pool",
                                               t[i].topic + strlen(prefix), "records", (json_int_t)t[i].records))) {
            json_decref(a);
            a = NULL;
        }
    free(t);
    if (!a)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    *rows = a;
    return 0;
}

static bool matches(const struct hf_dlq_filter *f, const struct hf_record *r)
{
    char v[512];
    if (f->offset >= 0 && r->offset != f->offset)
        return false;
    if (f->schema && strcmp(hf_record_header(r, "hf-schema", v, sizeof v), f->schema) != 0)
        return false;
    if (f->error && !strstr(hf_record_header(r, "hf-dlq-error", v, sizeof v), f->error))
        return false;
    return true;
}

/* The headers of a dead letter and its size: never its key or value. */
static json_t *describe(const struct hf_record *r, const char *target)
{
    char schema[96], version[16], event[64], error[512], topic[200], part[16], off[24], attempts[12], at[48];
    hf_record_header(r, "hf-schema", schema, sizeof schema);
    hf_record_header(r, "hf-version", version, sizeof version);
    hf_record_header(r, "hf-event-id", event, sizeof event);
    hf_record_header(r, "hf-dlq-error", error, sizeof error);
    hf_record_header(r, "hf-dlq-topic", topic, sizeof topic);
    hf_record_header(r, "hf-dlq-partition", part, sizeof part);
    hf_record_header(r, "hf-dlq-offset", off, sizeof off);
    hf_record_header(r, "hf-dlq-attempts", attempts, sizeof attempts);
    hf_record_header(r, "hf-dlq-at", at, sizeof at);
    return json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "dead_letter", target,
                     "offset", (json_int_t)r->offset, "partition", (int)r->partition, "dead_lettered_at", at, "schema",
                     schema, "version", version, "event_id", event, "error", error, "origin_topic", topic,
                     "origin_partition", part, "origin_offset", off, "attempts", attempts, "bytes", (json_int_t)r->len);
}

static int replayed_before(struct scan *s, const char *target, bool *yes, struct hf_err *err)
{
    PGresult *res = NULL;
    const char *params[] = { target };
    int rc = hf_pg_exec(s->pg, "SELECT 1 FROM audit_logs WHERE action = 'dlq.replay' AND target_resource = $1 LIMIT 1",
                        1, params, &res, err);
    *yes = rc == 0 && PQntuples(res) > 0;
    PQclear(res);
    return rc;
}

static int resend(struct scan *s, const struct hf_record *r, const char *target, struct hf_err *err)
{
    struct hf_header h[48];
    size_t n = 0;
    const char *name;
    const void *v;
    size_t len;
    for (size_t i = 0; n < 46 && hf_record_header_at(r, i, &name, &v, &len) == 0; i++)
        if (strncmp(name, "hf-dlq-", 7) != 0 && strcmp(name, "hf-replay-of") != 0)
            h[n++] = (struct hf_header){ name, v, (long)len };
    h[n++] = (struct hf_header){ "hf-replay-of", target, -1 };
    char topic[200];
    hf_record_header(r, "hf-dlq-topic", topic, sizeof topic);
    if (!topic[0])
        return hf_err_set(err, HF_EINVAL, false, "%s has no hf-dlq-topic header: not a dead letter", target);
    return hf_producer_send(s->producer, topic, r->key, r->key_len, r->value, r->len, h, n, NULL, err);
}

static int on_record(void *arg, const struct hf_record *r, struct hf_err *err)
{
    struct scan *s = arg;
    if (!matches(s->f, r) || (s->f->limit > 0 && (int)json_array_size(s->rows) >= s->f->limit))
        return 0;
    char target[240];
    snprintf(target, sizeof target, "%s[%d]@%lld", r->topic, (int)r->partition, (long long)r->offset);
    if (s->pg) {
        bool before = false;
        int rc = replayed_before(s, target, &before, err);
        if (rc)
            return rc;
        if (before && !s->again) {
            s->skipped++;
            return 0;
        }
    }
    if (s->producer) {
        int rc = resend(s, r, target, err);
        if (rc)
            return rc;
    }
    if (json_array_append_new(s->rows, describe(r, target)))
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    return 0;
}

/* Recorded after the broker has the records: a crash in between replays
 * again next time, which the pool's event-id check makes harmless. */
static int audit(struct scan *s, const char *actor, struct hf_err *err)
{
    char *rows = json_dumps(s->rows, JSON_COMPACT);
    if (!rows)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    const char *params[] = { actor, rows };
    int rc = hf_pg_exec(s->pg,
                        "INSERT INTO audit_logs (actor_id, target_resource, action, details)"
                        " SELECT $1, r->>'dead_letter', 'dlq.replay', r - 'dead_letter'"
                        " FROM jsonb_array_elements($2::jsonb) r",
                        2, params, NULL, err);
    free(rows);
    return rc;
}

static bool pool_name_ok(const char *pool)
{
    size_t n = strlen(pool);
    return n > 0 && n < 64 && strspn(pool, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int hf_dlq_run(const struct hf_config *cfg, const char *pool, const struct hf_dlq_filter *f, enum hf_dlq_mode mode,
               bool again, const char *actor, json_t **rows, int *skipped, struct hf_err *err)
{
    *rows = NULL;
    if (!pool_name_ok(pool))
        return hf_err_field(err, HF_EINVAL, "pool", "\"%.64s\" is not a pool name (lower-case letters, digits, - and _)",
                            pool);
    char family[96], topic[160];
    snprintf(family, sizeof family, "dlq.%s", pool);
    hf_config_topic(cfg, family, topic, sizeof topic);
    struct scan s = { .f = f, .rows = json_array(), .again = again };
    int rc = s.rows ? 0 : hf_err_set(err, HF_ENOMEM, false, "out of memory");
    if (rc == 0 && mode != HF_DLQ_SHOW)
        rc = hf_pg_connect(cfg->pg_url, &s.pg, err);
    if (rc == 0 && mode == HF_DLQ_REPLAY)
        rc = hf_producer_new(cfg, NULL, &s.producer, err);
    if (rc == 0)
        rc = hf_admin_scan(cfg, topic, on_record, &s, err);
    if (rc == 0 && s.producer)
        rc = hf_producer_flush(s.producer, cfg->kafka_timeout_ms, err);
    if (rc == 0 && s.producer && json_array_size(s.rows) > 0)
        rc = audit(&s, actor && actor[0] ? actor : "unknown", err);
    hf_producer_free(s.producer, cfg->kafka_timeout_ms);
    hf_pg_free(s.pg);
    if (rc) {
        json_decref(s.rows);
        return rc;
    }
    *rows = s.rows;
    if (skipped)
        *skipped = s.skipped;
    return 0;
}
