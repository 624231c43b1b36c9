"""ganaug.io: loading data sets."""

import numpy as np
import pytest


def test_digits_loader_pads_or_fills_the_frame_with_the_same_split():
    from ganaug.io import load_digits_28

    (pad, y_pad), (pad_te, _) = load_digits_28(mode="pad")
    (big, y_big), (big_te, _) = load_digits_28(mode="resize")
    assert pad.shape == big.shape == (898, 1, 28, 28) and len(pad_te) == len(big_te) == 899
    assert np.array_equal(y_pad, y_big)  # the split does not depend on the mode
    assert pad[:, :, :10].max() == 0 and pad[:, :, 18:].max() == 0  # an 8x8 digit in a zero frame
    assert big[:, :, :10].max() > 0 and big[:, :, 18:].max() > 0  # the digit fills the 28x28 frame
    with pytest.raises(ValueError, match="mode must be 'pad' or 'resize'"):
        load_digits_28(mode="crop")


def _mixed_size_folder(root):
    """An ImageFolder tree of colour images of three sizes: 20x30, 24x24 and 31x17 (height x width)."""
    from PIL import Image

    rng = np.random.RandomState(0)
    for i, (h, w) in enumerate([(20, 30), (24, 24), (31, 17)] * 2):
        folder = root / "ab"[i % 2]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 255, (h, w, 3)).astype(np.uint8)).save(folder / f"{i}.png")


def test_an_image_folder_of_several_sizes_is_read_at_a_size_or_refused_with_the_median_to_use(tmp_path):
    from ganaug.io import load_data, load_image_folder

    _mixed_size_folder(tmp_path / "data")
    with pytest.raises(
        ValueError, match=r"3 different sizes .* --size 24x24 on the command line, size=\(24, 24\) in Python"
    ):
        load_image_folder(tmp_path / "data")
    x, y, classes = load_image_folder(tmp_path / "data", size=(16, 12))
    assert x.shape == (6, 3, 16, 12) and x.dtype == np.uint8 and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert classes == ["a", "b"] and load_data(tmp_path / "data", size=(16, 12))[1].tolist() == ["a"] * 3 + ["b"] * 3
    np.savez(tmp_path / "arrays.npz", x=x, y=y)
    with pytest.raises(ValueError, match="a size applies to ImageFolder trees"):
        load_data(tmp_path / "arrays.npz", size=(8, 8))


def test_grey_images_among_colour_ones_are_read_as_colour(tmp_path):
    from PIL import Image

    from ganaug.io import load_image_folder

    for i, mode in enumerate(["L", "RGB", "L", "RGB"]):
        (tmp_path / "ab"[i % 2]).mkdir(exist_ok=True)
        Image.new(mode, (12, 10), 90 if mode == "L" else (10, 20, 30)).save(tmp_path / "ab"[i % 2] / f"{i}.png")
    x, y, _ = load_image_folder(tmp_path)
    assert x.shape == (4, 3, 10, 12) and (x[:2] == 90).all() and x[2, :, 0, 0].tolist() == [10, 20, 30]  # a: grey


def test_an_npz_of_channels_last_images_is_read_channels_first_with_a_warning(tmp_path):
    from ganaug.io import load_npz

    x = np.random.RandomState(0).randint(0, 255, (5, 16, 12, 3)).astype(np.uint8)
    np.savez(tmp_path / "hwc.npz", x=x, y=np.arange(5))
    with pytest.warns(UserWarning, match=r"read as channels-last images \(N, H, W, C\)"):
        got, _ = load_npz(tmp_path / "hwc.npz")
    assert got.shape == (5, 3, 16, 12) and np.array_equal(got[2, 1], x[2, :, :, 1])
    np.savez(tmp_path / "chw.npz", x=got, y=np.arange(5))
    assert np.array_equal(load_npz(tmp_path / "chw.npz")[0], got)  # channels-first: as it is


def test_an_image_folder_reads_sub_folders_and_pgm_skips_hidden_folders_and_names_what_it_cannot_read(tmp_path):
    from PIL import Image

    from ganaug.io import load_image_folder

    for name, sub, suffix in (("faces", "s1", ".pgm"), ("faces", "s2", ".pgm"), ("cars", "", ".png")):
        (tmp_path / name / sub).mkdir(parents=True, exist_ok=True)
        Image.new("L", (6, 4), 7).save(tmp_path / name / sub / f"0{suffix}")
    (tmp_path / ".ipynb_checkpoints").mkdir()  # what Jupyter leaves beside the classes
    (tmp_path / "cars" / "._0.png").write_bytes(b"\0\5")  # macOS's companion of 0.png: not an image
    x, y, classes = load_image_folder(tmp_path)
    assert classes == ["cars", "faces"] and y.tolist() == [0, 1, 1] and x.shape == (3, 1, 4, 6)

    (tmp_path / "trucks").mkdir()
    for i in range(2):
        (tmp_path / "trucks" / f"{i}.heic").write_bytes(b"\0")
    with pytest.raises(ValueError, match=r"class folder\(s\) \['trucks'\] .* hold no images .* they hold 2 \.heic"):
        load_image_folder(tmp_path)
    (tmp_path / "trucks" / "0.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"trucks/0\.png' cannot be read as an image .*: fix or remove it"):
        load_image_folder(tmp_path)


def test_a_folder_of_splits_is_not_read_as_classes(tmp_path):
    from PIL import Image

    from ganaug.io import load_data

    for split in ("train", "test"):
        (tmp_path / split / "cat").mkdir(parents=True)
        Image.new("L", (6, 4), 7).save(tmp_path / split / "cat" / "0.png")
    with pytest.raises(ValueError, match=r"holds the splits \['test', 'train'\], not classes: .*train'\)"):
        load_data(tmp_path)
    assert load_data(tmp_path / "train")[1].tolist() == ["cat"]


def test_a_long_read_of_an_image_folder_shows_its_progress(tmp_path, monkeypatch, capsys):
    from PIL import Image

    import ganaug._validation
    from ganaug.io import load_data

    for i in range(6):
        (tmp_path / "photos" / "ab"[i % 2]).mkdir(parents=True, exist_ok=True)
        Image.new("L", (6, 4), i).save(tmp_path / "photos" / "ab"[i % 2] / f"{i}.png")
    monkeypatch.setattr(ganaug._validation, "READ_BAR_DELAY", 0.0)  # as if every image took seconds to decode
    load_data(tmp_path / "photos", verbose=1)
    err = capsys.readouterr().err
    assert "reading photos" in err and "/6 [" in err
    load_data(tmp_path / "photos")  # verbose=0: silent
    assert "reading photos" not in capsys.readouterr().err
