/* 0830: the operator dashboard (hf-admin) in a real browser: playwright-core
 * driving Debian's Chromium (tools/admin/web/e2e/dashboard.cjs) against the
 * live stack.
 *
 *  check: 20 logs consumed, a log of a missing member dead-lettered, the pool
 *  stopped, 30 more posted. The page refuses without the credential (and
 *  with a wrong one); with it, the group's lag, state and members and the
 *  dead-letter count are the numbers `hfctl lag` and `hfctl dlq list` print
 *  at that moment. A dry run from the page re-produces nothing; a confirmed
 *  replay re-produces the record: the logs topic grows by one, the record
 *  carries the original value and hf-replay-of, audit_logs names the
 *  operator, and the pool, started again, stores it.
 *
 *  load: the pool drains a backlog of 2,000 logs while the page shows the
 *  rate, counters and charts; the screenshot is saved next to the test's log
 *  (tools/admin/dashboard.png is one such).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "it_harness.h"

#define TOKEN "it-0830-operator-credential"

static int port, metrics, admin_port;
static struct it_client client;
static long long member, program;

static void post_logs(int n, int first)
{
    size_t cap = (size_t)n * 200 + 16, len = 0;
    char *body = malloc(cap);
    ck_assert_ptr_nonnull(body);
    body[len++] = '[';
    for (int i = 0; i < n; i++) {
        char ts[32];
        it_ts(ts, it_day(-((first + i) % 28) - 1), 8 + (first + i) % 12, 0, 0);
        len += (size_t)snprintf(body + len, cap - len,
                                "%s{\"type\": \"log.nutrition\", \"member_id\": %lld, \"program_id\": %lld,"
                                " \"occurred_at\": \"%s\", \"calories\": %d}",
                                i ? "," : "", member, program, ts, 300 + (first + i) % 1000);
    }
    snprintf(body + len, cap - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, body, NULL);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    it_http_free(&r);
    free(body);
}

static json_t *hfctl_json(const char *a, const char *b, const char *c)
{
    static char out[1 << 16];
    it_hfctl(out, sizeof out, a, b, c, NULL);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    ck_assert_msg(j != NULL, "hfctl %s %s printed no JSON: %s (%s)", a, b, e.text, out);
    return j;
}

/* Runs the browser script for one phase; its output goes to the log. */
static void browser(const char *phase, const char *const *extra)
{
    char url[64], node_path[700], script[700], node[64] = "/usr/bin/node";
    const char *bin_dir = getenv("HF_BIN_DIR"), *src = getenv("HF_SOURCE_DIR");
    ck_assert_msg(bin_dir && src, "HF_BIN_DIR and HF_SOURCE_DIR are set by ctest");
    ck_assert_msg(access("/usr/bin/chromium", X_OK) == 0, "no /usr/bin/chromium: run tools/install-deps");
    ck_assert_msg(access(node, X_OK) == 0, "no %s: run tools/install-deps", node);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", admin_port);
    snprintf(node_path, sizeof node_path, "NODE_PATH=%s/../admin-web-deps/node_modules", bin_dir);
    snprintf(script, sizeof script, "%s/tools/admin/web/e2e/dashboard.cjs", src);
    char url_var[96], phase_var[32];
    snprintf(url_var, sizeof url_var, "HF_ADMIN_URL=%s", url);
    snprintf(phase_var, sizeof phase_var, "PHASE=%s", phase);
    const char *env[16] = { node_path, url_var, phase_var, "HF_ADMIN_TOKEN=" TOKEN, "POOL=adherence" };
    int n = 5;
    for (int i = 0; extra && extra[i] && n < 15; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    const char *argv[] = { node, script, NULL };
    static char out[16384];
    int64_t t0 = it_now_ms();
    int rc = it_run(out, sizeof out, 60000, argv, env);
    it_note("browser phase %s (%lld ms, exit %d):\n%s", phase, (long long)(it_now_ms() - t0), rc, out);
    ck_assert_msg(rc == 0, "the browser phase %s failed:\n%s", phase, out);
}

START_TEST(dashboard_in_a_browser)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    member = it_make_member(user, "Ola");
    program = it_make_program(member, -40, "{\"calories\": 2000}", NULL);
    it_start_intake(&port, NULL);
    pid_t pool = it_start_pool("adherence", &metrics, NULL);
    char scrape[64];
    snprintf(scrape, sizeof scrape, "HF_ADMIN_SCRAPE=127.0.0.1:%d", metrics);
    const char *admin_env[] = { "HF_ADMIN_TOKEN=" TOKEN, scrape, "HF_ADMIN_SAMPLE_MS=500", NULL };
    char bin[600];
    it_start_service("hf-admin", it_bin("hf-admin", bin, sizeof bin), "HF_ADMIN_PORT", &admin_port, admin_env, 30000);

    post_logs(20, 0);
    bool ok;
    long long have = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&have, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && have == 20,
                30000);
    ck_assert_msg(ok, "%lld logs stored, want 20", have);

    /* a log of a member who does not exist yet: dead-lettered */
    const char *logs = it_topic("logs");
    char event_id[37], key[24];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    long long late = it_produce_orphan_log(client.id, event_id, &sb);
    snprintf(key, sizeof key, "%lld", late);
    IT_WAIT_FOR(ok, it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"}") == 1, 30000);
    ck_assert_msg(ok, "the log of a missing member was not dead-lettered");
    ck_assert_int_eq(it_stop(pool, 20000), 0);

    post_logs(30, 20);
    IT_WAIT_FOR(ok, it_topic_count(logs) == 51, 10000);
    ck_assert_msg(ok, "the logs topic holds %lld records, want 51", it_topic_count(logs));
    /* the member exists now, so the replayed log will be stored */
    it_sql("INSERT INTO members (id, user_id, name, relation_type) VALUES (%lld, %lld, 'Late', 'SELF')", late, user);

    /* hfctl's numbers at this moment: nothing moves while the pool is stopped */
    json_t *doc = hfctl_json("lag", "adherence", "--json");
    json_t *g = json_array_get(json_object_get(doc, "groups"), 0);
    ck_assert_ptr_nonnull(g);
    char expect_lag[48], expect_members[48], expect_state[64], expect_dlq[48], event_var[64];
    snprintf(expect_lag, sizeof expect_lag, "EXPECT_LAG=%lld", (long long)json_integer_value(json_object_get(g, "lag")));
    snprintf(expect_members, sizeof expect_members, "EXPECT_MEMBERS=%lld",
             (long long)json_integer_value(json_object_get(g, "members")));
    snprintf(expect_state, sizeof expect_state, "EXPECT_STATE=%s", json_string_value(json_object_get(g, "state")));
    ck_assert_int_eq(json_integer_value(json_object_get(g, "lag")), 30);
    json_decref(doc);
    doc = hfctl_json("dlq", "list", "--json");
    size_t i;
    json_t *t;
    long long dead = -1;
    json_array_foreach(doc, i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "pool")), "adherence") == 0)
            dead = json_integer_value(json_object_get(t, "records"));
    }
    json_decref(doc);
    ck_assert_int_eq(dead, 1);
    snprintf(expect_dlq, sizeof expect_dlq, "EXPECT_DLQ=%lld", dead);
    snprintf(event_var, sizeof event_var, "EVENT_ID=%s", event_id);
    const char *check_env[] = { expect_lag, expect_members, expect_state, expect_dlq, event_var, NULL };
    browser("check", check_env);

    ck_assert_int_eq(it_topic_count(logs), 52);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE action = 'dlq.replay'"
                                " AND actor_id = 'hf-admin:it-operator' AND target_resource LIKE '%%dlq.adherence[%%'"
                                " AND details->>'event_id' = '%s'",
                                event_id),
                     1);
    struct it_records rs = { 0 };
    ck_assert_int_eq(it_consume(logs, 52, 20000, &rs), 52);
    const struct it_record *replayed = NULL;
    for (int k = 0; k < rs.n; k++)
        if (it_header(&rs.v[k], "hf-replay-of"))
            replayed = &rs.v[k];
    ck_assert_ptr_nonnull(replayed);
    ck_assert_str_eq(replayed->key, key);
    ck_assert_uint_eq(replayed->len, sb.size);
    ck_assert(memcmp(replayed->value, sb.data, sb.size) == 0);
    it_records_free(&rs);
    msgpack_sbuffer_destroy(&sb);

    /* load: a backlog the pool drains while the page watches */
    for (int k = 0; k < 4; k++)
        post_logs(500, 100 + k * 500);
    /* on its old metrics port, which hf-admin scrapes */
    char metrics_var[48];
    snprintf(metrics_var, sizeof metrics_var, "HF_METRICS_PORT=%d", metrics);
    const char *pool_env[] = { metrics_var, NULL };
    it_start("hf-adherence", it_bin("hf-adherence", bin, sizeof bin), pool_env);
    IT_WAIT_FOR(ok, it_port_open(metrics), 30000);
    ck_assert_msg(ok, "hf-adherence does not listen on %d again", metrics);
    char screenshot[700];
    snprintf(screenshot, sizeof screenshot, "SCREENSHOT=%s/0830-dashboard.png",
             getenv("HF_IT_LOG_DIR") ? getenv("HF_IT_LOG_DIR") : ".");
    const char *load_env[] = { screenshot, NULL };
    browser("load", load_env);
    IT_WAIT_FOR(ok, it_sql_int_try(&have, "SELECT count(*) FROM daily_logs WHERE event_id = '%s'", event_id) && have == 1,
                30000);
    ck_assert_msg(ok, "the replayed log never reached daily_logs");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { dashboard_in_a_browser };
    return it_run_suite("0830-dashboard-browser", tests, 1, 115);
}
