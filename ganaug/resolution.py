"""Images at their own size: the resolution the image networks work at, and training images kept compactly.

The networks of the image GANs work on a grid of ``base_h x base_w`` cells doubled ``n`` times. For
images of any size from 8 to 512 px a side (square or not), :func:`working_shape` picks the
``(H, W)`` they train at:

- square images up to 64 px train at 28, 32 or 64 px (their own size, or the next of them);
- the warp generator's networks see the images shrunk to at most :data:`WORK_SIDE` px on the longer
  side, aspect kept; what they learn (a smooth displacement field and, with ``warp_stroke``, a
  stroke map) is upsampled and applied to the training image at its own size
  (:meth:`ganaug.models.WarpGenerator.native`), so a step costs what the working resolution costs
  and no detail of the image is lost;
- the DCGAN generates at the images' own size, up to :data:`DCGAN_MAX_SIDE` px a side.

:func:`compact` keeps the training images at their own size in as few bytes as loses nothing:
``uint8`` codes into a per-channel table of at most 256 values when every channel holds at most
256 distinct values (``uint8`` images, and ``float`` ones after ``ToDtype(scale=True)`` and
``Normalize``), ``float32`` otherwise.
"""

from __future__ import annotations

import math

import torch

from ._validation import in_slices
from .scaling import MIN_IMAGE_SIZE, model_size, scale_into

#: The largest image side, in pixels, the image GANs accept.
MAX_IMAGE_SIDE = 512
#: The longer side, in pixels, of what the warp generator's networks see (docs/performance.md, "Why 32 px").
WORK_SIDE = 32
#: The largest side, in pixels, the DCGAN generates at.
DCGAN_MAX_SIDE = 128
#: Channels of the networks stop doubling at this multiple of their width.
MAX_WIDTH_FACTOR = 8


def halvings(long_side: int) -> int:
    """How many times the networks halve (or double) a grid whose longer side is ``long_side`` px.

    The coarsest grid's longer side is 4 to 7 cells (never fewer than 2 halvings).

    Examples
    --------
    >>> [halvings(s) for s in (8, 28, 32, 48, 64, 128)]
    [2, 2, 3, 3, 4, 5]
    """
    return max(2, int(math.log2(long_side / 4)))


def grid(shape) -> tuple[int, int, int]:
    """``(n, base_h, base_w)`` of a network working at ``shape`` (an int for a square, or ``(H, W)``).

    ``n`` is the most halvings, up to :func:`halvings` of the longer side, that divide both sides;
    raises ``ValueError`` when that is under 2 (:func:`working_shape` gives shapes that work).

    Examples
    --------
    >>> grid(28), grid(64), grid((48, 64)), grid((4, 64))
    ((2, 7, 7), (4, 4, 4), (4, 3, 4), (2, 1, 16))
    """
    h, w = (shape, shape) if isinstance(shape, int) else (int(shape[0]), int(shape[1]))
    n = halvings(max(h, w))
    while n > 0 and (h % 2**n or w % 2**n):
        n -= 1
    if n < 2:
        raise ValueError(
            f"the image networks cannot work at {h}x{w} px: both sides must be multiples of 4 px "
            "(ganaug.resolution.working_shape gives a shape they work at, e.g. 28, 32 or 64 px squares)"
        )
    return n, h >> n, w >> n


def check_image_size(height: int, width: int, *, architecture: str) -> None:
    """Refuse images the image GANs do not take, saying what to do instead."""
    for side in (height, width):
        if side < MIN_IMAGE_SIZE:
            raise ValueError(
                f"images of {height}x{width} px are too small for the image models (at least {MIN_IMAGE_SIZE} px a "
                "side): pass them as flat features (N, C * H * W)"
            )
        if side > MAX_IMAGE_SIDE:
            raise ValueError(
                f"images of {height}x{width} px are over the {MAX_IMAGE_SIDE} px a side the image models take: shrink "
                f"them first, e.g. torchvision.transforms.Resize({MAX_IMAGE_SIDE}) (keeps the aspect) or "
                "Resize((H, W))"
            )
    if architecture == "dcgan" and max(height, width) > DCGAN_MAX_SIDE:
        raise ValueError(
            f"architecture='dcgan' generates images up to {DCGAN_MAX_SIDE} px a side; got {height}x{width}: use the "
            f"warp generator (architecture='warp' or 'auto'), which takes images up to {MAX_IMAGE_SIDE} px, or shrink "
            f"them, e.g. torchvision.transforms.Resize({DCGAN_MAX_SIDE})"
        )


def working_shape(height: int, width: int, *, architecture: str) -> tuple[int, int]:
    """``(H, W)`` the image networks of ``architecture`` train at for ``height x width`` images.

    Examples
    --------
    >>> working_shape(28, 28, architecture="warp"), working_shape(8, 8, architecture="warp")
    ((28, 28), (28, 28))
    >>> working_shape(96, 128, architecture="warp"), working_shape(224, 224, architecture="warp")
    ((24, 32), (32, 32))
    >>> working_shape(96, 128, architecture="dcgan"), working_shape(28, 20, architecture="warp")
    ((96, 128), (28, 20))
    """
    check_image_size(height, width, architecture=architecture)
    if _small_square(height, width):  # 28, 32 or 64 px, as they always have
        side = model_size(height, width) or height
        return side, side
    long_side, short_side = max(height, width), min(height, width)
    scale = 1.0 if architecture == "dcgan" else min(1.0, WORK_SIDE / long_side)
    # as many halvings as the longer side wants, fewer where the shorter side would be left under one cell
    step = 2 ** min(halvings(round(long_side * scale)), max(2, int(math.log2(max(short_side * scale, 1)))))
    return max(1, round(height * scale / step)) * step, max(1, round(width * scale / step)) * step


def _small_square(height: int, width: int) -> bool:
    """Square images up to 64 px: they train at 28, 32 or 64 px and are drawn there, then resized to their own
    size (as they were before other sizes were taken)."""
    return height == width and height <= 64


def samples_at_native_size(height: int, width: int, *, architecture: str) -> bool:
    """Whether the generator bends training images at their own size (the warp generator on images it
    does not train at; square images up to 64 px are drawn at the working size and resized, as before)."""
    if architecture != "warp" or _small_square(height, width):
        return False
    return working_shape(height, width, architecture=architecture) != (height, width)


def compact(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor, *, dtype: str):
    """Images ``(N, C, H, W)`` kept as ``(codes, book)``: the fewest bytes that lose nothing.

    ``codes`` are ``uint8`` indices into ``book`` ``(C, 256)`` (values in the GAN's ``[-1, 1]``
    space) when every channel holds at most 256 distinct values; otherwise ``codes`` are the
    images themselves in that space (``float32``) and ``book`` is empty. :func:`expand` inverts it.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[[0.0, 0.5], [1.0, 0.5]]]])
    >>> codes, book = compact(x, torch.tensor([0.0]), torch.tensor([1.0]), dtype="float32")
    >>> codes.dtype, expand(codes, book).flatten().tolist()
    (torch.uint8, [-1.0, 0.0, 1.0, 0.0])
    """
    c = x.shape[1]
    if dtype == "uint8":
        values = torch.arange(256, dtype=torch.float32).expand(c, 256)
        codes = x.to(torch.uint8)
    else:
        tables = []
        for k in range(c):
            # the channel's distinct values, a slice of images at a time (a whole channel flattened and sorted
            # would be two more copies of it); most float images give up on the first slice, and on later ones
            # only the values not yet in the table are sorted
            table = torch.zeros(0, dtype=x.dtype)
            for part in in_slices(x):
                channel = part[:, k].contiguous()
                if table.numel():
                    channel = channel[table[torch.bucketize(channel, table).clamp_(max=table.numel() - 1)] != channel]
                if channel.numel():
                    table = torch.cat([table, channel.unique()]).unique()
                if table.numel() > 256:
                    return scale_into(x, low, high), torch.zeros(0)
            tables.append(_lattice(table))
        values = torch.stack([v for v, _ in tables])
        codes, start = torch.empty(x.shape, dtype=torch.uint8), 0
        for part in in_slices(x):  # bucketize gives int64 indices: a slice at a time
            for k, (_, step) in enumerate(tables):
                chunk = part[:, k].contiguous()
                # the nearest entry of the table (the values sit on it, up to float rounding): on an even lattice
                # the rounded number of steps from its start, else found by bisection
                if step is not None:
                    nearest = ((chunk - values[k][0]) / step).round_().clamp_(0, 255)
                else:
                    right = torch.bucketize(chunk, values[k]).clamp(1, 255)
                    nearer_left = (chunk - values[k][right - 1]).abs() <= (values[k][right] - chunk).abs()
                    nearest = torch.where(nearer_left, right - 1, right)
                codes[start : start + len(part), k] = nearest.to(torch.uint8)
            start += len(part)
    book = scale_into(values.T.reshape(256, c, 1, 1), low, high).reshape(256, c).T.contiguous()
    return codes, book


def _lattice(table: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """256 values holding the sorted distinct values ``table``, and their step: evenly spaced when they sit on
    such a lattice (8-bit pixels after ``ToDtype(scale=True)`` and ``Normalize`` do), so :func:`expand`
    multiplies and adds instead of looking values up; else ``table`` padded with its last value, and no step."""
    if table.numel() > 1:
        step = (table[1:] - table[:-1]).min()
        ks = ((table - table[0]) / step).round()
        if ks[-1] <= 255 and torch.allclose(table[0] + ks * step, table, rtol=0, atol=1e-5 * float(step)):
            return table[0] + torch.arange(256, dtype=table.dtype) * step, step
    return torch.cat([table, table[-1:].expand(256 - table.numel())]), None


def code_map(book: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(slope, offset)`` per channel when ``book`` is evenly spaced (``value = offset + slope * code``), else
    ``None``.

    Bending is linear in the pixel values and commutes with such a map, so the warp generator can bend the
    codes themselves and map once at the end (:meth:`ganaug.models.WarpGenerator.native`).
    """
    if book.numel() == 0:
        return None
    slope, offset = (book[:, 255] - book[:, 0]) / 255, book[:, 0]
    even = offset[:, None] + slope[:, None] * torch.arange(256, device=book.device, dtype=book.dtype)
    return (slope, offset) if bool((slope > 0).all()) and torch.allclose(even, book, atol=1e-6) else None


def expand(codes: torch.Tensor, book: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Images in the GAN's space from what :func:`compact` kept."""
    if book.numel() == 0:
        return codes.to(dtype)
    c = codes.shape[1]
    if (linear := code_map(book)) is not None:
        slope, offset = (v.to(dtype).view(1, c, 1, 1) for v in linear)
        return torch.addcmul(offset, codes.to(dtype), slope)
    idx = codes.long() + 256 * torch.arange(c, device=codes.device).view(1, c, 1, 1)
    return book.to(dtype).flatten()[idx]
