/* hfctl dlq list|show|replay: the dead-letter topics of the pools.
 *
 * Payloads are never printed: they are health data, and an operator needs
 * the error, the origin and the ids to decide, not the content. A replay
 * re-produces the original key, value and headers (without the hf-dlq-*
 * ones) to the original topic, and records who replayed which dead letter in
 * audit_logs; a dead letter already replayed is skipped unless --again.
 * Replaying twice is harmless anyway: the event id is the same, and the pool
 * applies an event id once. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_admin.h"
#include "hf_kafka.h"
#include "hf_pg.h"
#include "hfctl.h"

struct filter {
    const char *schema;   /* hf-schema equals, or NULL */
    const char *error;    /* hf-dlq-error contains, or NULL */
    long long offset;     /* this dead letter only, or -1 */
    int limit;
};

struct scan {
    const struct filter *f;
    json_t *rows; /* what matched, as printed by show and replay */
    hf_producer *producer; /* replay: where re-produced records go; NULL for show */
    hf_pg *pg;
    bool again;
    int skipped;
};

static bool matches(const struct filter *f, const struct hf_record *r)
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

static json_t *describe(const struct hf_record *r)
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
    return json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "offset", (json_int_t)r->offset,
                     "partition", (int)r->partition, "dead_lettered_at", at, "schema", schema, "version", version,
                     "event_id", event, "error", error, "origin_topic", topic, "origin_partition", part,
                     "origin_offset", off, "attempts", attempts, "bytes", (json_int_t)r->len);
}

/* Has this dead letter been replayed before (audit_logs)? */
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
    json_t *row = describe(r);
    json_object_set_new(row, "dead_letter", json_string(target));
    json_array_append_new(s->rows, row);
    return 0;
}

static void print_rows(json_t *rows, bool as_json)
{
    if (as_json) {
        json_dumpf(rows, stdout, JSON_INDENT(2));
        putchar('\n');
        return;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        printf("%s  %s  %s v%s  event %s\n  from %s[%s]@%s after %s attempt(s), %lld bytes\n  error: %s\n",
               json_string_value(json_object_get(r, "dead_letter")),
               json_string_value(json_object_get(r, "dead_lettered_at")),
               json_string_value(json_object_get(r, "schema")), json_string_value(json_object_get(r, "version")),
               json_string_value(json_object_get(r, "event_id")), json_string_value(json_object_get(r, "origin_topic")),
               json_string_value(json_object_get(r, "origin_partition")),
               json_string_value(json_object_get(r, "origin_offset")),
               json_string_value(json_object_get(r, "attempts")),
               (long long)json_integer_value(json_object_get(r, "bytes")),
               json_string_value(json_object_get(r, "error")));
    }
}

static int list(const struct hf_config *cfg, bool as_json)
{
    char prefix[96];
    hf_config_topic(cfg, "dlq.", prefix, sizeof prefix);
    struct hf_topic_count *t = NULL;
    size_t n = 0;
    struct hf_err err = { 0 };
    if (hf_admin_topics(cfg, prefix, &t, &n, &err)) {
        fprintf(stderr, "hfctl dlq list: %s\n", err.msg);
        return 1;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "topic", t[i].topic, "pool",
                                              t[i].topic + strlen(prefix), "records", (json_int_t)t[i].records));
    if (as_json) {
        json_dumpf(rows, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        printf("%-40s %-22s %8s\n", "topic", "pool", "records");
        for (size_t i = 0; i < n; i++)
            printf("%-40s %-22s %8lld\n", t[i].topic, t[i].topic + strlen(prefix), (long long)t[i].records);
    }
    json_decref(rows);
    free(t);
    return 0;
}

static int usage(void)
{
    fputs("usage: hfctl dlq list [--json]\n"
          "       hfctl dlq show POOL [--schema S] [--error TEXT] [--offset N] [--limit N] [--json]\n"
          "       hfctl dlq replay POOL [--schema S] [--error TEXT] [--offset N] [--limit N]\n"
          "                             [--dry-run | --yes] [--again] [--actor NAME] [--json]\n",
          stderr);
    return 2;
}

int hfctl_dlq(const struct hf_config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    bool as_json = hfctl_flag(argc, argv, "--json");
    if (strcmp(argv[0], "list") == 0)
        return list(cfg, as_json);
    bool replay = strcmp(argv[0], "replay") == 0;
    if ((!replay && strcmp(argv[0], "show") != 0) || argc < 2 || argv[1][0] == '-')
        return usage();
    const char *off = hfctl_option(argc, argv, "--offset"), *lim = hfctl_option(argc, argv, "--limit");
    struct filter f = { hfctl_option(argc, argv, "--schema"), hfctl_option(argc, argv, "--error"),
                        off ? strtoll(off, NULL, 10) : -1, lim ? (int)strtol(lim, NULL, 10) : 0 };
    bool dry = hfctl_flag(argc, argv, "--dry-run"), yes = hfctl_flag(argc, argv, "--yes");
    char family[96], topic[160], actor[128];
    snprintf(family, sizeof family, "dlq.%s", argv[1]);
    hf_config_topic(cfg, family, topic, sizeof topic);
    const char *who = hfctl_option(argc, argv, "--actor");
    if (!who)
        who = getenv("USER");
    snprintf(actor, sizeof actor, "%s", who ? who : "unknown");

    struct scan s = { .f = &f, .rows = json_array(), .again = hfctl_flag(argc, argv, "--again") };
    struct hf_err err = { 0 };
    int rc = 0;
    if (replay) {
        rc = hf_pg_connect(cfg->pg_url, &s.pg, &err);
        if (rc == 0 && yes && !dry)
            rc = hf_producer_new(cfg, NULL, &s.producer, &err);
    }
    if (rc == 0)
        rc = hf_admin_scan(cfg, topic, on_record, &s, &err);
    if (rc == 0 && s.producer)
        rc = hf_producer_flush(s.producer, cfg->kafka_timeout_ms, &err);
    /* Recorded after the broker has the records: a crash in between replays
     * again next time, which the pool's event-id check makes harmless. */
    if (rc == 0 && s.producer && json_array_size(s.rows) > 0) {
        char *rows = json_dumps(s.rows, JSON_COMPACT);
        const char *params[] = { actor, rows };
        rc = rows ? hf_pg_exec(s.pg,
                               "INSERT INTO audit_logs (actor_id, target_resource, action, details)"
                               " SELECT $1, r->>'dead_letter', 'dlq.replay', r - 'dead_letter'"
                               " FROM jsonb_array_elements($2::jsonb) r",
                               2, params, NULL, &err)
                  : hf_err_set(&err, HF_ENOMEM, false, "out of memory");
        free(rows);
    }
    if (rc) {
        fprintf(stderr, "hfctl dlq %s: %s\n", argv[0], err.msg);
    } else {
        print_rows(s.rows, as_json);
        if (replay && !as_json)
            printf("%s %zu dead letter(s) from %s%s%s\n", s.producer ? "replayed" : "would replay",
                   json_array_size(s.rows), topic,
                   s.skipped ? " (skipped some already replayed; --again to replay them too)" : "",
                   s.producer ? "" : "; add --yes to replay");
        else if (!replay && !as_json)
            printf("%zu dead letter(s) in %s\n", json_array_size(s.rows), topic);
    }
    hf_producer_free(s.producer, cfg->kafka_timeout_ms);
    hf_pg_free(s.pg);
    json_decref(s.rows);
    return rc ? 1 : 0;
}
