/* Unit tests of the pure parts of common/hf_cache (the key scheme, TTLs) and
 * common/hf_redis (URL parsing, error classification). Redis itself is
 * exercised by the integration tests 0200-0202. */
#include <check.h>

#include "hf_cache.h"
#include "hf_redis.h"
#include "hf_time.h"
#include "unit_util.h"

static int32_t day(const char *s)
{
    int32_t d;
    ck_assert_int_eq(hf_time_parse_date(s, &d), 0);
    return d;
}

START_TEST(keys_of_every_kind)
{
    char k[256];
    struct hf_cache_ref adh = { .kind = HF_CACHE_ADHERENCE, .id = 7, .from = day("2026-11-01"), .to = day("2026-11-07") };
    ck_assert_int_eq(hf_cache_key(&adh, 42, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{p:7}:42:adh:2026-11-01:2026-11-07");
    struct hf_cache_ref pred = { .kind = HF_CACHE_PREDICTIONS, .id = 12 };
    ck_assert_int_eq(hf_cache_key(&pred, 1763900000000001ull, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:1763900000000001:pred:all");
    pred.sub = "cycle";
    ck_assert_int_eq(hf_cache_key(&pred, 3, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:3:pred:cycle");
    struct hf_cache_ref ins = { .kind = HF_CACHE_INSIGHTS, .id = 12 };
    ck_assert_int_eq(hf_cache_key(&ins, 3, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:3:ins");
    struct hf_cache_ref model = { .kind = HF_CACHE_MODEL, .id = 12, .sub = "mood" };
    ck_assert_int_eq(hf_cache_key(&model, 3, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:3:model:mood");
    struct hf_cache_ref profile = { .kind = HF_CACHE_PROFILE, .id = 5 };
    ck_assert_int_eq(hf_cache_key(&profile, 1, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{u:5}:1:profile");
    struct hf_cache_ref score = { .kind = HF_CACHE_INGREDIENT_SCORE, .name = "greek yogurt" };
    ck_assert_int_eq(hf_cache_key(&score, 9, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{i:greek yogurt}:9:score");
    score.kind = HF_CACHE_INGREDIENT_DATA;
    ck_assert_int_eq(hf_cache_key(&score, 9, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{i:greek yogurt}:9:data");
}
END_TEST

START_TEST(version_and_helper_keys)
{
    char k[128];
    ck_assert_int_eq(hf_cache_version_key(HF_CACHE_PROGRAM, 7, NULL, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{p:7}:ver");
    ck_assert_int_eq(hf_cache_version_key(HF_CACHE_MEMBER, 12, NULL, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:ver");
    ck_assert_int_eq(hf_cache_version_key(HF_CACHE_USER, 5, NULL, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{u:5}:ver");
    ck_assert_int_eq(hf_cache_version_key(HF_CACHE_INGREDIENT, 0, "oats", k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{i:oats}:ver");
    /* adherence weeks run Monday to Sunday, before the epoch too */
    ck_assert_int_eq(hf_cache_week_version_key(7, day("2026-11-20"), k, sizeof k), 0); /* a Friday */
    ck_assert_str_eq(k, "hf:{p:7}:ver:w:2026-11-16");
    ck_assert_int_eq(hf_cache_week_version_key(7, day("2026-11-16"), k, sizeof k), 0); /* the Monday itself */
    ck_assert_str_eq(k, "hf:{p:7}:ver:w:2026-11-16");
    ck_assert_int_eq(hf_cache_week_version_key(7, day("2026-11-22"), k, sizeof k), 0); /* its Sunday */
    ck_assert_str_eq(k, "hf:{p:7}:ver:w:2026-11-16");
    ck_assert_int_eq(hf_cache_week_version_key(7, day("2026-11-23"), k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{p:7}:ver:w:2026-11-23");
    ck_assert_int_eq(hf_cache_week_version_key(7, day("1969-12-31"), k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{p:7}:ver:w:1969-12-29");
    ck_assert_int_eq(hf_cache_week_version_key(0, day("2026-11-20"), k, sizeof k), HF_EINVAL);
    ck_assert_int_eq(hf_cache_week_version_key(7, day("2026-11-20"), k, 20), HF_EINVAL);
    ck_assert_int_eq(hf_cache_changed_key(12, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:changed");
    ck_assert_int_eq(hf_cache_refresh_key(12, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:{m:12}:refresh");
    ck_assert_int_eq(hf_cache_ratelimit_key("user", 12, "read", k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:rl:user:12:read");
    ck_assert_int_eq(hf_cache_ratelimit_key("client", 3, NULL, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:rl:client:3");
    ck_assert_int_eq(hf_cache_ratelimit_key("api:usda", 0, NULL, k, sizeof k), 0);
    ck_assert_str_eq(k, "hf:rl:api:usda");
    /* every kind lives in the namespace the scheme says */
    ck_assert_int_eq(hf_cache_entity_of(HF_CACHE_ADHERENCE), HF_CACHE_PROGRAM);
    ck_assert_int_eq(hf_cache_entity_of(HF_CACHE_INSIGHTS), HF_CACHE_MEMBER);
    ck_assert_int_eq(hf_cache_entity_of(HF_CACHE_PREDICTIONS), HF_CACHE_MEMBER);
    ck_assert_int_eq(hf_cache_entity_of(HF_CACHE_PROFILE), HF_CACHE_USER);
    ck_assert_int_eq(hf_cache_entity_of(HF_CACHE_INGREDIENT_SCORE), HF_CACHE_INGREDIENT);
}
END_TEST

START_TEST(ttls_from_the_documents)
{
    ck_assert_int_eq(hf_cache_ttl_s(HF_CACHE_ADHERENCE), 300);             /* 001: 1-5 min stale tolerated */
    ck_assert_int_eq(hf_cache_ttl_s(HF_CACHE_INSIGHTS), 86400);            /* 002: 24 h */
    ck_assert_int_eq(hf_cache_ttl_s(HF_CACHE_INGREDIENT_SCORE), 7 * 86400); /* 002: 7 days */
    ck_assert_int_eq(hf_cache_ttl_s(HF_CACHE_INGREDIENT_DATA), 86400);     /* 002: 24 h */
    ck_assert_int_gt(hf_cache_ttl_s(HF_CACHE_MODEL), 0);
    ck_assert_int_gt(hf_cache_ttl_s(HF_CACHE_PREDICTIONS), 0);
    ck_assert_int_gt(hf_cache_ttl_s(HF_CACHE_PROFILE), 0);
}
END_TEST

START_TEST(bad_references_refused)
{
    char k[256], tiny[12];
    struct hf_cache_ref r = { .kind = HF_CACHE_INSIGHTS, .id = 0 };
    ck_assert_int_eq(hf_cache_key(&r, 1, k, sizeof k), HF_EINVAL); /* id 0 */
    r.id = -4;
    ck_assert_int_eq(hf_cache_key(&r, 1, k, sizeof k), HF_EINVAL);
    r.id = 12;
    ck_assert_int_eq(hf_cache_key(&r, 1, tiny, sizeof tiny), HF_EINVAL); /* never a cut key */
    struct hf_cache_ref adh = { .kind = HF_CACHE_ADHERENCE, .id = 7, .from = day("2026-11-07"), .to = day("2026-11-01") };
    ck_assert_int_eq(hf_cache_key(&adh, 1, k, sizeof k), HF_EINVAL); /* backwards range */
    struct hf_cache_ref pred = { .kind = HF_CACHE_PREDICTIONS, .id = 1, .sub = "weather" };
    ck_assert_int_eq(hf_cache_key(&pred, 1, k, sizeof k), HF_EINVAL);
    struct hf_cache_ref model = { .kind = HF_CACHE_MODEL, .id = 1 };
    ck_assert_int_eq(hf_cache_key(&model, 1, k, sizeof k), HF_EINVAL); /* a model key needs its kind */
    struct hf_cache_ref ing = { .kind = HF_CACHE_INGREDIENT_SCORE, .name = "" };
    ck_assert_int_eq(hf_cache_key(&ing, 1, k, sizeof k), HF_EINVAL);
    ing.name = "a}b"; /* would break the hash tag */
    ck_assert_int_eq(hf_cache_key(&ing, 1, k, sizeof k), HF_EINVAL);
    ing.name = "line\nbreak";
    ck_assert_int_eq(hf_cache_key(&ing, 1, k, sizeof k), HF_EINVAL);
    char longname[100];
    memset(longname, 'a', 81);
    longname[81] = '\0';
    ing.name = longname;
    ck_assert_int_eq(hf_cache_key(&ing, 1, k, sizeof k), HF_EINVAL);
    struct hf_cache_ref unknown = { .kind = (enum hf_cache_kind)99, .id = 1 };
    ck_assert_int_eq(hf_cache_key(&unknown, 1, k, sizeof k), HF_EINVAL);
    ck_assert_int_eq(hf_cache_version_key(HF_CACHE_MEMBER, 0, NULL, k, sizeof k), HF_EINVAL);
    ck_assert_int_eq(hf_cache_ratelimit_key("", 1, NULL, k, sizeof k), HF_EINVAL);
    ck_assert_int_eq(hf_cache_ratelimit_key("a b", 1, NULL, k, sizeof k), HF_EINVAL);
    ck_assert_int_eq(hf_cache_ratelimit_key("user", 1, "read", tiny, 8), HF_EINVAL);
}
END_TEST

START_TEST(redis_urls)
{
    struct hf_redis_url u;
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_redis_parse_url("redis://127.0.0.1:16379/1", &u, &err), 0);
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_int_eq(u.port, 16379);
    ck_assert_int_eq(u.db, 1);
    ck_assert_str_eq(u.password, "");
    ck_assert_int_eq(hf_redis_parse_url("redis://cache", &u, &err), 0);
    ck_assert_str_eq(u.host, "cache");
    ck_assert_int_eq(u.port, 6379);
    ck_assert_int_eq(u.db, 0);
    ck_assert_int_eq(hf_redis_parse_url("redis://:s3cret@cache:7000/", &u, &err), 0);
    ck_assert_str_eq(u.password, "s3cret");
    ck_assert_int_eq(u.port, 7000);
    ck_assert_int_eq(hf_redis_parse_url("redis://default:pw@cache/15", &u, &err), 0);
    ck_assert_str_eq(u.password, "pw");
    ck_assert_int_eq(u.db, 15);
    static const char *const bad[] = { "http://cache:6379", "redis://", "redis://:6379", "redis://cache:0",
                                       "redis://cache:70000", "redis://cache:x/1", "redis://cache/16",
                                       "redis://cache/-1", "redis://cache/1x", "redis://cache:6379/1/2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        ck_assert_msg(hf_redis_parse_url(bad[i], &u, &err) == HF_EINVAL, "%s accepted", bad[i]);
        ck_assert_str_eq(err.field, "HF_REDIS_URL");
    }
}
END_TEST

START_TEST(redis_error_replies_classified)
{
    struct hf_err err = { 0 };
    ck_assert_int_eq(hf_redis_error_reply("LOADING Redis is loading the dataset in memory", &err), HF_EUNAVAIL);
    ck_assert(err.unavailable && err.retriable);
    ck_assert_int_eq(hf_redis_error_reply("BUSY Redis is busy running a script", &err), HF_EUNAVAIL);
    ck_assert_int_eq(hf_redis_error_reply("MASTERDOWN Link with MASTER is down", &err), HF_EUNAVAIL);
    ck_assert_int_eq(hf_redis_error_reply("READONLY You can't write against a read only replica.", &err), HF_EUNAVAIL);
    ck_assert_int_eq(hf_redis_error_reply("OOM command not allowed when used memory > 'maxmemory'.", &err),
                     HF_EUNAVAIL);
    ck_assert_int_eq(hf_redis_error_reply("ERR wrong number of arguments for 'get' command", &err), HF_EIO);
    ck_assert(!err.unavailable && !err.retriable);
    ck_assert_int_eq(hf_redis_error_reply("BUSYKEY Target key name already exists.", &err), HF_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "BUSYKEY"));
}
END_TEST

START_TEST(script_sha_is_sha1_of_the_source)
{
    struct hf_redis_script s;
    hf_redis_script_init(&s, "return 1");
    /* printf 'return 1' | sha1sum */
    ck_assert_str_eq(s.sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache_keys");
    TCase *tc = tcase_create("keys");
    tcase_add_test(tc, keys_of_every_kind);
    tcase_add_test(tc, version_and_helper_keys);
    tcase_add_test(tc, ttls_from_the_documents);
    tcase_add_test(tc, bad_references_refused);
    tcase_add_test(tc, redis_urls);
    tcase_add_test(tc, redis_error_replies_classified);
    tcase_add_test(tc, script_sha_is_sha1_of_the_source);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
