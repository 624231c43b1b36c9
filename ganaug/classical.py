"""Classical augmentation in the data's value space: :class:`AffineElastic` and
:class:`CropJitter` on whole batches (per-image random parameters, on CPU or GPU;
:func:`classical_for` picks one for an image shape), and :class:`ClassicalTransform`
around a user's albumentations or torchvision transform, one sample at a time;
:class:`PerSample` applies a batch transform to one sample (a dataset's ``transform``),
and :func:`random_transforms` names the random transforms a dataset applies.

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
        # the blur reaches 3 sigma, at most to the far edge: reflect padding needs a side longer than the radius
        radius = min(max(1, int(math.ceil(3 * self.elastic_sigma))), h - 1, w - 1)
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


class CropJitter:
    """Random resized crops and colour jitter of image batches, parameters drawn per image.

    Each image is cropped to a random ``scale`` share of its area with an
    aspect ratio in ``ratio`` (drawn log-uniformly) at a random place, and the
    crop is resized back to the image's size (bilinear), as torchvision's
    ``RandomResizedCrop`` does one image at a time; then its brightness and
    contrast (and, for colour images, saturation) are multiplied by factors
    drawn from ``1 +- brightness`` etc. Flips only when asked (``hflip``,
    ``vflip``): a flipped letter or a mirrored scan is another thing. Works
    in each channel's training range mapped to [0, 1], as
    :class:`AffineElastic` does; all randomness comes from the
    ``torch.Generator`` given to the call.

    Parameters
    ----------
    scale : tuple of float
        Range of the crop's share of the image area.
    ratio : tuple of float
        Range of the crop's width-to-height ratio, relative to the image's.
    brightness, contrast, saturation : float
        Largest relative change of each (0 leaves it alone).
    hflip, vflip : bool
        Mirror half of the images left-right / top-bottom.

    Examples
    --------
    >>> import torch
    >>> x = torch.rand(4, 3, 32, 48) * 255
    >>> out = CropJitter()(x, torch.zeros(3), torch.full((3,), 255.0), torch.Generator().manual_seed(0))
    >>> out.shape, bool(out.min() >= 0) and bool(out.max() <= 255)
    (torch.Size([4, 3, 32, 48]), True)
    """

    def __init__(
        self,
        scale: tuple[float, float] = (0.6, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        brightness: float = 0.2,
        contrast: float = 0.2,
        saturation: float = 0.2,
        hflip: bool = False,
        vflip: bool = False,
    ):
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 1; got {scale!r}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"ratio must be (low, high) with 0 < low <= high; got {ratio!r}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation
        self.hflip, self.vflip = hflip, vflip

    def __call__(self, x: torch.Tensor, low: torch.Tensor, high: torch.Tensor, generator: torch.Generator):
        """``x`` (N, C, H, W) in the value range ``[low, high]`` per channel, augmented."""
        u = to_unit(x, low, high)
        n, c = u.shape[:2]

        def draw(lo, hi):
            return lo + (hi - lo) * torch.rand(n, generator=generator, device=u.device, dtype=u.dtype)

        area = draw(*self.scale)
        aspect = torch.exp(draw(math.log(self.ratio[0]), math.log(self.ratio[1])))
        width, height = (area * aspect).sqrt().clamp(max=1), (area / aspect).sqrt().clamp(max=1)
        # the crop's centre, anywhere the crop stays inside the image (grid_sample coordinates span [-1, 1])
        cx, cy = (draw(-1, 1) * (1 - width)), (draw(-1, 1) * (1 - height))
        sx, sy = width.clone(), height.clone()
        if self.hflip:
            sx = torch.where(torch.rand(n, generator=generator, device=u.device) < 0.5, -sx, sx)
        if self.vflip:
            sy = torch.where(torch.rand(n, generator=generator, device=u.device) < 0.5, -sy, sy)
        zero = torch.zeros_like(sx)
        theta = torch.stack([torch.stack([sx, zero, cx], 1), torch.stack([zero, sy, cy], 1)], 1)
        grid = F.affine_grid(theta, list(u.shape), align_corners=False)
        u = F.grid_sample(u, grid, mode="bilinear", padding_mode="border", align_corners=False)
        u = u * draw(1 - self.brightness, 1 + self.brightness).view(n, 1, 1, 1)
        mean = _grey(u).mean((2, 3), keepdim=True)
        u = (u - mean) * draw(1 - self.contrast, 1 + self.contrast).view(n, 1, 1, 1) + mean
        if c == 3 and self.saturation > 0:
            grey = _grey(u)
            u = (u - grey) * draw(1 - self.saturation, 1 + self.saturation).view(n, 1, 1, 1) + grey
        return from_unit(u.clamp(0, 1), low, high)

    def __repr__(self) -> str:
        names = ("scale", "ratio", "brightness", "contrast", "saturation", "hflip", "vflip")
        return f"CropJitter({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"


#: Weights of red, green and blue in the grey value (ITU-R BT.601), as torchvision's colour jitter uses them.
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def _grey(u: torch.Tensor) -> torch.Tensor:
    """The grey value ``(N, 1, H, W)`` of images ``u`` (1 or 3 channels)."""
    return u.mean(1, keepdim=True) if u.shape[1] == 1 else (u * _LUMA.to(u).view(1, 3, 1, 1)).sum(1, keepdim=True)


def classical_for(shape) -> AffineElastic | CropJitter:
    """The classical augmentation suited to images of ``shape`` ``(C, H, W)``: :class:`CropJitter` for colour
    images, :class:`AffineElastic` (small affine and elastic bends, as for digits) for grey ones."""
    return CropJitter() if len(shape) == 3 and shape[0] == 3 else AffineElastic()


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
    """Whether ``transform`` augments whole batches (:class:`AffineElastic`, :class:`CropJitter`) rather than one
    sample."""
    return isinstance(transform, (AffineElastic, CropJitter))


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


#: Transforms that draw at random although their names do not start with "Random" (torchvision's).
_ALSO_RANDOM = {
    "ColorJitter",
    "AutoAugment",
    "RandAugment",
    "TrivialAugmentWide",
    "AugMix",
    "ElasticTransform",
    "GaussianBlur",
    "GaussianNoise",
}


def random_transforms(dataset) -> list[str]:
    """Names of the random transforms ``dataset`` (or a DataLoader's dataset) applies to its items: torchvision's
    (``RandomResizedCrop``, ``ColorJitter``, ...) and albumentations' (any with a probability ``p`` between 0 and 1),
    found in the ``transform`` of the dataset and of those a ``Subset`` or ``ConcatDataset`` holds, through
    ``Compose``. Anything without a ``transform`` (arrays, a tuple of them) applies none.

    Examples
    --------
    >>> from torchvision import datasets, transforms
    >>> data = datasets.FakeData(size=4, transform=transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()]))
    >>> random_transforms(data)
    ['RandomHorizontalFlip']
    """
    from torch.utils.data import ConcatDataset, DataLoader, Subset

    if isinstance(dataset, (DataLoader, Subset)):
        return random_transforms(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return sorted({name for part in dataset.datasets for name in random_transforms(part)})
    names = [type(t).__name__ for t in _leaves(getattr(dataset, "transform", None)) if _draws(t)]
    return sorted(set(names))


def _leaves(transform, depth: int = 0):
    """The transforms inside ``transform`` (itself when it holds none), through ``Compose``-like ``transforms`` lists."""
    if transform is None or depth > 8:
        return
    inner = getattr(transform, "transforms", None)
    if isinstance(inner, (list, tuple)) and not _draws(transform):  # RandomApply, RandomChoice: random themselves
        for t in inner:
            yield from _leaves(t, depth + 1)
    else:
        yield transform


def _draws(transform) -> bool:
    name, p = type(transform).__name__, getattr(transform, "p", None)
    return name.startswith("Random") or name in _ALSO_RANDOM or isinstance(p, float) and 0 < p < 1


class PerSample:
    """A batch transform (:class:`AffineElastic`, :class:`CropJitter`) applied to one sample, as a dataset's
    ``transform``: ``sample`` (C, H, W) or (H, W), of any dtype, in the per-channel value range ``[low, high]``,
    comes back augmented in the same shape and dtype. Each call draws its parameters from torch's global random
    stream, as torchvision's transforms do (a DataLoader's workers draw differently from one another).

    Examples
    --------
    >>> import torch
    >>> tf = PerSample(CropJitter(), torch.zeros(3), torch.full((3,), 255.0))
    >>> out = tf(torch.randint(0, 256, (3, 32, 48), dtype=torch.uint8))
    >>> out.shape, out.dtype
    (torch.Size([3, 32, 48]), torch.uint8)
    """

    def __init__(self, transform, low: torch.Tensor, high: torch.Tensor):
        self.transform = transform
        self.low, self.high = torch.as_tensor(low, dtype=torch.float32), torch.as_tensor(high, dtype=torch.float32)

    def __call__(self, sample: torch.Tensor) -> torch.Tensor:
        batch = sample.to(torch.float32).reshape(1, -1, *sample.shape[-2:])
        generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
        out = self.transform(batch, self.low, self.high, generator).reshape(sample.shape)
        if sample.dtype.is_floating_point:
            return out.to(sample.dtype)
        return out.round_().clamp_(self.low.min(), self.high.max()).to(sample.dtype)

    def __repr__(self) -> str:
        return f"PerSample({self.transform!r})"
