/* model: one person's model of one kind, trained, evaluated, used to
 * predict, and stored as a msgpack artifact (artifact.c). Kinds and the
 * rules that pick an algorithm (README.md):
 *
 *   symptoms  P(bloating >= 3), P(energy <= 2), P(focus <= 2)
 *   energy    energy 0..5 (regression)
 *   mood      5 classes: mood 0-1, 2, 3, 4, 5
 *   cycle     next period start, ovulation, fertile window
 *
 * Symptom-log kinds: under 14 logged days no model (cold start); under 50
 * linear (L2 logistic, balanced classes; ridge for energy; one-vs-rest
 * logistic for mood); from 50 boosted trees. Rows are split by time, the
 * oldest 80% to fit and the newest 20% to validate. The cycle kind trains
 * once 3 cycle lengths are known. */
#ifndef MODEL_H
#define MODEL_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "cycle.h"
#include "fx.h"
#include "gbt.h"
#include "hf_err.h"

enum model_kind { KIND_CYCLE, KIND_SYMPTOMS, KIND_ENERGY, KIND_MOOD, KIND_N };

#define MODEL_COLD_START 14 /* logged days below which there is no model */
#define MODEL_BOOSTED 50    /* logged days from which trees replace linear models */
#define MODEL_CYCLE_MIN 3   /* cycle lengths needed to train the forecaster */
#define MODEL_CYCLE_MAX_MAE 4.0 /* days: a forecaster above this is not activated */

/* "cycle", "symptoms", "energy", "mood"; -1 / NULL for others. */
const char *model_kind_name(int kind);
int model_kind_parse(const char *name);

/* Everything one person's models learn from; the caller owns it all. */
struct member_data {
    struct fx_data fx;          /* symptom days (last 90 days of logs), names, period starts */
    struct cycle_input cyc;     /* period starts, temperatures, LH tests */
    const double *gut, *inflammation; /* per fx.names entry, NAN when unscored (cold start) */
};

typedef struct model model;

/* Trains kind on d. *out is the caller's (model_free). Returns 0,
 * HF_ENOTFOUND when d has too little data for a model of the kind (cold
 * start, fewer than 3 cycle lengths: predictions then come from the
 * baseline), HF_ENOMEM, or HF_EIO / HF_EINVAL from the fit. */
int model_train(int kind, const struct member_data *d, model **out, struct hf_err *err);

/* model_train with the boosted trees' parameters given (NULL: the kind's
 * own, model_tree_params), for benchmarks and parameter studies. */
int model_train_with(int kind, const struct member_data *d, const struct gbt_params *trees, model **out,
                     struct hf_err *err);

/* The boosted trees' parameters model_train uses for kind (README.md). */
struct gbt_params model_tree_params(int kind);

/* Scores m on d's validation rows, the way a new model is scored: higher is
 * better (minus the Brier score or the MAE). NAN when d has no row to score. */
double model_evaluate(const model *m, const struct member_data *d);

int model_kind(const model *m);
const char *model_algorithm(const model *m);
int model_samples(const model *m);
/* Validation score at training (higher is better) and whether it passed the
 * kind's threshold (README.md: at least as good as the base rate). */
double model_score(const model *m);
bool model_passed(const model *m);
/* The validation metrics as a new JSON object (caller decrefs); NULL on ENOMEM. */
json_t *model_metrics(const model *m);

/* The predictions of kind for d as a new JSON array of {target,
 * predicted_for (YYYY-MM-DD), value {...}}, appended to `out`. m NULL: the
 * baseline (cold start from ingredient scores, the person's own averages,
 * the calendar). Nothing is appended when there is nothing to predict from
 * (no logs, no period). Returns 0 or HF_ENOMEM. */
int model_predict(const model *m, int kind, const struct member_data *d, json_t *out, struct hf_err *err);

/* The rows output j of m learns from in d, as training builds them: every
 * day with a label, oldest first, X row-major n x p; the oldest ntr were
 * fitted on, the others validated on. Outputs j: symptoms 0..2 (bloating,
 * energy_low, brain_fog), energy 0, mood 0 (y is the class 0..4). For
 * benchmarks that fit other libraries on the same rows. Free with
 * model_rows_free. Returns 0, HF_ENOMEM, HF_EINVAL (bad j or data). */
struct model_rows {
    int n, p, ntr;
    double *X, *y;
};
int model_rows(const model *m, const struct member_data *d, int j, struct model_rows *out, struct hf_err *err);
void model_rows_free(struct model_rows *r);

/* What m says about one feature row x (model_rows' p values): out[0] the
 * probability of symptom output j, or the energy (not clamped); for mood
 * out[0..4] the class probabilities. */
void model_output(const model *m, int j, const double *x, double *out);

/* A 64-bit fingerprint of what kind learns from in d (and of the artifact
 * format): equal fingerprints mean a retrain would learn the same model. */
uint64_t model_data_hash(int kind, const struct member_data *d);

/* Artifact (artifact.c): the model as msgpack bytes appended to out. */
int model_encode(const model *m, msgpack_sbuffer *out, struct hf_err *err);
/* Rebuilds a model from model_encode's bytes; every field is checked, so a
 * corrupt artifact is HF_EINVAL. Caller frees *out. */
int model_decode(const void *data, size_t len, model **out, struct hf_err *err);

void model_free(model *m);

#endif
