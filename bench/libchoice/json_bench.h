/* json_bench.h - one parser plugged into the json_bench.c driver.
 *
 * Each parser lives in its own json_<parser>.c and is linked into its own
 * binary: jansson and json-c both export json_object_get and
 * json_object_iter_next, so they cannot share a process (or a header). */
#ifndef JSON_BENCH_H
#define JSON_BENCH_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The walk is what a validator does: look every field up by name, check its
 * type and read its value. Returns a checksum of what it read, or NAN after
 * writing the parser's own error message to err. */
struct parser {
    const char *name;
    double (*walk)(const char *buf, size_t len, char *err, size_t errsz);
};
extern const struct parser parser;

/* Each walk calls this just before it frees the tree, so the driver can see
 * how much heap one parsed event holds. */
void before_free(void);

static const char *const str_fields[] = {"type", "event_id", "member_id", "program_id", "occurred_at"};
static const char *const num_fields[] = {"calories", "protein_g", "carbs_g", "fat_g",
                                         "fiber_g", "sugar_g", "sodium_mg", "glucose_mg_dl"};
#define N_STR 5
#define N_NUM 8
#define N_ITEMS 3

/* json-c and cJSON stop after the value; anything but whitespace after it is an error */
static inline int only_ws(const char *p, const char *end)
{
    while (p < end && strchr(" \t\r\n", *p))
        p++;
    return p == end;
}

#endif
