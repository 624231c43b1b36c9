"""ganaug.evaluation.report: AugmentationReport as markdown, JSON, CSV and plots."""

import json

import pytest
from conftest import _recipe_rows

from ganaug.evaluation import AugmentationReport

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def test_report_renders_groups_as_markdown_json_csv(tmp_path):
    report = AugmentationReport(_recipe_rows(), group_by=("n_per_class",))
    md = report.to_markdown()
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert table[0].startswith(
        "| n_per_class | arm | ratio | classical | seeds | accuracy | Δ vs real (95% CI) | p | Δ vs classical"
    )
    assert len(table) == 2 + 8
    assert "| 10 | real + GAN | 1 | no | 4 |" in md and "+0.020 [" in md
    back = AugmentationReport.from_json(report.to_json(tmp_path / "r.json"))
    assert back.group_by == ("n_per_class",) and back.rows == report.rows
    for a, b in zip(back.summary(), report.summary()):
        assert a.keys() == b.keys()
        assert a["delta"] == pytest.approx(b["delta"]) and a["n_per_class"] == b["n_per_class"]
    assert json.loads((tmp_path / "r.json").read_text())["group_by"] == ["n_per_class"]
    rows = [
        {
            "arm": "real",
            "ratio": 0.0,
            "classical": False,
            "seed": 0,
            "accuracy": 0.5,
            "per_class_recall": {"0": 0.4, "1": 0.6},
        }
    ]
    text = AugmentationReport(rows).to_csv(tmp_path / "r.csv").read_text().splitlines()
    assert (
        text[0] == "arm,ratio,classical,seed,accuracy,recall_0,recall_1" and text[1] == "real,0.0,False,0,0.5,0.4,0.6"
    )


def test_report_json_is_standard_json_with_nan_as_null():
    rows = [{"ratio": 0.0, "seed": 0, "accuracy": 0.5}, {"ratio": 1.0, "seed": 0, "accuracy": 0.7}]
    data = json.loads(AugmentationReport(rows).to_json())  # one seed: no interval
    assert "NaN" not in AugmentationReport(rows).to_json()
    assert data["summary"][1]["delta"] == pytest.approx(0.2) and data["summary"][1]["ci_low"] is None


def test_report_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    path = AugmentationReport(_recipe_rows(), group_by=("n_per_class",)).plot(tmp_path / "acc.png")
    w, h = Image.open(path).size
    assert w > h > 100  # two group panels side by side
    rows = [
        {
            "arm": arm,
            "ratio": r,
            "classical": False,
            "seed": s,
            "accuracy": 0.5 + 0.1 * s,
            "per_class_recall": {"0": 0.5, "1": 0.6},
        }
        for arm, r in (("real", 0.0), ("gan", 1.0), ("gan_only", None))
        for s in range(2)
    ]
    w2, h2 = Image.open(AugmentationReport(rows).plot(tmp_path / "pc.png")).size
    assert h2 > w2  # accuracy panel above the per-class bars
