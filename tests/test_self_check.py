"""ganaug.self_check: GANOverSampler(self_check=True) keeps samples that help on held-out rows, else duplicates or
a loss that weighs the classes; SyntheticAugmenter(self_check=True) keeps the ratio and reach that help, else real
data alone."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone

from ganaug import GANConfig, GANOverSampler, SyntheticAugmenter
from ganaug.self_check import (
    SyntheticSamplesWarning,
    check_augmentation,
    held_out_split,
    run_self_check,
)

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def _two_blobs(n0, n1, seed, gap=2.5):
    rng = np.random.RandomState(seed)
    x = np.r_[rng.normal(0, 1, (n0, 4)), rng.normal(gap, 1, (n1, 4))].astype(np.float32)
    return x, np.r_[np.zeros(n0, int), np.ones(n1, int)]


class _Drawn:
    """A fitted-augmenter double whose samples of class k come from ``draw(k, n, rng)``."""

    def __init__(self, draw):
        self.draw, self.generator_ = draw, torch.nn.Linear(1, 1)

    def sample(self, n, y, random_state):
        rng = np.random.RandomState(random_state)
        return np.concatenate([self.draw(int(k), 1, rng) for k in y]), y


def test_held_out_rows_come_from_every_class_of_two_rows_or_more_and_leave_one_behind():
    codes = np.r_[np.zeros(50, int), np.ones(5, int), np.full(2, 2), [3]]
    fit, held = held_out_split(codes, fraction=0.2, seed=0)
    assert np.bincount(codes[held], minlength=4).tolist() == [10, 1, 1, 0]
    assert sorted(np.r_[fit, held].tolist()) == list(range(len(codes)))


@pytest.mark.parametrize("samples", ["faithful", "wrong class"])
def test_the_check_keeps_samples_that_help_and_refuses_samples_that_hurt(samples):
    x, codes = _two_blobs(300, 20, seed=0, gap=2.0)  # overlapping classes: how the small one is filled in matters

    def draw(k, n, rng):  # from the class's own distribution, or from the other class's
        centre = 2.0 * k if samples == "faithful" else 2.0 * (1 - k)
        return rng.normal(centre, 1, (n, 4)).astype(np.float32)

    result = run_self_check(
        x, codes, fit_augmenter=lambda *_: _Drawn(draw), n_classes=2, seed=0, device=torch.device("cpu")
    )
    scores = result["scores"]
    assert set(scores) == {"gan", "duplicates", "class_weighted", "logit_adjusted"} and result["n_held_out"] == 64
    best_baseline = max(v for k, v in scores.items() if k != "gan")
    if samples == "faithful":
        assert result["chosen"] == "gan" and result["loss"] is None
        assert scores["gan"] > best_baseline + 0.05  # balanced held-out probability of the own class
    else:
        assert result["chosen"] != "gan" and scores["gan"] < best_baseline - 0.05
        assert result["loss"] == (result["chosen"] if result["chosen"] != "duplicates" else None)


def test_the_baselines_are_scored_on_more_splits_than_the_gan(monkeypatch):
    import ganaug.self_check

    x, codes = _two_blobs(300, 20, seed=0, gap=2.0)

    def check(n_splits):
        monkeypatch.setattr(ganaug.self_check, "BASELINE_SPLITS", n_splits)
        draw = lambda k, n, rng: rng.normal(2.0 * k, 1, (n, 4)).astype(np.float32)  # noqa: E731
        fit = lambda *_: _Drawn(draw)  # noqa: E731
        return run_self_check(x, codes, fit_augmenter=fit, n_classes=2, seed=0, device=torch.device("cpu"))

    one, three = check(1), check(3)
    assert (one["n_splits"], three["n_splits"]) == (1, 3)
    assert one["scores"]["gan"] == three["scores"]["gan"]  # the GAN is fitted once: its split only
    for baseline in ("duplicates", "class_weighted", "logit_adjusted"):  # the first split's, then the mean of three
        assert one["scores"][baseline] != three["scores"][baseline]


def test_a_check_budget_set_for_a_block_reaches_its_classifiers_and_is_given_back_also_after_an_error(monkeypatch):
    import ganaug.self_check as sc

    before, steps, train = sc.RESAMPLING_CHECK_STEPS, [], sc.train_classifier

    def recording(*args, n_steps, **kwargs):
        steps.append(n_steps)
        return train(*args, n_steps=n_steps, **kwargs)

    monkeypatch.setattr(sc, "train_classifier", recording)
    x, codes = _two_blobs(60, 10, seed=0)
    draw = lambda k, n, rng: rng.normal(2.5 * k, 1, (n, 4)).astype(np.float32)  # noqa: E731
    with pytest.raises(RuntimeError, match="inside the block"):
        with sc.resampling_check_steps(7):
            sc.run_self_check(
                x, codes, fit_augmenter=lambda *_: _Drawn(draw), n_classes=2, seed=0, device=torch.device("cpu")
            )
            raise RuntimeError("inside the block")
    assert len(steps) == 1 + 3 * (1 + len(sc.CHECK_LOSSES)) and set(steps) == {7}
    assert sc.RESAMPLING_CHECK_STEPS == before
    with pytest.raises(ValueError, match="positive integer"):
        with sc.resampling_check_steps(0):
            pass


def _quadrant_images(features):
    """(n, 4) -> (n, 1, 64, 96) images whose four quadrants hold the four features: shrinking them by area averages
    keeps the features, so a classifier of the shrunk images faces the problem of the features."""
    quadrants = features.reshape(-1, 1, 2, 2)
    return np.repeat(np.repeat(quadrants, 32, axis=2), 48, axis=3)


@pytest.mark.parametrize("samples", ["faithful", "wrong class"])
def test_large_images_are_judged_shrunk_to_the_check_side_and_the_samples_still_decide(samples, monkeypatch):
    import ganaug.self_check

    monkeypatch.setattr(ganaug.self_check, "BASELINE_SPLITS", 1)
    monkeypatch.setattr(ganaug.self_check, "RESAMPLING_CHECK_STEPS", 200)
    trained_on, train = [], ganaug.self_check.train_classifier

    def recording(x, *args, **kwargs):
        trained_on.append(tuple(x.shape[1:]))
        return train(x, *args, **kwargs)

    monkeypatch.setattr(ganaug.self_check, "train_classifier", recording)
    features, codes = _two_blobs(300, 20, seed=0, gap=2.0)

    def draw(k, n, rng):  # at the images' own size, as the GAN samples
        centre = 2.0 * k if samples == "faithful" else 2.0 * (1 - k)
        return _quadrant_images(rng.normal(centre, 1, (n, 4)).astype(np.float32))

    result = run_self_check(
        _quadrant_images(features),
        codes,
        fit_augmenter=lambda *_: _Drawn(draw),
        n_classes=2,
        seed=0,
        device=torch.device("cpu"),
    )
    assert trained_on == [(1, 21, 32)] * 4  # 64 x 96 shrunk to a longer side of CHECK_SIDE = 32 px
    assert (result["chosen"] == "gan") == (samples == "faithful"), result["scores"]


@pytest.mark.parametrize("owner", ["GANOverSampler", "SyntheticAugmenter"])
@pytest.mark.parametrize("verbose", [0, 2])
def test_a_verbose_check_shows_a_bar_over_every_classifier_it_trains(owner, verbose, monkeypatch, capsys):
    import ganaug.self_check

    monkeypatch.setattr(ganaug.self_check, "RESAMPLING_CHECK_STEPS", 5)  # how many classifiers, not how good
    monkeypatch.setattr(ganaug.self_check, "CHECK_STEPS", 5)
    x, y = _two_blobs(40, 20, seed=0)
    params = dict(gan=GANConfig(mlp_hidden=16), architecture="mlp", n_steps=2, self_check=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if owner == "GANOverSampler":
            checked = GANOverSampler(**params, verbose=verbose)
            checked.fit_resample(x, y)
            n = 1 + 3 * checked.self_check_["n_splits"]  # the GAN's top-ups, then 3 baselines on each split
        else:
            checked = SyntheticAugmenter(**params, verbose=verbose).fit(x, y)
            n = 4  # real data alone, then the GAN's samples at 3 ratios
    assert len(checked.self_check_["scores"]) == (4 if owner == "GANOverSampler" else n)
    err = capsys.readouterr().err
    if verbose:
        assert "ganaug self-check: 100%" in err and f"{n}/{n} [" in err, err
        # the check's own GAN fit first, under a name of its own; the fit on all the data (if any) as any fit
        assert 0 <= err.find("ganaug self-check: GAN: 100%") < err.find("ganaug self-check: 100%"), err
        final = owner == "SyntheticAugmenter" or checked.augmenter_ is not None
        assert ("ganaug fit: 100%" in err) == final, err
    else:
        assert "self-check" not in err


def test_sampler_falls_back_to_duplicates_of_real_rows_and_says_so(monkeypatch):
    import ganaug.oversampling

    lost = {
        "scores": {"gan": 0.61, "duplicates": 0.64},
        "score": "probability",
        "chosen": "duplicates",
        "reach": None,
        "loss": None,
        "n_held_out": 26,
    }
    monkeypatch.setattr(ganaug.oversampling, "run_self_check", lambda *args, **kw: dict(lost))
    x, y = _two_blobs(120, 12, seed=1)
    bad = GANOverSampler(gan=GANConfig(mlp_hidden=16), architecture="mlp", n_steps=1, self_check=True, random_state=0)
    with pytest.warns(SyntheticSamplesWarning, match=r"gan 0.610, duplicates 0.640.*topped up with duplicates"):
        X_res, y_res = bad.fit_resample(x, y)
    assert bad.augmenter_ is None and bad.generator_ is None
    assert np.bincount(y_res).tolist() == [120, 120] and (X_res[:132] == x).all()
    added = X_res[132:]
    assert all(any((row == x[y == 1]).all(axis=1)) for row in added)  # every added row is a real row of class 1


def test_sampler_adds_nothing_when_a_loss_did_best_and_compare_resampling_trains_with_it(monkeypatch):
    import ganaug.oversampling
    from ganaug.evaluation import compare_resampling

    lost = {
        "scores": {"gan": 0.61, "duplicates": 0.62, "class_weighted": 0.63, "logit_adjusted": 0.70},
        "score": "probability",
        "chosen": "logit_adjusted",
        "reach": None,
        "loss": "logit_adjusted",
        "n_held_out": 26,
        "seconds": {"gan fit": 1.5, "classifiers": 4.0},
    }
    monkeypatch.setattr(ganaug.oversampling, "run_self_check", lambda *args, **kw: dict(lost))
    x, y = _two_blobs(120, 12, seed=1)
    sampler = GANOverSampler(gan=GANConfig(mlp_hidden=16), architecture="mlp", n_steps=1, self_check=True)
    with pytest.warns(SyntheticSamplesWarning, match=r"logit_adjusted loss did better.*nothing was added"):
        X_res, y_res = sampler.fit_resample(x, y)
    assert sampler.augmenter_ is None and (X_res == x).all() and (y_res == y).all()
    assert not sampler.synthetic_mask_.any() and sampler.self_check_["loss"] == "logit_adjusted"
    # in compare_resampling that entry is what its check advised: logit adjustment on the rows as they are
    test = _two_blobs(30, 30, seed=2)
    arms = {"checked": sampler, "logit adjustment": (None, "logit_adjusted"), "plain": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntheticSamplesWarning)
        rows = compare_resampling((x, y), test, arms, seeds=(0,), n_steps=30, verbose=0)
    by = {r["arm"]: r for r in rows}
    assert by["checked"]["self_check"] == "logit_adjusted" and by["checked"]["n_train"] == len(y)
    assert by["checked"]["self_check_seconds"] == lost["seconds"]  # what the check took, reported beside its choice
    assert by["checked"]["per_class_recall"] == by["logit adjustment"]["per_class_recall"]
    assert by["checked"]["per_class_recall"] != by["plain"]["per_class_recall"]


def _self_checked_warp_sampler():
    """A tiny warp GANOverSampler(self_check=True) fitted on 40 + 20 uint8 28x28 images: (sampler, X_res, y_res)."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(60, 1, 28, 28, generator=g) * 255).to(torch.uint8).numpy()
    y = np.r_[np.zeros(40, int), np.ones(20, int)]
    tiny = GANConfig(batch_size=8, g_width=8, d_width=8, latent_dim=16)
    sampler = GANOverSampler(gan=tiny, architecture="warp", n_steps=2, self_check=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X_res, y_res = sampler.fit_resample(x, y)
    return sampler, X_res, y_res


def test_warp_sampler_tries_three_reaches_and_samples_at_the_chosen_one(monkeypatch):
    import ganaug.self_check

    monkeypatch.setattr(ganaug.self_check, "RESAMPLING_CHECK_STEPS", 50)  # what is scored, not how well
    sampler, X_res, y_res = _self_checked_warp_sampler()
    check = sampler.self_check_
    assert check["n_splits"] == 3 and check["score"] == "probability"
    assert set(check["seconds"]) == {"gan fit", "classifiers"} and min(check["seconds"].values()) > 0
    assert sorted(check["scores"]) == [
        "class_weighted",
        "duplicates",
        "gan reach=0.25",
        "gan reach=0.5",
        "gan reach=1",
        "logit_adjusted",
    ]
    added = 0 if check["loss"] else 20  # the small class topped up to 40, unless a loss was chosen
    assert X_res.shape == (60 + added, 1, 28, 28) and X_res.dtype == np.uint8
    if check["reach"] is not None:
        warp = sampler.generator_
        assert warp.max_shift == pytest.approx(warp.trained_max_shift * check["reach"])


def test_sampler_samples_at_the_reach_its_check_chose(monkeypatch):
    import ganaug.oversampling

    chose = {
        "scores": {"gan reach=0.25": 0.9, "duplicates": 0.5},
        "chosen": "gan reach=0.25",
        "reach": 0.25,
        "loss": None,
    }
    monkeypatch.setattr(ganaug.oversampling, "run_self_check", lambda *args, **kw: {**chose, "n_held_out": 12})
    sampler, X_res, y_res = _self_checked_warp_sampler()
    warp = sampler.generator_
    assert warp.reach == 0.25 and warp.max_shift == pytest.approx(warp.trained_max_shift * 0.25)
    assert X_res.shape == (80, 1, 28, 28) and np.bincount(y_res).tolist() == [40, 40]


# -- SyntheticAugmenter(self_check=True) ----------------------------------------------------------------------------


@pytest.mark.parametrize("samples, chosen", [("faithful", "gan"), ("wrong class", "real")])
def test_the_augmentation_check_keeps_samples_that_help_and_refuses_samples_that_hurt(samples, chosen):
    x, codes = _two_blobs(15, 15, seed=0, gap=1.5)  # 12 rows a class to train on: more of the same helps

    def draw(k, n, rng):
        centre = 2.0 * k if samples == "faithful" else 2.0 * (1 - k)
        return rng.normal(centre, 1, (n, 4)).astype(np.float32)

    check = check_augmentation(
        x, codes, fit_augmenter=lambda *_: _Drawn(draw), n_classes=2, seed=0, device=torch.device("cpu")
    )
    assert set(check["scores"]) == {"real", "gan x0.5", "gan x1", "gan x2"} and check["n_held_out"] == 6
    assert check["chosen"].split(" ")[0] == chosen
    assert check["ratio"] == (0.0 if chosen == "real" else float(check["chosen"].split("x")[1]))
    best_gan = max(v for k, v in check["scores"].items() if k != "real")
    if chosen == "real":
        assert check["scores"]["real"] > best_gan + 0.05  # held-out log-likelihood, in nats
    else:
        assert best_gan > check["scores"]["real"]


def test_the_augmenters_check_trains_its_gan_without_the_held_out_rows(monkeypatch):
    import ganaug.augmenter

    seen = {}

    def spying_check(x, codes, *, fit_augmenter, **kw):
        def fit(fx, fc):
            seen["fit"] = fx
            return fit_augmenter(fx, fc)

        seen["result"] = check_augmentation(x, codes, fit_augmenter=fit, **kw)
        return seen["result"]

    monkeypatch.setattr(ganaug.augmenter, "check_augmentation", spying_check)
    x, y = _two_blobs(30, 30, seed=2)
    aug = SyntheticAugmenter(gan=GANConfig(mlp_hidden=16), architecture="mlp", n_steps=2, self_check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        aug.set_params(random_state=0, verbose=0).fit(x, y)
    assert aug.self_check_ == seen["result"] and aug.self_check_["n_held_out"] == 12
    assert (
        set(aug.self_check_["seconds"]) == {"gan fit", "classifiers"} and min(aug.self_check_["seconds"].values()) > 0
    )
    fitted_rows = {row.tobytes() for row in np.asarray(seen["fit"], dtype=np.float32)}
    held = [row for row in x if row.tobytes() not in fitted_rows]
    assert len(seen["fit"]) == 48 and len(held) == 12  # the check's GAN never saw the rows that score it
    assert aug.n_samples_per_class_.tolist() == [30, 30]  # the augmenter itself then trains on all of them


def _checked(monkeypatch, result, **params):
    """A tiny warp SyntheticAugmenter(self_check=True) fitted on 2 x 12 images whose check returns ``result``."""
    import ganaug.augmenter

    monkeypatch.setattr(ganaug.augmenter, "check_augmentation", lambda *a, **kw: dict(result))
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 1, 28, 28, generator=g), torch.arange(24) % 2
    tiny = GANConfig(batch_size=8, g_width=8, d_width=8, latent_dim=16)
    aug = SyntheticAugmenter(gan=tiny, architecture="warp", n_steps=2, self_check=True, random_state=0, verbose=0)
    return aug, x, y


def _wrapped_counts(aug, x, y, **kw):
    from torch.utils.data import DataLoader, TensorDataset

    loader = aug.wrap(DataLoader(TensorDataset(x, y), batch_size=8), return_is_synthetic=True, **kw)
    flags = torch.cat([flag for _, _, flag in loader])
    return int((~flags).sum()), int(flags.sum())


def test_when_real_data_alone_did_best_the_augmenter_says_so_and_wrap_adds_nothing(monkeypatch, tmp_path):
    lost = {
        "scores": {"real": -0.40, "gan x1 reach=1": -0.52},
        "score": "log-likelihood",
        "chosen": "real",
        "ratio": 0.0,
        "reach": None,
        "n_held_out": 6,
        "skipped": False,
    }
    aug, x, y = _checked(monkeypatch, lost)
    with pytest.warns(SyntheticSamplesWarning, match=r"real -0.400, gan x1 reach=1 -0.520.*real data only"):
        aug.fit((x, y))
    assert aug.self_check_ == lost
    assert _wrapped_counts(aug, x, y) == (24, 0)
    assert _wrapped_counts(aug, x, y, ratio=1.0) == (24, 24)  # a ratio given is a ratio kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the file holds the training images
        loaded = SyntheticAugmenter.load(aug.save(tmp_path / "m.pt"))
    assert loaded.self_check_ == lost and _wrapped_counts(loaded, x, y) == (24, 0)


def test_the_augmenter_samples_at_the_reach_and_wraps_at_the_ratio_its_check_chose(monkeypatch, tmp_path):
    won = {
        "scores": {"real": -0.5, "gan x2 reach=0.25": -0.3},
        "score": "log-likelihood",
        "chosen": "gan x2 reach=0.25",
        "ratio": 2.0,
        "reach": 0.25,
        "n_held_out": 6,
        "skipped": False,
    }
    aug, x, y = _checked(monkeypatch, won)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntheticSamplesWarning)  # the samples helped: no warning
        warnings.simplefilter("ignore", UserWarning)
        aug.fit((x, y))
    assert aug.generator_.reach == pytest.approx(0.25)
    assert _wrapped_counts(aug, x, y) == (24, 48)
    unchecked = clone(aug).set_params(self_check=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        unchecked.fit((x, y))
        loaded = SyntheticAugmenter.load(aug.save(tmp_path / "m.pt"))
    assert unchecked.self_check_ is None and unchecked.generator_.reach == pytest.approx(1.0)
    assert _wrapped_counts(unchecked, x, y) == (24, 24)  # without a check: one synthetic sample per real one
    assert loaded.generator_.reach == pytest.approx(0.25) and _wrapped_counts(loaded, x, y) == (24, 48)


def test_by_default_the_sampler_checks_image_arrays_and_not_2d_rows(monkeypatch):
    import ganaug.oversampling

    calls = []

    def recorded(x, codes, **kw):
        calls.append(x.shape)
        return {"scores": {"gan": 0.7}, "score": "probability", "chosen": "gan", "reach": None, "loss": None}

    monkeypatch.setattr(ganaug.oversampling, "run_self_check", recorded)
    tiny = dict(gan=GANConfig(g_width=8, d_width=8, latent_dim=16, batch_size=8, mlp_hidden=16), n_steps=1)
    images = (np.random.RandomState(0).rand(30, 28, 28) * 255).astype(np.uint8)
    table, y = _two_blobs(20, 10, seed=0)
    samplers = {
        "images": (GANOverSampler(**tiny, random_state=0), images),
        "table": (GANOverSampler(**tiny, random_state=0), table),
        "flattened images": (GANOverSampler(**tiny, image_shape=(1, 28, 28), random_state=0), images.reshape(30, -1)),
        "images, False": (GANOverSampler(**tiny, self_check=False, random_state=0), images),
        "table, True": (GANOverSampler(**tiny, self_check=True, random_state=0), table),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for sampler, X in samplers.values():
            sampler.fit_resample(X, y)
    assert GANOverSampler().get_params()["self_check"] == "auto"
    assert calls == [(30, 28, 28), (30, 4)]  # the image array by default, and the table when asked
    ran = {name: sampler.self_check_ is not None for name, (sampler, _) in samplers.items()}
    assert ran == {
        "images": True,
        "table": False,
        "flattened images": False,
        "images, False": False,
        "table, True": True,
    }
    assert samplers["images"][0].self_check_["chosen"] == "gan"
    with pytest.raises(ValueError, match="self_check"):
        GANOverSampler(self_check="yes").fit_resample(table, y)
