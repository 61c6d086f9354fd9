/* hf-retrain-eval: trains the retraining pool's models (workers/retrain,
 * the same code hf-retrain runs) on hf-synth's members and writes, for
 * bench/retrain, everything a reference library needs to be fitted on the
 * same rows and scored the same way:
 *
 *   hf-retrain-eval --json members.json --out rows.msgpack [--linear-logs N]
 *
 * Per member, two regimes: "trees" (every log: boosted trees, >= 50 logs)
 * and "linear" (the oldest N logs, default 40: logistic, ridge, one-vs-rest
 * logistic). For each: the feature rows X (n x p float64, little-endian
 * bytes), the labels Y (n x 5: bloating >= 3, energy <= 2, focus <= 2,
 * energy, mood class), ntr (the oldest rows fitted on; model.c's 80/20
 * split), our outputs on the validation rows (nv x 9: three probabilities,
 * energy, five mood probabilities), the algorithms and the CPU time of each
 * model_train call (features, fit and validation included). The cycle: the
 * lengths, the 80% fitted on, our one-step predictions of the rest and the
 * fit time. A summary goes to stdout as JSON. --trees replaces the boosted
 * trees' parameters of every kind (model_train_with), for parameter studies. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define MAX_NAMES 64
#define N_Y 5
#define N_OUT 9

struct member_in {
    struct fx_day *days;
    int *ing;
    const char *names[MAX_NAMES];
    int32_t *starts;
    struct cycle_reading *bbt, *lh;
    struct member_data d;
};

/* CPU time of this thread: the machine is shared, so wall time would count
 * other programs. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void member_in_free(struct member_in *m)
{
    free(m->days);
    free(m->ing);
    free(m->starts);
    free(m->bbt);
    free(m->lh);
}

static int readings(json_t *a, struct cycle_reading **out)
{
    size_t n = json_array_size(a), i;
    json_t *v;
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return -1;
    json_array_foreach(a, i, v)(*out)[i] = (struct cycle_reading){ (int32_t)json_integer_value(json_array_get(v, 0)),
                                                                    json_real_value(json_array_get(v, 1)) };
    return (int)n;
}

/* Builds the member's data from hf-synth's JSON: the oldest `logs` symptom
 * days (all when logs <= 0), every logged period start. Names borrow mj's
 * strings. */
static int member_in_build(json_t *mj, int logs, struct member_in *m)
{
    memset(m, 0, sizeof *m);
    json_t *days = json_object_get(mj, "days"), *starts = json_object_get(mj, "starts");
    int nd = (int)json_array_size(days);
    if (logs > 0 && logs < nd)
        nd = logs;
    int n_names = 0, n_ing = 0;
    m->days = calloc((size_t)(nd ? nd : 1), sizeof *m->days);
    m->ing = calloc((size_t)(nd ? nd : 1) * MAX_NAMES, sizeof *m->ing);
    m->starts = calloc(json_array_size(starts) + 1, sizeof *m->starts);
    if (!m->days || !m->ing || !m->starts)
        return -1;
    for (int t = 0; t < nd; t++) {
        json_t *dj = json_array_get(days, (size_t)t), *sym = json_object_get(dj, "symptoms");
        struct fx_day *dy = &m->days[t];
        *dy = (struct fx_day){ .day = (int32_t)json_integer_value(json_object_get(dj, "day")), .logged = true,
                               .phase = -1, .ing = m->ing + n_ing };
        for (int s = 0; s < FX_SYM; s++)
            dy->sym[s] = (int8_t)json_integer_value(json_array_get(sym, (size_t)s));
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(dj, "ingredients"), k, v)
        {
            const char *name = json_string_value(v);
            int id = 0;
            while (id < n_names && strcmp(m->names[id], name) != 0)
                id++;
            if (id == n_names) {
                if (n_names == MAX_NAMES)
                    return -1;
                m->names[n_names++] = name;
            }
            m->ing[n_ing++] = id;
            dy->n_ing++;
        }
    }
    size_t k;
    json_t *v;
    json_array_foreach(starts, k, v) m->starts[k] = (int32_t)json_integer_value(v);
    int n_bbt = readings(json_object_get(mj, "bbt"), &m->bbt), n_lh = readings(json_object_get(mj, "lh"), &m->lh);
    if (n_bbt < 0 || n_lh < 0)
        return -1;
    m->d.fx = (struct fx_data){ m->days, nd, m->names, n_names, m->starts, (int)json_array_size(starts) };
    m->d.cyc = (struct cycle_input){ m->starts, (int)json_array_size(starts), m->bbt, n_bbt, m->lh, n_lh };
    return 0;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void pack_bin(msgpack_packer *pk, const double *v, size_t n)
{
    msgpack_pack_bin(pk, n * sizeof *v);
    msgpack_pack_bin_body(pk, v, n * sizeof *v);
}

struct totals {
    double seconds[KIND_N];
    int members;
};

/* Trains symptoms, energy and mood on d and packs one regime's map. */
static int run_regime(msgpack_packer *pk, const char *name, const struct member_data *d,
                      const struct gbt_params *trees, struct totals *tot, struct hf_err *err)
{
    static const int kinds[3] = { KIND_SYMPTOMS, KIND_ENERGY, KIND_MOOD };
    model *m[3] = { NULL, NULL, NULL };
    double secs[3];
    struct model_rows rows[5] = { { 0 } };
    double *Y = NULL, *out = NULL;
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        double t0 = now_s();
        rc = model_train_with(kinds[k], d, trees, &m[k], err);
        secs[k] = now_s() - t0;
        tot->seconds[kinds[k]] += secs[k];
    }
    /* Outputs: symptoms 0..2, energy, mood; all on the same rows, since every
     * synthetic log gives all four symptoms. */
    for (int o = 0; o < 5 && rc == 0; o++) {
        rc = model_rows(m[o < 3 ? 0 : o - 2], d, o < 3 ? o : 0, &rows[o], err);
        if (rc == 0 && (rows[o].n != rows[0].n || rows[o].ntr != rows[0].ntr))
            rc = hf_err_set(err, HF_EINVAL, false, "outputs do not share rows (a symptom is missing)");
    }
    if (rc)
        goto out;
    int n = rows[0].n, p = rows[0].p, ntr = rows[0].ntr, nv = n - ntr;
    Y = malloc(sizeof *Y * (size_t)(n ? n : 1) * N_Y);
    out = calloc((size_t)(nv > 0 ? nv : 1) * N_OUT, sizeof *out);
    if (!Y || !out) {
        rc = hf_err_set(err, HF_ENOMEM, true, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++)
        for (int o = 0; o < N_Y; o++)
            Y[(long)i * N_Y + o] = rows[o].y[i];
    for (int i = 0; i < nv; i++) {
        const double *x = rows[0].X + (long)(ntr + i) * p;
        double *o = out + (long)i * N_OUT;
        for (int j = 0; j < 3; j++)
            model_output(m[0], j, x, &o[j]);
        model_output(m[1], 0, x, &o[3]);
        model_output(m[2], 0, x, &o[4]);
    }
    msgpack_pack_map(pk, 9);
    pack_str(pk, "name");
    pack_str(pk, name);
    pack_str(pk, "n");
    msgpack_pack_int(pk, n);
    pack_str(pk, "p");
    msgpack_pack_int(pk, p);
    pack_str(pk, "ntr");
    msgpack_pack_int(pk, ntr);
    pack_str(pk, "X");
    pack_bin(pk, rows[0].X, (size_t)n * (size_t)p);
    pack_str(pk, "Y");
    pack_bin(pk, Y, (size_t)n * N_Y);
    pack_str(pk, "ours");
    pack_bin(pk, out, (size_t)(nv > 0 ? nv : 0) * N_OUT);
    pack_str(pk, "algorithms");
    msgpack_pack_array(pk, 3);
    for (int k = 0; k < 3; k++)
        pack_str(pk, model_algorithm(m[k]));
    pack_str(pk, "seconds");
    msgpack_pack_array(pk, 3);
    for (int k = 0; k < 3; k++)
        msgpack_pack_double(pk, secs[k]);
out:
    for (int k = 0; k < 3; k++)
        model_free(m[k]);
    for (int o = 0; o < 5; o++)
        model_rows_free(&rows[o]);
    free(Y);
    free(out);
    return rc;
}

/* The cycle: lengths from every start plus the withheld next one; the
 * oldest 80% fit (as model.c splits rows), each later length predicted one
 * step ahead from the lengths before it. The fit is repeated 100 times for
 * a measurable time. */
static int run_cycle(msgpack_packer *pk, json_t *mj, const struct member_data *d, struct totals *tot,
                     struct hf_err *err)
{
    int ns = d->cyc.n_starts;
    double L[CYCLE_MAX_STARTS];
    int32_t next = (int32_t)json_integer_value(json_object_get(json_object_get(mj, "truth"), "next_start"));
    if (ns < 2 || ns + 1 > CYCLE_MAX_STARTS)
        return hf_err_set(err, HF_EINVAL, false, "member has %d starts", ns);
    int nl = ns; /* lengths, the last ending on the withheld start */
    for (int i = 0; i + 1 < ns; i++)
        L[i] = d->cyc.starts[i + 1] - d->cyc.starts[i];
    L[ns - 1] = next - d->cyc.starts[ns - 1];
    int ntr = nl * 4 / 5;
    struct cycle_input in = d->cyc;
    in.n_starts = ntr + 1; /* starts of the fitted lengths only */
    struct cycle_model cm;
    double t0 = now_s();
    int rc = 0;
    for (int r = 0; r < 100 && rc == 0; r++)
        rc = cycle_fit(&in, &cm, err);
    double secs = (now_s() - t0) / 100;
    if (rc)
        return rc;
    tot->seconds[KIND_CYCLE] += secs;
    msgpack_pack_map(pk, 4);
    pack_str(pk, "lengths");
    msgpack_pack_array(pk, (size_t)nl);
    for (int i = 0; i < nl; i++)
        msgpack_pack_double(pk, L[i]);
    pack_str(pk, "ntr");
    msgpack_pack_int(pk, ntr);
    pack_str(pk, "ours");
    msgpack_pack_array(pk, (size_t)(nl - ntr));
    for (int i = ntr; i < nl; i++)
        msgpack_pack_double(pk, cycle_predict_length(&cm, L, i));
    pack_str(pk, "seconds");
    msgpack_pack_double(pk, secs);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = { { "json", 1, NULL, 'j' }, { "out", 1, NULL, 'o' },
                                        { "linear-logs", 1, NULL, 'l' }, { "trees", 1, NULL, 't' },
                                        { NULL, 0, NULL, 0 } };
    struct gbt_params prm, *tree_prm = NULL;
    const char *in_path = NULL, *out_path = NULL;
    int linear_logs = 40, c;
    bool ok = true;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        char *end = NULL;
        if (c == 'j')
            in_path = optarg;
        else if (c == 'o')
            out_path = optarg;
        else if (c == 'l')
            linear_logs = (int)strtol(optarg, &end, 10);
        else if (c == 't') {
            int used = 0;
            tree_prm = &prm;
            if (sscanf(optarg, "%d,%d,%lf,%d%n", &prm.n_rounds, &prm.max_depth, &prm.learning_rate, &prm.min_leaf,
                       &used) != 4 || optarg[used] != '\0')
                ok = false;
        }
        ok &= c != '?' && (!end || *end == '\0');
    }
    if (!ok || !in_path || !out_path || optind != argc || linear_logs < MODEL_COLD_START ||
        linear_logs >= MODEL_BOOSTED) {
        fprintf(stderr, "usage: hf-retrain-eval --json FILE --out FILE [--linear-logs %d..%d] [--trees ROUNDS,DEPTH,LR,MIN_LEAF]\n", MODEL_COLD_START,
                MODEL_BOOSTED - 1);
        return 2;
    }
    json_error_t jerr;
    json_t *doc = json_load_file(in_path, 0, &jerr);
    json_t *members = json_object_get(doc, "members");
    if (!json_is_array(members)) {
        fprintf(stderr, "hf-retrain-eval: %s: %s\n", in_path, doc ? "no members array" : jerr.text);
        json_decref(doc);
        return 1;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f) {
        fprintf(stderr, "hf-retrain-eval: cannot write %s\n", out_path);
        json_decref(doc);
        return 1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    struct totals trees = { { 0 }, 0 }, linear = { { 0 }, 0 };
    struct hf_err err = { 0 };
    int rc = 0;
    size_t n = json_array_size(members);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *mj = json_array_get(members, i);
        struct member_in full, lin;
        if (member_in_build(mj, 0, &full) || member_in_build(mj, linear_logs, &lin))
            rc = hf_err_set(&err, HF_EINVAL, false, "member %zu: bad or oversized input", i);
        if (rc == 0) {
            msgpack_pack_map(&pk, 4);
            pack_str(&pk, "index");
            msgpack_pack_int(&pk, (int)json_integer_value(json_object_get(mj, "index")));
            pack_str(&pk, "trees");
            rc = run_regime(&pk, "trees", &full.d, tree_prm, &trees, &err);
        }
        if (rc == 0) {
            pack_str(&pk, "linear");
            rc = run_regime(&pk, "linear", &lin.d, tree_prm, &linear, &err);
        }
        if (rc == 0) {
            pack_str(&pk, "cycle");
            rc = run_cycle(&pk, mj, &full.d, &trees, &err);
        }
        trees.members += rc == 0;
        linear.members += rc == 0;
        member_in_free(&full);
        member_in_free(&lin);
        if (rc)
            fprintf(stderr, "hf-retrain-eval: member %zu: %s\n", i, err.msg);
    }
    if (rc == 0 && (fwrite(sb.data, 1, sb.size, f) != sb.size))
        rc = 1;
    if (fclose(f) != 0)
        rc = 1;
    msgpack_sbuffer_destroy(&sb);
    json_decref(doc);
    if (rc)
        return 1;
    int k = trees.members ? trees.members : 1;
    printf("{\"members\": %d, \"ms_per_member\": {\"trees\": {\"symptoms\": %.3f, \"energy\": %.3f, \"mood\": %.3f},"
           " \"linear\": {\"symptoms\": %.3f, \"energy\": %.3f, \"mood\": %.3f}, \"cycle\": %.4f}}\n",
           trees.members, 1e3 * trees.seconds[KIND_SYMPTOMS] / k, 1e3 * trees.seconds[KIND_ENERGY] / k,
           1e3 * trees.seconds[KIND_MOOD] / k, 1e3 * linear.seconds[KIND_SYMPTOMS] / k,
           1e3 * linear.seconds[KIND_ENERGY] / k, 1e3 * linear.seconds[KIND_MOOD] / k,
           1e3 * trees.seconds[KIND_CYCLE] / k);
    return 0;
}
