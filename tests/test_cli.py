"""ganaug.cli: the command line, fit and sample."""

import numpy as np

from ganaug import SyntheticAugmenter
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
