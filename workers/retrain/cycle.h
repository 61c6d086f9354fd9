/* cycle: the cycle forecaster. Pure functions over one person's period
 * starts, basal temperatures and LH tests (days since the epoch):
 *
 *  - cycle lengths are the gaps between consecutive period starts; gaps
 *    outside 15..60 days are treated as missed logs and left out;
 *  - base model A: recency-weighted mean of the lengths (weight 0.8^age);
 *  - base model B: AR(1) of the lengths, L_t = c + phi L_{t-1}, fitted by
 *    least squares (GSL) once there are 5 lengths, phi clamped to +-0.95;
 *  - each is scored by rolling-origin one-step-ahead absolute errors over
 *    the last 6 cycles it could have predicted (each prediction uses only the
 *    cycles before it), and the two are combined with weights 1/(MAE + 0.5);
 *  - the interval is +-1.645 sigma (90%), sigma from the ensemble's own
 *    one-step errors shrunk toward 2.5 days;
 *  - ovulation per past cycle: first LH test >= 0.5 plus one day, else the
 *    basal-temperature shift (three readings above the previous six, the
 *    third by 0.2 C: ovulation the day before the first high one); the
 *    luteal length is the gap from it to the next start (kept 9..18). The
 *    predicted ovulation is the next start minus the mean luteal length (14
 *    when none was measured), or the current cycle's own detected ovulation;
 *    the fertile window runs from ovulation - 5 to ovulation + 1.
 * README.md beside this file writes the formulas out. */
#ifndef CYCLE_H
#define CYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "hf_err.h"

#define CYCLE_MAX_STARTS 64

struct cycle_reading {
    int32_t day;
    double value;
};

struct cycle_input {
    const int32_t *starts; /* period start days, any order, duplicates allowed */
    int n_starts;
    const struct cycle_reading *bbt; /* basal temperature, C */
    int n_bbt;
    const struct cycle_reading *lh;  /* LH test, 0..1 (>= 0.5 positive) */
    int n_lh;
};

/* The fitted forecaster: what the artifact stores. */
struct cycle_model {
    int n_lengths;       /* usable cycle lengths it was fitted on */
    double wmean;        /* model A's estimate */
    bool has_ar;
    double ar_c, ar_phi; /* model B */
    double w_mean, w_ar; /* ensemble weights, sum 1 */
    double mae_mean, mae_ar, mae; /* one-step MAE of A, B and the ensemble (NAN: none) */
    int n_errors;        /* one-step predictions behind mae */
    double sigma;        /* days, for the interval */
    double luteal;       /* mean luteal length, days */
    int n_luteal;        /* cycles it was measured in */
};

struct cycle_forecast {
    int32_t next_start, lo, hi; /* predicted start and its 90% interval */
    double length;              /* predicted length of the current cycle */
    int32_t ovulation, fertile_start, fertile_end;
    const char *ovulation_method; /* "lh", "bbt" (observed this cycle), "luteal" (measured before), "calendar" */
};

/* Fits the forecaster. Returns 0, or HF_ENOTFOUND when there is no period
 * start at all (nothing to forecast from). With fewer than 2 usable lengths
 * the length falls back to 28 days (the calendar). */
int cycle_fit(const struct cycle_input *in, struct cycle_model *out, struct hf_err *err);

/* Forecasts the cycle after the last start of `in` with model m. Returns 0 or
 * HF_ENOTFOUND (no period start). */
int cycle_forecast(const struct cycle_model *m, const struct cycle_input *in, struct cycle_forecast *out,
                   struct hf_err *err);

/* The usable cycle lengths of in (oldest first) into L (CYCLE_MAX_STARTS
 * entries); returns how many, or -1 when out of memory. */
int cycle_lengths(const struct cycle_input *in, double *L);

/* The ensemble's length for the cycle after lengths L[0..n-1], clamped to
 * 15..60 days (28 when m saw no length). */
double cycle_predict_length(const struct cycle_model *m, const double *L, int n);

/* Least-squares AR(1) fit of x[0..n-1]: x_t = c + phi x_{t-1}. Returns false
 * when n < 3 or the lagged values are all equal (phi undefined). */
bool cycle_ar1_fit(const double *x, int n, double *c, double *phi);

/* Ovulation day detected in [from, to) by LH first, else by the
 * temperature shift; false when neither shows one. *method is "lh" or "bbt". */
bool cycle_detect_ovulation(const struct cycle_input *in, int32_t from, int32_t to, int32_t *day, const char **method);

#endif
