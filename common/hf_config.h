/* hf_config: every setting of every healthfleet process, read once at start
 * from environment variables. One table in hf_config.c holds each variable's
 * name, default, bounds and meaning; the README's table is checked against it
 * by a test, so the documentation cannot drift from the code. */
#ifndef HF_CONFIG_H
#define HF_CONFIG_H

#include <stddef.h>

#include "hf_err.h"

struct hf_config {
    /* where the stack is */
    char kafka_brokers[256];
    char pg_url[512];
    char redis_url[256];
    char topic_prefix[64];
    char migrations_dir[512];
    char instance[64];
    char log_level[16];
    /* consumer runtime */
    int metrics_port;
    int batch_max;
    int poll_ms;
    int fetch_wait_ms;
    int retry_base_ms;
    int retry_cap_ms;
    int retry_max;
    int liveness_ms;
    int kafka_timeout_ms;
    int kafka_linger_ms;
    int topic_partitions;
    /* intake */
    int intake_port;
    int intake_threads;
    int intake_max_body;
    int intake_batch_max;
    int intake_client_rpm;
    int intake_queue_max;
    int intake_auth_cache_s;
    int intake_owner_cache;
    int intake_max_skew_days;
    /* meal-image pool */
    char meal_provider_url[512];
    char meal_provider_model[128];
    char meal_provider_key[256];
    int meal_provider_timeout_ms;
    int meal_provider_retries;
    int meal_provider_rpm;
    int meal_breaker_failures;
    int meal_breaker_recovery_ms;
    int meal_concurrency;
    char meal_image_hosts[1024];
    int meal_image_allow_private;
    int meal_image_max_bytes;
    int meal_image_max_dim;
    int meal_fetch_connect_ms;
    int meal_fetch_timeout_ms;
    char meal_ca_file[512];

    /* cache, cached reads, rate limits */
    int redis_timeout_ms;
    int redis_retry_ms;
    int cache_reads;
    int rate_user_read_rpm;
    int rate_user_write_rpm;
    int rate_local_share;

    /* scheduler */
    char schedules[512];
    int scheduler_lease_ms;
    int scheduler_tick_ms;
    int scheduler_grace_ms;
    int scheduler_page;

    /* retraining */
    int retrain_every_logs;
    int processed_keep_days;
    int firings_keep_days;

    /* insights */

    /* ingredient scoring */
    char fdc_url[256];
    char fdc_api_key[128];
    char off_url[256];
    int ingredient_connect_timeout_ms;
    int ingredient_timeout_ms;
    int ingredient_concurrency;
    int ingredient_max_body;
    int fdc_rate;
    int fdc_window_s;
    int off_rate;
    int off_window_s;
    int ingredient_breaker_failures;
    int ingredient_breaker_recovery_ms;
    int ingredient_breaker_successes;
    int ingredient_stale_days;
    int ingredient_retry_failed_s;

    /* operations */
    char admin_token[256];
    int admin_port;
    char admin_scrape[1024];
    char admin_web_dir[512];
    int admin_sample_ms;
    int admin_history_s;
};

/* Fills cfg from the environment (defaults for unset variables). Returns 0,
 * or HF_EINVAL with err naming the variable whose value is out of range or not
 * a number. */
int hf_config_load(struct hf_config *cfg, struct hf_err *err);

/* Full topic name for a family, e.g. "logs" -> "hf.logs". Writes into out. */
void hf_config_topic(const struct hf_config *cfg, const char *family, char *out, size_t outsz);

/* Iterates over the documented variables, for `hfctl config` and the README
 * check: returns 0 while i is in range, filling name/default/doc. */
int hf_config_describe(int i, const char **name, const char **def, const char **doc);

#endif
