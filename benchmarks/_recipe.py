"""The recipe module (``recipes/mnist_augment.py``) for the benchmarks that measure the recipe's settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def recipe_module():
    """Import ``recipes/mnist_augment.py`` from this checkout (recipes/ is not a package)."""
    path = Path(__file__).resolve().parents[1] / "recipes" / "mnist_augment.py"
    spec = importlib.util.spec_from_file_location("mnist_augment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
