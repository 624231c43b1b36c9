"""ganaug.diffaugment: differentiable augmentation of the discriminator's inputs."""

import torch

from ganaug.diffaugment import diff_augment


def test_diffaugment_is_seeded_and_keeps_shape():
    x = torch.linspace(-1, 1, 2 * 3 * 28 * 28).view(2, 3, 28, 28)
    ops = ("color", "translation", "cutout")
    a = diff_augment(x, ops, torch.Generator().manual_seed(0))
    b = diff_augment(x, ops, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)
