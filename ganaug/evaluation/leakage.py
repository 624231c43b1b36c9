"""The leak guard: test data never trains anything, and a pre-fitted GAN was fitted on the training split."""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from .._validation import collect_xy, fingerprint


def _row_hashes(x: torch.Tensor) -> list[bytes]:
    """One digest per sample of its float32 bytes (exact duplicates share a digest)."""
    flat = np.ascontiguousarray(x.reshape(x.shape[0], -1).to(torch.float32).numpy())
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]


def check_disjoint(train_x: torch.Tensor, test_x: torch.Tensor, what: str = "test") -> None:
    if tuple(train_x.shape[1:]) != tuple(test_x.shape[1:]):
        if train_x[0].numel() != test_x[0].numel():
            raise ValueError(
                f"train samples have shape {tuple(train_x.shape[1:])} but {what} samples {tuple(test_x.shape[1:])}; they must match"
            )
        return check_disjoint(train_x.reshape(train_x.shape[0], -1), test_x.reshape(test_x.shape[0], -1), what)
    seen = {h: i for i, h in enumerate(_row_hashes(train_x))}
    dup = [(j, seen[h]) for j, h in enumerate(_row_hashes(test_x)) if h in seen]
    if dup:
        j, i = dup[0]
        raise ValueError(
            f"{len(dup)} of the {test_x.shape[0]} {what} samples also appear in the training data "
            f"(e.g. {what} sample {j} equals train sample {i}); remove them from one side: "
            f"the {what} set must be held out, or the measured gain is inflated"
        )


def check_leakage(train, test, augmenter=None) -> None:
    """Raise ``ValueError`` if test samples also appear in ``train``, or if a fitted
    ``augmenter`` was fitted on data other than ``train``.

    Duplicates are found by hashing each sample's bytes (as float32), so only
    exact copies count. The augmenter check compares its ``fit_fingerprint_``
    with the fingerprint of ``train`` (samples, labels and their order).

    Parameters
    ----------
    train, test : tuple (X, y), Dataset or DataLoader
        Training and held-out data.
    augmenter : SyntheticAugmenter, optional
        A fitted augmenter to check.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2); y = np.array([0, 1] * 3)
    >>> check_leakage((X[:4], y[:4]), (X[4:], y[4:]))  # disjoint: no error
    >>> check_leakage((X[:4], y[:4]), (X[3:], y[3:]))
    Traceback (most recent call last):
    ...
    ValueError: 1 of the 3 test samples also appear in the training data (e.g. test sample 0 equals train sample 3); ...
    """
    tx, ty, _, _ = collect_xy(train)
    sx, _, _, _ = collect_xy(test)
    check_disjoint(tx, sx)
    if augmenter is not None and is_fitted(augmenter):
        check_fitted_on(augmenter, tx, ty)


def is_fitted(augmenter) -> bool:
    return hasattr(augmenter, "generator_")


def check_fitted_on(augmenter, x: torch.Tensor, labels: np.ndarray) -> None:
    fp = getattr(augmenter, "fit_fingerprint_", None)
    if fp is None:
        raise ValueError(
            "the augmenter has no fit_fingerprint_, so what it was fitted on cannot be checked; refit it on train"
        )
    if fp != fingerprint(x, labels):
        raise ValueError(
            "the pre-fitted augmenter was fitted on data other than `train` (its fit_fingerprint_ differs; the "
            "fingerprint covers samples, labels and their order): pass an unfitted augmenter so it is fitted on "
            "`train` once per seed, or refit it on exactly this training data"
        )
