/* 0002: a repeated request changes nothing.
 *
 *  A. the same event (same event_id in the body) posted twice, the second
 *     time with the id in upper case: both 202 with the same (lower-case) id;
 *  B. the same Idempotency-Key header, no event_id, posted twice: the same
 *     derived event_id both times;
 *  C. a batch of 3 posted twice with the same Idempotency-Key: the same 3
 *     event_ids, in order, both times;
 *  D. another API client using B's Idempotency-Key gets another event_id.
 *
 * Each case uses its own day, so its adherence row is its own. After the
 * repeats are consumed (the pool's replayed counter says so): one daily_logs
 * row and one processed_events row per event id, and the adherence rows
 * exactly as before the repeat, computed_at included (a replay must not even
 * rewrite them).
 *
 * Goals: calories 2000 only (tolerance 10%, falling to 0 at 50% off):
 *   A 1900 kcal: 5% off -> 100.00;  B 1500 kcal: 25% off -> 1 - 0.15/0.40 = 62.50;
 *   C 500 + 600 + 700 = 1800 kcal: 10% off -> 100.00.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static int port, metrics;
static long long member, program;
static struct it_client client;

static void nutrition(char *out, size_t outsz, int32_t day, int hh, int kcal, const char *event_id)
{
    char ts[32], id[80] = "";
    it_ts(ts, day, hh, 0, 0);
    if (event_id)
        snprintf(id, sizeof id, "\"event_id\": \"%s\", ", event_id);
    snprintf(out, outsz,
             "{%s\"type\": \"log.nutrition\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\","
             " \"calories\": %d}",
             id, member, program, ts, kcal);
}

/* POSTs one event, asserts 202, returns its event_id in out. */
static void post_one(const struct it_client *c, const char *body, const char *idem, char out[37])
{
    struct it_http r;
    it_post(&r, port, "/v1/events", c->key, body, idem);
    ck_assert_msg(r.status == 202, "status %ld: %s", r.status, r.body);
    const char *id = json_string_value(json_object_get(r.json, "event_id"));
    ck_assert_msg(id && strlen(id) == 36, "no event_id in %s", r.body);
    snprintf(out, 37, "%s", id);
    it_http_free(&r);
}

static double replayed(void)
{
    return it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"replayed\"}");
}

static double processed(void)
{
    return it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"processed\"}");
}

/* Waits until the pool has handled `n` repeats in all. */
static void wait_replayed(double n)
{
    bool ok;
    IT_WAIT_FOR(ok, replayed() == n, 30000);
    ck_assert_msg(ok, "the pool's replayed counter is %g, want %g", replayed(), n);
}

static void wait_logged(const char *event_id)
{
    bool ok;
    long long n = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&n, "SELECT count(*) FROM daily_logs WHERE event_id = '%s'", event_id) && n >= 1,
                30000);
    ck_assert_msg(ok, "event %s never reached daily_logs", event_id);
}

/* "score|details|computed_at" of the program's day. */
static void adherence(char *out, size_t outsz, int32_t day)
{
    char d[11];
    it_date(d, day);
    it_sql_text(out, outsz,
                "SELECT concat_ws('|', total_score, details::text, computed_at) FROM adherence_metrics"
                " WHERE program_id = %lld AND date = '%s'",
                program, d);
}

static void assert_once(const char *event_id)
{
    ck_assert_msg(it_sql_int("SELECT count(*) FROM daily_logs WHERE event_id = '%s'", event_id) == 1,
                  "daily_logs rows for %s: %lld, want 1", event_id,
                  it_sql_int("SELECT count(*) FROM daily_logs WHERE event_id = '%s'", event_id));
    ck_assert_msg(it_sql_int("SELECT count(*) FROM processed_events WHERE event_id = '%s'", event_id) == 1,
                  "processed_events rows for %s: %lld, want 1", event_id,
                  it_sql_int("SELECT count(*) FROM processed_events WHERE event_id = '%s'", event_id));
}

START_TEST(idempotency)
{
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    member = it_make_member(user, "Bea");
    program = it_make_program(member, -30, "{\"calories\": 2000}", NULL);
    it_start_pool("adherence", &metrics, NULL);
    it_start_intake(&port, NULL);
    const int32_t day_a = it_day(-10), day_b = it_day(-11), day_c = it_day(-12);
    char body[1024], before[2048], after[2048];

    /* A: explicit event_id, twice. */
    char given[37], upper[37], id1[37], id2[37];
    it_uuid4(given);
    for (int i = 0; i < 36; i++)
        upper[i] = (char)toupper((unsigned char)given[i]);
    upper[36] = '\0';
    nutrition(body, sizeof body, day_a, 12, 1900, given);
    post_one(&client, body, NULL, id1);
    ck_assert_str_eq(id1, given);
    wait_logged(id1);
    adherence(before, sizeof before, day_a);
    ck_assert_msg(strncmp(before, "100.00|", 7) == 0, "day A adherence: %s", before);
    nutrition(body, sizeof body, day_a, 12, 1900, upper);
    post_one(&client, body, NULL, id2);
    ck_assert_str_eq(id2, given);
    wait_replayed(1);
    assert_once(given);
    adherence(after, sizeof after, day_a);
    ck_assert_str_eq(after, before);
    it_note("A: same event_id twice -> one row, adherence untouched");

    /* B: Idempotency-Key, no event_id, twice. */
    char key_b[64], idb1[37], idb2[37];
    snprintf(key_b, sizeof key_b, "%s-meal-b", it_tag());
    nutrition(body, sizeof body, day_b, 13, 1500, NULL);
    post_one(&client, body, key_b, idb1);
    ck_assert_str_ne(idb1, given);
    wait_logged(idb1);
    adherence(before, sizeof before, day_b);
    ck_assert_msg(strncmp(before, "62.50|", 6) == 0, "day B adherence: %s", before);
    post_one(&client, body, key_b, idb2);
    ck_assert_str_eq(idb2, idb1);
    wait_replayed(2);
    assert_once(idb1);
    adherence(after, sizeof after, day_b);
    ck_assert_str_eq(after, before);
    it_note("B: same Idempotency-Key twice -> event_id %s both times, one row", idb1);

    /* C: a batch twice with the same Idempotency-Key. */
    char key_c[64], batch[4096], ids[2][3][37];
    snprintf(key_c, sizeof key_c, "%s-batch-c", it_tag());
    size_t len = (size_t)snprintf(batch, sizeof batch, "[");
    for (int i = 0; i < 3; i++) {
        nutrition(body, sizeof body, day_c, 8 + 4 * i, 500 + 100 * i, NULL);
        len += (size_t)snprintf(batch + len, sizeof batch - len, "%s%s", i ? ", " : "", body);
    }
    snprintf(batch + len, sizeof batch - len, "]");
    for (int round = 0; round < 2; round++) {
        struct it_http r;
        it_post(&r, port, "/v1/events/batch", client.key, batch, key_c);
        ck_assert_msg(r.status == 202, "batch round %d: status %ld: %s", round, r.status, r.body);
        ck_assert_int_eq(json_integer_value(json_object_get(r.json, "accepted")), 3);
        ck_assert_int_eq(json_integer_value(json_object_get(r.json, "rejected")), 0);
        const json_t *results = json_object_get(r.json, "results");
        ck_assert_int_eq(json_array_size(results), 3);
        for (int i = 0; i < 3; i++) {
            const json_t *one = json_array_get(results, (size_t)i);
            ck_assert_int_eq(json_integer_value(json_object_get(one, "index")), i);
            ck_assert_int_eq(json_integer_value(json_object_get(one, "status")), 202);
            const char *id = json_string_value(json_object_get(one, "event_id"));
            ck_assert_msg(id && strlen(id) == 36, "batch round %d item %d: %s", round, i, r.body);
            snprintf(ids[round][i], 37, "%s", id);
        }
        it_http_free(&r);
        if (round == 0) {
            ck_assert_str_ne(ids[0][0], ids[0][1]);
            ck_assert_str_ne(ids[0][1], ids[0][2]);
            ck_assert_str_ne(ids[0][0], ids[0][2]);
            for (int i = 0; i < 3; i++)
                wait_logged(ids[0][i]);
            adherence(before, sizeof before, day_c);
            ck_assert_msg(strncmp(before, "100.00|", 7) == 0, "day C adherence: %s", before);
        }
    }
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(ids[1][i], ids[0][i]);
    wait_replayed(5);
    for (int i = 0; i < 3; i++)
        assert_once(ids[0][i]);
    adherence(after, sizeof after, day_c);
    ck_assert_str_eq(after, before);
    it_note("C: batch twice with one Idempotency-Key -> same 3 event_ids, 3 rows");

    /* D: another client, B's key: another id. */
    struct it_client other;
    it_make_client(&other, "other");
    long long other_member = it_make_member(it_make_user(other.id, "u"), "Cy");
    char ts[32], idd[37];
    it_ts(ts, day_b, 14, 0, 0);
    snprintf(body, sizeof body,
             "{\"type\": \"log.nutrition\", \"member_id\": %lld, \"occurred_at\": \"%s\", \"calories\": 300}",
             other_member, ts);
    post_one(&other, body, key_b, idd);
    ck_assert_str_ne(idd, idb1);
    wait_logged(idd);
    assert_once(idd);

    /* Totals: 6 events, 5 repeats; nothing more for the member. */
    bool ok;
    IT_WAIT_FOR(ok, processed() == 6, 10000);
    ck_assert_msg(ok, "processed counter %g, want 6", processed());
    ck_assert_msg(replayed() == 5, "replayed counter %g, want 5", replayed());
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", member), 5);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM adherence_metrics WHERE program_id = %lld", program), 3);
    double dead = it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"}");
    ck_assert_msg(dead == 0, "dead_lettered counter %g, want 0", dead);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { idempotency };
    return it_run_suite("0002-idempotency", tests, 1, 110);
}
