"""ganaug.datasets: the datasets wrap builds."""

import pickle

import torch
from conftest import _loader

from ganaug import MixedDataset


def test_mixed_dataset_pickles(fitted):
    aug, x, y = fitted
    mixed = aug.wrap(_loader(x, y), ratio=1).dataset
    again = pickle.loads(pickle.dumps(mixed))
    assert isinstance(again, MixedDataset) and len(again) == len(mixed)
    assert torch.equal(again[100][0], mixed[100][0])
    assert "60 real + 60 synthetic" in repr(mixed)
