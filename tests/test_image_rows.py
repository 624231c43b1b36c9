"""ganaug.image_rows: telling rows of image pixels from tables."""

import numpy as np


def test_grid_correlation_sets_image_rows_apart_from_tables():
    from sklearn.datasets import load_digits

    from ganaug.config import IMAGE_ROW_MIN_CORRELATION
    from ganaug.image_rows import grid_correlation

    X = load_digits().data
    across, down, overall = grid_correlation(X, 8)
    assert min(across, down) - overall >= IMAGE_ROW_MIN_CORRELATION
    shuffled = grid_correlation(X[:, np.random.RandomState(0).permutation(64)], 8)
    assert max(shuffled[:2]) - shuffled[2] < IMAGE_ROW_MIN_CORRELATION
    # digits' always-blank corner columns have no correlation to speak of: left out, not NaN
    assert (X.std(axis=0) == 0).any() and np.isfinite([across, down, overall]).all()


def _photo_patches(n, h, w):
    """``n`` colour patches ``(n, h, w, 3)`` of sklearn's two sample photos (shipped with scikit-learn)."""
    from sklearn.datasets import load_sample_images

    photos, rng = load_sample_images().images, np.random.RandomState(0)
    out = []
    for _ in range(n):
        photo = photos[rng.randint(len(photos))]
        i, j = rng.randint(photo.shape[0] - h), rng.randint(photo.shape[1] - w)
        out.append(photo[i : i + h, j : j + w])
    return np.stack(out)


def test_rows_of_channels_last_colour_images_are_told_from_channels_first_ones():
    from ganaug.image_rows import looks_flattened_channels_last

    for h, w in ((16, 16), (12, 20)):
        patches = _photo_patches(60, h, w)
        assert looks_flattened_channels_last(patches.reshape(60, -1), (3, h, w))
        assert not looks_flattened_channels_last(patches.transpose(0, 3, 1, 2).reshape(60, -1), (3, h, w))
    grey = _photo_patches(60, 16, 16)[..., 0].reshape(60, -1)
    assert not looks_flattened_channels_last(grey, (1, 16, 16))  # one channel: no layout to tell
