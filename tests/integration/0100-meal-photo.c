/* 0100: meal photos, end to end, against tests/fake_vision (an HTTPS image
 * host and OpenAI-compatible vision API; the image's name picks the model's
 * behaviour).
 *
 *  - photo_to_verified: POST -> PROCESSING row within about a second, even
 *    with a model taking 3 s -> VERIFIED with the macros worked out by hand
 *    below -> the program day's adherence counts the meal (hf-adherence runs
 *    too); the stored image URL has lost its signature.
 *  - fetch_refusals: every refusal of the safe fetch ends FAILED with a reason
 *    a person understands; a same-host redirect is followed.
 *  - provider_failures: 500, garbage, prose instead of JSON, a hang, foods not
 *    in the table -> the caption is used (source caption, confidence 0.3); the
 *    breaker opens after its failures and stops calling.
 *  - no_provider: captions only; neither caption nor model -> FAILED.
 *
 * The model's plate (fake_vision OK_ITEMS): "Scrambled Eggs" 120 g ->
 * scrambled egg (FDC 172186: 149 kcal, 9.99 P, 1.61 C, 10.98 F, 0 fiber,
 * 1.39 sugars per 100 g) and "whole wheat toast" 64 g -> whole wheat bread
 * (FDC 172688: 247, 12.95, 41.29, 3.42, 6.8, 5.57):
 *   calories 178.8 + 158.08 = 336.88 -> 336.9   protein 11.988 + 8.288 = 20.276 -> 20.3
 *   carbs 1.932 + 26.4256 = 28.3576 -> 28.4       fat 13.176 + 2.1888 = 15.3648 -> 15.4
 *   fiber 0 + 4.352 -> 4.4                        sugar 1.668 + 3.5648 = 5.2328 -> 5.2
 *   grams 184, confidence 0.8
 * The caption "2 eggs, 1 slice whole wheat toast, 200 g greek yogurt, 1 cup
 * rice": egg 2 x 50 g (143 kcal/100 g) = 143; whole wheat bread 32 g = 79.04;
 * greek yogurt 200 g (59) = 118; white rice 1 cup 158 g (130) = 205.4
 *   calories 545.44 -> 545.4, grams 490.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

#define CAPTION "2 eggs, 1 slice whole wheat toast, 200 g greek yogurt, 1 cup rice"

static struct {
    struct it_client c;
    long long member, program;
    int intake, fake;
    char ca[600], hosts[64], provider[128];
} W;

/* fake_vision, the intake and a member with a program. */
static void world(void)
{
    it_make_client(&W.c, "app");
    W.member = it_make_member(it_make_user(W.c.id, "u"), "Ada");
    W.program = it_make_program(W.member, -5, "{\"calories\": 2000}", "{}");
    char bin[600];
    it_start_service("fake_vision", it_bin("fake_vision", bin, sizeof bin), "FAKE_VISION_PORT", &W.fake, NULL, 10000);
    snprintf(W.ca, sizeof W.ca, "HF_MEAL_CA_FILE=%s/tests/fake_vision/cert.pem", getenv("HF_SOURCE_DIR"));
    snprintf(W.hosts, sizeof W.hosts, "HF_MEAL_IMAGE_HOSTS=127.0.0.1");
    snprintf(W.provider, sizeof W.provider, "HF_MEAL_PROVIDER_URL=https://127.0.0.1:%d/v1", W.fake);
    it_start_intake(&W.intake, NULL);
}

static void start_pools(const char *const *extra)
{
    const char *env[24] = { W.ca, W.hosts, "HF_MEAL_FETCH_TIMEOUT_MS=2000", "HF_MEAL_PROVIDER_TIMEOUT_MS=1500",
                            "HF_MEAL_PROVIDER_RETRIES=1", "HF_MEAL_IMAGE_ALLOW_PRIVATE=1" };
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 23; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    int m1, m2;
    it_start_pool("meal_image", &m1, env);
    it_start_pool("meal_analyze", &m2, env);
}

/* Posts a photo (url: a path on fake_vision, or a whole URL) and returns its
 * event_id in id. */
static void post_photo(const char *url, const char *caption, char id[37])
{
    char full[512], ts[32], body[1400], cap[700] = "";
    if (url[0] == '/')
        snprintf(full, sizeof full, "https://127.0.0.1:%d%s", W.fake, url);
    else
        snprintf(full, sizeof full, "%s", url);
    if (caption)
        snprintf(cap, sizeof cap, ", \"caption\": \"%s\"", caption);
    it_ts(ts, it_day(0), 0, 30, 0);
    snprintf(body, sizeof body,
             "{\"type\": \"meal.photo_uploaded\", \"member_id\": %lld, \"program_id\": %lld, \"occurred_at\": \"%s\","
             " \"image_url\": \"%s\", \"meal\": \"lunch\"%s}",
             W.member, W.program, ts, full, cap);
    struct it_http r;
    it_post(&r, W.intake, "/v1/events", W.c.key, body, NULL);
    ck_assert_msg(r.status == 202, "POST %s: %ld %s", url, r.status, r.body);
    snprintf(id, 37, "%s", json_string_value(json_object_get(r.json, "event_id")));
    it_http_free(&r);
}

/* Waits for the log's status to be `want` (VERIFIED or FAILED) and returns
 * its payload's field `field` as text. */
static void final_field(const char *id, const char *want, const char *field, char *out, size_t outsz)
{
    char st[32] = "";
    bool ok;
    IT_WAIT_FOR(ok,
                (it_sql_text(st, sizeof st, "SELECT coalesce((SELECT status FROM daily_logs WHERE event_id = '%s'), '')",
                             id),
                 strcmp(st, "PROCESSING") != 0 && st[0]),
                20000);
    char payload[2000];
    it_sql_text(payload, sizeof payload, "SELECT payload::text FROM daily_logs WHERE event_id = '%s'", id);
    ck_assert_msg(ok && strcmp(st, want) == 0, "log %s is %s, want %s; payload %s", id, st, want, payload);
    it_sql_text(out, outsz, "SELECT coalesce(payload->>'%s', '') FROM daily_logs WHERE event_id = '%s'", field, id);
}

static void expect_reason(const char *path, const char *needle)
{
    char id[37], reason[800];
    post_photo(path, NULL, id);
    final_field(id, "FAILED", "reason", reason, sizeof reason);
    ck_assert_msg(strstr(reason, needle) != NULL, "%s: reason \"%s\" does not say \"%s\"", path, reason, needle);
    ck_assert_msg(strstr(reason, "no caption to read instead") != NULL, "%s: %s", path, reason);
    it_note("%s -> FAILED: %s", path, reason);
}

static void expect_caption(const char *path, const char *vision_error)
{
    char id[37], v[600];
    post_photo(path, CAPTION, id);
    final_field(id, "VERIFIED", "source", v, sizeof v);
    ck_assert_str_eq(v, "caption");
    it_sql_text(v, sizeof v,
                "SELECT concat_ws('|', payload->>'calories', payload->>'grams', payload->>'confidence',"
                " jsonb_array_length(payload->'items')) FROM daily_logs WHERE event_id = '%s'",
                id);
    ck_assert_msg(strcmp(v, "545.4|490.0|0.3|4") == 0, "%s: caption result %s", path, v);
    it_sql_text(v, sizeof v, "SELECT payload->>'vision_error' FROM daily_logs WHERE event_id = '%s'", id);
    ck_assert_msg(strstr(v, vision_error) != NULL, "%s: vision_error \"%s\" does not say \"%s\"", path, v, vision_error);
    it_note("%s -> caption, because: %s", path, v);
}

static long chat_calls(void)
{
    char url[160];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/stats", W.fake);
    /* it_request speaks plain HTTP to the intake; fake_vision is HTTPS. */
    char out[256] = "";
    const char *argv[] = { "/usr/bin/curl", "-s", "--cacert", W.ca + strlen("HF_MEAL_CA_FILE="), url, NULL };
    it_run(out, sizeof out, 5000, argv, NULL);
    json_t *j = json_loads(out, 0, NULL);
    long n = (long)json_integer_value(json_object_get(j, "chat"));
    json_decref(j);
    return n;
}

START_TEST(photo_to_verified)
{
    world();
    start_pools((const char *const[]){ W.provider, "HF_MEAL_PROVIDER_TIMEOUT_MS=6000", NULL });
    int ma;
    it_start_pool("adherence", &ma, NULL);
    char id[37], v[600];
    post_photo("/img/slow.png?X-Amz-Signature=secret", CAPTION, id);
    int64_t t0 = it_now_ms();
    long long n = 0;
    bool ok;
    IT_WAIT_FOR(ok, it_sql_int_try(&n, "SELECT count(*) FROM daily_logs WHERE event_id = '%s' AND status = 'PROCESSING'", id) && n == 1,
                5000);
    int64_t visible = it_now_ms() - t0;
    ck_assert_msg(ok, "no PROCESSING row for %s", id);
    ck_assert_msg(visible < 1500, "the PROCESSING row took %lld ms", (long long)visible);
    it_note("PROCESSING visible %lld ms after the 202 (the model takes 3 s)", (long long)visible);
    it_sql_text(v, sizeof v, "SELECT payload->>'image_url' FROM daily_logs WHERE event_id = '%s'", id);
    ck_assert_msg(strstr(v, "secret") == NULL && strstr(v, "/img/slow.png") != NULL, "stored image URL %s", v);

    final_field(id, "VERIFIED", "source", v, sizeof v);
    ck_assert_str_eq(v, "vision");
    it_sql_text(v, sizeof v,
                "SELECT concat_ws('|', payload->>'calories', payload->>'protein_g', payload->>'carbs_g',"
                " payload->>'fat_g', payload->>'fiber_g', payload->>'sugar_g', payload->>'grams',"
                " payload->>'confidence', payload->'items'->0->>'food', payload->'items'->0->>'fdc_id',"
                " payload->'items'->1->>'food', payload->>'meal') FROM daily_logs WHERE event_id = '%s'",
                id);
    ck_assert_str_eq(v, "336.9|20.3|28.4|15.4|4.4|5.2|184.0|0.8|scrambled egg|172186|whole wheat bread|lunch");
    it_note("VERIFIED after %lld ms: %s", (long long)(it_now_ms() - t0), v);

    /* the adherence pool counts it as the day's meal */
    char today[11];
    it_date(today, it_day(0));
    IT_WAIT_FOR(ok,
                (it_sql_text(v, sizeof v,
                             "SELECT coalesce((SELECT concat_ws('|', details->>'meals',"
                             " trim_scale((details->'nutrition'->'parts'->'calories'->>'actual')::numeric))"
                             " FROM adherence_metrics WHERE program_id = %lld AND date = '%s'), '')",
                             W.program, today),
                 strcmp(v, "1|336.9") == 0),
                15000);
    ck_assert_msg(ok, "adherence for the day: %s, want 1 meal of 336.9 kcal", v);
    it_note("adherence_metrics counts the meal: %s", v);
    it_stop_all_ok();
}
END_TEST

START_TEST(fetch_refusals)
{
    world();
    start_pools((const char *const[]){ W.provider, "HF_MEAL_IMAGE_MAX_BYTES=1048576", NULL });
    char url[300];
    snprintf(url, sizeof url, "/redirect?to=https://169.254.169.254/latest/meta-data/");
    expect_reason(url, "redirects to another host (169.254.169.254)");
    snprintf(url, sizeof url, "/redirect?to=https://localhost:%d/img/ok.png", W.fake);
    expect_reason(url, "redirects to another host (localhost)");
    snprintf(url, sizeof url, "/redirect?to=http://127.0.0.1:%d/img/ok.png", W.fake);
    expect_reason(url, "not https (http)");
    snprintf(url, sizeof url, "https://localhost:%d/img/ok.png", W.fake);
    expect_reason(url, "the image host localhost is not on the allow list");
    expect_reason("/img/big.png", "larger than 1048576 bytes");
    expect_reason("/img/short.png", "cut short");
    expect_reason("/img/text.png", "not a JPEG, PNG or WebP image");
    expect_reason("/img/bomb.png", "claims 100000 x 100000 pixels, more than 8192 per side");
    expect_reason("/img/cut.png", "the PNG is cut short (no IEND chunk)");
    expect_reason("/img/nothing.png", "answered HTTP 404");
    expect_reason("/img/stall.png", "did not send the image in time");
    /* a redirect to the same host is followed; a JPEG is read too */
    char id[37], v[64];
    snprintf(url, sizeof url, "/redirect?to=https://127.0.0.1:%d/img/ok.jpg", W.fake);
    post_photo(url, NULL, id);
    final_field(id, "VERIFIED", "calories", v, sizeof v);
    ck_assert_str_eq(v, "336.9");
    it_stop_all_ok();
}
END_TEST

START_TEST(private_addresses)
{
    world();
    start_pools((const char *const[]){ W.provider, "HF_MEAL_IMAGE_ALLOW_PRIVATE=0", NULL });
    expect_reason("/img/ok.png", "resolves to a loopback address, which is not allowed");
    expect_reason("/redirect?to=https://169.254.169.254/", "resolves to a loopback address");
    it_stop_all_ok();
}
END_TEST

START_TEST(provider_failures)
{
    world();
    start_pools((const char *const[]){ W.provider, "HF_MEAL_BREAKER_FAILURES=100", NULL });
    long before = chat_calls();
    expect_caption("/img/500.png", "failed after 2 tries (HTTP 500)");
    ck_assert_int_eq(chat_calls() - before, 2);
    expect_caption("/img/garbage.png", "not a JSON object");
    expect_caption("/img/shape.png", "did not answer with the JSON object asked for");
    expect_caption("/img/hang.png", "no answer in time");
    expect_caption("/img/unknown.png", "none of the 1 food (unobtanium stew)");
    char id[37], v[64];
    post_photo("/img/fenced.png", NULL, id);
    final_field(id, "VERIFIED", "calories", v, sizeof v);
    ck_assert_str_eq(v, "336.9");
    expect_reason("/img/empty.png", "no food was found on the plate");
    it_stop_all_ok();
}
END_TEST

START_TEST(breaker_opens)
{
    world();
    start_pools((const char *const[]){ W.provider, "HF_MEAL_BREAKER_FAILURES=2", "HF_MEAL_PROVIDER_RETRIES=0",
                                       "HF_MEAL_CONCURRENCY=1", NULL });
    long before = chat_calls();
    expect_caption("/img/500.png", "HTTP 500");
    expect_caption("/img/500.png", "HTTP 500");
    expect_caption("/img/500.png", "circuit breaker is open");
    expect_caption("/img/ok.png", "circuit breaker is open");
    ck_assert_int_eq(chat_calls() - before, 2);
    it_stop_all_ok();
}
END_TEST

START_TEST(no_provider)
{
    world();
    start_pools(NULL);
    expect_caption("/img/ok.png", "no vision service is configured");
    expect_reason("/img/ok.png", "no vision service is configured");
    char id[37], reason[600];
    post_photo("/img/ok.png", "a plate of stuff", id);
    final_field(id, "FAILED", "reason", reason, sizeof reason);
    ck_assert_msg(strstr(reason, "from the caption: none of the 1 food (plate of stuff)") != NULL, "%s", reason);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { photo_to_verified, fetch_refusals, private_addresses, provider_failures, breaker_opens,
                             no_provider };
    return it_run_suite("0100-meal-photo", tests, 6, 115);
}
