/* 0605: an ingredient a log names gets a score.
 *
 * hf-adherence records the logs and asks (job.ingredient_score,
 * unknown_ingredient) for each ingredient named in a new log that has no
 * score yet: a symptom log's "ingredients", a meal's items. Spellings that
 * normalise alike are one ingredient; one with a score (here, stored
 * directly) and an alias of a scored food are not asked for; a name of no
 * letters is no ingredient. hf-ingredient_scoring, against the fake food
 * APIs, scores what was asked: the same scores as in 0600.
 *
 * Then the same logs again, as new events: everything named is scored now,
 * so nothing more is asked.
 */
#include "it_ingredient.h"

static int jobs_naming(const char *name)
{
    struct it_records rs;
    it_consume(it_topic("jobs.ingredients"), 0, 5000, &rs);
    int n = 0;
    for (int i = 0; i < rs.n; i++)
        n += rs.v[i].key && strcmp(rs.v[i].key, name) == 0;
    it_records_free(&rs);
    return n;
}

static void emit_logs(long long member, long long program, const char *tag)
{
    char json[1024], ts[32];
    it_ts(ts, it_day(0), 0, 30, 0);
    snprintf(json, sizeof json,
             "{\"member_id\": %lld, \"occurred_at\": \"%s\", \"symptoms\": {\"bloating\": 2},"
             " \"ingredients\": [\"Salmon, %s!\", \"known %s\", \"ALIAS %s\", \"!!!\"]}",
             member, ts, tag, tag, tag);
    it_emit("log.symptom", json);
    snprintf(json, sizeof json,
             "{\"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\", \"calories\": 420,"
             " \"items\": [{\"name\": \"salmon %s\", \"grams\": 120}, {\"name\": \"White bread (%s)\"}]}",
             member, program, ts, tag, tag);
    it_emit("log.nutrition", json);
}

START_TEST(logged_ingredients_are_scored)
{
    struct it_client client;
    it_make_client(&client, "app");
    long long member = it_make_member(it_make_user(client.id, "u"), "Ann");
    long long program = it_make_program(member, -3, "{}", "{}");
    const char *tag = it_tag();
    char salmon[96], bread[96], known[96], alias[96], food[96];
    snprintf(salmon, sizeof salmon, "salmon %s", tag);
    snprintf(bread, sizeof bread, "white bread %s", tag);
    snprintf(known, sizeof known, "known %s", tag);
    snprintf(alias, sizeof alias, "alias %s", tag);
    snprintf(food, sizeof food, "food %s", tag);
    it_sql("INSERT INTO ingredient_scores (name, blood_sugar, inflammation, gut, hormonal, overall, confidence)"
           " VALUES ('%s', 50, 30, 50, 0, 63.5, 0.3)",
           known);
    ing_scored_alias(food, alias);

    int metrics;
    ing_start_pool(&metrics);
    it_start_pool("adherence", &metrics, NULL);
    emit_logs(member, program, tag);

    ing_wait_row(salmon, 0, 30000);
    ing_wait_row(bread, 0, 30000);
    char got[128];
    ing_scores_text(got, sizeof got, salmon);
    ck_assert_str_eq(got, "50|0|50|0|72.5|0.9");
    ing_scores_text(got, sizeof got, bread);
    ck_assert_str_eq(got, "50|95|50|50|36.5|0.9");
    ck_assert_int_eq(jobs_naming(salmon), 1); /* "Salmon, <tag>!" and "salmon <tag>" are one */
    ck_assert_int_eq(jobs_naming(bread), 1);
    ck_assert_int_eq(jobs_naming(known), 0);
    ck_assert_int_eq(jobs_naming(alias), 0);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM ingredient_scores WHERE name IN ('%s', '%s')", alias, known),
                     1);
    it_note("two ingredients asked for and scored; the scored one and the alias not asked for");

    emit_logs(member, program, tag);
    bool ok;
    IT_WAIT_FOR(ok, it_sql_int("SELECT count(*) FROM daily_logs WHERE member_id = %lld", member) == 4, 30000);
    ck_assert_msg(ok, "the second pair of logs was not recorded");
    it_sleep_ms(2000); /* jobs go out right after the commit: give them the time */
    ck_assert_int_eq(jobs_naming(salmon), 1);
    ck_assert_int_eq(jobs_naming(bread), 1);
    it_note("the same ingredients logged again: nothing more asked");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { logged_ingredients_are_scored };
    return it_run_suite("0605-logged-ingredients", tests, 1, 100);
}
