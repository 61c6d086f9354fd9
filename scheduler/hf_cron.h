/* hf_cron: cron expressions and their next fire time in a time zone.
 *
 * Syntax (Vixie cron's, checked strictly):
 *   MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK
 *   or SECOND MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK (six fields)
 * Each field is a comma list of `*`, `N`, `A-B`, each optionally `/STEP`
 * (`A/STEP` means A to the field's end). Months take jan..dec, weekdays
 * sun..sat (0 and 7 are both Sunday), any case. When both day fields are
 * restricted a day matches if EITHER does (Vixie's rule); otherwise both
 * must. Macros: @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * A range backwards, a step of 0, a value out of range, a day that never
 * exists (30 February) and anything unrecognised is refused with a message
 * naming the field.
 *
 * Time zones and daylight saving (hf_cron_next):
 *  - A wall time that does not exist (clocks jump from 02:00 to 03:00) fires
 *    at the first instant after the jump (03:00 new time), once: cronie's
 *    behaviour for fixed-time jobs.
 *  - A wall time that happens twice (clocks go back from 03:00 to 02:00)
 *    fires at its first occurrence only. Every wall time fires once, so a
 *    daily 02:30 job runs once on both change days; the price is that an
 *    every-15-minutes schedule in such a zone pauses for the repeated hour.
 *    Sub-daily schedules should therefore use UTC.
 */
#ifndef HF_CRON_H
#define HF_CRON_H

#include <stdint.h>

#include "hf_err.h"
#include "hf_tz.h"

#define HF_CRON_MAX_LEN 200

typedef struct hf_cron hf_cron;

/* Parses expr. Caller frees with hf_cron_free. Returns 0, or HF_EINVAL with
 * err->msg naming the field and the fault ("field 2 (hour): 24 is out of
 * range 0-23"), or HF_ENOMEM. */
int hf_cron_parse(const char *expr, hf_cron **out, struct hf_err *err);
void hf_cron_free(hf_cron *c);

/* The first fire time strictly after `after` (Unix seconds), with the wall
 * times read in tz. Returns 0, or HF_ENOTFOUND when none falls within the
 * next 30 years (cannot happen for a parsed expression; kept as a bound). */
int hf_cron_next(const hf_cron *c, const hf_tz *tz, int64_t after, int64_t *next);

#endif
