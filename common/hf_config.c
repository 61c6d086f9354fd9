#include "hf_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HF_DEFAULT_MIGRATIONS_DIR HF_SOURCE_DIR "/migrations"
#define HF_DEFAULT_SCHEDULES HF_SOURCE_DIR "/scheduler/schedules.json"

enum kind { STR, INT };

struct var {
    const char *name;
    enum kind kind;
    const char *def;
    long min, max;
    size_t offset;
    size_t size; /* for STR: buffer size */
    const char *doc;
};

#define S(field, name, def, doc) \
    { name, STR, def, 0, 0, offsetof(struct hf_config, field), sizeof(((struct hf_config *)0)->field), doc }
#define I(field, name, def, lo, hi, doc) \
    { name, INT, def, lo, hi, offsetof(struct hf_config, field), sizeof(int), doc }

static const struct var vars[] = {
    S(kafka_brokers, "HF_KAFKA_BROKERS", "127.0.0.1:19092", "Kafka bootstrap servers"),
    S(pg_url, "HF_PG_URL", "postgresql://postgres@127.0.0.1:15432/healthfleet", "PostgreSQL connection URL"),
    S(redis_url, "HF_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL"),
    S(topic_prefix, "HF_TOPIC_PREFIX", "hf.", "prefix of every topic name (tests use their own to stay apart)"),
    S(migrations_dir, "HF_MIGRATIONS_DIR", HF_DEFAULT_MIGRATIONS_DIR, "folder of numbered SQL migrations"),
    S(instance, "HF_INSTANCE", "", "name of this process in logs and metrics (default: host name and pid)"),
    S(log_level, "HF_LOG_LEVEL", "info", "debug, info, warn or error"),
    I(metrics_port, "HF_METRICS_PORT", "9100", 0, 65535, "worker port for /metrics, /healthz, /readyz (0: none)"),
    I(batch_max, "HF_BATCH_MAX", "500", 1, 100000, "most messages handled in one PostgreSQL transaction"),
    I(poll_ms, "HF_POLL_MS", "100", 1, 10000, "longest wait for the first message of a batch"),
    I(fetch_wait_ms, "HF_FETCH_WAIT_MS", "10", 0, 1000, "how long the broker may hold a pool's fetch to fill it (latency against broker CPU)"),
    I(retry_base_ms, "HF_RETRY_BASE_MS", "100", 1, 600000, "first retry delay; doubles each try, with jitter"),
    I(retry_cap_ms, "HF_RETRY_CAP_MS", "10000", 1, 600000, "longest retry delay"),
    I(retry_max, "HF_RETRY_MAX", "5", 1, 1000, "tries of a failing message before it is dead-lettered (dependency outages retry without limit)"),
    I(liveness_ms, "HF_LIVENESS_MS", "60000", 100, 3600000, "/healthz fails when the poll loop has not turned for this long"),
    I(kafka_timeout_ms, "HF_KAFKA_TIMEOUT_MS", "10000", 100, 600000, "how long a produce may wait for the broker's acknowledgement"),
    I(kafka_linger_ms, "HF_KAFKA_LINGER_MS", "5", 0, 1000, "producer batching delay (latency against broker CPU: at 2 ms the broker spent a quarter more per event)"),
    I(topic_partitions, "HF_TOPIC_PARTITIONS", "6", 1, 1000, "partitions of topics the fleet creates (the most replicas a pool can use)"),
    I(intake_port, "HF_INTAKE_PORT", "8080", 1, 65535, "intake HTTP port"),
    I(intake_threads, "HF_INTAKE_THREADS", "2", 1, 256, "intake HTTP threads"),
    I(intake_max_body, "HF_INTAKE_MAX_BODY", "1048576", 1024, 67108864, "largest request body in bytes (413 past it)"),
    I(intake_batch_max, "HF_INTAKE_BATCH_MAX", "500", 1, 10000, "most events in one batch request"),
    I(intake_client_rpm, "HF_INTAKE_CLIENT_RPM", "600000", 1, 100000000, "default events per minute per API client (429 past it)"),
    I(intake_queue_max, "HF_INTAKE_QUEUE_MAX", "100000", 100, 10000000, "producer queue size; 503 when full"),
    I(intake_auth_cache_s, "HF_INTAKE_AUTH_CACHE_S", "60", 0, 86400, "how long a key or ownership answer is cached (revocation delay)"),
    I(intake_owner_cache, "HF_INTAKE_OWNER_CACHE", "131072", 64, 16777216, "ownership answers an intake keeps (about 64 bytes each): at least the members posting within HF_INTAKE_AUTH_CACHE_S"),
    I(intake_max_skew_days, "HF_INTAKE_MAX_AGE_DAYS", "730", 1, 36500, "oldest occurred_at accepted, in days (also at most 1 day ahead)"),
    /* meal-image pool */
    S(meal_provider_url, "HF_MEAL_PROVIDER_URL", "", "base URL of an OpenAI-compatible vision API, e.g. https://api.openai.com/v1 (empty: captions only)"),
    S(meal_provider_model, "HF_MEAL_PROVIDER_MODEL", "gpt-4o-mini", "vision model asked what is on the plate"),
    S(meal_provider_key, "HF_MEAL_PROVIDER_KEY", "", "Bearer key for the vision API (empty: none sent)"),
    I(meal_provider_timeout_ms, "HF_MEAL_PROVIDER_TIMEOUT_MS", "30000", 100, 600000, "longest wait for one vision answer"),
    I(meal_provider_retries, "HF_MEAL_PROVIDER_RETRIES", "2", 0, 10, "vision calls retried after a timeout, 429 or 5xx before falling back to the caption"),
    I(meal_provider_rpm, "HF_MEAL_PROVIDER_RPM", "600", 1, 1000000, "vision calls per minute per process (token bucket)"),
    I(meal_breaker_failures, "HF_MEAL_BREAKER_FAILURES", "5", 1, 1000, "vision failures in a row that open the circuit breaker"),
    I(meal_breaker_recovery_ms, "HF_MEAL_BREAKER_RECOVERY_MS", "30000", 100, 3600000, "how long the open breaker refuses calls before a trial"),
    I(meal_concurrency, "HF_MEAL_CONCURRENCY", "16", 1, 1024, "meal photos analysed at once per process"),
    S(meal_image_hosts, "HF_MEAL_IMAGE_HOSTS", "", "image hosts allowed, comma-separated; .example.com allows subdomains (empty: none)"),
    I(meal_image_allow_private, "HF_MEAL_IMAGE_ALLOW_PRIVATE", "0", 0, 1, "1: allow image addresses in private, loopback and link-local ranges (tests only)"),
    I(meal_image_max_bytes, "HF_MEAL_IMAGE_MAX_BYTES", "10485760", 1024, 104857600, "largest image fetched, in bytes"),
    I(meal_image_max_dim, "HF_MEAL_IMAGE_MAX_DIM", "8192", 16, 65535, "largest image width or height in pixels"),
    I(meal_fetch_connect_ms, "HF_MEAL_FETCH_CONNECT_MS", "3000", 100, 60000, "image fetch connect timeout"),
    I(meal_fetch_timeout_ms, "HF_MEAL_FETCH_TIMEOUT_MS", "10000", 100, 600000, "image fetch total timeout"),
    S(meal_ca_file, "HF_MEAL_CA_FILE", "", "extra CA certificates (PEM) trusted for images and the vision API (empty: the system's)"),

    /* cache, cached reads, rate limits */
    I(redis_timeout_ms, "HF_REDIS_TIMEOUT_MS", "250", 1, 60000, "bound on a Redis connect and on each Redis command"),
    I(redis_retry_ms, "HF_REDIS_RETRY_MS", "1000", 0, 600000, "after a Redis failure, how long calls fail at once before reconnecting"),
    I(cache_reads, "HF_CACHE_READS", "1", 0, 1, "1: intake reads go through the Redis cache; 0: every read from PostgreSQL"),
    I(rate_user_read_rpm, "HF_RATE_USER_READ_RPM", "100", 1, 100000000, "reads per minute per user, across intake replicas (429 past it)"),
    I(rate_user_write_rpm, "HF_RATE_USER_WRITE_RPM", "60", 1, 100000000, "single-event posts per minute per user, across intake replicas (429 past it)"),
    I(rate_local_share, "HF_RATE_LOCAL_SHARE", "1", 1, 10000, "processes sharing each rate limit; with Redis away each allows limit / this"),

    /* scheduler */
    S(schedules, "HF_SCHEDULES", HF_DEFAULT_SCHEDULES, "the schedules file (scheduler/README.md)"),
    I(scheduler_lease_ms, "HF_SCHEDULER_LEASE_MS", "15000", 1000, 600000, "leader lease: a replica takes over this long after the leader last renewed"),
    I(scheduler_tick_ms, "HF_SCHEDULER_TICK_MS", "500", 10, 60000, "how often the scheduler looks for due firings"),
    I(scheduler_grace_ms, "HF_SCHEDULER_GRACE_MS", "60000", 0, 86400000, "a firing decided later than this after its time was missed: its schedule's catch_up decides"),
    I(scheduler_page, "HF_SCHEDULER_PAGE", "1000", 1, 100000, "rows per fan-out query (members, programs, ingredients)"),

    /* retraining */
    I(retrain_every_logs, "HF_RETRAIN_EVERY_LOGS", "7", 0, 100000, "a member's models are retrained every this many new logs (0: only on schedule)"),
    I(processed_keep_days, "HF_PROCESSED_KEEP_DAYS", "14", 1, 3650, "the purge forgets processed_events older than this (keep it past the topics' retention, 7 days: a redelivery must still be recognised)"),
    I(firings_keep_days, "HF_FIRINGS_KEEP_DAYS", "90", 1, 36500, "the purge forgets produced scheduler firings older than this"),

    /* insights */

    /* ingredient scoring */
    S(fdc_url, "HF_FDC_URL", "https://api.nal.usda.gov/fdc/v1", "USDA FoodData Central API base (.../foods/search, .../food/{id})"),
    S(fdc_api_key, "HF_FDC_API_KEY", "DEMO_KEY", "FoodData Central API key (api.data.gov; DEMO_KEY is heavily limited)"),
    S(off_url, "HF_OFF_URL", "https://world.openfoodfacts.org", "Open Food Facts base URL (search and /api/v2/product/{code})"),
    I(ingredient_connect_timeout_ms, "HF_INGREDIENT_CONNECT_TIMEOUT_MS", "1000", 1, 60000, "connect timeout of a call to USDA or Open Food Facts"),
    I(ingredient_timeout_ms, "HF_INGREDIENT_TIMEOUT_MS", "2000", 1, 120000, "whole-call timeout to USDA or Open Food Facts (a hang counts as a failure)"),
    I(ingredient_concurrency, "HF_INGREDIENT_CONCURRENCY", "8", 1, 256, "calls to the food APIs in flight at once per process"),
    I(ingredient_max_body, "HF_INGREDIENT_MAX_BODY", "2097152", 1024, 67108864, "largest food API answer accepted, in bytes"),
    I(fdc_rate, "HF_FDC_RATE", "1000", 1, 1000000, "USDA calls allowed per window (next row), shared by every process (002: 1000/hour)"),
    I(fdc_window_s, "HF_FDC_WINDOW_S", "3600", 1, 86400, "USDA rate-limit window in seconds"),
    I(off_rate, "HF_OFF_RATE", "100", 1, 1000000, "Open Food Facts calls allowed per window (next row), shared by every process (002: 100/min)"),
    I(off_window_s, "HF_OFF_WINDOW_S", "60", 1, 86400, "Open Food Facts rate-limit window in seconds"),
    I(ingredient_breaker_failures, "HF_INGREDIENT_BREAKER_FAILURES", "5", 1, 1000, "consecutive failures of a food API that open its circuit breaker (002: 5)"),
    I(ingredient_breaker_recovery_ms, "HF_INGREDIENT_BREAKER_RECOVERY_MS", "30000", 1, 3600000, "how long an open breaker refuses calls before a trial (002: 30 s)"),
    I(ingredient_breaker_successes, "HF_INGREDIENT_BREAKER_SUCCESSES", "2", 1, 1000, "trial successes that close a half-open breaker (002: 2)"),
    I(ingredient_stale_days, "HF_INGREDIENT_STALE_DAYS", "7", 1, 365, "a score older than this is rescored (weekly refresh; younger ones are kept for log-driven requests)"),
    I(ingredient_retry_failed_s, "HF_INGREDIENT_RETRY_FAILED_S", "3600", 0, 604800, "a score made while a source failed is redone after this many seconds when the ingredient is seen again"),

    /* operations */
    S(admin_token, "HF_ADMIN_TOKEN", "", "hf-admin's operator credential: a Bearer token, or the password of HTTP Basic auth; 16 characters or more (hf-admin refuses to start without it)"),
    I(admin_port, "HF_ADMIN_PORT", "8090", 1, 65535, "hf-admin HTTP port (dashboard, JSON API, /healthz, /readyz)"),
    S(admin_scrape, "HF_ADMIN_SCRAPE", "", "host:port of each /metrics the dashboard reads (pools, scheduler), comma-separated"),
    S(admin_web_dir, "HF_ADMIN_WEB_DIR", "", "folder of the dashboard's built files (empty: admin-web beside hf-admin's bin/ folder)"),
    I(admin_sample_ms, "HF_ADMIN_SAMPLE_MS", "5000", 200, 600000, "how often hf-admin samples consumer-group offsets for rates and drain times"),
    I(admin_history_s, "HF_ADMIN_HISTORY_S", "600", 10, 86400, "how long hf-admin keeps those samples (the charts' span)"),
};

static int set_var(struct hf_config *cfg, const struct var *v, const char *value, struct hf_err *err)
{
    char *base = (char *)cfg + v->offset;
    if (v->kind == STR) {
        if (strlen(value) >= v->size)
            return hf_err_field(err, HF_EINVAL, v->name, "%s is longer than %zu characters", v->name, v->size - 1);
        memcpy(base, value, strlen(value) + 1);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0')
        return hf_err_field(err, HF_EINVAL, v->name, "%s=\"%s\" is not a whole number", v->name, value);
    if (n < v->min || n > v->max)
        return hf_err_field(err, HF_EINVAL, v->name, "%s=%ld is outside %ld..%ld", v->name, n, v->min, v->max);
    *(int *)base = (int)n;
    return 0;
}

int hf_config_load(struct hf_config *cfg, struct hf_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *value = getenv(vars[i].name);
        if (!value || !*value)
            value = vars[i].def;
        int rc = set_var(cfg, &vars[i], value, err);
        if (rc)
            return rc;
    }
    if (!cfg->instance[0]) {
        char host[48] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(cfg->instance, sizeof cfg->instance, "%s-%d", host, (int)getpid());
    }
    if (strcmp(cfg->log_level, "debug") && strcmp(cfg->log_level, "info") &&
        strcmp(cfg->log_level, "warn") && strcmp(cfg->log_level, "error"))
        return hf_err_field(err, HF_EINVAL, "HF_LOG_LEVEL", "HF_LOG_LEVEL=\"%s\" is not debug, info, warn or error",
                            cfg->log_level);
    if (cfg->retry_cap_ms < cfg->retry_base_ms)
        return hf_err_field(err, HF_EINVAL, "HF_RETRY_CAP_MS", "HF_RETRY_CAP_MS (%d) is below HF_RETRY_BASE_MS (%d)",
                            cfg->retry_cap_ms, cfg->retry_base_ms);
    return 0;
}

void hf_config_topic(const struct hf_config *cfg, const char *family, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s%s", cfg->topic_prefix, family);
}

int hf_config_describe(int i, const char **name, const char **def, const char **doc)
{
    if (i < 0 || (size_t)i >= sizeof vars / sizeof vars[0])
        return HF_ENOTFOUND;
    *name = vars[i].name;
    *def = vars[i].def;
    *doc = vars[i].doc;
    return 0;
}
