"""The GAN actually learns on small data, and the one-line integration into a
pytorch/examples-style MNIST script."""

import time

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from ganaug import SyntheticAugmenter
from ganaug.io import subsample_per_class, write_idx


@pytest.mark.slow
def test_gan_learns_class_faithful_digits_from_30_per_class(mnist_sample):
    from sklearn.linear_model import LogisticRegression

    X, y = mnist_sample
    train = subsample_per_class(y, 30, seed=0)
    rest = np.setdiff1d(np.arange(len(y)), train)
    # judge: a classifier trained on *other* real images
    judge = LogisticRegression(max_iter=200).fit(X[rest].reshape(len(rest), -1) / 255.0, y[rest])
    t0 = time.perf_counter()
    aug = SyntheticAugmenter(n_steps=1000, random_state=0, verbose=0).fit((X[train], y[train]))
    fit_s = time.perf_counter() - t0
    xs, ys = aug.sample(500, random_state=1)
    agreement = (judge.predict(xs.reshape(500, -1) / 255.0) == ys).mean()
    # what training taught: the untrained generator (one step) hands back its exemplars barely bent
    untrained = SyntheticAugmenter(n_steps=1, random_state=0, verbose=0).fit((X[train], y[train]))
    moved, moved_untrained = (
        _from_nearest(xs, X[train]),
        _from_nearest(untrained.sample(500, random_state=1)[0], X[train]),
    )
    print(
        f"\n30/class, 1000 steps: fit {fit_s:.1f} s, judge agreement {agreement:.3f}, "
        f"RMS distance to the nearest training image {moved:.3f} (untrained {moved_untrained:.3f})"
    )
    assert xs.dtype == np.uint8 and xs.shape == (500, 1, 28, 28)
    assert agreement >= 0.80  # class-faithful ...
    assert moved >= 0.1 and moved >= 2 * moved_untrained  # ... and new shapes, not the training images returned
    assert min(aug.history_["diversity"]) > 0.2  # no class collapsed to one image


def _from_nearest(samples: np.ndarray, train: np.ndarray) -> float:
    """Mean over samples of the RMS pixel distance (pixels in [0, 1]) to the nearest training image."""
    a = torch.as_tensor(samples.reshape(len(samples), -1) / 255.0, dtype=torch.float32)
    b = torch.as_tensor(train.reshape(len(train), -1) / 255.0, dtype=torch.float32)
    return float((torch.cdist(a, b).min(1).values / a.shape[1] ** 0.5).mean())


@pytest.mark.slow
def test_one_added_line_in_a_pytorch_mnist_script(mnist_sample, tmp_path):
    """The pytorch/examples mnist/main.py shape: torchvision MNIST, ToTensor + Normalize, batch 64."""
    from torchvision import datasets, transforms

    X, y = mnist_sample
    idx = subsample_per_class(y, 20, seed=0)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", X[idx, 0])
    write_idx(raw / "train-labels-idx1-ubyte", y[idx].astype(np.uint8))
    write_idx(raw / "t10k-images-idx3-ubyte", X[:10, 0])
    write_idx(raw / "t10k-labels-idx1-ubyte", y[:10].astype(np.uint8))

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset1 = datasets.MNIST(str(tmp_path), train=True, download=False, transform=transform)
    train_loader = DataLoader(dataset1, batch_size=64, shuffle=True)

    aug = SyntheticAugmenter(n_steps=30, random_state=0, verbose=0).fit(train_loader)
    train_loader = aug.wrap(train_loader, ratio=1.0)  # the one added line

    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10), nn.LogSoftmax(1))
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    seen, lo, hi = 0, float("inf"), float("-inf")
    for data, target in train_loader:
        assert data.shape[1:] == (1, 28, 28) and target.dtype == torch.int64
        loss = nn.functional.nll_loss(model(data), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += len(data)
        lo, hi = min(lo, data.min().item()), max(hi, data.max().item())
    assert seen == 2 * len(dataset1)
    # synthetic and real samples share the normalised value space
    assert lo >= (0 - 0.1307) / 0.3081 - 1e-4 and hi <= (1 - 0.1307) / 0.3081 + 1e-4


@pytest.mark.cuda
def test_training_on_cuda_matches_the_cpu_contract(mnist_sample):
    X, y = mnist_sample
    train = subsample_per_class(y, 30, seed=0)
    t0 = time.perf_counter()
    aug = SyntheticAugmenter(n_steps=1000, random_state=0, verbose=0, device="cuda").fit((X[train], y[train]))
    torch.cuda.synchronize()
    fit_s = time.perf_counter() - t0
    assert aug.device_.type == "cuda" and next(aug.generator_.parameters()).is_cuda
    xs, ys = aug.sample(500, random_state=1)
    assert xs.shape == (500, 1, 28, 28) and xs.dtype == np.uint8
    from sklearn.linear_model import LogisticRegression

    rest = np.setdiff1d(np.arange(len(y)), train)
    judge = LogisticRegression(max_iter=200).fit(X[rest].reshape(len(rest), -1) / 255.0, y[rest])
    agreement = (judge.predict(xs.reshape(500, -1) / 255.0) == ys).mean()
    print(f"\nCUDA 30/class, 1000 steps: fit {fit_s:.1f} s, judge agreement {agreement:.3f}")
    assert agreement >= 0.80
