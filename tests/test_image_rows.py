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
