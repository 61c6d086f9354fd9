/* 0600: job.ingredient_score -> fetched, merged, scored, stored, invalidated.
 *
 * hf-ingredient_scoring against fake-food-apis (the real FDC and OFF shapes;
 * catalogue in tests/fake_food_apis). Each name carries the test's tag, so
 * runs do not share rows. Scores worked out by hand from 002's rules
 * (workers/ingredient_scoring/ingredient_rules.c), per 100 g:
 *
 * salmon: USDA fiber 0, sugars 0, sat 3.05, trans 0, omega-3 0.107 + 0.862 +
 *   1.104 = 2.073, omega-6 0.592, vit C 3.9, vit E 3.55; OFF 206 kcal vs
 *   USDA 208 (agree).
 *   blood sugar 50 (nothing fires); inflammation 30 - 10 (ratio 0.29 < 2)
 *   - 20 (omega-3 rich) = 0; gut 50; hormonal 0;
 *   overall .3*50 + .3*100 + .25*50 + .15*100 = 72.5; confidence high 0.9.
 * white bread: USDA fiber 2.4, sugars 5.34, sat 0.72, omega-6 1.47 /
 *   omega-3 0.12 = 12.25; the name and OFF's "wheat flour, ..., sugar" make
 *   it refined grains and refined sugar.
 *   blood sugar 50 (5.34 g sugars <= 10); inflammation 30 + 40 + 15 + 10 =
 *   95; gut 50; hormonal 50 (refined carbs: high insulin);
 *   overall 15 + 1.5 + 12.5 + 7.5 = 36.5; USDA 266 vs OFF 265 kcal: high 0.9.
 * diet cola: no USDA food; OFF: E950 + E951 (sweeteners), caffeine.
 *   blood sugar 50; inflammation 30 + 10 = 40; gut 50 - 20 = 30; hormonal 25
 *   (caffeine: moderate cortisol); overall 15 + 18 + 7.5 + 11.25 = 51.75;
 *   Open Food Facts only: low 0.3.
 * an unknown food: nothing anywhere: 50 / 30 / 50 / 0 -> 63.5, low 0.3.
 * "Bananas": an alias of the curated table's banana (0003), whose GI is 51
 *   (0008) and fiber 2.6, sugars 12.23; neither API knows it.
 *   blood sugar 50 + 39 - 29 x 16/20 = 65.8; inflammation 30; gut 50 + 15
 *   (prebiotic) = 65; hormonal 25 (medium GI: moderate insulin); overall
 *   19.74 + 21 + 16.25 + 11.25 = 68.24; 2 of the 8 rule nutrients: low 0.3.
 * "!!!" has no letters: dead-lettered, nothing stored. "ÉCLAIR" is stored
 * under PostgreSQL's lower() of it.
 *
 * Then: the same job again (unknown_ingredient) is a no-op while the score
 * is fresh (no API call, scored_at unchanged); an app_request rescores, from
 * the answers cached in Redis (no API call, fetched_at unchanged).
 */
#include <time.h>

#include "it_ingredient.h"

static long long wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int invalidations(long long id)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", id);
    struct it_records rs;
    it_consume(it_topic("cache.invalidate"), 1, 5000, &rs);
    int n = 0;
    for (int i = 0; i < rs.n; i++) {
        const struct it_record *r = &rs.v[i];
        if (!r->key || strcmp(r->key, key) != 0)
            continue;
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        ck_assert(msgpack_unpack_next(&u, r->value, r->len, &off) == MSGPACK_UNPACK_SUCCESS);
        char text[512];
        msgpack_object_print_buffer(text, sizeof text, u.data);
        if (strstr(text, "\"entity\"=>\"ingredient\"") && strstr(text, "\"kind\"=>\"scores\""))
            n++;
        msgpack_unpacked_destroy(&u);
    }
    it_records_free(&rs);
    return n;
}

START_TEST(job_to_scores)
{
    int fake = ing_start_fake();
    char buf[3][160], text[512];
    const char *env[24];
    ing_pool_env(fake, NULL, buf, env);
    int metrics;
    it_start_pool("ingredient_scoring", &metrics, env);
    long long t_start = wall_us();

    char salmon[96], bread[96], cola[96], unknown[96], job[96];
    snprintf(salmon, sizeof salmon, "salmon %s", it_tag());
    snprintf(bread, sizeof bread, "white bread %s", it_tag());
    snprintf(cola, sizeof cola, "diet cola %s", it_tag());
    snprintf(unknown, sizeof unknown, "quinoa flakes %s", it_tag());
    /* as an app would send them: mixed case and punctuation */
    snprintf(job, sizeof job, "Salmon, %s!", it_tag());
    ing_job(job, "unknown_ingredient");
    snprintf(job, sizeof job, "WHITE  bread (%s)", it_tag());
    ing_job(job, "unknown_ingredient");
    ing_job(cola, "app_request");
    ing_job(unknown, "unknown_ingredient");
    ing_job("!!!", "manual");
    /* non-ASCII capitals: lower-cased by PostgreSQL, as the tables' CHECKs are */
    char eclair[96], eclair_row[96];
    snprintf(eclair, sizeof eclair, "\xc3\x89" "CLAIR %s", it_tag());
    ing_job(eclair, "unknown_ingredient");
    ing_job("Bananas", "app_request"); /* an alias of the curated table's banana */
    it_sql_text(eclair_row, sizeof eclair_row, "SELECT lower('%s')", eclair);

    const struct {
        const char *name, *want;
    } rows[] = {
        { salmon, "50|0|50|0|72.5|0.9" },
        { bread, "50|95|50|50|36.5|0.9" },
        { cola, "50|40|30|25|51.75|0.3" },
        { unknown, "50|30|50|0|63.5|0.3" },
    };
    long long ids[4];
    for (int i = 0; i < 4; i++) {
        ids[i] = ing_wait_row(rows[i].name, 0, 30000);
        char got[128];
        ing_scores_text(got, sizeof got, rows[i].name);
        ck_assert_msg(strcmp(got, rows[i].want) == 0, "%s: %s, want %s", rows[i].name, got, rows[i].want);
    }
    it_note("4 rows scored as worked out by hand");
    ing_wait_row(eclair_row, 0, 10000);
    ing_wait_row("banana", t_start, 10000);
    ing_scores_text(text, sizeof text, "banana");
    ck_assert_str_eq(text, "65.8|30|65|25|68.24|0.3");
    it_sql_text(text, sizeof text,
                "SELECT concat_ws('|', s.food_id = f.id, f.source, sources->'table'->>'name', sources->'usda'->>'found',"
                " details->'origin'->>'glycemic_index', details->'confidence'->>'reason')"
                " FROM ingredient_scores s, foods f WHERE s.name = 'banana' AND f.name = 'banana'");
    ck_assert_str_eq(text, "t|table|banana|false|table|fewer than half of the scored nutrients known (002 line 284:"
                           " significant data gaps)");

    /* sources: each API's answer and time; fetched_at set */
    it_sql_text(text, sizeof text,
                "SELECT concat_ws('|', sources->'usda'->>'status', sources->'usda'->'item'->>'fdcId',"
                " sources->'off'->>'status', sources->'off'->'item'->>'code', sources->'usda'->>'error',"
                " (sources->'usda'->>'fetched_at')::timestamptz > now() - interval '5 minutes',"
                " fetched_at IS NOT NULL, details->'confidence'->>'level', details->'hormonal'->>'insulin_impact',"
                " details->>'nova_group', details->'allergens'->>0)"
                " FROM ingredient_scores WHERE name = '%s'",
                salmon);
    ck_assert_str_eq(text, "200|175168|200|2000000000017|t|t|high|low|1|en:fish");
    /* the rule lines are there for a reviewer */
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM ingredient_scores, jsonb_array_elements(details->'inflammation'"
                                "->'rules') r WHERE name = '%s' AND (r->>'line')::int IN (202, 221)",
                                salmon),
                     2);
    it_sql_text(text, sizeof text, "SELECT details->'hormonal'->>'details' FROM ingredient_scores WHERE name = '%s'",
                bread);
    ck_assert_str_eq(text, "High insulin impact (refined carbohydrates); low estrogen impact; low cortisol impact.");
    it_sql_text(text, sizeof text,
                "SELECT concat_ws('|', sources->'usda'->>'found', sources->'off'->>'found',"
                " details->'additives'->>3, details->'facts'->>'caffeine_mg')"
                " FROM ingredient_scores WHERE name = '%s'",
                cola);
    ck_assert_str_eq(text, "false|true|en:e951|13.0");

    /* the nutrition table: one row per food. Salmon is the curated table's
     * row (same USDA food) given the rule nutrients it lacked; the bread is a
     * row of its own from USDA; the cola one from Open Food Facts. */
    it_sql_text(text, sizeof text,
                "SELECT string_agg(f.source || ':' || coalesce(f.fdc_id::text, '-') || ':' || trim_scale(f.sat_fat_g),"
                " ',' ORDER BY s.name) FROM ingredient_scores s JOIN foods f ON f.id = s.food_id"
                " WHERE s.name IN ('%s', '%s')",
                salmon, bread);
    ck_assert_str_eq(text, "table:175168:3.05,usda:172686:0.72");
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM ingredient_scores s JOIN foods f ON f.id = s.food_id"
                                " WHERE s.name = '%s' AND f.source = 'off' AND f.fdc_id IS NULL",
                                cola),
                     1);
    ck_assert_int_eq(it_sql_int("SELECT count(*) FROM ingredient_scores WHERE food_id IS NULL AND name = '%s'",
                                unknown),
                     1);

    /* one invalidation per row, after the commit */
    for (int i = 0; i < 4; i++) {
        bool seen = false;
        IT_WAIT_FOR(seen, invalidations(ids[i]) >= 1, 15000);
        ck_assert_msg(seen, "no cache.invalidate for %s (id %lld)", rows[i].name, ids[i]);
    }
    /* "!!!" dead-lettered with a reason naming the name */
    struct it_records dlq;
    it_consume(it_topic("dlq.ingredient_scoring"), 1, 15000, &dlq);
    ck_assert_int_eq(dlq.n, 1);
    const char *why = it_header(&dlq.v[0], "hf-dlq-error");
    ck_assert_msg(why && strstr(why, "no letters or digits"), "dlq error: %s", why ? why : "(none)");
    it_records_free(&dlq);
    it_note("invalidations and the dead letter seen");

    /* a log seeing salmon again: fresh score kept, no API call */
    const char *processed = "hf_messages_total{pool=\"ingredient_scoring\",outcome=\"processed\"}";
    double p0 = it_metric(metrics, processed);
    int usda_before = ing_fake_calls(fake, "usda");
    long long scored = it_sql_int("SELECT (extract(epoch FROM scored_at) * 1e6)::bigint FROM ingredient_scores"
                                  " WHERE name = '%s'",
                                  salmon);
    it_note("p0 %.0f, usda calls %d", p0, usda_before);
    ing_job(salmon, "unknown_ingredient");
    it_note("salmon job produced");
    bool done = false;
    IT_WAIT_FOR(done, it_metric(metrics, processed) >= p0 + 1, 15000);
    ck_assert_msg(done, "the repeated salmon job was not processed");
    it_note("salmon job processed");
    ck_assert_int_eq(it_sql_int("SELECT (extract(epoch FROM scored_at) * 1e6)::bigint FROM ingredient_scores"
                                " WHERE name = '%s'",
                                salmon),
                     scored);
    ck_assert_int_eq(ing_fake_calls(fake, "usda"), usda_before);
    /* an app asking: rescored, from the raw answers cached in Redis for 24 h
     * (ingredient:data:{name}; no cache pool runs here to invalidate them) */
    long long t0 = wall_us();
    char fetched_before[64], fetched_after[64];
    it_sql_text(fetched_before, sizeof fetched_before, "SELECT fetched_at FROM ingredient_scores WHERE name = '%s'",
                bread);
    ing_job(bread, "app_request");
    ing_wait_row(bread, t0, 20000);
    it_sql_text(fetched_after, sizeof fetched_after, "SELECT fetched_at FROM ingredient_scores WHERE name = '%s'",
                bread);
    ck_assert_int_eq(ing_fake_calls(fake, "usda"), usda_before);
    ck_assert_str_eq(fetched_after, fetched_before);
    ing_scores_text(text, sizeof text, bread);
    ck_assert_str_eq(text, "50|95|50|50|36.5|0.9");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { job_to_scores };
    return it_run_suite("0600-ingredient-score", tests, 1, 100);
}
