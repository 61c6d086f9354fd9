/* Unit tests of hf-admin's pure parts (tools/admin): the operator credential
 * check, the /metrics parsing and quantiles, and the rates from samples. */
#include <check.h>
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "admin_auth.h"
#include "admin_prom.h"
#include "admin_rates.h"
#include "unit_util.h"

#define TOKEN "s3cret-operator-token"

START_TEST(auth_bearer_and_basic)
{
    char who[64];
    ck_assert(admin_auth_check(TOKEN, "Bearer " TOKEN, who, sizeof who));
    ck_assert_str_eq(who, "bearer");
    ck_assert(admin_auth_check(TOKEN, "bearer " TOKEN, who, sizeof who));
    /* "ola:s3cret-operator-token" */
    ck_assert(admin_auth_check(TOKEN, "Basic b2xhOnMzY3JldC1vcGVyYXRvci10b2tlbg==", who, sizeof who));
    ck_assert_str_eq(who, "ola");
    /* ":s3cret-operator-token": no user name */
    ck_assert(admin_auth_check(TOKEN, "Basic OnMzY3JldC1vcGVyYXRvci10b2tlbg==", who, sizeof who));
    ck_assert_str_eq(who, "operator");
    /* "o'la x:s3cret-operator-token": a name unfit for the audit log */
    ck_assert(admin_auth_check(TOKEN, "Basic bydsYSB4OnMzY3JldC1vcGVyYXRvci10b2tlbg==", who, sizeof who));
    ck_assert_str_eq(who, "operator");
}
END_TEST

START_TEST(auth_refusals)
{
    char who[64] = "";
    const char *bad[] = {
        NULL,
        "",
        "Bearer",
        "Bearer ",
        "Bearer " TOKEN "x",
        "Bearer s3cret-operator-toke",
        "Token " TOKEN,
        TOKEN,
        "Basic",
        "Basic !!!!",
        "Basic b2xh",                                   /* "ola": no colon */
        "Basic b2xhOnMzY3JldC1vcGVyYXRvci10b2tlbg",     /* unpadded */
        "Basic b2xhOnMzY3JldC1vcGVyYXRvci10b2tlbng=",   /* password + "x" */
        "Basic AG9sYTpzM2NyZXQtb3BlcmF0b3ItdG9rZW4=",   /* NUL inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!admin_auth_check(TOKEN, bad[i], who, sizeof who), "accepted %s", bad[i] ? bad[i] : "(none)");
    /* a server without a (long enough) token accepts nothing, not even itself */
    ck_assert(!admin_auth_check("", "Bearer ", who, sizeof who));
    ck_assert(!admin_auth_check("short", "Bearer short", who, sizeof who));
    char huge[2048];
    memset(huge, 'a', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    memcpy(huge, "Bearer ", 7);
    ck_assert(!admin_auth_check(TOKEN, huge, who, sizeof who));
}
END_TEST

static const char METRICS_A[] =
    "# HELP hf_messages_total Messages handled, by outcome.\n"
    "# TYPE hf_messages_total counter\n"
    "hf_messages_total{pool=\"adherence\",outcome=\"processed\"} 90\n"
    "hf_messages_total{pool=\"adherence\",outcome=\"replayed\"} 3\n"
    "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"} 2\n"
    "hf_attempts_failed_total{pool=\"adherence\"} 4\n"
    "hf_retries_total{pool=\"adherence\",reason=\"dependency\"} 5\n"
    "hf_retries_total{pool=\"adherence\",reason=\"message\"} 6\n"
    "hf_consumer_lag_messages{pool=\"adherence\"} 7\n"
    "hf_dependency_outage{pool=\"adherence\"} 0\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"0.01\"} 50\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"0.1\"} 90\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"+Inf\"} 100\n"
    "hf_handler_seconds_sum{pool=\"adherence\"} 4.5\n"
    "hf_handler_seconds_count{pool=\"adherence\"} 100\n"
    "hf_batch_seconds_bucket{pool=\"adherence\",le=\"0.01\"} 1\n"
    "process_cpu_seconds_total 12\n";

/* a second replica of the same pool, and another pool */
static const char METRICS_B[] =
    "hf_messages_total{pool=\"adherence\",outcome=\"processed\"} 10\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"0.01\"} 0\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"0.1\"} 0\n"
    "hf_handler_seconds_bucket{pool=\"adherence\",le=\"+Inf\"} 0\n"
    "hf_dependency_outage{pool=\"adherence\"} 1\n"
    "hf_messages_total{pool=\"we\\\"ird\",outcome=\"processed\"} 1\n";

START_TEST(prom_sums_replicas)
{
    struct admin_pools p = { 0 };
    struct hf_err err = { 0 };
    ck_assert_int_eq(admin_prom_add(&p, METRICS_A, &err), 0);
    ck_assert_msg(admin_prom_add(&p, METRICS_B, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(p.n, 2);
    const struct admin_pool_stats *s = &p.v[0];
    ck_assert_str_eq(s->pool, "adherence");
    ck_assert_int_eq(s->endpoints, 2);
    ck_assert(s->processed == 100 && s->replayed == 3 && s->dead_lettered == 2);
    ck_assert(s->failed == 4 && s->retried == 11 && s->lag == 7 && s->outage == 1);
    ck_assert_int_eq(s->n_buckets, 3);
    ck_assert(s->cum[2] == 100 && s->count == 100 && s->sum == 4.5);
    ck_assert_str_eq(p.v[1].pool, "we\"ird");
    ck_assert_int_eq(p.v[1].endpoints, 1);
    /* p50: rank 50, all in the first bucket [0, 0.01] */
    ck_assert_double_eq_tol(admin_prom_quantile(s, 0.5), 0.01, 1e-12);
    /* p70: rank 70, 20 of the 40 in (0.01, 0.1] */
    ck_assert_double_eq_tol(admin_prom_quantile(s, 0.7), 0.055, 1e-12);
    /* p95: in +Inf, answered with the last finite bound */
    ck_assert_double_eq_tol(admin_prom_quantile(s, 0.95), 0.1, 1e-12);
    ck_assert(isnan(admin_prom_quantile(&p.v[1], 0.5)));
    json_t *j = admin_prom_json(&p);
    ck_assert_uint_eq(json_array_size(j), 2);
    ck_assert(json_is_null(json_object_get(json_array_get(j, 1), "p99_s")));
    ck_assert_double_eq_tol(json_real_value(json_object_get(json_array_get(j, 0), "p50_s")), 0.01, 1e-12);
    json_decref(j);
    free(p.v);
}
END_TEST

START_TEST(prom_bad_lines)
{
    const char *bad[] = {
        "hf_messages_total{pool=\"a\",outcome=\"processed\"}\n",     /* no value */
        "hf_messages_total{pool=\"a\",outcome=\"processed\"} x\n",   /* not a number */
        "hf_messages_total{outcome=\"processed\"} 1\n",              /* no pool */
        "hf_messages_total{pool=\"a 1\n",                            /* unclosed */
        "hf_handler_seconds_bucket{pool=\"a\"} 1\n",                 /* bucket without le */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct admin_pools p = { 0 };
        struct hf_err err = { 0 };
        ck_assert_msg(admin_prom_add(&p, bad[i], &err) == HF_EINVAL, "accepted %s", bad[i]);
        ck_assert(err.msg[0]);
        free(p.v);
    }
    /* lines we do not read are skipped, however odd */
    struct admin_pools p = { 0 };
    struct hf_err err = { 0 };
    ck_assert_int_eq(admin_prom_add(&p, "other{x=\n\n# comment\nhf_messages_total 3\n", &err), 0);
    ck_assert_uint_eq(p.n, 0);
    free(p.v);
    /* more buckets than kept: refused, not mixed up */
    char many[8192] = "";
    for (int i = 0; i <= ADMIN_PROM_BUCKETS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "hf_handler_seconds_bucket{pool=\"a\",le=\"%d\"} %d\n",
                 i + 1, i);
    ck_assert_int_eq(admin_prom_add(&p, many, &err), HF_EINVAL);
    free(p.v);
}
END_TEST

START_TEST(prom_scrape_refuses_non_endpoints)
{
    const char *bad[] = { "", "host", ":80", "host:", "host:80/x", "user@host:80", "host:8o", "http://h:1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = NULL;
        struct hf_err err = { 0 };
        ck_assert_msg(admin_prom_scrape(bad[i], 100, &text, &err) == HF_EINVAL, "accepted %s", bad[i]);
        ck_assert_ptr_null(text);
    }
    char addr[8][ADMIN_PROM_ADDR];
    int n = -1;
    struct hf_err e2 = { 0 };
    ck_assert_int_eq(admin_prom_addresses("127.0.0.1:9100", addr, 8, &n, &e2), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(addr[0], "127.0.0.1:9100");
    ck_assert_int_eq(admin_prom_addresses("[::1]:9100", addr, 8, &n, &e2), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(addr[0], "[::1]:9100");
    ck_assert_int_eq(admin_prom_addresses("no-such-host.invalid:9100", addr, 8, &n, &e2), HF_EUNAVAIL);
    ck_assert_int_eq(admin_prom_addresses("host:99999999", addr, 8, &n, &e2), HF_EINVAL);
    /* nothing listens on port 1 */
    char *text = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(admin_prom_scrape("127.0.0.1:1", 500, &text, &err), HF_EUNAVAIL);
}
END_TEST

START_TEST(rates_from_samples)
{
    admin_rates *r = NULL;
    struct hf_err err = { 0 };
    ck_assert_int_eq(admin_rates_new(4, 2, &r, &err), 0);
    struct admin_rate x = admin_rates_get(r, "g", 60000);
    ck_assert_int_eq(x.samples, 0);
    /* 1000 behind; consumes 100/s while 20/s arrive */
    admin_rates_add(r, "g", 10000, 0, 1000);
    x = admin_rates_get(r, "g", 60000);
    ck_assert(x.samples == 1 && x.consumed_per_s == 0 && x.drain_s == -1);
    admin_rates_add(r, "g", 12000, 200, 1040);
    admin_rates_add(r, "g", 11000, 999, 9999); /* older than the last: ignored */
    x = admin_rates_get(r, "g", 60000);
    ck_assert_int_eq(x.samples, 2);
    ck_assert_double_eq_tol(x.consumed_per_s, 100, 1e-9);
    ck_assert_double_eq_tol(x.produced_per_s, 20, 1e-9);
    ck_assert_double_eq_tol(x.drain_s, 840.0 / 80.0, 1e-9);
    /* the window leaves the first sample out */
    admin_rates_add(r, "g", 14000, 200, 1100);
    x = admin_rates_get(r, "g", 2000);
    ck_assert(x.samples == 2 && x.consumed_per_s == 0 && x.drain_s == -1);
    /* caught up */
    admin_rates_add(r, "g", 15000, 1100, 1100);
    admin_rates_add(r, "g", 16000, 1200, 1200); /* the ring (4) drops the oldest */
    x = admin_rates_get(r, "g", 60000);
    ck_assert_int_eq(x.samples, 4);
    ck_assert(x.drain_s == 0);
    json_t *s = admin_rates_series(r, "g");
    ck_assert_uint_eq(json_array_size(s), 4);
    ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(s, 0), 0)), 12000);
    ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(s, 0), 1)), 840);
    ck_assert_double_eq_tol(json_real_value(json_array_get(json_array_get(s, 3), 2)), 100, 1e-9);
    json_decref(s);
    /* two groups kept; a third is not tracked */
    admin_rates_add(r, "h", 1, 0, 0);
    admin_rates_add(r, "i", 1, 0, 0);
    ck_assert_int_eq(admin_rates_get(r, "i", 60000).samples, 0);
    s = admin_rates_series(r, "i");
    ck_assert_uint_eq(json_array_size(s), 0);
    json_decref(s);
    admin_rates_free(r);
    admin_rates_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admin");
    TCase *tc = tcase_create("admin");
    tcase_add_test(tc, auth_bearer_and_basic);
    tcase_add_test(tc, auth_refusals);
    tcase_add_test(tc, prom_sums_replicas);
    tcase_add_test(tc, prom_bad_lines);
    tcase_add_test(tc, prom_scrape_refuses_non_endpoints);
    tcase_add_test(tc, rates_from_samples);
    suite_add_tcase(s, tc);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = unit_run(s);
    curl_global_cleanup();
    return rc;
}
