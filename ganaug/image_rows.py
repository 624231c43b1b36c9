"""Flat rows that are images: whether the columns of a matrix are the pixels of small greyscale images.

:class:`ganaug.GANOverSampler` reads a 2-D ``X`` as images when its columns, laid out as a square grid, correlate
with their neighbours across and down well above how all pairs of columns correlate: neighbouring pixels go
together, the columns of a table or a 1-D series in one direction at most.
"""

from __future__ import annotations

import math

import numpy as np

from .config import IMAGE_ROW_MIN_CORRELATION


def image_shape(X: np.ndarray) -> tuple[int, int, int] | None:
    """The ``(C, H, W)`` of each image of an ``(n, C, H, W)`` or ``(n, H, W)`` array (one channel); ``None`` for
    flat rows ``(n, F)``."""
    if X.ndim == 2:
        return None
    return tuple(X.shape[1:]) if X.ndim == 4 else (1, *X.shape[1:])


def image_side(X: np.ndarray) -> int | None:
    """``s`` when the rows of X look like flattened ``s x s`` grayscale images, else ``None``.

    They do when X has ``s * s`` columns (``8 <= s <= 64``: the image generator's sizes) and, laid out as an
    ``s x s`` grid, both horizontally and vertically adjacent columns correlate on average at least
    :data:`ganaug.config.IMAGE_ROW_MIN_CORRELATION` more than all pairs of columns (:func:`grid_correlation`):
    neighbouring pixels go together, the columns of a table or a 1-D series in one direction at most."""
    side = math.isqrt(X.shape[1])
    if not 8 <= side <= 64 or side * side != X.shape[1] or X.dtype.kind not in "biuf" or X.shape[0] < 10:
        return None
    across, down, overall = grid_correlation(X, side)
    return side if min(across, down) - overall >= IMAGE_ROW_MIN_CORRELATION else None


def grid_correlation(X: np.ndarray, side: int, max_rows: int = 2000) -> tuple[float, float, float]:
    """Mean correlation of horizontally adjacent, vertically adjacent and all pairs of columns of X as a grid.

    X has ``side * side`` columns, read as ``side x side`` grids row by row; constant columns are left out, and
    evenly spaced ``max_rows`` rows stand for larger X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> across, down, overall = grid_correlation(load_digits().data, 8)
    >>> bool(min(across, down) - overall > 0.25)
    True
    >>> across, down, overall = grid_correlation(np.random.RandomState(0).poisson(3, (500, 64)), 8)
    >>> bool(max(across, down) - overall < 0.05)
    True
    """
    if len(X) > max_rows:
        X = X[np.linspace(0, len(X) - 1, max_rows).astype(int)]
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    varied = std > 0
    z = np.zeros_like(X)
    z[:, varied] = (X[:, varied] - X[:, varied].mean(axis=0)) / std[varied]
    grid = np.arange(side * side).reshape(side, side)

    def mean_product(left, right):
        left, right = left.ravel(), right.ravel()
        both = varied[left] & varied[right]
        return float((z[:, left[both]] * z[:, right[both]]).mean()) if both.any() else 0.0

    k = int(varied.sum())
    total = z.sum(axis=1)
    overall = float((total @ total / len(z) - k) / (k * k - k)) if k > 1 else 0.0
    return mean_product(grid[:, :-1], grid[:, 1:]), mean_product(grid[:-1], grid[1:]), overall
