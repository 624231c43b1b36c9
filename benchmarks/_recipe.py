"""What the benchmarks share: the recipe module (``recipes/mnist_augment.py``) and the ``--set FIELD=VALUE`` option."""

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


def add_set_option(parser, what: str = "the benchmark's GAN") -> None:
    """The benchmarks' common ``--set FIELD=VALUE`` option: one GANConfig field, repeatable."""
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help=f"a GANConfig field of {what}"
    )


def gan_config(parser, assignments: list[str], base: dict | None = None):
    """The GANConfig of ``base`` fields with the ``--set`` assignments on top; a usage error if one is bad."""
    from ganaug import GANConfig
    from ganaug.config import parse_assignment

    try:
        return GANConfig(**{**(base or {}), **dict(parse_assignment(item) for item in assignments)})
    except (TypeError, ValueError) as exc:
        parser.error(f"--set: {exc}")
