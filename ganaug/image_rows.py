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


def grid_correlation(
    X: np.ndarray, side: int, max_rows: int = 2000, *, width: int | None = None
) -> tuple[float, float, float]:
    """Mean correlation of horizontally adjacent, vertically adjacent and all pairs of columns of X as a grid.

    X has ``side * side`` columns (``side * width`` with ``width``), read as ``side x side`` (``side x width``)
    grids row by row; constant columns are left out, and evenly spaced ``max_rows`` rows stand for larger X.

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
    grid = np.arange(side * (width or side)).reshape(side, width or side)

    def mean_product(left, right):
        left, right = left.ravel(), right.ravel()
        both = varied[left] & varied[right]
        return float((z[:, left[both]] * z[:, right[both]]).mean()) if both.any() else 0.0

    k = int(varied.sum())
    total = z.sum(axis=1)
    overall = float((total @ total / len(z) - k) / (k * k - k)) if k > 1 else 0.0
    return mean_product(grid[:, :-1], grid[:, 1:]), mean_product(grid[:-1], grid[1:]), overall


def looks_flattened_channels_last(X: np.ndarray, shape: tuple[int, int, int]) -> bool:
    """Whether rows said to be flattened ``(3, H, W)`` images were flattened channels-last, ``(H, W, 3)``.

    Read as declared, each third of a row is one channel's ``H x W`` plane; read channels-last, every third column
    is. Rows of channels-last images read as declared mix the channels of neighbouring pixels into each plane, and
    no plane's neighbouring columns go together more than all pairs do, while every plane read channels-last does
    (:func:`grid_correlation`). Only 3-channel shapes are judged.

    Examples
    --------
    >>> import numpy as np
    >>> blocks = np.random.RandomState(0).rand(50, 2, 2, 3)  # each image's 4 x 4 blocks, each channel its own
    >>> images = np.kron(blocks, np.ones((1, 4, 4, 1)))  # (50, 8, 8, 3), channels-last
    >>> looks_flattened_channels_last(images.reshape(50, -1), (3, 8, 8))
    True
    >>> looks_flattened_channels_last(images.transpose(0, 3, 1, 2).reshape(50, -1), (3, 8, 8))
    False
    """
    c, h, w = shape
    if c != 3 or X.shape[0] < 10 or X.shape[1] != 3 * h * w or X.dtype.kind not in "biuf":
        return False

    def margins(planes):
        return [min(a, d) - o for a, d, o in (grid_correlation(p, h, 500, width=w) for p in planes)]

    as_declared = margins([X[:, k * h * w : (k + 1) * h * w] for k in range(3)])
    channels_last = margins([X[:, k::3] for k in range(3)])
    return max(as_declared) < 0 < min(channels_last)
