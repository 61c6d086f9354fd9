#!/usr/bin/env python3
"""Expected values for the insights pool's statistics, computed ONCE with
SciPy and committed as vectors.json; tests/unit/test_insight_stats.c checks
the C modules against them to 1e-6 relative. The command that produced the
committed file is in README.md beside this script. Inputs are fixed (seeded),
so running it again gives the same file."""
import json
import sys

import numpy as np
import scipy
from scipy import stats

rng = np.random.RandomState(20261123)


def ints(n, lo=0, hi=5):
    return [int(v) for v in rng.randint(lo, hi + 1, size=n)]


def reals(n, loc=0.0, scale=1.0, digits=3):
    return [round(float(v), digits) for v in rng.normal(loc, scale, size=n)]


def mwu_case(name, x, y):
    res = stats.mannwhitneyu(x, y)  # defaults: use_continuity=True, two-sided, method='auto'
    exact = (len(x) <= 8 or len(y) <= 8) and len(set(x + y)) == len(x + y)
    again = stats.mannwhitneyu(x, y, method="exact" if exact else "asymptotic")
    assert again.statistic == res.statistic and again.pvalue == res.pvalue, name
    return {"name": name, "x": x, "y": y, "u": float(res.statistic), "p": float(res.pvalue),
            "method": "exact" if exact else "asymptotic"}


def pearson_case(name, x, y):
    r, p = stats.pearsonr(x, y)
    return {"name": name, "x": x, "y": y, "r": float(r), "p": float(p)}


def pointbiserial_case(name, g, y):
    r, p = stats.pointbiserialr(g, y)
    return {"name": name, "group": g, "y": y, "r": float(r), "p": float(p)}


def anova_case(name, groups):
    f, p = stats.f_oneway(*groups)
    return {"name": name, "groups": groups, "f": float(f), "p": float(p)}


def welch_case(name, x, y):
    res = stats.ttest_ind(x, y, equal_var=False)
    return {"name": name, "x": x, "y": y, "t": float(res.statistic), "p": float(res.pvalue)}


def linreg_case(name, x, y):
    res = stats.linregress(x, y)
    return {"name": name, "x": x, "y": y, "slope": float(res.slope), "intercept": float(res.intercept),
            "r": float(res.rvalue), "p": float(res.pvalue), "stderr": float(res.stderr)}


def n1_case(name, before, during, prior_sd, prior_mean=0.0, sigma_floor=0.01):
    """The conjugate normal model of workers/insights/stat_n1.h, with SciPy's
    normal distribution for the interval and the tail."""
    b, d = np.asarray(before, float), np.asarray(during, float)
    nb, nd = len(b), len(d)
    pooled = ((nb - 1) * b.var(ddof=1) + (nd - 1) * d.var(ddof=1)) / (nb + nd - 2)
    sigma = max(np.sqrt(pooled), sigma_floor)
    diff = d.mean() - b.mean()
    se2 = sigma ** 2 * (1 / nb + 1 / nd)
    tau2 = prior_sd ** 2
    v = 1 / (1 / tau2 + 1 / se2)
    m = v * (prior_mean / tau2 + diff / se2)
    lo, hi = stats.norm.interval(0.95, loc=m, scale=np.sqrt(v))
    return {"name": name, "before": before, "during": during, "prior_mean": prior_mean,
            "prior_sd": prior_sd, "sigma_floor": sigma_floor, "sigma": float(sigma),
            "effect": float(m), "effect_sd": float(np.sqrt(v)), "ci_low": float(lo), "ci_high": float(hi),
            "p_positive": float(stats.norm.sf(0, loc=m, scale=np.sqrt(v)))}


vectors = {
    "generator": "tests/vectors/insights/make_vectors.py",
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "mwu": [
        mwu_case("symptom scores with ties, 20 vs 30", ints(20), ints(30)),
        mwu_case("symptom scores with ties, 6 vs 40 (ties force normal)", ints(6, 2, 5), ints(40)),
        mwu_case("shifted scores with ties, 35 vs 65", ints(35, 1, 5), ints(65, 0, 3)),
        mwu_case("exact, 5 vs 7", reals(5, digits=6), reals(7, 0.5, digits=6)),
        mwu_case("exact, 3 vs 12", reals(3, 1.0, digits=6), reals(12, digits=6)),
        mwu_case("exact, 8 vs 40", reals(8, 0.8, digits=6), reals(40, digits=6)),
        mwu_case("exact, 2 vs 150", [2.5, 3.1], reals(150, digits=6)),
        mwu_case("exact, fully separated 6 vs 6", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                 [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]),
        mwu_case("exact, 1 vs 1", [1.0], [2.0]),
        mwu_case("normal without ties, 12 vs 15", reals(12, 0.7, digits=6), reals(15, digits=6)),
        mwu_case("one value against many, with ties", [4.0], ints(30)),
        mwu_case("every value equal, 4 vs 5", [3.0] * 4, [3.0] * 5),
    ],
    "pearson": [
        pearson_case("weak", reals(30), reals(30)),
        pearson_case("strong", list(range(25)), [round(0.5 * i + float(e), 3) for i, e in enumerate(rng.normal(0, 2, 25))]),
        pearson_case("three points", [1.0, 2.0, 3.5], [2.0, 1.0, 4.0]),
        pearson_case("negative", list(range(50)), [round(-0.1 * i + float(e), 3) for i, e in enumerate(rng.normal(0, 1, 50))]),
    ],
    "pointbiserial": [
        pointbiserial_case("ingredient days vs bloating", ints(40, 0, 1), ints(40)),
        pointbiserial_case("clear effect", [1] * 10 + [0] * 30, ints(10, 3, 5) + ints(30, 0, 2)),
    ],
    "anova": [
        anova_case("four phases", [ints(12), ints(9, 1, 5), ints(15, 0, 3), ints(7, 2, 5)]),
        anova_case("two groups", [reals(10), reals(14, 0.4)]),
        anova_case("strong phase effect", [ints(20, 3, 5), ints(20, 0, 2), ints(20, 0, 3)]),
    ],
    "welch": [
        welch_case("weekday vs weekend", ints(70), ints(28, 1, 5)),
        welch_case("unequal variances", reals(8, 0, 1), reals(20, 1, 3)),
        welch_case("two each", [1.0, 2.0], [3.0, 5.0]),
    ],
    "linregress": [
        linreg_case("trend over 100 days", list(range(100)), [round(2 + 0.01 * i + float(e), 3) for i, e in enumerate(rng.normal(0, 1, 100))]),
        linreg_case("no trend", list(range(30)), reals(30)),
        linreg_case("constant y", [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]),
    ],
    "n1": [
        n1_case("sleep score while taking magnesium", reals(28, 71, 6, 1), reals(28, 76, 6, 1), 10.0),
        n1_case("short windows", [3.0, 4.0, 2.0], [2.0, 1.0, 2.0, 1.0], 1.0),
        n1_case("skeptical prior", reals(14, 3, 1, 0), reals(14, 2.5, 1, 0), 0.3, prior_mean=0.1),
        n1_case("constant values, floored sigma", [3.0] * 5, [4.0] * 6, 1.0, sigma_floor=0.05),
    ],
}

json.dump(vectors, sys.stdout, indent=1)
sys.stdout.write("\n")
