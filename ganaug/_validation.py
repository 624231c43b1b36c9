"""Input checks and conversions shared by the public classes."""

from __future__ import annotations

import hashlib
import numbers
import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ._warnings import warn


def resolve_seed(random_state) -> int:
    """An int seed in [0, 2**31) from ``None``, an int or a ``numpy.random.RandomState``/``Generator``."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**31))
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError(f"random_state must be None, an int or a numpy RandomState/Generator; got {random_state!r}")
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0; got {random_state}")
        return int(random_state) % (2**31)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int or a numpy RandomState/Generator; got {type(random_state).__name__}"
    )


def check_positive_int(value, name: str) -> int:
    """``value`` as an int; ValueError unless it is an integer >= 1 (bools refused)."""
    if not Interval("int", 1).accepts(value):
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_flag(value, name: str) -> bool:
    """``value`` as a bool; TypeError unless it is ``True`` or ``False`` (numpy's too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def child_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds derived from ``seed``."""
    return [int(s) % (2**31) for s in np.random.SeedSequence(seed).generate_state(n)]


#: What each seed an augmenter derives from its ``random_state`` drives, by its place among
#: ``child_seeds(seed, 5)`` (the first four are those of ``child_seeds(seed, 4)``: a slot added at the end moves
#: no other). The wrapped loader's default seed shares the pseudo-labels' place: both have always drawn from it,
#: and a loader wrapped with a given ``random_state`` keeps its synthetic pools.
SEED_SLOTS = {"init": 0, "train": 1, "sample": 2, "pseudo_labels": 3, "wrap": 3, "self_check": 4}


def derived_seed(seed: int, slot: str) -> int:
    """The seed of ``slot`` (a key of :data:`SEED_SLOTS`) derived from an augmenter's ``seed``.

    Examples
    --------
    >>> derived_seed(0, "sample") == child_seeds(0, 4)[2]
    True
    """
    return child_seeds(seed, len(set(SEED_SLOTS.values())))[SEED_SLOTS[slot]]


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when present, else CPU; anything torch accepts otherwise.

    Under torchrun, ``"auto"`` and ``"cuda"`` mean this process's GPU, ``cuda:$LOCAL_RANK``.
    """
    local = os.environ.get("LOCAL_RANK")
    if device in (None, "auto", "cuda") and torch.cuda.is_available() and local is not None:
        return torch.device(f"cuda:{int(local)}")
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'")
    return dev


def to_numpy_labels(y, n: int | None = None) -> np.ndarray:
    """Labels as a 1-D numpy array of integers or strings; refuse anything else with advice."""
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"labels must be a 1-D array with one label per sample; got shape {y.shape}" + _one_hot(y))
    if n is not None and y.shape[0] != n:
        raise ValueError(f"got {n} samples but {y.shape[0]} labels; X and y must have the same length")
    if y.dtype.kind in "iu":
        return y.astype(np.int64)
    if y.dtype.kind in "US":
        return y.astype(str)
    if y.dtype.kind == "O" and all(isinstance(v, str) for v in y):
        return y.astype(str)
    if y.dtype.kind == "O" and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in y):
        return y.astype(np.int64)
    raise ValueError(
        f"labels must be integers or class names (strings); got {y.dtype}"
        + (" (cast integral floats with y.astype(int))" if y.dtype.kind == "f" else "")
        + (" (cast them with y.astype(int))" if y.dtype.kind == "b" else "")
    )


def _one_hot(y: np.ndarray) -> str:
    """Advice for 2-D labels with a column per class: the class indices are needed."""
    if y.ndim == 2 and y.shape[1] > 1:
        return ", a column per class (one-hot or probabilities): pass the class indices, y.argmax(1)"
    return ""


def ranges_far_apart(seen: tuple[float, float], known: tuple[float, float]) -> bool:
    """Whether values spanning ``seen`` (min, max) look scaled or normalised otherwise than ones spanning ``known``.

    True when less than half of the wider span is shared, or ``seen`` reaches a quarter of ``known``'s span past
    either end: uint8 pixels beside floats in [0, 1], or ``Normalize``'s output beside its input, but not a
    random transform's small overshoot or a few images that do not reach the extremes.

    Examples
    --------
    >>> ranges_far_apart((0, 255), (0, 1)), ranges_far_apart((-1, 1), (0, 1)), ranges_far_apart((0.1, 0.9), (0, 1))
    (True, True, False)
    """
    (a, b), (low, high) = seen, known
    span = high - low
    shared = max(0.0, min(b, high) - max(a, low))
    return shared < 0.5 * max(b - a, span) or a < low - 0.25 * span or b > high + 0.25 * span


def to_float_tensor(X, what: str = "X", *, keep_uint8: bool = False) -> torch.Tensor:
    """Samples as a float32 CPU tensor; refuse empty, non-numeric and non-finite input.

    ``keep_uint8``: uint8 samples stay uint8 (a quarter of float32's bytes for a large image set), sharing
    memory with ``X`` where torch can.
    """
    if isinstance(X, torch.Tensor):
        t = X.detach().cpu()
    else:
        arr = np.asarray(X)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{what} must be numeric; got dtype {arr.dtype}")
        arr = np.ascontiguousarray(arr)
        # torch shares memory with writable arrays only: a read-only one (a pandas frame under copy-on-write, a
        # memory map, np.broadcast_to) is copied, not handed over with torch's "undefined behaviour" warning
        t = torch.from_numpy(arr if arr.flags.writeable else arr.copy())
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{what} must be real numbers; got {t.dtype}")
    if t.shape[0] == 0 if t.dim() else True:
        raise ValueError(f"{what} is empty: need at least one sample")
    if keep_uint8 and t.dtype == torch.uint8:
        return t
    integers = not t.dtype.is_floating_point  # (bool and complex are refused above) always finite as float32
    t = t.to(torch.float32)
    if not integers and not _all_finite(t):
        bad = int((~torch.isfinite(t)).flatten(1).any(1).sum()) if t.dim() > 1 else int((~torch.isfinite(t)).sum())
        raise ValueError(f"{what} holds NaN or infinite values in {bad} sample(s); drop or impute them first")
    return t


#: How many values :func:`in_slices` hands over at a time (about 16 MB of float32).
SLICE_VALUES = 2**22


def in_slices(t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``t`` split along its first dimension into slices of about :data:`SLICE_VALUES` values (whole rows or
    images): for work on a large image set that would make full-size temporaries if done on all of it at once."""
    return t.split(max(1, SLICE_VALUES // max(1, t[0].numel())))


def _all_finite(t: torch.Tensor) -> bool:
    """Whether every value of ``t`` is finite, a slice at a time (:func:`in_slices`): ``torch.isfinite`` on the
    whole of a large image set makes two more copies of it in memory."""
    return all(bool(torch.isfinite(part).all()) for part in in_slices(t))


def class_indices(classes: np.ndarray, n: int, y) -> np.ndarray:
    """Indices into ``classes`` of ``n`` requested labels: ``None`` cycles through the classes, one
    label repeats, ``n`` labels are looked up one by one."""
    if y is None:
        return np.arange(n) % len(classes)
    values = np.atleast_1d(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y))
    if values.dtype.kind == "f":
        raise ValueError(f"y must be class labels (integers or names); got {values.dtype}")
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    unknown = sorted({v for v in values.tolist() if v not in lookup}, key=str)
    if unknown:
        raise ValueError(f"unknown class(es) {unknown}; known classes are {classes.tolist()}")
    idx = np.array([lookup[v] for v in values.tolist()], dtype=np.int64)
    if values.size == 1:
        return np.full(n, idx[0], dtype=np.int64)
    if len(idx) != n:
        raise ValueError(f"y has {len(idx)} labels but n={n} samples were asked for; pass one label or n labels")
    return idx


def looks_channels_last(shape: tuple[int, ...]) -> bool:
    """Whether a batch of images of ``shape`` is stored ``(N, H, W, C)`` rather than ``(N, C, H, W)``.

    Examples
    --------
    >>> looks_channels_last((8, 32, 32, 3)), looks_channels_last((8, 3, 32, 32)), looks_channels_last((8, 3, 4, 3))
    (True, False, False)
    """
    return len(shape) == 4 and shape[1] not in (1, 3) and shape[-1] in (1, 3)


def check_sample_dims(x: torch.Tensor) -> torch.Tensor:
    """Samples as flat features ``(N, F)`` or channels-first images ``(N, C, H, W)`` (grey ``(N, H, W)`` gets C = 1)."""
    if x.dim() == 3:  # (N, H, W) grey images
        x = x.unsqueeze(1)
    if looks_channels_last(tuple(x.shape)):
        raise ValueError(
            f"images must be channels-first (N, C, H, W); got {tuple(x.shape)}, which looks channels-last: "
            "use X.transpose(0, 3, 1, 2) (numpy) or X.permute(0, 3, 1, 2) (torch)"
        )
    if x.dim() not in (2, 4):
        raise ValueError(
            "samples must be flat features (N, F) or images (N, H, W) / (N, C, H, W); "
            f"got {x.dim()} dimensions {tuple(x.shape)}"
        )
    return x


def fingerprint(x: torch.Tensor, y: np.ndarray) -> str:
    """SHA-256 of the (sample, label) pairs, independent of their order, to
    recognise the data a GAN was fitted on (a shuffled loader gives the same).
    Samples are hashed as float32, so uint8 images and the same values as floats
    give one fingerprint; a slice at a time, so no float copy of a large uint8
    set is ever whole in memory."""
    labels = np.asarray(y).astype(str)
    rows, start = [], 0
    for part in in_slices(x):
        flat = part.to(torch.float32).contiguous().reshape(part.shape[0], -1).numpy()
        rows += [
            hashlib.sha256(row.tobytes() + b"|" + label.encode()).digest()
            for row, label in zip(flat, labels[start : start + len(part)])
        ]
        start += len(part)
    rows.sort()
    h = hashlib.sha256(str(tuple(x.shape)).encode())
    for r in rows:
        h.update(r)
    return h.hexdigest()


#: Seconds a read of the training data runs before :func:`collect_xy` shows its progress bar (a quick read shows
#: none).
READ_BAR_DELAY = 2.0


def collect_xy(data, *, verbose: int = 0, keep_uint8: bool = False) -> tuple[torch.Tensor, np.ndarray, str, bool]:
    """Gather all samples of ``data`` into memory.

    ``data`` is a DataLoader, a Dataset yielding ``(x, y)`` or a tuple
    ``(X, y)``. Returns ``(X float32 tensor, labels, dtype name, was_numpy)``;
    the dtype name is what samples are given back in. ``keep_uint8``: uint8
    samples come back as uint8, in memory of their own (nothing later written
    into the caller's arrays reaches them). With ``verbose``, a read of a
    DataLoader or Dataset that takes more than :data:`READ_BAR_DELAY` seconds
    shows a progress bar.
    """
    from torch.utils.data import DataLoader, Dataset

    if isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
        was_numpy = not isinstance(X, torch.Tensor)
        dtype = str(X.dtype).replace("torch.", "") if isinstance(X, torch.Tensor) else str(np.asarray(X).dtype)
        x = to_float_tensor(X, keep_uint8=keep_uint8)
        if x.dtype == torch.uint8:  # kept as given: a copy, so that later writes into X do not reach the model
            x = x.clone()
        return x, to_numpy_labels(y, x.shape[0]), dtype, was_numpy
    if isinstance(data, DataLoader):
        batches, unit = iter(data), "batch"
    elif isinstance(data, Dataset) or hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        batches, unit = (_as_batch(data[i], i) for i in range(len(data))), "item"
    else:
        raise TypeError(
            "fit expects a DataLoader, a Dataset yielding (x, y), or a tuple (X, y) of arrays/tensors; "
            f"got {type(data).__name__}"
        )
    ys, dtype = [], None
    try:
        total = len(data)
    except TypeError:  # a DataLoader over a stream
        total = None
    if verbose > 0:
        batches = tqdm(batches, total=total, desc="reading the data", unit=unit, delay=READ_BAR_DELAY, leave=False)
    rows = _Rows(_expected_rows(data))
    for batch in _reading(batches):
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError(_not_a_pair("each batch/item", batch))
        xb, yb = batch[0], batch[1]
        if not isinstance(xb, torch.Tensor):
            xb = _image_to_tensor(xb)
        dtype = dtype or str(xb.dtype).replace("torch.", "")
        rows.add(xb.detach().cpu())
        yb = yb.detach().cpu().numpy() if isinstance(yb, torch.Tensor) else np.asarray(yb)
        ys.append(to_numpy_labels(np.atleast_1d(yb), len(xb)))
    if not ys:
        raise ValueError("the data is empty: need at least one (x, y) sample")
    shapes = rows.shapes()
    if len(shapes) > 1:
        raise ValueError(_MIXED_SIZES.format(shapes=", ".join("x".join(map(str, s)) for s in shapes[:4])))
    return to_float_tensor(rows.joined(), keep_uint8=keep_uint8), np.concatenate(ys), dtype, False


def _expected_rows(data) -> int | None:
    """How many samples reading ``data`` gives, where that is known before reading: a Dataset's length, a
    DataLoader's sampler's (less the incomplete last batch it drops); ``None`` for a stream or a batch sampler."""
    from torch.utils.data import DataLoader

    try:
        if isinstance(data, DataLoader):
            if data.batch_size is None:  # batches from a batch_sampler: sizes unknown
                return None
            n = len(data.sampler)
            return n - n % data.batch_size if data.drop_last else n
        return len(data)
    except TypeError:  # a stream has no length
        return None


class _Rows:
    """Batches ``(B, ...)`` gathered into one tensor. Where the number of rows is known before reading, each batch
    is written into place as it comes: a list of batches joined at the end would hold every sample twice. Batches
    that do not fit (another shape or dtype, more rows than expected) are kept aside and joined at the end."""

    def __init__(self, expected: int | None):
        self.expected, self.filled, self.out, self.aside = expected, 0, None, []

    def add(self, xb: torch.Tensor) -> None:
        if self.out is None and self.expected and not self.aside:
            self.out = torch.empty((self.expected, *xb.shape[1:]), dtype=xb.dtype)
        out = self.out
        if (
            out is not None
            and not self.aside
            and xb.shape[1:] == out.shape[1:]
            and xb.dtype == out.dtype
            and self.filled + len(xb) <= len(out)
        ):
            out[self.filled : self.filled + len(xb)] = xb
            self.filled += len(xb)
        else:
            self.aside.append(xb)

    def shapes(self) -> list[tuple]:
        placed = [tuple(self.out.shape[1:])] if self.filled else []
        return sorted(set(placed) | {tuple(xb.shape[1:]) for xb in self.aside})

    def joined(self) -> torch.Tensor:
        placed = self.out[: self.filled] if self.out is not None else None
        if not self.aside:
            return placed if self.filled == len(self.out) else placed.clone()  # fewer rows came: no unused tail kept
        parts = ([placed] if self.filled else []) + self.aside
        self.aside, self.out = [], None  # the joined tensor is all the caller keeps: the parts can go as it returns
        return torch.cat(parts)


def _not_a_pair(what: str, got) -> str:
    """The message for a batch or item that is not (x, y); dicts (Hugging Face style) get the fix."""
    msg = f"{what} must be (x, y) (extra entries are ignored); got {type(got).__name__}"
    if isinstance(got, dict):
        msg += (
            f" with keys {sorted(map(str, got))}: hand over pairs, e.g. with a Dataset whose __getitem__ returns "
            "(item['image'], item['label'])"
        )
    return msg


_MIXED_SIZES = (
    "the samples have different shapes ({shapes}); the GAN needs one size: give the Dataset a transform that "
    "makes them one, e.g. torchvision.transforms.Resize((H, W)) or CenterCrop((H, W)) (transforms.v2 too)"
)


def _reading(batches):
    """The batches, with a DataLoader's failure to stack images of different sizes said plainly."""
    try:
        yield from batches
    except RuntimeError as exc:
        if "equal size" not in str(exc) and "same size" not in str(exc):
            raise
        detail = str(exc).split("but got", 1)[-1].strip()
        raise ValueError(_MIXED_SIZES.format(shapes=f"in one batch: {detail}")) from exc


def _as_batch(item, i):
    if not isinstance(item, (tuple, list)) or len(item) < 2:
        raise ValueError(_not_a_pair(f"dataset item {i}", item))
    x, y = item[0], item[1]
    x = x if isinstance(x, torch.Tensor) else _image_to_tensor(x)
    if isinstance(y, (torch.Tensor, np.ndarray)) and (y.numel() if isinstance(y, torch.Tensor) else y.size) != 1:
        hint = (
            ", a value per class (one-hot or probabilities): return the class index, y.argmax()" if y.ndim == 1 else ""
        )
        raise ValueError(f"dataset item {i} has a label of shape {tuple(y.shape)}; one label per item is needed" + hint)
    y = torch.as_tensor([y]) if not isinstance(y, str) else np.array([y])
    return x.unsqueeze(0), y


def _image_to_tensor(x) -> torch.Tensor:
    """PIL images become float tensors in [0, 1] (as ``ToTensor`` does); arrays become tensors."""
    try:
        from PIL import Image

        if isinstance(x, Image.Image):
            from torchvision.transforms.functional import to_tensor

            return to_tensor(x)
    except ImportError:  # pragma: no cover - pillow is a torchvision dependency
        pass
    return torch.as_tensor(np.asarray(x))


# -- parameter constraints (sklearn's table style, without its private module) ---------------
class Interval:
    """Numbers of ``kind`` ("int" or "real") between ``low`` and ``high``; bools are refused.

    ``closed`` says which ends belong to the interval: "both", "left", "right" or "neither".
    """

    def __init__(self, kind: str, low=None, high=None, *, closed: str = "both"):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if not isinstance(value, numbers.Integral if self.kind == "int" else numbers.Real):
            return False
        if not np.isfinite(float(value)):
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        return not (self.high is not None and (value > self.high or (value == self.high and not right)))

    def __str__(self) -> str:
        what = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            brackets = {"both": "[]", "left": "[)", "right": "(]", "neither": "()"}[self.closed]
            return f"{what} in {brackets[0]}{self.low}, {self.high}{brackets[1]}"
        if self.low is not None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {self.low}"
        if self.high is not None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {self.high}"
        return what


class Options:
    """One of a few values, compared with their type (``True`` is not ``1``)."""

    def __init__(self, *values):
        self.values = values

    def accepts(self, value) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)


class InstanceOf:
    """An instance of ``types`` (``None`` for ``type(None)``); bools only when ``bool`` is named."""

    def __init__(self, *types, name: str | None = None):
        self.types, self.name = types, name

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def __str__(self) -> str:
        return self.name or " or ".join("None" if t is type(None) else t.__name__ for t in self.types)


NONE = Options(None)
BOOL = InstanceOf(bool, np.bool_, name="True or False")


def check_params(table: dict, values: dict) -> None:
    """Raise ``ValueError`` naming the first of ``values`` that no constraint of ``table`` accepts.

    ``table`` maps a parameter name to a list of constraints (:class:`Interval`,
    :class:`Options`, :class:`InstanceOf`, or a callable ``value -> bool``
    with a ``__doc__`` line saying what it accepts); a value passes when one
    of them accepts it.

    Examples
    --------
    >>> check_params({"n_steps": [Interval("int", 1)]}, {"n_steps": 10})
    >>> check_params({"n_steps": [Interval("int", 1)]}, {"n_steps": 0})
    Traceback (most recent call last):
    ...
    ValueError: n_steps must be an integer >= 1; got 0
    """
    for name, constraints in table.items():
        if name not in values:
            continue
        value = values[name]
        if not any(c.accepts(value) for c in constraints):
            raise ValueError(f"{name} must be {' or '.join(str(c) for c in constraints)}; got {value!r}")


#: Classes with fewer training examples than this get a warning saying what their samples will be.
MIN_CLASS_SIZE = 10


def warn_small_classes(classes: np.ndarray, counts: np.ndarray, architecture: str) -> None:
    """Warn about classes with fewer than MIN_CLASS_SIZE examples, saying what their samples will be."""
    small = {c: int(n) for c, n in zip(classes.tolist(), counts) if n < MIN_CLASS_SIZE}
    if not small:
        return
    if architecture == "warp":
        expect = (
            "their samples are those few images bent into new shapes: they add variety of shape, not new "
            "instances, and help about as much as strong augmentation of those images"
        )
    elif architecture == "offset":
        expect = (
            "their samples are those few rows moved by learned offsets: they vary the rows, they add no new instances"
        )
    else:
        expect = "their samples will be close copies of those few examples or fail to look like them"
    warn(
        f"classes {small} have fewer than {MIN_CLASS_SIZE} examples; {expect} "
        "(measure with ganaug.evaluation.compare_augmentation)",
        UserWarning,
    )


def warn_collapse(classes: np.ndarray, diversity: list, threshold: float = 0.2) -> None:
    """Warn about classes whose samples vary less than ``threshold`` times as much as their real ones."""
    collapsed = [c for c, v in zip(classes.tolist(), diversity) if v < threshold]
    if collapsed:
        warn(
            f"mode collapse suspected for classes {collapsed}: their samples vary less than {threshold:.0%} "
            "as much as the real ones (history_['diversity']); try more n_steps, loss='hinge' or a lower lr",
            UserWarning,
        )


def user_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path with ``~`` read as the home folder, as a shell reads it: ``save("~/model.pt")`` means
    the home folder, never a new folder named ``~`` in the working one.

    Examples
    --------
    >>> from pathlib import Path
    >>> user_path("~/model.pt") == Path.home() / "model.pt", user_path("runs/a") == Path("runs/a")
    (True, True)
    """
    return Path(path).expanduser()
