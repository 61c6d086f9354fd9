/* Known answers for the retraining pool's math (workers/retrain).
 *
 * Reference values were computed once with scikit-learn 1.x / numpy
 * (.hf/bench-retrain, bench/retrain/README.md) by this script:
 *   X=[[0,1],[1,.5],[2,2],[3,1.5],[4,3],[5,2.5],[6,0],[7,1],[1,2],[3,.5]]
 *   y=[0,0,1,0,1,1,0,1,1,0]
 *   LogisticRegression(C=1, tol=1e-12).fit(X, y)                   -> lr
 *   LogisticRegression(C=1, class_weight='balanced').fit(X[:7], y[:7]) -> lrb
 *   GradientBoostingRegressor(n_estimators=1, max_depth=1, learning_rate=1)
 *     .fit([[1],[2],[3],[4],[5],[6]], [1, 1.2, .9, 3.1, 2.9, 3])   -> tree
 *   GradientBoostingClassifier(same).fit(same X, [0,0,0,1,1,0])      -> gbc
 *   np.linalg.lstsq([1, x[:-1]], x[1:]) for x = 28,30,27,31,29,28,30 -> ar
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cycle.h"
#include "gbt.h"
#include "linmodel.h"
#include "model.h"
#include "registry.h"
#include "unit_util.h"

static const double LX[10][2] = { { 0, 1 }, { 1, .5 }, { 2, 2 }, { 3, 1.5 }, { 4, 3 },
                                  { 5, 2.5 }, { 6, 0 }, { 7, 1 }, { 1, 2 }, { 3, .5 } };
static const double LY[10] = { 0, 0, 1, 0, 1, 1, 0, 1, 1, 0 };

START_TEST(logistic_matches_sklearn)
{
    double beta[3];
    struct hf_err err = { 0 };
    ck_assert_int_eq(linmodel_logistic_fit(&LX[0][0], LY, NULL, 10, 2, 1.0, beta, &err), 0);
    ck_assert_double_eq_tol(beta[0], -2.8414871433211126, 1e-6);
    ck_assert_double_eq_tol(beta[1], 0.31390174139178334, 1e-6);
    ck_assert_double_eq_tol(beta[2], 1.3502634827648547, 1e-6);
}
END_TEST

START_TEST(balanced_logistic_matches_sklearn)
{
    /* 7 rows, 3 positive: weights 7/(2*3) and 7/(2*4) */
    double s[7], beta[3];
    for (int i = 0; i < 7; i++)
        s[i] = LY[i] ? 7.0 / 6 : 7.0 / 8;
    ck_assert_int_eq(linmodel_logistic_fit(&LX[0][0], LY, s, 7, 2, 1.0, beta, NULL), 0);
    ck_assert_double_eq_tol(beta[0], -2.6407699649252594, 1e-6);
    ck_assert_double_eq_tol(beta[1], 0.22925201558235914, 1e-6);
    ck_assert_double_eq_tol(beta[2], 1.1999281034259937, 1e-6);
}
END_TEST

START_TEST(logistic_refuses_one_class_and_nan)
{
    double y[3] = { 1, 1, 1 }, X[3] = { 1, 2, 3 }, beta[2];
    struct hf_err err = { 0 };
    ck_assert_int_eq(linmodel_logistic_fit(X, y, NULL, 3, 1, 1.0, beta, &err), HF_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "one class"));
    double yb[3] = { 0, 1, 0 }, Xn[3] = { 1, NAN, 3 };
    ck_assert_int_eq(linmodel_logistic_fit(Xn, yb, NULL, 3, 1, 1.0, beta, &err), HF_EINVAL);
    ck_assert_int_eq(linmodel_logistic_fit(X, yb, NULL, 3, 1, 0.0, beta, &err), HF_EINVAL);
}
END_TEST

START_TEST(ridge_known_answer)
{
    /* y = 1 + 2x exactly; with lambda tiny the fit is exact. */
    double X[4] = { 0, 1, 2, 3 }, y[4] = { 1, 3, 5, 7 }, beta[2];
    ck_assert_int_eq(linmodel_ridge_fit(X, y, 4, 1, 1e-9, beta, NULL), 0);
    ck_assert_double_eq_tol(beta[0], 1, 1e-6);
    ck_assert_double_eq_tol(beta[1], 2, 1e-6);
}
END_TEST

static const double TX[6] = { 1, 2, 3, 4, 5, 6 };

START_TEST(tree_split_matches_sklearn)
{
    double y[6] = { 1, 1.2, .9, 3.1, 2.9, 3 }, out;
    struct gbt_params p = { 1, 1, 1.0, 1 };
    gbt *m = NULL;
    ck_assert_int_eq(gbt_fit(TX, y, 6, 1, GBT_SQUARED, 0, &p, &m, NULL), 0);
    double x = 3.49;
    gbt_predict(m, &x, &out);
    ck_assert_double_eq_tol(out, 1.0333333333333332, 1e-6); /* threshold 3.5, left leaf */
    x = 3.51;
    gbt_predict(m, &x, &out);
    ck_assert_double_eq_tol(out, 3.0, 1e-6);
    gbt_free(m);
}
END_TEST

START_TEST(logloss_tree_matches_sklearn)
{
    double y[6] = { 0, 0, 0, 1, 1, 0 }, out;
    struct gbt_params p = { 1, 1, 1.0, 1 };
    gbt *m = NULL;
    ck_assert_int_eq(gbt_fit(TX, y, 6, 1, GBT_LOGLOSS, 0, &p, &m, NULL), 0);
    double x = 1;
    gbt_predict(m, &x, &out);
    ck_assert_double_eq_tol(out, 0.10036756, 1e-6);
    x = 4.5;
    gbt_predict(m, &x, &out);
    ck_assert_double_eq_tol(out, 0.69143845, 1e-6);
    gbt_free(m);
}
END_TEST

/* Five rounds of depth-2 trees with at least 2 rows a leaf, against
 * GradientBoostingClassifier(n_estimators=5, max_depth=2, learning_rate=0.1,
 * min_samples_leaf=2, random_state=0) on 20 rows of np.random.RandomState(3)
 * (bench/retrain/README.md): the probabilities of the fitted rows (where
 * thresholds between neighbours cannot differ) match to float precision. */
START_TEST(boosted_rounds_match_sklearn)
{
    static const double X[20][2] = { { 5.51, 7.08 }, { 2.91, 5.11 }, { 8.93, 8.96 }, { 1.26, 2.07 }, { 0.51, 4.41 },
                                     { 0.3, 4.57 },  { 6.49, 2.78 }, { 6.76, 5.91 }, { 0.24, 5.59 }, { 2.59, 4.15 },
                                     { 2.84, 6.93 }, { 4.4, 1.57 },  { 5.45, 7.8 },  { 3.06, 2.22 }, { 3.88, 9.36 },
                                     { 9.76, 6.72 }, { 9.03, 8.46 }, { 3.78, 0.92 }, { 6.53, 5.58 }, { 3.62, 2.25 } };
    static const double y[20] = { 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
    static const double want[20] = { 0.2322048156, 0.2087747191, 0.6174671769, 0.3356358156, 0.2087747191,
                                     0.2087747191, 0.2322048156, 0.6174671769, 0.2087747191, 0.2087747191,
                                     0.2087747191, 0.3667046788, 0.2322048156, 0.3356358156, 0.2322048156,
                                     0.6174671769, 0.6174671769, 0.3667046788, 0.6174671769, 0.3667046788 };
    struct gbt_params p = { 5, 2, 0.1, 2 };
    gbt *m = NULL;
    ck_assert_int_eq(gbt_fit(&X[0][0], y, 20, 2, GBT_LOGLOSS, 0, &p, &m, NULL), 0);
    for (int i = 0; i < 20; i++) {
        double out;
        gbt_predict(m, X[i], &out);
        ck_assert_msg(fabs(out - want[i]) < 1e-6, "row %d: %.10f, scikit-learn %.10f", i, out, want[i]);
    }
    gbt_free(m);
}
END_TEST

START_TEST(softmax_trees_learn_classes)
{
    /* Three separable classes: the probabilities must favour the right one. */
    double X[9] = { 0, 0, 0, 5, 5, 5, 9, 9, 9 }, y[9] = { 0, 0, 0, 1, 1, 1, 2, 2, 2 }, pr[3];
    struct gbt_params p = gbt_default_params();
    gbt *m = NULL;
    ck_assert_int_eq(gbt_fit(X, y, 9, 1, GBT_SOFTMAX, 3, &p, &m, NULL), 0);
    for (int c = 0; c < 3; c++) {
        double x = X[c * 3];
        gbt_predict(m, &x, pr);
        ck_assert_double_eq_tol(pr[0] + pr[1] + pr[2], 1, 1e-9);
        ck_assert_msg(pr[c] > 0.9, "class %d got %g", c, pr[c]);
    }
    gbt_free(m);
    struct hf_err err = { 0 };
    double bad[1] = { 3 };
    ck_assert_int_eq(gbt_fit(X, bad, 1, 1, GBT_SOFTMAX, 3, &p, &m, &err), HF_EINVAL);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(ar1_matches_numpy)
{
    double x[7] = { 28, 30, 27, 31, 29, 28, 30 }, c, phi;
    ck_assert(cycle_ar1_fit(x, 7, &c, &phi));
    ck_assert_double_eq_tol(c, 50.01538462, 1e-6);
    ck_assert_double_eq_tol(phi, -0.72307692, 1e-6);
    double flat[4] = { 28, 28, 28, 28 };
    ck_assert(!cycle_ar1_fit(flat, 4, &c, &phi));
}
END_TEST

START_TEST(activation_rule)
{
    ck_assert(registry_should_activate(true, -0.2, false, NAN));
    ck_assert(!registry_should_activate(false, -0.1, false, NAN));    /* below threshold */
    ck_assert(registry_should_activate(true, -0.2, true, -0.2));      /* equal: not worse */
    ck_assert(!registry_should_activate(true, -0.21, true, -0.2));    /* worse than active */
    ck_assert(registry_should_activate(true, -0.1, true, NAN));       /* active not scorable */
    ck_assert(!registry_should_activate(true, NAN, false, NAN));
    char h[17];
    registry_hash_text(0xabcULL, h);
    ck_assert_str_eq(h, "0000000000000abc");
}
END_TEST

/* ---------- a synthetic member ---------- */

static const char *const NAMES[] = { "milk", "oats", "banana", "rice" };

struct synth {
    struct fx_day days[200];
    int ing[200][2];
    int32_t starts[20];
    struct cycle_reading bbt[400];
    struct member_data d;
};

/* n logged days from day 20000; milk every other day triggers bloating 4 the
 * next day; energy and mood follow the weekday; `flat` makes every symptom 2. */
static void synth(struct synth *s, int n, bool flat)
{
    memset(s, 0, sizeof *s);
    unsigned seed = 7;
    for (int i = 0; i < n; i++) {
        struct fx_day *d = &s->days[i];
        d->day = 20000 + i;
        d->logged = true;
        d->phase = -1;
        seed = seed * 1103515245u + 12345u;
        bool milk = (seed >> 16) % 2;
        s->ing[i][0] = milk ? 0 : 1;
        s->ing[i][1] = 2 + (int)((seed >> 20) % 2);
        d->ing = s->ing[i];
        d->n_ing = 2;
        bool milk_before = i > 0 && s->ing[i - 1][0] == 0;
        d->sym[FX_BLOATING] = (int8_t)(flat ? 2 : milk_before ? 4 : 1);
        d->sym[FX_ENERGY] = (int8_t)(flat ? 2 : (d->day % 7 < 2 ? 1 : 4));
        d->sym[FX_FOCUS] = (int8_t)(flat ? 2 : (int)((seed >> 24) % 6));
        d->sym[FX_MOOD] = (int8_t)(flat ? 2 : (d->day % 7 < 3 ? 1 : 4));
    }
    s->d.fx = (struct fx_data){ .days = s->days, .n_days = n, .names = NAMES, .n_names = 4 };
}

START_TEST(cold_start_thresholds)
{
    static struct synth s;
    const struct {
        int n;
        int rc;
        const char *alg;
    } cases[] = { { 13, HF_ENOTFOUND, NULL }, { 14, 0, "logistic" }, { 49, 0, "logistic" }, { 50, 0, "gbt" } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        synth(&s, cases[c].n, false);
        model *m = NULL;
        struct hf_err err = { 0 };
        ck_assert_int_eq(model_train(KIND_SYMPTOMS, &s.d, &m, &err), cases[c].rc);
        if (cases[c].alg) {
            ck_assert_str_eq(model_algorithm(m), cases[c].alg);
            ck_assert_int_eq(model_samples(m), cases[c].n);
        } else {
            ck_assert_ptr_null(m);
            ck_assert_ptr_nonnull(strstr(err.msg, "cold start"));
        }
        model_free(m);
        ck_assert_int_eq(model_train(KIND_ENERGY, &s.d, &m, NULL), cases[c].rc);
        if (m)
            ck_assert_str_eq(model_algorithm(m), cases[c].n >= 50 ? "gbt" : "ridge");
        model_free(m);
        ck_assert_int_eq(model_train(KIND_MOOD, &s.d, &m, NULL), cases[c].rc);
        if (m)
            ck_assert_str_eq(model_algorithm(m), cases[c].n >= 50 ? "gbt" : "ovr_logistic");
        model_free(m);
    }
}
END_TEST

static double prediction_number(json_t *preds, const char *target, const char *field)
{
    size_t i;
    json_t *p;
    json_array_foreach(preds, i, p) if (strcmp(json_string_value(json_object_get(p, "target")), target) == 0) return json_number_value(
        json_object_get(json_object_get(p, "value"), field));
    return NAN;
}

START_TEST(trees_learn_the_planted_trigger_and_round_trip)
{
    static struct synth s;
    synth(&s, 90, false);
    for (int kind = KIND_SYMPTOMS; kind <= KIND_MOOD; kind++) {
        model *m = NULL, *back = NULL;
        struct hf_err err = { 0 };
        ck_assert_int_eq(model_train(kind, &s.d, &m, &err), 0);
        ck_assert_msg(model_passed(m), "kind %d did not pass: score %g", kind, model_score(m));
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        ck_assert_int_eq(model_encode(m, &sb, &err), 0);
        ck_assert_int_eq(model_decode(sb.data, sb.size, &back, &err), 0);
        ck_assert_str_eq(model_algorithm(back), "gbt");
        ck_assert_double_eq_tol(model_evaluate(back, &s.d), model_evaluate(m, &s.d), 1e-12);
        json_t *a = json_array(), *b = json_array();
        ck_assert_int_eq(model_predict(m, kind, &s.d, a, NULL), 0);
        ck_assert_int_eq(model_predict(back, kind, &s.d, b, NULL), 0);
        ck_assert(json_equal(a, b));
        ck_assert_int_gt(json_array_size(a), 0);
        json_decref(a);
        json_decref(b);
        /* Every truncation and a flipped byte are refused, never misread. */
        for (size_t cut = 0; cut < sb.size; cut += 1 + sb.size / 50) {
            model *bad = NULL;
            ck_assert_int_eq(model_decode(sb.data, cut, &bad, NULL), HF_EINVAL);
            ck_assert_ptr_null(bad);
        }
        sb.data[3] ^= 0x55;
        model *bad = NULL;
        int rc = model_decode(sb.data, sb.size, &bad, NULL);
        ck_assert(rc == HF_EINVAL || bad != NULL);
        model_free(bad);
        msgpack_sbuffer_destroy(&sb);
        model_free(m);
        model_free(back);
    }
    /* Milk yesterday means bloating today: after a milk day the risk is high. */
    model *m = NULL;
    ck_assert_int_eq(model_train(KIND_SYMPTOMS, &s.d, &m, NULL), 0);
    json_t *metrics = model_metrics(m);
    double a = json_number_value(json_object_get(json_object_get(metrics, "bloating"), "auc"));
    ck_assert_msg(a > 0.95, "bloating AUC %g", a);
    json_decref(metrics);
    json_t *preds = json_array();
    ck_assert_int_eq(model_predict(m, KIND_SYMPTOMS, &s.d, preds, NULL), 0);
    double p = prediction_number(preds, "bloating", "probability");
    bool milk_last = s.ing[89][0] == 0;
    ck_assert_msg(milk_last ? p > 0.8 : p < 0.2, "milk on the last day %d, P(bloating) %g", milk_last, p);
    json_decref(preds);
    model_free(m);
}
END_TEST

START_TEST(degenerate_members_get_sane_answers)
{
    static struct synth s;
    /* All symptoms equal: constant models, probabilities near the rate. */
    synth(&s, 60, true);
    for (int kind = KIND_SYMPTOMS; kind <= KIND_MOOD; kind++) {
        model *m = NULL;
        ck_assert_int_eq(model_train(kind, &s.d, &m, NULL), 0);
        ck_assert(isfinite(model_score(m)));
        json_t *preds = json_array();
        ck_assert_int_eq(model_predict(m, kind, &s.d, preds, NULL), 0);
        char *text = json_dumps(preds, 0);
        ck_assert_ptr_null(strstr(text, "nan"));
        ck_assert_ptr_null(strstr(text, "null"));
        free(text);
        if (kind == KIND_SYMPTOMS)
            ck_assert_double_lt(prediction_number(preds, "bloating", "probability"), 0.05);
        if (kind == KIND_ENERGY)
            ck_assert_double_eq_tol(prediction_number(preds, "energy", "value"), 2, 1e-3);
        json_decref(preds);
        model_free(m);
    }
    /* One log, no cycles: no model, a baseline prediction, no cycle forecast. */
    synth(&s, 1, false);
    for (int kind = 0; kind < KIND_N; kind++) {
        model *m = NULL;
        ck_assert_int_eq(model_train(kind, &s.d, &m, NULL), HF_ENOTFOUND);
        json_t *preds = json_array();
        ck_assert_int_eq(model_predict(NULL, kind, &s.d, preds, NULL), 0);
        ck_assert_int_eq(json_array_size(preds), kind == KIND_CYCLE ? 0 : kind == KIND_SYMPTOMS ? 3 : 1);
        char *text = json_dumps(preds, 0);
        ck_assert_ptr_null(strstr(text, "null"));
        free(text);
        json_decref(preds);
    }
    /* No logs at all: nothing predicted. */
    synth(&s, 0, false);
    json_t *preds = json_array();
    ck_assert_int_eq(model_predict(NULL, KIND_SYMPTOMS, &s.d, preds, NULL), 0);
    ck_assert_int_eq(json_array_size(preds), 0);
    json_decref(preds);
}
END_TEST

START_TEST(cold_start_uses_ingredient_scores)
{
    static struct synth s;
    synth(&s, 5, false);
    double gut[4] = { 20, 80, NAN, NAN }, infl[4] = { 60, 10, NAN, NAN };
    s.d.gut = gut;
    s.d.inflammation = infl;
    json_t *preds = json_array();
    ck_assert_int_eq(model_predict(NULL, KIND_SYMPTOMS, &s.d, preds, NULL), 0);
    /* last day: milk (gut 20, inflammation 60) or oats (80, 10), plus unscored
     * banana/rice: 0.5 - (20-50)/200 + 60/200 = 0.95 -> 0.9; 0.5 - 30/200 + 10/200 = 0.4 */
    double want = s.ing[4][0] == 0 ? 0.9 : 0.4;
    ck_assert_double_eq_tol(prediction_number(preds, "bloating", "probability"), want, 1e-9);
    json_decref(preds);
}
END_TEST

START_TEST(cycle_forecast_with_temperature_shift)
{
    /* Cycles of 28,30,28,30,28,30,28 days; temperatures 36.4, rising to 36.8
     * 14 days before each next start (ovulation the day before). */
    int32_t starts[8];
    static struct cycle_reading bbt[400];
    int nb = 0;
    starts[0] = 20000;
    for (int i = 1; i < 8; i++)
        starts[i] = starts[i - 1] + (i % 2 ? 28 : 30);
    for (int i = 0; i < 7; i++)
        for (int32_t d = starts[i]; d < starts[i + 1]; d++)
            bbt[nb++] = (struct cycle_reading){ d, d >= starts[i + 1] - 14 ? 36.8 : 36.4 };
    struct cycle_input in = { starts, 8, bbt, nb, NULL, 0 };
    struct cycle_model m;
    ck_assert_int_eq(cycle_fit(&in, &m, NULL), 0);
    ck_assert_int_eq(m.n_lengths, 7);
    ck_assert(m.has_ar);
    ck_assert_int_eq(m.n_luteal, 6);
    ck_assert_double_eq_tol(m.luteal, 15, 1e-9); /* shift day - 1 = start - 15 */
    ck_assert_double_eq_tol(m.w_mean + m.w_ar, 1, 1e-12);
    struct cycle_forecast f;
    ck_assert_int_eq(cycle_forecast(&m, &in, &f, NULL), 0);
    /* Alternating lengths, last 28: the AR part predicts 30 and the ensemble leans to it. */
    ck_assert_int_ge(f.next_start, starts[7] + 28);
    ck_assert_int_le(f.next_start, starts[7] + 30);
    ck_assert_int_le(f.lo, f.next_start);
    ck_assert_int_ge(f.hi, f.next_start);
    ck_assert_str_eq(f.ovulation_method, "luteal");
    ck_assert_int_eq(f.ovulation, f.next_start - 15);
    ck_assert_int_eq(f.fertile_start, f.ovulation - 5);
    ck_assert_int_eq(f.fertile_end, f.ovulation + 1);
    /* A positive LH test in the current cycle wins. */
    struct cycle_reading lh = { starts[7] + 12, 1.0 };
    in.lh = &lh;
    in.n_lh = 1;
    ck_assert_int_eq(cycle_forecast(&m, &in, &f, NULL), 0);
    ck_assert_str_eq(f.ovulation_method, "lh");
    ck_assert_int_eq(f.ovulation, starts[7] + 13);
    /* No period: nothing to forecast. */
    struct cycle_input none = { 0 };
    ck_assert_int_eq(cycle_fit(&none, &m, NULL), HF_ENOTFOUND);
    /* One period: the calendar (28 days). */
    struct cycle_input one = { starts, 1, NULL, 0, NULL, 0 };
    ck_assert_int_eq(cycle_fit(&one, &m, NULL), 0);
    ck_assert_int_eq(cycle_forecast(&m, &one, &f, NULL), 0);
    ck_assert_int_eq(f.next_start, starts[0] + 28);
    ck_assert_str_eq(f.ovulation_method, "calendar");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retrain_models");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, logistic_matches_sklearn);
    tcase_add_test(tc, balanced_logistic_matches_sklearn);
    tcase_add_test(tc, logistic_refuses_one_class_and_nan);
    tcase_add_test(tc, ridge_known_answer);
    tcase_add_test(tc, tree_split_matches_sklearn);
    tcase_add_test(tc, logloss_tree_matches_sklearn);
    tcase_add_test(tc, boosted_rounds_match_sklearn);
    tcase_add_test(tc, softmax_trees_learn_classes);
    tcase_add_test(tc, ar1_matches_numpy);
    tcase_add_test(tc, activation_rule);
    tcase_add_test(tc, cold_start_thresholds);
    tcase_add_test(tc, trees_learn_the_planted_trigger_and_round_trip);
    tcase_add_test(tc, degenerate_members_get_sane_answers);
    tcase_add_test(tc, cold_start_uses_ingredient_scores);
    tcase_add_test(tc, cycle_forecast_with_temperature_shift);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
