/* hf_kafka: the producer every process uses, topic creation, and the shared
 * librdkafka settings.
 *
 * The producer is idempotent with acks=all: an acknowledgement means every
 * in-sync replica has the record, and librdkafka's retries never duplicate or
 * reorder within a partition. Delivery reports run on the producer's own
 * thread. */
#ifndef HF_KAFKA_H
#define HF_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "hf_config.h"
#include "hf_err.h"
#include "hf_schema.h"

typedef struct hf_producer hf_producer;

struct hf_header {
    const char *name;
    const void *value;
    long len; /* -1: value is NUL-terminated text */
};

/* Called on the producer's thread once per record: rc 0 when the broker has
 * it, else HF_EUNAVAIL/HF_ETIMEOUT with a reason. Must not block. */
typedef void (*hf_delivery_fn)(void *opaque, int rc, const char *reason);

/* Creates a producer for cfg's brokers. on_delivery may be NULL (then use
 * hf_producer_flush to learn the outcome). Caller frees with hf_producer_free. */
int hf_producer_new(const struct hf_config *cfg, hf_delivery_fn on_delivery, hf_producer **out, struct hf_err *err);

/* Queues one message of the fleet's own: value is its hf_codec encoding
 * with event_id, and it goes to the topic of s's family under key, with the
 * headers every fleet record carries (hf-schema, hf-version, hf-event-id,
 * and hf-producer = producer). Returns what hf_producer_send does. */
int hf_producer_send_message(hf_producer *p, const struct hf_config *cfg, const struct hf_schema *s, const char *key,
                             const char *event_id, const void *value, size_t len, const char *producer,
                             struct hf_err *err);

/* Queues one record; value and headers are copied. Returns 0, HF_EUNAVAIL
 * when the local queue is full (back-pressure: answer 503), or HF_EIO. */
int hf_producer_send(hf_producer *p, const char *topic, const char *key, size_t keylen, const void *value,
                     size_t len, const struct hf_header *headers, size_t nheaders, void *opaque, struct hf_err *err);

/* Waits until every queued record is acknowledged. Returns 0, or HF_EUNAVAIL
 * when a record failed since the previous flush or the wait timed out. */
int hf_producer_flush(hf_producer *p, int timeout_ms, struct hf_err *err);

/* 0 when a broker answers a metadata request within timeout_ms (readiness);
 * else HF_EUNAVAIL. With topics (n > 0), asks for each of them, so the
 * producer knows their leaders before its first record to them. */
int hf_producer_ping(hf_producer *p, const char *const *topics, size_t n, int timeout_ms, struct hf_err *err);

/* Waits up to timeout_ms for outstanding records, then destroys. NULL ok. */
void hf_producer_free(hf_producer *p, int timeout_ms);

/* Creates the topics that do not exist yet (cfg->topic_partitions each).
 * Returns 0 or HF_EUNAVAIL when the broker cannot be reached. */
int hf_kafka_ensure_topics(const struct hf_config *cfg, const char *const *topics, size_t n, struct hf_err *err);

/* A conf with the brokers and the settings every client shares; the caller
 * owns it until it hands it to rd_kafka_new. NULL on a bad setting (err). */
rd_kafka_conf_t *hf_kafka_conf(const struct hf_config *cfg, struct hf_err *err);

/* Sets one property, filling err on failure. */
int hf_kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct hf_err *err);

#endif
