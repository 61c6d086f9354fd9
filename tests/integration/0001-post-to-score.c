/* 0001: the happy path end to end.
 *
 * POST two meals and two workouts for one program with known goals ->
 * 202 with an event_id each -> four daily_logs rows (type, payload, VERIFIED,
 * posting client) -> adherence_metrics for the day with the score worked out
 * by hand below from workers/adherence/adherence_score.c -> cache.invalidate
 * for the program on <prefix>cache.invalidate. Then a job.adherence_weekly
 * produced straight to <prefix>jobs.adherence -> one adherence_weekly row.
 *
 * Goals: calories 2000 (tolerance 10%), protein >= 100 g, carbs <= 250 g,
 * fat <= 70 g, fiber >= 30 g, sugar <= 50 g, water >= 2000 ml; 3 sessions a
 * week of 40 minutes.
 *
 * Day D (10 days ago), two meals:
 *   1100 kcal, 60 P, 150 C, 40 F, 12 fiber, 30 sugar, 800 ml
 *  + 800 kcal, 30 P, 130 C, 44 F, 12 fiber, 35 sugar, 700 ml
 *  = 1900 kcal, 90 P, 280 C, 84 F, 24 fiber, 65 sugar, 1500 ml
 * and two workouts on D: 45 and 30 minutes.
 *
 * Nutrition parts (all seven goals set, weights sum to 1):
 *   calories  |1900-2000|/2000 = 5% <= 10%        -> 1.00 x 0.35 = 0.3500
 *   protein   90/100                              -> 0.90 x 0.25 = 0.2250
 *   carbs     280 > 250: 1 - 30/250               -> 0.88 x 0.10 = 0.0880
 *   fat       84 > 70: 1 - 14/70                  -> 0.80 x 0.10 = 0.0800
 *   fiber     24/30                               -> 0.80 x 0.10 = 0.0800
 *   sugar     65 > 50: 1 - 15/50                  -> 0.70 x 0.05 = 0.0350
 *   water     1500/2000                           -> 0.75 x 0.05 = 0.0375
 *   nutrition = 0.8955 (89.55)
 * Strength over the 7 days ending on D: 2 sessions, 75 minutes
 *   sessions 2/3 = 0.666667, minutes 75/(3*40) = 0.625 -> (0.666667+0.625)/2 = 0.645833 (64.58)
 * total(D) = 0.6 * 0.8955 + 0.4 * 0.645833 = 0.5373 + 0.258333 = 0.795633 -> 79.56
 *
 * D+1 .. D+6: no meal (every nutrition part 0), the same two workouts in the
 * window: total = 0.4 * 0.645833 = 0.258333 -> 25.83. D+6 is 4 days ago, so
 * every one of the 7 days is scored; D-1 and D+7 are not touched.
 *
 * Week starting D: avg(79.56, 6 x 25.83) = 234.54 / 7 = 33.5057 -> 33.51;
 * all 7 days have a workout in their window -> days_logged 7; best day D,
 * worst day D+1 (lowest score, earliest).
 */
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

static const char *const NUTRITION_GOALS =
    "{\"calories\": 2000, \"calorie_tolerance_pct\": 10, \"protein_g_min\": 100, \"carbs_g_max\": 250,"
    " \"fat_g_max\": 70, \"fiber_g_min\": 30, \"sugar_g_max\": 50, \"water_ml_min\": 2000}";
static const char *const STRENGTH_GOALS = "{\"sessions_per_week\": 3, \"minutes_per_session\": 40}";

struct posted {
    char event_id[37];
    const char *log_type;
    char logged_at[40];   /* as daily_logs.logged_at should read, UTC ISO */
    char payload[1024];   /* the JSONB daily_logs.payload should equal */
};

static const msgpack_object *mp_get(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static bool mp_str_is(const msgpack_object *map, const char *key, const char *want)
{
    const msgpack_object *v = mp_get(map, key);
    return v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == strlen(want) &&
           memcmp(v->via.str.ptr, want, v->via.str.size) == 0;
}

static bool mp_int_is(const msgpack_object *map, const char *key, long long want)
{
    const msgpack_object *v = mp_get(map, key);
    return v && (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) &&
           v->via.i64 == want;
}

/* Number of cache.invalidate records for (program, kind, date) in `rs`;
 * also asserts every record keyed by the program carries the right headers. */
static int invalidations(const struct it_records *rs, long long program, const char *kind, const char *date)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", program);
    int found = 0;
    for (int i = 0; i < rs->n; i++) {
        const struct it_record *r = &rs->v[i];
        if (!r->key || strcmp(r->key, key) != 0)
            continue;
        const char *schema = it_header(r, "hf-schema"), *version = it_header(r, "hf-version");
        ck_assert_msg(schema && strcmp(schema, "cache.invalidate") == 0, "record %d: hf-schema is %s", i,
                      schema ? schema : "(none)");
        ck_assert_msg(version && strcmp(version, "1") == 0, "record %d: hf-version is %s", i,
                      version ? version : "(none)");
        ck_assert_msg(it_header(r, "hf-event-id") != NULL, "record %d has no hf-event-id", i);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        ck_assert_msg(r->value && msgpack_unpack_next(&u, r->value, r->len, &off) == MSGPACK_UNPACK_SUCCESS,
                      "cache.invalidate record at partition %d offset %lld: its value (%zu bytes) is not msgpack",
                      (int)r->partition, (long long)r->offset, r->len);
        const msgpack_object *m = &u.data;
        if (mp_str_is(m, "entity", "program") && mp_int_is(m, "entity_id", program) && mp_str_is(m, "kind", kind) &&
            mp_str_is(m, "date", date) && mp_get(m, "at") && mp_get(m, "event_id"))
            found++;
        msgpack_unpacked_destroy(&u);
    }
    return found;
}

/* Reads <prefix>cache.invalidate until, for the program, every day D..D+6
 * has an "adherence" invalidation and the week an "adherence_weekly" one
 * (exactly one: the weekly job ran once). Returns "" or what is missing. */
/* The adherence of the 7 days D..D+6 is cached per program week: one
 * invalidation per week they meet, named by its Monday, none per day. */
static const char *wait_invalidations(long long program, int32_t D, char day[][11], int timeout_ms)
{
    static char missing[256];
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        struct it_records rs;
        it_consume(it_topic("cache.invalidate"), 8, 5000, &rs);
        missing[0] = '\0';
        for (int i = 0; i <= 6; i++) {
            int32_t d = D + i, monday = d - (d + 3) % 7; /* 1970-01-01 was a Thursday */
            char text[11];
            it_date(text, monday);
            if (invalidations(&rs, program, "adherence", text) < 1)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " adherence/%s", text);
            if (d != monday && invalidations(&rs, program, "adherence", day[i + 1]) > 0)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " (a day's own: %s)",
                         day[i + 1]);
        }
        int weekly = invalidations(&rs, program, "adherence_weekly", day[1]);
        if (weekly != 1)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " adherence_weekly/%s x%d", day[1],
                     weekly);
        it_records_free(&rs);
        if (!missing[0] || it_now_ms() >= deadline)
            return missing;
        it_sleep_ms(100);
    }
}

START_TEST(post_to_score)
{
    struct it_client c;
    it_make_client(&c, "app");
    long long user = it_make_user(c.id, "u");
    long long member = it_make_member(user, "Ada");
    long long program = it_make_program(member, -30, NUTRITION_GOALS, STRENGTH_GOALS);
    int port, metrics;
    it_start_pool("adherence", &metrics, NULL);
    it_start_intake(&port, NULL);

    const int32_t D = it_day(-10);
    char day[7 + 2][11];
    for (int i = -1; i <= 7; i++)
        it_date(day[i + 1], D + i);
#define DAY(i) day[(i) + 1]

    struct posted ev[4];
    char ts[32], body[2048];
    /* {type, time, JSON fields} */
    static const struct {
        const char *type, *log_type;
        int hh, mm;
        const char *fields;
    } spec[4] = {
        { "log.nutrition", "NUTRITION", 8, 0,
          "\"meal\": \"breakfast\", \"calories\": 1100, \"protein_g\": 60, \"carbs_g\": 150, \"fat_g\": 40,"
          " \"fiber_g\": 12, \"sugar_g\": 30, \"water_ml\": 800, \"items\": [{\"name\": \"oats\", \"grams\": 80}]" },
        { "log.nutrition", "NUTRITION", 19, 30,
          "\"meal\": \"dinner\", \"calories\": 800, \"protein_g\": 30, \"carbs_g\": 130, \"fat_g\": 44,"
          " \"fiber_g\": 12, \"sugar_g\": 35, \"water_ml\": 700" },
        { "log.workout", "WORKOUT", 7, 0,
          "\"activity\": \"strength\", \"minutes\": 45, \"intensity\": \"moderate\", \"sets\": 12, \"reps\": 96" },
        { "log.workout", "WORKOUT", 18, 0, "\"activity\": \"cardio\", \"minutes\": 30" },
    };
    for (int i = 0; i < 4; i++) {
        it_ts(ts, D, spec[i].hh, spec[i].mm, 0);
        snprintf(body, sizeof body,
                 "{\"type\": \"%s\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\", %s}",
                 spec[i].type, member, program, ts, spec[i].fields);
        struct it_http r;
        it_post(&r, port, "/v1/events", c.key, body, NULL);
        ck_assert_msg(r.status == 202, "event %d: status %ld: %s", i, r.status, r.body);
        const char *id = json_string_value(json_object_get(r.json, "event_id"));
        const char *status = json_string_value(json_object_get(r.json, "status"));
        ck_assert_msg(id && strlen(id) == 36, "event %d: no event_id in %s", i, r.body);
        ck_assert_msg(status && strcmp(status, "accepted") == 0, "event %d: %s", i, r.body);
        snprintf(ev[i].event_id, sizeof ev[i].event_id, "%s", id);
        it_http_free(&r);
        ev[i].log_type = spec[i].log_type;
        char at[40];
        snprintf(at, sizeof at, "%sT%02d:%02d:00.000000Z", DAY(0), spec[i].hh, spec[i].mm);
        snprintf(ev[i].logged_at, sizeof ev[i].logged_at, "%s", at);
        snprintf(ev[i].payload, sizeof ev[i].payload,
                 "{\"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\", %s}", member, program, at,
                 spec[i].fields);
    }
    it_note("posted 4 events");

    /* daily_logs: one row per event, exactly as posted. */
    bool ok;
    long long rows = -1;
    IT_WAIT_FOR(ok, it_sql_int_try(&rows, "SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) && rows == 4,
                30000);
    ck_assert_msg(ok, "daily_logs has %lld rows for member %lld, want 4", rows, member);
    it_note("4 daily_logs rows");
    for (int i = 0; i < 4; i++) {
        PGresult *res = it_sql_result(
            "SELECT log_type, status, source_client, member_id, program_id,"
            " to_char(logged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
            " payload = '%s'::jsonb, payload::text, deleted_at IS NULL FROM daily_logs WHERE event_id = '%s'",
            ev[i].payload, ev[i].event_id);
        ck_assert_int_eq(PQntuples(res), 1);
        ck_assert_str_eq(PQgetvalue(res, 0, 0), ev[i].log_type);
        ck_assert_str_eq(PQgetvalue(res, 0, 1), "VERIFIED");
        ck_assert_int_eq(atoll(PQgetvalue(res, 0, 2)), c.id);
        ck_assert_int_eq(atoll(PQgetvalue(res, 0, 3)), member);
        ck_assert_int_eq(atoll(PQgetvalue(res, 0, 4)), program);
        ck_assert_str_eq(PQgetvalue(res, 0, 5), ev[i].logged_at);
        ck_assert_msg(strcmp(PQgetvalue(res, 0, 6), "t") == 0, "event %d: payload %s, want %s", i,
                      PQgetvalue(res, 0, 7), ev[i].payload);
        ck_assert_str_eq(PQgetvalue(res, 0, 8), "t");
        PQclear(res);
        ck_assert_int_eq(it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 'adherence' AND event_id = '%s'",
                                    ev[i].event_id),
                         1);
    }

    /* adherence_metrics: D and the six days after it, with the scores above. */
    char score_d[32] = "";
    IT_WAIT_FOR(ok,
                (it_sql_text(score_d, sizeof score_d,
                             "SELECT coalesce((SELECT total_score::text FROM adherence_metrics WHERE program_id = %lld"
                             " AND date = '%s'), '') || '/' || (SELECT count(*) FROM adherence_metrics"
                             " WHERE program_id = %lld AND total_score = 25.83)",
                             program, DAY(0), program),
                 strcmp(score_d, "79.56/6") == 0),
                30000);
    ck_assert_msg(ok, "adherence for %s and the 6 days after: %s, want 79.56/6", DAY(0), score_d);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM adherence_metrics WHERE program_id = %lld", program), 7);
    for (int i = 1; i <= 6; i++) {
        char s[32];
        it_sql_text(s, sizeof s, "SELECT total_score::text FROM adherence_metrics WHERE program_id = %lld AND date = '%s'",
                    program, DAY(i));
        ck_assert_msg(strcmp(s, "25.83") == 0, "day D+%d scored %s, want 25.83", i, s);
    }
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM adherence_metrics WHERE program_id = %lld AND date IN ('%s', '%s')",
                                program, DAY(-1), DAY(7)),
                     0);
    char details[2048];
    it_sql_text(details, sizeof details,
                "SELECT concat_ws('|', details->>'meals', details->>'sessions_7d',"
                " trim_scale((details->'nutrition'->>'score')::numeric), trim_scale((details->'strength'->>'score')::numeric),"
                " trim_scale((details->'nutrition'->'parts'->'calories'->>'actual')::numeric),"
                " trim_scale((details->'nutrition'->'parts'->'fat'->>'score')::numeric),"
                " trim_scale((details->'strength'->'parts'->'minutes_7d'->>'actual')::numeric))"
                " FROM adherence_metrics WHERE program_id = %lld AND date = '%s'",
                program, DAY(0));
    ck_assert_str_eq(details, "2|2|89.55|64.58|1900|80|75");
    it_note("adherence_metrics: %s = 79.56, 6 days = 25.83", DAY(0));

    /* job.adherence_weekly straight to the jobs topic. */
    char job_id[37], key[24];
    it_uuid4(job_id);
    snprintf(key, sizeof key, "%lld", program);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    it_pack_kv_str(&pk, "event_id", job_id);
    it_pack_kv_int(&pk, "program_id", program);
    it_pack_kv_str(&pk, "week_start", DAY(0));
    const struct it_kv h[] = { { "hf-schema", "job.adherence_weekly" }, { "hf-version", "1" },
                               { "hf-event-id", job_id } };
    it_produce(it_topic("jobs.adherence"), key, sb.data, sb.size, h, 3, NULL, NULL);
    msgpack_sbuffer_destroy(&sb);
    long long weekly = -1;
    IT_WAIT_FOR(ok,
                it_sql_int_try(&weekly, "SELECT count(*) FROM adherence_weekly WHERE program_id = %lld AND week_start = '%s'",
                               program, DAY(0)) && weekly == 1,
                20000);
    ck_assert_msg(ok, "no adherence_weekly row for program %lld week %s", program, DAY(0));
    char week[512], want[512];
    it_sql_text(week, sizeof week,
                "SELECT concat_ws('|', avg_score::text, days_logged, details->>'days', details->>'best_day',"
                " details->>'worst_day', details->'daily'->>'%s', details->'daily'->>'%s')"
                " FROM adherence_weekly WHERE program_id = %lld AND week_start = '%s'",
                DAY(0), DAY(6), program, DAY(0));
    snprintf(want, sizeof want, "33.51|7|7|%s|%s|79.56|25.83", DAY(0), DAY(1));
    ck_assert_str_eq(week, want);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM adherence_weekly WHERE program_id = %lld", program), 1);
    ck_assert_int_eq(
        it_sql_int("SELECT count(*) FROM processed_events WHERE pool = 'adherence' AND event_id = '%s'", job_id), 1);
    it_note("adherence_weekly: 33.51, 7 days logged");

    /* cache.invalidate for each program week the scored days meet, and for the weekly summary. */
    const char *missing = wait_invalidations(program, D, day, 20000);
    ck_assert_msg(!missing[0], "cache.invalidate records missing for program %lld:%s", program, missing);
    it_note("cache.invalidate seen for the weeks of the 7 days and the weekly summary");

    it_stop_all_ok();
#undef DAY
}
END_TEST

int main(void)
{
    const TTest *tests[] = { post_to_score };
    return it_run_suite("0001-post-to-score", tests, 1, 110);
}
