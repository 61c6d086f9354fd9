/* 0800: the intake against its own OpenAPI document, checked by an outside
 * client (schemathesis, tests/contract/run) on the real stack.
 *
 * The test's world: its topic prefix, an API client, a member with a program
 * and rows for every read (adherence days and weeks, a prediction, insights),
 * and a second member with no insights (404 and a refresh asked); hf-intake
 * with per-user limits out of the way (429 is documented, but a run made of
 * 429s would test nothing else). First GET /openapi.json must be, byte for
 * byte, the document the build generated (<build>/openapi.json) and need no
 * API key; then schemathesis generates requests for every operation and
 * checks every answer: no server error or dropped connection, documented
 * status codes and content types, bodies matching their schemas. Finally the
 * intake must stop cleanly with no sanitizer report.
 * HF_CT_LONG=1 (tests/contract/run --long, make fuzz) runs many more examples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it_harness.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f, "cannot read %s", path);
    ck_assert(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    ck_assert(n > 0 && fseek(f, 0, SEEK_SET) == 0);
    char *buf = malloc((size_t)n + 1);
    ck_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

START_TEST(contract)
{
    struct it_client client;
    it_make_client(&client, "app");
    long long user = it_make_user(client.id, "u");
    long long member = it_make_member(user, "Ada");
    it_make_member(user, "Ben");
    long long program = it_make_program(member, -20, "{\"calories\": 2000}", NULL);
    it_sql("INSERT INTO adherence_metrics (program_id, date, total_score, details) VALUES "
           "(%lld, current_date - 1, 82.5, '{\"nutrition\": {\"calories\": 0.9}}')",
           program);
    it_sql("INSERT INTO adherence_weekly (program_id, week_start, avg_score, days_logged, details) VALUES "
           "(%lld, current_date - 7, 80, 5, '{\"days\": 5}')",
           program);
    it_sql("INSERT INTO predictions (member_id, kind, target, predicted_for, value) VALUES "
           "(%lld, 'cycle', 'next_period', current_date + 10, '{\"low\": 8, \"high\": 12, \"confidence\": \"medium\"}')",
           member);
    it_sql("INSERT INTO user_insights (member_id, data_hash, insights) VALUES (%lld, 'h1', '{\"items\": []}')", member);
    const char *env[] = { "HF_RATE_USER_READ_RPM=100000000", "HF_RATE_USER_WRITE_RPM=100000000", NULL };
    int port;
    it_start_intake(&port, env);

    char path[600];
    snprintf(path, sizeof path, "%s/../openapi.json", getenv("HF_BIN_DIR"));
    size_t want_len;
    char *want = slurp(path, &want_len);
    struct it_http r;
    ck_assert_int_eq(it_request(&r, "GET", port, "/openapi.json", NULL, NULL, 0, false), 200);
    ck_assert_msg(r.len == want_len && memcmp(r.body, want, want_len) == 0,
                  "GET /openapi.json is not the document the build generated (%s)", path);
    char ctype[80];
    ck_assert_str_eq(it_http_header(&r, "Content-Type", ctype, sizeof ctype), "application/json");
    it_http_free(&r);
    free(want);

    char script[600], url[64], key[160], mem[48], prog[48];
    snprintf(script, sizeof script, "%s/tests/contract/run", getenv("HF_SOURCE_DIR"));
    snprintf(url, sizeof url, "HF_CT_URL=http://127.0.0.1:%d", port);
    snprintf(key, sizeof key, "HF_CT_KEY=%s", client.key);
    snprintf(mem, sizeof mem, "HF_CT_MEMBER=%lld", member);
    snprintf(prog, sizeof prog, "HF_CT_PROGRAM=%lld", program);
    const char *argv[] = { script, NULL };
    const char *run_env[] = { url, key, mem, prog, NULL };
    const char *lng = getenv("HF_CT_LONG");
    bool long_run = lng && strcmp(lng, "1") == 0;
    char out[512] = "";
    int status = it_run(out, sizeof out, (long_run ? 1700 : 270) * 1000, argv, run_env);
    it_note("%s", out);
    ck_assert_msg(status == 0, "schemathesis found disagreements (exit %d): see the log", status);
    long long cases = 0;
    const char *c = strstr(out, "contract: ");
    ck_assert_msg(c && sscanf(c, "contract: %lld cases", &cases) == 1 && cases > 0, "no cases ran: %s", out);
    it_stop_all_ok();
}
END_TEST

int main(void)
{
    const TTest *tests[] = { contract };
    const char *lng = getenv("HF_CT_LONG");
    return it_run_suite("0800-contract", tests, 1, lng && strcmp(lng, "1") == 0 ? 1790 : 290);
}
