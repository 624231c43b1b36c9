"""Mixing synthetic samples into a user's DataLoader: the synthetic pool (redrawn
every epoch or fixed), how many samples of each class it holds, and the loader
over real + synthetic that keeps the user's batch size, sampler and workers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, RandomSampler, SequentialSampler, WeightedRandomSampler
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from . import _validation
from ._validation import Interval, check_flag, derived_seed, ranges_far_apart, resolve_seed
from ._warnings import warn
from .classical import PerSample, classical_for, random_transforms
from .datasets import MixedDataset, SyntheticDataset


def synthetic_counts(classes, real_counts: dict, *, ratio: float, balance: bool = False) -> dict:
    """How many synthetic samples of each class a wrapped loader adds per epoch.

    Without ``balance`` each class gets ``round(ratio * n_real_k)``; with it,
    every class of ``classes`` is first topped up to the largest class, then
    gets ``round(ratio * n_real / n_classes)`` more.

    Examples
    --------
    >>> synthetic_counts([0, 1], {0: 10, 1: 4}, ratio=0.5)
    {0: 5, 1: 2}
    >>> synthetic_counts([0, 1], {0: 10, 1: 4}, ratio=0.5, balance=True)
    {0: 4, 1: 10}
    """
    if not Interval("real", 0).accepts(ratio):
        raise ValueError(f"ratio must be a number >= 0 (synthetic samples per real sample); got {ratio!r}")
    if not balance:
        return {c: int(round(ratio * n)) for c, n in real_counts.items()}
    largest = max(real_counts.values())
    total = sum(real_counts.values())
    extra = int(round(ratio * total / len(classes)))
    return {c: largest - real_counts.get(c, 0) + extra for c in list(classes)}


def mixed_loader(
    augmenter,
    loader,
    *,
    ratio: float,
    balance: bool,
    refresh: str,
    return_is_synthetic: bool,
    filter: Callable | None,
    random_state,
    synthetic_transform: Callable | None,
    stratify: bool,
) -> DataLoader:
    """The loader behind :meth:`ganaug.SyntheticAugmenter.wrap` (see its docstring)."""
    if not isinstance(loader, DataLoader):
        raise TypeError(f"wrap expects a torch DataLoader; got {type(loader).__name__}")
    if refresh not in ("epoch", "fixed"):
        raise ValueError(f"refresh must be 'epoch' or 'fixed'; got {refresh!r}")
    if isinstance(loader.dataset, IterableDataset):
        raise TypeError(
            f"wrap needs a loader over a map-style dataset (len and indexing), to size the synthetic pool to the "
            f"real data and shuffle the two together; got a {type(loader.dataset).__name__}, which streams: draw "
            "samples with aug.sample(n) and mix them into your stream yourself"
        )
    if loader.batch_size is None:
        raise ValueError("wrap needs a loader with automatic batching (batch_size set, no batch_sampler)")
    synthetic_transform = _synthetic_transform(augmenter, synthetic_transform, loader.dataset)
    stratify = check_flag(stratify, "stratify")
    real = loader.dataset
    with torch.random.fork_rng(devices=[]):  # reading items may run the user's random transforms
        real_labels = _dataset_labels(real, verbose=augmenter.verbose)
        # a few items spread over the dataset, for their shape and the range of their values
        items = [real[int(i)] for i in np.unique(np.linspace(0, len(real) - 1, min(len(real), 32)).round())]
    first = items[0][1] if items else None
    _check_batches_with_samples(augmenter, [item[0] for item in items])
    unknown = set(np.unique(real_labels).tolist()) - set(augmenter.classes_.tolist())
    if unknown:
        raise ValueError(
            f"the loader has classes {sorted(unknown, key=str)} the augmenter was not fitted on ({augmenter.classes_.tolist()})"
        )
    values, counts = np.unique(real_labels, return_counts=True)
    per_class = synthetic_counts(
        augmenter.classes_.tolist(), dict(zip(values.tolist(), counts.tolist())), ratio=ratio, balance=balance
    )
    seed = resolve_seed(random_state) if random_state is not None else derived_seed(augmenter.seed_, "wrap")
    pool = _SyntheticPool(augmenter, per_class, refresh=refresh, seed=seed, filter=filter, stratify=stratify)
    # give targets the type the real items have, so default collation works
    pool.target_dtype = first.dtype if isinstance(first, torch.Tensor) else None
    pool.transform = synthetic_transform
    mixed = MixedDataset(real, pool, return_is_synthetic=return_is_synthetic)
    sampler = _like_sampler(loader.sampler, mixed, seed)
    return _MixedLoader(
        mixed,
        batch_size=loader.batch_size,
        sampler=sampler,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        prefetch_factor=loader.prefetch_factor,
        persistent_workers=False,
        generator=torch.Generator().manual_seed(seed),  # worker seeds come from here, not the global stream
    )


def _check_batches_with_samples(augmenter, items: list) -> None:
    """Refuse a loader whose samples have another shape than the augmenter's; warn where their values lie
    elsewhere.

    ``items`` are a few of the loader's samples (``x`` of its ``(x, y)`` items). Another shape would stop the
    loader with a collate error at some later batch. Values far from the range of the data the augmenter was
    fitted on mean the loader scales or normalises its images differently (``uint8`` pixels against floats in
    [0, 1], ``Normalize`` applied to one and not the other): the batches would mix two value spaces. Items that
    are neither tensors nor arrays (PIL images for a custom ``collate_fn``) are left to the loader.
    """
    items = [torch.as_tensor(x) for x in items if isinstance(x, (torch.Tensor, np.ndarray))]
    if not items:
        return
    shape, fitted_shape = tuple(items[0].shape), tuple(augmenter.sample_shape_)
    if shape != fitted_shape:
        raise ValueError(
            f"the loader's samples have shape {shape}, the augmenter's {fitted_shape} (the data it was fitted on): "
            "fit it on what this loader yields, or give the loader the transforms of the fitted data "
            "(torchvision.transforms.v2.Resize for another image size)"
        )
    if not augmenter.images_:  # table rows: each feature has its own range
        return
    low, high = float(augmenter.value_low_.min()), float(augmenter.value_high_.max())
    seen = torch.stack([x.float() for x in items if tuple(x.shape) == shape])
    a, b = float(seen.min()), float(seen.max())
    if ranges_far_apart((a, b), (low, high)):
        warn(
            f"the loader's samples lie in [{a:.3g}, {b:.3g}], the augmenter's in [{low:.3g}, {high:.3g}] (the data "
            "it was fitted on): the batches would mix two value spaces. Fit the augmenter on what this loader "
            "yields (after its ToTensor, ToDtype(scale=True) or Normalize), or give the loader the fitted data's",
            UserWarning,
        )


def _dataset_labels(dataset, *, verbose: int = 0) -> np.ndarray:
    """Labels of a map-style dataset, from what it says where it can: its ``targets`` attribute (torchvision's
    datasets), a ``Subset`` or ``ConcatDataset`` of such, a ``TensorDataset``'s second tensor; else read item by
    item, transforms included (with ``verbose``, a progress bar after :data:`ganaug._validation.READ_BAR_DELAY`
    seconds)."""
    targets = getattr(dataset, "targets", None)
    if targets is not None and len(targets) == len(dataset):
        return np.asarray(targets.cpu() if isinstance(targets, torch.Tensor) else targets)
    if isinstance(dataset, torch.utils.data.Subset):
        return _dataset_labels(dataset.dataset, verbose=verbose)[np.asarray(dataset.indices)]
    if isinstance(dataset, torch.utils.data.ConcatDataset):
        return np.concatenate([_dataset_labels(part, verbose=verbose) for part in dataset.datasets])
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors[1].cpu().numpy()
    labels = []
    reading = range(len(dataset))
    if verbose > 0:
        reading = tqdm(reading, desc="reading the loader's labels", delay=_validation.READ_BAR_DELAY, leave=False)
    for i in reading:
        t = dataset[i][1]
        labels.append(t.item() if isinstance(t, torch.Tensor) else t)
    return np.asarray(labels)


class UntransformedSyntheticWarning(UserWarning):
    """:meth:`ganaug.SyntheticAugmenter.wrap` mixes synthetic samples that get no augmentation into a loader whose
    real images get random transforms."""


def _synthetic_transform(augmenter, given, dataset):
    """What :meth:`ganaug.SyntheticAugmenter.wrap` applies to each synthetic sample: ``given`` (a callable or
    ``None``), or for ``"classical"`` ganaug's own augmentation for the samples' shape bound to their value range.
    ``None`` over a dataset that draws random transforms for the real images warns that the samples get none."""
    if isinstance(given, str):
        if given != "classical":
            raise ValueError(f"synthetic_transform must be a callable, 'classical' or None; got {given!r}")
        if not augmenter.images_:
            raise ValueError("synthetic_transform='classical' augments images; these samples are rows of features")
        return PerSample(classical_for(augmenter.sample_shape_), augmenter.value_low_, augmenter.value_high_)
    if given is not None and not callable(given):
        raise TypeError(f"synthetic_transform must be a callable, 'classical' or None; got {type(given).__name__}")
    drawn = random_transforms(dataset) if given is None else []
    if drawn:
        warn(
            f"the loader's dataset draws random transforms for the real images ({', '.join(drawn)}); the synthetic "
            "samples, drawn in the transformed space, bypass them and get no augmentation. Give them some too: "
            "synthetic_transform='classical' (ganaug's, on tensors: small affine and elastic bends for grey images, "
            "random resized crops and colour jitter for colour ones, as `ganaug compare` augments the synthetic "
            "samples) or a callable on one sample tensor; to keep them as drawn, ignore "
            "ganaug.mixing.UntransformedSyntheticWarning",
            UntransformedSyntheticWarning,
        )
    return given


class _SyntheticPool(SyntheticDataset):
    """The synthetic half of a wrapped loader: a pool redrawn per epoch or kept fixed."""

    def __init__(self, augmenter, per_class: dict, *, refresh: str, seed: int, filter: Callable | None, stratify: bool):
        self.augmenter = augmenter
        self.stratify = stratify
        self.labels = np.concatenate(
            [np.full(n, c, dtype=augmenter.classes_.dtype) for c, n in per_class.items() if n > 0]
            or [np.zeros(0, augmenter.classes_.dtype)]
        )
        self.refresh = refresh
        self.seed = seed
        self.filter = filter
        self.epoch = -1
        self.target_dtype = None
        super().__init__(torch.empty((0,)), [])
        self.draw(0)

    def __getitem__(self, index: int):
        img, target = super().__getitem__(index)
        if self.target_dtype is not None:
            target = torch.tensor(target, dtype=self.target_dtype)
        return img, target

    def draw(self, epoch: int) -> None:
        if epoch == self.epoch or (self.refresh == "fixed" and self.epoch >= 0):
            return
        self.epoch = epoch
        n = len(self.labels)
        x, y = self.augmenter.sample(
            n, y=self.labels if n else None, random_state=self.seed + epoch, stratify=self.stratify
        )
        if self.filter is not None and n:
            x, y = self._filtered(x, y, epoch)
        self.data = torch.as_tensor(x)
        self.targets = list(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y).tolist())

    def _filtered(self, x, y, epoch):
        keep_x, keep_y = [], []
        wanted = {c: int(m) for c, m in zip(*np.unique(self.labels, return_counts=True))}
        for attempt in range(10):
            mask = np.asarray(self.filter(x, y), dtype=bool)
            yv = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
            for c in list(wanted):
                rows = np.where(mask & (yv == c))[0][: wanted[c]]
                if len(rows):
                    keep_x.append(torch.as_tensor(x)[rows])
                    keep_y.append(yv[rows])
                    wanted[c] -= len(rows)
            wanted = {c: m for c, m in wanted.items() if m > 0}
            if not wanted:
                break
            labels = np.concatenate([np.full(m * 2, c) for c, m in wanted.items()])
            x, y = self.augmenter.sample(
                len(labels), y=labels, random_state=self.seed + 7919 * (attempt + 1) + epoch, stratify=self.stratify
            )
        if wanted:
            warn(f"filter kept too few synthetic samples after 10 draws; short by {wanted} per class", UserWarning)
        return torch.cat(keep_x) if keep_x else torch.empty((0,) + tuple(self.augmenter.sample_shape_)), np.concatenate(
            keep_y
        ) if keep_y else np.zeros(0)

    def __getstate__(self):  # workers need the pool, not the GAN
        state = self.__dict__.copy()
        state["augmenter"] = None
        return state

    def __repr__(self) -> str:
        return super().__repr__() + f"\n    Refresh: {self.refresh} (epoch {self.epoch})"


def _like_sampler(sampler, dataset, seed: int):
    """The sampler the user's loader used, rebuilt over the mixed dataset."""
    if isinstance(sampler, DistributedSampler):
        return DistributedSampler(
            dataset,
            num_replicas=sampler.num_replicas,
            rank=sampler.rank,
            shuffle=sampler.shuffle,
            seed=sampler.seed,
            drop_last=sampler.drop_last,
        )
    if isinstance(sampler, RandomSampler):
        return RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    if isinstance(sampler, SequentialSampler):
        return SequentialSampler(dataset)
    balancing = isinstance(sampler, WeightedRandomSampler)  # the usual way to rebalance classes by repetition
    raise ValueError(
        f"wrap supports loaders with shuffle=True/False or a DistributedSampler; got a {type(sampler).__name__}: "
        + (
            "to balance the classes, wrap a shuffled loader with balance=True (the smaller classes are topped up "
            "with synthetic images instead of repeated real ones), or "
            if balancing
            else ""
        )
        + "build the loader over ganaug.MixedDataset yourself to use another sampler"
    )


class _MixedLoader(DataLoader):
    """A DataLoader that redraws its synthetic pool at the start of every epoch."""

    def __iter__(self):
        pool = self.dataset.synthetic
        self._epoch = getattr(self, "_epoch", -1) + 1
        pool.draw(self._epoch)
        if isinstance(self.sampler, DistributedSampler):
            self.sampler.set_epoch(self._epoch)
        return super().__iter__()
