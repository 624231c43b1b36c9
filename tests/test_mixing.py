"""ganaug.mixing: SyntheticAugmenter.wrap's loaders of real and synthetic samples."""

import warnings
from collections import Counter

import numpy as np
import pytest
import torch
from conftest import FAST, _loader
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler
from torch.utils.data.distributed import DistributedSampler
from torchvision.transforms import v2

from ganaug import SyntheticAugmenter
from ganaug.mixing import UntransformedSyntheticWarning


def _epoch(loader):
    xs, ys, flags = [], [], []
    for batch in loader:
        xs.append(batch[0])
        ys.append(batch[1])
        if len(batch) == 3:
            flags.append(batch[2])
    return torch.cat(xs), torch.cat(ys), (torch.cat(flags) if flags else None)


@pytest.mark.parametrize("ratio", [0, 0.5, 1, 3])
def test_wrap_ratio_sets_samples_per_epoch_and_class_proportions(fitted, ratio):
    aug, x, y = fitted
    loader = aug.wrap(_loader(x, y, shuffle=True), ratio=ratio, return_is_synthetic=True)
    xs, ys, flags = _epoch(loader)
    assert len(xs) == 60 + round(60 * ratio)
    assert int(flags.sum()) == round(60 * ratio)
    syn = ys[flags]
    assert torch.bincount(syn, minlength=3).tolist() == [round(20 * ratio)] * 3


def test_wrap_balance_tops_up_minority_classes(fitted):
    aug, x, y = fitted
    keep = torch.cat([torch.where(y == 0)[0], torch.where(y == 1)[0][:5], torch.where(y == 2)[0][:10]])
    loader = aug.wrap(_loader(x[keep], y[keep]), ratio=0, balance=True)
    _, ys, _ = _epoch(loader)
    assert torch.bincount(ys).tolist() == [20, 20, 20]
    loader = aug.wrap(_loader(x[keep], y[keep]), ratio=1, balance=True)
    _, ys, _ = _epoch(loader)
    counts = torch.bincount(ys).tolist()
    assert counts[0] == counts[1] == counts[2] == 20 + round(35 / 3)


def test_wrap_keeps_loader_settings(fitted):
    aug, x, y = fitted
    base = _loader(x, y, batch_size=7, shuffle=False, drop_last=True)
    wrapped = aug.wrap(base, ratio=1)
    assert wrapped.batch_size == 7 and wrapped.drop_last and wrapped.collate_fn is base.collate_fn
    assert all(len(b[0]) == 7 for b in wrapped)
    xs, _, _ = _epoch(wrapped)
    assert torch.equal(xs[:56], x[:56])  # no shuffle: real samples first, in order


def test_wrap_refresh_epoch_vs_fixed(fitted):
    aug, x, y = fitted
    fresh = aug.wrap(_loader(x, y), ratio=1, refresh="epoch", return_is_synthetic=True)
    e1, e2 = _epoch(fresh), _epoch(fresh)
    assert not torch.equal(e1[0][e1[2]], e2[0][e2[2]])
    fixed = aug.wrap(_loader(x, y), ratio=1, refresh="fixed", return_is_synthetic=True)
    f1, f2 = _epoch(fixed), _epoch(fixed)
    assert torch.equal(f1[0][f1[2]], f2[0][f2[2]])


def test_wrap_with_workers(fitted):
    aug, x, y = fitted
    loader = aug.wrap(_loader(x, y, num_workers=2), ratio=1)
    xs, ys, _ = _epoch(loader)
    assert len(xs) == 120 and torch.bincount(ys).tolist() == [40, 40, 40]


def test_wrap_distributed_sampler(fitted):
    aug, x, y = fitted
    ds = TensorDataset(x, y)
    seen = []
    for rank in range(2):
        base = DataLoader(ds, batch_size=8, sampler=DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=False))
        wrapped = aug.wrap(base, ratio=1)
        assert isinstance(wrapped.sampler, DistributedSampler)
        seen.append(len(_epoch(wrapped)[0]))
    assert seen == [60, 60]


def test_wrap_filter_keeps_only_accepted(fitted):
    aug, x, y = fitted
    with pytest.warns(UserWarning, match="too few"):  # class 1 is always rejected
        loader = aug.wrap(_loader(x, y), ratio=1, filter=lambda xs, ys: np.asarray(ys) != 1, return_is_synthetic=True)
    _, ys, flags = _epoch(loader)
    assert torch.bincount(ys[flags], minlength=3).tolist() == [20, 0, 20]


def test_wrap_synthetic_transform_touches_only_synthetic_samples(fitted):
    aug, x, y = fitted
    loader = aug.wrap(
        _loader(x, y), ratio=1, return_is_synthetic=True, synthetic_transform=lambda t: torch.full_like(t, -7.0)
    )
    xs, _, flags = _epoch(loader)
    assert int(flags.sum()) == 60 and bool((xs[flags] == -7.0).all())
    assert bool((xs[~flags] >= 0.25).all())  # the real images are as they were
    with pytest.raises(ValueError, match="must be a callable, 'classical' or None; got 'flip'"):
        aug.wrap(_loader(x, y), synthetic_transform="flip")
    with pytest.raises(TypeError, match="must be a callable, 'classical' or None; got int"):
        aug.wrap(_loader(x, y), synthetic_transform=3)


class _Transformed(torch.utils.data.Dataset):
    """(x[i], y[i]) through ``transform``, as a torchvision dataset applies its ``transform``."""

    def __init__(self, x, y, transform):
        self.x, self.targets, self.transform = x, y, transform

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.transform(self.x[i]), self.targets[i]


def test_wrap_warns_when_the_real_images_get_random_transforms_and_the_synthetic_ones_none(fitted):
    aug, x, y = fitted
    crops = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomResizedCrop(28, scale=(0.8, 1.0))])
    with pytest.warns(UntransformedSyntheticWarning, match=r"\(RandomHorizontalFlip, RandomResizedCrop\).*'classical'"):
        aug.wrap(DataLoader(_Transformed(x, y, crops), batch_size=16))
    subset = torch.utils.data.Subset(_Transformed(x, y, crops), range(30))  # found through a Subset too
    with pytest.warns(UntransformedSyntheticWarning, match="RandomHorizontalFlip"):
        aug.wrap(DataLoader(subset, batch_size=16))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntransformedSyntheticWarning)
        aug.wrap(DataLoader(_Transformed(x, y, v2.Compose([v2.CenterCrop(28)])), batch_size=16))  # nothing random
        aug.wrap(DataLoader(_Transformed(x, y, crops), batch_size=16), synthetic_transform="classical")


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_wrap_classical_augments_each_synthetic_sample_within_the_fitted_range(dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(60, 3, 24, 32, generator=g) * 0.5 + 0.25) * (200 if dtype == torch.uint8 else 1)
    y = torch.arange(60) % 3
    aug = SyntheticAugmenter(random_state=0, **FAST).fit((x.to(dtype), y))
    plain = aug.wrap(_loader(x.to(dtype), y), ratio=1, random_state=1).dataset.synthetic
    bent = aug.wrap(_loader(x.to(dtype), y), ratio=1, random_state=1, synthetic_transform="classical").dataset.synthetic
    torch.manual_seed(0)
    pairs = [(plain[i][0], bent[i][0]) for i in range(len(plain))]
    assert all(b.shape == p.shape and b.dtype == dtype for p, b in pairs)
    assert sum(not torch.equal(p, b) for p, b in pairs) == len(pairs)  # every sample augmented
    low, high = aug.value_low_.view(-1, 1, 1), aug.value_high_.view(-1, 1, 1)
    assert all(bool((b.float() >= low - 1e-4).all() and (b.float() <= high + 1e-4).all()) for _, b in pairs)
    torch.manual_seed(0)
    again = [bent[i][0] for i in range(len(bent))]
    assert all(torch.equal(a, b) for a, (_, b) in zip(again, pairs))  # drawn from torch's global stream


def test_wrap_classical_is_refused_for_rows_of_features():
    x, y = torch.rand(60, 5), torch.arange(60) % 3
    aug = SyntheticAugmenter(random_state=0, **FAST).fit((x, y))
    with pytest.raises(ValueError, match="'classical' augments images; these samples are rows of features"):
        aug.wrap(_loader(x, y), synthetic_transform="classical")


def test_wrap_leaves_the_global_rng_alone_with_random_transforms(fitted):
    aug, x, y = fitted

    class Noisy(torch.utils.data.Dataset):  # no `targets`: wrap reads every item, running the transform
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i] + 0.01 * torch.rand(1), int(y[i])

    state = torch.random.get_rng_state()
    aug.wrap(DataLoader(Noisy(), batch_size=8), ratio=1)
    assert torch.equal(state, torch.random.get_rng_state())


def test_wrap_refuses_a_loader_of_another_image_size_naming_both_shapes_and_the_fix(fitted):
    aug, x, y = fitted  # fitted on (1, 28, 28)
    other = torch.nn.functional.interpolate(x, size=(32, 32))
    with pytest.raises(ValueError, match=r"\(1, 32, 32\), the augmenter's \(1, 28, 28\).*Resize"):
        aug.wrap(_loader(other, y, shuffle=True), ratio=1)


@pytest.mark.parametrize(
    "scaled", [lambda x: (x * 255).to(torch.uint8), lambda x: (x - 0.5) / 0.25], ids=["uint8", "normalized"]
)
def test_wrap_warns_when_the_loader_yields_another_value_space_than_the_fitted_data(fitted, scaled):
    aug, x, y = fitted  # fitted on floats in [0.25, 0.75]
    with pytest.warns(UserWarning, match=r"the augmenter's in \[0.25, 0.75\].*mix two value spaces"):
        aug.wrap(_loader(scaled(x), y), ratio=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fitted data's own loader, or a part of it, passes quietly
        aug.wrap(_loader(x, y), ratio=1)
        aug.wrap(_loader(x[:5], y[:5]), ratio=1)


def test_wrap_reads_items_of_a_dataset_without_targets_to_check_their_shape(fitted):
    aug, x, y = fitted

    class Items(torch.utils.data.Dataset):  # numpy items, no `targets`: the same shape and dtype pass
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i].numpy(), int(y[i])

    xs, ys, _ = _epoch(aug.wrap(DataLoader(Items(), batch_size=16), ratio=1))
    assert xs.shape == (120, 1, 28, 28) and xs.dtype == torch.float32 and len(ys) == 120


def test_wrap_refuses_a_streaming_dataset_saying_what_to_do_instead(fitted):
    aug, x, y = fitted

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return zip(x, y)

    with pytest.raises(TypeError, match="map-style dataset .* got a Stream, which streams: draw samples"):
        aug.wrap(DataLoader(Stream(), batch_size=8))


def test_wrap_refuses_a_weighted_sampler_and_names_balance_as_the_gan_way_to_rebalance(fitted):
    aug, x, y = fitted
    weights = torch.where(y == 0, 1.0, 3.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=8, sampler=WeightedRandomSampler(weights, len(y)))
    with pytest.raises(
        ValueError,
        match="got a WeightedRandomSampler: to balance the classes, wrap a shuffled loader "
        "with balance=True .* or build the loader over ganaug.MixedDataset",
    ):
        aug.wrap(loader)


def test_wrap_counts_classes_from_the_targets_of_concatenated_datasets_without_reading_every_image(fitted):
    aug, x, y = fitted

    class Counted(torch.utils.data.Dataset):
        """An image dataset that says its labels (``targets``, as torchvision's do) and counts the items read."""

        def __init__(self, x, y):
            self.x, self.targets, self.reads = x, y.tolist(), 0

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            self.reads += 1
            return self.x[i], self.targets[i]

    half = len(y) // 2
    parts = [Counted(x[:half], y[:half]), Counted(x[half:], y[half:])]
    wrapped = aug.wrap(DataLoader(torch.utils.data.ConcatDataset(parts), batch_size=16), ratio=1)
    assert sum(p.reads for p in parts) <= 32  # the few items checked for their shape and values, not all of them
    xs, ys, _ = _epoch(wrapped)
    assert Counter(ys.tolist()) == {k: 2 * n for k, n in Counter(y.tolist()).items()}  # real + as many synthetic
