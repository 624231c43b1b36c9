"""Training and scoring the classifier of one arm of a comparison (the real data, with
classical augmentation, with synthetic samples from a wrapped loader, or synthetic only)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import f1_score
from torch.utils.data import DataLoader, RandomSampler

from .._validation import child_seeds
from ..classical import Augmented, BatchAugment, ClassicalTransform, is_batched
from ..classifier import collate, predict_proba, seeded_global_rng, train_classifier
from ..datasets import SyntheticDataset
from .stats import LOSS_ARMS


def _scores(y_true: np.ndarray, y_pred: np.ndarray, classes: np.ndarray) -> dict:
    """Accuracy, balanced accuracy, macro F1 (over the classes in the test set) and per-class recall."""
    present = np.unique(y_true)
    recall = {}
    for k, c in enumerate(classes.tolist()):
        mask = y_true == k
        recall[str(c)] = float((y_pred[mask] == k).mean()) if mask.any() else math.nan
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "balanced_accuracy": float(np.mean([recall[str(classes[k])] for k in present])),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "per_class_recall": recall,
    }


def _synthetic_like(aug, labels: np.ndarray, classes: np.ndarray, *, ratio: float, seed: int, extra=None):
    """``round(ratio * n_k)`` synthetic samples of every class ``k`` of ``labels`` (plus ``extra[k]``), as float32."""
    extra = np.zeros(len(classes), dtype=np.int64) if extra is None else np.asarray(extra)
    counts = {c: int(round(ratio * int((labels == c).sum()))) + int(e) for c, e in zip(classes.tolist(), extra)}
    want = np.concatenate(
        [np.full(n, c, dtype=classes.dtype) for c, n in counts.items() if n > 0] or [np.zeros(0, classes.dtype)]
    )
    if len(want) == 0:
        return None, want
    xs, ys = aug.sample(len(want), y=want, random_state=seed)
    xs = torch.as_tensor(np.asarray(xs) if not isinstance(xs, torch.Tensor) else xs).to(torch.float32)
    ys = np.asarray(ys.cpu() if isinstance(ys, torch.Tensor) else ys)
    return xs, ys


@dataclass
class _Study:
    """What every classifier of one comparison shares: the data, the classifier and its budget."""

    x: torch.Tensor
    labels: np.ndarray
    classes: np.ndarray
    test_x: torch.Tensor
    y_true: np.ndarray
    estimator: object
    model_fn: Callable | None
    train_fn: Callable | None
    device: torch.device
    n_steps: int
    batch_size: int
    lr: float
    verbose: int
    synthetic_weight: float
    classical_on_synthetic: bool


def _run_torch(study: _Study, aug, arm: str, *, ratio, tf, seed: int, sample_seed: int, filt=None):
    """Train and score one torch classifier of ``arm``; returns (scores, n_real, n_synthetic, model)."""
    s = study
    loss, arm = LOSS_ARMS.get(arm, ("cross_entropy", arm))
    data_seed = child_seeds(seed, 2)[1]
    batched = isinstance(tf, BatchAugment)  # a batch transform augments whole batches in the loop, not items
    per_item = None if batched else tf
    n_syn = 0
    if arm == "gan_only":  # nothing real reaches this classifier, not even standardisation statistics
        # as many per class as the GAN trained on: the labelled samples and the pseudo-labelled ones
        extra = getattr(aug, "n_pseudo_labelled_", None)
        xs, ys = _synthetic_like(aug, s.labels, s.classes, ratio=1.0, seed=sample_seed, extra=extra)
        base, stats_x = SyntheticDataset(xs, ys), xs
        n_real, n_syn = 0, len(ys)
    else:
        base, stats_x = SyntheticDataset(s.x, s.labels, transform=per_item), s.x
        n_real = len(base)
    order = RandomSampler(range(len(base)), generator=torch.Generator().manual_seed(data_seed))
    loader = DataLoader(base, batch_size=s.batch_size, sampler=order, collate_fn=collate)
    if arm in ("gan", "classical+gan"):
        # flags per sample: for the loss weight, or to leave synthetic rows out of a batch transform
        flags = s.synthetic_weight != 1.0 or (batched and not s.classical_on_synthetic)
        with seeded_global_rng(sample_seed, s.device):  # wrap may read an item, running a random transform
            loader = aug.wrap(
                loader,
                ratio=ratio,
                random_state=sample_seed,
                filter=filt,
                return_is_synthetic=flags,
                synthetic_transform=per_item if s.classical_on_synthetic else None,
            )
        n_syn = len(loader.dataset) - n_real
    if batched:
        loader = Augmented(loader, tf, keep_flags=s.synthetic_weight != 1.0, device=s.device)
    model = train_classifier(
        s.x,
        s.labels,
        s.classes,
        seed=seed,
        device=s.device,
        loader=loader,
        model_fn=s.model_fn,
        train_fn=s.train_fn,
        n_steps=s.n_steps,
        batch_size=s.batch_size,
        lr=s.lr,
        verbose=s.verbose,
        desc=arm,
        base_x=stats_x,
        synthetic_weight=s.synthetic_weight,
        loss=loss,
    )
    pred = predict_proba(model, s.test_x).argmax(1).numpy()
    return _scores(s.y_true, pred, s.classes), n_real, n_syn, model


def _run_sklearn(study: _Study, aug, arm: str, *, ratio, tf, seed: int, sample_seed: int, transform_seed: int):
    """Train and score one sklearn estimator of ``arm`` on flattened samples; returns (scores, n_real, n_synthetic)."""
    x, labels, classes = study.x, study.labels, study.classes
    parts_x, parts_y = [], []
    n_real = n_syn = 0
    if arm != "gan_only":
        parts_x.append(x)
        parts_y.append(labels)
        n_real = len(labels)
    if tf is not None:
        parts_x.append(_classical_copy(tf, x, transform_seed))
        parts_y.append(labels)
    if arm in ("gan", "classical+gan", "gan_only"):
        xs, ys = _synthetic_like(aug, labels, classes, ratio=1.0 if arm == "gan_only" else ratio, seed=sample_seed)
        if xs is not None:
            xs = xs.reshape((len(ys),) + tuple(x.shape[1:]))
            parts_x.append(xs)
            parts_y.append(ys.astype(labels.dtype))
            n_syn = len(ys)
            if tf is not None and study.classical_on_synthetic:  # one transformed copy of each synthetic sample too
                parts_x.append(_classical_copy(tf, xs, transform_seed + 1))
                parts_y.append(ys.astype(labels.dtype))
    X = torch.cat(parts_x).reshape(sum(len(p) for p in parts_y), -1).numpy()
    Y = np.concatenate(parts_y)
    est = clone(study.estimator)
    if "random_state" in est.get_params():
        est.set_params(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        est.fit(X, Y)
        pred_labels = np.asarray(est.predict(study.test_x.reshape(study.test_x.shape[0], -1).numpy()))
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    pred = np.array([lookup.get(v, -1) for v in pred_labels.tolist()])
    return _scores(study.y_true, pred, classes), n_real, n_syn


def _classical(classical, low, high, *, seed: int, on_synthetic: bool):
    """The classical transform of one run: a batch transform bound to the data's range, or a per-sample wrapper."""
    if is_batched(classical):
        return BatchAugment(classical, low, high, seed=seed, synthetic=on_synthetic)
    return ClassicalTransform(classical, low, high, seed=seed)


def _classical_copy(tf, x: torch.Tensor, seed: int) -> torch.Tensor:
    """One classically augmented copy of every sample of ``x`` (for estimators, which see a fixed set)."""
    if isinstance(tf, BatchAugment):
        return BatchAugment(tf.transform, tf.low, tf.high, seed=seed)(x)
    with seeded_global_rng(seed, torch.device("cpu")):
        return torch.stack([tf(xi) for xi in x])
