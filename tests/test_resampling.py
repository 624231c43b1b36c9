"""ganaug.evaluation.resampling: compare_resampling against other samplers on imbalanced data."""

import warnings

import numpy as np
import pytest

from ganaug import GANConfig, SyntheticAugmenter

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


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
        "GAN": GANOverSampler(gan=tiny, n_steps=2, self_check=False),
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
    with pytest.raises(ValueError, match="distinct non-negative ints"):  # one draw counted twice in the pairs
        compare_resampling(train, _imbalanced(np.random.default_rng(1)), {"none": None}, seeds=(0, 0), verbose=0)


def test_a_sampler_and_a_loss_pair_trains_with_that_loss():
    from ganaug.evaluation import compare_resampling

    rng = np.random.default_rng(0)
    train, test = _imbalanced(rng), _imbalanced(rng, 10, 10)
    arms = {"none": None, "LA": (None, "logit_adjusted"), "CW": (None, "class_weighted")}
    rows = compare_resampling(train, test, arms, seeds=(0,), n_steps=20, verbose=0)
    recall = {r["arm"]: r["per_class_recall"]["1"] for r in rows}
    assert [r["n_train"] for r in rows] == [66, 66, 66]  # a loss resamples nothing
    assert recall["LA"] > recall["none"] and recall["CW"] > recall["none"]
    with pytest.raises(ValueError, match=r"a pair must be \(sampler or None, one of"):
        compare_resampling(train, test, {"bad": (None, "focal")}, seeds=(0,), n_steps=2, verbose=0)
