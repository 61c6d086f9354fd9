/* intake_reads: the cached reads of the intake.
 *
 *   GET /v1/members/{id}/predictions[?kind=cycle|symptoms|energy|mood]
 *   GET /v1/members/{id}/insights
 *   GET /v1/programs/{id}/adherence[?from=YYYY-MM-DD&to=YYYY-MM-DD]
 *   GET /v1/ingredients/{name}
 *
 * A member is the person (the design documents' "user"); see README.md.
 * Same API keys as posting: a client reads only members and programs of its
 * own users, and anything else is 404 (not 403: ids are sequential, and a 403
 * would tell a client which ids exist among other clients' people).
 * Cache-aside through hf_reads; ETag (of the body) and If-None-Match -> 304.
 * A stale insights answer (computed more than 24 h ago, or before the
 * member's latest logged data) is served with a Warning header and asks for a
 * job.insight_refresh (stale-while-revalidate), at most once per member per
 * HF_CACHE_REFRESH_GUARD_S while Redis is there. An ingredient's score is
 * anyone's to read (the key's unit is charged); with none yet the answer is
 * 202 and a job.ingredient_score (app_request) is produced. Thread-safe. */
#ifndef INTAKE_READS_H
#define INTAKE_READS_H

#include <stdbool.h>
#include <stddef.h>

#include "hf_config.h"
#include "hf_kafka.h"
#include "hf_metrics.h"
#include "hf_schema.h"
#include "intake_auth.h"
#include "intake_limits.h"

typedef struct intake_reads intake_reads;

/* Borrows everything it is given (they must outlive it). Registers its
 * metrics in m. Caller frees with intake_reads_free. */
int intake_reads_new(const struct hf_config *cfg, intake_auth *auth, intake_limits *limits, hf_producer *producer,
                     const hf_schema_registry *schemas, hf_metrics *m, intake_reads **out, struct hf_err *err);
void intake_reads_free(intake_reads *r);

/* True when path is one of the read endpoints (any id). */
bool intake_reads_route(const char *path);

struct intake_get {
    const char *path;
    const char *from, *to, *kind; /* query arguments, NULL when absent */
    const char *if_none_match;
    int64_t client_id;
    int client_rpm;
};

struct intake_answer {
    int status;        /* 200, 202, 304, 400, 404, 429, 503 */
    char *body;        /* 200 and 202: the JSON (caller frees); else NULL */
    size_t len;
    char etag[24];     /* 200 and 304 */
    bool stale;        /* 200: served stale (Warning header) */
    int retry_after;   /* 429 and 503 */
    const char *code;  /* error code for 4xx/5xx */
    char message[200];
    const char *field; /* offending input, or NULL */
};

/* Answers one GET of a read endpoint. */
void intake_reads_answer(intake_reads *r, const struct intake_get *q, struct intake_answer *a);

#endif
