"""compare_resampling: the same classifier trained on imbalanced data as it is, and
balanced by each of several samplers, over seeds, scored by balanced accuracy."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from sklearn.base import clone
from torch.utils.data import DataLoader, RandomSampler
from tqdm.auto import tqdm

from .._validation import child_seeds, collect_xy, resolve_device
from ..classifier import DEFAULT_N_STEPS, LOSSES, collate, label_indices, predict_proba, train_classifier
from ..datasets import SyntheticDataset
from .leakage import check_disjoint
from .runs import _scores
from .stats import check_seeds


def compare_resampling(
    train,
    test,
    samplers: Mapping[str, object],
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    device: str = "auto",
    n_steps: int = DEFAULT_N_STEPS,
    batch_size: int = 64,
    lr: float = 1e-3,
    verbose: int = 1,
) -> list[dict]:
    """Train the same classifier on ``train`` as it is and as each sampler balances it.

    For every seed and every entry of ``samplers`` one
    :class:`DefaultClassifier` is trained for ``n_steps`` batches and scored
    on ``test``; within a seed every entry starts from the same classifier
    initialisation and batch order seed, so differences between entries are
    paired (:func:`paired_difference`).

    Parameters
    ----------
    train, test : tuple (X, y), Dataset or DataLoader
        Imbalanced training data and held-out data, read once into memory.
        ``test`` only scores; it must share no sample with ``train``.
    samplers : mapping of str to sampler
        What each entry does with ``train`` before the classifier sees it:

        - ``None``: nothing (no resampling);
        - an imbalanced-learn sampler (``fit_resample``): cloned, given the
          seed as ``random_state`` and applied to the flattened rows (to the
          images as they are for :class:`ganaug.GANOverSampler`);
        - a :class:`ganaug.SyntheticAugmenter`: cloned, given the seed, fitted
          on ``train``, and the classifier trains on
          ``wrap(loader, ratio=0, balance=True)``: every class topped up to
          the largest with a fresh synthetic pool each epoch;
        - a pair ``(entry, loss)``: one of the above, and the classifier
          trained with ``loss`` (:data:`ganaug.classifier.LOSSES`:
          ``"class_weighted"``, ``"logit_adjusted"``) instead of
          cross-entropy, its class frequencies those of the data it trains
          on. ``(None, "logit_adjusted")`` is logit adjustment alone.
    seeds : sequence of int
        One run of every entry per seed.
    device : str
        Where the classifiers train.
    n_steps, batch_size, lr : int, int, float
        The classifier's budget, the same for every entry.
    verbose : int
        0 silent, 1 a progress bar over runs.

    Returns
    -------
    list of dict
        One row per (seed, entry): ``arm`` (the entry's name), ``seed``,
        ``accuracy``, ``balanced_accuracy``, ``macro_f1``,
        ``per_class_recall``, ``n_train`` (rows the classifier trained on;
        per epoch for an augmenter) and ``resample_seconds`` (fitting the
        sampler or GAN and resampling); for a ``GANOverSampler`` whose
        self-check ran (``self_check_``) also ``self_check``, the candidate
        its check chose (a check that
        chose a loss adds no rows, and that entry's classifier trains with
        the chosen loss unless the pair names another), and
        ``self_check_seconds``, what the check took (part of
        ``resample_seconds``: ``self_check_["seconds"]``).

    Examples
    --------
    >>> import numpy as np
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, 1, (80, 4)), rng.normal(1.5, 1, (8, 4))].astype(np.float32)
    >>> y = np.r_[np.zeros(80, int), np.ones(8, int)]
    >>> test = (rng.normal(0, 1, (20, 4)).astype(np.float32), np.r_[np.zeros(10, int), np.ones(10, int)])
    >>> rows = compare_resampling((X, y), test, {"none": None, "ROS": RandomOverSampler()},
    ...                           seeds=(0, 1), n_steps=20, verbose=0)
    >>> [(r["arm"], r["seed"], r["n_train"]) for r in rows]
    [('none', 0, 88), ('ROS', 0, 160), ('none', 1, 88), ('ROS', 1, 160)]
    """
    from ..augmenter import SyntheticAugmenter
    from ..oversampling import GANOverSampler

    x, labels, _, _ = collect_xy(train)
    tx, tlabels, _, _ = collect_xy(test)
    check_disjoint(x, tx)
    if not isinstance(samplers, Mapping) or not samplers:
        raise TypeError("samplers must be a non-empty dict {name: None, an imblearn sampler or a SyntheticAugmenter}")
    entries = {
        name: entry if isinstance(entry, tuple) else (entry, "cross_entropy") for name, entry in samplers.items()
    }
    for name, entry in entries.items():
        if len(entry) != 2 or entry[1] not in LOSSES:
            raise ValueError(f"samplers[{name!r}]: a pair must be (sampler or None, one of {LOSSES}); got {entry!r}")
        sampler = entry[0]
        if not (sampler is None or isinstance(sampler, SyntheticAugmenter) or hasattr(sampler, "fit_resample")):
            raise TypeError(
                f"samplers[{name!r}] must be None, an imblearn sampler (fit_resample) or a SyntheticAugmenter; "
                f"got {type(sampler).__name__}"
            )
    seeds = check_seeds(seeds)
    classes = np.unique(labels)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    y_true = label_indices(tlabels, lookup).numpy()
    dev = resolve_device(device)
    rows = []
    with tqdm(total=len(seeds) * len(samplers), desc="compare_resampling", disable=verbose < 1) as bar:
        for seed in seeds:
            run_seed, sample_seed = child_seeds(seed, 2)
            for name, (sampler, loss) in entries.items():
                bar.set_postfix_str(f"seed {seed} {name}")
                t0 = time.perf_counter()
                seen = None  # the class frequencies of rx, ry
                check = None  # what a GANOverSampler's self-check chose on held-out training rows
                if sampler is None:
                    rx, ry, loader = x, labels, None
                elif isinstance(sampler, SyntheticAugmenter):
                    aug = clone(sampler).set_params(random_state=seed).fit((x, labels))
                    order = RandomSampler(range(len(x)), generator=torch.Generator().manual_seed(sample_seed))
                    real = DataLoader(SyntheticDataset(x, labels), batch_size, sampler=order, collate_fn=collate)
                    loader = aug.wrap(real, ratio=0.0, balance=True, random_state=sample_seed)
                    rx, ry = x, labels
                    counts = np.bincount(label_indices(labels, lookup).numpy(), minlength=len(classes))
                    seen = np.full(len(classes), counts.max())  # what balance=True shows the classifier per epoch
                else:
                    sampler = clone(sampler)
                    if "random_state" in sampler.get_params(deep=False):
                        sampler.set_params(random_state=seed)
                    rx, ry = _resample(sampler, x, labels, gan_sampler_type=GANOverSampler)
                    loader = None
                    check = getattr(sampler, "self_check_", None)
                    if check is not None and check["loss"] is not None and loss == "cross_entropy":
                        loss = check["loss"]  # its check chose a loss over any top-up: train as it advises
                seconds = time.perf_counter() - t0
                model = train_classifier(
                    rx,
                    ry,
                    classes,
                    seed=run_seed,
                    device=dev,
                    loader=loader,
                    n_steps=n_steps,
                    batch_size=batch_size,
                    lr=lr,
                    verbose=0,
                    desc=name,
                    base_x=x,
                    loss=loss,
                    class_counts=seen,
                )
                pred = predict_proba(model, tx).argmax(1).numpy()
                n_train = len(loader.dataset) if loader is not None else len(ry)
                rows.append(
                    {
                        "arm": name,
                        "seed": seed,
                        **_scores(y_true, pred, classes),
                        "n_train": int(n_train),
                        "resample_seconds": round(seconds, 2),
                    }
                )
                if check is not None:
                    rows[-1]["self_check"] = check["chosen"]
                    rows[-1]["self_check_seconds"] = dict(check["seconds"])
                bar.update(1)
    return rows


def _resample(sampler, x: torch.Tensor, labels: np.ndarray, *, gan_sampler_type) -> tuple[torch.Tensor, np.ndarray]:
    """``sampler.fit_resample`` on flattened rows (images as they are for a GANOverSampler), back in x's shape."""
    keep_shape = isinstance(sampler, gan_sampler_type)
    arr = x.numpy() if keep_shape else x.reshape(len(x), -1).numpy()
    rx, ry = sampler.fit_resample(arr, labels)
    return torch.as_tensor(np.asarray(rx, dtype=np.float32)).reshape((-1,) + tuple(x.shape[1:])), np.asarray(ry)


__all__ = ["compare_resampling"]
