"""Scripts the benchmarks import: the recipe module (``recipes/mnist_augment.py``) for those that measure the
recipe's settings, and ``benchmarks/image_families.py`` for those that render images (and the training glyphs
the benchmarks that choose settings at 96 x 128 read)."""

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


def training_glyphs(*, fonts: int | None, test_per_class: int):
    """The training side of ``image_families.py``'s split of colour glyphs at 96 x 128 (the same fonts, seed 0):
    ``(x uint8 (N, 3, 96, 128), y)``; ``fonts`` renders only the first that many (``None``: all). The test split
    is rendered but never returned."""
    families = families_module()
    x, y, groups = families.render_glyphs((96, 128), colour=True, fonts=families.font_files()[:fonts], seed=0)
    train, _ = families.split_by_group(y, groups, n_test_per_class=test_per_class, seed=0)
    return x[train], y[train]
