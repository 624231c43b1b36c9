"""ganaug._warnings: every warning points at the user's line, whichever entry point it came through."""

import warnings

import numpy as np
import torch
from conftest import FAST, _loader

from ganaug import GANOverSampler, SyntheticAugmenter


def _caught(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return caught


def test_a_fit_warning_points_at_the_callers_line_directly_and_through_the_over_sampler():
    x, y = torch.rand(24, 1, 16, 16), np.array([0] * 20 + [1] * 4)  # class 1: fewer than 10 examples
    direct = _caught(lambda: SyntheticAugmenter(**FAST).fit((x, y)))
    rows = x.flatten(1).numpy()
    through = _caught(lambda: GANOverSampler(n_steps=2, self_check=False, random_state=0).fit_resample(rows, y))
    for caught in (direct, through):
        small = [w for w in caught if "fewer than 10 examples" in str(w.message)]
        assert small and {w.filename for w in small} == {__file__}


def test_a_warning_inside_cross_validation_of_a_pipeline_points_at_the_users_call():
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    rows, y = np.random.RandomState(0).rand(60, 4), np.array([0] * 48 + [1] * 12)  # 8 of class 1 in a training fold
    pipe = make_pipeline(GANOverSampler(n_steps=2, self_check=False, random_state=0), LogisticRegression())
    caught = _caught(lambda: cross_val_score(pipe, rows, y, cv=3))
    small = [w for w in caught if "fewer than 10 examples" in str(w.message)]
    assert small and {w.filename for w in small} == {__file__}


def test_a_wrap_warning_points_at_the_wrap_call(fitted):
    aug, x, y = fitted
    caught = _caught(lambda: aug.wrap(_loader((x * 255).to(torch.uint8), y)))
    assert [w.filename for w in caught if "two value spaces" in str(w.message)] == [__file__]
