"""DiffAugment (Zhao et al., 2020): differentiable augmentations applied to
every discriminator input, real and fake alike, so a discriminator trained on
few images does not memorise them. All randomness comes from a given
``torch.Generator``.
"""

from __future__ import annotations

import torch


def _uniform(shape, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=x.device, dtype=x.dtype)


def color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random brightness, saturation and contrast per image; (B, C, H, W) in [-1, 1] scale."""
    b = x.shape[0]
    x = x + (_uniform((b, 1, 1, 1), x, generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform((b, 1, 1, 1), x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform((b, 1, 1, 1), x, generator) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with the background value -1."""
    b, _, h, w = x.shape
    sh, sw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), generator=generator, device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), generator=generator, device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) + ty  # (B, H, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w) + tx  # (B, 1, W)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # (B, H, W)
    flat = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).flatten(1)  # (B, H*W)
    out = x.flatten(2).gather(2, flat.unsqueeze(1).expand(-1, x.shape[1], -1)).view_as(x)
    return torch.where(inside.unsqueeze(1), out, torch.full_like(out, -1.0))


def cutout(x: torch.Tensor, generator: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Blank one random square of ``ratio`` times the image size per image (to -1)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), generator=generator, device=x.device) - ch // 2
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), generator=generator, device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= oy) & (rows < oy + ch) & (cols >= ox) & (cols < ox + cw)  # (B, H, W)
    return torch.where(hole.unsqueeze(1), torch.full_like(x, -1.0), x)


OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, ops: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """Apply ``ops`` in order (image tensors only; flat features pass through).

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.zeros(4, 1, 28, 28)
    >>> diff_augment(x, ("translation", "cutout"), g).shape
    torch.Size([4, 1, 28, 28])
    """
    if x.dim() != 4:
        return x
    for op in ops:
        x = OPS[op](x, generator)
    return x


def random_affine(
    x: torch.Tensor,
    generator: torch.Generator,
    strength: float = 1.0,
    *,
    scale: float = 0.15,
    rotate: float = 1.0,
    shear: float = 1.0,
    shift: float = 1.0,
    fill: float = -1.0,
) -> torch.Tensor:
    """Classical random affine per image, for real images before the discriminator.

    At ``strength=1``: rotation up to 15 degrees, scale ``1 +- scale``, shear
    up to 10 degrees, shift up to 10 % of the size, each drawn per image;
    ``rotate``, ``shear`` and ``shift`` multiply their own range. The value
    ``fill`` fills in. Not part of the differentiable policy: the GAN
    applies it to real images only, so the generator learns the augmented
    distribution; :class:`ganaug.evaluation.AffineElastic` uses it for the
    classifier's classical augmentation.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.full((3, 1, 28, 28), -1.0)
    >>> y = random_affine(x, g)
    >>> y.shape, bool(y.max() <= -0.999)
    (torch.Size([3, 1, 28, 28]), True)
    """
    if x.dim() != 4 or strength <= 0:
        return x
    b = x.shape[0]
    u = torch.rand(b, 5, generator=generator, device=x.device, dtype=x.dtype) * 2 - 1  # (B, 5) in [-1, 1]
    ang = u[:, 0] * (0.2618 * strength * rotate)  # 15 degrees
    zoom = 1.0 + u[:, 1] * (scale * strength)
    slant = torch.tan(u[:, 2] * (0.1745 * strength * shear))  # 10 degrees
    move = u[:, 3:] * (0.2 * strength * shift)  # grid units: 0.2 = 10 % of the size
    cos, sin = torch.cos(ang), torch.sin(ang)
    rows = torch.stack([torch.stack([cos, slant * cos - sin], 1), torch.stack([sin, cos + slant * sin], 1)], 1)
    theta = torch.cat([rows / zoom.view(b, 1, 1), move.unsqueeze(2)], 2)  # (B, 2, 3)
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x - fill, grid, padding_mode="zeros", align_corners=False) + fill
