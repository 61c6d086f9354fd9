/* hf_admin: what an operator asks Kafka about the fleet's consumer groups
 * (hfctl lag, the dashboard). Read-only; one admin client per call.
 *
 * Lag is the group's committed offset against the partition's end offset,
 * both asked of the broker, so it is the same number whichever process (or
 * none) is running. A partition the group never committed on counts from its
 * low watermark: all of it is waiting. */
#ifndef HF_ADMIN_H
#define HF_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "hf_config.h"
#include "hf_err.h"

/* One partition a group reads. Plain value struct. */
struct hf_lag {
    char group[160];
    char topic[160];
    int32_t partition;
    int64_t committed; /* -1: the group never committed here */
    int64_t end;       /* high watermark */
    int64_t lag;
    char owner[256];   /* member client.id@host holding it now, "" when none */
};

/* One consumer group. Plain value struct. */
struct hf_group {
    char group[160];
    char state[24]; /* Stable, PreparingRebalance, Empty, Dead, ... */
    int members;
    int64_t lag;    /* sum over its partitions */
};

struct hf_lag_report {
    struct hf_group *groups;
    size_t n_groups;
    struct hf_lag *parts; /* ordered by group, topic, partition */
    size_t n_parts;
};

/* Fills report with every consumer group whose name starts with
 * "<HF_TOPIC_PREFIX>pool." (only_group NULL) or with the one group named.
 * A group that does not exist yields an empty report, not an error.
 * Returns 0, or HF_EUNAVAIL when Kafka does not answer in
 * HF_KAFKA_TIMEOUT_MS. Free with hf_lag_report_clear. */
int hf_admin_lag(const struct hf_config *cfg, const char *only_group, struct hf_lag_report *report,
                 struct hf_err *err);

/* Frees what hf_admin_lag allocated and zeroes the report. */
void hf_lag_report_clear(struct hf_lag_report *report);

/* A topic and how many records it holds now (high minus low watermark,
 * summed over partitions). Plain value struct. */
struct hf_topic_count {
    char topic[160];
    int partitions;
    int64_t records;
};

/* Every topic whose name starts with prefix, in name order, into *out
 * (caller frees *out with free()). Returns 0 or HF_EUNAVAIL. */
int hf_admin_topics(const struct hf_config *cfg, const char *prefix, struct hf_topic_count **out, size_t *n,
                    struct hf_err *err);

/* One record of a scanned topic; everything is valid only during the
 * callback. */
struct hf_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;
    const void *key; /* NULL for a null key */
    size_t key_len;
    const void *value;
    size_t len;
    const void *headers_; /* librdkafka's; read with hf_record_header* */
};

/* The i-th header (0, 1, ...): 0 and name/value/len, or -1 past the end. */
int hf_record_header_at(const struct hf_record *r, size_t i, const char **name, const void **value, size_t *len);
/* The last header called name as text in out ("" when absent); returns out. */
const char *hf_record_header(const struct hf_record *r, const char *name, char *out, size_t outsz);

/* Calls fn for every record of topic from the start of each partition to its
 * end as of the call (records added meanwhile are not waited for). fn
 * returning non-zero stops the scan with that code. Uses no consumer group.
 * Returns 0, fn's code, or HF_EUNAVAIL. */
typedef int (*hf_record_fn)(void *arg, const struct hf_record *r, struct hf_err *err);
int hf_admin_scan(const struct hf_config *cfg, const char *topic, hf_record_fn fn, void *arg, struct hf_err *err);

#endif
