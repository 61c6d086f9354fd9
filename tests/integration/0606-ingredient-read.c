/* 0606: GET /v1/ingredients/{name}, an app asking for a score (002's
 * GET /ingredient/{name}).
 *
 * An ingredient with no score: 202 {"status":"scoring"} with Retry-After,
 * and one job.ingredient_score (app_request) on Kafka; asking again is the
 * same job (same event id), so the scoring pool makes one score. Once
 * hf-ingredient_scoring (against the fake food APIs) has scored it: 200 with
 * 0600's scores, an ETag and 304 for If-None-Match. Any spelling finds it,
 * an alias finds its food's score, and a name with no letters or digits is
 * 400 naming the field. No key: 401. hfctl ingredient score makes the pool
 * score a name again.
 */
#include "it_ingredient.h"

static int port;

static long get(struct it_http *r, const char *key, const char *name, const char *etag)
{
    char auth[160], inm[80], path[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", key ? key : "");
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag ? etag : "");
    snprintf(path, sizeof path, "/v1/ingredients/%s", name);
    const char *h[3] = { NULL, NULL, NULL };
    int n = 0;
    if (key)
        h[n++] = auth;
    if (etag)
        h[n++] = inm;
    return it_request(r, "GET", port, path, h, NULL, 0, false);
}

static const char *str(const struct it_http *r, const char *field)
{
    return json_string_value(json_object_get(r->json, field));
}

START_TEST(apps_ask_for_scores)
{
    struct it_client client;
    it_make_client(&client, "app");
    const char *tag = it_tag();
    char salmon[96], asked[128], alias[96], food[96], hdr[64], etag[64];
    snprintf(salmon, sizeof salmon, "salmon %s", tag);
    snprintf(asked, sizeof asked, "Salmon,%%20%s!", tag); /* "Salmon, <tag>!" in the URL */
    snprintf(alias, sizeof alias, "alias %s", tag);
    snprintf(food, sizeof food, "food %s", tag);
    it_start_intake(&port, NULL);

    struct it_http r = { 0 };
    ck_assert_int_eq(get(&r, client.key, asked, NULL), 202);
    ck_assert_str_eq(str(&r, "status"), "scoring");
    ck_assert_str_eq(str(&r, "name"), salmon);
    ck_assert_ptr_nonnull(it_http_header(&r, "Retry-After", hdr, sizeof hdr));
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, asked, NULL), 202);
    it_http_free(&r);
    struct it_records rs;
    ck_assert_int_eq(it_consume(it_topic("jobs.ingredients"), 2, 10000, &rs), 2);
    ck_assert_str_eq(rs.v[0].key, salmon);
    ck_assert_str_eq(it_header(&rs.v[0], "hf-event-id"), it_header(&rs.v[1], "hf-event-id"));
    ck_assert(memmem(rs.v[0].value, rs.v[0].len, "app_request", 11) != NULL);
    it_records_free(&rs);
    it_note("unscored: 202 twice, the same job twice (one event id)");

    int metrics;
    ing_start_pool(&metrics);
    ing_wait_row(salmon, 0, 30000);

    ck_assert_int_eq(get(&r, client.key, asked, NULL), 200);
    ck_assert_str_eq(str(&r, "name"), salmon);
    char got[160];
    snprintf(got, sizeof got, "%g|%g|%g|%g|%g|%g", json_number_value(json_object_get(r.json, "blood_sugar")),
             json_number_value(json_object_get(r.json, "inflammation")),
             json_number_value(json_object_get(r.json, "gut")), json_number_value(json_object_get(r.json, "hormonal")),
             json_number_value(json_object_get(r.json, "overall")),
             json_number_value(json_object_get(r.json, "confidence")));
    ck_assert_str_eq(got, "50|0|50|0|72.5|0.9");
    ck_assert_ptr_nonnull(it_http_header(&r, "ETag", etag, sizeof etag));
    it_http_free(&r);
    ck_assert_int_eq(get(&r, client.key, asked, etag), 304);
    it_http_free(&r);
    it_note("scored: 200 with 0600's scores, 304 for its ETag");

    /* An operator asks again (after correcting a food, say): rescored. */
    long long before = it_sql_int("SELECT (extract(epoch FROM now()) * 1e6)::bigint");
    char out[512];
    snprintf(asked, sizeof asked, "Salmon, %s!", tag);
    it_hfctl(out, sizeof out, "ingredient", "score", asked, NULL);
    ck_assert_msg(strstr(out, salmon), "hfctl said: %s", out);
    ing_wait_row(salmon, before, 30000);
    it_note("hfctl ingredient score: rescored");

    ing_scored_alias(food, alias);
    snprintf(asked, sizeof asked, "ALIAS%%20%s", tag);
    ck_assert_int_eq(get(&r, client.key, asked, NULL), 200);
    ck_assert_str_eq(str(&r, "name"), food);
    ck_assert(json_number_value(json_object_get(r.json, "overall")) == 25.5);
    it_http_free(&r);

    ck_assert_int_eq(get(&r, client.key, "%21%21%21", NULL), 400);
    ck_assert_str_eq(it_err_field(&r), "name");
    it_http_free(&r);
    ck_assert_int_eq(get(&r, NULL, asked, NULL), 401);
    it_http_free(&r);
    ck_assert_int_eq(it_topic_count(it_topic("jobs.ingredients")), 3); /* the two reads' and hfctl's */
    it_note("an alias reads its food's score; \"!!!\" is 400 (name); no key is 401");
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { apps_ask_for_scores };
    return it_run_suite("0606-ingredient-read", tests, 1, 100);
}
