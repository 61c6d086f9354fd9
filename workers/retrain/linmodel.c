/* Linear models over GSL: Newton/IRLS logistic regression and ridge. */
#include "linmodel.h"

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>

#define NEWTON_MAX 100
#define NEWTON_TOL 1e-10

double linmodel_sigmoid(double eta)
{
    if (eta >= 0)
        return 1.0 / (1.0 + exp(-eta));
    double e = exp(eta);
    return e / (1.0 + e);
}

double linmodel_eta(const double *beta, const double *x, int p)
{
    double eta = beta[0];
    for (int j = 0; j < p; j++)
        eta += beta[j + 1] * x[j];
    return eta;
}

static int check_input(const double *X, const double *y, int n, int p, double lambda, struct hf_err *err)
{
    if (n < 1 || p < 0 || !(lambda > 0))
        return hf_err_set(err, HF_EINVAL, false, "linear model: need n >= 1 rows and lambda > 0 (n=%d, lambda=%g)",
                          n, lambda);
    for (long i = 0; i < (long)n * p; i++)
        if (!isfinite(X[i]))
            return hf_err_set(err, HF_EINVAL, false, "linear model: feature %ld of row %ld is not finite", i % p,
                              i / p);
    for (int i = 0; i < n; i++)
        if (!isfinite(y[i]))
            return hf_err_set(err, HF_EINVAL, false, "linear model: target of row %d is not finite", i);
    return 0;
}

/* Penalised negative log-likelihood of the logistic model. */
static double logistic_objective(const double *X, const double *y, const double *s, int n, int p, double lambda,
                                 const double *beta)
{
    double f = 0;
    for (int i = 0; i < n; i++) {
        double eta = linmodel_eta(beta, X + (long)i * p, p);
        /* log(1 + exp(eta)) - y * eta, written to avoid overflow */
        double l = (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - y[i] * eta;
        f += (s ? s[i] : 1.0) * l;
    }
    for (int j = 1; j <= p; j++)
        f += 0.5 * lambda * beta[j] * beta[j];
    return f;
}

/* Solves H d = g by Cholesky; H is symmetric positive definite because the
 * penalty adds lambda to every diagonal entry but the intercept's, and the
 * intercept's entry is sum s_i p_i (1 - p_i) > 0 while predictions are not
 * saturated. A tiny ridge on it covers the saturated case. */
static int spd_solve(gsl_matrix *H, gsl_vector *g, gsl_vector *d)
{
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int rc = gsl_linalg_cholesky_decomp1(H);
    if (rc == 0)
        rc = gsl_linalg_cholesky_solve(H, g, d);
    gsl_set_error_handler(old);
    return rc;
}

int linmodel_logistic_fit(const double *X, const double *y, const double *s, int n, int p, double lambda, double *beta,
                          struct hf_err *err)
{
    int rc = check_input(X, y, n, p, lambda, err);
    if (rc)
        return rc;
    double w1 = 0, w0 = 0;
    for (int i = 0; i < n; i++) {
        double si = s ? s[i] : 1.0;
        if (y[i] != 0 && y[i] != 1)
            return hf_err_set(err, HF_EINVAL, false, "logistic regression: target of row %d is %g, not 0 or 1", i, y[i]);
        if (y[i] == 1)
            w1 += si;
        else
            w0 += si;
    }
    if (!(w1 > 0) || !(w0 > 0))
        return hf_err_set(err, HF_EINVAL, false, "logistic regression: only one class present (%g positive, %g negative weight)",
                          w1, w0);
    const int q = p + 1;
    gsl_matrix *H = gsl_matrix_alloc((size_t)q, (size_t)q);
    gsl_vector *g = gsl_vector_alloc((size_t)q), *d = gsl_vector_alloc((size_t)q);
    double *trial = malloc(sizeof *trial * (size_t)q);
    if (!H || !g || !d || !trial) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    for (int j = 0; j < q; j++)
        beta[j] = 0;
    beta[0] = log(w1 / w0);
    double f = logistic_objective(X, y, s, n, p, lambda, beta);
    rc = HF_EIO;
    for (int it = 0; it < NEWTON_MAX; it++) {
        gsl_matrix_set_zero(H);
        gsl_vector_set_zero(g);
        for (int i = 0; i < n; i++) {
            const double *x = X + (long)i * p;
            double si = s ? s[i] : 1.0;
            double pi = linmodel_sigmoid(linmodel_eta(beta, x, p));
            double r = si * (pi - y[i]), w = si * pi * (1 - pi);
            for (int a = 0; a < q; a++) {
                double xa = a ? x[a - 1] : 1.0;
                if (xa == 0)
                    continue;
                *gsl_vector_ptr(g, (size_t)a) += r * xa;
                for (int b = 0; b <= a; b++) {
                    double xb = b ? x[b - 1] : 1.0;
                    *gsl_matrix_ptr(H, (size_t)a, (size_t)b) += w * xa * xb;
                }
            }
        }
        for (int a = 0; a < q; a++) {
            for (int b = 0; b < a; b++)
                gsl_matrix_set(H, (size_t)b, (size_t)a, gsl_matrix_get(H, (size_t)a, (size_t)b));
            if (a) {
                *gsl_vector_ptr(g, (size_t)a) += lambda * beta[a];
                *gsl_matrix_ptr(H, (size_t)a, (size_t)a) += lambda;
            } else {
                *gsl_matrix_ptr(H, 0, 0) += 1e-12;
            }
        }
        if (spd_solve(H, g, d)) {
            rc = hf_err_set(err, HF_EIO, false, "logistic regression: the Hessian is singular at step %d", it);
            goto out;
        }
        /* Step halving keeps every step a descent step. */
        double step = 1, fnew = f, dmax = 0;
        for (int half = 0; half < 30; half++, step *= 0.5) {
            for (int j = 0; j < q; j++)
                trial[j] = beta[j] - step * gsl_vector_get(d, (size_t)j);
            fnew = logistic_objective(X, y, s, n, p, lambda, trial);
            if (fnew <= f + 1e-12 * fabs(f))
                break;
        }
        for (int j = 0; j < q; j++) {
            double dj = fabs(trial[j] - beta[j]);
            dmax = dj > dmax ? dj : dmax;
            beta[j] = trial[j];
        }
        f = fnew;
        if (dmax < NEWTON_TOL) {
            rc = 0;
            break;
        }
    }
    if (rc)
        hf_err_set(err, HF_EIO, false, "logistic regression: Newton did not converge in %d steps", NEWTON_MAX);
out:
    gsl_matrix_free(H);
    gsl_vector_free(g);
    gsl_vector_free(d);
    free(trial);
    return rc;
}

int linmodel_ridge_fit(const double *X, const double *y, int n, int p, double lambda, double *beta,
                       struct hf_err *err)
{
    int rc = check_input(X, y, n, p, lambda, err);
    if (rc)
        return rc;
    const int q = p + 1;
    gsl_matrix *A = gsl_matrix_calloc((size_t)q, (size_t)q);
    gsl_vector *b = gsl_vector_calloc((size_t)q), *x = gsl_vector_alloc((size_t)q);
    if (!A || !b || !x) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const double *r = X + (long)i * p;
        for (int a = 0; a < q; a++) {
            double xa = a ? r[a - 1] : 1.0;
            *gsl_vector_ptr(b, (size_t)a) += xa * y[i];
            for (int c = 0; c < q; c++)
                *gsl_matrix_ptr(A, (size_t)a, (size_t)c) += xa * (c ? r[c - 1] : 1.0);
        }
    }
    for (int a = 1; a < q; a++)
        *gsl_matrix_ptr(A, (size_t)a, (size_t)a) += lambda;
    *gsl_matrix_ptr(A, 0, 0) += 1e-12;
    if (spd_solve(A, b, x)) {
        rc = hf_err_set(err, HF_EIO, false, "ridge regression: the normal equations are singular");
        goto out;
    }
    for (int j = 0; j < q; j++)
        beta[j] = gsl_vector_get(x, (size_t)j);
out:
    gsl_matrix_free(A);
    gsl_vector_free(b);
    gsl_vector_free(x);
    return rc;
}
