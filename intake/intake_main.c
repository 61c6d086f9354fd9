/* hf-intake: the HTTP front door. Authenticates the app, validates each event
 * against its schema, and answers 202 only once Kafka has the record
 * (acks=all). A request waiting for the broker is suspended, not blocking a
 * thread: the producer's delivery report resumes it. See intake/README.md. */
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_config.h"
#include "hf_kafka.h"
#include "hf_log.h"
#include "hf_metrics.h"
#include "hf_openapi.h"
#include "hf_time.h"
#include "intake_auth.h"
#include "intake_events.h"
#include "intake_limits.h"
#include "intake_reads.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

enum route { R_NONE, R_EVENT, R_BATCH, R_READ, R_HEALTH, R_READY, R_METRICS, R_OPENAPI };

struct item {
    struct req *req;
    int status; /* 202 accepted, 4xx refused, 503 broker failed */
    const char *code;
    struct hf_err err;
    struct intake_record rec;
    int64_t user_id; /* the member's user, once ownership is checked */
};

struct req {
    enum route route;
    /* A refusal decided before the body was read; sent at the final call,
     * because libmicrohttpd breaks the connection on an earlier reply. */
    unsigned refusal;
    const char *refusal_code;
    char refusal_msg[160];
    const char *refusal_field;
    int refusal_retry_after;
    char *body;
    size_t len, cap;
    bool too_big;
    int64_t t0;
    struct intake_client client;
    char idempotency_key[256];
    bool has_idempotency_key;
    struct item *items;
    int n_items;
    atomic_int pending;
    bool suspended;
    struct MHD_Connection *conn;
};

struct intake {
    struct hf_config cfg;
    hf_schema_registry *schemas;
    intake_auth *auth;
    intake_limits *limits;
    intake_reads *reads;
    hf_producer *producer;
    hf_metrics *metrics;
    char *openapi; /* the API's document (hf_openapi.h), made once at start */
    hf_metric *m_accepted, *m_rejected, *m_latency;
    hf_metric *m_status[600];
    atomic_int in_flight;
};

/* ---------- responses ---------- */

static enum MHD_Result send_json(struct intake *in, struct MHD_Connection *conn, unsigned status, json_t *body,
                                 int retry_after)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return MHD_NO;
    size_t n = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    enum MHD_Result res = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    if (status < 600)
        hf_metric_add(in->m_status[status], 1);
    return res;
}

static enum MHD_Result send_error(struct intake *in, struct MHD_Connection *conn, unsigned status, const char *code,
                                  const char *message, const char *field, int retry_after)
{
    return send_json(in, conn, status, intake_error_body(code, message, field), retry_after);
}

/* mode: MHD_RESPMEM_MUST_FREE takes ownership of text; PERSISTENT borrows it. */
static enum MHD_Result send_text(struct intake *in, struct MHD_Connection *conn, unsigned status, char *text,
                                 const char *ctype, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result res = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    hf_metric_add(in->m_status[status], 1);
    return res;
}

/* ---------- delivery: the producer thread resumes the request ---------- */

static void on_delivery(void *opaque, int rc, const char *reason)
{
    struct item *it = opaque;
    if (!it) { /* a job the intake asked for (insight refresh): nobody waits on it */
        if (rc)
            hf_warn("a job record was not delivered: %s", reason ? reason : "unknown");
        return;
    }
    struct req *r = it->req;
    if (rc) {
        it->status = 503;
        it->code = "unavailable";
        hf_err_set(&it->err, rc, true, "the event store did not confirm the event: %s; retry with the same event_id",
                   reason ? reason : "unknown");
    } else {
        it->status = 202;
    }
    if (atomic_fetch_sub(&r->pending, 1) == 1)
        MHD_resume_connection(r->conn);
}

/* ---------- events ---------- */

static void refuse(struct item *it, int status, const char *code)
{
    it->status = status;
    it->code = code;
}

/* Validates one event and checks the caller may post it. */
static void prepare_item(struct intake *in, struct req *r, const hf_jval *event, int index, struct item *it)
{
    it->req = r;
    int rc = intake_event_prepare(&in->cfg, in->schemas, event, r->client.id,
                                  r->has_idempotency_key ? r->idempotency_key : NULL, index, &it->rec, &it->err);
    if (rc == HF_EDENIED)
        return refuse(it, 403, "forbidden");
    if (rc)
        return refuse(it, 400, "invalid_field");
    if (!intake_auth_scope_allows(&r->client, it->rec.schema->name)) {
        hf_err_field(&it->err, HF_EDENIED, "type", "this API key may not post %s events", it->rec.schema->name);
        return refuse(it, 403, "forbidden");
    }
    rc = intake_auth_owns(in->auth, r->client.id, it->rec.member_id, it->rec.program_id, &it->user_id, &it->err);
    if (rc == HF_EDENIED)
        return refuse(it, 403, "forbidden");
    if (rc)
        return refuse(it, 503, "unavailable");
    it->status = 0; /* ready to send */
}

/* The answer to a batch accepted whole, written directly: built as jansson
 * objects it cost 8% of the intake's time. The same text json_dumps
 * would give (event ids are UUIDs: nothing to escape). NULL when out of
 * memory. */
static char *accepted_batch_body(const struct req *r)
{
    static const char item[] = "{\"index\":%d,\"status\":202,\"event_id\":\"%s\"}";
    size_t cap = 64 + (size_t)r->n_items * (sizeof item + 12 + HF_UUID_STRLEN), n = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    n += (size_t)snprintf(text, cap, "{\"accepted\":%d,\"rejected\":0,\"results\":[", r->n_items);
    for (int i = 0; i < r->n_items; i++) {
        if (i)
            text[n++] = ',';
        n += (size_t)snprintf(text + n, cap - n, item, i, r->items[i].rec.event_id);
    }
    snprintf(text + n, cap - n, "]}");
    return text;
}

static enum MHD_Result respond_events(struct intake *in, struct req *r)
{
    int worst = 202, accepted = 0;
    for (int i = 0; i < r->n_items; i++) {
        int s = r->items[i].status;
        accepted += s == 202;
        if (s != 202 && s != 409 && (worst == 202 || (s >= 400 && s < 500 && worst == 503)))
            worst = s; /* a client error outranks a transient one: retrying will not help */
    }
    hf_metric_add(in->m_accepted, (uint64_t)accepted);
    hf_metric_add(in->m_rejected, (uint64_t)(r->n_items - accepted));
    hf_metric_observe(in->m_latency, (double)(hf_time_mono_us() - r->t0) / 1e6);
    int retry_after = worst == 503 ? 1 : 0;
    if (r->route == R_EVENT) {
        struct item *it = &r->items[0];
        if (it->status == 202)
            return send_json(in, r->conn, 202, json_pack("{s:s, s:s}", "event_id", it->rec.event_id, "status",
                                                          "accepted"), 0);
        return send_error(in, r->conn, (unsigned)it->status, it->code, it->err.msg, it->err.field, retry_after);
    }
    if (accepted == r->n_items) {
        char *text = accepted_batch_body(r);
        if (text)
            return send_text(in, r->conn, 202, text, "application/json", MHD_RESPMEM_MUST_FREE);
    }
    json_t *results = json_array();
    for (int i = 0; i < r->n_items; i++) {
        struct item *it = &r->items[i];
        json_t *one = json_pack("{s:i, s:i}", "index", i, "status", it->status);
        if (it->rec.event_id[0])
            json_object_set_new(one, "event_id", json_string(it->rec.event_id));
        if (it->status != 202 && it->code) {
            json_t *e = intake_error_body(it->code, it->err.msg, it->err.field);
            json_object_set(one, "error", json_object_get(e, "error"));
            json_decref(e);
        }
        json_array_append_new(results, one);
    }
    json_t *body = json_pack("{s:i, s:i, s:o}", "accepted", accepted, "rejected", r->n_items - accepted, "results",
                             results);
    if (worst >= 400 && worst < 500)
        json_object_set_new(body, "error",
                            json_pack("{s:s, s:s}", "code", "invalid_batch", "message",
                                      "some events were refused; nothing in this batch was accepted"));
    return send_json(in, r->conn, (unsigned)worst, body, retry_after);
}

static enum MHD_Result send_limited(struct intake *in, struct req *r, enum intake_limit refused_by, int retry_after)
{
    return send_error(in, r->conn, 429, "rate_limited",
                      refused_by == INTAKE_LIMIT_CLIENT ? "too many events for this API key; retry later"
                                                        : "too many log writes for this user; retry later",
                      NULL, retry_after);
}

static enum MHD_Result post_events(struct intake *in, struct req *r)
{
    hf_jdoc *doc;
    struct hf_err perr = { 0 };
    if (hf_jdoc_parse(r->body ? r->body : "", r->len, &doc, &perr)) {
        char msg[300];
        snprintf(msg, sizeof msg, "body is not valid JSON: %s", perr.msg);
        return perr.code == HF_ENOMEM ? send_error(in, r->conn, 503, "unavailable", "out of memory", NULL, 1)
                                      : send_error(in, r->conn, 400, "invalid_json", msg, NULL, 0);
    }
    const hf_jval *root = hf_jdoc_root(doc);
    size_t n = 1;
    if (r->route == R_BATCH) {
        if (hf_jval_type(root) != HF_J_ARRAY || hf_jval_size(root) == 0) {
            hf_jdoc_free(doc);
            return send_error(in, r->conn, 400, "invalid_json", "a batch must be a non-empty JSON array of events",
                              NULL, 0);
        }
        n = hf_jval_size(root);
        if (n > (size_t)in->cfg.intake_batch_max) {
            char msg[128];
            snprintf(msg, sizeof msg, "a batch holds at most %d events (HF_INTAKE_BATCH_MAX); this one has %zu",
                     in->cfg.intake_batch_max, n);
            hf_jdoc_free(doc);
            return send_error(in, r->conn, 413, "batch_too_large", msg, NULL, 0);
        }
    }
    int retry_after = 0;
    enum intake_limit refused_by;
    struct intake_take take = { r->client.id, r->client.rpm, (int)n, INTAKE_LIMIT_CLIENT, 0 };
    /* A batch is charged before its events are read; a single event once its
     * person is known, so the app's and the person's budgets are one take. */
    if (r->route == R_BATCH && intake_limits_take(in->limits, &take, &retry_after, &refused_by)) {
        hf_jdoc_free(doc);
        return send_limited(in, r, refused_by, retry_after);
    }
    r->items = calloc(n, sizeof *r->items);
    if (!r->items) {
        hf_jdoc_free(doc);
        return send_error(in, r->conn, 503, "unavailable", "out of memory", NULL, 1);
    }
    r->n_items = (int)n;
    bool all_ok = true;
    for (size_t i = 0; i < n; i++) {
        const hf_jval *event = r->route == R_BATCH ? hf_jval_at(root, i) : root;
        prepare_item(in, r, event, r->route == R_BATCH ? (int)i : -1, &r->items[i]);
        all_ok = all_ok && r->items[i].status == 0;
    }
    hf_jdoc_free(doc);
    if (r->route == R_EVENT) {
        if (all_ok) { /* a refused event still costs its app a unit */
            take.user = INTAKE_LIMIT_USER_WRITE;
            take.user_id = r->items[0].user_id;
        }
        if (intake_limits_take(in->limits, &take, &retry_after, &refused_by)) {
            hf_metric_add(in->m_rejected, 1);
            return send_limited(in, r, refused_by, retry_after);
        }
    }
    if (!all_ok) {
        /* Nothing half-written: one refusal refuses the whole batch. */
        for (int i = 0; i < r->n_items; i++)
            if (r->items[i].status == 0) {
                hf_err_set(&r->items[i].err, HF_ECONFLICT, false,
                           "valid, but not accepted because another event in the batch was refused");
                refuse(&r->items[i], 409, "batch_refused");
            }
        return respond_events(in, r);
    }
    /* One reference per record plus one held here, released after suspending,
     * so a fast acknowledgement can never resume a request not yet suspended. */
    atomic_store(&r->pending, r->n_items + 1);
    char client[24];
    snprintf(client, sizeof client, "%lld", (long long)r->client.id);
    for (int i = 0; i < r->n_items; i++) {
        struct item *it = &r->items[i];
        char version[12];
        snprintf(version, sizeof version, "%d", it->rec.schema->version);
        struct hf_header h[] = {
            { "hf-schema", it->rec.schema->name, -1 }, { "hf-version", version, -1 },
            { "hf-event-id", it->rec.event_id, -1 },   { "hf-client", client, -1 },
            { "hf-producer", "intake", -1 },
        };
        if (hf_producer_send(in->producer, it->rec.topic, it->rec.key, strlen(it->rec.key), it->rec.value.data,
                             it->rec.value.size, h, 5, it, &it->err)) {
            refuse(it, 503, "unavailable");
            atomic_fetch_sub(&r->pending, 1);
        }
    }
    r->suspended = true;
    MHD_suspend_connection(r->conn);
    if (atomic_fetch_sub(&r->pending, 1) == 1)
        MHD_resume_connection(r->conn);
    return MHD_YES;
}

/* ---------- cached reads ---------- */

static enum MHD_Result get_read(struct intake *in, struct MHD_Connection *conn, struct req *r, const char *url)
{
    struct intake_get q = {
        .path = url,
        .from = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from"),
        .to = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to"),
        .kind = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind"),
        .if_none_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match"),
        .client_id = r->client.id,
        .client_rpm = r->client.rpm,
    };
    struct intake_answer a;
    intake_reads_answer(in->reads, &q, &a);
    hf_metric_observe(in->m_latency, (double)(hf_time_mono_us() - r->t0) / 1e6);
    if (a.status != 200 && a.status != 202 && a.status != 304)
        return send_error(in, conn, (unsigned)a.status, a.code, a.message, a.field, a.retry_after);
    struct MHD_Response *resp = a.body ? MHD_create_response_from_buffer(a.len, a.body, MHD_RESPMEM_MUST_FREE)
                                       : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(a.body);
        return MHD_NO;
    }
    if (a.body)
        MHD_add_response_header(resp, "Content-Type", "application/json");
    if (a.status == 202) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", a.retry_after);
        MHD_add_response_header(resp, "Retry-After", secs);
    } else {
        MHD_add_response_header(resp, "ETag", a.etag);
    }
    /* Clients may keep the answer but must revalidate it (If-None-Match). */
    MHD_add_response_header(resp, "Cache-Control", "private, no-cache");
    if (a.stale)
        MHD_add_response_header(resp, "Warning", "110 - \"Response is Stale\"");
    enum MHD_Result res = MHD_queue_response(conn, (unsigned)a.status, resp);
    MHD_destroy_response(resp);
    hf_metric_add(in->m_status[a.status], 1);
    return res;
}

/* ---------- probes ---------- */

static enum MHD_Result get_ready(struct intake *in, struct MHD_Connection *conn)
{
    struct hf_err err = { 0 };
    if (intake_auth_ping(in->auth, &err))
        return send_error(in, conn, 503, "unavailable", err.msg, NULL, 5);
    if (hf_producer_ping(in->producer, NULL, 0, 2000, &err))
        return send_error(in, conn, 503, "unavailable", err.msg, NULL, 5);
    return send_json(in, conn, 200, json_pack("{s:s}", "status", "ready"), 0);
}

/* Creates the topics apps' events go to. Kafka being away at start is not
 * fatal: the intake starts, /readyz says not ready, events get 503 until the
 * broker is back. */
static void ensure_topics(struct intake *in)
{
    const char *families[32];
    char names[32][160];
    const char *list[32];
    size_t n = hf_schema_families(in->schemas, false, families, 32);
    for (size_t i = 0; i < n; i++) {
        hf_config_topic(&in->cfg, families[i], names[i], sizeof names[i]);
        list[i] = names[i];
    }
    struct hf_err err = { 0 };
    if (hf_kafka_ensure_topics(&in->cfg, list, n, &err))
        hf_warn("topics not ensured yet: %s", err.msg);
}

/* ---------- MHD glue ---------- */

static enum route route_of(const char *method, const char *url, bool *method_ok)
{
    static const struct {
        const char *path, *method;
        enum route route;
    } table[] = {
        { "/v1/events", "POST", R_EVENT }, { "/v1/events/batch", "POST", R_BATCH }, { "/healthz", "GET", R_HEALTH },
        { "/readyz", "GET", R_READY },     { "/metrics", "GET", R_METRICS },   { "/openapi.json", "GET", R_OPENAPI },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(url, table[i].path) == 0) {
            *method_ok = strcmp(method, table[i].method) == 0;
            return table[i].route;
        }
    *method_ok = true;
    if (intake_reads_route(url)) {
        *method_ok = strcmp(method, "GET") == 0;
        return R_READ;
    }
    return R_NONE;
}

static int refuse_early(struct req *r, unsigned status, const char *code, const char *msg, const char *field,
                        int retry_after)
{
    r->refusal = status;
    r->refusal_code = code;
    snprintf(r->refusal_msg, sizeof r->refusal_msg, "%s", msg);
    r->refusal_field = field;
    r->refusal_retry_after = retry_after;
    return (int)status;
}

/* Who is calling: 0 with r->client, or the status of the refusal recorded in r. */
static int authenticate(struct intake *in, struct MHD_Connection *conn, struct req *r)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    struct hf_err err = { 0 };
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return refuse_early(r, 401, "unauthorized", "send Authorization: Bearer <API key>", NULL, 0);
    int rc = intake_auth_client(in->auth, auth + 7, &r->client, &err);
    if (rc == HF_EDENIED)
        return refuse_early(r, 401, "unauthorized", err.msg, NULL, 0);
    if (rc)
        return refuse_early(r, 503, "unavailable", "cannot check the API key right now", NULL, 2);
    return 0;
}

/* Checks what can be checked before reading a byte of the body. Returns 0, or
 * the status of the refusal recorded in r. */
static int admit(struct intake *in, struct MHD_Connection *conn, struct req *r)
{
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *idem = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
    int rc = authenticate(in, conn, r);
    if (rc)
        return rc;
    if (!ctype || strncasecmp(ctype, "application/json", 16) != 0 || (ctype[16] && ctype[16] != ';' && ctype[16] != ' '))
        return refuse_early(r, 415, "unsupported_media_type", "Content-Type must be application/json", NULL, 0);
    if (length && strtoull(length, NULL, 10) > (unsigned long long)in->cfg.intake_max_body)
        return refuse_early(r, 413, "payload_too_large", "body is larger than HF_INTAKE_MAX_BODY", NULL, 0);
    if (idem) {
        if (strlen(idem) == 0 || strlen(idem) >= sizeof r->idempotency_key)
            return refuse_early(r, 400, "invalid_header", "Idempotency-Key must be 1 to 255 characters",
                                "Idempotency-Key", 0);
        snprintf(r->idempotency_key, sizeof r->idempotency_key, "%s", idem);
        r->has_idempotency_key = true;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct intake *in = cls;
    struct req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->conn = conn;
        r->t0 = hf_time_mono_us();
        atomic_fetch_add(&in->in_flight, 1);
        bool method_ok;
        r->route = route_of(method, url, &method_ok);
        if (r->route == R_NONE)
            refuse_early(r, 404, "not_found", "no such endpoint", NULL, 0);
        else if (!method_ok)
            refuse_early(r, 405, "method_not_allowed", "method not allowed on this endpoint", NULL, 0);
        else if (r->route == R_EVENT || r->route == R_BATCH)
            admit(in, conn, r);
        else if (r->route == R_READ)
            authenticate(in, conn, r);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->refusal && !r->too_big) {
            if (r->len + *upload_size > (size_t)in->cfg.intake_max_body) {
                r->too_big = true;
            } else {
                if (r->len + *upload_size > r->cap) {
                    size_t ncap = (r->len + *upload_size) * 2;
                    char *nb = realloc(r->body, ncap);
                    if (!nb)
                        return MHD_NO;
                    r->body = nb;
                    r->cap = ncap;
                }
                memcpy(r->body + r->len, upload, *upload_size);
                r->len += *upload_size;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->suspended)
        return respond_events(in, r); /* resumed: every record has its answer */
    if (r->refusal)
        return send_error(in, conn, r->refusal, r->refusal_code, r->refusal_msg, r->refusal_field,
                          r->refusal_retry_after);
    switch (r->route) {
    case R_NONE:
        return MHD_NO;
    case R_EVENT:
    case R_BATCH:
        if (r->too_big)
            return send_error(in, conn, 413, "payload_too_large", "body is larger than HF_INTAKE_MAX_BODY", NULL, 0);
        return post_events(in, r);
    case R_READ:
        return get_read(in, conn, r, url);
    case R_HEALTH:
        return send_json(in, conn, 200, json_pack("{s:s}", "status", "ok"), 0);
    case R_READY:
        return get_ready(in, conn);
    case R_METRICS: {
        char *text = hf_metrics_render(in->metrics, NULL);
        if (!text)
            return MHD_NO;
        return send_text(in, conn, 200, text, "text/plain; version=0.0.4; charset=utf-8", MHD_RESPMEM_MUST_FREE);
    }
    case R_OPENAPI:
        return send_text(in, conn, 200, in->openapi, "application/json", MHD_RESPMEM_PERSISTENT);
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode tc)
{
    (void)conn;
    (void)tc;
    struct intake *in = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
    for (int i = 0; i < r->n_items; i++)
        msgpack_sbuffer_destroy(&r->items[i].rec.value);
    free(r->items);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&in->in_flight, 1);
}

static void register_metrics(struct intake *in)
{
    static const int statuses[] = { 200, 202, 304, 400, 401, 403, 404, 405, 413, 415, 429, 503 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char l[32];
        snprintf(l, sizeof l, "status=\"%d\"", statuses[i]);
        in->m_status[statuses[i]] = hf_metrics_counter(in->metrics, "hf_intake_responses_total",
                                                       "HTTP responses by status.", l);
    }
    in->m_accepted = hf_metrics_counter(in->metrics, "hf_intake_events_total", "Events by outcome.",
                                        "outcome=\"accepted\"");
    in->m_rejected = hf_metrics_counter(in->metrics, "hf_intake_events_total", "Events by outcome.",
                                        "outcome=\"rejected\"");
    in->m_latency = hf_metrics_histogram(in->metrics, "hf_intake_request_seconds",
                                         "Time from request to answer (202 includes the broker's acknowledgement).", "");
}

int main(void)
{
    struct intake in = { 0 };
    struct hf_err err = { 0 };
    struct MHD_Daemon *d = NULL;
    int status = 1;
    if (hf_config_load(&in.cfg, &err)) {
        fprintf(stderr, "hf-intake: configuration: %s\n", err.msg);
        return 2;
    }
    hf_log_init("intake", in.cfg.instance, in.cfg.log_level);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    in.metrics = hf_metrics_new();
    if (!in.metrics || hf_schema_registry_new(&in.schemas, &err) || hf_openapi_render(in.schemas, &in.openapi, &err) ||
        intake_auth_new(&in.cfg, &in.auth, &err) ||
        hf_producer_new(&in.cfg, on_delivery, &in.producer, &err) ||
        intake_limits_new(&in.cfg, in.metrics, &in.limits, &err) ||
        intake_reads_new(&in.cfg, in.auth, in.limits, in.producer, in.schemas, in.metrics, &in.reads, &err)) {
        hf_error("cannot start: %s", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    register_metrics(&in);
    ensure_topics(&in);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
                         (uint16_t)in.cfg.intake_port, NULL, NULL, on_request, &in, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)in.cfg.intake_threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_CONNECTION_LIMIT, 20000u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &in,
                         MHD_OPTION_END);
    if (!d) {
        hf_error("cannot listen on port %d (in use? set HF_INTAKE_PORT)", in.cfg.intake_port);
        goto out;
    }
    hf_info("intake listening on :%d with %d threads", in.cfg.intake_port, in.cfg.intake_threads);
    while (!stop_requested)
        usleep(100 * 1000);
    /* Drain: stop accepting, let requests waiting on the broker get their answer. */
    hf_info("stopping: draining %d request(s)", atomic_load(&in.in_flight));
    MHD_quiesce_daemon(d);
    for (int i = 0; i < in.cfg.kafka_timeout_ms / 100 + 20 && atomic_load(&in.in_flight) > 0; i++)
        usleep(100 * 1000);
    status = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    intake_reads_free(in.reads);
    hf_producer_free(in.producer, in.cfg.kafka_timeout_ms);
    intake_limits_free(in.limits);
    intake_auth_free(in.auth);
    hf_schema_registry_free(in.schemas);
    free(in.openapi);
    hf_metrics_free(in.metrics);
    return status;
}
