"""SyntheticAugmenter: fit, sample, value space, wrap, save/load, export, CLI."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from ganaug import GANConfig, MixedDataset, SyntheticAugmenter
from ganaug.cli import main as cli_main
from ganaug.evaluation import memorisation

FAST = dict(gan=GANConfig(batch_size=8, log_every=1), n_steps=3, verbose=0)


@pytest.fixture(scope="module")
def fitted():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 28, 28, generator=g) * 0.5 + 0.25  # values in [0.25, 0.75]
    y = torch.arange(60) % 3
    return SyntheticAugmenter(random_state=0, **FAST).fit((x, y)), x, y


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


# -- wrap -----------------------------------------------------------------------------------
def _loader(x, y, **kw):
    return DataLoader(TensorDataset(x, y), batch_size=kw.pop("batch_size", 16), **kw)


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
    with pytest.raises(TypeError, match="synthetic_transform must be callable"):
        aug.wrap(_loader(x, y), synthetic_transform="flip")


def test_mixed_dataset_pickles(fitted):
    aug, x, y = fitted
    mixed = aug.wrap(_loader(x, y), ratio=1).dataset
    again = pickle.loads(pickle.dumps(mixed))
    assert isinstance(again, MixedDataset) and len(again) == len(mixed)
    assert torch.equal(again[100][0], mixed[100][0])
    assert "60 real + 60 synthetic" in repr(mixed)


# -- persistence ----------------------------------------------------------------------------
def test_save_load_round_trip(fitted, tmp_path):
    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    loaded = SyntheticAugmenter.load(path)
    assert torch.equal(aug.sample(7, random_state=5)[0], loaded.sample(7, random_state=5)[0])
    assert loaded.classes_.tolist() == [0, 1, 2]
    assert loaded.get_params() == aug.get_params()
    assert loaded.config_ == aug.config_


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


def test_load_refuses_damaged_and_newer_files(fitted, tmp_path):
    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pt"):
        SyntheticAugmenter.load(tmp_path / "cut.pt")
    state = torch.load(path, weights_only=True)
    state["format_version"] = 99
    torch.save(state, tmp_path / "new.pt")
    with pytest.raises(ValueError, match="newer than this ganaug"):
        SyntheticAugmenter.load(tmp_path / "new.pt")


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/ganaug_payload_ran",))


def test_load_refuses_pickle_payload_without_running_it(fitted, tmp_path):
    import os

    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    state = torch.load(path, weights_only=True)
    state["evil"] = _Payload()
    torch.save(state, tmp_path / "evil.pt")
    if os.path.exists("/tmp/ganaug_payload_ran"):
        os.unlink("/tmp/ganaug_payload_ran")
    with pytest.raises(ValueError, match="refused without loading"):
        SyntheticAugmenter.load(tmp_path / "evil.pt")
    assert not os.path.exists("/tmp/ganaug_payload_ran")


def test_export_png_and_npz(fitted, tmp_path):
    from PIL import Image

    aug, _, _ = fitted
    aug.export(tmp_path / "png", n_per_class=2)
    files = sorted(p.relative_to(tmp_path / "png").parts[0] for p in (tmp_path / "png").rglob("*.png"))
    assert files == ["0", "0", "1", "1", "2", "2"]
    img = Image.open(next((tmp_path / "png" / "1").iterdir()))
    assert img.size == (28, 28) and img.mode == "L"
    path = aug.export(tmp_path / "npz", n_per_class=3, format="npz")
    with np.load(path) as f:
        assert f["x"].shape == (9, 1, 28, 28) and f["y"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_cli_fit_sample_round_trip(tmp_path, capsys):
    from ganaug.io import write_idx

    rng = np.random.RandomState(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.randint(0, 256, (20, 28, 28)).astype(np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 2)
    assert (
        cli_main(
            ["fit", str(tmp_path), "--out", str(tmp_path / "m.pt"), "--steps", "2", "--batch-size", "4", "--quiet"]
        )
        == 0
    )
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "3", "--out", str(tmp_path / "out")]) == 0
    from torchvision.datasets import ImageFolder

    folder = ImageFolder(str(tmp_path / "out"))
    assert folder.classes == ["0", "1"] and len(folder) == 6
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "2", "--class", "1", "--out", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["1"]
    # and back: fit on the ImageFolder tree the CLI wrote
    assert (
        cli_main(
            [
                "fit",
                str(tmp_path / "out"),
                "--out",
                str(tmp_path / "m2.pt"),
                "--steps",
                "1",
                "--batch-size",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "1", "--class", "9", "--out", str(tmp_path / "x")]) == 2
    assert "unknown class" in capsys.readouterr().err
    args = [
        "fit",
        str(tmp_path),
        "--out",
        str(tmp_path / "w.pt"),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--quiet",
        "--architecture",
        "warp",
    ]
    assert cli_main(args) == 0
    assert SyntheticAugmenter.load(tmp_path / "w.pt").config_.architecture == "warp"


def test_gan_hyperparameters_are_reached_as_nested_parameters():
    aug = SyntheticAugmenter()
    deep = aug.get_params(deep=True)
    assert deep["gan"] is None and deep["gan__loss"] == "nonsaturating" and deep["gan__n_steps"] == "auto"
    aug.set_params(gan__lr_g=1e-3, gan__batch_size=16)  # works while gan is None: a fresh GANConfig is made
    assert aug.gan == GANConfig(lr_g=1e-3, batch_size=16)
    other = SyntheticAugmenter()
    assert other.gan is None  # nothing shared between instances
    copy = clone(aug)
    assert copy.gan == aug.gan and copy.gan is not aug.gan
    copy.set_params(gan__lr_g=5e-4)
    assert aug.gan.lr_g == 1e-3  # a clone's config is its own
    # the shortcut keywords replace the config's value when given, and only then
    assert SyntheticAugmenter(gan=GANConfig(n_steps=10))._gan_config().n_steps == 10
    assert SyntheticAugmenter(gan=GANConfig(n_steps=10), n_steps=20)._gan_config().n_steps == 20


def test_config_resolves_auto_settings_for_the_data(fitted):
    aug, _, _ = fitted
    assert aug.config_.architecture == "warp" and aug.config_.aux_weight == 3.0
    assert aug.config_.diversity_weight == 1.0 and aug.config_.real_augment == 0.0
    assert SyntheticAugmenter().set_params(gan__n_steps="auto")._gan_config().resolve(images=True).n_steps == 500
    assert GANConfig().resolve(images=False).n_steps == 1500  # the MLP needs longer fits
    assert aug.holds_training_images_
    dcgan = SyntheticAugmenter(random_state=0, architecture="dcgan", **FAST).fit(
        (torch.rand(8, 1, 28, 28), np.arange(8) % 2)
    )
    assert dcgan.config_.diversity_weight == 0.3 and not dcgan.holds_training_images_
    per_class = SyntheticAugmenter(random_state=0, strategy="per_class", **FAST).fit(
        (torch.rand(8, 1, 28, 28), np.arange(8) % 2)
    )
    assert per_class.config_.architecture == "dcgan"  # the warp generator is class-conditional
    # flat features: the MLP below 5 classes, the offset generator from 5 classes on
    rows = np.random.RandomState(0).normal(size=(40, 3))
    flat = SyntheticAugmenter(random_state=0, **FAST).fit(rows, np.arange(40) % 4)
    assert flat.config_.architecture == "mlp" and flat.config_.aux_weight == 0.0
    assert flat.config_.diversity_weight == 0.0 and not flat.holds_training_images_
    assert flat.discriminator_.aux is None  # no auxiliary classifier is built at weight 0
    many = SyntheticAugmenter(random_state=0, **FAST).fit(rows, np.arange(40) % 5)
    assert many.config_.architecture == "offset" and many.config_.aux_weight == 0.0
    assert many.config_.diversity_weight == 1.0 and many.holds_training_images_
    flat_per_class = SyntheticAugmenter(random_state=0, strategy="per_class", **FAST).fit(rows, np.arange(40) % 5)
    assert flat_per_class.config_.architecture == "mlp"  # the offset generator is class-conditional
    assert FAST["gan"].aux_weight == "auto"  # the estimator's own config is left as given


def test_wrap_leaves_the_global_rng_alone_with_random_transforms(fitted):
    aug, x, y = fitted

    class Noisy(torch.utils.data.Dataset):  # no `targets`: wrap reads every item, running the transform
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i] + torch.rand(1), int(y[i])

    state = torch.random.get_rng_state()
    aug.wrap(DataLoader(Noisy(), batch_size=8), ratio=1)
    assert torch.equal(state, torch.random.get_rng_state())


def test_digits_loader_pads_or_fills_the_frame_with_the_same_split():
    from ganaug.io import load_digits_28

    (pad, y_pad), (pad_te, _) = load_digits_28(mode="pad")
    (big, y_big), (big_te, _) = load_digits_28(mode="resize")
    assert pad.shape == big.shape == (898, 1, 28, 28) and len(pad_te) == len(big_te) == 899
    assert np.array_equal(y_pad, y_big)  # the split does not depend on the mode
    assert pad[:, :, :10].max() == 0 and pad[:, :, 18:].max() == 0  # an 8x8 digit in a zero frame
    assert big[:, :, :10].max() > 0 and big[:, :, 18:].max() > 0  # the digit fills the 28x28 frame
    with pytest.raises(ValueError, match="mode must be 'pad' or 'resize'"):
        load_digits_28(mode="crop")
