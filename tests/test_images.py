"""ganaug.images: pictures and exported samples."""

import numpy as np
import pytest
import torch
from conftest import TINY_GAN, _quiet_fit

from ganaug import GANConfig, SyntheticAugmenter, save_grid

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def test_export_png_and_npz(fitted, tmp_path):
    from PIL import Image

    aug, _, _ = fitted
    aug.export(tmp_path / "png", n_per_class=2)
    files = sorted(p.relative_to(tmp_path / "png").parts[0] for p in (tmp_path / "png").rglob("*.png"))
    assert files == ["0", "0", "1", "1", "2", "2"]
    img = Image.open(next((tmp_path / "png" / "1").iterdir()))
    assert img.size == (28, 28) and img.mode == "L"
    path = aug.export(tmp_path / "npz", n_per_class=3, format="npz")
    with np.load(path) as f:
        assert f["x"].shape == (9, 1, 28, 28) and f["y"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_export_into_a_folder_that_holds_files_is_refused_and_touches_nothing(fitted, tmp_path):
    aug, _, _ = fitted
    real = tmp_path / "train" / "0"
    real.mkdir(parents=True)
    (real / "0.png").write_bytes(b"a real image")
    for fmt in ("png", "npz"):
        with pytest.raises(FileExistsError, match="is not empty: samples are exported into a new or empty folder"):
            aug.export(tmp_path / "train", n_per_class=2, format=fmt)
    assert sorted(tmp_path.rglob("*")) == [tmp_path / "train", real, real / "0.png"]
    assert (real / "0.png").read_bytes() == b"a real image"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert aug.export(empty, n_per_class=1) == empty


def test_save_grid_rows_per_class_and_value_mapping(tmp_path):
    from PIL import Image

    X = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 200 + 20  # values in 20..220
    y = torch.arange(30) % 3
    aug = _quiet_fit(SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}, random_state=0), (X, y))
    img = Image.open(save_grid(aug, tmp_path / "grid.png", n_per_class=4, random_state=5, padding=2))
    label_w = 6 * 1 + 4
    assert img.size == (label_w + 4 * 30 + 2, 3 * 30 + 2) and img.mode == "L"
    xs, _ = aug.sample(12, y=np.repeat(aug.classes_, 4), random_state=5)
    lo, hi = aug.value_low_.item(), aug.value_high_.item()
    expected = ((xs[5, 0] - lo) / (hi - lo) * 255).round().clamp(0, 255).to(torch.uint8).numpy()  # class 1, column 1
    top, left = 2 + 1 * 30, label_w + 1 * 30 + 2
    assert np.array_equal(np.asarray(img)[top : top + 28, left : left + 28], expected)
    flat = _quiet_fit(
        SyntheticAugmenter(gan=GANConfig(batch_size=8, mlp_hidden=16), n_steps=1, random_state=0, verbose=0),
        (X.reshape(30, -1), y),
    )
    with pytest.raises(ValueError, match="not images"):
        save_grid(flat, tmp_path / "flat.png")
    assert Image.open(save_grid(flat, tmp_path / "flat.png", n_per_class=2, image_shape=(28, 28))).size == (
        label_w + 2 * 30 + 2,
        92,
    )
