"""Unlabelled data in a fit: reading it, checking it matches the labelled data, and
labelling the part a classifier is sure of (pseudo-labels), so that the GAN learns
from many more images than were labelled."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ._validation import _image_to_tensor, check_sample_dims, ranges_far_apart, to_float_tensor
from ._warnings import warn
from .classical import AffineElastic, Augmented, BatchAugment, channel_range
from .classifier import collate, predict_proba, train_classifier
from .datasets import SyntheticDataset
from .scaling import resize_images, scale_into

#: The label that marks a row as unlabelled in ``fit(X, y)`` (scikit-learn's semi-supervised convention).
UNLABELLED = -1


class UnlabelledRowsWarning(UserWarning):
    """Labels of -1 beside other classes were read as unlabelled rows (scikit-learn's semi-supervised convention)."""


def collect_inputs(data) -> tuple[torch.Tensor, str]:
    """Inputs without labels as ``(float32 tensor, dtype name)``.

    ``data`` is an array or tensor ``(N, ...)``, a Dataset whose items are
    inputs, or a DataLoader whose batches are inputs (a 1-tuple ``(x,)`` is
    read as ``x``). Items or batches that carry a label, ``(x, y)``, are
    refused: unlabelled data has none.

    Examples
    --------
    >>> import numpy as np
    >>> x, dtype = collect_inputs(np.zeros((3, 1, 8, 8), dtype=np.uint8))
    >>> tuple(x.shape), dtype
    ((3, 1, 8, 8), 'uint8')
    """
    if isinstance(data, torch.Tensor) or isinstance(data, np.ndarray):
        dtype = str(data.dtype).replace("torch.", "")
        return to_float_tensor(data, "unlabelled"), dtype
    if isinstance(data, DataLoader):
        parts = iter(data)
    elif isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        if isinstance(data, (tuple, list)):
            raise TypeError(
                "unlabelled must be an array of inputs, a Dataset or a DataLoader; got a "
                f"{type(data).__name__}: pass np.stack(...) of the inputs (unlabelled data has no labels)"
            )
        parts = (_single(data[i], i).unsqueeze(0) for i in range(len(data)))
    else:
        raise TypeError(f"unlabelled must be an array of inputs, a Dataset or a DataLoader; got {type(data).__name__}")
    xs, dtype = [], None
    for i, part in enumerate(parts):
        part = _single(part, i) if not isinstance(part, torch.Tensor) else part
        dtype = dtype or str(part.dtype).replace("torch.", "")
        xs.append(part.detach().cpu())
    if not xs:
        raise ValueError("unlabelled is empty: pass at least one input, or unlabelled=None")
    return to_float_tensor(torch.cat(xs), "unlabelled"), dtype


def _single(item, i: int) -> torch.Tensor:
    """One input (or batch of inputs) of an unlabelled Dataset or DataLoader."""
    if isinstance(item, (tuple, list)):
        if len(item) != 1:
            raise ValueError(
                f"unlabelled data must hold inputs only, but item {i} is a {type(item).__name__} of {len(item)} "
                "(an (x, y) pair?): pass a Dataset or DataLoader of inputs, or label the data and pass it as data"
            )
        item = item[0]
    return item if isinstance(item, torch.Tensor) else _image_to_tensor(item)


def split_unlabelled(x: torch.Tensor, labels: np.ndarray, *, dtype: str, unlabelled=None):
    """Labelled ``(x, labels)`` and the unlabelled inputs (``None`` when there are none).

    Rows whose label is :data:`UNLABELLED` (-1) are unlabelled, followed by
    ``unlabelled`` (:func:`collect_inputs`). The unlabelled inputs must have
    the labelled samples' shape and dtype.

    Examples
    --------
    >>> import numpy as np, torch
    >>> x, y, xu = split_unlabelled(torch.arange(4.0).view(4, 1), np.array([0, -1, 1, -1]), dtype="float32")
    >>> x.flatten().tolist(), y.tolist(), xu.flatten().tolist()
    ([0.0, 2.0], [0, 1], [1.0, 3.0])
    """
    parts = []
    if labels.dtype.kind in "iu":
        marked = labels == UNLABELLED
        if marked.all():
            raise ValueError(
                "every row has y == -1, which marks unlabelled rows (scikit-learn's semi-supervised convention): "
                "a fit needs labelled examples of at least one class"
            )
        if marked.any():
            warn(
                f"{int(marked.sum())} rows have y == -1, which marks unlabelled rows (scikit-learn's semi-supervised "
                f"convention): the GAN is fitted on the classes {np.unique(labels[~marked]).tolist()} and uses those "
                "rows only as unlabelled data. If -1 is a class, relabel it (for instance y + 1, or class names as "
                "strings); to pass unlabelled data without this warning, give it as fit(..., unlabelled=X_unlabelled)",
                UnlabelledRowsWarning,
            )
            parts.append(x[torch.from_numpy(marked)])
            x, labels = x[torch.from_numpy(~marked)], labels[~marked]
    if unlabelled is not None:
        xu, dtype_u = collect_inputs(unlabelled)
        if dtype_u != dtype:
            raise TypeError(
                f"unlabelled holds {dtype_u} values but the labelled data {dtype}: pass both in the same value space "
                f"and dtype (e.g. both uint8 0-255, or both float32 from the same transform)"
            )
        parts.append(xu)
    if not parts:
        return x, labels, None
    xu = torch.cat([check_sample_dims(p).to(torch.float32) for p in parts])  # labelled x may be uint8
    want, got = tuple(check_sample_dims(x[:1]).shape[1:]), tuple(xu.shape[1:])
    if want != got:
        raise ValueError(
            f"unlabelled samples have shape {got} but the labelled ones {want}: pass them with the same shape "
            "(channels, height and width)"
        )
    seen, known = (float(xu.min()), float(xu.max())), (float(x.min()), float(x.max()))
    if xu.dim() > 2 and len(x) and ranges_far_apart(seen, known):  # images: one value space for every channel
        warn(
            f"the unlabelled images lie in [{seen[0]:.3g}, {seen[1]:.3g}], the labelled ones in [{known[0]:.3g}, "
            f"{known[1]:.3g}]: pass both from the same transform (ToTensor, ToDtype(scale=True), Normalize), or the "
            "GAN learns from two value spaces at once"
        )
    return x, labels, xu


def pseudo_label(
    x: torch.Tensor,
    y: torch.Tensor,
    xu: torch.Tensor,
    *,
    n_classes: int,
    threshold: float,
    n_steps: int,
    seed: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The unlabelled samples a classifier of the labelled ones is sure of, with its labels.

    A :class:`ganaug.evaluation.DefaultClassifier` (:func:`ganaug.classifier.train_classifier`) is trained on ``(x, y)``
    (class indices) for ``n_steps`` batches, images under
    :class:`ganaug.evaluation.AffineElastic` augmentation, and labels ``xu``.
    Kept: the samples it gives a probability of at least ``threshold``, at
    most as many per class as the median class has (the most confident
    first), so that no class floods the GAN's training set.

    Returns
    -------
    index, labels, confidence : tensors
        Rows of ``xu`` kept (sorted by class, then by confidence), their class
        indices and the classifier's probability for them.
    """
    fit_seed, augment_seed = np.random.SeedSequence(seed).generate_state(2).tolist()
    labels = y.numpy()
    loader = None
    if x.dim() == 4:  # images: the small CNN learns from affine + elastic copies, as a careful user would train it
        order = RandomSampler(range(len(labels)), generator=torch.Generator().manual_seed(fit_seed))
        base = DataLoader(SyntheticDataset(x, labels), batch_size=64, sampler=order, collate_fn=collate)
        augment = BatchAugment(AffineElastic(), *channel_range(x), seed=augment_seed)
        loader = Augmented(base, augment, keep_flags=False, device=device)
    classes = np.arange(n_classes)
    teacher = train_classifier(
        x,
        labels,
        classes,
        seed=fit_seed,
        device=device,
        loader=loader,
        n_steps=n_steps,
        batch_size=64,
        lr=1e-3,
        verbose=0,
        desc="pseudo-labels",
    )
    prob = predict_proba(teacher, xu)
    conf, pred = prob.max(dim=1)
    sure = conf >= threshold
    counts = torch.bincount(pred[sure], minlength=n_classes)
    cap = int(counts.float().median().item()) if bool(sure.any()) else 0
    keep = []
    for k in range(n_classes):
        rows = (sure & (pred == k)).nonzero(as_tuple=True)[0]
        rows = rows[torch.argsort(conf[rows], descending=True, stable=True)][:cap]
        keep.append(rows)
    index = torch.cat(keep) if keep else torch.zeros(0, dtype=torch.long)
    return index, pred[index], conf[index]


def with_pseudo_labelled(scaled, y_idx: np.ndarray, *, unlabelled, space, cfg, seed: int, device):
    """The GAN's training set: ``scaled`` with class indices ``y_idx``, plus the unlabelled samples
    :func:`pseudo_label` keeps, brought into the same space (``space``: the value space's
    ``(low, high, mean, std)``). Returns ``(x, y tensor, joined per class, rows of unlabelled joined)``."""
    y = torch.from_numpy(y_idx.astype(np.int64))
    n_classes = int(y_idx.max()) + 1
    if unlabelled is None:
        return scaled, y, np.zeros(n_classes, dtype=np.int64), torch.zeros(0, dtype=torch.long)
    images = scaled.dim() == 4
    low, high, mean, std = space
    su = scale_into(check_sample_dims(unlabelled), low, high, mean=mean, std=std)
    su = resize_images(su.clamp(-1, 1), tuple(scaled.shape[-2:])) if images else su
    args = dict(threshold=cfg.pseudo_label_threshold, n_steps=cfg.pseudo_label_steps, seed=seed, device=device)
    index, labels, _ = pseudo_label(scaled, y, su, n_classes=n_classes, **args)
    joined = np.bincount(labels.numpy(), minlength=n_classes)
    return torch.cat([scaled, su[index]]), torch.cat([y, labels]), joined, index
