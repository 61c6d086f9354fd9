/* hf_runtime: the consumer loop every worker pool runs on.
 *
 * A pool is a struct hf_pool_def: its name, the topic families it reads, and
 * a handler with domain logic only. The runtime owns everything else:
 *
 *  - joins consumer group "<HF_TOPIC_PREFIX>pool.<name>" (cooperative-sticky) and polls batches
 *    of up to HF_BATCH_MAX messages;
 *  - decodes each message by its hf-schema/hf-version headers; an
 *    undecodable or invalid one goes to the dead-letter topic at once;
 *  - runs the whole batch in ONE PostgreSQL transaction (the disk's commit
 *    rate, not the code, caps per-message transactions at a few thousand a
 *    second), claiming each event_id in processed_events so a redelivered
 *    message is marked `replayed` and its effects are not applied twice;
 *  - on a failure, retries: a dependency outage rewinds the batch and retries
 *    without limit with exponential backoff and jitter (no good message is
 *    dead-lettered because PostgreSQL restarted); any other failure replays
 *    the batch one message per transaction to isolate the culprit, which is
 *    retried HF_RETRY_MAX times if retriable, then dead-lettered with its
 *    error, original key and headers, and the pool moves on;
 *  - produces what the handler emitted only after the commit, waits for the
 *    broker's acknowledgement, and only then stores the offsets, so a crash
 *    anywhere redelivers rather than loses;
 *  - SIGTERM: finishes the batch in hand, commits offsets, leaves the group;
 *  - serves /metrics, /healthz and /readyz on HF_METRICS_PORT.
 */
#ifndef HF_RUNTIME_H
#define HF_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hf_codec.h"
#include "hf_config.h"
#include "hf_err.h"
#include "hf_pg.h"
#include "hf_schema.h"

typedef struct hf_pool_ctx hf_pool_ctx;

/* One message as a handler sees it; valid until the handler returns. */
struct hf_msg {
    const struct hf_schema *schema;
    const hf_doc *doc;
    const char *event_id;
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t client_id; /* the app that posted it (hf-client header), 0 if none */
    /* This pool already committed this event_id's effects (a redelivery after
     * a crash). Redo only idempotent follow-up work, such as emitting. */
    bool replayed;
};

struct hf_pool_def {
    const char *name;                /* short: "adherence" */
    const char *const *families;     /* topic families read, NULL-terminated */
    /* Once at start; *state is the pool's own, freed by fini. May be NULL. */
    int (*init)(hf_pool_ctx *ctx, void **state, struct hf_err *err);
    /* Once per polled batch, BEFORE its transaction opens, with every decoded
     * message (msg->replayed is not known yet). For slow outside work, such
     * as HTTP calls to a third party, done for the whole batch at once and
     * concurrently, so no transaction is held open across it. Keep results
     * in state, keyed by event_id, for handle() to write; they must survive
     * begin(), which may run several times per batch. An error return with
     * err->unavailable set rewinds the batch like a database outage; results
     * that failed for one message should be recorded for handle() instead.
     * May be NULL. */
    int (*prepare)(hf_pool_ctx *ctx, void *state, const struct hf_msg *const *msgs, int n, struct hf_err *err);
    /* Called before each attempt at a batch: forget per-batch work. */
    void (*begin)(void *state);
    /* Per message, inside the batch's transaction. */
    int (*handle)(hf_pool_ctx *ctx, void *state, const struct hf_msg *msg, struct hf_err *err);
    /* Once per batch, after every handle and before COMMIT: work that is
     * cheaper done once per batch (recompute each touched program once). */
    int (*before_commit)(hf_pool_ctx *ctx, void *state, struct hf_err *err);
    /* After COMMIT succeeded: keep what the attempt learnt (caches of things
     * it created), which begin() would otherwise forget. May be NULL. */
    void (*after_commit)(void *state);
    void (*fini)(void *state);
};

/* The batch transaction's connection. Valid during handle/before_commit. */
hf_pg *hf_pool_pg(hf_pool_ctx *ctx);
const struct hf_config *hf_pool_config(hf_pool_ctx *ctx);
const hf_schema_registry *hf_pool_schemas(hf_pool_ctx *ctx);

/* Queues a message of schema `schema_name` (latest version) built from the
 * JSON object `fields` (borrowed). It is validated now and produced only
 * after the batch commits; a rolled-back attempt drops it. Its event_id is
 * derived from its content, so a replay emits the same id. Returns 0 or
 * HF_EINVAL (a bug: the emitted message breaks its schema). */
int hf_pool_emit(hf_pool_ctx *ctx, const char *schema_name, json_t *fields, struct hf_err *err);

/* Queues a cache.invalidate (schemas/cache.invalidate.v1.json) for one
 * entity ("program", "member", "user", "ingredient") and kind, for one day
 * (date "YYYY-MM-DD") or all (NULL), stamped with the current time. Like every
 * emit it goes out only after the commit it describes. Returns 0 or
 * HF_ENOMEM/HF_EINVAL. */
int hf_pool_invalidate(hf_pool_ctx *ctx, const char *entity, int64_t id, const char *kind, const char *date,
                       struct hf_err *err);

/* Makes sure the daily_logs partition for the month holding at_us exists, in
 * the batch's transaction: an insert with no partition would abort the whole
 * batch. A month is asked of PostgreSQL once per process; a month created by
 * an attempt that rolled back is asked again. Returns 0 or hf_pg's error. */
int hf_pool_ensure_log_partition(hf_pool_ctx *ctx, int64_t at_us, struct hf_err *err);

/* Runs a pool until SIGTERM or SIGINT. Returns the process exit status. */
int hf_pool_main(const struct hf_pool_def *def, int argc, char **argv);

#endif
