"""SyntheticAugmenter: fit and sample, value spaces, bad input, and the warp architecture's samples."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from conftest import FAST, _loader
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader, TensorDataset

from ganaug import GANConfig, SyntheticAugmenter
from ganaug._validation import to_float_tensor
from ganaug.evaluation import memorisation


def test_init_only_stores_and_clones():
    # invalid, but only stored
    aug = SyntheticAugmenter(n_steps=-5, architecture="nope", strategy="both", random_state=3)
    assert aug.get_params()["n_steps"] == -5
    assert clone(aug).get_params() == aug.get_params()
    data = (torch.rand(10, 1, 28, 28), torch.arange(10) % 2)
    with pytest.raises(ValueError, match="architecture must be None or one of 'auto', 'dcgan'"):
        aug.fit(data)
    with pytest.raises(ValueError, match="n_steps must be None or an integer >= 1; got -5"):
        aug.set_params(architecture=None).fit(data)
    with pytest.raises(ValueError, match="strategy must be one of 'conditional', 'per_class'; got 'both'"):
        aug.set_params(n_steps=2).fit(data)
    with pytest.raises(ValueError, match="distributed must be one of 'auto', False; got 'yes'"):
        aug.set_params(strategy="conditional", distributed="yes").fit(data)
    with pytest.raises(TypeError, match="gan must be a ganaug.GANConfig or None; got dict"):
        aug.set_params(distributed="auto", gan={"loss": "hinge"})._gan_config()
    with pytest.raises(ValueError, match="gan must be None or a GANConfig; got"):
        aug.fit(data)
    with pytest.raises(ValueError, match="loss must be one of 'nonsaturating'"):
        GANConfig(loss="nope")


def test_sample_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        SyntheticAugmenter().sample(3)


def test_fitted_attributes(fitted):
    aug, x, y = fitted
    assert aug.classes_.tolist() == [0, 1, 2]
    assert aug.sample_shape_ == (1, 28, 28)
    assert aug.n_samples_per_class_.tolist() == [20, 20, 20]
    assert aug.n_steps_ == 3
    assert len(aug.history_["d_loss"]) == 3 and len(aug.history_["diversity"]) == 3


def test_sample_balanced_by_default_and_in_value_range(fitted):
    aug, x, _ = fitted
    xs, ys = aug.sample(9)
    assert xs.shape == (9, 1, 28, 28) and xs.dtype == torch.float32
    assert ys.tolist() == [0, 1, 2] * 3
    assert xs.min() >= x.min() - 1e-6 and xs.max() <= x.max() + 1e-6


def test_sample_label_forms(fitted):
    aug, _, _ = fitted
    assert aug.sample(4, y=2)[1].tolist() == [2, 2, 2, 2]
    assert aug.sample(3, y=[0, 2, 1])[1].tolist() == [0, 2, 1]
    assert aug.sample(0)[0].shape == (0, 1, 28, 28)
    with pytest.raises(ValueError, match=r"known classes are \[0, 1, 2\]"):
        aug.sample(2, y=7)
    with pytest.raises(ValueError, match="n labels"):
        aug.sample(3, y=[0, 1])


def test_sample_random_state_reproducible(fitted):
    aug, _, _ = fitted
    a, _ = aug.sample(5, random_state=11)
    b, _ = aug.sample(5, random_state=11)
    c, _ = aug.sample(5, random_state=12)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_same_seed_same_samples_different_seed_different_samples(fitted):
    aug, x, y = fitted
    again = SyntheticAugmenter(random_state=0, **FAST).fit((x, y))
    other = SyntheticAugmenter(random_state=1, **FAST).fit((x, y))
    assert torch.equal(aug.sample(6, random_state=0)[0], again.sample(6, random_state=0)[0])
    assert not torch.equal(aug.sample(6, random_state=0)[0], other.sample(6, random_state=0)[0])


def test_value_space_follows_normalisation():
    # images normalised as in the pytorch MNIST example: samples come back in that space
    g = torch.Generator().manual_seed(0)
    raw = torch.rand(30, 1, 28, 28, generator=g)
    norm = (raw - 0.1307) / 0.3081
    aug = SyntheticAugmenter(random_state=0, **FAST).fit((norm, torch.arange(30) % 2))
    xs, _ = aug.sample(50)
    assert xs.min() >= norm.min() - 1e-5 and xs.max() <= norm.max() + 1e-5
    assert torch.allclose(aug.value_low_, norm.amin(dim=(0, 2, 3))) and torch.allclose(
        aug.value_high_, norm.amax(dim=(0, 2, 3))
    )


@pytest.mark.parametrize("side", [28, 32])
def test_colour_images_keep_each_channels_range(side):
    # three channels on very different scales: every channel of a sample stays in its own range
    g = torch.Generator().manual_seed(0)
    x = torch.rand(12, 3, side, side, generator=g)
    x[:, 1] = x[:, 1] * 10 + 10
    x[:, 2] = x[:, 2] - 5
    aug = SyntheticAugmenter(random_state=0, **FAST).fit((x, torch.arange(12) % 2))
    xs, _ = aug.sample(6)
    assert xs.shape == (6, 3, side, side)
    lo, hi = x.amin(dim=(0, 2, 3)), x.amax(dim=(0, 2, 3))
    for c in range(3):
        assert lo[c] - 1e-4 <= xs[:, c].min() and xs[:, c].max() <= hi[c] + 1e-4


def test_numpy_uint8_in_numpy_uint8_out_and_string_labels():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(20, 28, 28)).astype(np.uint8)  # (N, H, W) grey
    y = np.array(["cat", "dog"] * 10)
    aug = SyntheticAugmenter(random_state=0, **FAST).fit(X, y)
    xs, ys = aug.sample(4, y="dog")
    assert isinstance(xs, np.ndarray) and xs.dtype == np.uint8 and xs.shape == (4, 28, 28)
    assert ys.tolist() == ["dog"] * 4
    assert aug.classes_.tolist() == ["cat", "dog"]


def test_a_read_only_array_is_copied_not_shared():
    # what pandas' copy-on-write frames and memory-mapped arrays hand over; torch would share it with a warning of
    # undefined behaviour (once a process, so the copy is what is checked)
    X = np.random.RandomState(0).rand(30, 12).astype(np.float32)
    X.setflags(write=False)
    t = to_float_tensor(X)
    t += 1
    assert np.array_equal(X + 1, t.numpy())
    assert SyntheticAugmenter(random_state=0, **FAST).fit(X, np.arange(30) % 3).sample(2)[0].shape == (2, 12)


def test_uint8_images_are_held_as_uint8_by_a_fit_and_not_shared_with_the_callers_array():
    """A fit on many large uint8 images never holds them as float32 (four times the bytes); its own uint8 copy is
    what the warp generator bends at full size, so writing into the caller's array afterwards changes nothing."""
    # the peak of a process (ru_maxrss, KiB on Linux) is measured in a process of its own
    script = """
import resource, numpy as np
from ganaug import SyntheticAugmenter
X = np.random.default_rng(0).integers(0, 256, (1000, 3, 224, 224), dtype=np.uint8)
y = np.repeat([0, 1], 500)
SyntheticAugmenter(n_steps=1, random_state=0, verbose=0).fit((X[::100], y[::100]))  # libraries loaded
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
aug = SyntheticAugmenter(n_steps=1, random_state=0, verbose=0).fit((X, y))
rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
first = aug.sample(4, random_state=1)[0]
X[:] = 0
print(rise, X.nbytes, np.array_equal(first, aug.sample(4, random_state=1)[0]))
"""
    pytest.importorskip("resource")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    rise, nbytes, unchanged = int(out[0]), int(out[1]), out[2] == "True"
    assert rise < 4 * nbytes, (
        f"the fit's peak rose by {rise / 2**20:.0f} MiB, a float32 copy is {4 * nbytes / 2**20:.0f}"
    )
    assert unchanged


@pytest.mark.parametrize("architecture", [None, "offset"])
def test_flat_features_stay_in_range(architecture):
    rng = np.random.RandomState(0)
    X = rng.normal(5, 2, size=(50, 6))
    y = rng.randint(0, 2, 50)
    aug = SyntheticAugmenter(random_state=0, architecture=architecture, **FAST).fit(X, y)
    xs, ys = aug.sample(10)
    assert xs.shape == (10, 6) and xs.dtype == np.float64
    assert (xs >= X.min(0) - 1e-6).all() and (xs <= X.max(0) + 1e-6).all()


def test_offset_generator_moves_training_rows_of_their_class_within_its_bound(tmp_path):
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 1, (30, 4)), rng.normal(6, 2, (30, 4))]
    y = np.repeat([0, 1], 30)
    gan = GANConfig(
        architecture="offset", mlp_hidden=32, latent_dim=8, batch_size=16, offset_scale=0.5, ema_decay=0, lr_g=1e-3
    )
    aug = SyntheticAugmenter(gan=gan, n_steps=100, random_state=0, verbose=0).fit(X, y)
    assert aug.config_.diversity_weight == 1.0 and aug.holds_training_images_
    xs, ys = aug.sample(60)
    std = X.std(0)  # the features are standardised over all rows
    for cls in (0, 1):
        rows = X[y == cls]
        # (samples, rows): the largest per-feature gap, in standard deviations, to each training row of the class
        gap = (np.abs(xs[ys == cls][:, None, :] - rows[None]) / std).max(2)
        assert (gap.min(1) <= 0.5 + 1e-4).all()  # each sample is a row of its own class moved by at most offset_scale
        assert (gap.min(1) > 1e-4).all()  # and moved: no sample is a copy (a copy is off by float rounding only)
    check = memorisation(X, xs, np.r_[rng.normal(0, 1, (10, 4)), rng.normal(6, 2, (10, 4))])  # runs on rows too
    assert check["exact_copy_share"] == 0.0 and len(check["synthetic_nn"]) == 60
    with pytest.warns(UserWarning, match="holds the 60 training rows the offset generator moves"):
        path = aug.save(tmp_path / "offset.pt")
    again = SyntheticAugmenter.load(path)
    assert again.generator_.exemplars.shape == (60, 4)
    np.testing.assert_array_equal(again.sample(5, random_state=1)[0], aug.sample(5, random_state=1)[0])
    with pytest.raises(ValueError, match="class-conditional"):
        SyntheticAugmenter(gan=gan, strategy="per_class", n_steps=1, verbose=0).fit(X, y)


def test_fit_accepts_dataloader_and_dataset(fitted):
    _, x, y = fitted
    ds = TensorDataset(x, y)
    a = SyntheticAugmenter(random_state=0, **FAST).fit(DataLoader(ds, batch_size=16, shuffle=False))
    b = SyntheticAugmenter(random_state=0, **FAST).fit(ds)
    assert a.fit_fingerprint_ == b.fit_fingerprint_
    assert torch.equal(a.sample(3, random_state=0)[0], b.sample(3, random_state=0)[0])


class _Stream(torch.utils.data.IterableDataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        return iter(zip(self.x, self.y))


def _read_ways(x, y):
    """Loaders and datasets over (x, y), each with the rows they yield, in order."""
    ds = TensorDataset(x, y)
    subset = list(range(3, 40, 2))
    sampler = torch.utils.data.SubsetRandomSampler(subset, generator=torch.Generator().manual_seed(0))
    chosen = list(iter(torch.utils.data.SubsetRandomSampler(subset, generator=torch.Generator().manual_seed(0))))
    batches = torch.utils.data.BatchSampler(range(len(x)), batch_size=7, drop_last=False)
    return [
        (DataLoader(ds, batch_size=16), list(range(len(x)))),
        (DataLoader(ds, batch_size=16, drop_last=True), list(range(len(x) // 16 * 16))),
        (DataLoader(ds, batch_size=8, sampler=sampler), chosen),
        (DataLoader(ds, batch_sampler=batches), list(range(len(x)))),
        (DataLoader(_Stream(x, y), batch_size=16), list(range(len(x)))),
        (ds, list(range(len(x)))),
    ]


def test_every_way_of_reading_yields_the_rows_in_order_and_holds_them_once():
    """A loader or dataset whose length is known is read into one array as it comes (a list of batches joined at
    the end held every sample twice): every kind of loader gives its rows, in the order it yields them."""
    from ganaug._validation import collect_xy

    x, y = torch.rand(60, 1, 8, 8), torch.arange(60) % 3
    for data, rows in _read_ways(x, y):
        xs, ys, _, _ = collect_xy(data)
        assert torch.equal(xs, x[rows]) and np.array_equal(ys, y[rows].numpy()), data
    script = """
import resource, torch
from torch.utils.data import DataLoader, TensorDataset
from ganaug._validation import collect_xy
X = torch.rand(1000, 3, 224, 224)
y = torch.arange(1000) % 2
collect_xy(DataLoader(TensorDataset(X[:10], y[:10]), batch_size=4))  # libraries loaded
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
x = collect_xy(DataLoader(TensorDataset(X, y), batch_size=64))[0]
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, X.nbytes)
"""
    pytest.importorskip("resource")  # ru_maxrss: the process's peak (KiB on Linux), in a process of its own
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    rise, nbytes = int(out[0]), int(out[1])
    assert rise < 1.5 * nbytes, f"reading rose the peak by {rise / 2**20:.0f} MiB for {nbytes / 2**20:.0f} MiB of data"


@pytest.mark.slow
def test_a_fit_on_a_loader_of_float_images_holds_them_about_once():
    """Normalised images (ToTensor then Normalize: 256 values a channel) are kept one byte a value for the warp
    generator; finding those values and coding the images go a slice at a time (a channel flattened and sorted
    whole made two more copies of it)."""
    script = """
import resource, torch
from torch.utils.data import DataLoader, TensorDataset
from ganaug import SyntheticAugmenter
X = torch.randint(0, 256, (600, 3, 224, 224), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
X = X.float().div_(255).sub_(0.45).div_(0.22)
y = torch.arange(600) % 2
SyntheticAugmenter(n_steps=1, random_state=0, verbose=0).fit((X[::99], y[::99]))  # libraries loaded
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
aug = SyntheticAugmenter(n_steps=1, random_state=0, verbose=0).fit(DataLoader(TensorDataset(X, y), batch_size=64))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, X.nbytes, aug.generator_.native_codes.dtype)
"""
    pytest.importorskip("resource")  # ru_maxrss: the process's peak (KiB on Linux), in a process of its own
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    rise, nbytes = int(out[0]), int(out[1])
    assert out[2] == "torch.uint8"
    assert rise < 2 * nbytes, f"the fit rose the peak by {rise / 2**20:.0f} MiB for {nbytes / 2**20:.0f} MiB of images"


@pytest.mark.parametrize(
    "data, message",
    [
        ((torch.rand(0, 1, 28, 28), torch.zeros(0)), "empty"),
        ((torch.full((4, 1, 28, 28), float("nan")), torch.tensor([0, 1, 0, 1])), "NaN"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0.5, 1.0, 0.0, 1.0])), "labels must be integers"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0, 0, 0, 0])), "at least 2 classes"),
        ((torch.rand(4, 1, 600, 96), torch.tensor([0, 1, 0, 1])), "over the 512 px a side"),
        ((torch.rand(4, 1, 4, 96), torch.tensor([0, 1, 0, 1])), "too small for the image models"),
        ((torch.rand(4, 2, 28, 28), torch.tensor([0, 1, 0, 1])), "1 or 3 channels"),
        ((torch.rand(4, 28, 28, 3), torch.tensor([0, 1, 0, 1])), "channels-first"),
        ((torch.rand(4, 2, 3, 28, 28), torch.tensor([0, 1, 0, 1])), "dimensions"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 0])), "same length"),
        ((torch.rand(4, 1, 28, 28), torch.eye(2)[[0, 1, 0, 1]]), r"a column per class .*y.argmax\(1\)"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([True, False, True, False])), r"got bool \(cast"),
    ],
)
def test_bad_input_is_refused_with_advice(data, message):
    with pytest.raises(ValueError, match=message):
        SyntheticAugmenter(**FAST).fit(data)


def test_bad_fit_argument_type():
    with pytest.raises(TypeError, match="DataLoader, a Dataset"):
        SyntheticAugmenter(**FAST).fit(42)


def test_a_fit_on_data_whose_transforms_draw_at_random_warns_that_the_gan_sees_one_draw():
    from torchvision.transforms import v2

    class Transformed(torch.utils.data.Dataset):
        def __init__(self, transform):
            self.x, self.transform = torch.rand(24, 1, 28, 28), transform

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.transform(self.x[i]), i % 2

    flips = Transformed(v2.Compose([v2.RandomHorizontalFlip(), v2.ToDtype(torch.float32)]))
    for data in (flips, DataLoader(flips, batch_size=8)):
        with pytest.warns(UserWarning, match=r"draw at random \(RandomHorizontalFlip\).*only the fixed transforms"):
            SyntheticAugmenter(random_state=0, **FAST).fit(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SyntheticAugmenter(random_state=0, **FAST).fit(Transformed(v2.Compose([v2.ToDtype(torch.float32)])))


def test_a_dataset_of_dicts_is_refused_with_its_keys_and_the_pairs_it_needs():
    class Dicts(torch.utils.data.Dataset):  # the Hugging Face style of item
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"image": torch.rand(1, 28, 28), "label": i % 2}

    for data in (Dicts(), DataLoader(Dicts(), batch_size=2)):
        with pytest.raises(ValueError, match=r"got dict with keys \['image', 'label'\]: hand over pairs"):
            SyntheticAugmenter(**FAST).fit(data)


def test_one_hot_labels_from_a_loader_or_a_dataset_are_refused_with_the_argmax_that_fixes_them():
    x, y = torch.rand(8, 1, 28, 28), torch.nn.functional.one_hot(torch.arange(8) % 2, 2)  # int64, as one_hot gives
    with pytest.raises(ValueError, match=r"shape \(4, 2\), a column per class"):
        SyntheticAugmenter(**FAST).fit(DataLoader(TensorDataset(x, y), batch_size=4))
    with pytest.raises(ValueError, match=r"dataset item 0 has a label of shape \(2,\).*y.argmax\(\)"):
        SyntheticAugmenter(**FAST).fit(TensorDataset(x, y))


def test_single_class_works_per_class():
    aug = SyntheticAugmenter(strategy="per_class", random_state=0, **FAST).fit(
        (torch.rand(10, 1, 28, 28), torch.zeros(10, dtype=torch.long))
    )
    assert aug.sample(3)[1].tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "architecture, expect",
    [(None, "bent into new shapes"), ("dcgan", "close copies"), ("offset", "rows moved by learned offsets")],
)
def test_few_examples_warns_and_says_what_to_expect(architecture, expect):
    y = torch.tensor([0] * 20 + [1] * 2 + [2] * 10)
    x = torch.rand(32, 1, 28, 28) if architecture != "offset" else torch.rand(32, 6)
    with pytest.warns(UserWarning, match=r"classes \{1: 2\} have fewer than 10 examples; .*" + expect):
        aug = SyntheticAugmenter(random_state=0, architecture=architecture, **FAST).fit((x, y))
    assert aug.sample(2, y=1)[1].tolist() == [1, 1]


# -- the warp architecture ----------------------------------------------------------------------------


@pytest.mark.parametrize("stroke", [0.0, 0.5])
def test_warp_architecture_fits_samples_and_round_trips(tmp_path, stroke):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(30, 1, 28, 28, generator=g) * 0.5 + 0.25
    y = torch.arange(30) % 3
    fast = {**FAST, "gan": GANConfig(batch_size=8, log_every=1, warp_stroke=stroke)}
    aug = SyntheticAugmenter(architecture="warp", random_state=0, **fast).fit((x, y))
    xs, ys = aug.sample(9, y=[2] * 9, random_state=1)
    assert xs.shape == (9, 1, 28, 28) and set(ys.tolist()) == {2}
    # deformed training images (thickened or thinned: blends with their 3x3 max / min), in their value range
    assert xs.min() >= 0.25 - 1e-5 and xs.max() <= 0.75 + 1e-5
    loaded = SyntheticAugmenter.load(aug.save(tmp_path / "warp.pt"))
    # same samples; the fitted generator keeps channels-last weights on the CPU, the loaded one does not (rounding)
    assert torch.allclose(loaded.sample(9, y=[2] * 9, random_state=1)[0], xs, atol=1e-5)


def test_warp_samples_use_every_training_image_of_their_class_equally_often():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(30, 1, 28, 28, generator=g)
    y = torch.arange(30) % 3
    aug = SyntheticAugmenter(architecture="warp", random_state=0, **FAST).fit((x, y))
    last = aug.generator_.flow[-2]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)  # no displacement: every sample is the training image it picked
    for n, y_req in [(60, None), (40, [1] * 40)]:  # 20 of each class (10 images each); 40 of class 1
        xs, ys = aug.sample(n, y=y_req, random_state=1)
        dist = torch.cdist(xs.flatten(1), x.flatten(1))
        assert dist.min(1).values.max() < 0.1  # other training images lie about 11 away
        picked = dist.argmin(1)
        assert torch.equal(y[picked], ys)
        counts = torch.bincount(picked, minlength=30)
        assert counts[y == ys[0]].tolist() == [n // len(set(ys.tolist())) // 10] * 10
        if y_req is None:
            assert counts.tolist() == [2] * 30
    independent = torch.cdist(aug.sample(60, random_state=1, stratify=False)[0].flatten(1), x.flatten(1)).argmin(1)
    # independent picks repeat some images, miss others
    assert torch.bincount(independent, minlength=30).tolist() != [2] * 30
    with pytest.raises(TypeError, match="stratify"):
        aug.sample(3, stratify="yes")
    # a wrapped loader's pools follow wrap's stratify, epoch after epoch
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    for stratify in (True, False):
        wrapped = aug.wrap(loader, ratio=2.0, return_is_synthetic=True, random_state=3, stratify=stratify)
        for _ in range(2):
            syn = torch.cat([xb[flag] for xb, _, flag in wrapped])
            counts = torch.bincount(torch.cdist(syn.flatten(1), x.flatten(1)).argmin(1), minlength=30).tolist()
            assert (counts == [2] * 30) == stratify
    with pytest.raises(TypeError, match="stratify"):
        aug.wrap(loader, stratify=None)


# -- images as they are: any size and shape, colour, any value space -------------------------------------------
def _stripes(n=8, height=96, width=128):
    """Colour uint8 images of one-pixel stripes (a pattern the 24 x 32 working size cannot hold), 2 classes."""
    rows = torch.arange(height).view(1, 1, height, 1) % 2
    cols = torch.arange(width).view(1, 1, 1, width) % 2
    y = torch.arange(n) % 2
    x = torch.where(y.view(n, 1, 1, 1) == 0, rows.expand(n, 3, height, width), cols.expand(n, 3, height, width))
    tint = torch.arange(n * 3).view(n, 3, 1, 1) * 7 % 60
    return (x * 150 + 50 + tint).to(torch.uint8), y


def test_colour_rectangles_come_back_at_their_own_size_and_dtype():
    x, y = _stripes()
    aug = SyntheticAugmenter(**FAST).fit((x, y))
    assert aug._model_shape_ == (3, 24, 32)  # the networks work small ...
    xs, ys = aug.sample(6, random_state=0)
    assert xs.shape == (6, 3, 96, 128) and xs.dtype == torch.uint8  # ... the samples are the images' own size
    assert aug.generator_.native_codes.dtype == torch.uint8  # the training images kept one byte a value


def test_samples_keep_detail_finer_than_the_working_size():
    """With the displacement field at zero a sample is its training image, pixel for pixel, at 96 x 128."""
    x, y = _stripes()
    aug = SyntheticAugmenter(**FAST).fit((x, y))
    last = aug.generator_.flow[-2]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    xs, ys = aug.sample(8, random_state=0)
    training = {img.numpy().tobytes(): int(label) for img, label in zip(x, y)}
    assert all(training.get(img.numpy().tobytes()) == int(label) for img, label in zip(xs, ys))


def test_normalised_colour_rectangles_are_sampled_in_the_loaders_value_space():
    x, y = _stripes(height=40, width=70)
    mean, std = (
        torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1),
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1),
    )
    xn = (x / 255.0 - mean) / std
    aug = SyntheticAugmenter(**FAST).fit(DataLoader(TensorDataset(xn, y), batch_size=4))
    xs, _ = aug.sample(10, random_state=0)
    assert xs.shape == (10, 3, 40, 70) and xs.dtype == torch.float32
    low, high = xn.amin((0, 2, 3)).view(1, 3, 1, 1), xn.amax((0, 2, 3)).view(1, 3, 1, 1)
    assert (xs >= low - 1e-5).all() and (xs <= high + 1e-5).all()


def test_a_native_size_model_saves_and_loads_with_the_same_samples(tmp_path):
    x, y = _stripes(height=72, width=40)
    aug = SyntheticAugmenter(**FAST).fit((x, y))
    aug.save(tmp_path / "m.pt")
    back = SyntheticAugmenter.load(tmp_path / "m.pt")
    assert back.generator_.native_codes.dtype == torch.uint8
    assert torch.equal(aug.sample(5, random_state=3)[0], back.sample(5, random_state=3)[0])


def test_the_dcgan_generates_rectangles_and_refuses_over_128_px():
    x, y = _stripes(height=32, width=96)
    xs, _ = SyntheticAugmenter(architecture="dcgan", **FAST).fit((x, y)).sample(3, random_state=0)
    assert xs.shape == (3, 3, 32, 96)
    with pytest.raises(ValueError, match="up to 128 px a side.*architecture='warp'"):
        SyntheticAugmenter(architecture="dcgan", **FAST).fit(_stripes(height=96, width=160))


class _MixedSizes(torch.utils.data.Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return torch.rand(3, 30 + i % 2, 40), i % 2


@pytest.mark.parametrize("as_loader", [False, True])
def test_images_of_different_sizes_are_refused_naming_the_transform_that_fixes_it(as_loader):
    data = DataLoader(_MixedSizes(), batch_size=3) if as_loader else _MixedSizes()
    with pytest.raises(ValueError, match="different shapes.*Resize\\(\\(H, W\\)\\)"):
        SyntheticAugmenter(**FAST).fit(data)


def test_a_client_with_an_image_folder_normalize_and_resnet18(tmp_path):
    """PNG glyphs on disk, torchvision's ImageFolder and transforms.v2 with ImageNet statistics, wrap, resnet18."""
    from conftest import load_benchmark
    from torchvision import datasets, models
    from torchvision.transforms import v2

    families = load_benchmark("image_families")
    pix, labels, _ = families.render_glyphs((48, 40), colour=True, fonts=families.font_files()[:3])
    from ganaug.images import write_image_folder

    keep = labels < 3
    write_image_folder(tmp_path, torch.as_tensor(pix[keep]), labels[keep])
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])
    folder = datasets.ImageFolder(str(tmp_path), transform=transform)
    loader = DataLoader(folder, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
    aug = SyntheticAugmenter(**FAST, random_state=0).fit(loader)
    wrapped = aug.wrap(loader, ratio=1.0, return_is_synthetic=True)
    net = models.resnet18(num_classes=len(folder.classes))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    real = torch.stack([folder[i][0] for i in range(len(folder))])
    lo, hi = real.amin((0, 2, 3)), real.amax((0, 2, 3))
    seen_synthetic = 0
    for step, (xb, yb, synthetic) in enumerate(wrapped):
        assert xb.shape[1:] == (3, 48, 40) and xb.dtype == torch.float32
        fake = xb[synthetic]
        seen_synthetic += len(fake)
        assert (fake.amin((0, 2, 3)) >= lo - 1e-5).all() and (fake.amax((0, 2, 3)) <= hi + 1e-5).all()
        loss = torch.nn.functional.cross_entropy(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 3:
            break
    assert seen_synthetic > 0 and torch.isfinite(loss)


@pytest.mark.parametrize(
    "architecture, strategy, shape",
    [
        (None, "conditional", (1, 28, 28)),  # the warp generator
        ("dcgan", "conditional", (1, 28, 28)),
        ("dcgan", "per_class", (1, 28, 28)),
        (None, "conditional", (12,)),  # rows: the MLP generator
    ],
)
def test_a_fitted_augmenter_pickles_whole_and_goes_on_drawing_the_same_samples(architecture, strategy, shape):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(60, *shape, generator=g), torch.arange(60) % 3
    aug = SyntheticAugmenter(architecture=architecture, strategy=strategy, **FAST).fit((x, y))
    aug.sample(4)  # the copy continues the sample stream from here
    back = pickle.loads(pickle.dumps(aug))
    assert torch.equal(aug.sample(7)[0], back.sample(7)[0])
    # the discriminator (spectral norm: torch pickles no parametrized module) comes back with its weights
    weights, copied = aug.discriminator_.state_dict(), back.discriminator_.state_dict()
    assert weights.keys() == copied.keys() and all(torch.equal(weights[k], copied[k]) for k in weights)
    assert "_discriminator_weights" not in vars(back)


def test_a_long_read_of_the_training_data_shows_its_progress(monkeypatch, capsys):
    import ganaug._validation

    monkeypatch.setattr(ganaug._validation, "READ_BAR_DELAY", 0.0)  # as if each batch took seconds to read
    g = torch.Generator().manual_seed(0)
    loader = _loader(torch.rand(64, 1, 28, 28, generator=g), torch.arange(64) % 2)  # 4 batches of 16
    SyntheticAugmenter(random_state=0, **{**FAST, "verbose": 1}).fit(loader)
    err = capsys.readouterr().err
    assert "reading the data" in err and "/4 [" in err  # counted in batches, of 4
    SyntheticAugmenter(random_state=0, **FAST).fit(loader)  # verbose=0: silent
    assert "reading the data" not in capsys.readouterr().err
