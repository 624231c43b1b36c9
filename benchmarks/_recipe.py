"""Scripts the benchmarks import: the recipe module (``recipes/mnist_augment.py``) for those that measure the
recipe's settings, and ``benchmarks/image_families.py`` for those that render images."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _script(path: Path):
    """Import the script at ``path`` as a module (recipes/ and benchmarks/ are not packages)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe_module():
    """Import ``recipes/mnist_augment.py`` from this checkout."""
    return _script(Path(__file__).resolve().parents[1] / "recipes" / "mnist_augment.py")


def families_module():
    """Import ``benchmarks/image_families.py`` from this checkout."""
    return _script(Path(__file__).resolve().with_name("image_families.py"))
