"""ganaug.evaluation.fidelity: memorisation and distribution metrics against the real-data floor."""

import numpy as np
import pytest

from ganaug.evaluation import distribution_metrics, memorisation

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


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
