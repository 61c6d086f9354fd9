/* Unit tests of common/hf_config: defaults, parsing and bounds of every
 * variable, cross-checks, hf_config_topic, hf_config_describe and the README
 * table. Every test starts with all HF_* variables unset and puts the
 * caller's environment back afterwards. */
#include <check.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_config.h"
#include "unit_util.h"

/* The integer variables, with the bounds and defaults of the contract. */
static const struct {
    const char *name;
    size_t offset;
    long lo, hi, def;
} INTS[] = {
    { "HF_METRICS_PORT", offsetof(struct hf_config, metrics_port), 0, 65535, 9100 },
    { "HF_BATCH_MAX", offsetof(struct hf_config, batch_max), 1, 100000, 500 },
    { "HF_POLL_MS", offsetof(struct hf_config, poll_ms), 1, 10000, 100 },
    { "HF_FETCH_WAIT_MS", offsetof(struct hf_config, fetch_wait_ms), 0, 1000, 10 },
    { "HF_RETRY_BASE_MS", offsetof(struct hf_config, retry_base_ms), 1, 600000, 100 },
    { "HF_RETRY_CAP_MS", offsetof(struct hf_config, retry_cap_ms), 1, 600000, 10000 },
    { "HF_RETRY_MAX", offsetof(struct hf_config, retry_max), 1, 1000, 5 },
    { "HF_LIVENESS_MS", offsetof(struct hf_config, liveness_ms), 100, 3600000, 60000 },
    { "HF_KAFKA_TIMEOUT_MS", offsetof(struct hf_config, kafka_timeout_ms), 100, 600000, 10000 },
    { "HF_KAFKA_LINGER_MS", offsetof(struct hf_config, kafka_linger_ms), 0, 1000, 5 },
    { "HF_TOPIC_PARTITIONS", offsetof(struct hf_config, topic_partitions), 1, 1000, 6 },
    { "HF_INTAKE_PORT", offsetof(struct hf_config, intake_port), 1, 65535, 8080 },
    { "HF_INTAKE_THREADS", offsetof(struct hf_config, intake_threads), 1, 256, 2 },
    { "HF_INTAKE_MAX_BODY", offsetof(struct hf_config, intake_max_body), 1024, 67108864, 1048576 },
    { "HF_INTAKE_BATCH_MAX", offsetof(struct hf_config, intake_batch_max), 1, 10000, 500 },
    { "HF_INTAKE_CLIENT_RPM", offsetof(struct hf_config, intake_client_rpm), 1, 100000000, 600000 },
    { "HF_INTAKE_QUEUE_MAX", offsetof(struct hf_config, intake_queue_max), 100, 10000000, 100000 },
    { "HF_INTAKE_AUTH_CACHE_S", offsetof(struct hf_config, intake_auth_cache_s), 0, 86400, 60 },
    { "HF_INTAKE_OWNER_CACHE", offsetof(struct hf_config, intake_owner_cache), 64, 16777216, 131072 },
    { "HF_INTAKE_MAX_AGE_DAYS", offsetof(struct hf_config, intake_max_skew_days), 1, 36500, 730 },
    /* ingredient scoring */
    { "HF_INGREDIENT_CONNECT_TIMEOUT_MS", offsetof(struct hf_config, ingredient_connect_timeout_ms), 1, 60000, 1000 },
    { "HF_INGREDIENT_TIMEOUT_MS", offsetof(struct hf_config, ingredient_timeout_ms), 1, 120000, 2000 },
    { "HF_INGREDIENT_CONCURRENCY", offsetof(struct hf_config, ingredient_concurrency), 1, 256, 8 },
    { "HF_INGREDIENT_MAX_BODY", offsetof(struct hf_config, ingredient_max_body), 1024, 67108864, 2097152 },
    { "HF_FDC_RATE", offsetof(struct hf_config, fdc_rate), 1, 1000000, 1000 },
    { "HF_FDC_WINDOW_S", offsetof(struct hf_config, fdc_window_s), 1, 86400, 3600 },
    { "HF_OFF_RATE", offsetof(struct hf_config, off_rate), 1, 1000000, 100 },
    { "HF_OFF_WINDOW_S", offsetof(struct hf_config, off_window_s), 1, 86400, 60 },
    { "HF_INGREDIENT_BREAKER_FAILURES", offsetof(struct hf_config, ingredient_breaker_failures), 1, 1000, 5 },
    { "HF_INGREDIENT_BREAKER_RECOVERY_MS", offsetof(struct hf_config, ingredient_breaker_recovery_ms), 1, 3600000, 30000 },
    { "HF_INGREDIENT_BREAKER_SUCCESSES", offsetof(struct hf_config, ingredient_breaker_successes), 1, 1000, 2 },
    { "HF_INGREDIENT_STALE_DAYS", offsetof(struct hf_config, ingredient_stale_days), 1, 365, 7 },
    { "HF_INGREDIENT_RETRY_FAILED_S", offsetof(struct hf_config, ingredient_retry_failed_s), 0, 604800, 3600 },
    { "HF_REDIS_TIMEOUT_MS", offsetof(struct hf_config, redis_timeout_ms), 1, 60000, 250 },
    { "HF_REDIS_RETRY_MS", offsetof(struct hf_config, redis_retry_ms), 0, 600000, 1000 },
    { "HF_CACHE_READS", offsetof(struct hf_config, cache_reads), 0, 1, 1 },
    { "HF_RATE_USER_READ_RPM", offsetof(struct hf_config, rate_user_read_rpm), 1, 100000000, 100 },
    { "HF_RATE_USER_WRITE_RPM", offsetof(struct hf_config, rate_user_write_rpm), 1, 100000000, 60 },
    { "HF_RATE_LOCAL_SHARE", offsetof(struct hf_config, rate_local_share), 1, 10000, 1 },
    { "HF_RETRAIN_EVERY_LOGS", offsetof(struct hf_config, retrain_every_logs), 0, 100000, 7 },
    { "HF_PROCESSED_KEEP_DAYS", offsetof(struct hf_config, processed_keep_days), 1, 3650, 14 },
    { "HF_FIRINGS_KEEP_DAYS", offsetof(struct hf_config, firings_keep_days), 1, 36500, 90 },
    { "HF_MEAL_PROVIDER_TIMEOUT_MS", offsetof(struct hf_config, meal_provider_timeout_ms), 100, 600000, 30000 },
    { "HF_MEAL_PROVIDER_RETRIES", offsetof(struct hf_config, meal_provider_retries), 0, 10, 2 },
    { "HF_MEAL_PROVIDER_RPM", offsetof(struct hf_config, meal_provider_rpm), 1, 1000000, 600 },
    { "HF_MEAL_BREAKER_FAILURES", offsetof(struct hf_config, meal_breaker_failures), 1, 1000, 5 },
    { "HF_MEAL_BREAKER_RECOVERY_MS", offsetof(struct hf_config, meal_breaker_recovery_ms), 100, 3600000, 30000 },
    { "HF_MEAL_CONCURRENCY", offsetof(struct hf_config, meal_concurrency), 1, 1024, 16 },
    { "HF_MEAL_IMAGE_ALLOW_PRIVATE", offsetof(struct hf_config, meal_image_allow_private), 0, 1, 0 },
    { "HF_MEAL_IMAGE_MAX_BYTES", offsetof(struct hf_config, meal_image_max_bytes), 1024, 104857600, 10485760 },
    { "HF_MEAL_IMAGE_MAX_DIM", offsetof(struct hf_config, meal_image_max_dim), 16, 65535, 8192 },
    { "HF_MEAL_FETCH_CONNECT_MS", offsetof(struct hf_config, meal_fetch_connect_ms), 100, 60000, 3000 },
    { "HF_MEAL_FETCH_TIMEOUT_MS", offsetof(struct hf_config, meal_fetch_timeout_ms), 100, 600000, 10000 },
    { "HF_SCHEDULER_LEASE_MS", offsetof(struct hf_config, scheduler_lease_ms), 1000, 600000, 15000 },
    { "HF_SCHEDULER_TICK_MS", offsetof(struct hf_config, scheduler_tick_ms), 10, 60000, 500 },
    { "HF_SCHEDULER_GRACE_MS", offsetof(struct hf_config, scheduler_grace_ms), 0, 86400000, 60000 },
    { "HF_SCHEDULER_PAGE", offsetof(struct hf_config, scheduler_page), 1, 100000, 1000 },
    { "HF_ADMIN_PORT", offsetof(struct hf_config, admin_port), 1, 65535, 8090 },
    { "HF_ADMIN_SAMPLE_MS", offsetof(struct hf_config, admin_sample_ms), 200, 600000, 5000 },
    { "HF_ADMIN_HISTORY_S", offsetof(struct hf_config, admin_history_s), 10, 86400, 600 },
};
#define N_INTS (sizeof INTS / sizeof INTS[0])

static const struct {
    const char *name;
    size_t offset, size;
} STRS[] = {
    { "HF_KAFKA_BROKERS", offsetof(struct hf_config, kafka_brokers), sizeof(((struct hf_config *)0)->kafka_brokers) },
    { "HF_PG_URL", offsetof(struct hf_config, pg_url), sizeof(((struct hf_config *)0)->pg_url) },
    { "HF_REDIS_URL", offsetof(struct hf_config, redis_url), sizeof(((struct hf_config *)0)->redis_url) },
    { "HF_TOPIC_PREFIX", offsetof(struct hf_config, topic_prefix), sizeof(((struct hf_config *)0)->topic_prefix) },
    { "HF_MIGRATIONS_DIR", offsetof(struct hf_config, migrations_dir), sizeof(((struct hf_config *)0)->migrations_dir) },
    { "HF_INSTANCE", offsetof(struct hf_config, instance), sizeof(((struct hf_config *)0)->instance) },
    { "HF_LOG_LEVEL", offsetof(struct hf_config, log_level), sizeof(((struct hf_config *)0)->log_level) },
    /* ingredient scoring */
    { "HF_FDC_URL", offsetof(struct hf_config, fdc_url), sizeof(((struct hf_config *)0)->fdc_url) },
    { "HF_FDC_API_KEY", offsetof(struct hf_config, fdc_api_key), sizeof(((struct hf_config *)0)->fdc_api_key) },
    { "HF_OFF_URL", offsetof(struct hf_config, off_url), sizeof(((struct hf_config *)0)->off_url) },
    { "HF_MEAL_PROVIDER_URL", offsetof(struct hf_config, meal_provider_url), sizeof(((struct hf_config *)0)->meal_provider_url) },
    { "HF_MEAL_PROVIDER_MODEL", offsetof(struct hf_config, meal_provider_model), sizeof(((struct hf_config *)0)->meal_provider_model) },
    { "HF_MEAL_PROVIDER_KEY", offsetof(struct hf_config, meal_provider_key), sizeof(((struct hf_config *)0)->meal_provider_key) },
    { "HF_MEAL_IMAGE_HOSTS", offsetof(struct hf_config, meal_image_hosts), sizeof(((struct hf_config *)0)->meal_image_hosts) },
    { "HF_MEAL_CA_FILE", offsetof(struct hf_config, meal_ca_file), sizeof(((struct hf_config *)0)->meal_ca_file) },
    { "HF_SCHEDULES", offsetof(struct hf_config, schedules), sizeof(((struct hf_config *)0)->schedules) },
    { "HF_ADMIN_TOKEN", offsetof(struct hf_config, admin_token), sizeof(((struct hf_config *)0)->admin_token) },
    { "HF_ADMIN_SCRAPE", offsetof(struct hf_config, admin_scrape), sizeof(((struct hf_config *)0)->admin_scrape) },
    { "HF_ADMIN_WEB_DIR", offsetof(struct hf_config, admin_web_dir), sizeof(((struct hf_config *)0)->admin_web_dir) },
};
#define N_STRS (sizeof STRS / sizeof STRS[0])

static int cfg_int(const struct hf_config *cfg, size_t offset)
{
    return *(const int *)((const char *)cfg + offset);
}

static const char *cfg_str(const struct hf_config *cfg, size_t offset)
{
    return (const char *)cfg + offset;
}

/* ---- the environment: every described variable unset during a test ---- */

#define MAX_VARS 256
static char *saved_name[MAX_VARS], *saved_value[MAX_VARS];
static int n_saved;

static void setup(void)
{
    n_saved = 0;
    const char *name, *def, *doc;
    /* past MAX_VARS, later variables would leak from one test into the next
     * when tests share a process (CK_FORK=no, valgrind-unit) */
    ck_assert_msg(hf_config_describe(MAX_VARS, &name, &def, &doc) != 0, "more than %d variables: raise MAX_VARS",
                  MAX_VARS);
    for (int i = 0; hf_config_describe(i, &name, &def, &doc) == 0; i++) {
        const char *v = getenv(name);
        saved_name[n_saved] = strdup(name);
        saved_value[n_saved] = v ? strdup(v) : NULL;
        n_saved++;
        unsetenv(name);
    }
}

static void teardown(void)
{
    for (int i = 0; i < n_saved; i++) {
        if (saved_value[i])
            setenv(saved_name[i], saved_value[i], 1);
        else
            unsetenv(saved_name[i]);
        free(saved_name[i]);
        free(saved_value[i]);
    }
    n_saved = 0;
}

static int load(struct hf_config *cfg, struct hf_err *err)
{
    hf_err_clear(err);
    memset(cfg, 0x5a, sizeof *cfg);
    return hf_config_load(cfg, err);
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_defaults)
{
    struct hf_config cfg;
    struct hf_err err;
    ck_assert_msg(load(&cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.kafka_brokers, "127.0.0.1:19092");
    ck_assert_str_eq(cfg.pg_url, "postgresql://postgres@127.0.0.1:15432/healthfleet");
    ck_assert_str_eq(cfg.redis_url, "redis://127.0.0.1:16379/0");
    ck_assert_str_eq(cfg.topic_prefix, "hf.");
    ck_assert_str_eq(cfg.migrations_dir, HF_SOURCE_DIR "/migrations");
    ck_assert_str_eq(cfg.log_level, "info");
    for (size_t i = 0; i < N_INTS; i++)
        ck_assert_msg(cfg_int(&cfg, INTS[i].offset) == INTS[i].def, "%s default %d, expected %ld", INTS[i].name,
                      cfg_int(&cfg, INTS[i].offset), INTS[i].def);
    /* HF_INSTANCE unset: host name and pid */
    char suffix[32];
    snprintf(suffix, sizeof suffix, "-%d", (int)getpid());
    size_t n = strlen(cfg.instance), m = strlen(suffix);
    ck_assert_msg(n > m && strcmp(cfg.instance + n - m, suffix) == 0, "instance \"%s\" ends with %s", cfg.instance,
                  suffix);
}
END_TEST

START_TEST(test_empty_is_unset)
{
    for (size_t i = 0; i < N_INTS; i++)
        setenv(INTS[i].name, "", 1);
    setenv("HF_TOPIC_PREFIX", "", 1);
    setenv("HF_LOG_LEVEL", "", 1);
    struct hf_config cfg;
    struct hf_err err;
    ck_assert_msg(load(&cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.topic_prefix, "hf.");
    ck_assert_str_eq(cfg.log_level, "info");
    ck_assert_int_eq(cfg.batch_max, 500);
}
END_TEST

/* _i: INTS index; each variable at its low bound, its high bound and a value in between. */
START_TEST(test_int_parsed)
{
    const char *name = INTS[_i].name;
    const long values[] = { INTS[_i].lo, INTS[_i].hi, (INTS[_i].lo + INTS[_i].hi) / 2 + 1 };
    for (size_t k = 0; k < 3; k++) {
        /* keep HF_RETRY_CAP_MS >= HF_RETRY_BASE_MS while moving one of them */
        if (strcmp(name, "HF_RETRY_BASE_MS") == 0)
            setenv("HF_RETRY_CAP_MS", "600000", 1);
        if (strcmp(name, "HF_RETRY_CAP_MS") == 0)
            setenv("HF_RETRY_BASE_MS", "1", 1);
        char text[32];
        snprintf(text, sizeof text, "%ld", values[k]);
        setenv(name, text, 1);
        struct hf_config cfg;
        struct hf_err err;
        ck_assert_msg(load(&cfg, &err) == 0, "%s=%s: %s", name, text, err.msg);
        ck_assert_msg(cfg_int(&cfg, INTS[_i].offset) == values[k], "%s=%s gave %d", name, text,
                      cfg_int(&cfg, INTS[_i].offset));
    }
}
END_TEST

START_TEST(test_int_out_of_range)
{
    const char *name = INTS[_i].name;
    const long values[] = { INTS[_i].lo - 1, INTS[_i].hi + 1, -1000000000L, 2147483648L };
    for (size_t k = 0; k < 4; k++) {
        if (values[k] >= INTS[_i].lo && values[k] <= INTS[_i].hi)
            continue;
        char text[32], want[160];
        snprintf(text, sizeof text, "%ld", values[k]);
        snprintf(want, sizeof want, "%s=%ld is outside %ld..%ld", name, values[k], INTS[_i].lo, INTS[_i].hi);
        setenv(name, text, 1);
        struct hf_config cfg;
        struct hf_err err;
        ck_assert_msg(load(&cfg, &err) == HF_EINVAL, "%s=%s accepted", name, text);
        ck_assert_int_eq(err.code, HF_EINVAL);
        ck_assert_str_eq(err.field, name);
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

START_TEST(test_int_not_a_number)
{
    const char *name = INTS[_i].name;
    const char *values[] = { "abc", "12abc", "1.5", "0x10", "5 ", " ", "99999999999999999999999", "--1" };
    for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
        setenv(name, values[k], 1);
        char want[160];
        snprintf(want, sizeof want, "%s=\"%s\" is not a whole number", name, values[k]);
        struct hf_config cfg;
        struct hf_err err;
        ck_assert_msg(load(&cfg, &err) == HF_EINVAL, "%s=\"%s\" accepted", name, values[k]);
        ck_assert_str_eq(err.field, name);
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

START_TEST(test_strings)
{
    setenv("HF_KAFKA_BROKERS", "k1:9092,k2:9092", 1);
    setenv("HF_PG_URL", "postgresql://u@db/x", 1);
    setenv("HF_REDIS_URL", "redis://r:6379/1", 1);
    setenv("HF_TOPIC_PREFIX", "test42.", 1);
    setenv("HF_MIGRATIONS_DIR", "/srv/migrations", 1);
    setenv("HF_INSTANCE", "worker-a", 1);
    setenv("HF_LOG_LEVEL", "debug", 1);
    struct hf_config cfg;
    struct hf_err err;
    ck_assert_msg(load(&cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.kafka_brokers, "k1:9092,k2:9092");
    ck_assert_str_eq(cfg.pg_url, "postgresql://u@db/x");
    ck_assert_str_eq(cfg.redis_url, "redis://r:6379/1");
    ck_assert_str_eq(cfg.topic_prefix, "test42.");
    ck_assert_str_eq(cfg.migrations_dir, "/srv/migrations");
    ck_assert_str_eq(cfg.instance, "worker-a");
    ck_assert_str_eq(cfg.log_level, "debug");
}
END_TEST

/* _i: STRS index; the longest value that fits, and one character more. */
START_TEST(test_string_too_long)
{
    if (strcmp(STRS[_i].name, "HF_LOG_LEVEL") == 0)
        return; /* any long value is not a level anyway; see test_log_level */
    size_t max = STRS[_i].size - 1;
    char *v = malloc(max + 2);
    memset(v, 'a', max + 1);
    v[max + 1] = '\0';
    setenv(STRS[_i].name, v, 1);
    struct hf_config cfg;
    struct hf_err err;
    char want[160];
    snprintf(want, sizeof want, "%s is longer than %zu characters", STRS[_i].name, max);
    int rc = load(&cfg, &err);
    ck_assert_int_eq(rc, HF_EINVAL);
    ck_assert_str_eq(err.field, STRS[_i].name);
    ck_assert_str_eq(err.msg, want);
    v[max] = '\0';
    setenv(STRS[_i].name, v, 1);
    rc = load(&cfg, &err);
    ck_assert_msg(rc == 0, "%zu characters: %s", max, err.msg);
    ck_assert_str_eq(cfg_str(&cfg, STRS[_i].offset), v);
    free(v);
}
END_TEST

START_TEST(test_log_level)
{
    const char *good[] = { "debug", "info", "warn", "error" };
    struct hf_config cfg;
    struct hf_err err;
    for (size_t i = 0; i < 4; i++) {
        setenv("HF_LOG_LEVEL", good[i], 1);
        ck_assert_msg(load(&cfg, &err) == 0, "%s: %s", good[i], err.msg);
        ck_assert_str_eq(cfg.log_level, good[i]);
    }
    const char *bad[] = { "verbose", "INFO", "warning", "info ", "trace" };
    for (size_t i = 0; i < 5; i++) {
        setenv("HF_LOG_LEVEL", bad[i], 1);
        char want[128];
        snprintf(want, sizeof want, "HF_LOG_LEVEL=\"%s\" is not debug, info, warn or error", bad[i]);
        ck_assert_msg(load(&cfg, &err) == HF_EINVAL, "%s accepted", bad[i]);
        ck_assert_str_eq(err.field, "HF_LOG_LEVEL");
        ck_assert_str_eq(err.msg, want);
    }
}
END_TEST

START_TEST(test_retry_cap_below_base)
{
    struct hf_config cfg;
    struct hf_err err;
    setenv("HF_RETRY_BASE_MS", "500", 1);
    setenv("HF_RETRY_CAP_MS", "400", 1);
    ck_assert_int_eq(load(&cfg, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "HF_RETRY_CAP_MS");
    ck_assert_str_eq(err.msg, "HF_RETRY_CAP_MS (400) is below HF_RETRY_BASE_MS (500)");

    setenv("HF_RETRY_CAP_MS", "500", 1); /* equal is fine */
    ck_assert_int_eq(load(&cfg, &err), 0);
    ck_assert_int_eq(cfg.retry_base_ms, 500);
    ck_assert_int_eq(cfg.retry_cap_ms, 500);

    unsetenv("HF_RETRY_BASE_MS"); /* against the default base, 100 */
    setenv("HF_RETRY_CAP_MS", "99", 1);
    ck_assert_int_eq(load(&cfg, &err), HF_EINVAL);
    ck_assert_str_eq(err.msg, "HF_RETRY_CAP_MS (99) is below HF_RETRY_BASE_MS (100)");

    unsetenv("HF_RETRY_CAP_MS"); /* and the default cap, 10000 */
    setenv("HF_RETRY_BASE_MS", "10001", 1);
    ck_assert_int_eq(load(&cfg, &err), HF_EINVAL);
    ck_assert_str_eq(err.field, "HF_RETRY_CAP_MS");
    ck_assert_str_eq(err.msg, "HF_RETRY_CAP_MS (10000) is below HF_RETRY_BASE_MS (10001)");
}
END_TEST

START_TEST(test_topic)
{
    struct hf_config cfg;
    struct hf_err err;
    ck_assert_int_eq(load(&cfg, &err), 0);
    char out[64];
    hf_config_topic(&cfg, "logs", out, sizeof out);
    ck_assert_str_eq(out, "hf.logs");
    hf_config_topic(&cfg, "dlq.adherence", out, sizeof out);
    ck_assert_str_eq(out, "hf.dlq.adherence");
    hf_config_topic(&cfg, "logs", out, 6); /* cut to the buffer, terminated */
    ck_assert_str_eq(out, "hf.lo");

    setenv("HF_TOPIC_PREFIX", "it-7f3a.", 1);
    ck_assert_int_eq(load(&cfg, &err), 0);
    hf_config_topic(&cfg, "meals", out, sizeof out);
    ck_assert_str_eq(out, "it-7f3a.meals");
}
END_TEST

static int n_described(void)
{
    const char *name, *def, *doc;
    int n = 0;
    while (hf_config_describe(n, &name, &def, &doc) == 0)
        n++;
    return n;
}

START_TEST(test_describe)
{
    int n = n_described();
    ck_assert_int_eq(n, (int)(N_INTS + N_STRS));
    const char *name = "x", *def = "x", *doc = "x";
    ck_assert_int_ne(hf_config_describe(-1, &name, &def, &doc), 0);
    ck_assert_int_eq(hf_config_describe(n, &name, &def, &doc), HF_ENOTFOUND);
    ck_assert_str_eq(name, "x"); /* untouched past the end */

    struct hf_config cfg;
    struct hf_err err;
    ck_assert_int_eq(load(&cfg, &err), 0);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(hf_config_describe(i, &name, &def, &doc), 0);
        ck_assert_msg(strncmp(name, "HF_", 3) == 0, "%s", name);
        ck_assert_ptr_nonnull(def);
        ck_assert_msg(doc && strlen(doc) >= 8, "%s is documented", name);
        for (int j = 0; j < i; j++) {
            const char *other, *d2, *doc2;
            hf_config_describe(j, &other, &d2, &doc2);
            ck_assert_msg(strcmp(name, other) != 0, "%s described twice", name);
        }
        /* every described variable is one this test knows, with the same default */
        bool known = false;
        for (size_t k = 0; k < N_INTS; k++)
            if (strcmp(INTS[k].name, name) == 0) {
                known = true;
                ck_assert_msg(atol(def) == INTS[k].def, "%s documented default %s", name, def);
            }
        for (size_t k = 0; k < N_STRS; k++)
            if (strcmp(STRS[k].name, name) == 0) {
                known = true;
                if (strcmp(name, "HF_INSTANCE") != 0)
                    ck_assert_str_eq(cfg_str(&cfg, STRS[k].offset), def);
            }
        ck_assert_msg(known, "%s is new: add it to the tables of tests/unit/test_config.c", name);
    }
}
END_TEST

/* Does a line of a Markdown table hold name as a whole word? */
static bool table_row_names(const char *line, size_t len, const char *name)
{
    const char *p = line;
    while (p < line + len && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= line + len || *p != '|')
        return false;
    size_t n = strlen(name);
    for (const char *q = p; q + n <= line + len; q++) {
        if (memcmp(q, name, n) != 0)
            continue;
        bool before = q > line && (isalnum((unsigned char)q[-1]) || q[-1] == '_');
        bool after = q + n < line + len && (isalnum((unsigned char)q[n]) || q[n] == '_');
        if (!before && !after)
            return true;
    }
    return false;
}

START_TEST(test_readme_table)
{
    const char *path = HF_SOURCE_DIR "/README.md";
    char *readme = unit_read_file(path);
    if (!readme) {
        printf("test_config: note: %s is absent, README table check skipped\n", path);
        return;
    }
    char missing[2048] = "", stale[2048] = "";
    int n_missing = 0, n_stale = 0;
    const char *name, *def, *doc;
    for (int i = 0; hf_config_describe(i, &name, &def, &doc) == 0; i++) {
        const char *row = NULL;
        size_t row_len = 0;
        for (const char *line = readme; *line && !row;) {
            const char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            if (table_row_names(line, len, name)) {
                row = line;
                row_len = len;
            }
            line += len + (end ? 1 : 0);
        }
        if (!row) {
            n_missing++;
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s", name);
            continue;
        }
        /* a literal default must be in the row as `default` (paths from the
         * build and computed defaults are described in words instead) */
        if (*def && *def != '/') {
            char want[600];
            snprintf(want, sizeof want, "`%s`", def);
            char *copy = strndup(row, row_len);
            if (!strstr(copy, want)) {
                n_stale++;
                snprintf(stale + strlen(stale), sizeof stale - strlen(stale), " %s (default %s)", name, def);
            }
            free(copy);
        }
    }
    free(readme);
    ck_assert_msg(n_missing == 0,
                  "README.md's configuration table lacks %d variable(s):%s (add a row: name, default, meaning, "
                  "as `hfctl config` prints them)",
                  n_missing, missing);
    ck_assert_msg(n_stale == 0, "README.md's configuration table shows another default for:%s", stale);
}
END_TEST

START_TEST(test_readme_row_matcher)
{
    /* the matcher test_readme_table relies on */
    const char *row = "| `HF_POLL_MS` | 100 | longest wait |";
    ck_assert(table_row_names(row, strlen(row), "HF_POLL_MS"));
    ck_assert(!table_row_names(row, strlen(row), "HF_POLL"));
    const char *longer = "| HF_RETRY_MAX_X | 5 |";
    ck_assert(!table_row_names(longer, strlen(longer), "HF_RETRY_MAX"));
    const char *prose = "Set HF_POLL_MS to tune.";
    ck_assert(!table_row_names(prose, strlen(prose), "HF_POLL_MS"));
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_empty_is_unset);
    tcase_add_loop_test(tc, test_int_parsed, 0, (int)N_INTS);
    tcase_add_loop_test(tc, test_int_out_of_range, 0, (int)N_INTS);
    tcase_add_loop_test(tc, test_int_not_a_number, 0, (int)N_INTS);
    tcase_add_test(tc, test_strings);
    tcase_add_loop_test(tc, test_string_too_long, 0, (int)N_STRS);
    tcase_add_test(tc, test_log_level);
    tcase_add_test(tc, test_retry_cap_below_base);
    suite_add_tcase(s, tc);

    tc = tcase_create("describe");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_topic);
    tcase_add_test(tc, test_describe);
    tcase_add_test(tc, test_readme_table);
    tcase_add_test(tc, test_readme_row_matcher);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(config_suite());
}
