/* fx: 002's feature engineering for one person's symptom logs.
 *
 * For a day t, with V vocabulary ingredients (those eaten on at least 3 days,
 * the 16 most frequent; names from symptom logs' ingredients[] and nutrition
 * logs' items[].name):
 *   per ingredient: eaten on t; eaten on any of t-3..t-1; days eaten in
 *     t-6..t; days since last eaten (0 = on t, capped at 30)       4 V
 *   weekday (Mon 0 .. Sun 6), weekend, days since the first log       3
 *   cycle phase one-hot (menstrual, follicular, ovulation, luteal):
 *     the log's own, else from the period starts                      4
 *   mean bloating, energy, focus, mood over t-7..t-1 (else the mean
 *     of every earlier day, else 2.5); bloating trend (mean t-3..t-1
 *     minus mean t-7..t-4)                                            5
 * Only days before t enter the symptom features, so no row sees its own
 * target. Pure functions; the caller owns every input. */
#ifndef FX_H
#define FX_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_err.h"

#define FX_MAX_VOCAB 16
#define FX_MIN_DAYS_EATEN 3
#define FX_SYM 4 /* bloating, energy, focus, mood */
enum { FX_BLOATING, FX_ENERGY, FX_FOCUS, FX_MOOD };

struct fx_day {
    int32_t day;           /* days since the epoch */
    bool logged;           /* a symptom log that day (a training row) */
    int8_t sym[FX_SYM];    /* 0..5, -1 when not given */
    int8_t phase;          /* -1 unknown, else 0..3 in the order above */
    const int *ing;        /* indices into fx_data.names */
    int n_ing;
};

struct fx_data {
    const struct fx_day *days; /* ascending, one per day */
    int n_days;
    const char *const *names;
    int n_names;
    const int32_t *starts;     /* period starts, ascending */
    int n_starts;
};

typedef struct fx fx;

/* The vocabulary for d: up to FX_MAX_VOCAB names (borrowed from d->names),
 * most days eaten first, then by name. Returns how many. */
int fx_choose_vocab(const struct fx_data *d, const char **vocab);

/* Indexes d for rows over `vocab` (names matched exactly; a name d never
 * saw is never present). Caller frees with fx_free. Returns 0, HF_EINVAL
 * (days not ascending or too far apart: over 4000 days), HF_ENOMEM. */
int fx_new(const struct fx_data *d, const char *const *vocab, int n_vocab, fx **out, struct hf_err *err);
void fx_free(fx *f);

/* Number of features: 4 V + 12. */
int fx_width(const fx *f);

/* The features of day `day` (any day from the first log to the day after the
 * last) into out (fx_width values). */
void fx_row(const fx *f, int32_t day, double *out);

#endif
