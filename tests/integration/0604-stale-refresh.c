/* 0604: the weekly refresh. A score older than HF_INGREDIENT_STALE_DAYS (7)
 * is rescored when the scheduler's stale_refresh job names it; a score
 * rescored in the meantime is kept (no API call); a log seeing a stale
 * ingredient (unknown_ingredient) rescores it too. Times are moved back in
 * the database and the 24-hour raw-data cache dropped, as eight days would.
 *
 * Then a redelivered job (the same event id again, as after a crash between
 * the commit and the offsets) rewrites nothing and calls no API, but sends
 * its cache.invalidate again, though its score is fresh by then. */
#include <stdlib.h>
#include <time.h>

#include "it_ingredient.h"

static long long scored_us(const char *name)
{
    return it_sql_int("SELECT (extract(epoch FROM scored_at) * 1e6)::bigint FROM ingredient_scores WHERE name = '%s'",
                      name);
}

START_TEST(stale_scores_rescored)
{
    int metrics;
    int fake = ing_start_pool(&metrics);
    char old[96], fresh[96], seen[96];
    snprintf(old, sizeof old, "salmon %s old", it_tag());
    snprintf(fresh, sizeof fresh, "salmon %s fresh", it_tag());
    snprintf(seen, sizeof seen, "salmon %s seen", it_tag());
    ing_job(old, "manual");
    ing_job(fresh, "manual");
    ing_job(seen, "manual");
    for (int i = 0; i < 3; i++)
        ing_wait_row(i == 0 ? old : i == 1 ? fresh : seen, 0, 20000);
    it_sql("UPDATE ingredient_scores SET scored_at = now() - interval '8 days' WHERE name IN ('%s', '%s')", old, seen);
    it_sql("UPDATE ingredient_scores SET scored_at = now() - interval '6 days' WHERE name = '%s'", fresh);
    long long fresh_at = scored_us(fresh), old_at = scored_us(old);
    /* a week on, their raw answers (24 h in Redis) are long gone too: drop
     * the namespaces' versions, as expiry would have dropped the values */
    char url[256], k1[160], k2[160], out[256];
    snprintf(url, sizeof url, "%s", getenv("HF_REDIS_URL") ? getenv("HF_REDIS_URL") : "redis://127.0.0.1:16379/0");
    snprintf(k1, sizeof k1, "hf:{i:%s}:ver", old);
    snprintf(k2, sizeof k2, "hf:{i:%s}:ver", seen);
    const char *del[] = { "/usr/bin/redis-cli", "-u", url, "DEL", k1, k2, NULL };
    ck_assert_int_eq(it_run(out, sizeof out, 10000, del, NULL), 0);
    ck_assert_msg(strncmp(out, "2", 1) == 0, "redis-cli DEL: %s", out);
    int calls = ing_fake_calls(fake, "usda");

    ing_job(fresh, "stale_refresh"); /* rescored since the scheduler looked: kept */
    ing_job(old, "stale_refresh");
    ing_job(seen, "unknown_ingredient");
    ing_wait_row(old, old_at + 1, 20000);
    ing_wait_row(seen, old_at + 1, 20000);
    const char *processed = "hf_messages_total{pool=\"ingredient_scoring\",outcome=\"processed\"}";
    bool all = false;
    IT_WAIT_FOR(all, it_metric(metrics, processed) >= 6, 15000);
    ck_assert_msg(all, "not all 6 jobs processed");
    ck_assert_int_eq(scored_us(fresh), fresh_at);
    ck_assert_int_eq(ing_fake_calls(fake, "usda"), calls + 2);

    char id[37], again[96];
    it_uuid4(id);
    snprintf(again, sizeof again, "salmon %s again", it_tag());
    ing_job_id(again, "unknown_ingredient", id);
    long long row = ing_wait_row(again, 0, 20000);
    long long again_at = scored_us(again);
    calls = ing_fake_calls(fake, "usda");
    const char *replayed = "hf_messages_total{pool=\"ingredient_scoring\",outcome=\"replayed\"}";
    ing_job_id(again, "unknown_ingredient", id);
    bool replay = false;
    IT_WAIT_FOR(replay, it_metric(metrics, replayed) >= 1, 15000);
    ck_assert_msg(replay, "the redelivered job was not seen as a replay");
    ck_assert_int_eq(scored_us(again), again_at);
    ck_assert_int_eq(ing_fake_calls(fake, "usda"), calls);
    char key[24];
    snprintf(key, sizeof key, "%lld", row);
    int sent = 0;
    for (int tries = 0; tries < 50 && sent < 2; tries++) {
        struct it_records rs;
        it_consume(it_topic("cache.invalidate"), 1, 3000, &rs);
        sent = 0;
        for (int i = 0; i < rs.n; i++)
            sent += rs.v[i].key && strcmp(rs.v[i].key, key) == 0;
        it_records_free(&rs);
    }
    ck_assert_msg(sent == 2, "%d invalidations for the replayed job's row, want 2", sent);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { stale_scores_rescored };
    return it_run_suite("0604-stale-refresh", tests, 1, 100);
}
