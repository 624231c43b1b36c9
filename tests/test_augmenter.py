"""SyntheticAugmenter: fit and sample, value spaces, bad input, and the warp architecture's samples."""

import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader, TensorDataset

from ganaug import GANConfig, SyntheticAugmenter
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


@pytest.mark.parametrize(
    "data, message",
    [
        ((torch.rand(0, 1, 28, 28), torch.zeros(0)), "empty"),
        ((torch.full((4, 1, 28, 28), float("nan")), torch.tensor([0, 1, 0, 1])), "NaN"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0.5, 1.0, 0.0, 1.0])), "labels must be integers"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0, 0, 0, 0])), "at least 2 classes"),
        ((torch.rand(4, 1, 96, 96), torch.tensor([0, 1, 0, 1])), "supported square sizes"),
        ((torch.rand(4, 28, 28, 3), torch.tensor([0, 1, 0, 1])), "channels-first"),
        ((torch.rand(4, 2, 3, 28, 28), torch.tensor([0, 1, 0, 1])), "dimensions"),
        ((torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 0])), "same length"),
    ],
)
def test_bad_input_is_refused_with_advice(data, message):
    with pytest.raises(ValueError, match=message):
        SyntheticAugmenter(**FAST).fit(data)


def test_bad_fit_argument_type():
    with pytest.raises(TypeError, match="DataLoader, a Dataset"):
        SyntheticAugmenter(**FAST).fit(42)


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
