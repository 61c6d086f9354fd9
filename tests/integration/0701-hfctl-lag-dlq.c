/* 0701: what an operator sees and does, against the real broker.
 *
 *  lag: 20 logs consumed, the pool stopped, 30 more posted: `hfctl lag
 *  adherence --json` says the group is Empty with 0 members and lag 30, and
 *  each partition's lag is its end minus its committed offset. The pool
 *  started again: lag 0, one member, which owns partitions. The pool's
 *  hf_drain_seconds is exported, and 0 without lag.
 *
 *  dlq: a valid log of a member that does not exist yet is dead-lettered.
 *  `dlq list` counts it, `dlq show` names its origin and event id and never
 *  prints the payload. `dlq replay` without --yes re-produces nothing. Once
 *  the member exists, `dlq replay --yes --actor` re-produces it (original
 *  key and value, hf-replay-of header), the pool stores it, and audit_logs
 *  records who replayed what; a second replay skips it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static int port, metrics;
static struct it_client client;
static long long member, program;

static void post_logs(int n, int first)
{
    char body[16384];
    size_t len = 0;
    body[len++] = '[';
    for (int i = 0; i < n; i++) {
        char ts[32];
        it_ts(ts, it_day(-((first + i) % 28) - 1), 8 + (first + i) % 12, 0, 0);
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "%s{\"type\": \"log.nutrition\", \"member_id\": %lld, \"program_id\": %lld,"
                                " \"occurred_at\": \"%s\", \"calories\": %d}",
                                i ? "," : "", member, program, ts, 300 + first + i);
    }
    snprintf(body + len, sizeof body - len, "]");
    struct it_http r;
    it_post(&r, port, "/v1/events/batch", client.key, body, NULL);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    it_http_free(&r);
}

static json_t *hfctl_json(const char *a, const char *b, const char *c, const char *d)
{
    static char out[1 << 16];
    it_hfctl(out, sizeof out, a, b, c, d, NULL);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    ck_assert_msg(j != NULL, "hfctl %s %s printed no JSON: %s (%s)", a, b, e.text, out);
    return j;
}

static json_t *lag_group(void)
{
    json_t *doc = hfctl_json("lag", "adherence", "--json", NULL);
    json_t *groups = json_object_get(doc, "groups");
    ck_assert_int_eq(json_array_size(groups), 1);
    json_t *g = json_incref(json_array_get(groups, 0));
    json_decref(doc);
    return g;
}

static void wait_rows(long long n)
{
    bool ok;
    long long have = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&have, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && have == n,
                30000);
    ck_assert_msg(ok, "%lld logs stored, want %lld", have, n);
}

START_TEST(lag_and_dlq)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    member = it_make_member(user, "Ola");
    program = it_make_program(member, -40, "{\"calories\": 2000}", NULL);
    it_start_intake(&port, NULL);
    pid_t pool = it_start_pool("adherence", &metrics, NULL);
    post_logs(20, 0);
    wait_rows(20);
    ck_assert_int_eq(it_stop(pool, 20000), 0);

    post_logs(30, 20);
    const char *logs = it_topic("logs");
    bool ok;
    IT_WAIT_FOR(ok, it_topic_count(logs) == 50, 10000);
    ck_assert_msg(ok, "the logs topic holds %lld records, want 50", it_topic_count(logs));
    json_t *g = lag_group();
    ck_assert_int_eq(json_integer_value(json_object_get(g, "lag")), 30);
    ck_assert_int_eq(json_integer_value(json_object_get(g, "members")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(g, "state")), "Empty");
    long long sum = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(g, "partitions"), i, p)
    {
        long long end = json_integer_value(json_object_get(p, "end")),
                  committed = json_integer_value(json_object_get(p, "committed")),
                  lag = json_integer_value(json_object_get(p, "lag"));
        ck_assert_msg(lag == end - (committed < 0 ? 0 : committed), "partition %zu: lag %lld, end %lld, committed %lld",
                      i, lag, end, committed);
        sum += lag;
    }
    ck_assert_int_eq(sum, 30);
    json_decref(g);
    it_note("lag 30 with the pool stopped, as the broker counts it");

    it_start_pool("adherence", &metrics, NULL);
    wait_rows(50);
    long long lag = -1, members = 0;
    int owned = 0;
    IT_WAIT_FOR(ok,
                (g = lag_group(), lag = json_integer_value(json_object_get(g, "lag")),
                 members = json_integer_value(json_object_get(g, "members")), json_decref(g), lag == 0 && members == 1),
                20000);
    ck_assert_msg(ok, "after the restart: lag %lld, members %lld", lag, members);
    g = lag_group();
    json_array_foreach(json_object_get(g, "partitions"), i, p) owned += json_string_length(json_object_get(p, "owner")) > 0;
    json_decref(g);
    ck_assert_int_gt(owned, 0);
    double drain = NAN;
    IT_WAIT_FOR(ok, (drain = it_metric(metrics, "hf_drain_seconds{pool=\"adherence\"}")) == 0, 10000);
    ck_assert_msg(ok, "hf_drain_seconds is %g with no lag, want 0", drain);
    ck_assert(it_metric(metrics, "hf_message_cost_seconds{pool=\"adherence\"}") > 0);
    /* The 30 logs waited while the pool was stopped: their end-to-end time counts that wait. */
    ck_assert_int_eq(it_metric(metrics, "hf_end_to_end_seconds_count{pool=\"adherence\"}"), 30);
    ck_assert(it_metric(metrics, "hf_end_to_end_seconds_sum{pool=\"adherence\"}") > 30 * 0.1);

    /* A log of a member who does not exist yet: dead-lettered. */
    char event_id[37], key[24];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    long long late = it_produce_orphan_log(client.id, event_id, &sb);
    snprintf(key, sizeof key, "%lld", late);
    IT_WAIT_FOR(ok, it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"}") == 1, 30000);
    ck_assert_msg(ok, "the log of a missing member was not dead-lettered");

    json_t *list = hfctl_json("dlq", "list", "--json", NULL);
    long long in_adherence = -1, elsewhere = 0;
    json_t *t;
    json_array_foreach(list, i, t)
    {
        long long n = json_integer_value(json_object_get(t, "records"));
        if (strcmp(json_string_value(json_object_get(t, "pool")), "adherence") == 0)
            in_adherence = n;
        else
            elsewhere += n;
    }
    ck_assert_int_eq(in_adherence, 1);
    ck_assert_int_eq(elsewhere, 0);
    json_decref(list);
    json_t *shown = hfctl_json("dlq", "show", "adherence", "--json");
    ck_assert_int_eq(json_array_size(shown), 1);
    json_t *d = json_array_get(shown, 0);
    ck_assert_str_eq(json_string_value(json_object_get(d, "origin_topic")), logs);
    ck_assert_str_eq(json_string_value(json_object_get(d, "event_id")), event_id);
    ck_assert_str_eq(json_string_value(json_object_get(d, "schema")), "log.nutrition");
    ck_assert_msg(json_string_length(json_object_get(d, "error")) > 0, "no error in the dead letter");
    char *text = json_dumps(shown, 0);
    ck_assert_msg(!strstr(text, "calories"), "dlq show printed the payload: %s", text);
    free(text);
    json_decref(shown);

    char out[8192];
    it_hfctl(out, sizeof out, "dlq", "replay", "adherence", NULL);
    ck_assert_msg(strstr(out, "would replay 1 dead letter"), "replay without --yes said: %s", out);
    ck_assert_int_eq(it_topic_count(logs), 51);

    it_sql("INSERT INTO members (id, user_id, name, relation_type) VALUES (%lld, %lld, 'Late', 'SELF')", late, user);
    it_hfctl(out, sizeof out, "dlq", "replay", "adherence", "--yes", "--actor", "it-operator", NULL);
    ck_assert_msg(strstr(out, "replayed 1 dead letter"), "replay --yes said: %s", out);
    ck_assert_int_eq(it_topic_count(logs), 52);
    IT_WAIT_FOR(ok, it_sql_int_try(&lag, "SELECT count(*) FROM daily_logs WHERE event_id = '%s'", event_id) && lag == 1,
                30000);
    ck_assert_msg(ok, "the replayed log never reached daily_logs");
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM audit_logs WHERE action = 'dlq.replay' AND actor_id = "
                                "'it-operator' AND target_resource LIKE '%%dlq.adherence[%%' AND details->>'event_id' = '%s'",
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
    ck_assert_str_eq(it_header(replayed, "hf-event-id"), event_id);
    ck_assert_ptr_null(it_header(replayed, "hf-dlq-error"));
    it_records_free(&rs);

    it_hfctl(out, sizeof out, "dlq", "replay", "adherence", "--yes", NULL);
    ck_assert_msg(strstr(out, "replayed 0 dead letter") && strstr(out, "already replayed"), "second replay said: %s",
                  out);
    ck_assert_int_eq(it_topic_count(logs), 52);
    msgpack_sbuffer_destroy(&sb);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { lag_and_dlq };
    return it_run_suite("0701-hfctl-lag-dlq", tests, 1, 110);
}
