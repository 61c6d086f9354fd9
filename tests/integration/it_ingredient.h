/* Shared by the ingredient-scoring integration tests (06xx): the fake food
 * APIs (tests/fake_food_apis), jobs on <prefix>jobs.ingredients, and rows of
 * ingredient_scores. Header-only, static. */
#ifndef IT_INGREDIENT_H
#define IT_INGREDIENT_H

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "it_harness.h"

/* Starts fake-food-apis on a free port; returns the port. */
static inline int ing_start_fake(void)
{
    char bin[600], env_port[48];
    int port = it_free_port();
    snprintf(env_port, sizeof env_port, "FAKE_FOOD_APIS_PORT=%d", port);
    const char *env[] = { env_port, NULL };
    it_start("fake-food-apis", it_bin("fake-food-apis", bin, sizeof bin), env);
    bool up = false;
    IT_WAIT_FOR(up, it_port_open(port), 10000);
    ck_assert_msg(up, "fake-food-apis did not listen on %d", port);
    return port;
}

/* Sets one fake API's behaviour: api "usda" or "off"; mode ok, fail, hang, limit. */
static inline void ing_fake_mode(int port, const char *api, const char *mode)
{
    char path[96];
    snprintf(path, sizeof path, "/_mode?api=%s&mode=%s", api, mode);
    struct it_http r;
    long status = it_request(&r, "POST", port, path, NULL, "", 0, false);
    ck_assert_msg(status == 200, "fake mode %s=%s: %ld", api, mode, status);
    it_http_free(&r);
}

/* Calls the fake has seen for api so far. */
static inline int ing_fake_calls(int port, const char *api)
{
    struct it_http r;
    long status = it_request(&r, "GET", port, "/_stats", NULL, NULL, 0, false);
    ck_assert_msg(status == 200 && r.json, "fake stats: %ld", status);
    int n = (int)json_integer_value(json_object_get(json_object_get(r.json, api), "calls"));
    it_http_free(&r);
    return n;
}

/* The environment that points the pool at the fake, plus `extra` entries
 * (NULL-terminated, may be NULL), into env (room for 16 + extras). The
 * strings live in buf. */
static inline void ing_pool_env(int port, const char *const *extra, char buf[3][160], const char *env[24])
{
    snprintf(buf[0], sizeof buf[0], "HF_FDC_URL=http://127.0.0.1:%d/fdc/v1", port);
    snprintf(buf[1], sizeof buf[1], "HF_OFF_URL=http://127.0.0.1:%d", port);
    snprintf(buf[2], sizeof buf[2], "HF_FDC_API_KEY=it-key");
    int n = 0;
    for (int i = 0; i < 3; i++)
        env[n++] = buf[i];
    env[n++] = "HF_POLL_MS=20";
    env[n++] = "HF_LOG_LEVEL=debug";
    for (int i = 0; extra && extra[i] && n < 23; i++)
        env[n++] = extra[i];
    env[n] = NULL;
}

/* The fake food APIs and hf-ingredient_scoring pointed at them, with the
 * default settings. Returns the fake's port; the pool's metrics port
 * through *metrics. */
static inline int ing_start_pool(int *metrics)
{
    int fake = ing_start_fake();
    char buf[3][160];
    const char *env[24];
    ing_pool_env(fake, NULL, buf, env);
    it_start_pool("ingredient_scoring", metrics, env);
    return fake;
}

/* A food of the curated table with one alias, and a score stored for the
 * food (10/20/30/40, overall 25.5, confidence 0.6), as if scored before. */
static inline void ing_scored_alias(const char *food, const char *alias)
{
    it_sql("INSERT INTO ingredient_scores (name, blood_sugar, inflammation, gut, hormonal, overall, confidence)"
           " VALUES ('%s', 10, 20, 30, 40, 25.5, 0.6)",
           food);
    it_sql("WITH f AS (INSERT INTO foods (name, kcal, protein_g, carbs_g, fat_g, source)"
           " VALUES ('%s', 100, 1, 1, 1, 'table') RETURNING id)"
           " INSERT INTO food_aliases (alias, food_id) SELECT '%s', id FROM f",
           food, alias);
}

/* Produces a job.ingredient_score (key = name) with event id `id`. */
static inline void ing_job_id(const char *name, const char *reason, const char *id)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    it_pack_kv_str(&pk, "event_id", id);
    it_pack_kv_str(&pk, "name", name);
    it_pack_kv_str(&pk, "reason", reason);
    it_pack_kv_str(&pk, "trigger", "it");
    const struct it_kv h[] = { { "hf-schema", "job.ingredient_score" }, { "hf-version", "1" }, { "hf-event-id", id } };
    it_produce(it_topic("jobs.ingredients"), name, sb.data, sb.size, h, 3, NULL, NULL);
    msgpack_sbuffer_destroy(&sb);
}

/* Produces a job.ingredient_score with a new event id. */
static inline void ing_job(const char *name, const char *reason)
{
    char id[37];
    it_uuid4(id);
    ing_job_id(name, reason, id);
}

/* Waits until ingredient_scores has a row for `name` scored after
 * `after_us` (microseconds since the epoch; 0: any); returns its id. */
static inline long long ing_wait_row(const char *name, long long after_us, int timeout_ms)
{
    long long id = LLONG_MIN;
    bool ok = false;
    IT_WAIT_FOR(ok,
                it_sql_int_try(&id,
                               "SELECT coalesce((SELECT id FROM ingredient_scores WHERE name = '%s'"
                               " AND scored_at > to_timestamp(%lld / 1e6)), -1)",
                               name, after_us) &&
                    id > 0,
                timeout_ms);
    if (!ok)
        it_log_tail(40);
    ck_assert_msg(ok, "no ingredient_scores row for '%s' within %d ms", name, timeout_ms);
    return id;
}

/* "blood_sugar|inflammation|gut|hormonal|overall|confidence" of a row. */
static inline void ing_scores_text(char *out, size_t outsz, const char *name)
{
    it_sql_text(out, outsz,
                "SELECT concat_ws('|', trim_scale(blood_sugar), trim_scale(inflammation), trim_scale(gut),"
                " trim_scale(hormonal), trim_scale(overall), trim_scale(confidence))"
                " FROM ingredient_scores WHERE name = '%s'",
                name);
}

#endif
