"""ganaug.evaluation.filtering: quality gating of synthetic samples."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import TINY_GAN, _quiet_fit
from torch import nn

from ganaug import SyntheticAugmenter
from ganaug.evaluation import SyntheticFilter, filter_synthetic

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


class _Brightness(nn.Module):
    """Class 1 when an image's mean is above 0.5, with probability sigmoid(20 (mean - 0.5))."""

    def forward(self, x):
        m = x.flatten(1).mean(1) - 0.5
        return torch.stack([-10 * m, 10 * m], dim=1)


def test_filter_keeps_confident_samples_of_the_intended_class():
    x = torch.stack([torch.full((1, 4, 4), v) for v in (0.0, 0.45, 0.55, 1.0)])
    gate = SyntheticFilter(_Brightness(), min_confidence=0.9)
    assert gate.confidence(x, [1, 1, 1, 1]) == pytest.approx(
        torch.sigmoid(torch.tensor([-10.0, -1.0, 1.0, 10.0])).numpy(), rel=1e-5
    )
    assert gate(x, [0, 0, 1, 1]).tolist() == [True, False, False, True]
    assert gate(x.numpy(), np.array([1, 1, 1, 1])).tolist() == [False, False, False, True]
    kept_x, kept_y = filter_synthetic(x, torch.tensor([0, 1, 1, 1]), _Brightness(), 0.5)
    assert kept_y.tolist() == [0, 1, 1] and torch.equal(kept_x, x[[0, 2, 3]])
    named = SyntheticFilter(_Brightness(), 0.5, classes=["dark", "light"])
    assert named(x, np.array(["dark", "light", "light", "dark"])).tolist() == [True, False, True, False]
    again = pickle.loads(pickle.dumps(gate))
    assert again(x, [0, 0, 1, 1]).tolist() == [True, False, False, True]
    with pytest.raises(ValueError, match="min_confidence must be a probability"):
        SyntheticFilter(_Brightness(), 1.5)
    with pytest.raises(ValueError, match="not one of the classifier's classes"):
        named(x, ["dark", "grey", "light", "light"])


def test_filter_plugs_into_wrap_and_every_kept_sample_passes():
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    X = torch.cat([torch.rand(30, 1, 28, 28, generator=g) * 0.5, 0.5 + torch.rand(30, 1, 28, 28, generator=g) * 0.5])
    y = torch.tensor([0] * 30 + [1] * 30)
    aug = _quiet_fit(SyntheticAugmenter(**{**TINY_GAN, "n_steps": 5}, random_state=0), (X, y))
    gate = SyntheticFilter(_Brightness(), min_confidence=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an untrained GAN may fall short of samples
        loader = aug.wrap(
            DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True), ratio=0.5, filter=gate, random_state=0
        )
        batches = list(loader)
    pool = loader.dataset.synthetic
    if len(pool):
        assert gate(pool.data, pool.targets).all()
    assert sum(len(b[1]) for b in batches) == 60 + len(pool)
