"""ganaug.evaluation.metrics: Frechet distance, precision/recall/density/coverage and nearest neighbours."""

import numpy as np
import pytest

from ganaug.evaluation.metrics import frechet_distance, frechet_distance_features, nearest_neighbour, prdc

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


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
