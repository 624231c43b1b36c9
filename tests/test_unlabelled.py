"""Fits with unlabelled data: what they change, the two ways of passing it, the pseudo-labels, bad input,
and the comparison's self-training baseline."""

import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.evaluation import AffineElastic, compare_augmentation
from ganaug.unlabelled import collect_inputs, pseudo_label, split_unlabelled

pytestmark = pytest.mark.filterwarnings("ignore:classes .* have fewer than:UserWarning")


def _blobs(n_per_class: int, seed: int):
    """Two classes of 28x28 uint8 images anyone can tell apart: a bright square top left or bottom right."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 40, size=(2 * n_per_class, 1, 28, 28)).astype(np.uint8)
    y = np.repeat([0, 1], n_per_class)
    for i, label in enumerate(y):
        r, c = rng.integers(2, 6, size=2) + (0 if label == 0 else 14)
        x[i, 0, r : r + 8, c : c + 8] = 255
    return x, y


def _gan(**fields):
    cfg = dict(batch_size=8, pseudo_label_steps=40)
    cfg.update(fields)
    return SyntheticAugmenter(gan=GANConfig(**cfg), n_steps=4, random_state=0, verbose=0, device="cpu")


def _state(aug):
    return {k: v.clone() for k, v in aug.generator_.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def data():
    x, y = _blobs(6, seed=0)
    xu, yu = _blobs(30, seed=1)
    return x, y, xu, yu


def _fit_without_the_unlabelled_path(x, y):
    """The generator a fit of ``_gan()`` trains, assembled from the modelling pieces alone (as fits were before
    unlabelled data existed): scaling, the models, their seeded initialisation and the trainer."""
    from ganaug._validation import derived_seed
    from ganaug.models import build_models, init_weights
    from ganaug.scaling import fit_value_space
    from ganaug.training import GANTrainer

    cfg = _gan().gan.resolve(images=True, n_classes=2)
    cfg = GANConfig(**{**cfg.to_dict(), "n_steps": 4})
    _, _, scaled, _, _ = fit_value_space(torch.as_tensor(x, dtype=torch.float32), images=True)
    labels = torch.as_tensor(y, dtype=torch.long)
    with torch.random.fork_rng(devices=[]):
        g, d = build_models(cfg, 2, tuple(scaled.shape[1:]))
    init = torch.Generator().manual_seed(derived_seed(0, "init"))
    init_weights(g, init)
    init_weights(d, init)
    g.set_exemplars(scaled, labels)
    trainer = GANTrainer(g, d, cfg, device="cpu", seed=derived_seed(0, "train"))
    return {k: v.clone() for k, v in trainer.fit(scaled, labels, n_classes=2, verbose=0).G_ema.state_dict().items()}


def test_without_unlabelled_data_a_fit_is_unchanged_bit_for_bit(data):
    x, y, _, _ = data
    plain = _gan().fit(x, y)
    # the pieces alone give the very same generator: the unlabelled path adds no row, label or random draw
    assert _same(_state(plain), _fit_without_the_unlabelled_path(x, y))
    assert _same(_state(plain), _state(_gan().fit(x, y, unlabelled=None)))
    assert plain.n_pseudo_labelled_.tolist() == [0, 0]
    # the same draws as a fit through the tuple form: the unlabelled path adds no draw from any random stream
    assert np.array_equal(plain.sample(8, random_state=3)[0], _gan().fit((x, y)).sample(8, random_state=3)[0])


def test_unlabelled_images_join_the_training_set_with_correct_labels_and_change_the_generator(data):
    x, y, xu, yu = data
    plain = _gan().fit(x, y)
    semi = _gan().fit(x, y, unlabelled=xu)
    joined = semi.n_pseudo_labelled_
    assert joined.sum() > 10 and joined[0] == joined[1]  # balanced over the classes
    assert semi.generator_.exemplars.shape[0] == len(y) + joined.sum()  # the warp generator bends them too
    assert not _same(_state(plain), _state(semi))
    # the labels they joined under are right: every stored exemplar of class k (labelled or not) is a class-k image
    g = semi.generator_
    assert g.class_count.tolist() == (joined + 6).tolist()
    ex = g.exemplars
    top_left = ex[:, 0, :14, :14].mean(dim=(1, 2)) > ex[:, 0, 14:, 14:].mean(dim=(1, 2))
    assert torch.equal(top_left, torch.arange(len(ex)) < g.class_count[0])
    # samples and counts keep the labelled data's classes, shape and dtype
    xs, ys = semi.sample(6)
    assert xs.shape == (6, 1, 28, 28) and xs.dtype == np.uint8 and sorted(set(ys.tolist())) == [0, 1]
    assert semi.n_samples_per_class_.tolist() == [6, 6]


def test_minus_one_labels_and_the_unlabelled_keyword_give_the_same_model(data):
    x, y, xu, _ = data
    by_keyword = _gan().fit(x, y, unlabelled=xu)
    marked = _gan().fit(np.concatenate([x, xu]), np.concatenate([y, np.full(len(xu), -1)]))
    assert _same(_state(by_keyword), _state(marked))
    assert by_keyword.fit_fingerprint_ == marked.fit_fingerprint_ == _gan().fit(x, y).fit_fingerprint_
    # a DataLoader of inputs and a Dataset of 1-tuples read the same images
    loader = DataLoader(torch.as_tensor(xu), batch_size=7)
    assert _same(_state(_gan().fit(x, y, unlabelled=loader)), _state(by_keyword))
    assert _same(_state(_gan().fit(x, y, unlabelled=TensorDataset(torch.as_tensor(xu)))), _state(by_keyword))


def test_a_model_fitted_with_unlabelled_data_saves_and_loads(data, tmp_path):
    x, y, xu, _ = data
    semi = _gan().fit(x, y, unlabelled=xu)
    with pytest.warns(UserWarning, match="training images"):
        path = semi.save(tmp_path / "semi.pt")
    again = SyntheticAugmenter.load(path)
    assert again.n_pseudo_labelled_.tolist() == semi.n_pseudo_labelled_.tolist()
    assert np.array_equal(again.sample(5, random_state=1)[0], semi.sample(5, random_state=1)[0])


def _bad_cases(x, y, xu):
    return {
        "shape": (dict(unlabelled=xu[:, :, :20, :20]), ValueError, "shape"),
        "channels": (dict(unlabelled=np.repeat(xu, 3, axis=1)), ValueError, "shape"),
        "dtype": (dict(unlabelled=xu.astype(np.float32) / 255), TypeError, "dtype"),
        "empty": (dict(unlabelled=xu[:0]), ValueError, "empty"),
        "labels passed": (dict(unlabelled=TensorDataset(torch.as_tensor(xu), torch.zeros(len(xu)))), ValueError, "inputs only"),
        "tuple": (dict(unlabelled=(xu, np.zeros(len(xu)))), TypeError, "no labels"),
    }  # fmt: skip


@pytest.mark.parametrize("case", ["shape", "channels", "dtype", "empty", "labels passed", "tuple"])
def test_bad_unlabelled_data_is_refused_clearly_and_leaves_nothing_half_fitted(data, case):
    x, y, xu, _ = data
    kwargs, error, words = _bad_cases(x, y, xu)[case]
    fresh = _gan()
    with pytest.raises(error, match=words):
        fresh.fit(x, y, **kwargs)
    assert not hasattr(fresh, "generator_")
    fitted = _gan().fit(x, y)
    before = _state(fitted)
    with pytest.raises(error, match=words):
        fitted.fit(x, y, **kwargs)
    assert _same(before, _state(fitted)) and fitted.n_pseudo_labelled_.tolist() == [0, 0]


def test_every_row_unlabelled_is_refused(data):
    x, _, _, _ = data
    with pytest.raises(ValueError, match="every row has y == -1"):
        _gan().fit(x, np.full(len(x), -1))
    with pytest.raises(ValueError, match="relabel a class named -1"):  # -1 used as a class name: say so
        _gan().fit(x, np.where(np.arange(len(x)) % 2 == 0, -1, 1))


def test_pseudo_labels_keep_only_confident_rows_balanced_over_classes():
    x, y = _blobs(10, seed=2)
    xu, yu = _blobs(40, seed=3)
    xu, yu = xu[:70], yu[:70]  # 40 of class 0, 30 of class 1
    scale = lambda a: torch.as_tensor(a, dtype=torch.float32) / 127.5 - 1  # noqa: E731
    index, labels, conf = pseudo_label(
        scale(x),
        torch.as_tensor(y),
        scale(xu),
        n_classes=2,
        threshold=0.9,
        n_steps=60,
        seed=0,
        device=torch.device("cpu"),
    )
    assert bool((conf >= 0.9).all())
    assert torch.equal(labels, torch.as_tensor(yu)[index])  # separable images: every kept label is right
    counts = torch.bincount(labels, minlength=2).tolist()
    assert counts[0] == counts[1] and 20 <= counts[0] <= 30  # capped at the median class's count
    none, _, _ = pseudo_label(
        scale(x),
        torch.as_tensor(y),
        scale(xu),
        n_classes=2,
        threshold=1.0,
        n_steps=1,
        seed=0,
        device=torch.device("cpu"),
    )
    assert none.numel() == 0  # nothing is that sure after one step: nothing joins


def test_split_unlabelled_reads_arrays_datasets_and_marked_rows():
    x = torch.arange(6.0).view(6, 1)
    labels = np.array([0, -1, 1, 0, -1, 1])
    xl, yl, xu = split_unlabelled(x, labels, dtype="float32", unlabelled=torch.tensor([[9.0]]))
    assert xl.flatten().tolist() == [0.0, 2.0, 3.0, 5.0] and yl.tolist() == [0, 1, 0, 1]
    assert xu.flatten().tolist() == [1.0, 4.0, 9.0]  # marked rows first, then the keyword's
    assert split_unlabelled(x, np.array(["a", "b"] * 3), dtype="float32")[2] is None  # string labels: nothing is marked
    assert collect_inputs(np.zeros((2, 3), dtype=np.float64))[1] == "float64"


def test_unlabelled_images_in_another_value_space_than_the_labelled_ones_are_warned_about():
    import warnings

    x, labels = torch.rand(6, 1, 8, 8), np.array([0, 1] * 3)  # floats in [0, 1]
    with pytest.warns(UserWarning, match=r"the unlabelled images lie in \[-\d.*\], the labelled ones in \[0"):
        split_unlabelled(x, labels, dtype="float32", unlabelled=(x - 0.5) / 0.25)  # Normalize on one side only
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same transform on both sides: quiet
        split_unlabelled(x, labels, dtype="float32", unlabelled=torch.rand(4, 1, 8, 8))
        split_unlabelled(torch.arange(6.0).view(6, 1), labels, dtype="float32", unlabelled=torch.tensor([[90.0]]))


@pytest.mark.slow
def test_compare_adds_self_training_and_the_gan_with_unlabelled_data(data):
    x, y, xu, yu = data
    xt, yt = _blobs(20, seed=4)
    report = compare_augmentation(
        (x, y),
        (xt, yt),
        _gan(),
        ratios=(0, 1),
        classical=AffineElastic(),
        seeds=(0, 1),
        n_steps=40,
        verbose=0,
        unlabelled=xu,
    )
    arms = {r["arm"] for r in report.rows}
    assert {"self_training", "gan+unlabelled", "classical+gan+unlabelled", "gan_only+unlabelled"} <= arms
    st = [r for r in report.rows if r["arm"] == "self_training"]
    assert all(r["classical"] and r["n_synthetic"] > 0 for r in st)  # pseudo-labelled rows joined the real ones
    only = {r["arm"]: r["n_synthetic"] for r in report.rows if r["seed"] == 0 and r["arm"].startswith("gan_only")}
    assert only["gan_only+unlabelled"] > only["gan_only"] == len(y)  # as many as each GAN trained on
    lines = {line["arm"]: line for line in report.summary()}
    assert lines["self_training"]["delta_vs_self_training"] == 0.0
    assert "Δ vs self-training" in report.to_markdown()
    json.dumps(report.to_dict())
    chosen = compare_augmentation(
        (x, y), (xt, yt), _gan(), ratios=(0, 1), seeds=(0, 1), n_steps=5, verbose=0, unlabelled=xu,
        arms=["self_training", "gan_only+unlabelled"],
    )  # fmt: skip
    assert {r["arm"] for r in chosen.rows} == {"self_training", "gan_only+unlabelled"}


def test_compare_with_unlabelled_data_refuses_leaks_and_what_it_cannot_do(data):
    from sklearn.linear_model import LogisticRegression

    x, y, xu, _ = data
    xt, yt = _blobs(5, seed=4)
    args = dict(seeds=(0, 1), n_steps=2, verbose=0)
    with pytest.raises(ValueError, match="overlaps the test set"):
        compare_augmentation((x, y), (xt, yt), _gan(), unlabelled=np.concatenate([xu, xt[:2]]), **args)
    with pytest.raises(ValueError, match="estimator"):
        compare_augmentation((x, y), (xt, yt), _gan(), unlabelled=xu, estimator=LogisticRegression(), **args)
    with pytest.raises(ValueError, match="not fitted yet"):
        compare_augmentation((x, y), (xt, yt), _gan().fit(x, y), unlabelled=xu, **args)
    with pytest.raises(TypeError, match="value space"):
        compare_augmentation((x, y), (xt, yt), _gan(), unlabelled=xu.astype(np.float32), **args)
    with pytest.raises(ValueError, match="not among"):
        compare_augmentation((x, y), (xt, yt), _gan(), arms=["self_training"], **args)  # no unlabelled data


def test_resume_refuses_checkpoints_of_a_fit_with_other_unlabelled_data(data, tmp_path):
    x, y, xu, _ = data
    _gan().set_params(checkpoint_dir=tmp_path, checkpoint_every=2).fit(x, y, unlabelled=xu)
    resumed = _gan().set_params(checkpoint_dir=tmp_path, n_steps=6).fit(x, y, unlabelled=xu, resume=True)
    assert resumed.n_steps_ == 6  # the same unlabelled data: it continues
    for other in (xu[:-1], None):
        with pytest.raises(ValueError, match="other unlabelled data"):
            _gan().set_params(checkpoint_dir=tmp_path, n_steps=6).fit(x, y, unlabelled=other, resume=True)


def test_pseudo_labelled_images_are_bent_at_their_own_size_too():
    """At 80 x 100 px the warp generator keeps every image it trains on at full size, the joined unlabelled ones too."""
    x, y = _blobs(20, seed=0)
    big = torch.nn.functional.interpolate(torch.as_tensor(x).float(), size=(80, 100)).round().to(torch.uint8)
    aug = _gan().fit((big, torch.as_tensor(y)), unlabelled=big[::4])  # 5 of each class
    joined = int(aug.n_pseudo_labelled_.sum())
    assert joined > 0
    assert aug.generator_.native_codes.shape == (40 + joined, 1, 80, 100)
    assert aug.sample(4, random_state=0)[0].shape == (4, 1, 80, 100)
