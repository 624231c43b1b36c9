"""ganaug.config: GANConfig, its auto settings, nested parameters and FIELD=VALUE assignments."""

import numpy as np
import pytest
import torch
from conftest import FAST
from sklearn.base import clone

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.config import parse_assignment


def test_parse_assignment_reads_json_values_and_refuses_unknown_fields():
    assert parse_assignment("warp_shift=0.25") == ("warp_shift", 0.25)
    assert parse_assignment("architecture=warp") == ("architecture", "warp")
    assert parse_assignment("betas=[0.0, 0.9]") == ("betas", [0.0, 0.9])
    assert parse_assignment("amp=false") == ("amp", False)
    assert parse_assignment("ratio=2", fields=("ratio",)) == ("ratio", 2)
    with pytest.raises(ValueError, match="unknown field 'warp_shfit'"):
        parse_assignment("warp_shfit=0.25")
    with pytest.raises(ValueError, match="FIELD=VALUE"):
        parse_assignment("warp_shift")


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
