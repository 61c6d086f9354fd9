/* gbt: gradient-boosted shallow regression trees (Friedman's gradient
 * boosting, the algorithm of scikit-learn's GradientBoostingClassifier and
 * GradientBoostingRegressor), for three losses:
 *
 *  - GBT_LOGLOSS: binary 0/1 target, output the probability of 1;
 *  - GBT_SQUARED: real target, output the prediction;
 *  - GBT_SOFTMAX: classes 0..K-1, one tree per class per round, output K
 *    probabilities.
 *
 * Each round fits a regression tree to the negative gradient (residuals)
 * with the Friedman MSE split criterion, then sets each leaf by one Newton
 * step on the loss. Features are binned once per fit (at most 64 bins: every
 * distinct value when there are that few, else quantiles), so a split search
 * costs O(rows x features) per tree level. The math: README.md beside this
 * file. */
#ifndef GBT_H
#define GBT_H

#include <msgpack.h>

#include "hf_err.h"

enum gbt_loss { GBT_LOGLOSS = 0, GBT_SQUARED = 1, GBT_SOFTMAX = 2 };

struct gbt_params {
    int n_rounds;         /* boosting rounds (100) */
    int max_depth;        /* depth of each tree (4: at most 16 leaves) */
    double learning_rate; /* shrinkage (0.1) */
    int min_leaf;         /* fewest rows in a leaf (1) */
};

/* The defaults above, those of 002 and of scikit-learn. */
struct gbt_params gbt_default_params(void);

typedef struct gbt gbt;

/* Fits a model on X (row-major n x p) and y (0/1, real, or class 0..K-1).
 * n_classes is used by GBT_SOFTMAX only (2..16). *out is the caller's, freed
 * with gbt_free. Returns 0, HF_EINVAL (bad sizes, parameters, targets or a
 * non-finite value), HF_ENOMEM. */
int gbt_fit(const double *X, const double *y, int n, int p, enum gbt_loss loss, int n_classes,
            const struct gbt_params *params, gbt **out, struct hf_err *err);

/* Number of values gbt_predict writes: K for GBT_SOFTMAX, else 1. */
int gbt_outputs(const gbt *m);
/* Features the model was fitted on. */
int gbt_features(const gbt *m);

/* Predicts one row x (gbt_features(m) values) into out (gbt_outputs(m) values). */
void gbt_predict(const gbt *m, const double *x, double *out);

/* Appends the model as one msgpack map to pk. Returns 0 or HF_ENOMEM. */
int gbt_pack(const gbt *m, msgpack_packer *pk, struct hf_err *err);

/* Rebuilds a model from what gbt_pack wrote; every index is checked, so a
 * corrupt artifact is HF_EINVAL, never a wild read. Caller frees *out. */
int gbt_unpack(const msgpack_object *o, gbt **out, struct hf_err *err);

void gbt_free(gbt *m);

#endif
