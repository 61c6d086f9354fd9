/* Unit tests of the meal-image pool's pure parts: the caption parser (a
 * table), name normalisation, image magic numbers and header dimensions, the
 * vision answer parser, host and address rules, the plate arithmetic. */
#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf_err.h"
#include "meal_bytes.h"
#include "meal_caption.h"
#include "meal_net.h"
#include "meal_plate.h"
#include "meal_vision.h"
#include "unit_util.h"

/* ---------- captions ---------- */

static const struct {
    const char *caption;
    const char *want; /* "qty unit name; ..." */
} CAPTIONS[] = {
    { "2 eggs, 1 slice whole wheat toast, 200 g greek yogurt, 1 cup rice",
      "2 piece egg; 1 slice whole wheat toast; 200 g greek yogurt; 1 cup rice" },
    { "200g chicken breast and 1/2 cup brown rice", "200 g chicken breast; 0.5 cup brown rice" },
    { "1 1/2 cups of oatmeal with 1 tbsp honey", "1.5 cup oatmeal; 1 tbsp honey" },
    { "a banana + two large eggs", "1 piece banana; 2 piece egg" },
    { "half a cup of blueberries; 3 oz salmon", "0.5 cup blueberry; 3 oz salmon" },
    { "1 kg potatoes & 1 lb ground beef", "1000 g potato; 16 oz ground beef" },
    { "Toast\n2 tsp Butter", "1 serving toast; 2 tsp butter" },
    { "3 slices of Pizza!!", "3 slice pizza" },
    { "Greek-Yoghurt, 2 pieces sushi", "1 serving greek yoghurt; 2 piece sushi" },
    /* exponents and huge amounts are not amounts (tests/fuzz found 2e5555... = infinity) */
    { "2e999 eggs, 1 cup rice", "1 cup rice" },
    { "999999999 g rice, 0x10 eggs", "" },
    { "1.5 cups pasta", "1.5 cup pasta" },
    { "hummus", "1 serving hummus" },
    { "", "" },
    { ", , and ,", "" },
    { "2, 3 g", "" },
    { "0 eggs", "" },
    { "2x eggs", "" }, /* an amount we do not understand: skipped, not guessed */
};

static void render(const struct meal_portion *p, int n, char *out, size_t outsz)
{
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t o = strlen(out);
        snprintf(out + o, outsz - o, "%s%g %s %s", i ? "; " : "", p[i].qty, p[i].unit, p[i].name);
    }
}

START_TEST(caption_table)
{
    struct meal_portion p[MEAL_PORTIONS_MAX];
    int n = -1;
    ck_assert_int_eq(meal_caption_parse(CAPTIONS[_i].caption, p, MEAL_PORTIONS_MAX, &n), 0);
    char got[1024];
    render(p, n, got, sizeof got);
    ck_assert_msg(strcmp(got, CAPTIONS[_i].want) == 0, "\"%s\" -> \"%s\", want \"%s\"", CAPTIONS[_i].caption, got,
                  CAPTIONS[_i].want);
}
END_TEST

START_TEST(caption_too_many)
{
    char text[400] = "";
    for (int i = 0; i < MEAL_PORTIONS_MAX + 1; i++)
        strcat(text, "1 egg, ");
    struct meal_portion p[MEAL_PORTIONS_MAX];
    int n = 0;
    ck_assert_int_eq(meal_caption_parse(text, p, MEAL_PORTIONS_MAX, &n), HF_ETOOBIG);
    ck_assert_int_eq(meal_caption_parse(text, p, 2, &n), HF_ETOOBIG);
    ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(names)
{
    static const char *const cases[][3] = {
        { "Greek-Yoghurt!", "greek yoghurt", "greek yoghurt" }, { "  Eggs  ", "eggs", "egg" },
        { "Blueberries", "blueberries", "blueberry" },          { "TOMATOES", "tomatoes", "tomato" },
        { "hummus", "hummus", "hummus" },                       { "Chef's  salad", "chefs salad", "chefs salad" },
        { "glass", "glass", "glass" },                          { "peaches", "peaches", "peach" },
        { "gas", "gas", "gas" },                                { "", "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char norm[MEAL_NAME_MAX], one[MEAL_NAME_MAX];
        meal_name_normalise(cases[i][0], norm, sizeof norm);
        ck_assert_str_eq(norm, cases[i][1]);
        meal_name_singular(norm, one, sizeof one);
        ck_assert_str_eq(one, cases[i][2]);
    }
    char long_name[300], out[MEAL_NAME_MAX];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    meal_name_normalise(long_name, out, sizeof out);
    ck_assert_uint_eq(strlen(out), MEAL_NAME_MAX - 1);
    /* The cut falls right after a gap: no trailing space (tests/fuzz found it). */
    memset(long_name, 'a', MEAL_NAME_MAX - 2);
    memcpy(long_name + MEAL_NAME_MAX - 2, " bb", 4);
    meal_name_normalise(long_name, out, sizeof out);
    ck_assert_uint_eq(strlen(out), MEAL_NAME_MAX - 2);
    ck_assert_int_ne(out[strlen(out) - 1], ' ');
}
END_TEST

/* ---------- image bytes ---------- */

static size_t png(unsigned char *b, uint32_t w, uint32_t h, int with_end)
{
    static const unsigned char head[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    size_t n = 0;
    memcpy(b, head, 8);
    n = 8;
    unsigned char ihdr[25] = { 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
    for (int i = 0; i < 4; i++) {
        ihdr[8 + i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[12 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    memcpy(b + n, ihdr, 25);
    n += 25;
    if (with_end) {
        static const unsigned char iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82 };
        memcpy(b + n, iend, 12);
        n += 12;
    }
    return n;
}

START_TEST(png_checks)
{
    unsigned char b[128];
    struct meal_image_info info;
    char why[200];
    size_t n = png(b, 640, 480, 1);
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), 0);
    ck_assert_int_eq(info.format, MEAL_FMT_PNG);
    ck_assert_str_eq(info.mime, "image/png");
    ck_assert_int_eq(info.width, 640);
    ck_assert_int_eq(info.height, 480);
    n = png(b, 100000, 100000, 1);
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the PNG header claims 100000 x 100000 pixels, more than 8192 per side");
    n = png(b, 0xFFFFFFFFu, 1, 1);
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), HF_EINVAL);
    n = png(b, 0, 10, 1);
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the PNG header claims an empty image (0 x 10 pixels)");
    n = png(b, 10, 10, 0);
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the PNG is cut short (no IEND chunk)");
    n = png(b, 10, 10, 1);
    ck_assert_int_eq(meal_bytes_check(b, n - 5, 8192, &info, why, sizeof why), HF_EINVAL);
    b[n] = 'x'; /* trailing byte after IEND */
    ck_assert_int_eq(meal_bytes_check(b, n + 1, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the PNG has bytes after its end");
    b[11] = 12; /* IHDR length wrong */
    ck_assert_int_eq(meal_bytes_check(b, n, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_int_eq(meal_bytes_check(b, 8, 8192, &info, why, sizeof why), HF_EINVAL);
}
END_TEST

START_TEST(jpeg_checks)
{
    static const unsigned char ok[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 'J', 'F', 0xFF, 0xC0, 0x00, 0x11,
                                        0x08, 0x01, 0xE0, 0x02, 0x80, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01,
                                        0x03, 0x11, 0x01, 0xFF, 0xD9 };
    struct meal_image_info info;
    char why[200];
    ck_assert_int_eq(meal_bytes_check(ok, sizeof ok, 8192, &info, why, sizeof why), 0);
    ck_assert_int_eq(info.format, MEAL_FMT_JPEG);
    ck_assert_int_eq(info.width, 640);
    ck_assert_int_eq(info.height, 480);
    ck_assert_int_eq(meal_bytes_check(ok, sizeof ok, 600, &info, why, sizeof why), HF_EINVAL);
    ck_assert_int_eq(meal_bytes_check(ok, sizeof ok - 2, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the JPEG is cut short (no end-of-image marker)");
    unsigned char bad[sizeof ok];
    memcpy(bad, ok, sizeof ok);
    bad[5] = 0x40; /* APP0 segment running past the end */
    ck_assert_int_eq(meal_bytes_check(bad, sizeof bad, 8192, &info, why, sizeof why), HF_EINVAL);
    static const unsigned char nosof[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9 };
    ck_assert_int_eq(meal_bytes_check(nosof, sizeof nosof, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the JPEG has no frame header (no image size)");
}
END_TEST

START_TEST(webp_and_others)
{
    unsigned char w[30] = { 'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0 };
    w[24] = 0x7F; /* width - 1 = 639 */
    w[25] = 0x02;
    w[27] = 0xDF; /* height - 1 = 479 */
    w[28] = 0x01;
    struct meal_image_info info;
    char why[200];
    ck_assert_int_eq(meal_bytes_check(w, sizeof w, 8192, &info, why, sizeof why), 0);
    ck_assert_int_eq(info.format, MEAL_FMT_WEBP);
    ck_assert_int_eq(info.width, 640);
    ck_assert_int_eq(info.height, 480);
    w[4] = 200; /* RIFF size past the end */
    ck_assert_int_eq(meal_bytes_check(w, sizeof w, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the WebP is cut short (shorter than its RIFF header says)");
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00";
    ck_assert_int_eq(meal_bytes_check(gif, sizeof gif - 1, 8192, &info, why, sizeof why), HF_EINVAL);
    ck_assert_str_eq(why, "the file is not a JPEG, PNG or WebP image");
    ck_assert_int_eq(meal_bytes_check((const unsigned char *)"", 0, 8192, &info, why, sizeof why), HF_EINVAL);
}
END_TEST

/* ---------- vision answers ---------- */

static int parse(const char *content_json, struct meal_estimate *est, char *why)
{
    char *body = unit_dq(content_json);
    int rc = meal_vision_parse(body, strlen(body), est, why, 200);
    free(body);
    return rc;
}

START_TEST(vision_answers)
{
    struct meal_estimate est;
    char why[200];
    ck_assert_int_eq(parse("{'choices': [{'message': {'content': '{\\'items\\': [{\\'name\\': \\'rice\\', \\'grams\\': 150}],"
                           " \\'confidence\\': 0.9}'}}]}",
                           &est, why),
                     0);
    ck_assert_int_eq(est.n, 1);
    ck_assert_str_eq(est.items[0].name, "rice");
    ck_assert(fabs(est.items[0].grams - 150) < 1e-9);
    ck_assert(fabs(est.confidence - 0.9) < 1e-9);
    /* a fence is allowed, no confidence means 0.7 */
    ck_assert_int_eq(parse("{'choices': [{'message': {'content': '```json\\n{\\'items\\': []}\\n```'}}]}", &est, why), 0);
    ck_assert_int_eq(est.n, 0);
    ck_assert(fabs(est.confidence - 0.7) < 1e-9);
    static const struct {
        const char *body, *why;
    } bad[] = {
        { "not json", "the model's answer is not a JSON object" },
        { "[1]", "the model's answer is not a JSON object" },
        { "{'choices': []}", "the model's answer has no choices[0].message.content text" },
        { "{'choices': [{'message': {'content': 7}}]}", "the model's answer has no choices[0].message.content text" },
        { "{'choices': [{'message': {'content': 'Two eggs and toast.'}}]}",
          "the model did not answer with the JSON object asked for" },
        { "{'choices': [{'message': {'content': 'Here: {\\'items\\': []}'}}]}",
          "the model did not answer with the JSON object asked for" },
        { "{'choices': [{'message': {'content': '{\\'food\\': []}'}}]}", "the answer has no items list" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [7]}'}}]}", "items[0] is not an object" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [{\\'name\\': \\'\\', \\'grams\\': 1}]}'}}]}",
          "items[0].name is not a food name of 1 to 80 characters" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [{\\'name\\': \\'rice\\', \\'grams\\': \\'100\\'}]}'}}]}",
          "items[0].grams is not a number above 0 and at most 2000" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [{\\'name\\': \\'rice\\', \\'grams\\': -5}]}'}}]}",
          "items[0].grams is not a number above 0 and at most 2000" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [{\\'name\\': \\'rice\\', \\'grams\\': 5000}]}'}}]}",
          "items[0].grams is not a number above 0 and at most 2000" },
        { "{'choices': [{'message': {'content': '{\\'items\\': [], \\'confidence\\': 3}'}}]}",
          "the answer's confidence is not a number from 0 to 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(bad[i].body, &est, why) == HF_EINVAL, "accepted %s", bad[i].body);
        ck_assert_msg(strcmp(why, bad[i].why) == 0, "%s: why \"%s\", want \"%s\"", bad[i].body, why, bad[i].why);
    }
    char many[4096] = "{'choices': [{'message': {'content': '{\\'items\\': [";
    for (int i = 0; i < 21; i++)
        strcat(many, i ? ", {\\'name\\': \\'x\\', \\'grams\\': 1}" : "{\\'name\\': \\'x\\', \\'grams\\': 1}");
    strcat(many, "]}'}}]}");
    ck_assert_int_eq(parse(many, &est, why), HF_EINVAL);
    ck_assert_str_eq(why, "the answer lists more than 20 foods");
}
END_TEST

START_TEST(vision_request)
{
    const unsigned char img[] = { 0xFF, 0xD8, 0xFF, 'a' };
    char *body = meal_vision_request("gpt-x", img, sizeof img, "image/jpeg", "2 eggs");
    ck_assert_ptr_nonnull(body);
    json_t *j = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "model")), "gpt-x");
    json_t *user = json_object_get(json_array_get(json_object_get(j, "messages"), 1), "content");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(user, 0), "text")),
                     "The person's caption (a hint, may be wrong): 2 eggs");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(json_array_get(user, 1), "image_url"), "url")),
        "data:image/jpeg;base64,/9j/YQ==");
    json_decref(j);
    free(body);
}
END_TEST

/* ---------- hosts and addresses ---------- */

START_TEST(hosts)
{
    const char *list = " photos.example.com , .cdn.example.net,127.0.0.1";
    ck_assert(meal_host_allowed(list, "photos.example.com"));
    ck_assert(meal_host_allowed(list, "PHOTOS.example.COM"));
    ck_assert(meal_host_allowed(list, "a.b.cdn.example.net"));
    ck_assert(meal_host_allowed(list, "cdn.example.net"));
    ck_assert(meal_host_allowed(list, "127.0.0.1"));
    ck_assert(!meal_host_allowed(list, "evilcdn.example.net"));
    ck_assert(!meal_host_allowed(list, "photos.example.com.evil.org"));
    ck_assert(!meal_host_allowed(list, "example.com"));
    ck_assert(!meal_host_allowed(list, ""));
    ck_assert(!meal_host_allowed("", "photos.example.com"));
}
END_TEST

static const char *v4(const char *ip, bool allow)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return meal_addr_refusal((struct sockaddr *)&a, allow);
}

static const char *v6(const char *ip, bool allow)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return meal_addr_refusal((struct sockaddr *)&a, allow);
}

START_TEST(addresses)
{
    ck_assert_ptr_null(v4("93.184.216.34", false));
    ck_assert_str_eq(v4("127.0.0.1", false), "a loopback address");
    ck_assert_ptr_null(v4("127.0.0.1", true));
    ck_assert_str_eq(v4("10.1.2.3", false), "a private address");
    ck_assert_str_eq(v4("172.31.0.1", false), "a private address");
    ck_assert_ptr_null(v4("172.32.0.1", false));
    ck_assert_str_eq(v4("192.168.1.1", false), "a private address");
    ck_assert_str_eq(v4("169.254.169.254", true), "a link-local address (cloud metadata services live there)");
    ck_assert_str_eq(v4("0.0.0.0", true), "an unspecified address");
    ck_assert_str_eq(v4("224.0.0.1", true), "a multicast or reserved address");
    ck_assert_str_eq(v4("100.64.0.1", true), "a reserved address");
    ck_assert_ptr_null(v6("2606:2800:220:1::1", false));
    ck_assert_str_eq(v6("::1", false), "a loopback address");
    ck_assert_str_eq(v6("fe80::1", true), "a link-local address (cloud metadata services live there)");
    ck_assert_str_eq(v6("fd00:ec2::254", false), "a private address");
    ck_assert_str_eq(v6("::ffff:169.254.169.254", true), "a link-local address (cloud metadata services live there)");
    ck_assert_str_eq(v6("::ffff:127.0.0.1", false), "a loopback address");
    ck_assert_str_eq(v6("::", true), "an unspecified address");
    ck_assert_str_eq(v6("ff02::1", true), "a multicast address");
}
END_TEST

/* ---------- plates ---------- */

START_TEST(plate)
{
    json_t *egg_units = json_pack("{s:i, s:i}", "piece", 50, "cup", 243);
    json_t *rice_units = json_pack("{s:i}", "cup", 158);
    struct meal_food foods[3] = {
        { true, "egg", 171287, { 143, 12.56, 0.72, 9.51, 0, 0.37 }, egg_units },
        { true, "white rice", 168878, { 130, 2.69, 28.17, 0.28, 0.4, 0.05 }, rice_units },
        { false, "", 0, { 0 }, NULL },
    };
    struct meal_item items[3] = { { "eggs", 2, "piece" }, { "rice", 1, "cup" }, { "moon cheese", 100, "g" } };
    char why[200];
    json_t *p = meal_plate_build(items, foods, 3, "caption", 0.3, why, sizeof why);
    ck_assert_ptr_nonnull(p);
    /* egg 100 g: 143 kcal; rice 158 g: 205.4 kcal */
    ck_assert(fabs(json_real_value(json_object_get(p, "calories")) - 348.4) < 1e-9);
    ck_assert(fabs(json_real_value(json_object_get(p, "grams")) - 258) < 1e-9);
    ck_assert(fabs(json_real_value(json_object_get(p, "confidence")) - 0.2) < 1e-9);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(p, "unmatched"), 0), "reason")),
                     "not in the nutrition table");
    json_decref(p);
    /* tbsp from a cup; a unit the food has no weight for */
    ck_assert(fabs(meal_unit_grams("tbsp", 2, rice_units) - 158.0 / 8) < 1e-9);
    ck_assert(fabs(meal_unit_grams("tsp", 3, rice_units) - 158.0 / 16) < 1e-9);
    ck_assert(fabs(meal_unit_grams("oz", 2, NULL) - 56.69904625) < 1e-6);
    ck_assert(meal_unit_grams("slice", 1, rice_units) < 0);
    ck_assert(fabs(meal_unit_grams("serving", 1, egg_units) - 50) < 1e-9);
    struct meal_item slice[1] = { { "rice", 1, "slice" } };
    ck_assert_ptr_null(meal_plate_build(slice, &foods[1], 1, "caption", 0.3, why, sizeof why));
    ck_assert_str_eq(why, "none of the 1 food (rice) could be matched to the nutrition table");
    ck_assert_ptr_null(meal_plate_build(NULL, NULL, 0, "vision", 0.8, why, sizeof why));
    ck_assert_str_eq(why, "no food was found on the plate");
    json_decref(egg_units);
    json_decref(rice_units);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("meal_image");
    TCase *tc = tcase_create("meal_image");
    tcase_add_loop_test(tc, caption_table, 0, (int)(sizeof CAPTIONS / sizeof CAPTIONS[0]));
    tcase_add_test(tc, caption_too_many);
    tcase_add_test(tc, names);
    tcase_add_test(tc, png_checks);
    tcase_add_test(tc, jpeg_checks);
    tcase_add_test(tc, webp_and_others);
    tcase_add_test(tc, vision_answers);
    tcase_add_test(tc, vision_request);
    tcase_add_test(tc, hosts);
    tcase_add_test(tc, addresses);
    tcase_add_test(tc, plate);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
