/* hf_dlq: the pools' dead-letter topics as an operator sees and replays them
 * (hfctl dlq, hf-admin). One implementation, so the command line and the
 * dashboard show the same rows and replay the same way.
 *
 * Payloads never leave this module: a row describes a dead letter by its
 * headers (error, origin, event id, schema, time) and its size. They are
 * health data, and an operator needs the error and the ids to decide, not the
 * content. A replay re-produces the original key, value and headers (without
 * the hf-dlq-* ones, plus hf-replay-of) to the original topic, then records
 * who replayed which dead letter in audit_logs; a dead letter already
 * replayed is skipped unless `again`. Replaying twice is harmless anyway: the
 * event id is the same, and a pool applies an event id once. */
#ifndef HF_DLQ_H
#define HF_DLQ_H

#include <jansson.h>
#include <stdbool.h>

#include "hf_config.h"
#include "hf_err.h"

/* Which dead letters; every field optional. Plain value struct. */
struct hf_dlq_filter {
    const char *schema; /* hf-schema equals, or NULL */
    const char *error;  /* hf-dlq-error contains, or NULL */
    long long offset;   /* this dead letter only, or -1 */
    int limit;          /* at most this many rows, 0: all */
};

enum hf_dlq_mode {
    HF_DLQ_SHOW,    /* read only; no database */
    HF_DLQ_DRY_RUN, /* what a replay would re-produce (skips those replayed before) */
    HF_DLQ_REPLAY,  /* re-produce, then audit */
};

/* Every dead-letter topic of the fleet (<prefix>dlq.*) as a new JSON array
 * of {"topic", "pool", "records"} into *rows (caller json_decref()s).
 * Returns 0, HF_ENOMEM or HF_EUNAVAIL (Kafka does not answer). */
int hf_dlq_list(const struct hf_config *cfg, json_t **rows, struct hf_err *err);

/* Scans pool's dead-letter topic once, from the start to its end as of the
 * call, with filter f, in the given mode. *rows gets a new JSON array
 * (caller json_decref()s; NULL on failure) of objects with "dead_letter"
 * ("<topic>[<partition>]@<offset>", the audit target), "offset",
 * "partition", "dead_lettered_at", "schema", "version", "event_id", "error",
 * "origin_topic", "origin_partition", "origin_offset", "attempts", "bytes";
 * *skipped (may be NULL) the number left out because replayed before.
 * actor is who is recorded in audit_logs (HF_DLQ_REPLAY only).
 * Returns 0; HF_EINVAL for a pool name that is not [a-z0-9_-]+ or a record
 * that is not a dead letter; HF_EUNAVAIL / an hf_pg error when Kafka or
 * PostgreSQL is away (for a replay: the records produced before the failure
 * are not audited, so the next replay sends them again, which the pool's
 * event-id check makes harmless). */
int hf_dlq_run(const struct hf_config *cfg, const char *pool, const struct hf_dlq_filter *f, enum hf_dlq_mode mode,
               bool again, const char *actor, json_t **rows, int *skipped, struct hf_err *err);

#endif
