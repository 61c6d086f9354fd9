/* linmodel: the two linear models of the retraining pool, fitted with GSL.
 *
 *  - L2-regularised logistic regression by Newton's method (IRLS): minimises
 *      sum_i s_i * logloss(y_i, sigmoid(b0 + x_i.w)) + (lambda / 2) * |w|^2
 *    with per-row weights s_i (class balancing) and an unpenalised intercept;
 *    the same objective as scikit-learn's LogisticRegression(C = 1/lambda).
 *  - ridge regression in closed form: (X'X + lambda*I') b = X'y, intercept
 *    unpenalised.
 *
 * X is row-major n x p; beta has p + 1 entries, beta[0] the intercept. Pure
 * functions, no allocation visible to the caller. The math is written out in
 * workers/retrain/README.md. */
#ifndef LINMODEL_H
#define LINMODEL_H

#include "hf_err.h"

/* Fits the logistic model; y holds 0/1, s the row weights (NULL: all 1).
 * Both classes must be present with positive weight (otherwise the intercept
 * has no finite optimum: callers use a constant model then).
 * Returns 0, HF_EINVAL (one class only, n < 1, lambda <= 0, NaN input),
 * HF_ENOMEM, or HF_EIO when Newton did not converge in 100 steps. */
int linmodel_logistic_fit(const double *X, const double *y, const double *s, int n, int p, double lambda, double *beta,
                          struct hf_err *err);

/* Fits ridge regression. Returns 0, HF_EINVAL (n < 1, lambda <= 0, NaN input), HF_ENOMEM. */
int linmodel_ridge_fit(const double *X, const double *y, int n, int p, double lambda, double *beta,
                       struct hf_err *err);

/* b0 + x.w */
double linmodel_eta(const double *beta, const double *x, int p);

/* 1 / (1 + exp(-eta)), stable for large |eta|. */
double linmodel_sigmoid(double eta);

#endif
