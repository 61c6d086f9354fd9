#include "hf_runtime.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hf_httpd.h"
#include "hf_kafka.h"
#include "hf_log.h"
#include "hf_metrics.h"
#include "hf_time.h"
#include "hf_uuid.h"

#define MAX_TRACKED_PARTITIONS 512

/* A killed member's partitions move on after this, not the 45 s default;
 * also the longest a leaving member waits for its revocation. */
#define SESSION_TIMEOUT_MS "10000"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* A message the runtime must send after the batch commits. */
struct outbound {
    char topic[128];
    char key[208];
    char event_id[HF_UUID_STRLEN];
    const char *schema;
    int version;
    char *value;
    size_t len;
};

/* Weight of the previous batches in the processing cost: about the last 20
 * batches count. */
#define COST_DECAY 0.95

#define MAX_MONTHS 64

struct slot {
    rd_kafka_message_t *rk;
    hf_doc *doc;
    struct hf_msg msg;
    bool poison;
    char error[300];
    int attempts;
};

struct tracked {
    char topic[128];
    int32_t partition;
    int64_t next; /* offset after the last one whose effect is committed */
};

struct hf_pool_ctx {
    const struct hf_pool_def *def;
    struct hf_config cfg;
    hf_schema_registry *schemas;
    hf_pg *pg;
    hf_producer *producer;
    rd_kafka_t *consumer;
    void *state;
    char group[96];
    char dlq_topic[160];

    struct slot *slots;
    int n_slots;
    struct outbound *out;
    size_t n_out, cap_out;
    int outage_streak; /* consecutive dependency failures, for backoff */

    pthread_mutex_t track_lock;
    struct tracked tracked[MAX_TRACKED_PARTITIONS];
    int n_tracked;
    _Atomic int64_t loop_turned_us; /* monotonic time of the last poll */
    /* Recent processing cost: batch seconds and messages, each decayed by
     * COST_DECAY per batch, so cost = busy / messages weights full batches
     * (the ones that matter when there is lag) by their size. Under track_lock. */
    double cost_busy_s, cost_messages;
    atomic_bool in_outage;

    /* daily_logs months (year * 12 + month) known to have a partition, and
     * those created by the attempt in progress (kept only if it commits). */
    int32_t months_ready[MAX_MONTHS];
    int n_months_ready;
    int32_t months_pending[MAX_MONTHS];
    int n_months_pending;

    hf_metrics *metrics;
    hf_metric *m_processed, *m_replayed, *m_dead, *m_failed, *m_retry_outage, *m_retry_msg;
    hf_metric *m_handler, *m_batch, *m_batch_size, *m_end_to_end;
};

hf_pg *hf_pool_pg(hf_pool_ctx *ctx)
{
    return ctx->pg;
}

const struct hf_config *hf_pool_config(hf_pool_ctx *ctx)
{
    return &ctx->cfg;
}

const hf_schema_registry *hf_pool_schemas(hf_pool_ctx *ctx)
{
    return ctx->schemas;
}

/* ---------- partitions ---------- */

static bool month_known(const int32_t *v, int n, int32_t month)
{
    for (int i = 0; i < n; i++)
        if (v[i] == month)
            return true;
    return false;
}

int hf_pool_ensure_log_partition(hf_pool_ctx *ctx, int64_t at_us, struct hf_err *err)
{
    char ts[40];
    hf_time_format_rfc3339(at_us, ts, sizeof ts);
    int32_t month = atoi(ts) * 12 + atoi(ts + 5);
    if (month_known(ctx->months_ready, ctx->n_months_ready, month) ||
        month_known(ctx->months_pending, ctx->n_months_pending, month))
        return 0;
    const char *params[] = { ts };
    int rc = hf_pg_exec(ctx->pg, "SELECT hf_ensure_log_partition($1::timestamptz)", 1, params, NULL, err);
    if (rc == 0 && ctx->n_months_pending < MAX_MONTHS)
        ctx->months_pending[ctx->n_months_pending++] = month;
    return rc;
}

/* ---------- emitting ---------- */

static void drop_outbound(hf_pool_ctx *ctx, size_t from)
{
    for (size_t i = from; i < ctx->n_out; i++)
        free(ctx->out[i].value);
    ctx->n_out = from;
}

int hf_pool_emit(hf_pool_ctx *ctx, const char *schema_name, json_t *fields, struct hf_err *err)
{
    const struct hf_schema *s = hf_schema_latest(ctx->schemas, schema_name);
    if (!s)
        return hf_err_set(err, HF_EINVAL, false, "emit: no schema named %s", schema_name);
    json_t *key = json_object_get(fields, s->key_field);
    if (!json_is_integer(key) && !json_is_string(key))
        return hf_err_set(err, HF_EINVAL, false, "emit %s: key field %s missing", schema_name, s->key_field);
    if (ctx->n_out == ctx->cap_out) {
        size_t ncap = ctx->cap_out ? ctx->cap_out * 2 : 64;
        struct outbound *n = realloc(ctx->out, ncap * sizeof *n);
        if (!n)
            return hf_err_set(err, HF_ENOMEM, true, "out of memory");
        ctx->out = n;
        ctx->cap_out = ncap;
    }
    struct outbound *o = &ctx->out[ctx->n_out];
    memset(o, 0, sizeof *o);
    /* Same content, same id: a replayed batch re-emits what downstream has
     * already seen, and downstream deduplicates by event_id. */
    char *canon = json_dumps(fields, JSON_SORT_KEYS | JSON_COMPACT);
    if (!canon)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    hf_uuid_v5(schema_name, canon, o->event_id);
    free(canon);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    int rc = hf_codec_encode_json(s, fields, NULL, o->event_id, &buf, err);
    if (rc) {
        msgpack_sbuffer_destroy(&buf);
        return rc;
    }
    hf_config_topic(&ctx->cfg, s->family, o->topic, sizeof o->topic);
    if (json_is_string(key))
        snprintf(o->key, sizeof o->key, "%s", json_string_value(key));
    else
        snprintf(o->key, sizeof o->key, "%lld", (long long)json_integer_value(key));
    o->schema = s->name;
    o->version = s->version;
    o->len = buf.size; /* read before release, which zeroes it */
    o->value = msgpack_sbuffer_release(&buf);
    ctx->n_out++;
    return 0;
}

int hf_pool_invalidate(hf_pool_ctx *ctx, const char *entity, int64_t id, const char *kind, const char *date,
                       struct hf_err *err)
{
    char at[40];
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    json_t *msg = json_pack("{s:s, s:I, s:s, s:s}", "entity", entity, "entity_id", (json_int_t)id, "kind", kind, "at", at);
    if (msg && date)
        json_object_set_new(msg, "date", json_string(date));
    int rc = msg ? hf_pool_emit(ctx, "cache.invalidate", msg, err) : hf_err_set(err, HF_ENOMEM, true, "out of memory");
    json_decref(msg);
    return rc;
}

static int send_outbound(hf_pool_ctx *ctx, struct hf_err *err)
{
    for (size_t i = 0; i < ctx->n_out; i++) {
        struct outbound *o = &ctx->out[i];
        char version[12];
        snprintf(version, sizeof version, "%d", o->version);
        struct hf_header h[] = {
            { "hf-schema", o->schema, -1 },
            { "hf-version", version, -1 },
            { "hf-event-id", o->event_id, -1 },
            { "hf-producer", ctx->def->name, -1 },
        };
        int rc = hf_producer_send(ctx->producer, o->topic, o->key, strlen(o->key), o->value, o->len, h, 4, NULL, err);
        if (rc)
            return rc;
    }
    drop_outbound(ctx, 0);
    return 0;
}

/* ---------- decoding ---------- */

static const char *header_text(rd_kafka_message_t *m, const char *name, char *buf, size_t bufsz)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t len = 0;
    if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, name, &v, &len) || !v ||
        len >= bufsz)
        return NULL;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

static void decode_slot(hf_pool_ctx *ctx, struct slot *s)
{
    struct hf_err err = { 0 };
    rd_kafka_message_t *m = s->rk;
    char name[64], version[12];
    s->poison = false;
    s->attempts = 0;
    s->error[0] = '\0';
    memset(&s->msg, 0, sizeof s->msg);
    s->msg.topic = rd_kafka_topic_name(m->rkt);
    s->msg.partition = m->partition;
    s->msg.offset = m->offset;
    const struct hf_schema *schema = NULL;
    if (!header_text(m, "hf-schema", name, sizeof name) || !header_text(m, "hf-version", version, sizeof version)) {
        snprintf(s->error, sizeof s->error, "missing hf-schema or hf-version header");
    } else if (!(schema = hf_schema_find(ctx->schemas, name, atoi(version)))) {
        snprintf(s->error, sizeof s->error,
                 "unknown schema %s v%s: deploy a worker that knows it, then replay the dead letters", name, version);
    } else if (!m->payload || hf_codec_decode(s->doc, schema, m->payload, m->len, &err) != 0) {
        snprintf(s->error, sizeof s->error, "%s v%s does not decode: %s", name, version,
                 m->payload ? err.msg : "empty value");
    } else if (!hf_doc_event_id(s->doc)) {
        snprintf(s->error, sizeof s->error, "%s v%s has no valid event_id", name, version);
    }
    if (s->error[0]) {
        s->poison = true;
        return;
    }
    s->msg.schema = schema;
    s->msg.doc = s->doc;
    s->msg.event_id = hf_doc_event_id(s->doc);
    char client[24];
    s->msg.client_id = header_text(m, "hf-client", client, sizeof client) ? atoll(client) : 0;
}

/* ---------- one attempt: a transaction over a range of slots ---------- */

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Claims every event id of the batch in one statement: the ids it returns
 * are new to this pool; the others were committed before (a redelivery) and
 * are marked replayed. Of two messages with one id in the same batch, the
 * first is new and the second a replay. */
static int claim(hf_pool_ctx *ctx, struct slot **batch, int n, struct hf_err *err)
{
    char *ids = malloc((size_t)n * HF_UUID_STRLEN + 3);
    const char **fresh = calloc((size_t)n, sizeof *fresh);
    bool *used = calloc((size_t)n, sizeof *used);
    PGresult *res = NULL;
    int rc = 0;
    if (!ids || !fresh || !used) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    size_t len = 0;
    ids[len++] = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            ids[len++] = ',';
        memcpy(ids + len, batch[i]->msg.event_id, 36);
        len += 36;
    }
    ids[len++] = '}';
    ids[len] = '\0';
    const char *params[] = { ctx->def->name, ids };
    rc = hf_pg_exec(ctx->pg,
                    "INSERT INTO processed_events (pool, event_id) SELECT $1, unnest($2::uuid[])"
                    " ON CONFLICT DO NOTHING RETURNING event_id::text",
                    2, params, &res, err);
    if (rc)
        goto out;
    int nfresh = PQntuples(res);
    for (int i = 0; i < nfresh; i++)
        fresh[i] = PQgetvalue(res, i, 0);
    qsort(fresh, (size_t)nfresh, sizeof *fresh, by_text);
    for (int i = 0; i < n; i++) {
        const char *id = batch[i]->msg.event_id;
        const char **hit = bsearch(&id, fresh, (size_t)nfresh, sizeof *fresh, by_text);
        batch[i]->msg.replayed = !hit || used[hit - fresh];
        if (hit)
            used[hit - fresh] = true; /* a second message with this id is a replay */
    }
out:
    PQclear(res);
    free(used);
    free(fresh);
    free(ids);
    return rc;
}

static int run_attempt(hf_pool_ctx *ctx, struct slot **batch, int n, struct hf_err *err)
{
    size_t out_mark = ctx->n_out;
    if (ctx->def->begin)
        ctx->def->begin(ctx->state);
    ctx->n_months_pending = 0;
    int rc = hf_pg_cmd(ctx->pg, "BEGIN", err);
    if (rc == 0)
        rc = claim(ctx, batch, n, err);
    for (int i = 0; i < n && rc == 0; i++) {
        struct slot *s = batch[i];
        int64_t t0 = hf_time_mono_us();
        rc = ctx->def->handle(ctx, ctx->state, &s->msg, err);
        hf_metric_observe(ctx->m_handler, (double)(hf_time_mono_us() - t0) / 1e6);
    }
    if (rc == 0 && ctx->def->before_commit)
        rc = ctx->def->before_commit(ctx, ctx->state, err);
    if (rc == 0)
        rc = hf_pg_cmd(ctx->pg, "COMMIT", err);
    if (rc) {
        hf_pg_rollback(ctx->pg);
        drop_outbound(ctx, out_mark);
        if (!hf_pg_ok(ctx->pg))
            err->unavailable = true;
        hf_metric_add(ctx->m_failed, 1);
        return rc;
    }
    for (int i = 0; i < ctx->n_months_pending && ctx->n_months_ready < MAX_MONTHS; i++)
        ctx->months_ready[ctx->n_months_ready++] = ctx->months_pending[i];
    ctx->n_months_pending = 0;
    if (ctx->def->after_commit)
        ctx->def->after_commit(ctx->state);
    for (int i = 0; i < n; i++)
        hf_metric_add(batch[i]->msg.replayed ? ctx->m_replayed : ctx->m_processed, 1);
    return 0;
}

/* ---------- backoff, rewind, offsets ---------- */

/* Sleeps the exponential backoff for `attempt` (1, 2, ...): base * 2^(attempt-1)
 * capped, then "full jitter" between half and all of it, so a fleet that lost
 * its database together does not come back in lockstep. Wakes early on SIGTERM. */
static void backoff_sleep(hf_pool_ctx *ctx, int attempt)
{
    double ms = ctx->cfg.retry_base_ms;
    for (int i = 1; i < attempt && ms < ctx->cfg.retry_cap_ms; i++)
        ms *= 2;
    if (ms > ctx->cfg.retry_cap_ms)
        ms = ctx->cfg.retry_cap_ms;
    unsigned r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (unsigned)time(NULL);
    ms = ms / 2 + (ms / 2) * ((double)(r % 1000) / 1000.0);
    int64_t until = hf_time_mono_us() + (int64_t)(ms * 1000);
    while (!stop_requested && hf_time_mono_us() < until) {
        struct timespec ts = { 0, 20 * 1000000 };
        nanosleep(&ts, NULL);
        atomic_store(&ctx->loop_turned_us, hf_time_mono_us());
    }
}

/* Seeks every partition of the batch back to its first message, so the next
 * polls deliver the batch again in order. Nothing of it has been stored. */
/* The batch's partitions, each with the offset of its first message
 * (`first`) or the offset after its last one. Caller destroys. */
static rd_kafka_topic_partition_list_t *batch_partitions(hf_pool_ctx *ctx, bool first)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; i < ctx->n_slots; i++) {
        rd_kafka_message_t *m = ctx->slots[i].rk;
        const char *topic = rd_kafka_topic_name(m->rkt);
        int64_t offset = first ? m->offset : m->offset + 1;
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(parts, topic, m->partition);
        if (!p)
            rd_kafka_topic_partition_list_add(parts, topic, m->partition)->offset = offset;
        else if (first ? offset < p->offset : offset > p->offset)
            p->offset = offset;
    }
    return parts;
}

static void rewind_batch(hf_pool_ctx *ctx)
{
    rd_kafka_topic_partition_list_t *parts = batch_partitions(ctx, true);
    rd_kafka_error_t *e = rd_kafka_seek_partitions(ctx->consumer, parts, 5000);
    if (e) {
        hf_warn("rewind failed (%s); the batch will come back after a rebalance or restart", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static void track(hf_pool_ctx *ctx, const char *topic, int32_t partition, int64_t next)
{
    pthread_mutex_lock(&ctx->track_lock);
    int i = 0;
    for (; i < ctx->n_tracked; i++)
        if (ctx->tracked[i].partition == partition && strcmp(ctx->tracked[i].topic, topic) == 0)
            break;
    if (i == ctx->n_tracked && ctx->n_tracked < MAX_TRACKED_PARTITIONS) {
        snprintf(ctx->tracked[i].topic, sizeof ctx->tracked[i].topic, "%s", topic);
        ctx->tracked[i].partition = partition;
        ctx->n_tracked++;
    }
    if (i < ctx->n_tracked && next > ctx->tracked[i].next)
        ctx->tracked[i].next = next;
    pthread_mutex_unlock(&ctx->track_lock);
}

static void store_offsets(hf_pool_ctx *ctx)
{
    rd_kafka_topic_partition_list_t *parts = batch_partitions(ctx, false);
    /* A partition revoked meanwhile refuses the store: its new owner gets
     * the messages again and finds them claimed, so nothing is applied twice. */
    rd_kafka_offsets_store(ctx->consumer, parts);
    for (int i = 0; i < parts->cnt; i++)
        track(ctx, parts->elems[i].topic, parts->elems[i].partition, parts->elems[i].offset);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* ---------- dead letters ---------- */

static int dead_letter(hf_pool_ctx *ctx, struct slot *s, struct hf_err *err)
{
    rd_kafka_message_t *m = s->rk;
    struct hf_header h[48];
    size_t n = 0;
    rd_kafka_headers_t *orig = NULL;
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *v;
        size_t len;
        for (size_t i = 0; n < 40 && rd_kafka_header_get_all(orig, i, &name, &v, &len) == 0; i++)
            if (strncmp(name, "hf-dlq-", 7) != 0)
                h[n++] = (struct hf_header){ name, v, (long)len };
    }
    char partition[16], offset[24], attempts[12], at[40];
    snprintf(partition, sizeof partition, "%d", (int)m->partition);
    snprintf(offset, sizeof offset, "%lld", (long long)m->offset);
    snprintf(attempts, sizeof attempts, "%d", s->attempts);
    hf_time_format_rfc3339(hf_time_now_us(), at, sizeof at);
    h[n++] = (struct hf_header){ "hf-dlq-error", s->error, -1 };
    h[n++] = (struct hf_header){ "hf-dlq-pool", ctx->def->name, -1 };
    h[n++] = (struct hf_header){ "hf-dlq-topic", rd_kafka_topic_name(m->rkt), -1 };
    h[n++] = (struct hf_header){ "hf-dlq-partition", partition, -1 };
    h[n++] = (struct hf_header){ "hf-dlq-offset", offset, -1 };
    h[n++] = (struct hf_header){ "hf-dlq-attempts", attempts, -1 };
    h[n++] = (struct hf_header){ "hf-dlq-at", at, -1 };
    hf_log(HF_LOG_WARN, s->msg.event_id, "dead-lettering %s[%d]@%lld after %d attempt(s): %s",
           rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, s->attempts, s->error);
    return hf_producer_send(ctx->producer, ctx->dlq_topic, m->key, m->key_len, m->payload, m->len, h, n, NULL, err);
}

/* ---------- a batch ---------- */

static void outage(hf_pool_ctx *ctx, const struct hf_err *err)
{
    ctx->outage_streak++;
    atomic_store(&ctx->in_outage, true);
    hf_metric_add(ctx->m_retry_outage, 1);
    if (ctx->outage_streak == 1 || ctx->outage_streak % 10 == 0)
        hf_warn("dependency unavailable, batch of %d will be retried (try %d): %s", ctx->n_slots, ctx->outage_streak,
                err->msg);
    drop_outbound(ctx, 0);
    rewind_batch(ctx);
    backoff_sleep(ctx, ctx->outage_streak);
}

/* Isolates the failing message(s): one transaction per message. Returns 0,
 * or a dependency failure (err->unavailable) that must abort the batch. */
static int one_by_one(hf_pool_ctx *ctx, struct slot **good, int n, struct hf_err *err)
{
    for (int i = 0; i < n; i++) {
        struct slot *s = good[i];
        for (;;) {
            s->attempts++;
            int rc = run_attempt(ctx, &s, 1, err);
            if (rc == 0)
                break;
            if (err->unavailable)
                return rc;
            if (err->retriable && s->attempts < ctx->cfg.retry_max && !stop_requested) {
                hf_metric_add(ctx->m_retry_msg, 1);
                hf_log(HF_LOG_INFO, s->msg.event_id, "retrying after: %s", err->msg);
                backoff_sleep(ctx, s->attempts);
                continue;
            }
            if (stop_requested && err->retriable)
                return hf_err_set(err, HF_EUNAVAIL, true, "stopping during retries");
            s->poison = true;
            snprintf(s->error, sizeof s->error, "%s", err->msg);
            break;
        }
    }
    return 0;
}

static void process_batch(hf_pool_ctx *ctx)
{
    struct hf_err err = { 0 };
    struct slot *good[ctx->n_slots > 0 ? ctx->n_slots : 1];
    int n_good = 0;
    int64_t t0 = hf_time_mono_us();
    for (int i = 0; i < ctx->n_slots; i++) {
        struct slot *s = &ctx->slots[i];
        decode_slot(ctx, s);
        if (!s->poison)
            good[n_good++] = s;
    }
    int rc = 0;
    if (n_good && ctx->def->prepare) {
        const struct hf_msg *msgs[n_good];
        for (int i = 0; i < n_good; i++)
            msgs[i] = &good[i]->msg;
        rc = ctx->def->prepare(ctx, ctx->state, msgs, n_good, &err);
        if (rc) {
            err.unavailable = true;
            outage(ctx, &err);
            return;
        }
    }
    rc = n_good ? run_attempt(ctx, good, n_good, &err) : 0;
    if (rc && !err.unavailable) {
        hf_warn("batch of %d failed (%s); isolating the message one by one", n_good, err.msg);
        rc = one_by_one(ctx, good, n_good, &err);
    }
    if (rc) {
        outage(ctx, &err);
        return;
    }
    for (int i = 0; i < ctx->n_slots && rc == 0; i++)
        if (ctx->slots[i].poison)
            rc = dead_letter(ctx, &ctx->slots[i], &err);
    if (rc == 0)
        rc = send_outbound(ctx, &err);
    if (rc == 0)
        rc = hf_producer_flush(ctx->producer, ctx->cfg.kafka_timeout_ms, &err);
    if (rc) {
        err.unavailable = true;
        outage(ctx, &err);
        return;
    }
    if (ctx->outage_streak)
        hf_info("dependencies back after %d retries", ctx->outage_streak);
    ctx->outage_streak = 0;
    atomic_store(&ctx->in_outage, false);
    /* Counted once the broker has them, so the counter never runs ahead of the topic. */
    int64_t now_ms = hf_time_now_us() / 1000;
    for (int i = 0; i < ctx->n_slots; i++) {
        if (ctx->slots[i].poison)
            hf_metric_add(ctx->m_dead, 1);
        rd_kafka_timestamp_type_t type;
        int64_t created = rd_kafka_message_timestamp(ctx->slots[i].rk, &type);
        if (!ctx->slots[i].poison && type == RD_KAFKA_TIMESTAMP_CREATE_TIME && created > 0 && now_ms >= created)
            hf_metric_observe(ctx->m_end_to_end, (double)(now_ms - created) / 1e3);
    }
    store_offsets(ctx);
    double took = (double)(hf_time_mono_us() - t0) / 1e6;
    hf_metric_observe(ctx->m_batch, took);
    pthread_mutex_lock(&ctx->track_lock);
    ctx->cost_busy_s = ctx->cost_busy_s * COST_DECAY + took;
    ctx->cost_messages = ctx->cost_messages * COST_DECAY + ctx->n_slots;
    pthread_mutex_unlock(&ctx->track_lock);
    hf_metric_add(ctx->m_batch_size, (uint64_t)ctx->n_slots);
}

/* ---------- consumer ---------- */

static void untrack(hf_pool_ctx *ctx, const rd_kafka_topic_partition_list_t *parts)
{
    pthread_mutex_lock(&ctx->track_lock);
    for (int p = 0; p < parts->cnt; p++)
        for (int i = 0; i < ctx->n_tracked; i++)
            if (ctx->tracked[i].partition == parts->elems[p].partition &&
                strcmp(ctx->tracked[i].topic, parts->elems[p].topic) == 0)
                ctx->tracked[i] = ctx->tracked[--ctx->n_tracked];
    pthread_mutex_unlock(&ctx->track_lock);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    hf_pool_ctx *ctx = opaque;
    /* What this process knew of a partition it gets (back) is stale: the lag
     * collector asks the group's committed offset instead. */
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        untrack(ctx, parts);
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        hf_info("assigned %d partition(s)", parts->cnt);
        if (cooperative)
            e = rd_kafka_incremental_assign(rk, parts);
        else
            rd_kafka_assign(rk, parts);
    } else {
        hf_info("revoked %d partition(s)", parts->cnt);
        /* A batch that failed on an outage is no longer this process's to
         * retry: readiness waits for the next batch, not for that one (a
         * process that lost every partition in an outage stayed unready). */
        ctx->outage_streak = 0;
        atomic_store(&ctx->in_outage, false);
        /* Hand over with the offsets of everything already committed in PostgreSQL. */
        rd_kafka_commit(rk, NULL, 0);
        if (cooperative)
            e = rd_kafka_incremental_unassign(rk, parts);
        else
            rd_kafka_assign(rk, NULL);
    }
    if (e) {
        hf_error("rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static int make_consumer(hf_pool_ctx *ctx, struct hf_err *err)
{
    char errstr[256];
    rd_kafka_conf_t *conf = hf_kafka_conf(&ctx->cfg, err);
    if (!conf)
        return err->code;
    char fetch_wait[16];
    snprintf(fetch_wait, sizeof fetch_wait, "%d", ctx->cfg.fetch_wait_ms);
    if (hf_kafka_set(conf, "group.id", ctx->group, err) ||
        hf_kafka_set(conf, "partition.assignment.strategy", "cooperative-sticky", err) ||
        hf_kafka_set(conf, "enable.auto.offset.store", "false", err) ||
        hf_kafka_set(conf, "enable.auto.commit", "true", err) ||
        hf_kafka_set(conf, "auto.commit.interval.ms", "1000", err) ||
        hf_kafka_set(conf, "auto.offset.reset", "earliest", err) ||
        hf_kafka_set(conf, "session.timeout.ms", SESSION_TIMEOUT_MS, err) ||
        hf_kafka_set(conf, "heartbeat.interval.ms", "1000", err) ||
        hf_kafka_set(conf, "max.poll.interval.ms", "600000", err) ||
        /* A fetch answered as soon as one record is there made the broker
         * serve a fetch per record or two at a few thousand a second; held
         * up to HF_FETCH_WAIT_MS for 64 KiB it serves far fewer. */
        hf_kafka_set(conf, "fetch.wait.max.ms", fetch_wait, err) ||
        hf_kafka_set(conf, "fetch.min.bytes", "65536", err)) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, ctx);
    ctx->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!ctx->consumer) {
        rd_kafka_conf_destroy(conf);
        return hf_err_set(err, HF_EIO, false, "cannot create Kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(ctx->consumer);
    int nfam = 0;
    while (ctx->def->families[nfam])
        nfam++;
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(nfam);
    for (int i = 0; i < nfam && i < 16; i++) {
        char topic[128];
        hf_config_topic(&ctx->cfg, ctx->def->families[i], topic, sizeof topic);
        rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    }
    /* Topics were ensured at start, if Kafka was there; if it was away, the
     * subscription waits for it (a pool must not exit on a broker outage). */
    int rc = 0;
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ctx->consumer, subs);
    if (e)
        rc = hf_err_set(err, HF_EIO, false, "subscribe: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(subs);
    return rc;
}

/* ---------- observability ---------- */

static void lag_collector(void *arg, char **buf, size_t *len, size_t *cap)
{
    hf_pool_ctx *ctx = arg;
    hf_metrics_appendf(buf, len, cap,
                       "# HELP hf_consumer_lag_messages Messages on the partition not yet committed by this pool.\n"
                       "# TYPE hf_consumer_lag_messages gauge\n");
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(ctx->consumer, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    /* Partitions this process has not committed anything on yet: start from
     * the group's committed offset (one request, at most a second). */
    rd_kafka_topic_partition_list_t *unknown = rd_kafka_topic_partition_list_new(assigned->cnt ? assigned->cnt : 1);
    pthread_mutex_lock(&ctx->track_lock);
    for (int i = 0; i < assigned->cnt; i++) {
        bool known = false;
        for (int t = 0; t < ctx->n_tracked; t++)
            known = known || (ctx->tracked[t].partition == assigned->elems[i].partition &&
                              strcmp(ctx->tracked[t].topic, assigned->elems[i].topic) == 0);
        if (!known)
            rd_kafka_topic_partition_list_add(unknown, assigned->elems[i].topic, assigned->elems[i].partition);
    }
    pthread_mutex_unlock(&ctx->track_lock);
    if (unknown->cnt && rd_kafka_committed(ctx->consumer, unknown, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < unknown->cnt; i++)
            if (unknown->elems[i].offset >= 0)
                track(ctx, unknown->elems[i].topic, unknown->elems[i].partition, unknown->elems[i].offset);
    rd_kafka_topic_partition_list_destroy(unknown);
    int64_t total_lag = 0;
    pthread_mutex_lock(&ctx->track_lock);
    for (int i = 0; i < assigned->cnt; i++) {
        rd_kafka_topic_partition_t *p = &assigned->elems[i];
        int64_t lo = 0, hi = 0, next = -1;
        if (rd_kafka_get_watermark_offsets(ctx->consumer, p->topic, p->partition, &lo, &hi))
            continue;
        for (int t = 0; t < ctx->n_tracked; t++)
            if (ctx->tracked[t].partition == p->partition && strcmp(ctx->tracked[t].topic, p->topic) == 0)
                next = ctx->tracked[t].next;
        if (next < 0)
            next = lo; /* the group never committed here: all of it is lag */
        hf_metrics_appendf(buf, len, cap, "hf_consumer_lag_messages{pool=\"%s\",topic=\"%s\",partition=\"%d\"} %lld\n",
                           ctx->def->name, p->topic, (int)p->partition, (long long)(hi > next ? hi - next : 0));
        total_lag += hi > next ? hi - next : 0;
    }
    double cost = ctx->cost_messages > 0 ? ctx->cost_busy_s / ctx->cost_messages : 0;
    pthread_mutex_unlock(&ctx->track_lock);
    /* What scaling should follow: the work waiting, not the message count. A
     * pool's drain time is the largest over its processes (each reports the
     * partitions it holds). Unknown (no batch yet) reports the cost as 0. */
    hf_metrics_appendf(buf, len, cap,
                       "# HELP hf_message_cost_seconds Recent processing time per message (decayed average).\n"
                       "# TYPE hf_message_cost_seconds gauge\nhf_message_cost_seconds{pool=\"%s\"} %.6f\n"
                       "# HELP hf_drain_seconds Estimated time to work off this process's lag at its recent cost.\n"
                       "# TYPE hf_drain_seconds gauge\nhf_drain_seconds{pool=\"%s\"} %.3f\n",
                       ctx->def->name, cost, ctx->def->name, (double)total_lag * cost);
    rd_kafka_topic_partition_list_destroy(assigned);
    int64_t age = hf_time_mono_us() - atomic_load(&ctx->loop_turned_us);
    hf_metrics_appendf(buf, len, cap,
                       "# HELP hf_poll_loop_age_seconds Time since the poll loop last turned.\n"
                       "# TYPE hf_poll_loop_age_seconds gauge\nhf_poll_loop_age_seconds{pool=\"%s\"} %.3f\n"
                       "# HELP hf_dependency_outage 1 while the pool is waiting for PostgreSQL or Kafka.\n"
                       "# TYPE hf_dependency_outage gauge\nhf_dependency_outage{pool=\"%s\"} %d\n",
                       ctx->def->name, (double)age / 1e6, ctx->def->name, atomic_load(&ctx->in_outage) ? 1 : 0);
}

static int serve(void *arg, const char *path, char **body, size_t *len, const char **ctype)
{
    hf_pool_ctx *ctx = arg;
    if (strcmp(path, "/metrics") == 0) {
        *body = hf_metrics_render(ctx->metrics, len);
        *ctype = "text/plain; version=0.0.4; charset=utf-8";
        return *body ? 200 : 500;
    }
    int status = 404;
    const char *text = "not found\n";
    if (strcmp(path, "/healthz") == 0) {
        int64_t age_ms = (hf_time_mono_us() - atomic_load(&ctx->loop_turned_us)) / 1000;
        bool alive = age_ms < ctx->cfg.liveness_ms;
        status = alive ? 200 : 503;
        text = alive ? "ok\n" : "poll loop stuck\n";
    } else if (strcmp(path, "/readyz") == 0) {
        bool ready = !atomic_load(&ctx->in_outage);
        status = ready ? 200 : 503;
        text = ready ? "ready\n" : "waiting for a dependency\n";
    }
    *body = strdup(text);
    *len = *body ? strlen(*body) : 0;
    return status;
}

static void register_metrics(hf_pool_ctx *ctx)
{
    char l[160];
    hf_metrics *m = ctx->metrics;
    const char *name = ctx->def->name;
    const char *help = "Messages handled, by outcome.";
#define OUTCOME(var, outcome)                                                     \
    snprintf(l, sizeof l, "pool=\"%s\",outcome=\"%s\"", name, outcome);         \
    ctx->var = hf_metrics_counter(m, "hf_messages_total", help, l)
    OUTCOME(m_processed, "processed");
    OUTCOME(m_replayed, "replayed");
    OUTCOME(m_dead, "dead_lettered");
#undef OUTCOME
    snprintf(l, sizeof l, "pool=\"%s\"", name);
    ctx->m_failed = hf_metrics_counter(m, "hf_attempts_failed_total", "Transaction attempts rolled back.", l);
    ctx->m_handler = hf_metrics_histogram(m, "hf_handler_seconds", "Handler time per message.", l);
    ctx->m_batch = hf_metrics_histogram(m, "hf_batch_seconds", "Time per committed batch, decode to offsets.", l);
    ctx->m_batch_size = hf_metrics_counter(m, "hf_batch_messages_total", "Messages in committed batches.", l);
    ctx->m_end_to_end = hf_metrics_histogram(
        m, "hf_end_to_end_seconds",
        "From the producer handing a message to Kafka (its CreateTime) to its effect being committed and acknowledged.",
        l);
    snprintf(l, sizeof l, "pool=\"%s\",reason=\"dependency\"", name);
    ctx->m_retry_outage = hf_metrics_counter(m, "hf_retries_total", "Retries, by reason.", l);
    snprintf(l, sizeof l, "pool=\"%s\",reason=\"message\"", name);
    ctx->m_retry_msg = hf_metrics_counter(m, "hf_retries_total", "Retries, by reason.", l);
    hf_metrics_add_collector(m, lag_collector, ctx);
}

/* ---------- main ---------- */

static int poll_batch(hf_pool_ctx *ctx)
{
    ctx->n_slots = 0;
    int timeout = ctx->cfg.poll_ms;
    while (ctx->n_slots < ctx->cfg.batch_max) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx->consumer, timeout);
        atomic_store(&ctx->loop_turned_us, hf_time_mono_us());
        if (!m)
            break;
        timeout = 0; /* take what is already fetched, wait no longer */
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                hf_warn("consumer: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        ctx->slots[ctx->n_slots++].rk = m;
    }
    return ctx->n_slots;
}

static void release_batch(hf_pool_ctx *ctx)
{
    for (int i = 0; i < ctx->n_slots; i++) {
        rd_kafka_message_destroy(ctx->slots[i].rk);
        ctx->slots[i].rk = NULL;
    }
    ctx->n_slots = 0;
}

/* A pool creates every topic of the fleet (those it reads, those it may emit
 * to) and its dead-letter topic, so a new pool or a new topic prefix needs no
 * other step to run. A failure is only logged: the topics may exist already,
 * and a broker that is away is retried by the consumer. */
static void ensure_own_topics(hf_pool_ctx *ctx)
{
    const char *families[48];
    size_t nf = hf_schema_families(ctx->schemas, true, families, 48);
    char names[50][160];
    const char *list[50];
    size_t n = 0;
    for (size_t i = 0; i < nf; i++)
        hf_config_topic(&ctx->cfg, families[i], names[n++], sizeof names[0]);
    for (size_t i = 0; ctx->def->families[i] && n < 49; i++) {
        bool known = false;
        for (size_t j = 0; j < nf && !known; j++)
            known = strcmp(families[j], ctx->def->families[i]) == 0;
        if (!known)
            hf_config_topic(&ctx->cfg, ctx->def->families[i], names[n++], sizeof names[0]);
    }
    snprintf(names[n++], sizeof names[0], "%s", ctx->dlq_topic);
    for (size_t i = 0; i < n; i++)
        list[i] = names[i];
    struct hf_err err = { 0 };
    if (hf_kafka_ensure_topics(&ctx->cfg, list, n, &err))
        hf_warn("could not ensure topics at start (they may exist): %s", err.msg);
    /* Learnt now, the leaders of the topics a batch may produce to do not
     * hold up the first batch's flush (it took a second). */
    else if (hf_producer_ping(ctx->producer, list, n, 2000, &err))
        hf_warn("the producer does not reach Kafka yet: %s", err.msg);
}

static int setup(hf_pool_ctx *ctx, struct hf_err *err)
{
    int rc = hf_schema_registry_new(&ctx->schemas, err);
    if (rc)
        return rc;
    char group[96];
    snprintf(group, sizeof group, "pool.%s", ctx->def->name);
    hf_config_topic(&ctx->cfg, group, ctx->group, sizeof ctx->group);
    char family[96];
    snprintf(family, sizeof family, "dlq.%s", ctx->def->name);
    hf_config_topic(&ctx->cfg, family, ctx->dlq_topic, sizeof ctx->dlq_topic);
    ctx->slots = calloc((size_t)ctx->cfg.batch_max, sizeof *ctx->slots);
    if (!ctx->slots)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    for (int i = 0; i < ctx->cfg.batch_max; i++)
        if (!(ctx->slots[i].doc = hf_doc_new()))
            return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    ctx->metrics = hf_metrics_new();
    if (!ctx->metrics)
        return hf_err_set(err, HF_ENOMEM, false, "out of memory");
    register_metrics(ctx);
    /* PostgreSQL being down at start is an outage like any other: keep going. */
    if (hf_pg_connect(ctx->cfg.pg_url, &ctx->pg, err) && !ctx->pg)
        return err->code;
    rc = hf_producer_new(&ctx->cfg, NULL, &ctx->producer, err);
    if (rc)
        return rc;
    ensure_own_topics(ctx);
    if (ctx->def->init && (rc = ctx->def->init(ctx, &ctx->state, err)))
        return rc;
    return make_consumer(ctx, err);
}

/* Leaves the group: unsubscribe, then poll until the revocation (which
 * commits the stored offsets, on_rebalance) has emptied the assignment, at
 * most a session timeout, and only then close. librdkafka 2.0.2 can hang in
 * close when a cooperative (re)assignment is still under way (its issue
 * 4527), which a chaos run met after a Kafka restart. Records polled here
 * are dropped unstored: they come again to whoever owns them next. */
static void leave_group(hf_pool_ctx *ctx)
{
    rd_kafka_unsubscribe(ctx->consumer);
    int64_t until = hf_time_mono_us() + atoll(SESSION_TIMEOUT_MS) * 1000;
    while (hf_time_mono_us() < until) {
        rd_kafka_topic_partition_list_t *owned = NULL;
        int n = rd_kafka_assignment(ctx->consumer, &owned) ? -1 : owned->cnt;
        if (owned)
            rd_kafka_topic_partition_list_destroy(owned);
        if (n <= 0)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ctx->consumer, 100);
        if (m)
            rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(ctx->consumer);
}

static void teardown(hf_pool_ctx *ctx)
{
    if (ctx->consumer) {
        leave_group(ctx);
        rd_kafka_destroy(ctx->consumer);
    }
    if (ctx->def->fini && ctx->state)
        ctx->def->fini(ctx->state);
    hf_producer_free(ctx->producer, ctx->cfg.kafka_timeout_ms);
    hf_pg_free(ctx->pg);
    drop_outbound(ctx, 0);
    free(ctx->out);
    for (int i = 0; ctx->slots && i < ctx->cfg.batch_max; i++)
        hf_doc_free(ctx->slots[i].doc);
    free(ctx->slots);
    hf_schema_registry_free(ctx->schemas);
}

int hf_pool_main(const struct hf_pool_def *def, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct hf_err err = { 0 };
    hf_pool_ctx ctx = { .def = def };
    hf_httpd *httpd = NULL;
    int status = 1;
    pthread_mutex_init(&ctx.track_lock, NULL);
    if (hf_config_load(&ctx.cfg, &err)) {
        fprintf(stderr, "hf-%s: configuration: %s\n", def->name, err.msg);
        return 2;
    }
    hf_log_init(def->name, ctx.cfg.instance, ctx.cfg.log_level);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    atomic_store(&ctx.loop_turned_us, hf_time_mono_us());
    if (setup(&ctx, &err)) {
        hf_error("cannot start: %s", err.msg);
        goto out;
    }
    if (ctx.cfg.metrics_port && hf_httpd_start(ctx.cfg.metrics_port, serve, &ctx, &httpd, &err)) {
        hf_error("%s", err.msg);
        goto out;
    }
    hf_info("pool %s consuming as group %s (batch up to %d, metrics on :%d)", def->name, ctx.group, ctx.cfg.batch_max,
            ctx.cfg.metrics_port);
    while (!stop_requested) {
        if (poll_batch(&ctx) > 0)
            process_batch(&ctx);
        release_batch(&ctx);
    }
    hf_info("stopping: committing offsets and leaving the group");
    status = 0;
out:
    hf_httpd_stop(httpd); /* before teardown: it reads the consumer */
    release_batch(&ctx);
    teardown(&ctx);
    hf_metrics_free(ctx.metrics);
    pthread_mutex_destroy(&ctx.track_lock);
    return status;
}
