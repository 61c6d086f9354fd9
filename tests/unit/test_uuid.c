/* Unit tests of common/hf_uuid: random and name-based ids, validation and
 * normalisation. */
#include <check.h>
#include <ctype.h>
#include <string.h>

#include "hf_uuid.h"
#include "unit_util.h"

static void assert_canonical_lower(const char *id, char version)
{
    ck_assert_uint_eq(strlen(id), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_msg(id[i] == '-', "%s: '-' at %d", id, i);
        else
            ck_assert_msg(isdigit((unsigned char)id[i]) || (id[i] >= 'a' && id[i] <= 'f'), "%s: lower hex at %d",
                          id, i);
    }
    ck_assert_msg(id[14] == version, "%s: version nibble %c, expected %c", id, id[14], version);
    ck_assert_msg(strchr("89ab", id[19]) != NULL, "%s: RFC 4122 variant nibble, got %c", id, id[19]);
    ck_assert(hf_uuid_valid(id));
}

START_TEST(test_v4)
{
    enum { N = 400 };
    static char ids[N][HF_UUID_STRLEN];
    for (int i = 0; i < N; i++) {
        memset(ids[i], '#', HF_UUID_STRLEN);
        ck_assert_int_eq(hf_uuid_v4(ids[i]), 0);
        ck_assert_int_eq(ids[i][36], '\0');
        assert_canonical_lower(ids[i], '4');
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "two v4 ids equal: %s", ids[i]);
    /* the random nibbles do vary: every hex digit shows up at position 0 over 400 ids
     * with overwhelming probability (a stuck generator would fail) */
    int seen = 0;
    for (int i = 0; i < N; i++)
        seen |= 1 << (isdigit((unsigned char)ids[i][0]) ? ids[i][0] - '0' : ids[i][0] - 'a' + 10);
    ck_assert_int_eq(seen, 0xffff);
}
END_TEST

START_TEST(test_v5)
{
    char a[HF_UUID_STRLEN], b[HF_UUID_STRLEN];
    /* expected values computed independently: SHA-1(namespace || 0x00 || name),
     * version 5, RFC 4122 variant */
    hf_uuid_v5("healthfleet.intake", "client-7:key-abc", a);
    ck_assert_str_eq(a, "57417baa-b0cb-5757-b443-03c38301e3c4");
    assert_canonical_lower(a, '5');
    hf_uuid_v5("healthfleet.intake", "client-7:key-abc", b);
    ck_assert_str_eq(a, b); /* deterministic */

    hf_uuid_v5("", "", a);
    ck_assert_str_eq(a, "5ba93c9d-b0cf-593f-92b5-21d7420e43f6");

    hf_uuid_v5("ab", "c", a);
    hf_uuid_v5("a", "bc", b);
    ck_assert_str_eq(a, "dbdd4f85-d8a5-5500-aa5c-9c8a0d456f96");
    ck_assert_str_eq(b, "0b274966-8f0e-58df-8a63-0da13f0d2187");
    ck_assert_str_ne(a, b);

    hf_uuid_v5("healthfleet.intake", "client-7:key-abc", a);
    hf_uuid_v5("healthfleet.other", "client-7:key-abc", b);
    ck_assert_str_ne(a, b); /* other namespace, other id */
    assert_canonical_lower(b, '5');
    hf_uuid_v5("healthfleet.intake", "client-7:key-abd", b);
    ck_assert_str_ne(a, b); /* other name, other id */
}
END_TEST

START_TEST(test_valid)
{
    static const char *const good[] = {
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f",
        "3F2B8C1E-5D4A-4E8B-9C7D-1A2B3C4D5E6F",
        "3f2B8c1E-5d4A-4e8B-9c7D-1a2B3c4D5e6F",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(hf_uuid_valid(good[i]), "%s", good[i]);
    static const char *const bad[] = {
        "",
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6",   /* 35 */
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f0", /* 37 */
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6g",  /* not hex */
        "3f2b8c1e5d4a-4e8b-9c7d-1a2b3c4d5e6f0",  /* hyphen moved */
        "3f2b8c1e-5d4a4e8b-9c7d--1a2b3c4d5e6f",
        "3f2b8c1e_5d4a_4e8b_9c7d_1a2b3c4d5e6f",
        "3f2b8c1e5d4a4e8b9c7d1a2b3c4d5e6f",      /* no hyphens */
        "{3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f}",
        "urn:uuid:3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f",
        " 3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f",
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f\n",
        "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e 6",
        "-3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!hf_uuid_valid(bad[i]), "\"%s\" accepted", bad[i]);
    ck_assert(!hf_uuid_valid(NULL));
}
END_TEST

START_TEST(test_normalise)
{
    char s[] = "3F2B8C1E-5D4A-4E8B-9C7D-1A2B3C4D5E6F";
    hf_uuid_normalise(s);
    ck_assert_str_eq(s, "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f");
    hf_uuid_normalise(s); /* idempotent */
    ck_assert_str_eq(s, "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f");
    char m[] = "aBcDeF01-2345-4789-Abcd-EF0123456789";
    hf_uuid_normalise(m);
    ck_assert_str_eq(m, "abcdef01-2345-4789-abcd-ef0123456789");
    ck_assert(hf_uuid_valid(m));
}
END_TEST

static Suite *uuid_suite(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tcase_create("uuid");
    tcase_add_test(tc, test_v4);
    tcase_add_test(tc, test_v5);
    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_normalise);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(uuid_suite());
}
