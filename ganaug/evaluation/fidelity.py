"""How close synthetic samples are to real ones: Fréchet distance and precision /
recall / density / coverage beside the real-data floor, and the memorisation check."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .._validation import check_positive_int, collect_xy, resolve_seed, to_float_tensor
from ..classifier import DEFAULT_N_STEPS, DefaultClassifier, fit_classifier
from .leakage import check_disjoint
from .metrics import frechet_distance_features, nearest_neighbour, prdc


def _as_samples(data, what: str) -> torch.Tensor:
    """Samples as a float32 tensor from an array, a tensor, a tuple (X, y), a Dataset or a DataLoader."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return to_float_tensor(data[0], what)  # labels are not needed, so not checked
    if isinstance(data, (Dataset, DataLoader)):
        return collect_xy(data)[0]
    return to_float_tensor(data, what)


def _features(feature_fn, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            f = feature_fn(x[i : i + batch_size])
            f = f.detach().cpu() if isinstance(f, torch.Tensor) else torch.as_tensor(np.asarray(f))
            out.append(f.reshape(f.shape[0], -1).to(torch.float64))
    return torch.cat(out)


def _model_features(model: DefaultClassifier):
    device = next(model.parameters()).device

    def feature_fn(x):
        return model.embed(x.to(device, torch.float32))

    return feature_fn


def _subsample(x: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    if x.shape[0] <= n:
        return x
    return x[torch.randperm(x.shape[0], generator=gen)[:n].sort().values]


def distribution_metrics(
    real_train,
    real_test,
    synthetic,
    *,
    feature_fn: Callable | None = None,
    k: int = 5,
    max_samples: int = 2000,
    n_steps: int = DEFAULT_N_STEPS,
    random_state=0,
    device: str = "auto",
) -> dict:
    """Fréchet distance and precision / recall / density / coverage of synthetic
    samples, beside the same numbers for real test samples (the floor).

    Both are measured against the real training samples in one feature space:
    the penultimate layer of a :class:`DefaultClassifier` trained on
    ``real_train`` (``n_steps`` steps, seeded by ``random_state``), or
    ``feature_fn``. No pretrained weights are downloaded. Synthetic and test
    sets are subsampled to the same size, since the Fréchet distance depends
    on it; the ``floor`` entry is what two real samples of the same
    distribution score, so judge ``synthetic`` by its distance from it.

    Parameters
    ----------
    real_train, real_test : tuple (X, y), Dataset or DataLoader
        Real data; the test samples are only measured.
    synthetic : SyntheticAugmenter, tuple (x, y), array or tensor
        Synthetic samples, or a fitted augmenter to draw them from (as many as
        the compared size, with the training class proportions).
    feature_fn : callable, optional
        ``feature_fn(x float32 batch) -> (B, D)`` features.
    k : int
        Neighbourhood size of precision / recall / density / coverage.
    max_samples : int
        Cap on the reference (train) set and on the compared sets.
    n_steps : int
        Training steps of the default feature classifier.
    random_state : int
        Seeds the feature classifier, subsampling and synthetic draws.
    device : str
        Where the feature classifier runs.

    Returns
    -------
    dict
        ``synthetic`` and ``floor``, each ``{"frechet", "precision", "recall",
        "density", "coverage"}``; ``n_reference``, ``n_compared``, ``k`` and
        ``feature_space``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 5)); y = np.arange(300) % 2
    >>> fake = rng.normal(loc=3.0, size=(100, 5))
    >>> m = distribution_metrics((X[:200], y[:200]), (X[200:], y[200:]), fake, feature_fn=lambda x: x)
    >>> m["floor"]["precision"] > 0.8, m["synthetic"]["precision"] < 0.2, m["synthetic"]["frechet"] > 10 * m["floor"]["frechet"]
    (True, True, True)
    """
    x, labels, _, _ = collect_xy(real_train)
    tx = (
        collect_xy(real_test)[0]
        if not isinstance(real_test, (np.ndarray, torch.Tensor))
        else to_float_tensor(real_test, "real_test")
    )
    check_disjoint(x, tx)
    k = check_positive_int(k, "k")
    max_samples = check_positive_int(max_samples, "max_samples")
    seed = resolve_seed(random_state)
    gen = torch.Generator().manual_seed(seed)
    n = min(tx.shape[0], max_samples)
    if hasattr(synthetic, "sample") and hasattr(synthetic, "classes_"):
        classes, counts = np.unique(labels, return_counts=True)
        want = np.repeat(classes, np.maximum(1, np.round(counts / counts.sum() * n).astype(int)))[:n]
        sx = synthetic.sample(len(want), y=want, random_state=seed)[0]
        sx = torch.as_tensor(np.asarray(sx) if not isinstance(sx, torch.Tensor) else sx).to(torch.float32)
    else:
        sx = _as_samples(synthetic, "synthetic")
    if sx[0].numel() != x[0].numel():
        raise ValueError(
            f"synthetic samples have shape {tuple(sx.shape[1:])} but training samples {tuple(x.shape[1:])}"
        )
    sx = sx.reshape((sx.shape[0],) + tuple(x.shape[1:]))
    n = min(n, sx.shape[0])
    if k >= n:
        raise ValueError(
            f"k={k} needs more than k compared samples; got {n}: pass more synthetic/test samples or a smaller k"
        )
    if feature_fn is None:
        model = fit_classifier((x, labels), n_steps=n_steps, random_state=seed, device=device)
        feature_fn, space = (
            _model_features(model),
            f"DefaultClassifier penultimate layer ({n_steps} steps on real_train)",
        )
    else:
        space = "feature_fn"
    ref = _features(feature_fn, _subsample(x, max_samples, gen))
    fake = _features(feature_fn, _subsample(sx, n, gen))
    held = _features(feature_fn, _subsample(tx, n, gen))

    def measure(other):
        return {"frechet": frechet_distance_features(ref, other), **prdc(ref, other, k=k)}

    return {
        "synthetic": measure(fake),
        "floor": measure(held),
        "n_reference": int(ref.shape[0]),
        "n_compared": int(n),
        "k": k,
        "feature_space": space,
    }


def memorisation(train_x, synthetic_x, test_x, *, quantile: float = 0.05, feature_fn: Callable | None = None) -> dict:
    """How close synthetic samples come to training samples, against the real-test yardstick.

    For every synthetic sample and every real test sample, the Euclidean
    distance to its nearest training sample (in the value space, flattened,
    or in ``feature_fn`` space). A **near-copy** is a synthetic sample closer
    to some training sample than ``threshold``, the ``quantile`` (default 5th
    percentile) of the real test samples' nearest-training distances. Real
    held-out samples are near-copies at rate about ``quantile`` by
    construction, so a ``near_copy_share`` well above it means the generator
    reproduces its training images.

    Parameters
    ----------
    train_x, synthetic_x, test_x : array, tensor, tuple (X, y), Dataset or DataLoader
        Samples (labels are ignored).
    quantile : float
        Which quantile of the test distances is the near-copy threshold.
    feature_fn : callable, optional
        Measure distances between ``feature_fn(x)`` features instead.

    Returns
    -------
    dict
        ``near_copy_share``, ``exact_copy_share`` (distance 0),
        ``test_near_copy_share`` (about ``quantile``), ``threshold``,
        ``quantile``, ``synthetic_nn_median``, ``test_nn_median``,
        ``median_ratio`` (synthetic / test; well below 1 is suspicious), and
        the arrays ``synthetic_nn``, ``test_nn``, ``nearest_train_index``,
        ``near_copy_index``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, test = rng.normal(size=(200, 8)), rng.normal(size=(100, 8))
    >>> copies = train[:50] + 1e-3  # a generator that memorised
    >>> m = memorisation(train, copies, test)
    >>> m["near_copy_share"], m["exact_copy_share"]
    (1.0, 0.0)
    >>> memorisation(train, rng.normal(size=(100, 8)), test)["near_copy_share"] < 0.15
    True
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be strictly between 0 and 1 (e.g. 0.05); got {quantile}")
    tr, sy, te = _as_samples(train_x, "train_x"), _as_samples(synthetic_x, "synthetic_x"), _as_samples(test_x, "test_x")
    for name, t in (("synthetic_x", sy), ("test_x", te)):
        if t[0].numel() != tr[0].numel():
            raise ValueError(
                f"{name} samples have {t[0].numel()} values but train_x samples {tr[0].numel()}; they must match"
            )
    check_disjoint(tr, te)
    if feature_fn is not None:
        tr, sy, te = _features(feature_fn, tr), _features(feature_fn, sy), _features(feature_fn, te)
    syn_nn, syn_idx = nearest_neighbour(sy, tr)
    test_nn, _ = nearest_neighbour(te, tr)
    threshold = float(np.quantile(test_nn, quantile))
    near = syn_nn < threshold
    syn_med, test_med = float(np.median(syn_nn)), float(np.median(test_nn))
    return {
        "near_copy_share": float(near.mean()),
        "exact_copy_share": float((syn_nn == 0).mean()),
        "test_near_copy_share": float((test_nn < threshold).mean()),
        "threshold": threshold,
        "quantile": quantile,
        "synthetic_nn_median": syn_med,
        "test_nn_median": test_med,
        "median_ratio": syn_med / test_med if test_med > 0 else math.nan,
        "synthetic_nn": syn_nn,
        "test_nn": test_nn,
        "nearest_train_index": syn_idx,
        "near_copy_index": np.flatnonzero(near),
    }
