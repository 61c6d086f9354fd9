/* 0602: the circuit breaker of an external API opens and closes (002 lines
 * 816-873), here with 2 failures to open, 1.5 s of recovery and 2 trial
 * successes to close.
 *
 * USDA failing: job 1 and 2 call it and fail; the breaker opens; job 3 does
 * not call it (the fake's count stays) and its row says so. USDA back;
 * after 1.5 s job 4 is the half-open trial (called, succeeds), job 5 the
 * second (closed again). USDA failing again: job 6 is called (a closed
 * breaker lets calls through), job 7 too and opens it, job 8 is refused.
 * Every job is scored (from Open Food Facts when USDA is out).
 */
#include "it_ingredient.h"

static int fake_port;

/* Runs one job for salmon #i and returns what the row says of USDA. */
static void job(int i, char *usda, size_t usdasz)
{
    char name[96];
    snprintf(name, sizeof name, "salmon %s n%d", it_tag(), i);
    ing_job(name, "app_request");
    ing_wait_row(name, 0, 20000);
    it_sql_text(usda, usdasz,
                "SELECT concat_ws('|', sources->'usda'->>'status', coalesce(sources->'usda'->>'error', 'ok'))"
                " FROM ingredient_scores WHERE name = '%s'",
                name);
}

static void expect(int i, int calls, const char *usda_has)
{
    char usda[512];
    job(i, usda, sizeof usda);
    int got = ing_fake_calls(fake_port, "usda");
    it_note("job %d: USDA calls %d, %s", i, got, usda);
    ck_assert_msg(got == calls, "job %d: USDA called %d times in all, want %d", i, got, calls);
    ck_assert_msg(strstr(usda, usda_has), "job %d: usda %s, want %s", i, usda, usda_has);
}

START_TEST(breaker_opens_and_closes)
{
    fake_port = ing_start_fake();
    char buf[3][160];
    const char *env[24];
    const char *extra[] = { "HF_INGREDIENT_BREAKER_FAILURES=2", "HF_INGREDIENT_BREAKER_RECOVERY_MS=1500",
                            "HF_INGREDIENT_BREAKER_SUCCESSES=2", NULL };
    ing_pool_env(fake_port, extra, buf, env);
    int metrics;
    it_start_pool("ingredient_scoring", &metrics, env);

    ing_fake_mode(fake_port, "usda", "fail");
    expect(1, 1, "HTTP 500");
    expect(2, 2, "HTTP 500");                  /* second failure: open */
    expect(3, 2, "circuit breaker open");      /* refused, not called */
    ing_fake_mode(fake_port, "usda", "ok");
    expect(4, 2, "circuit breaker open");      /* still inside the recovery time */
    it_sleep_ms(1600);
    expect(5, 3, "200|ok");                    /* half-open trial 1 */
    expect(6, 4, "200|ok");                    /* trial 2: closed */
    ing_fake_mode(fake_port, "usda", "fail");
    expect(7, 5, "HTTP 500");                  /* closed: called */
    expect(8, 6, "HTTP 500");                  /* opens again */
    expect(9, 6, "circuit breaker open");
    ing_fake_mode(fake_port, "usda", "ok");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { breaker_opens_and_closes };
    return it_run_suite("0602-circuit-breaker", tests, 1, 100);
}
