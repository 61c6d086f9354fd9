/* intake_events: one posted JSON event to one Kafka record, or a 4xx reason.
 *
 * The envelope is the event object itself: "type" (required), optional
 * "schema_version" (default: the newest) and "event_id" (a UUID; else derived
 * from the Idempotency-Key header, else random), then the schema's fields.
 * Nothing here touches the network; the caller checks ownership and sends. */
#ifndef INTAKE_EVENTS_H
#define INTAKE_EVENTS_H

#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_jdoc.h"
#include "hf_schema.h"
#include "hf_uuid.h"

struct intake_record {
    const struct hf_schema *schema;
    char event_id[HF_UUID_STRLEN];
    char topic[128];
    char key[24];
    int64_t member_id;
    int64_t program_id; /* 0 when absent */
    msgpack_sbuffer value; /* caller destroys with msgpack_sbuffer_destroy */
};

/* Fills rec from event. idempotency_key may be NULL; index is the position in
 * a batch (-1 for a single event) so each item of a retried batch keeps its
 * id. Returns 0; HF_EINVAL (err->field set: "type", a field path...);
 * HF_EDENIED for a type the fleet reserves for itself. rec->value is
 * initialised either way and must be destroyed. */
int intake_event_prepare(const struct hf_config *cfg, const hf_schema_registry *reg, const hf_jval *event,
                         int64_t client_id, const char *idempotency_key, int index, struct intake_record *rec,
                         struct hf_err *err);

/* The intake's error body, {"error":{"code","message","field"}} (field left
 * out when NULL or empty). A message cut to a fixed buffer (hf_err) may end
 * inside a UTF-8 sequence, e.g. a long non-ASCII field name: the incomplete
 * tail is dropped, so the body is always valid JSON (jansson refuses invalid
 * UTF-8, and the connection used to be closed without an answer). New
 * reference; NULL only when out of memory. */
json_t *intake_error_body(const char *code, const char *message, const char *field);

#endif
