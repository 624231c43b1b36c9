"""The recipe module (``recipes/mnist_augment.py``) and its held-out cell set-up, for benchmarks that reuse them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from ganaug._validation import child_seeds, collect_xy
from ganaug.data import load_mnist_sample, subsample_per_class
from ganaug.evaluation import _ClassicalTransform, _channel_range, _run_torch

RATIO = 0.5  # the quick profile's synthetic ratio


def recipe_module():
    """Import ``recipes/mnist_augment.py`` from this checkout (recipes/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "recipes" / "mnist_augment.py"
    spec = importlib.util.spec_from_file_location("mnist_augment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split(n: int, seed: int):
    """The recipe's cell data: N images per class for training, the rest of the training split for scoring."""
    (xtr, ytr), _ = load_mnist_sample()
    idx = subsample_per_class(ytr, n, seed=seed)
    held = np.setdiff1d(np.arange(len(ytr)), idx)
    return (xtr[idx], ytr[idx]), (xtr[held], ytr[held])


def arm(recipe, aug, train, held, seed: int, name: str, clf_steps: int, draw_seed=None, stratify=True, classical=None) -> float:
    """Accuracy of one arm, set up as ``compare_augmentation`` sets it up for ``seeds=(seed,)``.

    ``name`` is one of ``real``, ``classical``, ``gan``, ``classical+gan``; the gan arms draw
    ``RATIO`` synthetic samples per real image from ``aug``. ``classical`` replaces the recipe's
    classical transform (``recipe.classical_transform()``) in the classical arms.
    """
    x, labels, _, _ = collect_xy(train)
    tx, tlabels, _, _ = collect_xy(held)
    classes = np.unique(labels)
    y_true = np.searchsorted(classes, tlabels)
    run_seed, sample_seed, transform_seed = child_seeds(seed, 3)
    low, high = _channel_range(x)
    transform = recipe.classical_transform() if classical is None else classical
    tf = _ClassicalTransform(transform, low, high, transform_seed) if name.startswith("classical") else None
    ratio = RATIO if name.endswith("gan") else 0.0
    scores, *_ = _run_torch(
        x, labels, classes, tx, y_true, aug, name, ratio, tf, None, None, run_seed,
        sample_seed if draw_seed is None else draw_seed, torch.device("cpu"), n_steps=clf_steps, batch_size=64, lr=1e-3,
        verbose=0, synthetic_weight=recipe.SYNTHETIC_WEIGHT, classical_on_synthetic=recipe.CLASSICAL_ON_SYNTHETIC,
        stratify=stratify,
    )
    return float(scores["accuracy"])
