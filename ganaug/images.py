"""Pictures of samples: the value range to 8-bit pixels, labelled grids, PNG folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ._validation import check_positive_int, user_path
from .scaling import to_unit


def to_uint8(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Images ``(N, C, H, W)`` as ``uint8`` pixels: each channel's ``[low, high]`` mapped to 0-255.

    Examples
    --------
    >>> import torch
    >>> to_uint8(torch.tensor([[[[-1.0, 0.0, 1.0]]]]), torch.tensor([-1.0]), torch.tensor([1.0])).tolist()
    [[[[0, 128, 255]]]]
    """
    return (to_unit(x, low, high) * 255).round().to(torch.uint8)


def write_image_folder(directory, pixels: torch.Tensor, labels) -> Path:
    """Write ``uint8`` images ``(N, C, H, W)`` as ``directory/<label>/<i>.png`` (an ImageFolder tree)."""
    from PIL import Image

    directory = user_path(directory)
    pix = pixels.permute(0, 2, 3, 1).numpy()
    for i, (img, label) in enumerate(zip(pix, np.asarray(labels).tolist())):
        folder = directory / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(folder / f"{i:06d}.png")
    return directory


def export_samples(
    augmenter, directory, n_per_class: int, *, format: str = "png", random_state=None, classes=None
) -> Path:
    """Samples of a fitted augmenter as an ImageFolder tree or an .npz file; see :meth:`SyntheticAugmenter.export`."""
    if format not in ("png", "npz"):
        raise ValueError(f"format must be 'png' or 'npz'; got {format!r}")
    if format == "png" and not augmenter.images_:
        raise ValueError("format='png' needs an image model; this augmenter models flat features, use format='npz'")
    directory = user_path(directory)
    if directory.is_dir() and any(directory.iterdir()):
        raise FileExistsError(
            f"{str(directory)!r} is not empty: samples are exported into a new or empty folder, so that no file "
            "there is overwritten and no synthetic image joins a folder of real ones; choose another folder"
        )
    directory.mkdir(parents=True, exist_ok=True)
    wanted = augmenter.classes_ if classes is None else np.asarray(classes)
    labels = np.repeat(wanted, n_per_class)
    x, y = augmenter.sample(len(labels), y=labels, random_state=random_state)
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if format == "npz":
        path = directory / "synthetic.npz"
        np.savez_compressed(path, x=x.numpy(), y=np.asarray(y))
        return path
    pix = x.reshape((-1,) + tuple(augmenter.sample_shape_))
    if pix.dim() == 3:
        pix = pix.unsqueeze(1)
    # uint8 data keeps its pixel values; any other range is mapped to 0-255
    pix = pix if augmenter.dtype_ == "uint8" else to_uint8(pix, augmenter.value_low_, augmenter.value_high_)
    return write_image_folder(directory, pix.to(torch.uint8), y)


def save_grid(
    augmenter,
    path,
    n_per_class: int = 10,
    random_state=0,
    *,
    image_shape: Sequence[int] | None = None,
    padding: int = 2,
) -> Path:
    """Save a PNG grid of synthetic samples: one row per class, labelled on the left.

    Pixel values are mapped from the augmenter's value range
    (``value_low_`` / ``value_high_``, per channel) to 0-255. Written with
    Pillow, which torchvision already needs.

    Parameters
    ----------
    augmenter : SyntheticAugmenter
        A fitted augmenter.
    path : str or Path
        Where to write the PNG.
    n_per_class : int
        Samples (columns) per class.
    random_state : int
        Seeds the draw.
    image_shape : tuple, optional
        ``(C, H, W)`` or ``(H, W)`` to show a flat-feature model's samples as
        images (e.g. ``(28, 28)`` for flat MNIST); they then share one value
        range (the lowest ``value_low_`` to the highest ``value_high_``).
    padding : int
        Pixels between images.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, warnings, torch
    >>> from ganaug import GANConfig, SyntheticAugmenter
    >>> X, y = torch.rand(20, 1, 28, 28), torch.arange(20) % 2
    >>> gan = GANConfig(batch_size=4, g_width=8, d_width=8)
    >>> with warnings.catch_warnings():  # one GAN step: expect a mode-collapse warning
    ...     warnings.simplefilter("ignore")
    ...     aug = SyntheticAugmenter(gan=gan, n_steps=1, random_state=0, verbose=0).fit((X, y))
    >>> from PIL import Image
    >>> Image.open(save_grid(aug, tempfile.mkdtemp() + "/grid.png", n_per_class=3)).size
    (102, 62)
    """
    from PIL import Image, ImageDraw

    if not hasattr(augmenter, "generator_"):
        raise ValueError("save_grid needs a fitted augmenter: call augmenter.fit(data) first")
    n_per_class = check_positive_int(n_per_class, "n_per_class")
    classes = augmenter.classes_
    x, _ = augmenter.sample(len(classes) * n_per_class, y=np.repeat(classes, n_per_class), random_state=random_state)
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(torch.float32)
    lo, hi = augmenter.value_low_.to(torch.float32).cpu(), augmenter.value_high_.to(torch.float32).cpu()
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        shape = (1,) + shape if len(shape) == 2 else shape
        if len(shape) != 3 or int(np.prod(shape)) != x[0].numel():
            raise ValueError(f"image_shape {tuple(image_shape)} does not hold the {x[0].numel()} values of a sample")
        x = x.reshape((-1,) + shape)
        lo, hi = lo.min().view(1), hi.max().view(1)
    elif x.dim() == 4:
        pass
    elif x.dim() == 3:
        x = x.unsqueeze(1)
    else:
        raise ValueError(
            f"samples of shape {tuple(x.shape[1:])} are not images; pass image_shape=(C, H, W) or (H, W) to view them as images"
        )
    c, h, w = x.shape[1:]
    if c not in (1, 3):
        raise ValueError(f"save_grid draws 1- or 3-channel images; got {c} channels")
    pix = to_uint8(x, lo, hi)
    names = [str(v) for v in classes.tolist()]
    label_w = 6 * max(len(s) for s in names) + 2 * padding
    rows, cols = len(names), n_per_class
    size = (label_w + cols * (w + padding) + padding, rows * (h + padding) + padding)
    mode = "L" if c == 1 else "RGB"
    canvas = Image.new(mode, size, 128 if c == 1 else (128, 128, 128))
    draw = ImageDraw.Draw(canvas)
    for r in range(rows):
        top = padding + r * (h + padding)
        draw.text((padding, top + max(0, h // 2 - 6)), names[r], fill=255 if c == 1 else (255, 255, 255))
        for j in range(cols):
            img = pix[r * cols + j].permute(1, 2, 0).numpy()
            tile = Image.fromarray(img[..., 0] if c == 1 else img, mode=mode)
            canvas.paste(tile, (label_w + j * (w + padding) + padding, top))
    path = user_path(path)
    canvas.save(path, format="PNG")
    return path
