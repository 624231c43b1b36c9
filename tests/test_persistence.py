"""ganaug.persistence: model files round-trip, and files written by ganaug 0.1.0 still load and give the samples
they gave then."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.scaling import fit_value_space

DATA = Path(__file__).parent / "data"
# the stored samples were drawn with one CPU thread; more threads round some convolutions differently
pytestmark = pytest.mark.usefixtures("one_torch_thread")
#: How far a sample drawn today may be from the stored one: other CPUs round a few convolutions differently
#: (up to 7e-7 seen), while the right model drawing other samples is off by 7e-4 or more (tiny 0.1.0 test models)
SAME_SAMPLE = 1e-5


@pytest.mark.parametrize("name", ["dcgan", "warp", "mlp"])
def test_model_files_of_0_1_0_load_and_sample_as_they_did(name, tmp_path):
    # written by ganaug 0.1.0 (format 1: every GAN hyperparameter a keyword of its own), with its
    # sample(6, random_state=1) stored beside them
    aug = SyntheticAugmenter.load(DATA / f"model_0.1.0_{name}.pt")
    expected = np.load(DATA / "model_0.1.0_samples.npz")
    x, y = aug.sample(6, random_state=1)
    want = expected[f"{name}_x"]
    np.testing.assert_array_equal(np.asarray(y), expected[f"{name}_y"])  # labels are exact
    if want.dtype.kind in "iu":  # whole-number samples (uint8 images) are exact
        np.testing.assert_array_equal(np.asarray(x), want)
    else:
        np.testing.assert_allclose(np.asarray(x), want, rtol=0, atol=SAME_SAMPLE)
        # other samples cannot meet the tolerance: even the same tiny model's next draw is far from the stored one
        other = np.asarray(aug.sample(6, random_state=2)[0])
        assert np.abs(other - want).max() > 50 * SAME_SAMPLE
    # the flat keywords of 0.1.0 become the estimator's GANConfig
    assert isinstance(aug.gan, GANConfig) and aug.gan.latent_dim == 8 and aug.gan.batch_size == 4
    assert aug.architecture is None and aug.n_steps is None
    # written again by this version, it loads to the same samples
    again = SyntheticAugmenter.load(aug.save(tmp_path / "again.pt"))
    assert torch.equal(torch.as_tensor(np.asarray(again.sample(6, random_state=1)[0])), torch.as_tensor(np.asarray(x)))
    assert again.get_params() == aug.get_params()


def test_a_model_file_holds_only_builtins_and_tensors(tmp_path):
    x, y = torch.rand(12, 1, 28, 28), torch.arange(12) % 2
    aug = SyntheticAugmenter(gan=GANConfig(batch_size=4, g_width=4, d_width=4), n_steps=1, random_state=0, verbose=0)
    path = aug.fit((x, y)).save(tmp_path / "m.pt")
    state = torch.load(path, weights_only=True)  # refuses anything but builtins and tensors
    assert state["format_version"] == 2 and state["params"]["gan"]["batch_size"] == 4
    assert state["params"]["n_steps"] == 1 and state["config"]["architecture"] == "warp"


def test_a_model_that_holds_training_images_says_so_and_warns_on_save(tmp_path):
    x, y = torch.rand(12, 1, 28, 28), torch.arange(12) % 2
    fast = dict(gan=GANConfig(batch_size=4, g_width=4, d_width=4), n_steps=1, random_state=0, verbose=0)
    warp = SyntheticAugmenter(**fast).fit((x, y))
    assert warp.holds_training_images_
    with pytest.warns(UserWarning, match="holds the 12 training images"):
        path = warp.save(tmp_path / "warp.pt")
    loaded = SyntheticAugmenter.load(path)
    assert loaded.holds_training_images_
    # the file does hold them: the generator's exemplars are the training images in [-1, 1]
    _, _, scaled, _, _ = fit_value_space(x, images=True)
    exemplars = loaded.generator_.exemplars
    assert exemplars.shape == x.shape
    assert torch.cdist(scaled.flatten(1), exemplars.flatten(1)).min(1).values.max() < 1e-4
    dcgan = SyntheticAugmenter(**fast, architecture="dcgan").fit((x, y))
    assert not dcgan.holds_training_images_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a model without training images
        dcgan.save(tmp_path / "dcgan.pt")


def test_save_load_round_trip(fitted, tmp_path):
    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    loaded = SyntheticAugmenter.load(path)
    assert torch.equal(aug.sample(7, random_state=5)[0], loaded.sample(7, random_state=5)[0])
    assert loaded.classes_.tolist() == [0, 1, 2]
    assert loaded.get_params() == aug.get_params()
    assert loaded.config_ == aug.config_


def _tiny_warp(resample: str):
    """The 12 random images and a 2-step warp augmenter fitted on them, reading pixels by ``resample``."""
    x, y = torch.rand(12, 1, 28, 28), torch.arange(12) % 2
    gan = GANConfig(batch_size=4, g_width=4, d_width=4, warp_resample=resample)
    return x, SyntheticAugmenter(gan=gan, n_steps=2, random_state=0, verbose=0).fit((x, y))


def _save_warp(aug, path):
    """``aug.save(path)``, which warns that a warp model file holds the training images."""
    with pytest.warns(UserWarning, match="holds the 12 training images"):
        return aug.save(path)


def test_a_reduced_deformation_reach_is_kept_by_the_model_file(tmp_path):
    # GANOverSampler(self_check=True) may bend less far than the generator was trained to; a saved and loaded
    # augmenter must sample at that reach, not the trained one
    from ganaug.self_check import set_reach

    # read bilinearly: a 2-step model bends by less than half a pixel, which nearest reading rounds away
    _, aug = _tiny_warp("bilinear")
    full = aug.sample(8, random_state=3)[0]
    set_reach(aug.generator_, 0.25)
    quarter = aug.sample(8, random_state=3)[0]
    assert not torch.equal(full, quarter)
    loaded = SyntheticAugmenter.load(_save_warp(aug, tmp_path / "quarter.pt"))
    assert loaded.generator_.reach == 0.25
    assert torch.equal(loaded.sample(8, random_state=3)[0], quarter)


def test_a_model_fitted_with_nearest_resampling_loads_and_samples_as_it_did(tmp_path):
    x, aug = _tiny_warp("nearest")
    before = aug.sample(8, random_state=3)[0]
    values = x.flatten().sort().values  # every pixel is an exemplar's (read by nearest), up to the value scaling
    at = torch.searchsorted(values, before.flatten()).clamp(1, len(values) - 1)
    gap = torch.minimum((before.flatten() - values[at - 1]).abs(), (before.flatten() - values[at]).abs())
    assert gap.max() < 1e-5
    loaded = SyntheticAugmenter.load(_save_warp(aug, tmp_path / "nearest.pt"))
    assert loaded.config_.warp_resample == "nearest" and loaded.generator_.resample == "nearest"
    assert torch.equal(loaded.sample(8, random_state=3)[0], before)


def test_a_file_from_before_warp_resample_loads_bilinear_as_it_was_trained(tmp_path):
    # files written before the field existed hold no "warp_resample"; they were trained reading bilinearly,
    # and must not take today's default ("nearest")
    _, aug = _tiny_warp("bilinear")
    before = aug.sample(8, random_state=3)[0]
    path = _save_warp(aug, tmp_path / "bilinear.pt")
    state = torch.load(path, weights_only=True)
    del state["config"]["warp_resample"], state["params"]["gan"]["warp_resample"]
    torch.save(state, path)
    loaded = SyntheticAugmenter.load(path)
    assert loaded.config_.warp_resample == "bilinear" and loaded.gan.warp_resample == "bilinear"
    assert torch.equal(loaded.sample(8, random_state=3)[0], before)
    assert GANConfig().warp_resample == "nearest"  # what the file would have taken without its own value


def test_a_tilde_in_a_path_means_the_home_folder(fitted, tmp_path, monkeypatch):
    aug, _, _ = fitted
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the warp model file holds its training images
        assert aug.save("~/models/m.pt") == home / "models" / "m.pt"
    assert torch.equal(
        SyntheticAugmenter.load("~/models/m.pt").sample(3, random_state=0)[0], aug.sample(3, random_state=0)[0]
    )
    assert aug.export("~/samples", n_per_class=1) == home / "samples"
    assert list(work.iterdir()) == []  # no folder named "~" where the program runs
