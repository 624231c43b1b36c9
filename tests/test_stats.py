"""ganaug.evaluation.stats: the Student t distribution and paired statistics, against known answers."""

import math

import numpy as np
import pytest
from conftest import _recipe_rows

from ganaug.evaluation import paired_summary
from ganaug.evaluation.stats import betainc, paired_difference, t_cdf, t_ppf, t_sf

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def test_t_distribution_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    special = pytest.importorskip("scipy.special")
    for df in (1, 2, 3, 4, 9, 29, 200):
        for t in (-30.0, -2.5, -0.4, 0.0, 1.0, 2.2, 12.0):
            assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-12)
            assert t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=1e-9, abs=1e-15)
        for q in (0.5, 0.8, 0.95, 0.975, 0.995):
            assert t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-9, abs=1e-12)
            assert t_ppf(1 - q, df) == pytest.approx(-t_ppf(q, df))
    for a, b, x in ((0.5, 0.5, 0.3), (2.0, 5.0, 0.9), (10.0, 0.5, 0.99), (1.5, 4.5, 0.01)):
        assert betainc(a, b, x) == pytest.approx(special.betainc(a, b, x), rel=1e-10)


def test_t_distribution_known_values_and_errors():
    assert t_ppf(0.975, 1) == pytest.approx(12.706204736, rel=1e-8)  # tables
    assert t_ppf(0.975, 4) == pytest.approx(2.776445105, rel=1e-8)
    assert t_cdf(0.0, 3) == 0.5
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        t_ppf(1.0, 3)
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_cdf(1.0, 0)


def test_identical_arms_give_zero_delta_and_interval_containing_zero():
    base = [0.81, 0.79, 0.84, 0.80, 0.83]
    r = paired_difference(base, list(base))
    assert r["delta"] == 0.0
    assert r["ci_low"] <= 0.0 <= r["ci_high"]
    assert r["p_value"] == 1.0
    rows = [{"ratio": ratio, "seed": s, "accuracy": a} for ratio in (0.0, 1.0) for s, a in enumerate(base)]
    for line in paired_summary(rows):
        assert line["delta"] == 0.0 and line["ci_low"] <= 0.0 <= line["ci_high"] and line["p_value"] == 1.0


def test_known_shift_is_recovered_inside_its_interval():
    stats = pytest.importorskip("scipy.stats")
    base = np.array([0.80, 0.78, 0.83, 0.81, 0.79])
    noise = np.array([-0.010, 0.010, 0.000, 0.005, -0.005])  # mean 0: the true shift is exactly 0.03
    arm = base + 0.03 + noise
    r = paired_difference(arm, base)
    assert r["delta"] == pytest.approx(0.03)
    assert r["ci_low"] < 0.03 < r["ci_high"]
    assert r["ci_low"] > 0  # 5 seeds, small noise: the shift is significant
    lo, hi = stats.t.interval(0.95, 4, loc=np.mean(arm - base), scale=stats.sem(arm - base))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    assert r["p_value"] == pytest.approx(stats.ttest_rel(arm, base).pvalue, rel=1e-9)
    assert r["p_value"] < 0.01


def test_interval_widens_with_confidence_and_needs_two_pairs():
    d = paired_difference([0.9, 0.8, 0.85], [0.85, 0.8, 0.8])
    wide = paired_difference([0.9, 0.8, 0.85], [0.85, 0.8, 0.8], confidence=0.99)
    assert wide["ci_low"] < d["ci_low"] < d["delta"] < d["ci_high"] < wide["ci_high"]
    one = paired_difference([0.9], [0.8])
    assert one["delta"] == pytest.approx(0.1) and math.isnan(one["ci_low"]) and math.isnan(one["p_value"])
    constant = paired_difference([0.9, 0.8], [0.8, 0.7])
    assert constant["ci_low"] == pytest.approx(0.1) and constant["p_value"] == 0.0
    with pytest.raises(ValueError, match="same length"):
        paired_difference([0.9, 0.8], [0.8])


def test_paired_summary_groups_rows_built_elsewhere():
    lines = paired_summary(_recipe_rows(), group_by=("n_per_class",))
    got = {(ln["n_per_class"], ln["ratio"], ln["classical"]): ln for ln in lines}
    assert len(lines) == 8
    assert got[(10, 1.0, False)]["delta"] == pytest.approx(0.02)
    assert got[(100, 1.0, False)]["delta"] == pytest.approx(0.0, abs=1e-12)
    assert got[(10, 0.0, True)]["delta"] == pytest.approx(0.01)
    assert got[(10, 1.0, True)]["delta_vs_classical"] == pytest.approx(0.015)
    assert got[(10, 0.0, False)]["accuracy"] == pytest.approx(0.6 + 0.01 + 0.015)
    for ln in lines:
        assert ln["n_seeds"] == 4
        assert ln["ci_low"] <= ln["delta"] <= ln["ci_high"]
    # the +0.02 gain is significant, the +0.00 is not
    assert (
        got[(10, 1.0, False)]["ci_low"] > 0 and got[(100, 1.0, False)]["ci_low"] < 0 < got[(100, 1.0, False)]["ci_high"]
    )


def test_paired_summary_pairs_on_common_seeds_and_refuses_duplicates():
    rows = [{"ratio": 0.0, "seed": s, "accuracy": 0.5 + s} for s in range(3)]
    rows += [{"ratio": 1.0, "seed": s, "accuracy": 0.6 + s} for s in (1, 2)]  # seed 0 missing
    gan = [ln for ln in paired_summary(rows) if ln["ratio"] == 1.0][0]
    assert gan["delta"] == pytest.approx(0.1) and gan["n_seeds"] == 2
    with pytest.raises(ValueError, match="share seed=1"):
        paired_summary(rows + [{"ratio": 1.0, "seed": 1, "accuracy": 0.7}])
    with pytest.raises(ValueError, match="no 'accuracy' column"):
        paired_summary([{"ratio": 0.0, "seed": 0, "acc": 0.5}])
