/* libFuzzer target: a schedule's cron expression (schedules are operator
 * configuration, but a typo must give a message, never a crash or a hang).
 *
 * Properties: a refusal has a message; an accepted expression has a next
 * fire time strictly later, in UTC and in a zone with daylight saving, and
 * a second next after the first is later still. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hf_cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static hf_tz *zones[2];
    if (!zones[0]) {
        struct hf_err err = { 0 };
        if (hf_tz_load("UTC", &zones[0], &err) || hf_tz_load("Europe/Berlin", &zones[1], &err))
            abort();
    }
    char expr[HF_CRON_MAX_LEN + 40];
    if (size >= sizeof expr)
        return 0;
    memcpy(expr, data, size);
    expr[size] = '\0';
    hf_cron *c = NULL;
    struct hf_err err = { 0 };
    if (hf_cron_parse(expr, &c, &err)) {
        if (c || err.msg[0] == '\0')
            abort();
        return 0;
    }
    const int64_t after = 1795177800; /* 2026-11-20T12:30:00Z */
    for (int z = 0; z < 2; z++) {
        int64_t next = 0, again = 0;
        int rc = hf_cron_next(c, zones[z], after, &next);
        if (rc == 0 && next <= after)
            abort();
        if (rc == 0 && hf_cron_next(c, zones[z], next, &again) == 0 && again <= next)
            abort();
    }
    hf_cron_free(c);
    return 0;
}
