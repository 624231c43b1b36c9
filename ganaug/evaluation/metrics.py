"""Distances between sets of feature vectors: Fréchet distance, precision /
recall / density / coverage (Naeem et al. 2020) and nearest-neighbour
distances. Arrays in, numbers out; no models and no data loading here
(:mod:`ganaug.evaluation` chooses the feature space)."""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_positive_int


def _as_2d(a, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a.detach().cpu())
    if t.dim() < 2:
        raise ValueError(f"{what} must hold one feature vector per row (2-D or more); got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{what} is empty: need at least one sample")
    t = t.reshape(t.shape[0], -1).to(torch.float64)
    if not torch.isfinite(t).all():
        raise ValueError(f"{what} holds NaN or infinite values; drop them first")
    return t


def pairwise_distances(a, b, batch_size: int = 1024) -> torch.Tensor:
    """Euclidean distances between the rows of ``a`` ``(N, ...)`` and ``b`` ``(M, ...)``, as ``(N, M)`` float64."""
    a, b = _as_2d(a, "a"), _as_2d(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two sets have different feature sizes: {a.shape[1]} and {b.shape[1]}")
    # exact differences, not the |a|^2 + |b|^2 - 2ab shortcut: identical rows must be at distance 0
    return torch.cat(
        [
            torch.cdist(a[i : i + batch_size], b, compute_mode="donot_use_mm_for_euclid_dist")
            for i in range(0, a.shape[0], batch_size)
        ]
    )


def nearest_neighbour(query, reference, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each row of ``query`` to its nearest row of ``reference``, and that row's index.

    Examples
    --------
    >>> d, i = nearest_neighbour([[0.0, 0.0], [3.0, 4.0]], [[0.0, 1.0], [3.0, 3.0]])
    >>> d.tolist(), i.tolist()
    ([1.0, 1.0], [0, 1])
    """
    q, r = _as_2d(query, "query"), _as_2d(reference, "reference")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"query and reference have different feature sizes: {q.shape[1]} and {r.shape[1]}")
    idx = []
    for i in range(0, q.shape[0], batch_size):  # fast matrix-product distances find the neighbour ...
        idx.append(torch.cdist(q[i : i + batch_size], r).argmin(dim=1))
    idx = torch.cat(idx)
    dist = (q - r[idx]).norm(dim=1)  # ... and its distance is then computed exactly (copies at 0)
    return dist.numpy(), idx.numpy()


def frechet_distance(first, second) -> float:
    """Fréchet distance between two Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``, given as
    ``first = (mu1, sigma1)`` and ``second = (mu2, sigma2)``.

    ``||mu1 - mu2||^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``, with the
    trace of the matrix square root taken from the eigenvalues of the
    symmetric ``sigma1^(1/2) sigma2 sigma1^(1/2)`` (no scipy needed).

    Examples
    --------
    >>> import numpy as np
    >>> round(frechet_distance((np.zeros(2), np.eye(2)), (np.array([3.0, 4.0]), 4 * np.eye(2))), 6)  # 25 + 2 * (1 + 4 - 4)
    27.0
    """
    (mu1, sigma1), (mu2, sigma2) = first, second
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"mismatched moments: means {mu1.shape} and {mu2.shape}, covariances {s1.shape} and {s2.shape}"
        )
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root1 @ s2 @ root1
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt, 0.0))


def frechet_distance_features(real, fake) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (FID's formula).

    Biased upwards for small sets; compare only numbers computed at the same sizes.
    """
    a, b = _as_2d(real, "real").numpy(), _as_2d(fake, "fake").numpy()
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"real and fake features differ in size: {a.shape[1]} and {b.shape[1]}")
    if min(a.shape[0], b.shape[0]) < 2:
        raise ValueError("the Fréchet distance needs at least 2 samples in each set")
    return frechet_distance((a.mean(0), np.cov(a, rowvar=False)), (b.mean(0), np.cov(b, rowvar=False)))


def prdc(real, fake, k: int = 5) -> dict:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (Naeem et al. 2020).

    Each real sample gets a ball reaching its ``k``-th nearest real neighbour
    (each fake sample likewise among fakes).

    * precision: share of fake samples inside at least one real ball;
    * recall: share of real samples inside at least one fake ball;
    * density: real balls containing a fake sample, counted per fake sample
      and divided by ``k`` (about 1 when both sets come from one distribution;
      above 1 when fakes cluster where reals are dense);
    * coverage: share of real balls that contain at least one fake sample.

    Parameters
    ----------
    real, fake : array-like, (N, D) and (M, D)
        Feature vectors.
    k : int
        Neighbourhood size; needs ``k < N`` and ``k < M``.

    Returns
    -------
    dict with ``precision``, ``recall``, ``density``, ``coverage``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> prdc(x, x, k=3)
    {'precision': 1.0, 'recall': 1.0, 'density': 1.0, 'coverage': 1.0}
    >>> prdc(x, x + 100, k=3)
    {'precision': 0.0, 'recall': 0.0, 'density': 0.0, 'coverage': 0.0}
    """
    r, f = _as_2d(real, "real"), _as_2d(fake, "fake")
    k = check_positive_int(k, "k")
    if k >= min(r.shape[0], f.shape[0]):
        raise ValueError(f"k={k} needs more than k samples in each set; got {r.shape[0]} real and {f.shape[0]} fake")
    real_radius = _kth_neighbour_distance(r, k)
    fake_radius = _kth_neighbour_distance(f, k)
    d = pairwise_distances(r, f)  # (N real, M fake)
    inside_real = d < real_radius[:, None]
    return {
        "precision": float(inside_real.any(dim=0).double().mean()),
        "recall": float((d < fake_radius[None, :]).any(dim=1).double().mean()),
        "density": float(inside_real.sum(dim=0).double().mean() / k),
        "coverage": float((d.min(dim=1).values < real_radius).double().mean()),
    }


def _kth_neighbour_distance(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each row to its k-th nearest other row (the row itself excluded)."""
    d = pairwise_distances(x, x)
    return d.kthvalue(k + 1, dim=1).values  # the smallest is the row itself at distance 0


__all__ = ["frechet_distance", "frechet_distance_features", "nearest_neighbour", "pairwise_distances", "prdc"]
