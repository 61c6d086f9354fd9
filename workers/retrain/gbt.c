/* Gradient-boosted regression trees; see gbt.h and README.md. */
#include "gbt.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp.h"

#define MAX_BINS 64
#define MAX_DEPTH 8
#define MAX_CLASSES 16

/* Trees are stored in heap order: node i has children 2i+1 and 2i+2, so a
 * tree of depth d takes 2^(d+1)-1 slots and a prediction walks down without
 * pointers. feat < 0 marks a leaf, whose value is in val. */
struct gbt {
    enum gbt_loss loss;
    int k;          /* trees per round: K for softmax, else 1 */
    int p;          /* features */
    int rounds;
    int depth;
    int slots;      /* nodes per tree */
    double lr;
    double base[MAX_CLASSES];
    int32_t *feat;  /* rounds * k * slots */
    double *val;    /* threshold of a split, value of a leaf */
};

struct gbt_params gbt_default_params(void)
{
    return (struct gbt_params){ .n_rounds = 100, .max_depth = 4, .learning_rate = 0.1, .min_leaf = 1 };
}

int gbt_outputs(const gbt *m)
{
    return m->k;
}

int gbt_features(const gbt *m)
{
    return m->p;
}

void gbt_free(gbt *m)
{
    if (!m)
        return;
    free(m->feat);
    free(m->val);
    free(m);
}

static gbt *alloc_model(enum gbt_loss loss, int k, int p, int rounds, int depth, double lr)
{
    gbt *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    *m = (struct gbt){ .loss = loss, .k = k, .p = p, .rounds = rounds, .depth = depth,
                       .slots = (1 << (depth + 1)) - 1, .lr = lr };
    size_t nodes = (size_t)rounds * (size_t)k * (size_t)m->slots;
    m->feat = malloc(sizeof *m->feat * (nodes ? nodes : 1));
    m->val = calloc(nodes ? nodes : 1, sizeof *m->val);
    if (!m->feat || !m->val) {
        gbt_free(m);
        return NULL;
    }
    for (size_t i = 0; i < nodes; i++)
        m->feat[i] = -1;
    return m;
}

/* Raw scores (one per class) of row x. */
static void raw_scores(const gbt *m, const double *x, double *f)
{
    for (int c = 0; c < m->k; c++)
        f[c] = m->base[c];
    for (int t = 0; t < m->rounds * m->k; t++) {
        const int32_t *feat = m->feat + (size_t)t * (size_t)m->slots;
        const double *val = m->val + (size_t)t * (size_t)m->slots;
        int i = 0;
        while (feat[i] >= 0)
            i = x[feat[i]] <= val[i] ? 2 * i + 1 : 2 * i + 2;
        f[t % m->k] += m->lr * val[i];
    }
}

static void softmax(double *f, int k)
{
    double mx = f[0], s = 0;
    for (int c = 1; c < k; c++)
        mx = f[c] > mx ? f[c] : mx;
    for (int c = 0; c < k; c++)
        s += (f[c] = exp(f[c] - mx));
    for (int c = 0; c < k; c++)
        f[c] /= s;
}

static double sigmoid(double eta)
{
    return eta >= 0 ? 1.0 / (1.0 + exp(-eta)) : exp(eta) / (1.0 + exp(eta));
}

void gbt_predict(const gbt *m, const double *x, double *out)
{
    raw_scores(m, x, out);
    if (m->loss == GBT_LOGLOSS)
        out[0] = sigmoid(out[0]);
    else if (m->loss == GBT_SOFTMAX)
        softmax(out, m->k);
}

/* ---------- fitting ---------- */

/* Per fit: features binned once, column-major so that a split search reads
 * one feature's bins of a node's rows from one short array. */
struct fit {
    const gbt *m;
    int n, p, min_leaf;
    uint8_t *bin;   /* p x n: bin of row i in feature j at bin[j * n + i] */
    int *nbins;     /* per feature */
    double *cut;    /* p x MAX_BINS: split threshold after bin b */
    int *idx;       /* row indices, partitioned per node */
    double *r, *h;  /* residual and Newton weight per row */
    double *rr;     /* the node's residuals in idx order (scratch, n) */
    double *F;      /* n x k raw scores */
    double leaf_scale;
    int cls;        /* class of the tree being grown */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bins feature j: every distinct value its own bin when there are at most
 * MAX_BINS, else MAX_BINS bins of about equal numbers of distinct values.
 * The threshold after bin b is the midpoint between the largest value in it
 * and the smallest value of the next, as an exact split search would pick. */
static void bin_feature(struct fit *ft, const double *X, int j, double *tmp)
{
    int n = ft->n, p = ft->p, m = 0;
    for (int i = 0; i < n; i++)
        tmp[i] = X[(long)i * p + j];
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    for (int i = 0; i < n; i++)
        if (m == 0 || tmp[i] != tmp[m - 1])
            tmp[m++] = tmp[i];
    int nb = m < MAX_BINS ? m : MAX_BINS;
    int pos[MAX_BINS + 1];
    for (int b = 0; b < nb; b++)
        pos[b] = (int)((long)b * m / nb);
    pos[nb] = m;
    ft->nbins[j] = nb;
    for (int b = 0; b + 1 < nb; b++)
        ft->cut[(long)j * MAX_BINS + b] = 0.5 * (tmp[pos[b + 1] - 1] + tmp[pos[b + 1]]);
    uint8_t *col = ft->bin + (long)j * n;
    for (int i = 0; i < n; i++) {
        double v = X[(long)i * p + j];
        int lo = 0, hi = nb - 1; /* largest b with tmp[pos[b]] <= v */
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (tmp[pos[mid]] <= v)
                lo = mid;
            else
                hi = mid - 1;
        }
        col[i] = (uint8_t)lo;
    }
}

/* The best split of feature j over the node's rows (idx[lo, hi), residuals
 * in rr[0, cnt)): raises *best and sets *best_j, *best_b when it beats it.
 * Bins the node does not reach are skipped: a split after an empty bin
 * parts the rows as the split after the last non-empty one before it, and
 * ties keep the first, so the tree is the one a scan of every bin gives. */
static void search_feature(const struct fit *ft, int j, int lo, int hi, double S, double *best, int *best_j,
                           int *best_b)
{
    double hs[MAX_BINS];
    int hc[MAX_BINS];
    int nb = ft->nbins[j], cnt = hi - lo;
    const uint8_t *col = ft->bin + (long)j * ft->n;
    const int *idx = ft->idx + lo;
    memset(hs, 0, sizeof hs[0] * (size_t)nb);
    memset(hc, 0, sizeof hc[0] * (size_t)nb);
    for (int a = 0; a < cnt; a++) {
        int b = col[idx[a]];
        hs[b] += ft->rr[a];
        hc[b]++;
    }
    double base = S * S / cnt, sl = 0;
    int cl = 0;
    for (int b = 0; b + 1 < nb; b++) {
        if (!hc[b])
            continue;
        sl += hs[b];
        cl += hc[b];
        int cr = cnt - cl;
        if (cl < ft->min_leaf)
            continue;
        if (cr < ft->min_leaf)
            break;
        /* Friedman MSE improvement, times the node's size:
         * n_l n_r / n (mean_l - mean_r)^2 = S_l^2/n_l + S_r^2/n_r - S^2/n */
        double gain = sl * sl / cl + (S - sl) * (S - sl) / cr - base;
        if (gain > *best) {
            *best = gain;
            *best_j = j;
            *best_b = b;
        }
    }
}

/* Grows the subtree at heap slot `node` over idx[lo, hi). */
static void grow(struct fit *ft, int32_t *feat, double *val, int node, int lo, int hi, int depth)
{
    int cnt = hi - lo;
    double S = 0, Hs = 0;
    for (int a = lo; a < hi; a++) {
        int i = ft->idx[a];
        ft->rr[a - lo] = ft->r[i];
        S += ft->r[i];
        Hs += ft->h[i];
    }
    int best_j = -1, best_b = -1;
    double best = 1e-12 * (fabs(S) + 1);
    if (depth < ft->m->depth && cnt >= 2 * ft->min_leaf)
        for (int j = 0; j < ft->p; j++)
            if (ft->nbins[j] >= 2)
                search_feature(ft, j, lo, hi, S, &best, &best_j, &best_b);
    if (best_j < 0) {
        /* Values are kept at float precision, as the artifact stores them, so
         * a stored model predicts exactly what the trained one did. */
        double v = (float)(fabs(Hs) < 1e-150 ? 0.0 : ft->leaf_scale * S / Hs);
        feat[node] = -1;
        val[node] = v;
        for (int a = lo; a < hi; a++)
            ft->F[(long)ft->idx[a] * ft->m->k + ft->cls] += ft->m->lr * v;
        return;
    }
    /* Partition idx[lo, hi) into bins <= best_b and the rest. */
    const uint8_t *col = ft->bin + (long)best_j * ft->n;
    int mid = lo;
    for (int a = lo; a < hi; a++) {
        int i = ft->idx[a];
        if (col[i] <= best_b) {
            ft->idx[a] = ft->idx[mid];
            ft->idx[mid++] = i;
        }
    }
    feat[node] = best_j;
    val[node] = (float)ft->cut[(long)best_j * MAX_BINS + best_b];
    grow(ft, feat, val, 2 * node + 1, lo, mid, depth + 1);
    grow(ft, feat, val, 2 * node + 2, mid, hi, depth + 1);
}

static int check_fit(const double *X, const double *y, int n, int p, enum gbt_loss loss, int K,
                     const struct gbt_params *prm, struct hf_err *err)
{
    if (n < 1 || p < 0)
        return hf_err_set(err, HF_EINVAL, false, "boosted trees: need at least one row (n=%d, p=%d)", n, p);
    if (prm->n_rounds < 0 || prm->max_depth < 1 || prm->max_depth > MAX_DEPTH || !(prm->learning_rate > 0) ||
        prm->min_leaf < 1)
        return hf_err_set(err, HF_EINVAL, false,
                          "boosted trees: rounds >= 0, depth 1..%d, learning rate > 0, min_leaf >= 1 (got %d, %d, %g, %d)",
                          MAX_DEPTH, prm->n_rounds, prm->max_depth, prm->learning_rate, prm->min_leaf);
    if (loss == GBT_SOFTMAX && (K < 2 || K > MAX_CLASSES))
        return hf_err_set(err, HF_EINVAL, false, "boosted trees: softmax needs 2..%d classes, got %d", MAX_CLASSES, K);
    for (long i = 0; i < (long)n * p; i++)
        if (!isfinite(X[i]))
            return hf_err_set(err, HF_EINVAL, false, "boosted trees: feature %ld of row %ld is not finite", i % p, i / p);
    for (int i = 0; i < n; i++) {
        bool ok = isfinite(y[i]);
        if (loss == GBT_LOGLOSS)
            ok = y[i] == 0 || y[i] == 1;
        else if (loss == GBT_SOFTMAX)
            ok = y[i] >= 0 && y[i] < K && y[i] == floor(y[i]);
        if (!ok)
            return hf_err_set(err, HF_EINVAL, false, "boosted trees: target of row %d (%g) does not fit the loss", i,
                              y[i]);
    }
    return 0;
}

int gbt_fit(const double *X, const double *y, int n, int p, enum gbt_loss loss, int n_classes,
            const struct gbt_params *params, gbt **out, struct hf_err *err)
{
    *out = NULL;
    int rc = check_fit(X, y, n, p, loss, n_classes, params, err);
    if (rc)
        return rc;
    int K = loss == GBT_SOFTMAX ? n_classes : 1;
    gbt *m = alloc_model(loss, K, p, params->n_rounds, params->max_depth, params->learning_rate);
    struct fit ft = { .m = m, .n = n, .p = p, .min_leaf = params->min_leaf, .leaf_scale = 1.0 };
    double *tmp = NULL, *prob = NULL;
    if (!m)
        goto oom;
    ft.bin = malloc((size_t)n * (size_t)(p ? p : 1));
    ft.nbins = calloc((size_t)(p ? p : 1), sizeof *ft.nbins);
    ft.cut = malloc(sizeof *ft.cut * (size_t)(p ? p : 1) * MAX_BINS);
    ft.idx = malloc(sizeof *ft.idx * (size_t)n);
    ft.r = malloc(sizeof *ft.r * (size_t)n);
    ft.h = malloc(sizeof *ft.h * (size_t)n);
    ft.rr = malloc(sizeof *ft.rr * (size_t)n);
    ft.F = malloc(sizeof *ft.F * (size_t)n * (size_t)K);
    tmp = malloc(sizeof *tmp * (size_t)n);
    prob = malloc(sizeof *prob * (size_t)n * (size_t)K);
    if (!ft.bin || !ft.nbins || !ft.cut || !ft.idx || !ft.r || !ft.h || !ft.rr || !ft.F || !tmp || !prob)
        goto oom;
    for (int j = 0; j < p; j++)
        bin_feature(&ft, X, j, tmp);

    /* Initial raw score: the constant that minimises the loss (log-odds of
     * the prior, the mean, the log class priors), clamped so that one class
     * alone stays finite. */
    if (loss == GBT_SQUARED) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += y[i];
        m->base[0] = s / n;
    } else {
        for (int c = 0; c < K; c++) {
            double cnt = 0;
            for (int i = 0; i < n; i++)
                cnt += loss == GBT_LOGLOSS ? y[i] : (y[i] == c);
            double prior = cnt / n;
            prior = prior < 1e-6 ? 1e-6 : prior > 1 - 1e-6 ? 1 - 1e-6 : prior;
            m->base[c] = loss == GBT_LOGLOSS ? log(prior / (1 - prior)) : log(prior);
        }
    }
    for (int i = 0; i < n; i++)
        for (int c = 0; c < K; c++)
            ft.F[(long)i * K + c] = m->base[c];
    if (loss == GBT_SOFTMAX)
        ft.leaf_scale = (K - 1.0) / K;

    for (int t = 0; t < m->rounds; t++) {
        /* All K residuals come from the scores at the start of the round. */
        for (int i = 0; i < n; i++) {
            double *pr = prob + (long)i * K;
            memcpy(pr, ft.F + (long)i * K, sizeof *pr * (size_t)K);
            if (loss == GBT_LOGLOSS)
                pr[0] = sigmoid(pr[0]);
            else if (loss == GBT_SOFTMAX)
                softmax(pr, K);
        }
        for (int c = 0; c < K; c++) {
            for (int i = 0; i < n; i++) {
                double pr = prob[(long)i * K + c];
                if (loss == GBT_SQUARED) {
                    ft.r[i] = y[i] - pr;
                    ft.h[i] = 1;
                } else {
                    double yc = loss == GBT_LOGLOSS ? y[i] : (y[i] == c);
                    ft.r[i] = yc - pr;
                    ft.h[i] = pr * (1 - pr);
                }
                ft.idx[i] = i;
            }
            ft.cls = c;
            size_t off = ((size_t)t * (size_t)K + (size_t)c) * (size_t)m->slots;
            grow(&ft, m->feat + off, m->val + off, 0, 0, n, 0);
        }
    }
    *out = m;
    m = NULL;
    rc = 0;
    goto out;
oom:
    rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
out:
    gbt_free(m);
    free(ft.bin);
    free(ft.nbins);
    free(ft.cut);
    free(ft.idx);
    free(ft.r);
    free(ft.h);
    free(ft.rr);
    free(ft.F);
    free(tmp);
    free(prob);
    return rc;
}

/* ---------- artifact ---------- */

int gbt_pack(const gbt *m, msgpack_packer *pk, struct hf_err *err)
{
    size_t nodes = (size_t)m->rounds * (size_t)m->k * (size_t)m->slots;
    int rc = msgpack_pack_map(pk, 8);
    rc = rc ? rc : mp_pack_kv_int(pk, "loss", m->loss);
    rc = rc ? rc : mp_pack_kv_int(pk, "k", m->k);
    rc = rc ? rc : mp_pack_kv_int(pk, "p", m->p);
    rc = rc ? rc : mp_pack_kv_int(pk, "rounds", m->rounds);
    rc = rc ? rc : mp_pack_kv_int(pk, "depth", m->depth);
    rc = rc ? rc : mp_pack_kv_num(pk, "lr", m->lr);
    rc = rc ? rc : mp_pack_kv_nums(pk, "base", m->base, (uint32_t)m->k);
    /* Nodes as one array of [feature, value] pairs, leaves with feature -1. */
    rc = rc ? rc : mp_pack_str(pk, "nodes");
    rc = rc ? rc : msgpack_pack_array(pk, (uint32_t)nodes * 2);
    for (size_t i = 0; i < nodes && rc == 0; i++) {
        rc = msgpack_pack_int32(pk, m->feat[i]);
        rc = rc ? rc : msgpack_pack_float(pk, (float)m->val[i]);
    }
    return rc ? hf_err_set(err, HF_ENOMEM, true, "out of memory packing boosted trees") : 0;
}

int gbt_unpack(const msgpack_object *o, gbt **out, struct hf_err *err)
{
    *out = NULL;
    int64_t loss, k, p, rounds, depth;
    double lr;
    if (!mp_int(o, "loss", &loss) || !mp_int(o, "k", &k) || !mp_int(o, "p", &p) || !mp_int(o, "rounds", &rounds) ||
        !mp_int(o, "depth", &depth) || !mp_num(o, "lr", &lr))
        return hf_err_set(err, HF_EINVAL, false, "boosted trees artifact: a header field is missing");
    if (loss < GBT_LOGLOSS || loss > GBT_SOFTMAX || k < 1 || k > MAX_CLASSES || (loss != GBT_SOFTMAX && k != 1) ||
        p < 0 || p > 100000 || rounds < 0 || rounds > 10000 || depth < 1 || depth > MAX_DEPTH || !isfinite(lr))
        return hf_err_set(err, HF_EINVAL, false, "boosted trees artifact: header out of range");
    gbt *m = alloc_model((enum gbt_loss)loss, (int)k, (int)p, (int)rounds, (int)depth, lr);
    if (!m)
        return hf_err_set(err, HF_ENOMEM, true, "out of memory");
    size_t nodes = (size_t)rounds * (size_t)k * (size_t)m->slots;
    const msgpack_object *a = mp_array(o, "nodes");
    if (!mp_nums(o, "base", m->base, (uint32_t)k) || !a || a->via.array.size != nodes * 2)
        goto bad;
    for (size_t i = 0; i < nodes; i++) {
        const msgpack_object *f = &a->via.array.ptr[2 * i], *v = &a->via.array.ptr[2 * i + 1];
        int64_t fi;
        if (f->type == MSGPACK_OBJECT_POSITIVE_INTEGER && f->via.u64 < (uint64_t)p)
            fi = (int64_t)f->via.u64;
        else if (f->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && f->via.i64 == -1)
            fi = -1;
        else
            goto bad;
        if (v->type != MSGPACK_OBJECT_FLOAT64 && v->type != MSGPACK_OBJECT_FLOAT32)
            goto bad;
        /* A split must have both children inside its tree. */
        if (fi >= 0 && 2 * (i % (size_t)m->slots) + 2 >= (size_t)m->slots)
            goto bad;
        if (!isfinite(v->via.f64))
            goto bad;
        m->feat[i] = (int32_t)fi;
        m->val[i] = v->via.f64;
    }
    *out = m;
    return 0;
bad:
    gbt_free(m);
    return hf_err_set(err, HF_EINVAL, false, "boosted trees artifact: the nodes are corrupt");
}
