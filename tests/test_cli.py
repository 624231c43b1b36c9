"""ganaug.cli: the command line, fit and sample."""

import json

import numpy as np
import pytest

from ganaug import SyntheticAugmenter, __version__
from ganaug.cli import console
from ganaug.cli import main as cli_main


def test_cli_fit_sample_round_trip(tmp_path, capsys):
    from ganaug.io import write_idx

    rng = np.random.RandomState(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.randint(0, 256, (20, 28, 28)).astype(np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(20, dtype=np.uint8) % 2)
    assert (
        cli_main(
            ["fit", str(tmp_path), "--out", str(tmp_path / "m.pt"), "--steps", "2", "--batch-size", "4", "--quiet"]
        )
        == 0
    )
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "3", "--out", str(tmp_path / "out")]) == 0
    from torchvision.datasets import ImageFolder

    folder = ImageFolder(str(tmp_path / "out"))
    assert folder.classes == ["0", "1"] and len(folder) == 6
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "2", "--class", "1", "--out", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["1"]
    # and back: fit on the ImageFolder tree the CLI wrote
    assert (
        cli_main(
            [
                "fit",
                str(tmp_path / "out"),
                "--out",
                str(tmp_path / "m2.pt"),
                "--steps",
                "1",
                "--batch-size",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "1", "--class", "9", "--out", str(tmp_path / "x")]) == 2
    assert "unknown class" in capsys.readouterr().err
    # a folder that holds files, or a folder as the model file: an error line, not a traceback, and nothing written
    assert cli_main(["sample", str(tmp_path / "m.pt"), "--n", "1", "--out", str(tmp_path / "out")]) == 2
    assert "is not empty" in capsys.readouterr().err and len(ImageFolder(str(tmp_path / "out"))) == 6
    # refused before the data is even read (the data path here does not exist), not after the training
    fit_into_folder = ["fit", str(tmp_path / "no data"), "--out", str(tmp_path / "out"), "--steps", "1", "--quiet"]
    assert cli_main(fit_into_folder) == 2 and "is a folder" in capsys.readouterr().err
    args = [
        "fit",
        str(tmp_path),
        "--out",
        str(tmp_path / "w.pt"),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--quiet",
        "--architecture",
        "warp",
    ]
    assert cli_main(args) == 0
    assert SyntheticAugmenter.load(tmp_path / "w.pt").config_.architecture == "warp"


def test_cli_compare_runs_the_ablation_on_an_image_folder(tmp_path, capsys):
    """An ImageFolder tree of colour rectangles: the four arms, the paired table and the pictures."""
    import torch

    from ganaug.images import write_image_folder

    rng = np.random.RandomState(0)
    y = np.arange(48) % 3
    x = rng.randint(0, 60, (48, 3, 20, 36)).astype(np.uint8)
    for i, label in enumerate(y):
        x[i, label, :, 12 * label : 12 * label + 12] = 220  # each class a bright band of its own colour and place
    write_image_folder(tmp_path / "data", torch.as_tensor(x), y)
    out = tmp_path / "run"
    argv = ["compare", str(tmp_path / "data"), "--n-per-class", "4", "--seeds", "2", "--gan-steps", "2"]
    assert cli_main([*argv, "--clf-steps", "3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "30% of every class held out" in printed
    for name in ("results.csv", "summary.md", "gain.png", "samples.png", "config.json"):
        assert (out / name).stat().st_size > 0
    import csv

    rows = list(csv.DictReader((out / "results.csv").open()))
    assert {(r["arm"], r["seed"]) for r in rows} == {
        (a, s) for a in ("real", "classical", "gan", "classical+gan") for s in "01"
    }
    assert {r["n_per_class"] for r in rows} == {"4"}
    assert "real + classical + GAN" in (out / "summary.md").read_text()


def test_cli_compare_lowers_an_n_above_the_smallest_class_says_so_and_labels_rows_with_the_n_used(tmp_path):
    import csv

    import torch

    from ganaug.images import write_image_folder

    y = np.array([0] * 12 + [1] * 12 + [2] * 7)  # 70% of class 2 for training: 4 images (5 from 7, held out 30%)
    x = np.random.RandomState(2).randint(0, 255, (len(y), 1, 16, 16)).astype(np.uint8)
    write_image_folder(tmp_path / "data", torch.as_tensor(x), y)
    argv = ["compare", str(tmp_path / "data"), "--n-per-class", "3,6,8", "--seeds", "1", "--gan-steps", "2"]
    with pytest.warns(UserWarning, match=r"class 2 has (\d) training images: the cells at N = 6, 8 images per class"):
        assert cli_main([*argv, "--clf-steps", "2", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "run" / "results.csv").open()))
    smallest = int(json.loads((tmp_path / "run" / "config.json").read_text())["n_per_class"][-1])
    assert smallest < 6 and sorted({int(r["n_per_class"]) for r in rows}) == [3, smallest]
    assert all(int(r["n_real"]) == 3 * int(r["n_per_class"]) for r in rows if r["arm"] == "real")


def test_cli_reads_a_folder_of_several_image_sizes_at_the_size_given(tmp_path, capsys):
    from test_io import _mixed_size_folder

    _mixed_size_folder(tmp_path / "data")
    fit = ["fit", str(tmp_path / "data"), "--out", str(tmp_path / "m.pt"), "--steps", "1", "--quiet"]
    assert cli_main(fit) == 2 and "--size 24x24" in capsys.readouterr().err  # refused, with the size to give
    assert console([*fit, "--size", "16x12"]) == 0  # the console script: warnings as one line naming the command
    assert "ganaug fit: warning: the model file holds the 6 training images" in capsys.readouterr().err
    assert SyntheticAugmenter.load(tmp_path / "m.pt").sample_shape_ == (3, 16, 12)
    with pytest.raises(SystemExit):
        cli_main([*fit, "--size", "16x"])
    assert "expected HxW or S in pixels" in capsys.readouterr().err


@pytest.mark.parametrize("chosen, ratio", [("gan x0.5", 0.5), ("real", 0.0)])
def test_cli_compare_with_self_check_mixes_at_the_ratio_each_cells_check_chose(tmp_path, monkeypatch, chosen, ratio):
    import csv

    import torch

    import ganaug.augmenter
    from ganaug.images import write_image_folder

    def check(x, codes, **kw):
        return {
            "scores": {},
            "score": "log-likelihood",
            "chosen": chosen,
            "ratio": ratio,
            "reach": None,
            "n_held_out": 3,
            "skipped": False,
        }

    monkeypatch.setattr(ganaug.augmenter, "check_augmentation", check)
    y = np.arange(30) % 3
    x = np.random.RandomState(1).randint(0, 255, (30, 1, 16, 16)).astype(np.uint8)
    write_image_folder(tmp_path / "data", torch.as_tensor(x), y)
    argv = ["compare", str(tmp_path / "data"), "--n-per-class", "4", "--seeds", "1", "--gan-steps", "2"]
    assert cli_main([*argv, "--clf-steps", "2", "--self-check", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "What each cell's self-check chose" in summary and f"- N=4, seed 0: {chosen}" in summary
    rows = {r["arm"]: r for r in csv.DictReader((tmp_path / "run" / "results.csv").open())}
    assert set(rows) == {"real", "classical", "gan", "classical+gan"}
    for gan, real in (("gan", "real"), ("classical+gan", "classical")):
        assert rows[gan]["ratio"] == "" and float(rows[gan]["checked_ratio"]) == ratio
        assert int(rows[gan]["n_synthetic"]) == round(ratio * 12)  # 12 training images, 4 a class
        if ratio == 0:  # real data alone: wrap() adds nothing, so the GAN arm is the real-only run
            assert rows[gan]["accuracy"] == rows[real]["accuracy"]


def test_cli_compare_says_what_is_wrong(tmp_path, capsys):
    assert cli_main(["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "neither an .npz file" in capsys.readouterr().err
    assert cli_main(["compare", str(tmp_path), "--n-per-class", "ten"]) == 2
    assert "--n-per-class must be comma-separated integers" in capsys.readouterr().err


def test_cli_version_names_the_installed_release(capsys):
    with pytest.raises(SystemExit) as stop:
        cli_main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"ganaug {__version__}"


def test_cli_compare_with_one_seed_warns_that_there_is_no_interval_and_refuses_repeated_seeds(tmp_path):
    from ganaug.evaluation.ablation import run_ablation

    rng = np.random.RandomState(0)
    x, y = rng.rand(24, 1, 8, 8).astype(np.float32), np.arange(24) % 2
    np.savez(tmp_path / "d.npz", x=x, y=y)
    argv = ["compare", str(tmp_path / "d.npz"), "--n-per-class", "3", "--seeds", "1", "--gan-steps", "2"]
    with pytest.warns(UserWarning, match="with a single seed there is no confidence interval"):
        assert cli_main([*argv, "--clf-steps", "2", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert "; 1 seed; classical" in (tmp_path / "run" / "summary.md").read_text()
    with pytest.raises(ValueError, match="distinct non-negative ints"):
        run_ablation((x, y), (x[:4], y[:4]), n_per_class=[3], seeds=[0, 0], verbose=0)


def test_cli_compare_stopped_by_sigterm_keeps_the_cells_that_finished(tmp_path, monkeypatch, capsys):
    import os
    import signal

    import ganaug.evaluation.ablation as ablation

    rng = np.random.RandomState(0)
    np.savez(tmp_path / "d.npz", x=rng.rand(24, 1, 8, 8).astype(np.float32), y=np.arange(24) % 2)
    calls, real = [], ablation.compare_augmentation

    def second_cell_is_stopped(*args, **kwargs):  # a scheduler's SIGTERM while the second cell runs
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(ablation, "compare_augmentation", second_cell_is_stopped)
    out = tmp_path / "run"
    argv = ["compare", str(tmp_path / "d.npz"), "--n-per-class", "3", "--seeds", "2", "--gan-steps", "2"]

    def unhandled(signum, frame):  # what this test process does with a SIGTERM the console script leaves alone
        raise AssertionError("the console script did not take SIGTERM")

    before = signal.signal(signal.SIGTERM, unhandled)
    try:
        assert console([*argv, "--clf-steps", "2", "--out", str(out), "--quiet"]) == 130
        assert signal.getsignal(signal.SIGTERM) is unhandled  # given back afterwards
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "interrupted; 1 of 2 cells finished; their results are in" in capsys.readouterr().err
    import csv

    assert {r["seed"] for r in csv.DictReader((out / "results.csv").open())} == {"0"}
    summary = (out / "summary.md").read_text()
    assert "**Interrupted**: 1 cell (N, seed) did not run: (3, 1)" in summary and "real + GAN" in summary
    assert json.loads((out / "config.json").read_text())["unfinished_cells"] == [[3, 1]]
