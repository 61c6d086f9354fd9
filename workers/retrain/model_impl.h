/* The layout of struct model, shared by model.c (training, prediction) and
 * artifact.c (encoding). Nothing else includes this. */
#ifndef MODEL_IMPL_H
#define MODEL_IMPL_H

#include "gbt.h"
#include "model.h"

#define MODEL_FORMAT 1
#define MAX_TARGETS 5

enum target_type { T_CONST = 0, T_LINEAR = 1, T_GBT = 2 };

/* One fitted output. T_CONST: c[0] (probability or value) or c[0..4]
 * (class probabilities of a softmax target); T_LINEAR: beta (p + 1);
 * T_GBT: g. */
struct target {
    enum target_type type;
    double c[MAX_TARGETS];
    double *beta;
    gbt *g;
};

struct model {
    int kind;
    char algorithm[24];   /* cold_start never stored: logistic, ridge, ovr_logistic, gbt, ensemble */
    int samples;
    double score;
    bool passed;
    json_t *metrics;      /* at training only; not in the artifact */
    int V;
    char *vocab[FX_MAX_VOCAB];
    int p;                /* features */
    int n_targets;        /* symptoms 3; energy 1; mood 5 (linear) or 1 (trees) */
    struct target t[MAX_TARGETS];
    struct cycle_model cyc;
    struct gbt_params trees; /* at training only: how boosted trees are fitted */
};

#endif
