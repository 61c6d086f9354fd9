/* json_bench.c - parse + walk + free one health event N times.
 * Linked with one of json_jansson.c, json_jsonc.c, json_cjson.c:
 *
 *   json_bench_<parser> EVENT.json [N]
 *       -> RESULT parser ns/parse peak_rss_kib heap_bytes_of_one_tree checksum
 *   json_bench_<parser> errors          -> the parser's messages for malformed input
 *
 * One parser per process, so ru_maxrss is that parser's own peak. */
#include "json_bench.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static int measuring;
static size_t heap_base, heap_tree;

void before_free(void)
{
    if (measuring)
        heap_tree = mallinfo2().uordblks - heap_base;
}

/* Input a validator must refuse. Byte offsets count from 0; lines and
 * columns from 1. */
static const struct {
    const char *what, *doc;
} malformed[] = {
    {"no comma after line 4: unexpected token at line 5, column 3, byte 113",
     "{\n  \"type\": \"meal_logged\",\n  \"event_id\": \"3f1c2a9e-7b4d-4e21-9c8a-5d6e7f809a1b\",\n"
     "  \"member_id\": \"m_0004821937\"\n  \"program_id\": \"prog_diabetes_prevention_v2\"\n}"},
    {"body cut off at byte 72, inside a string that opens at byte 64",
     "{\"type\":\"meal_logged\",\"data\":{\"calories\":642.5,\"items\":[{\"name\":\"brown r"},
    {"duplicate key \"member_id\"",
     "{\"member_id\":\"m_0004821937\",\"member_id\":\"m_0000000001\"}"},
    {"invalid UTF-8 (byte 0xff) in a string", "{\"member_id\":\"m_\xff\"}"},
};

static int errors(void)
{
    char err[256];
    for (size_t d = 0; d < sizeof malformed / sizeof malformed[0]; d++) {
        err[0] = 0; /* stays empty when the parser accepted the document */
        parser.walk(malformed[d].doc, strlen(malformed[d].doc), err, sizeof err);
        printf("ERROR %s | %s | %s\n", parser.name, malformed[d].what,
               err[0] ? err : "**accepted**");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "errors"))
        return errors();
    FILE *f = argc >= 2 ? fopen(argv[1], "rb") : NULL;
    if (!f) {
        fprintf(stderr, "usage: %s EVENT.json [N] | %s errors\n", argv[0], argv[0]);
        return 2;
    }
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    long n = argc > 2 ? atol(argv[2]) : 1000000;

    char err[256];
    if (isnan(parser.walk(buf, len, err, sizeof err))) { /* also warms up */
        fprintf(stderr, "%s: sample event rejected: %s\n", parser.name, err);
        return 1;
    }
    measuring = 1;
    heap_base = mallinfo2().uordblks;
    parser.walk(buf, len, err, sizeof err);
    measuring = 0;
    struct timespec t0, t1;
    double sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++)
        sum += parser.walk(buf, len, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RESULT %s %.0f %ld %zu %.1f\n", parser.name, ns, ru.ru_maxrss, heap_tree, sum / (double)n);
    return 0;
}
