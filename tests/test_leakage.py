"""ganaug.evaluation.leakage: the leak guard."""

import numpy as np
import pytest
from conftest import _quiet_fit

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.evaluation import check_leakage, compare_augmentation, memorisation

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


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
