/* Unit tests of common/hf_metrics: exact Prometheus text, histogram buckets
 * and quantiles, collectors, NULL safety, and lock-free updates from threads. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hf_metrics.h"
#include "unit_util.h"

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static char *render(hf_metrics *m)
{
    size_t len = 12345;
    char *text = hf_metrics_render(m, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, strlen(text));
    return text;
}

START_TEST(test_counter_and_gauge_text)
{
    hf_metrics *m = hf_metrics_new();
    ck_assert_ptr_nonnull(m);
    hf_metric *a = hf_metrics_counter(m, "hf_messages_total", "Messages handled.", "pool=\"a\",outcome=\"ok\"");
    hf_metric *g = hf_metrics_gauge(m, "hf_inflight", "Messages in flight.", "");
    hf_metric *b = hf_metrics_counter(m, "hf_messages_total", "Messages handled.", "pool=\"b\",outcome=\"ok\"");
    hf_metric *z = hf_metrics_counter(m, "hf_restarts_total", "Restarts.", NULL);
    ck_assert(a && g && b && z);
    hf_metric_add(a, 3);
    hf_metric_add(a, 4);
    hf_metric_add(b, 5);
    hf_metric_set(g, 42.5);
    ck_assert_uint_eq(hf_metric_count(a), 7);
    ck_assert_uint_eq(hf_metric_count(b), 5);
    ck_assert_uint_eq(hf_metric_count(z), 0);
    ck_assert_double_eq(hf_metric_value(g), 42.5);

    char *text = render(m);
    ck_assert_str_eq(text, "# HELP hf_messages_total Messages handled.\n"
                           "# TYPE hf_messages_total counter\n"
                           "hf_messages_total{pool=\"a\",outcome=\"ok\"} 7\n"
                           "hf_messages_total{pool=\"b\",outcome=\"ok\"} 5\n"
                           "# HELP hf_inflight Messages in flight.\n"
                           "# TYPE hf_inflight gauge\n"
                           "hf_inflight 42.5\n"
                           "# HELP hf_restarts_total Restarts.\n"
                           "# TYPE hf_restarts_total counter\n"
                           "hf_restarts_total 0\n");
    ck_assert_uint_eq(occurrences(text, "# HELP hf_messages_total"), 1);
    ck_assert_uint_eq(occurrences(text, "# TYPE hf_messages_total"), 1);
    free(text);

    /* a gauge is set, not added; values render exactly */
    hf_metric_set(g, -3);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\nhf_inflight -3\n"));
    free(text);
    hf_metric_set(g, 0.25);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\nhf_inflight 0.25\n"));
    free(text);
    hf_metric_set(g, 1234567890123.0);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\nhf_inflight 1234567890123\n"));
    free(text);

    hf_metric_add(a, UINT64_C(18446744073709551000) - 7);
    text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "hf_messages_total{pool=\"a\",outcome=\"ok\"} 18446744073709551000\n"));
    free(text);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_three_label_sets_apart)
{
    hf_metrics *m = hf_metrics_new();
    hf_metrics_counter(m, "x_total", "X.", "p=\"1\"");
    hf_metrics_gauge(m, "y", "Y.", "");
    hf_metrics_counter(m, "x_total", "X.", "p=\"2\"");
    hf_metrics_gauge(m, "z", "Z.", "");
    hf_metrics_counter(m, "x_total", "X.", "p=\"3\"");
    hf_metrics_gauge(m, "y", "Y.", "q=\"1\"");
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP x_total X.\n# TYPE x_total counter\n"
                           "x_total{p=\"1\"} 0\nx_total{p=\"2\"} 0\nx_total{p=\"3\"} 0\n"
                           "# HELP y Y.\n# TYPE y gauge\ny 0\ny{q=\"1\"} 0\n"
                           "# HELP z Z.\n# TYPE z gauge\nz 0\n");
    free(text);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_text)
{
    hf_metrics *m = hf_metrics_new();
    hf_metric *h = hf_metrics_histogram(m, "hf_handle_seconds", "Handling time.", "pool=\"a\"");
    hf_metric_observe(h, 0.003);
    hf_metric_observe(h, 0.005); /* on a bound: counted in that bucket (le is inclusive) */
    hf_metric_observe(h, 0.02);
    hf_metric_observe(h, 0.7);
    hf_metric_observe(h, 40); /* past the last bound: only +Inf */
    ck_assert_uint_eq(hf_metric_count(h), 5);
    ck_assert_double_eq_tol(hf_metric_value(h), 40.728, 1e-9);
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP hf_handle_seconds Handling time.\n"
                           "# TYPE hf_handle_seconds histogram\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.0005\"} 0\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.001\"} 0\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.0025\"} 0\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.005\"} 2\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.0075\"} 2\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.01\"} 2\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.015\"} 2\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.02\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.025\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.03\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.04\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.05\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.075\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.1\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.15\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.25\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"0.5\"} 3\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"1\"} 4\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"2.5\"} 4\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"5\"} 4\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"10\"} 4\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"30\"} 4\n"
                           "hf_handle_seconds_bucket{pool=\"a\",le=\"+Inf\"} 5\n"
                           "hf_handle_seconds_sum{pool=\"a\"} 40.728\n"
                           "hf_handle_seconds_count{pool=\"a\"} 5\n");
    free(text);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_histogram_unlabelled_and_cumulative)
{
    hf_metrics *m = hf_metrics_new();
    hf_metric *h = hf_metrics_histogram(m, "h_seconds", "H.", "");
    hf_metric *h2 = hf_metrics_histogram(m, "h_seconds", "H.", "pool=\"b\"");
    char *text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\nh_seconds_bucket{le=\"0.0005\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nh_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nh_seconds_bucket{pool=\"b\",le=\"+Inf\"} 0\n"));
    ck_assert_uint_eq(occurrences(text, "# TYPE h_seconds histogram\n"), 1);
    free(text);

    /* one observation in every bucket: bucket k holds k+1 cumulatively */
    const double at[] = { 0.0001, 0.0007, 0.002, 0.004, 0.007, 0.02, 0.04, 0.07, 0.2, 0.4,
                          0.7,    2,      4,     7,     11 };
    for (size_t i = 0; i < 15; i++)
        hf_metric_observe(h, at[i]);
    text = render(m);
    const char *le[] = { "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf" };
    for (size_t i = 0; i < 15; i++) {
        char line[80];
        snprintf(line, sizeof line, "\nh_seconds_bucket{le=\"%s\"} %zu\n", le[i], i + 1);
        ck_assert_msg(strstr(text, line) != NULL, "missing %s", line + 1);
    }
    ck_assert_ptr_nonnull(strstr(text, "\nh_seconds_count 15\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nh_seconds_count{pool=\"b\"} 0\n"));
    free(text);
    ck_assert_uint_eq(hf_metric_count(h2), 0);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_quantile)
{
    hf_metrics *m = hf_metrics_new();
    hf_metric *h = hf_metrics_histogram(m, "q_seconds", "Q.", "");
    ck_assert_double_eq(hf_metric_quantile(h, 0.5), 0); /* empty */

    for (int i = 0; i < 10; i++)
        hf_metric_observe(h, 0.003); /* all in (0.0025, 0.005] */
    double q50 = hf_metric_quantile(h, 0.5), q99 = hf_metric_quantile(h, 0.99);
    ck_assert_msg(q50 > 0.0025 && q50 <= 0.005, "p50 %g within its bucket", q50);
    ck_assert_double_eq_tol(q50, 0.00375, 1e-12);
    ck_assert_double_eq_tol(q99, 0.0025 + 0.0025 * 0.99, 1e-12);
    ck_assert_double_eq_tol(hf_metric_quantile(h, 1.0), 0.005, 1e-12);
    ck_assert_double_eq_tol(hf_metric_quantile(h, 0.0), 0.0025, 1e-12);

    for (int i = 0; i < 10; i++)
        hf_metric_observe(h, 0.7); /* in (0.5, 1] */
    ck_assert_double_eq_tol(hf_metric_quantile(h, 0.5), 0.005, 1e-12);
    double q90 = hf_metric_quantile(h, 0.9);
    ck_assert_msg(q90 > 0.5 && q90 <= 1, "p90 %g within (0.5, 1]", q90);
    ck_assert_double_eq_tol(q90, 0.5 + 0.5 * (18.0 - 10.0) / 10.0, 1e-12);

    /* past the last bound: the estimate stops at 30 s */
    hf_metric *slow = hf_metrics_histogram(m, "slow_seconds", "S.", "");
    hf_metric_observe(slow, 40);
    hf_metric_observe(slow, 50);
    ck_assert_double_eq(hf_metric_quantile(slow, 0.5), 30);
    ck_assert_double_eq(hf_metric_quantile(slow, 0.99), 30);

    /* the first bucket starts at 0 */
    hf_metric *fast = hf_metrics_histogram(m, "fast_seconds", "F.", "");
    for (int i = 0; i < 4; i++)
        hf_metric_observe(fast, 0.0001);
    ck_assert_double_eq_tol(hf_metric_quantile(fast, 0.5), 0.00025, 1e-12);
    hf_metrics_free(m);
}
END_TEST

struct collector_state {
    int calls;
    size_t big;
};

static void collect(void *arg, char **buf, size_t *len, size_t *cap)
{
    struct collector_state *st = arg;
    st->calls++;
    hf_metrics_appendf(buf, len, cap, "# HELP hf_consumer_lag Messages behind.\n# TYPE hf_consumer_lag gauge\n");
    hf_metrics_appendf(buf, len, cap, "hf_consumer_lag{topic=\"%s\",partition=\"%d\"} %d\n", "hf.logs", 3, 12);
    if (st->big) {
        char *filler = malloc(st->big + 1);
        memset(filler, 'x', st->big);
        filler[st->big] = '\0';
        hf_metrics_appendf(buf, len, cap, "# %s\n", filler);
        free(filler);
    }
}

START_TEST(test_collector)
{
    hf_metrics *m = hf_metrics_new();
    hf_metric *c = hf_metrics_counter(m, "hf_a_total", "A.", "");
    hf_metric_add(c, 1);
    struct collector_state st = { 0, 0 };
    ck_assert_int_eq(hf_metrics_add_collector(m, collect, &st), 0);
    char *text = render(m);
    ck_assert_str_eq(text, "# HELP hf_a_total A.\n# TYPE hf_a_total counter\nhf_a_total 1\n"
                           "# HELP hf_consumer_lag Messages behind.\n# TYPE hf_consumer_lag gauge\n"
                           "hf_consumer_lag{topic=\"hf.logs\",partition=\"3\"} 12\n");
    size_t small_len = strlen(text);
    free(text);
    ck_assert_int_eq(st.calls, 1);

    /* the buffer grows past its first size for long output */
    st.big = 100000;
    text = render(m);
    ck_assert_int_eq(st.calls, 2);
    ck_assert_uint_eq(strlen(text), small_len + 100000 + 3);
    ck_assert_ptr_nonnull(strstr(text, "12\n# xxx"));
    ck_assert(text[strlen(text) - 1] == '\n');
    free(text);

    /* at most 8 collectors */
    for (int i = 1; i < 8; i++)
        ck_assert_int_eq(hf_metrics_add_collector(m, collect, &st), 0);
    ck_assert_int_eq(hf_metrics_add_collector(m, collect, &st), -1);
    st.big = 0;
    st.calls = 0;
    text = render(m);
    ck_assert_int_eq(st.calls, 8);
    ck_assert_uint_eq(occurrences(text, "hf_consumer_lag{"), 8);
    free(text);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_appendf)
{
    size_t len = 0, cap = 4;
    char *buf = malloc(cap);
    buf[0] = '\0';
    hf_metrics_appendf(&buf, &len, &cap, "%s=%d;", "alpha", 1);
    hf_metrics_appendf(&buf, &len, &cap, "%s", "");
    hf_metrics_appendf(&buf, &len, &cap, "%s=%d;", "beta", 22);
    ck_assert_str_eq(buf, "alpha=1;beta=22;");
    ck_assert_uint_eq(len, 16);
    ck_assert_uint_gt(cap, len);
    free(buf);

    char *none = NULL; /* after an allocation failure: a no-op */
    len = cap = 0;
    hf_metrics_appendf(&none, &len, &cap, "x");
    ck_assert_ptr_null(none);
}
END_TEST

START_TEST(test_null_safe)
{
    hf_metric_add(NULL, 1);
    hf_metric_set(NULL, 1.5);
    hf_metric_observe(NULL, 0.1);
    ck_assert_uint_eq(hf_metric_count(NULL), 0);
    ck_assert_double_eq(hf_metric_value(NULL), 0);
    ck_assert_double_eq(hf_metric_quantile(NULL, 0.5), 0);
    ck_assert_ptr_null(hf_metrics_counter(NULL, "a_total", "A.", ""));
    ck_assert_ptr_null(hf_metrics_gauge(NULL, "a", "A.", ""));
    ck_assert_ptr_null(hf_metrics_histogram(NULL, "a_seconds", "A.", ""));
    hf_metrics_free(NULL);

    hf_metrics *m = hf_metrics_new(); /* nothing registered: empty text */
    size_t len = 99;
    char *text = hf_metrics_render(m, &len);
    ck_assert_str_eq(text, "");
    ck_assert_uint_eq(len, 0);
    free(text);
    text = hf_metrics_render(m, NULL);
    ck_assert_str_eq(text, "");
    free(text);
    hf_metrics_free(m);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

enum { THREADS = 4, PER_THREAD = 100000 };

struct worker {
    hf_metric *counter, *hist, *gauge;
    hf_metrics *m;
    int id;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        hf_metric_add(w->counter, 1);
        hf_metric_observe(w->hist, 0.5); /* exact in binary: the sum is exact too */
        hf_metric_set(w->gauge, w->id);
    }
    return NULL;
}

static void *register_many(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 50; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "t=\"%d\",i=\"%d\"", w->id, i);
        hf_metric_add(hf_metrics_counter(w->m, i % 2 ? "odd_total" : "even_total", "Registered.", labels), 1);
    }
    return NULL;
}

START_TEST(test_concurrent_updates)
{
    hf_metrics *m = hf_metrics_new();
    hf_metric *c = hf_metrics_counter(m, "hf_c_total", "C.", "");
    hf_metric *h = hf_metrics_histogram(m, "hf_h_seconds", "H.", "");
    hf_metric *g = hf_metrics_gauge(m, "hf_g", "G.", "");
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ c, h, g, m, i + 1 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) { /* rendering while others update */
        char *text = hf_metrics_render(m, NULL);
        ck_assert_ptr_nonnull(text);
        free(text);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_uint_eq(hf_metric_count(c), (uint64_t)THREADS * PER_THREAD);
    ck_assert_uint_eq(hf_metric_count(h), (uint64_t)THREADS * PER_THREAD);
    ck_assert_double_eq(hf_metric_value(h), 0.5 * THREADS * PER_THREAD);
    double gv = hf_metric_value(g);
    ck_assert_msg(gv >= 1 && gv <= THREADS && gv == floor(gv), "gauge holds one thread's value: %g", gv);
    char *text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "\nhf_c_total 400000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nhf_h_seconds_bucket{le=\"0.25\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nhf_h_seconds_bucket{le=\"0.5\"} 400000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nhf_h_seconds_bucket{le=\"+Inf\"} 400000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nhf_h_seconds_sum 200000\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nhf_h_seconds_count 400000\n"));
    free(text);
    hf_metrics_free(m);
}
END_TEST

START_TEST(test_concurrent_registration)
{
    hf_metrics *m = hf_metrics_new();
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){ NULL, NULL, NULL, m, i + 1 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, register_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = render(m);
    ck_assert_uint_eq(occurrences(text, "\neven_total{"), (size_t)THREADS * 25);
    ck_assert_uint_eq(occurrences(text, "\nodd_total{"), (size_t)THREADS * 25);
    ck_assert_uint_eq(occurrences(text, "} 1\n"), (size_t)THREADS * 50);
    ck_assert_uint_eq(occurrences(text, "# HELP even_total"), 1);
    ck_assert_uint_eq(occurrences(text, "# HELP odd_total"), 1);
    free(text);
    hf_metrics_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_counter_and_gauge_text);
    tcase_add_test(tc, test_three_label_sets_apart);
    tcase_add_test(tc, test_histogram_text);
    tcase_add_test(tc, test_histogram_unlabelled_and_cumulative);
    tcase_add_test(tc, test_quantile);
    tcase_add_test(tc, test_collector);
    tcase_add_test(tc, test_appendf);
    tcase_add_test(tc, test_null_safe);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_concurrent_updates);
    tcase_add_test(tc, test_concurrent_registration);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(metrics_suite());
}
