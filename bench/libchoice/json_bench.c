/* json_bench.c - parse + walk + free one health event N times per parser.
 *
 *   json_bench PARSER EVENT.json [N]   -> RESULT PARSER ns/parse peak_rss_kib checksum
 *   json_bench errors                  -> each parser's message for malformed input
 *
 * Run one parser per process so that ru_maxrss is that parser's own peak.
 * The walk is what a validator does: look every field up by name, check its
 * type and read its value. A failed parse or a missing field returns NAN. */
#include <cjson/cJSON.h>
#include <jansson.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *const str_fields[] = {"type", "event_id", "member_id", "program_id", "occurred_at"};
static const char *const num_fields[] = {"calories", "protein_g", "carbs_g", "fat_g",
                                         "fiber_g", "sugar_g", "sodium_mg", "glucose_mg_dl"};
#define N_ITEMS 3
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- jansson ---- */
static double walk_jansson(const char *buf, size_t len, char *err, size_t errsz)
{
    json_error_t e;
    json_t *root = json_loadb(buf, len, 0, &e), *data, *items, *it, *v;
    double sum = NAN;
    if (!root) {
        snprintf(err, errsz, "%s (line %d, column %d, position %d)", e.text, e.line, e.column, e.position);
        return NAN;
    }
    for (size_t i = 0; i < COUNT(str_fields); i++) {
        if (!json_is_string(v = json_object_get(root, str_fields[i])))
            goto out;
        sum = (i ? sum : 0) + (double)json_string_length(v);
    }
    data = json_object_get(root, "data");
    for (size_t i = 0; i < COUNT(num_fields); i++) {
        if (!json_is_number(v = json_object_get(data, num_fields[i])))
            goto out;
        sum += json_number_value(v);
    }
    items = json_object_get(data, "items");
    if (json_array_size(items) != N_ITEMS)
        goto out;
    size_t i;
    json_array_foreach(items, i, it) {
        json_t *name = json_object_get(it, "name"), *grams = json_object_get(it, "grams");
        if (!json_is_string(name) || !json_is_number(grams))
            goto out;
        sum += (double)json_string_length(name) + json_number_value(grams);
    }
    json_decref(root);
    return sum;
out:
    json_decref(root);
    return NAN;
}

/* ---- json-c ---- */
static struct json_object *jc_get(struct json_object *o, const char *k, enum json_type t)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v))
        return NULL;
    if (t == json_type_double) /* "a number": json-c tells ints and doubles apart */
        return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int) ? v : NULL;
    return json_object_is_type(v, t) ? v : NULL;
}

static double walk_jsonc(const char *buf, size_t len, char *err, size_t errsz)
{
    static struct json_tokener *tok; /* reusable; one per thread in real code */
    if (!tok) {
        tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    }
    json_tokener_reset(tok);
    struct json_object *root = json_tokener_parse_ex(tok, buf, (int)len), *data, *items, *v;
    enum json_tokener_error je = json_tokener_get_error(tok);
    if (!root || json_tokener_get_parse_end(tok) != len) { /* NULL + continue == truncated */
        snprintf(err, errsz, "%s (position %zu)",
                 je == json_tokener_continue ? "unexpected end of input"
                 : je == json_tokener_success ? "trailing data"
                 : json_tokener_error_desc(je),
                 json_tokener_get_parse_end(tok));
        json_object_put(root);
        return NAN;
    }
    double sum = 0;
    for (size_t i = 0; i < COUNT(str_fields); i++) {
        if (!(v = jc_get(root, str_fields[i], json_type_string)))
            goto bad;
        sum += json_object_get_string_len(v);
    }
    if (!(data = jc_get(root, "data", json_type_object)))
        goto bad;
    for (size_t i = 0; i < COUNT(num_fields); i++) {
        if (!(v = jc_get(data, num_fields[i], json_type_double)))
            goto bad;
        sum += json_object_get_double(v);
    }
    if (!(items = jc_get(data, "items", json_type_array)) || json_object_array_length(items) != N_ITEMS)
        goto bad;
    for (size_t i = 0; i < N_ITEMS; i++) {
        struct json_object *it = json_object_array_get_idx(items, i), *name, *grams;
        if (!(name = jc_get(it, "name", json_type_string)) || !(grams = jc_get(it, "grams", json_type_double)))
            goto bad;
        sum += json_object_get_string_len(name) + json_object_get_double(grams);
    }
    json_object_put(root);
    return sum;
bad:
    json_object_put(root);
    return NAN;
}

/* ---- cJSON ---- */
static double walk_cjson(const char *buf, size_t len, char *err, size_t errsz)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0), *data, *items, *it, *v;
    if (!root || (size_t)(end - buf) != len) { /* only a pointer to where it stopped */
        snprintf(err, errsz, "%s (position %td)", root ? "trailing data" : "parse error", end - buf);
        cJSON_Delete(root);
        return NAN;
    }
    double sum = 0;
    for (size_t i = 0; i < COUNT(str_fields); i++) {
        if (!cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(root, str_fields[i])))
            goto bad;
        sum += (double)strlen(v->valuestring); /* no stored length */
    }
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    for (size_t i = 0; i < COUNT(num_fields); i++) {
        if (!cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(data, num_fields[i])))
            goto bad;
        sum += v->valuedouble;
    }
    items = cJSON_GetObjectItemCaseSensitive(data, "items");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) != N_ITEMS)
        goto bad;
    cJSON_ArrayForEach(it, items) {
        cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        cJSON *grams = cJSON_GetObjectItemCaseSensitive(it, "grams");
        if (!cJSON_IsString(name) || !cJSON_IsNumber(grams))
            goto bad;
        sum += (double)strlen(name->valuestring) + grams->valuedouble;
    }
    cJSON_Delete(root);
    return sum;
bad:
    cJSON_Delete(root);
    return NAN;
}

static const struct parser {
    const char *name;
    double (*walk)(const char *, size_t, char *, size_t);
} parsers[] = {{"jansson", walk_jansson}, {"json-c", walk_jsonc}, {"cjson", walk_cjson}};

/* Line 4 lacks its trailing comma; the second one is cut short. */
static const char *const malformed[] = {
    "{\n  \"type\": \"meal_logged\",\n  \"event_id\": \"3f1c2a9e-7b4d-4e21-9c8a-5d6e7f809a1b\",\n"
    "  \"member_id\": \"m_0004821937\"\n  \"program_id\": \"prog_diabetes_prevention_v2\"\n}",
    "{\"type\":\"meal_logged\",\"data\":{\"calories\":642.5,\"items\":[{\"name\":\"brown r",
};

static int errors(void)
{
    char err[256];
    for (size_t d = 0; d < COUNT(malformed); d++) {
        printf("doc %zu: %s\n", d + 1, d ? "truncated body" : "missing comma after line 4 (byte 105)");
        for (size_t p = 0; p < COUNT(parsers); p++) {
            err[0] = 0;
            double r = parsers[p].walk(malformed[d], strlen(malformed[d]), err, sizeof err);
            printf("  %-8s %s\n", parsers[p].name, isnan(r) ? err : "ACCEPTED (wrong)");
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "errors"))
        return errors();
    const struct parser *p = NULL;
    for (size_t i = 0; argc >= 3 && i < COUNT(parsers); i++)
        if (!strcmp(argv[1], parsers[i].name))
            p = &parsers[i];
    FILE *f = argc >= 3 ? fopen(argv[2], "rb") : NULL;
    if (!p || !f) {
        fprintf(stderr, "usage: %s jansson|json-c|cjson EVENT.json [N] | %s errors\n", argv[0], argv[0]);
        return 2;
    }
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    long n = argc > 3 ? atol(argv[3]) : 1000000;

    char err[256];
    double check = p->walk(buf, len, err, sizeof err);
    if (isnan(check)) {
        fprintf(stderr, "%s: sample event rejected: %s\n", p->name, err);
        return 1;
    }
    struct timespec t0, t1;
    double sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        sum += p->walk(buf, len, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RESULT %s %.0f %ld %.1f\n", p->name, ns, ru.ru_maxrss, sum / (double)n);
    return 0;
}
