/* 0004: poison records go to the dead-letter topic, good ones are not held up.
 *
 * With the adherence pool running, records are produced straight to
 * <prefix>logs, good and poison interleaved. Poison kinds: not msgpack, no
 * headers at all, an unknown schema version (hf-version 99), an unknown schema
 * name, a map failing validation (calories -1), a map without event_id, a null
 * value, and a valid record the database refuses (a member that does not
 * exist: a foreign-key violation found only inside the batch transaction, so
 * the runtime must isolate it one message at a time).
 *
 * Each poison record must appear once on <prefix>dlq.adherence with its
 * original key, value and headers, plus hf-dlq-error (non-empty), hf-dlq-pool,
 * and hf-dlq-topic/partition/offset naming where it came from. Every good
 * record must be in daily_logs once; the pool's dead_lettered counter must
 * equal the number of poison records, processed the number of good ones.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

enum kind {
    GOOD,
    NOT_MSGPACK,
    NO_HEADERS,
    VERSION_99,
    UNKNOWN_SCHEMA,
    INVALID,
    NO_EVENT_ID,
    NULL_VALUE,
    NO_SUCH_MEMBER,
};

static const char *const kind_names[] = { "good", "not msgpack", "no headers", "hf-version 99", "unknown schema",
                                          "calories -1", "no event_id", "null value", "member does not exist" };

struct sent {
    enum kind kind;
    char key[32];
    char event_id[37];
    msgpack_sbuffer value; /* empty for NULL_VALUE */
    bool null_value;
    const char *schema, *version; /* headers sent, NULL: none */
    int32_t partition;
    int64_t offset;
};

/* A log.nutrition (or log.workout) map, the intake's wire format. */
static void pack_log(msgpack_sbuffer *sb, const char *event_id, long long member, long long program, int32_t day,
                     int i, double calories, bool workout)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (event_id ? 1 : 0) + 5);
    if (event_id)
        it_pack_kv_str(&pk, "event_id", event_id);
    it_pack_kv_int(&pk, "member_id", member);
    it_pack_kv_int(&pk, "program_id", program);
    it_pack_kv_int(&pk, "occurred_at", it_ts_us(day, 6 + i, 15, 0));
    if (workout) {
        it_pack_kv_str(&pk, "activity", "walk");
        it_pack_kv_double(&pk, "minutes", 20 + i);
    } else {
        it_pack_kv_str(&pk, "meal", "snack");
        it_pack_kv_double(&pk, "calories", calories);
    }
}

START_TEST(poison_dlq)
{
    struct it_client c;
    it_make_client(&c, "app");
    long long member = it_make_member(it_make_user(c.id, "u"), "Gus");
    long long program = it_make_program(member, -30, "{\"calories\": 2000}", "{\"sessions_per_week\": 3}");
    int metrics;
    it_start_pool("adherence", &metrics, NULL);
    const int32_t day = it_day(-3);
    char client_id[24];
    snprintf(client_id, sizeof client_id, "%lld", c.id);

    static const enum kind order[] = { GOOD,    NOT_MSGPACK, GOOD,       NO_HEADERS, GOOD, VERSION_99,
                                       GOOD,    INVALID,     GOOD,       NO_EVENT_ID, GOOD, NULL_VALUE,
                                       GOOD,    NO_SUCH_MEMBER, GOOD,    UNKNOWN_SCHEMA, GOOD };
    enum { N = sizeof order / sizeof order[0] };
    struct sent s[N];
    int n_good = 0, n_poison = 0;
    for (int i = 0; i < N; i++) {
        struct sent *e = &s[i];
        memset(e, 0, sizeof *e);
        msgpack_sbuffer_init(&e->value);
        e->kind = order[i];
        it_uuid4(e->event_id);
        e->schema = "log.nutrition";
        e->version = "1";
        snprintf(e->key, sizeof e->key, "%lld", member);
        switch (e->kind) {
        case GOOD:
            pack_log(&e->value, e->event_id, member, program, day, i, 100 + i, i % 4 == 2);
            if (i % 4 == 2)
                e->schema = "log.workout";
            break;
        case NOT_MSGPACK:
            msgpack_sbuffer_write(&e->value, "this is not msgpack {", 21);
            snprintf(e->key, sizeof e->key, "poison-%d", i);
            break;
        case NO_HEADERS:
            pack_log(&e->value, e->event_id, member, program, day, i, 100, false);
            e->schema = e->version = NULL;
            break;
        case VERSION_99:
            pack_log(&e->value, e->event_id, member, program, day, i, 100, false);
            e->version = "99";
            break;
        case UNKNOWN_SCHEMA:
            pack_log(&e->value, e->event_id, member, program, day, i, 100, false);
            e->schema = "log.bogus";
            break;
        case INVALID:
            pack_log(&e->value, e->event_id, member, program, day, i, -1, false);
            break;
        case NO_EVENT_ID:
            pack_log(&e->value, NULL, member, program, day, i, 100, false);
            break;
        case NULL_VALUE:
            e->null_value = true;
            break;
        case NO_SUCH_MEMBER:
            /* Valid for the schema (no program), but no such member row. */
            {
                msgpack_packer pk;
                msgpack_packer_init(&pk, &e->value, msgpack_sbuffer_write);
                msgpack_pack_map(&pk, 4);
                it_pack_kv_str(&pk, "event_id", e->event_id);
                it_pack_kv_int(&pk, "member_id", 9000000000000LL);
                it_pack_kv_int(&pk, "occurred_at", it_ts_us(day, 12, 0, 0));
                it_pack_kv_double(&pk, "calories", 250);
            }
            snprintf(e->key, sizeof e->key, "9000000000000");
            break;
        }
        struct it_kv h[4];
        int nh = 0;
        if (e->schema) {
            h[nh++] = (struct it_kv){ "hf-schema", e->schema };
            h[nh++] = (struct it_kv){ "hf-version", e->version };
            h[nh++] = (struct it_kv){ "hf-event-id", e->event_id };
            h[nh++] = (struct it_kv){ "hf-client", client_id };
        }
        it_produce(it_topic("logs"), e->key, e->null_value ? NULL : e->value.data, e->value.size, h, nh,
                   &e->partition, &e->offset);
        if (e->kind == GOOD)
            n_good++;
        else
            n_poison++;
    }
    it_note("produced %d good and %d poison records", n_good, n_poison);

    /* Dead letters: one per poison record, matched by where it came from. */
    struct it_records dlq;
    it_consume(it_topic("dlq.adherence"), n_poison, 30000, &dlq);
    char problems[8192] = "";
#define PROBLEM(...) snprintf(problems + strlen(problems), sizeof problems - strlen(problems), __VA_ARGS__)
    if (dlq.n != n_poison)
        PROBLEM("\n  %d dead letters, want %d", dlq.n, n_poison);
    for (int i = 0; i < N; i++) {
        struct sent *e = &s[i];
        const struct it_record *d = NULL;
        int copies = 0;
        for (int j = 0; j < dlq.n; j++) {
            const char *t = it_header(&dlq.v[j], "hf-dlq-topic"), *p = it_header(&dlq.v[j], "hf-dlq-partition"),
                       *o = it_header(&dlq.v[j], "hf-dlq-offset");
            if (t && p && o && strcmp(t, it_topic("logs")) == 0 && atoi(p) == e->partition && atoll(o) == e->offset) {
                d = &dlq.v[j];
                copies++;
            }
        }
        const char *what = kind_names[e->kind];
        if (e->kind == GOOD) {
            if (copies)
                PROBLEM("\n  good record %d (partition %d offset %lld) was dead-lettered: %s", i, e->partition,
                        (long long)e->offset, it_header(d, "hf-dlq-error"));
            continue;
        }
        if (copies != 1) {
            PROBLEM("\n  %s (partition %d offset %lld): %d dead letters, want 1", what, e->partition,
                    (long long)e->offset, copies);
            continue;
        }
        if (!d->key || strcmp(d->key, e->key) != 0)
            PROBLEM("\n  %s: key %s, want %s", what, d->key ? d->key : "(null)", e->key);
        if (e->null_value ? d->value != NULL
                          : (!d->value || d->len != e->value.size || memcmp(d->value, e->value.data, d->len) != 0))
            PROBLEM("\n  %s: value of %zu bytes differs from the original's %zu", what, d->len, e->value.size);
        const char *error = it_header(d, "hf-dlq-error"), *pool = it_header(d, "hf-dlq-pool");
        if (!error || !*error)
            PROBLEM("\n  %s: no hf-dlq-error", what);
        if (!pool || strcmp(pool, "adherence") != 0)
            PROBLEM("\n  %s: hf-dlq-pool %s", what, pool ? pool : "(none)");
        if (!it_header(d, "hf-dlq-at") || !it_header(d, "hf-dlq-attempts"))
            PROBLEM("\n  %s: no hf-dlq-at or hf-dlq-attempts", what);
        /* The original headers travel with it. */
        const char *schema = it_header(d, "hf-schema"), *version = it_header(d, "hf-version");
        if (e->schema && (!schema || strcmp(schema, e->schema) || !version || strcmp(version, e->version)))
            PROBLEM("\n  %s: original headers lost (hf-schema %s, hf-version %s)", what, schema ? schema : "-",
                    version ? version : "-");
        if (!e->schema && schema)
            PROBLEM("\n  %s: gained an hf-schema header", what);
        /* The reason names the problem. */
        static const char *const must_say[] = { [NOT_MSGPACK] = "msgpack", [NO_HEADERS] = "header",
                                                [VERSION_99] = "99",       [UNKNOWN_SCHEMA] = "log.bogus",
                                                [INVALID] = "calories",    [NO_EVENT_ID] = "event_id",
                                                [NULL_VALUE] = "empty",    [NO_SUCH_MEMBER] = "23503" };
        if (error && !strstr(error, must_say[e->kind]))
            PROBLEM("\n  %s: hf-dlq-error \"%s\" does not mention \"%s\"", what, error, must_say[e->kind]);
        it_note("dead letter for %s: %s (attempts %s)", what, error ? error : "", it_header(d, "hf-dlq-attempts"));
    }
    it_records_free(&dlq);
    ck_assert_msg(!problems[0], "dead letters wrong:%s", problems);

    /* Every good record landed once; nothing else did. */
    bool ok;
    long long rows = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&rows, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) &&
                        rows == n_good,
                30000);
    ck_assert_msg(ok, "daily_logs has %lld rows for the member, want %d", rows, n_good);
    for (int i = 0; i < N; i++) {
        long long want = s[i].kind == GOOD ? 1 : 0;
        long long got = it_sql_int("SELECT count(*) FROM daily_logs WHERE event_id = '%s'", s[i].event_id);
        ck_assert_msg(got == want, "record %d (%s): %lld daily_logs rows, want %lld", i, kind_names[s[i].kind], got,
                      want);
        if (s[i].kind == GOOD)
            ck_assert_int_eq(it_sql_int("SELECT source_client FROM daily_logs WHERE event_id = '%s'", s[i].event_id),
                             c.id);
    }
    double dead = NAN, processed = NAN;
    IT_WAIT_FOR(ok,
                (dead = it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"dead_lettered\"}")) ==
                        n_poison &&
                    (processed = it_metric(metrics, "hf_messages_total{pool=\"adherence\",outcome=\"processed\"}")) ==
                        n_good,
                10000);
    ck_assert_msg(ok, "pool counters: dead_lettered %g (want %d), processed %g (want %d)", dead, n_poison, processed,
                  n_good);
    ck_assert_int_eq(it_topic_count(it_topic("dlq.adherence")), n_poison);
    it_note("%d dead letters, %d good records in daily_logs", n_poison, n_good);
    for (int i = 0; i < N; i++)
        msgpack_sbuffer_destroy(&s[i].value);
    it_stop_all_ok();
#undef PROBLEM
}
END_TEST

int main(void)
{
    const TTest *tests[] = { poison_dlq };
    return it_run_suite("0004-poison-dlq", tests, 1, 110);
}
