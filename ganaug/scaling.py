"""The value space: learning it from the training data, scaling data into the
space the GAN trains in, and mapping samples back to the data's range and dtype.

Images: per-channel ``[min, max]`` <-> ``[-1, 1]`` (the generator ends in tanh).
Flat features: per-feature standardisation; samples are clipped to the training
``[min, max]``.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import in_slices

INTEGER_DTYPES = ("uint8", "int8", "int16", "int32", "int64")


def fit_value_space(x: torch.Tensor, images: bool, *, size: tuple[int, int] | None = None):
    """Learn the value space of ``x`` and scale it to what the GAN trains on.

    Returns ``(low, high, scaled, mean, std)``; ``mean`` and ``std`` are empty
    for images. ``size``: images are scaled at that size (:func:`resize_images`),
    a slice of them at a time, so no full-size scaled copy of a large image set is
    ever whole in memory; the values are those of resizing the scaled whole.

    Examples
    --------
    >>> import torch
    >>> lo, hi, scaled, _, _ = fit_value_space(torch.tensor([[[[0.0, 255.0]]]]), images=True)
    >>> lo.tolist(), hi.tolist(), scaled.flatten().tolist()
    ([0.0], [255.0], [-1.0, 1.0])
    """
    if images:  # uint8 images too: the values are those of the same images as float32
        dims = (0, 2, 3)
        lo, hi = x.amin(dim=dims).to(torch.float32), x.amax(dim=dims).to(torch.float32)
        if size is None or tuple(size) == tuple(x.shape[-2:]):
            return lo, hi, scale_into(x, lo, hi), torch.zeros(0), torch.zeros(0)
        # each slice written into the one output: parts joined at the end leave the freed slices' memory scattered
        # between them, and the process grows by about a slice for every slice
        scaled, start = torch.empty(x.shape[0], x.shape[1], *size), 0
        for part in in_slices(x):
            scaled[start : start + len(part)] = resize_images(scale_into(part, lo, hi), size)
            start += len(part)
        return lo, hi, scaled, torch.zeros(0), torch.zeros(0)
    flat = x.reshape(x.shape[0], -1).to(torch.float32)
    lo, hi = flat.amin(0), flat.amax(0)
    mean = flat.mean(0)
    std = flat.std(0, unbiased=False) if flat.shape[0] > 1 else torch.ones_like(mean)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return lo, hi, scale_into(x, lo, hi, mean=mean, std=std), mean, std


def scale_into(x, low, high, *, mean=None, std=None) -> torch.Tensor:
    """``x`` in the space the GAN trains on, as :func:`fit_value_space` learnt it (images: per-channel
    ``[low, high]`` -> ``[-1, 1]``; features: standard scores with ``mean`` and ``std``).

    Examples
    --------
    >>> import torch
    >>> scale_into(torch.tensor([[[[0.0, 127.5, 255.0]]]]), torch.tensor([0.0]), torch.tensor([255.0])).flatten().tolist()
    [-1.0, 0.0, 1.0]
    """
    # the same operations in the same order as ``(x - low) / span * 2 - 1``, written into one new tensor: a large
    # image set is held twice (``x`` and the result), not three or four times, and the values are the same
    if mean is None or mean.numel() == 0:
        span = torch.where(high > low, high - low, torch.ones_like(high))
        out = x - low.view(1, -1, 1, 1)
        return out.div_(span.view(1, -1, 1, 1)).mul_(2).sub_(1)
    return (x.reshape(x.shape[0], -1) - mean).div_(std)


#: Square images at least this large and smaller than 64 px train enlarged (:func:`model_size`).
MIN_IMAGE_SIZE = 8


def model_size(height: int, width: int) -> int | None:
    """The square size the image models train at for ``height x width`` images: ``None`` when they
    train at the images' own size (28, 32 or 64 px) or when no supported size fits (not square, under
    :data:`MIN_IMAGE_SIZE` or over 64 px), else the smallest supported size above the image's (8 -> 28,
    48 -> 64).

    Examples
    --------
    >>> model_size(28, 28), model_size(8, 8), model_size(48, 48), model_size(96, 96), model_size(3, 3)
    (None, 28, 64, None, None)
    """
    from .config import IMAGE_SIZES

    if height != width or height in IMAGE_SIZES or not MIN_IMAGE_SIZE <= height <= max(IMAGE_SIZES):
        return None
    return min(s for s in IMAGE_SIZES if s > height)


def resize_images(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Images ``(N, C, H, W)`` at ``size``: bilinear when enlarging, pixel-area averages when shrinking."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.shape[-1] < size[-1]:
        return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)
    return torch.nn.functional.interpolate(x, size=size, mode="area")


def to_value_space(
    s: torch.Tensor,
    low: torch.Tensor,
    high: torch.Tensor,
    *,
    mean: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
    fused: bool = False,
) -> torch.Tensor:
    """Generator output back in the data's range: images from ``[-1, 1]``, features from standard scores (clipped).

    ``fused``: images in one multiply-add per value (large images; equal up to float rounding).
    """
    lo, hi = low.to(s.device), high.to(s.device)
    if mean is None:  # images: per-channel range
        lo, hi = lo.view(1, -1, 1, 1), hi.view(1, -1, 1, 1)
        if fused:
            half = (hi - lo) / 2
            return torch.addcmul((lo + half).to(s.dtype), s, half.to(s.dtype))
        return (s + 1) / 2 * (hi - lo) + lo
    s = s.reshape(s.shape[0], -1)
    return torch.minimum(torch.maximum(s * std.to(s.device) + mean.to(s.device), lo), hi)


def to_unit(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Images ``(N, C, H, W)`` mapped from their per-channel ``[low, high]`` to ``[0, 1]`` (clipped)."""
    lo, hi = low.view(1, -1, 1, 1).to(x.device), high.view(1, -1, 1, 1).to(x.device)
    return ((x.to(torch.float32) - lo) / (hi - lo).clamp_min(1e-12)).clamp(0, 1)


def from_unit(u: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_unit`: images in ``[0, 1]`` back to each channel's ``[low, high]``."""
    lo, hi = low.view(1, -1, 1, 1).to(u.device), high.view(1, -1, 1, 1).to(u.device)
    return u * (hi - lo).clamp_min(1e-12) + lo


def cast(x: torch.Tensor, dtype: str) -> torch.Tensor:
    """``x`` in the training data's dtype (integers rounded)."""
    if dtype in INTEGER_DTYPES:
        return x.round().to(getattr(torch, dtype))
    if dtype in ("float64", "float16", "bfloat16"):
        return x.to(getattr(torch, dtype))
    return x


def class_spread(scaled: torch.Tensor, y_idx: np.ndarray, n_classes: int, *, max_n: int = 256) -> list[float]:
    """Mean pairwise distance between training samples of each class (in the GAN's space)."""
    spread = []
    for k in range(n_classes):
        rows = scaled[torch.from_numpy(np.where(y_idx == k)[0][:max_n])].flatten(1)
        spread.append(float(torch.pdist(rows).mean()) if rows.shape[0] > 1 else 0.0)
    return spread
