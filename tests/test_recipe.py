"""The ablation recipe (recipes/mnist_augment.py): its options, what it records, and its use of processes."""

import csv
import importlib.util
import json
import re
from pathlib import Path

import pytest

import ganaug.self_check
from ganaug import GANConfig

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "mnist_augment.py"


def _recipe():
    """A fresh import of recipes/mnist_augment.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("mnist_augment", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_gan_param_overrides_one_field_and_is_recorded(tmp_path):
    recipe = _recipe()
    grid = "--dataset digits --n-per-class 5 --ratios 0,1 --seeds 2 --gan-steps 3 --clf-steps 3".split()
    assert (
        recipe.main(
            [*grid, "--gan-param", "warp_shift=0.25", "--gan-param", "diversity_weight=0", "--out", str(tmp_path)]
        )
        == 0
    )
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["gan_params"] == {"warp_shift": 0.25, "diversity_weight": 0}
    assert saved["gan_config"]["warp_shift"] == 0.25 and saved["gan_config"]["architecture"] == "auto"
    # nothing else departs from the library's defaults: README's results are what SyntheticAugmenter() gives
    assert {k: v for k, v in saved["gan_config"].items() if k not in ("warp_shift", "diversity_weight", "n_steps")} == {
        k: v for k, v in GANConfig().to_dict().items() if k not in ("warp_shift", "diversity_weight", "n_steps")
    }


@pytest.mark.parametrize("bad", ["warp_shfit=0.25", "warp_shift=5", "warp_shift", "n_steps=10"])
def test_recipe_refuses_a_bad_gan_param_before_loading_data(bad, capsys):
    with pytest.raises(SystemExit) as err:
        _recipe().main(["--gan-param", bad])
    assert err.value.code == 2
    assert "--gan-param" in capsys.readouterr().err


def test_recipe_validation_scores_on_held_out_training_images_and_never_reads_the_test_split(tmp_path, monkeypatch):
    from ganaug.io import load_digits_28

    recipe = _recipe()
    train, _ = load_digits_28(seed=0, mode="resize")
    # a test split that fails on any use: the validation run must not touch it
    monkeypatch.setattr(recipe, "load_dataset", lambda args: (train, (None, None), "digits, no test split"))
    grid = ["--n-per-class", "5", "--ratios", "0,1", "--seeds", "2", "--gan-steps", "3", "--clf-steps", "3"]
    assert recipe.main([*grid, "--validation", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "config.json").read_text())["scored_on"].startswith("validation")
    assert "scored on validation" in (tmp_path / "summary.md").read_text()
    with pytest.raises(ValueError, match="numeric"):  # the same run scored on the test split does read it
        recipe.main([*grid, "--out", str(tmp_path / "test")])


def test_recipe_validation_refuses_n_all(capsys):
    with pytest.raises(SystemExit) as err:
        _recipe().main(["--validation", "--n-per-class", "10,all"])
    assert err.value.code == 2
    assert "--validation" in capsys.readouterr().err


@pytest.mark.slow
def test_recipe_jobs_share_out_the_cells_with_the_one_process_results(tmp_path):
    import torch

    recipe = _recipe()
    grid = "--dataset digits --n-per-class 5,8 --ratios 0,1 --seeds 2 --gan-steps 3 --clf-steps 3".split()
    assert recipe.main([*grid, "--jobs", "2", "--out", str(tmp_path / "two")]) == 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers run one thread each: the same float rounding in this process
    try:
        assert recipe.main([*grid, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    finally:
        torch.set_num_threads(threads)
    two, one = ((tmp_path / run / "results.csv").read_text() for run in ("two", "one"))
    assert two == one  # grid order and every figure, whichever worker ran which cell
    assert len(two.splitlines()) == 1 + 4 * 5  # 4 cells x (real, classical, GAN, classical + GAN, GAN only)
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["processes"] == 2 and config["threads_per_process"] == 1
    assert (tmp_path / "two" / "samples.png").exists()


def test_recipe_resolves_jobs():
    recipe = _recipe()
    assert recipe.resolve_jobs("auto", "cpu", world=1, n_cells=1) == 1  # never more workers than cells
    assert recipe.resolve_jobs("auto", "cuda", world=1, n_cells=10) == 1
    assert recipe.resolve_jobs("auto", "cpu", world=2, n_cells=10) == 1  # torchrun already spreads the cells
    assert recipe.resolve_jobs("3", "cpu", world=1, n_cells=10) == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(ValueError, match="--jobs"):
            recipe.resolve_jobs(bad, "cpu", world=1, n_cells=10)
    with pytest.raises(ValueError, match="torchrun"):
        recipe.resolve_jobs("2", "cpu", world=2, n_cells=10)


def test_recipe_refuses_a_bad_jobs_value_before_loading_data(capsys):
    with pytest.raises(SystemExit) as err:
        _recipe().main(["--jobs", "0"])
    assert err.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_imbalanced_recipe_runs_every_arm_and_writes_its_outputs(tmp_path):
    path = Path(__file__).resolve().parents[1] / "recipes" / "mnist_imbalanced.py"
    spec = importlib.util.spec_from_file_location("mnist_imbalanced", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    args = "--offline --counts 12,10,8,8,6,6,5,5,4,4 --seeds 2 --gan-steps 2 --clf-steps 3 --check-steps 5".split()
    library_steps = ganaug.self_check.RESAMPLING_CHECK_STEPS
    assert recipe.main([*args, "--jobs", "1", "--out", str(tmp_path)]) == 0
    assert ganaug.self_check.RESAMPLING_CHECK_STEPS == library_steps  # --check-steps does not outlive the run
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * len(recipe.ARMS)
    summary = (tmp_path / "summary.md").read_text()
    assert all(f"| {arm} |" in summary for arm in recipe.ARMS)
    # the sampler as it comes checks itself on these image arrays
    assert re.search(r"GANOverSampler chose, on a held-out fifth of each class: seed 0 \S+.*; seed 1 \S+", summary)
    took = re.search(r"the check's GAN fit (\d+\.\d) s, its classifiers (\d+\.\d) s", summary)
    assert took and float(took[2]) > 0, summary  # where the check's time went
    assert (tmp_path / "recall.png").stat().st_size > 0 and (tmp_path / "samples.png").stat().st_size > 0
    # the GANs' counts: every class topped up to the largest (12); half-way in log count for the one with the loss
    rows = [line.split(",") for line in lines[1:]]
    assert {int(row[5]) for row in rows if row[0] == "GANOverSampler(self_check=False)"} == {120}
    # checked: topped up (samples or duplicates), or the rows as they are when it chose a loss
    assert {int(row[5]) for row in rows if row[0] == "GANOverSampler"} <= {120, 68}
    halfway = sum(max(n, round((n * 12) ** 0.5)) for n in (12, 10, 8, 8, 6, 6, 5, 5, 4, 4))
    assert {int(row[5]) for row in rows if row[0] == "GANOverSampler + logit adjustment"} == {halfway}
    assert {int(row[5]) for row in rows if row[0] in ("class-weighted CE", "logit adjustment")} == {68}


def test_imbalanced_recipe_refuses_counts_the_data_cannot_give(capsys):
    path = Path(__file__).resolve().parents[1] / "recipes" / "mnist_imbalanced.py"
    spec = importlib.util.spec_from_file_location("mnist_imbalanced", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    with pytest.raises(SystemExit):
        recipe.main(["--offline", "--counts", "5000,2,2,2,2,2,2,2,2,2"])
    assert "class 0 has 400 training images" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # refused before any data is read
        recipe.main(["--offline", "--counts", "50,1"])
    assert "every class needs at least 2 images" in capsys.readouterr().err
    # SMOTE interpolates between as many neighbours as the smallest class gives (it failed mid-run below 4)
    assert [recipe.samplers(GANConfig(), "cpu", n)["SMOTE"].k_neighbors for n in (2, 3, 4, 500)] == [1, 2, 3, 3]


@pytest.mark.slow
def test_recipe_unlabelled_runs_the_semi_supervised_arms_and_never_scores_what_was_unlabelled(tmp_path, monkeypatch):
    import numpy as np

    recipe = _recipe()
    seen = {}
    real_compare = recipe.compare_augmentation

    def spy(train, scored, gan, **kwargs):
        rows = lambda a: {np.ascontiguousarray(r).tobytes() for r in a}  # noqa: E731
        seen["overlap"] = len(rows(kwargs["unlabelled"]) & rows(scored[0])) + len(rows(train[0]) & rows(scored[0]))
        seen["sizes"] = (len(train[1]), len(kwargs["unlabelled"]), len(scored[1]))
        return real_compare(train, scored, gan, **kwargs)

    monkeypatch.setattr(recipe, "compare_augmentation", spy)
    grid = "--quick --dataset digits --n-per-class 5 --seeds 2 --gan-steps 3 --clf-steps 3 --jobs 1".split()
    args = [*grid, "--gan-param", "pseudo_label_steps=3", "--unlabelled", "--validation", "--out", str(tmp_path)]
    assert recipe.main(args) == 0
    assert seen["overlap"] == 0  # the scored half and the unlabelled half of the held-out images are disjoint
    n_labelled, n_unlabelled, n_scored = seen["sizes"]
    assert n_labelled == 50 and abs(n_unlabelled - n_scored) <= 1
    rows = (tmp_path / "results.csv").read_text()
    for arm in recipe.UNLABELLED_ARMS:
        assert f",{arm}," in rows or rows.startswith(f"{arm},") or f"\n{arm}," in rows
    assert "self-training" in (tmp_path / "summary.md").read_text()
    assert json.loads((tmp_path / "config.json").read_text())["ratios"] == [0.0, 2.0]


def test_recipe_reads_an_image_folder_with_train_and_test(tmp_path, capsys):
    """--dataset folder: colour rectangles of any size from an ImageFolder tree, class names kept in order."""
    import argparse

    import numpy as np
    import torch

    from ganaug.images import write_image_folder

    rng = np.random.RandomState(0)
    for split, n in (("train", 12), ("test", 6)):
        write_image_folder(
            tmp_path / split, torch.as_tensor(rng.randint(0, 256, (n, 3, 20, 36)).astype(np.uint8)), np.arange(n) % 3
        )
    args = argparse.Namespace(dataset="folder", data_dir=str(tmp_path), digits="resize", offline=True)
    (xtr, ytr), (xte, yte), described = _recipe().load_dataset(args)
    assert xtr.shape == (12, 3, 20, 36) and xte.shape == (6, 3, 20, 36) and xtr.dtype == np.uint8
    assert sorted(set(ytr.tolist())) == [0, 1, 2] and "classes 0, 1, 2" in described
    with pytest.raises(SystemExit, match="train/ and test/"):
        _recipe().load_dataset(
            argparse.Namespace(dataset="folder", data_dir=str(tmp_path / "train"), digits="resize", offline=True)
        )
    # more images a class than the folder has: refused before any cell runs, naming the class and its count
    with pytest.raises(SystemExit):
        _recipe().main(["--dataset", "folder", "--data-dir", str(tmp_path), "--n-per-class", "2,5", "--seeds", "1"])
    assert "class 0 has 4 training images; N=5" in capsys.readouterr().err


def test_recipe_reads_an_image_folder_of_several_sizes_at_the_size_given(tmp_path):
    import argparse

    from test_io import _mixed_size_folder

    for split in ("train", "test"):
        _mixed_size_folder(tmp_path / split)
    args = argparse.Namespace(dataset="folder", data_dir=str(tmp_path), digits="resize", offline=True, size=None)
    with pytest.raises(SystemExit, match="3 different sizes .* --size 24x24"):
        _recipe().load_dataset(args)
    args.size = (16, 12)
    (xtr, _), (xte, _), _ = _recipe().load_dataset(args)
    assert xtr.shape == xte.shape == (6, 3, 16, 12)


def _interrupted_run(main, argv):
    """``main(argv)``'s exit status; a KeyboardInterrupt it lets out fails the test instead of stopping pytest."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("the interruption escaped: the finished cells were not written")


def test_recipes_stopped_midway_write_the_cells_that_finished(tmp_path, monkeypatch, capsys):
    recipe = _recipe()
    real_cell, calls = recipe.run_cell, []

    def stopped_at_the_second_cell(*args, **kwargs):  # Ctrl-C (or SIGTERM, which the script maps to it)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_cell(*args, **kwargs)

    monkeypatch.setattr(recipe, "run_cell", stopped_at_the_second_cell)
    grid = "--dataset digits --n-per-class 5 --ratios 0,1 --seeds 2 --gan-steps 3 --clf-steps 3 --jobs 1".split()
    assert _interrupted_run(recipe.main, [*grid, "--out", str(tmp_path / "a")]) == 130
    assert "interrupted after 1 of 2 cells" in capsys.readouterr().err
    assert (
        "**Interrupted** after 1 of 2 cells (N, seed); the table covers (5, 0)"
        in (tmp_path / "a" / "summary.md").read_text()
    )
    assert {r["seed"] for r in csv.DictReader((tmp_path / "a" / "results.csv").open())} == {"0"}

    path = Path(__file__).resolve().parents[1] / "recipes" / "mnist_imbalanced.py"
    spec = importlib.util.spec_from_file_location("mnist_imbalanced", path)
    imbalanced = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(imbalanced)
    real_seed, calls = imbalanced.run_seed, []

    def stopped_at_the_second_seed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_seed(*args, **kwargs)

    monkeypatch.setattr(imbalanced, "run_seed", stopped_at_the_second_seed)
    args = "--offline --counts 12,10,8,8,6,6,5,5,4,4 --seeds 2 --gan-steps 2 --clf-steps 3 --check-steps 5 --jobs 1"
    assert _interrupted_run(imbalanced.main, [*args.split(), "--out", str(tmp_path / "b")]) == 130
    assert "**Interrupted** after 1 of 2 seeds; the table covers seeds 0" in (tmp_path / "b" / "summary.md").read_text()
    assert {r["seed"] for r in csv.DictReader((tmp_path / "b" / "results.csv").open())} == {"0"}
