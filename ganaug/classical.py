"""Classical augmentation in the data's value space: :class:`AffineElastic` on whole
batches (per-image random parameters, on CPU or GPU), and :class:`ClassicalTransform`
around a user's albumentations or torchvision transform, one sample at a time.

Used by :mod:`ganaug.unlabelled` (the pseudo-labelling classifier learns from augmented
copies) and by :mod:`ganaug.evaluation` (the classical arms of a comparison)."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F

from .diffaugment import random_affine
from .scaling import from_unit, to_unit


class AffineElastic:
    """Random affine and elastic distortion of image batches, parameters drawn per image.

    Each image is rotated by up to ``rotate`` degrees, scaled by ``1 +-
    scale``, sheared by up to ``shear`` degrees and shifted by up to
    ``translate`` of its size; then, with probability ``elastic_p``, every
    pixel is displaced by a smooth random field (a uniform field on
    [-1, 1] blurred with a Gaussian of ``elastic_sigma`` pixels, times
    ``elastic_alpha`` pixels). The transform works in each channel's
    training range mapped to [0, 1], filling with 0 (the low end) where an
    image moves away from its border, and maps back. All randomness comes
    from the ``torch.Generator`` given to the call, on the batch's device.

    :func:`ganaug.evaluation.compare_augmentation` applies it to each
    training batch, which costs a fraction of transforming images one at a
    time (``python benchmarks/classifier_speed.py``).

    Parameters
    ----------
    rotate, scale, shear, translate : float
        Largest rotation (degrees), relative scale change, shear (degrees)
        and shift (fraction of the image size).
    elastic_alpha, elastic_sigma : float
        Strength and smoothness (pixels) of the elastic distortion.
    elastic_p : float
        Share of images that get the elastic distortion.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(8, 1, 28, 28); x[:, :, 10:18, 10:18] = 255.0
    >>> tf = AffineElastic()
    >>> out = tf(x, torch.tensor([0.0]), torch.tensor([255.0]), torch.Generator().manual_seed(0))
    >>> out.shape, bool(out.min() >= 0) and bool(out.max() <= 255), bool((out != x).any())
    (torch.Size([8, 1, 28, 28]), True, True)
    """

    def __init__(
        self,
        rotate: float = 15.0,
        scale: float = 0.1,
        shear: float = 10.0,
        translate: float = 0.1,
        elastic_alpha: float = 8.0,
        elastic_sigma: float = 3.0,
        elastic_p: float = 0.3,
    ):
        self.rotate, self.scale, self.shear, self.translate = rotate, scale, shear, translate
        self.elastic_alpha, self.elastic_sigma, self.elastic_p = elastic_alpha, elastic_sigma, elastic_p

    def __call__(self, x: torch.Tensor, low: torch.Tensor, high: torch.Tensor, generator: torch.Generator):
        """``x`` (N, C, H, W) in the value range ``[low, high]`` per channel, augmented."""
        u = to_unit(x, low, high)
        u = self._affine(u, generator)
        if self.elastic_p > 0:
            u = self._elastic(u, generator)
        return from_unit(u, low, high)

    def _affine(self, u: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        # random_affine's unit ranges are 15 degrees of rotation, 10 degrees of shear and a 10 % shift
        rotate, shear, shift = self.rotate / 15.0, self.shear / 10.0, self.translate / 0.1
        return random_affine(u, generator, scale=self.scale, rotate=rotate, shear=shear, shift=shift, fill=0.0)

    def _elastic(self, u: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        b, _, h, w = u.shape
        chosen = (torch.rand(b, generator=generator, device=u.device) < self.elastic_p).nonzero(as_tuple=True)[0]
        if chosen.numel() == 0:
            return u
        field = torch.rand(chosen.numel(), 2, h, w, generator=generator, device=u.device, dtype=u.dtype) * 2 - 1
        radius = max(1, int(math.ceil(3 * self.elastic_sigma)))
        k = torch.exp(
            -0.5 * (torch.arange(-radius, radius + 1, device=u.device, dtype=u.dtype) / self.elastic_sigma) ** 2
        )
        k = (k / k.sum()).view(1, 1, -1)
        # separable Gaussian blur of both displacement maps: (n, 2, H, W) -> (n, 2, H, W)
        field = F.conv2d(
            F.pad(field, (radius, radius, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(2, 1, 1, -1), groups=2
        )
        field = F.conv2d(
            F.pad(field, (0, 0, radius, radius), mode="reflect"), k.view(1, 1, -1, 1).expand(2, 1, -1, 1), groups=2
        )
        shift = (
            field
            * self.elastic_alpha
            * torch.tensor([2.0 / w, 2.0 / h], device=u.device, dtype=u.dtype).view(1, 2, 1, 1)
        )
        theta = torch.eye(2, 3, device=u.device, dtype=u.dtype).expand(chosen.numel(), 2, 3)
        grid = F.affine_grid(theta, [chosen.numel(), u.shape[1], h, w], align_corners=False) + shift.permute(0, 2, 3, 1)
        out = u.clone()
        out[chosen] = F.grid_sample(u[chosen], grid, padding_mode="zeros", align_corners=False)
        return out

    def __repr__(self) -> str:
        names = ("rotate", "scale", "shear", "translate", "elastic_alpha", "elastic_sigma", "elastic_p")
        return f"AffineElastic({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"


class BatchAugment:
    """A batch transform bound to a value range and a seed: what a training loop calls on each batch.

    ``batch(x, is_synthetic)`` augments the rows of ``x`` (all of them, or the
    real ones only when ``synthetic=False`` and flags are given).
    """

    def __init__(self, transform, low: torch.Tensor, high: torch.Tensor, *, seed: int, synthetic: bool = True):
        self.transform, self.low, self.high, self.seed, self.synthetic = transform, low, high, int(seed), synthetic
        self._generator = None

    def __call__(self, x: torch.Tensor, is_synthetic: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() == 3:  # (N, H, W) grey images
            return self(x.unsqueeze(1), is_synthetic)[:, 0]
        if self._generator is None or self._generator.device != x.device:
            self._generator = torch.Generator(device=x.device).manual_seed(self.seed)
        if self.synthetic or is_synthetic is None:
            return self.transform(x, self.low, self.high, self._generator)
        real = ~is_synthetic.to(x.device)
        out = x.clone()
        out[real] = self.transform(x[real], self.low, self.high, self._generator)
        return out


def is_batched(transform) -> bool:
    """Whether ``transform`` augments whole batches (:class:`AffineElastic`) rather than one sample."""
    return isinstance(transform, AffineElastic)


class ClassicalTransform:
    """Apply an albumentations or torchvision transform to one sample in the data's value space.

    The transform sees the image as float32 in [0, 1] (each channel's training
    range mapped there, as ``ToTensor`` gives): albumentations as an HWC numpy
    array via ``transform(image=...)["image"]``, anything else as a CHW tensor.
    The result is mapped back to the value space.
    """

    def __init__(self, transform, low: torch.Tensor, high: torch.Tensor, *, seed: int):
        self.transform = copy.deepcopy(transform)
        self.albumentations = type(transform).__module__.split(".")[0] == "albumentations"
        if self.albumentations and hasattr(self.transform, "set_random_seed"):
            self.transform.set_random_seed(int(seed))
        self.low = low.view(-1, 1, 1)
        self.span = (high - low).clamp_min(1e-12).view(-1, 1, 1)
        # the same affine map in numpy, HWC: the albumentations path stays out of torch for every sample
        self._low_hwc = self.low.permute(1, 2, 0).numpy().astype(np.float32)
        self._span_hwc = self.span.permute(1, 2, 0).numpy().astype(np.float32)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # (H, W) grey image
            return self(x.unsqueeze(0))[0]
        if self.albumentations:
            hwc = x.detach().cpu().numpy().astype(np.float32, copy=False).transpose(1, 2, 0)
            u = np.ascontiguousarray(np.clip((hwc - self._low_hwc) / self._span_hwc, 0.0, 1.0))
            out = np.asarray(self.transform(image=u)["image"], dtype=np.float32)
            out = out[:, :, None] if out.ndim == 2 else out
            if out.shape != hwc.shape:
                self._wrong_shape(x.shape, out.transpose(2, 0, 1).shape)
            return torch.from_numpy(np.ascontiguousarray((out * self._span_hwc + self._low_hwc).transpose(2, 0, 1)))
        u = ((x.to(torch.float32) - self.low) / self.span).clamp(0, 1)
        u = torch.as_tensor(self.transform(u)).to(torch.float32)
        if tuple(u.shape) != tuple(x.shape):
            self._wrong_shape(x.shape, u.shape)
        return u * self.span + self.low

    @staticmethod
    def _wrong_shape(before, after):
        raise ValueError(
            f"the classical transform changed the sample shape from {tuple(before)} to {tuple(after)}; "
            "use shape-preserving transforms (crop back to size, or pad before cropping)"
        )


def channel_range(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel minimum and maximum of images ``(N, C, H, W)`` or ``(N, H, W)``."""
    xi = x.unsqueeze(1) if x.dim() == 3 else x
    return xi.amin(dim=(0, 2, 3)), xi.amax(dim=(0, 2, 3))


class Augmented:
    """The batches of ``loader`` with a batch transform applied on ``device`` (flags kept if ``keep_flags``)."""

    def __init__(self, loader, transform: BatchAugment, *, keep_flags: bool, device: torch.device):
        self.loader, self.transform, self.keep_flags, self.device = loader, transform, keep_flags, device

    def __iter__(self):
        for batch in self.loader:
            flags = batch[2] if len(batch) == 3 else None
            x = self.transform(batch[0].to(self.device, torch.float32), flags)
            yield (x, batch[1], flags) if self.keep_flags else (x, batch[1])

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name):  # dataset, batch_size, ... of the loader underneath
        return getattr(self.loader, name)
