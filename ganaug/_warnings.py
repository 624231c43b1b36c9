"""Warnings attributed to the user's line: the first caller outside ganaug (and outside the scikit-learn,
imbalanced-learn and joblib code that calls its estimators), however deep the warning arose."""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Libraries whose estimator protocol calls ganaug's methods (``fit_resample`` through imbalanced-learn's
#: ``SamplerMixin``, pipelines, cross-validation): their frames are not the user's line either.
_CALLERS = ("imblearn", "sklearn", "joblib")


def _skipped() -> tuple[str, ...]:
    folders = [_PACKAGE]
    for name in _CALLERS:  # only those imported can be on the stack
        file = getattr(sys.modules.get(name), "__file__", None)
        if file:
            folders.append(os.path.dirname(os.path.abspath(file)) + os.sep)
    return tuple(folders)


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` at the first frame outside ganaug and its callers' libraries.

    A hand-counted ``stacklevel`` is right for one entry point only: a warning of ``SyntheticAugmenter.fit``
    reached through ``GANOverSampler().fit_resample`` pointed at ganaug's own line. Python 3.12's
    ``skip_file_prefixes`` does the same; this works on 3.10 too.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("a message")
    >>> caught[0].filename.startswith(_skipped())
    False
    """
    skipped = _skipped()
    frame, level = sys._getframe(1), 2  # level 2: warn's caller
    while frame is not None and frame.f_code.co_filename.startswith(skipped):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
