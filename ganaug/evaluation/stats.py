"""Paired statistics over seeds: Student t intervals and tests, and the summary
of augmentation runs (one row per arm and seed) against their baselines.

The Student t distribution is computed here with the regularised incomplete
beta function (a Lentz continued fraction), so the library needs no scipy;
the tests check it against ``scipy.stats.t``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .._warnings import warn

#: the columns that tell arms apart, in this order, when they are present in the rows
ARM_KEYS = ("arm", "ratio", "classical")
#: the real-only baseline: no synthetic data, no classical augmentation
REAL_BASELINE = {"ratio": 0.0, "classical": False}
#: the classical-augmentation baseline: classical augmentation, no synthetic data
CLASSICAL_BASELINE = {"ratio": 0.0, "classical": True}
#: the self-training baseline of comparisons with unlabelled data (``compare_augmentation(..., unlabelled=...)``)
SELF_TRAINING_BASELINE = {"arm": "self_training"}
#: the arms that train with another loss than cross-entropy (``compare_augmentation(loss_baselines=...)``): their
#: loss (:data:`ganaug.classifier.LOSSES`) and the arm whose data they train on
LOSS_ARMS = {
    "class_weighted": ("class_weighted", "real"),
    "logit_adjusted": ("logit_adjusted", "real"),
    "gan+logit_adjusted": ("logit_adjusted", "gan"),
}
#: metrics averaged in a summary when the rows have them
METRICS = ("accuracy", "balanced_accuracy", "macro_f1")


# -- the Student t distribution ---------------------------------------------------------------
def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function ``I_x(a, b)`` for ``a, b > 0``, ``0 <= x <= 1``.

    Examples
    --------
    >>> round(betainc(2.0, 3.0, 0.4), 6)  # scipy.special.betainc(2, 3, 0.4)
    0.5248
    """
    if not (a > 0 and b > 0):
        raise ValueError(f"betainc needs a > 0 and b > 0; got a={a}, b={b}")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"betainc needs 0 <= x <= 1; got x={x}")
    if x == 0.0 or x == 1.0:
        return float(x)
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Cumulative distribution function of Student's t with ``df`` degrees of freedom.

    Examples
    --------
    >>> round(t_cdf(2.0, 4), 6)  # scipy.stats.t.cdf(2, 4)
    0.941942
    """
    if not df > 0:
        raise ValueError(f"degrees of freedom must be > 0; got {df}")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_sf(t: float, df: float) -> float:
    """Survival function ``1 - cdf`` of Student's t, accurate in the far tail."""
    return t_cdf(-t, df)


def t_ppf(q: float, df: float) -> float:
    """Quantile function (inverse cdf) of Student's t.

    Examples
    --------
    >>> round(t_ppf(0.975, 4), 4)  # scipy.stats.t.ppf(0.975, 4)
    2.7764
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be strictly between 0 and 1; got {q}")
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_ppf(1.0 - q, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < q:
        lo, hi = hi, hi * 2.0
        if hi > 1e300:  # pragma: no cover - q within 1e-300 of 1
            return math.inf
    for _ in range(200):  # bisection: the cdf is monotone, 200 halvings reach float precision
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of ints: distinct and non-negative, a warning when there is only one.

    Every comparison of this package pairs its arms seed by seed; one seed gives a difference but no interval.

    Examples
    --------
    >>> check_seeds((0, 1, 2))
    [0, 1, 2]
    """
    if isinstance(seeds, (int, np.integer)):
        raise TypeError(f"seeds must be a sequence of ints, e.g. (0, 1, 2, 3, 4); got the single int {seeds}")
    seeds = [int(s) if isinstance(s, (int, np.integer)) and not isinstance(s, bool) else s for s in seeds]
    if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(
            f"seeds must be distinct non-negative ints (at least 2 for a confidence interval); got {seeds!r}"
        )
    if len(seeds) < 2:
        warn("with a single seed there is no confidence interval or p-value; use 3-5 seeds", UserWarning)
    return seeds


def paired_difference(values: Sequence[float], baseline: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean paired difference with its Student t confidence interval and two-sided p-value.

    ``values[i]`` and ``baseline[i]`` are the same seed (run) under two arms;
    the test is the paired t test on ``values - baseline`` (``scipy.stats.ttest_rel``).

    Parameters
    ----------
    values, baseline : sequence of float
        Paired measurements, same length.
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    dict
        ``delta`` (mean difference), ``ci_low``, ``ci_high``, ``p_value``,
        ``n`` (pairs). With fewer than 2 pairs the interval and p-value are
        NaN. When all differences are equal the interval is that value and
        the p-value is 1 (all zero) or 0 (all the same non-zero value).

    Examples
    --------
    >>> r = paired_difference([0.82, 0.85, 0.80], [0.80, 0.82, 0.79])
    >>> round(r["delta"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4), round(r["p_value"], 4)
    (0.02, -0.0048, 0.0448, 0.0742)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1 (e.g. 0.95); got {confidence}")
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired values need two 1-D sequences of the same length; got shapes {a.shape} and {b.shape}")
    d = a - b
    n = int(d.size)
    if n == 0:
        return {"delta": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": 0}
    mean = float(d.mean())
    if n < 2:
        return {"delta": mean, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": 1}
    sd = float(d.std(ddof=1))
    if sd <= 1e-12 * max(1.0, abs(mean)):
        return {"delta": mean, "ci_low": mean, "ci_high": mean, "p_value": 1.0 if abs(mean) <= 1e-12 else 0.0, "n": n}
    se = sd / math.sqrt(n)
    half = t_ppf(0.5 + confidence / 2.0, n - 1) * se
    p = min(1.0, 2.0 * t_sf(abs(mean / se), n - 1))
    return {"delta": mean, "ci_low": mean - half, "ci_high": mean + half, "p_value": p, "n": n}


# -- summaries of rows ------------------------------------------------------------------------
def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _norm(v):
    """Hashable, comparable form of a cell (numpy scalars to Python, 1 == 1.0)."""
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _matches(row: Mapping, condition: Mapping) -> bool:
    for k, v in condition.items():
        cell = row.get(k, False if k == "classical" else None)
        if _norm(cell) != v:
            return False
    return True


def _sort_key(value):
    """Order cells of mixed types: None first, then numbers, then strings."""
    value = _norm(value)
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, bool):
        return (1, float(value), "")
    if _is_number(value):
        return (1, float(value), "")
    return (2, 0.0, str(value))


#: Every arm a comparison runs, in the order it runs them and summaries list them.
ARMS = (
    "real",
    "classical",
    "gan",
    "classical+gan",
    "class_weighted",
    "logit_adjusted",
    "gan+logit_adjusted",
    "gan_only",
    "self_training",
    "gan+unlabelled",
    "classical+gan+unlabelled",
    "gan_only+unlabelled",
)
_ARM_ORDER = {arm: i for i, arm in enumerate(ARMS)}


def paired_summary(
    rows: Iterable[Mapping],
    *,
    metric: str = "accuracy",
    group_by: Sequence[str] = (),
    arm_keys: Sequence[str] | None = None,
    pair_on: str = "seed",
    baseline: Mapping | None = None,
    classical_baseline: Mapping | None = None,
    confidence: float = 0.95,
) -> list[dict]:
    """Summarise per-seed runs: means per arm and paired differences from the baselines.

    Works on any list of dicts, for instance rows a recipe built itself. Each
    row is one run: the columns in ``group_by`` say which experiment it
    belongs to (e.g. ``n_per_class``), the ``arm_keys`` say which arm (by
    default whichever of ``arm``, ``ratio``, ``classical`` the rows have),
    ``pair_on`` (the seed) pairs runs across arms, and metric columns hold
    the results. A missing ``classical`` cell counts as ``False``.

    Parameters
    ----------
    rows : iterable of dict
        One dict per run.
    metric : str
        The column the differences are computed on.
    group_by : sequence of str
        Columns that split the rows into separate experiments; each has its
        own baselines.
    arm_keys : sequence of str, optional
        Columns identifying an arm; default: those of ``("arm", "ratio",
        "classical")`` present in the rows.
    pair_on : str
        Column pairing runs across arms (same seed = same data order and
        classifier initialisation).
    baseline : dict, optional
        Column values of the real-only arm; default ``{"ratio": 0.0,
        "classical": False}``.
    classical_baseline : dict, optional
        Column values of the classical-augmentation arm; default
        ``{"ratio": 0.0, "classical": True}``. Its comparison columns
        appear only when some rows match it.
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    list of dict
        One dict per group and arm (sorted), with the group and arm columns,
        ``n_seeds``, the mean of ``metric`` and of every other metric column
        present (``accuracy``, ``balanced_accuracy``, ``macro_f1``),
        ``<metric>_std`` (standard deviation over seeds), and versus the
        real-only baseline: ``delta``, ``ci_low``, ``ci_high``, ``p_value``
        (paired Student t over the seeds both arms have); versus the classical
        baseline: ``delta_vs_classical``, ``ci_low_vs_classical``,
        ``ci_high_vs_classical``, ``p_value_vs_classical``; where the rows
        have an ``arm`` column with ``"self_training"`` runs, the same with
        ``_vs_self_training``. Without a baseline in a group those are NaN.

    Examples
    --------
    >>> rows = [
    ...     {"n_per_class": 10, "ratio": r, "classical": False, "seed": s, "accuracy": 0.70 + 0.05 * r + 0.01 * s}
    ...     for r in (0.0, 1.0) for s in range(3)
    ... ]
    >>> for line in paired_summary(rows, group_by=("n_per_class",)):
    ...     print(line["ratio"], round(line["accuracy"], 3), round(line["delta"], 3), line["ci_low"] <= line["delta"] <= line["ci_high"])
    0.0 0.71 0.0 True
    1.0 0.76 0.05 True
    """
    rows = [dict(r) for r in rows]
    if not rows:
        raise ValueError("paired_summary got no rows: pass a list of dicts, one per run")
    group_by = tuple(group_by)
    columns = set().union(*(r.keys() for r in rows))
    for needed in (metric, pair_on) + group_by:
        if needed not in columns:
            raise ValueError(
                f"the rows have no {needed!r} column (they have {sorted(columns)}); add it or choose another"
            )
    if arm_keys is None:
        arm_keys = tuple(k for k in ARM_KEYS if k in columns)
    arm_keys = tuple(k for k in arm_keys if k not in group_by)
    if not arm_keys:
        raise ValueError(f"no column tells the arms apart: give arm_keys= (rows have {sorted(columns)})")
    # the default baselines train with plain cross-entropy: runs of the other losses share their ratio and classical
    not_baseline = LOSS_ARMS if baseline is None else {}
    baseline = dict(REAL_BASELINE if baseline is None else baseline)
    classical_baseline = dict(CLASSICAL_BASELINE if classical_baseline is None else classical_baseline)
    if "classical" not in columns:
        baseline.pop("classical", None)
        classical_baseline = None
    metrics = [metric] + [m for m in METRICS if m != metric and m in columns]

    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(_norm(r.get(k)) for k in group_by), []).append(r)
    out = []
    for gkey in sorted(groups, key=lambda k: tuple(_sort_key(v) for v in k)):
        grows = groups[gkey]
        base = _by_seed(
            [r for r in grows if _matches(r, baseline) and r.get("arm") not in not_baseline],
            metric,
            pair_on,
        )
        cbase = _by_seed([r for r in grows if classical_baseline and _matches(r, classical_baseline)], metric, pair_on)
        sbase = _by_seed([r for r in grows if r.get("arm") == SELF_TRAINING_BASELINE["arm"]], metric, pair_on)
        arms: dict[tuple, list[dict]] = {}
        for r in grows:
            arms.setdefault(tuple(_norm(r.get(k, False if k == "classical" else None)) for k in arm_keys), []).append(r)

        def arm_order(key):
            d = dict(zip(arm_keys, key))
            return (
                _ARM_ORDER.get(d.get("arm"), 9),
                _sort_key(d.get("classical", False)),
                _sort_key(d.get("ratio")),
                tuple(_sort_key(v) for v in key),
            )

        for akey in sorted(arms, key=arm_order):
            arows = arms[akey]
            line = dict(zip(group_by, gkey))
            line.update(zip(arm_keys, akey))
            per_seed = _by_seed(arows, metric, pair_on)
            line["n_seeds"] = len(per_seed)
            for m in metrics:
                vals = [float(r[m]) for r in arows if _is_number(r.get(m)) and not math.isnan(float(r[m]))]
                line[m] = float(np.mean(vals)) if vals else math.nan
            vals = list(per_seed.values())
            line[f"{metric}_std"] = float(np.std(vals, ddof=1)) if len(vals) > 1 else math.nan
            line.update(_compare(per_seed, base, confidence=confidence, suffix=""))
            if cbase:
                line.update(_compare(per_seed, cbase, confidence=confidence, suffix="_vs_classical"))
            if sbase:
                line.update(_compare(per_seed, sbase, confidence=confidence, suffix="_vs_self_training"))
            out.append(line)
    return out


def _by_seed(rows: list[dict], metric: str, pair_on: str) -> dict:
    """``{seed: metric}`` for the rows of one arm; a seed seen twice is an error."""
    out = {}
    for r in rows:
        v = r.get(metric)
        if not _is_number(v) or math.isnan(float(v)):
            continue
        seed = _norm(r.get(pair_on))
        if seed in out:
            raise ValueError(
                f"two runs of the same arm share {pair_on}={seed!r} ({r}); each arm needs one run per {pair_on}, "
                "or a group_by column that tells the runs apart"
            )
        out[seed] = float(v)
    return out


def _compare(per_seed: dict, base: dict, *, confidence: float, suffix: str) -> dict:
    seeds = [s for s in per_seed if s in base]
    if not base:
        r = {"delta": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    else:
        r = paired_difference([per_seed[s] for s in seeds], [base[s] for s in seeds], confidence)
    return {f"{k}{suffix}": r[k] for k in ("delta", "ci_low", "ci_high", "p_value")}


__all__ = ["betainc", "paired_difference", "paired_summary", "t_cdf", "t_ppf", "t_sf"]
