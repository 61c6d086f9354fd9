/* insight: one person's insights from their logs (design doc 002's
 * InsightEngine, and doc 003's N=1 experiments), without any I/O.
 *
 * A caller feeds the person's daily_logs rows and experiments into an
 * hf_insight_data, in any order, then asks for the data hash (to skip a
 * recomputation when nothing changed) and for the insights as JSON. Logs
 * whose payload is not JSON, or fields that are missing, of the wrong type,
 * out of range or not finite, are skipped and counted, never an error: the
 * answer is always defined. Rules and statistics: README.md beside this file. */
#ifndef HF_INSIGHT_H
#define HF_INSIGHT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Bumped whenever the computation changes, so every stored hash goes stale. */
#define HF_INSIGHT_ENGINE_VERSION 1

typedef struct hf_insight_data hf_insight_data;

/* Caller frees with hf_insight_data_free. NULL when out of memory. */
hf_insight_data *hf_insight_data_new(void);
void hf_insight_data_free(hf_insight_data *d);

/* One daily_logs row: log_type as stored ("SYMPTOM", "NUTRITION",
 * "BIOMETRIC", "CYCLE"; others only count toward the hash), day = the UTC
 * date of logged_at in days since 1970-01-01, payload = its JSON text
 * (len bytes, borrowed). Returns 0 or HF_ENOMEM. */
int hf_insight_data_add_log(hf_insight_data *d, const char *log_type, int32_t day, const char *payload, size_t len);

/* One experiment row: outcome is a symptom name ("sleep_quality") or a
 * biometric kind ("sleep_score"); end_day INT32_MIN while it is running.
 * Strings are copied. Returns 0, HF_ENOMEM, or HF_ETOOBIG past 32 experiments
 * (the rest are left out of the insights, and the hash). */
int hf_insight_data_add_experiment(hf_insight_data *d, int64_t id, const char *name, const char *intervention,
                                   const char *outcome, int32_t start_day, int32_t end_day);

/* SHA-256 (hex) of the engine version and everything added, in order. */
void hf_insight_data_hash(const hf_insight_data *d, char out[65]);

/* The insights as a new JSON object (caller json_decref()s); NULL when out
 * of memory. Every number in it is finite. */
json_t *hf_insight_compute(const hf_insight_data *d);

#endif
