"""bench/retrain: our models (hf-retrain-eval's output) against scikit-learn
and statsmodels fitted on the same rows with the same split, scored by the
same functions. Benchmark only: run from bench/retrain/run with the venv.

Input: the msgpack of hf-retrain-eval and hf-synth's JSON (for the truth).
Prints the tables and writes a JSON summary (--summary)."""
import argparse
import json
import time
import warnings

import msgpack
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from statsmodels.tsa.arima.model import ARIMA

SYMPTOMS = ["bloating", "energy_low", "brain_fog"]


def cpu():
    # CPU time of this thread, as hf-retrain-eval measures ours: the machine
    # is shared, so wall time would count other programs.
    return time.thread_time()


def smoothed_rate(y):
    return (y.sum() + 0.5) / (len(y) + 1.0)


def fit_binary(kind, X, y, trees_params, balanced=True):
    """A fitted predict_proba-like function, and its CPU seconds. One class
    in the fitted rows gets the constant (k + 0.5) / (n + 1), as ours does
    (scikit-learn refuses to fit one class)."""
    if y.min() == y.max():
        c = smoothed_rate(y)
        return (lambda Z: np.full(len(Z), c)), 0.0
    t0 = cpu()
    if kind == "trees":
        m = GradientBoostingClassifier(**trees_params).fit(X, y)
    else:
        m = LogisticRegression(C=1.0, class_weight="balanced" if balanced else None, max_iter=10000).fit(X, y)
    return (lambda Z: m.predict_proba(Z)[:, 1]), cpu() - t0


def fit_energy(kind, X, y, trees_params):
    t0 = cpu()
    if kind == "trees":
        m = GradientBoostingRegressor(**trees_params).fit(X, y)
    else:
        m = Ridge(alpha=1.0).fit(X, y)
    return m.predict, cpu() - t0


def fit_mood(kind, X, y, trees_params):
    """Five class probabilities. Trees: one softmax model over the classes
    present; linear: one-vs-rest logistic per class, normalised (as ours)."""
    y = y.astype(int)
    t0 = cpu()
    present = np.unique(y)
    if kind == "trees":
        if len(present) == 1:
            c = np.zeros(5)
            c[present[0]] = 1.0
            return (lambda Z: np.tile(c, (len(Z), 1))), 0.0
        m = GradientBoostingClassifier(**trees_params).fit(X, y)

        def pred(Z):
            out = np.zeros((len(Z), 5))
            out[:, m.classes_] = m.predict_proba(Z)
            return out

        return pred, cpu() - t0
    parts = []
    for c in range(5):
        yc = (y == c).astype(int)
        f, _ = fit_binary("linear", X, yc, trees_params, balanced=False)  # ours: unweighted one-vs-rest
        parts.append(f)

    def pred_ovr(Z):
        P = np.column_stack([f(Z) for f in parts])
        s = P.sum(axis=1, keepdims=True)
        return np.where(s > 0, P / np.where(s > 0, s, 1), 0.2)

    return pred_ovr, cpu() - t0


class Scores:
    """Validation predictions of one library, pooled over members."""

    def __init__(self):
        self.p = {t: [] for t in SYMPTOMS}
        self.y = {t: [] for t in SYMPTOMS}
        self.auc = {t: [] for t in SYMPTOMS}
        self.energy_err = []
        self.mood_brier = []
        self.mood_hits = []
        self.seconds = []

    def add(self, P, Y):
        """P: nv x 9 (three probabilities, energy, five mood probabilities),
        Y: nv x 5 labels."""
        for j, t in enumerate(SYMPTOMS):
            self.p[t].extend(P[:, j])
            self.y[t].extend(Y[:, j])
            if 0 < Y[:, j].sum() < len(Y):
                self.auc[t].append(roc_auc_score(Y[:, j], P[:, j]))
        self.energy_err.extend(np.abs(np.clip(P[:, 3], 0, 5) - Y[:, 3]))
        onehot = np.eye(5)[Y[:, 4].astype(int)]
        self.mood_brier.extend(((P[:, 4:9] - onehot) ** 2).sum(axis=1))
        self.mood_hits.extend(P[:, 4:9].argmax(axis=1) == Y[:, 4])

    def summary(self):
        out = {}
        for t in SYMPTOMS:
            p, y = np.array(self.p[t]), np.array(self.y[t])
            out[t] = {"auc": float(np.mean(self.auc[t])), "members_with_auc": len(self.auc[t]),
                      "brier": float(np.mean((p - y) ** 2))}
        out["energy_mae"] = float(np.mean(self.energy_err))
        out["mood_brier"] = float(np.mean(self.mood_brier))
        out["mood_accuracy"] = float(np.mean(self.mood_hits))
        out["ms_per_member"] = 1e3 * float(np.mean(self.seconds))
        return out


def regime(members, kind, trees_params=None, ours_only=False):
    ours, ref = Scores(), Scores()
    for m in members:
        r = m[kind]
        n, p, ntr = r["n"], r["p"], r["ntr"]
        X = np.frombuffer(r["X"], dtype="<f8").reshape(n, p)
        Y = np.frombuffer(r["Y"], dtype="<f8").reshape(n, 5)
        O = np.frombuffer(r["ours"], dtype="<f8").reshape(n - ntr, 9)
        Xt, Xv, Yt, Yv = X[:ntr], X[ntr:], Y[:ntr], Y[ntr:]
        if len(Xv) == 0:
            continue
        ours.add(O, Yv)
        ours.seconds.append(sum(r["seconds"]))
        if ours_only:
            continue
        P = np.zeros((len(Xv), 9))
        secs = 0.0
        for j in range(3):
            f, s = fit_binary(kind, Xt, Yt[:, j], trees_params)
            P[:, j] = f(Xv)
            secs += s
        f, s = fit_energy(kind, Xt, Yt[:, 3], trees_params)
        P[:, 3] = f(Xv)
        secs += s
        f, s = fit_mood(kind, Xt, Yt[:, 4], trees_params)
        P[:, 4:9] = f(Xv)
        secs += s
        ref.add(P, Yv)
        ref.seconds.append(secs)
    return ours.summary(), (None if ours_only else ref.summary())


def cycles(members):
    """One-step-ahead MAE in days of the next period start: ours, ARIMA(1,0,0)
    with a constant fitted by statsmodels on the same 80%, and the mean of the
    fitted lengths (a floor any model should beat)."""
    err_ours, err_arima, err_mean, secs_ours, secs_arima = [], [], [], [], []
    for m in members:
        c = m["cycle"]
        L, ntr = np.array(c["lengths"]), c["ntr"]
        t0 = cpu()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ARIMA(L[:ntr], order=(1, 0, 0), trend="c").fit()
            preds = [float(res.apply(L[:i]).forecast(1)[0]) for i in range(ntr, len(L))]
        secs_arima.append(cpu() - t0)
        secs_ours.append(c["seconds"])
        for k, i in enumerate(range(ntr, len(L))):
            err_ours.append(abs(round(c["ours"][k]) - L[i]))
            err_arima.append(abs(round(preds[k]) - L[i]))
            err_mean.append(abs(round(L[:ntr].mean()) - L[i]))
    return {"ours": {"mae_days": float(np.mean(err_ours)), "ms_per_member": 1e3 * float(np.mean(secs_ours))},
            "arima": {"mae_days": float(np.mean(err_arima)), "ms_per_member": 1e3 * float(np.mean(secs_arima))},
            "train_mean": {"mae_days": float(np.mean(err_mean))},
            "predictions": len(err_ours)}


def ratio(a, b):
    return a / b if b else float("nan")


def print_regime(title, ours, ref, ref_name):
    print(f"\n{title}")
    print(f"{'metric':<28}{'ours':>10}{ref_name:>14}{'ours - ref':>12}")
    for t in SYMPTOMS:
        o, r = ours[t], ref[t]
        print(f"{t + ' AUC':<28}{o['auc']:>10.4f}{r['auc']:>14.4f}{o['auc'] - r['auc']:>+12.4f}")
        print(f"{t + ' Brier':<28}{o['brier']:>10.4f}{r['brier']:>14.4f}{o['brier'] - r['brier']:>+12.4f}")
    print(f"{'energy MAE (0-5)':<28}{ours['energy_mae']:>10.4f}{ref['energy_mae']:>14.4f}"
          f"{ours['energy_mae'] - ref['energy_mae']:>+12.4f}")
    print(f"{'mood Brier (5 classes)':<28}{ours['mood_brier']:>10.4f}{ref['mood_brier']:>14.4f}"
          f"{ours['mood_brier'] - ref['mood_brier']:>+12.4f}")
    print(f"{'mood accuracy':<28}{ours['mood_accuracy']:>10.4f}{ref['mood_accuracy']:>14.4f}"
          f"{ours['mood_accuracy'] - ref['mood_accuracy']:>+12.4f}")
    o, r = ours["ms_per_member"], ref["ms_per_member"]
    print(f"{'train CPU ms / member':<28}{o:>10.2f}{r:>14.2f}{'ref/ours ' + format(ratio(r, o), '.1f') + 'x':>12}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows")
    ap.add_argument("--trees", default="{}", help="our boosted trees' parameters as JSON (rounds, depth, lr, min_leaf)")
    ap.add_argument("--summary")
    ap.add_argument("--sklearn-defaults", action="store_true", help="also compare with scikit-learn's default trees")
    ap.add_argument("--ours-only", action="store_true", help="print our tree metrics only (parameter studies)")
    a = ap.parse_args()
    with open(a.rows, "rb") as f:
        members = msgpack.unpackb(f.read(), raw=False)
    tp = json.loads(a.trees)
    same = {"n_estimators": tp.get("rounds", 100), "max_depth": tp.get("depth", 4),
            "learning_rate": tp.get("lr", 0.1), "min_samples_leaf": tp.get("min_leaf", 1), "random_state": 0}
    defaults = {"random_state": 0}  # scikit-learn's: 100 rounds, depth 3, lr 0.1, min leaf 1
    out = {"members": len(members), "tree_params": same}
    if a.ours_only:
        print(json.dumps(regime(members, "trees", same, ours_only=True)[0]))
        return
    t_ours, t_ref = regime(members, "trees", same)
    print_regime(f"Boosted trees, {len(members)} members x all logs (scikit-learn with our parameters "
                 f"{same['n_estimators']} rounds, depth {same['max_depth']}, lr {same['learning_rate']}, "
                 f"min leaf {same['min_samples_leaf']})", t_ours, t_ref, "scikit-learn")
    t_def = None
    if a.sklearn_defaults:
        _, t_def = regime(members, "trees", defaults)
        print_regime("Boosted trees: scikit-learn with its own defaults (100 rounds, depth 3)", t_ours, t_def,
                     "sklearn-dflt")
    l_ours, l_ref = regime(members, "linear")
    print_regime("Linear models, the oldest logs only (logistic C=1 balanced, ridge alpha=1, one-vs-rest logistic C=1)",
                 l_ours, l_ref, "scikit-learn")
    cy = cycles(members)
    print(f"\nNext period start, one step ahead ({cy['predictions']} predictions)")
    print(f"{'model':<34}{'MAE days':>10}{'CPU ms / member':>17}")
    print(f"{'ours (weighted mean + AR(1))':<34}{cy['ours']['mae_days']:>10.3f}{cy['ours']['ms_per_member']:>17.4f}")
    print(f"{'statsmodels ARIMA(1,0,0)':<34}{cy['arima']['mae_days']:>10.3f}{cy['arima']['ms_per_member']:>17.2f}")
    print(f"{'mean of the fitted lengths':<34}{cy['train_mean']['mae_days']:>10.3f}")
    print(f"ours - ARIMA: {cy['ours']['mae_days'] - cy['arima']['mae_days']:+.3f} days; "
          f"ARIMA / ours CPU: {ratio(cy['arima']['ms_per_member'], cy['ours']['ms_per_member']):.0f}x")
    out.update({"trees": {"ours": t_ours, "sklearn": t_ref, "sklearn_defaults": t_def},
                "linear": {"ours": l_ours, "sklearn": l_ref}, "cycle": cy})
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
