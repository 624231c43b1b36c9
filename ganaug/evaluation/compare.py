"""compare_augmentation: the same classifier trained on real data, with classical
augmentation, with GAN samples at several ratios, with both, and on GAN samples
only, over seeds; paired so that differences between them carry intervals."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader, RandomSampler
from tqdm.auto import tqdm

from .._validation import Interval, check_flag, child_seeds, collect_xy, resolve_device
from ..datasets import SyntheticDataset
from .classical import BatchAugment, ClassicalTransform, channel_range, is_batched
from .classifier import DEFAULT_N_STEPS, _collate, _fit_torch, _label_indices, _predict_proba, _seeded_global_rng
from .filtering import SyntheticFilter
from .leakage import check_disjoint, check_fitted_on, is_fitted
from .report import AugmentationReport


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


def _validate_compare_args(model_fn, train_fn, estimator, ratios, seeds, classical, x):
    if model_fn is not None and estimator is not None:
        raise ValueError("give either model_fn (a torch model) or estimator (an sklearn estimator), not both")
    if estimator is not None and train_fn is not None:
        raise ValueError("train_fn trains torch models; an sklearn estimator is trained with its own fit")
    if estimator is not None and not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise TypeError(f"estimator must be an sklearn estimator with fit and predict; got {type(estimator).__name__}")
    if model_fn is not None and not callable(model_fn):
        raise TypeError("model_fn must be a callable returning a fresh nn.Module")
    if isinstance(seeds, (int, np.integer)):
        raise TypeError(f"seeds must be a sequence of ints, e.g. (0, 1, 2, 3, 4); got the single int {seeds}")
    seeds = [int(s) if isinstance(s, (int, np.integer)) and not isinstance(s, bool) else s for s in seeds]
    if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise ValueError(
            f"seeds must be distinct non-negative ints (at least 2 for a confidence interval); got {seeds!r}"
        )
    if len(seeds) < 2:
        warnings.warn(
            "with a single seed there is no confidence interval or p-value; use 3-5 seeds", UserWarning, stacklevel=3
        )
    clean = []
    for r in ratios:
        if not Interval("real", 0).accepts(r):
            raise ValueError(f"ratios must be numbers >= 0 (synthetic samples per real sample); got {r!r}")
        clean.append(float(r))
    if classical is not None:
        if not callable(classical):
            raise TypeError(
                f"classical must be an albumentations or torchvision transform (callable); got {type(classical).__name__}"
            )
        if x.dim() not in (3, 4):
            raise ValueError(
                f"a classical transform needs images (N, C, H, W) or (N, H, W); got samples of shape {tuple(x.shape[1:])}: "
                "reshape flat images first, e.g. X.reshape(-1, 1, 28, 28)"
            )
    return seeds, sorted(set(clean))


def compare_augmentation(
    train,
    test,
    augmenter,
    *,
    model_fn: Callable[[], nn.Module] | None = None,
    train_fn: Callable | None = None,
    estimator=None,
    ratios: Sequence[float] = (0.0, 1.0),
    classical=None,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    include_cas: bool = True,
    device: str = "auto",
    n_steps: int = DEFAULT_N_STEPS,
    batch_size: int = 64,
    lr: float = 1e-3,
    verbose: int = 1,
    filter_confidence: float | None = None,
    synthetic_weight: float = 1.0,
    classical_on_synthetic: bool = True,
) -> AugmentationReport:
    """Measure what GAN augmentation does to a classifier, paired over seeds.

    For every seed the GAN is fitted on ``train`` only
    (``clone(augmenter).set_params(random_state=seed).fit(train)``) and reused
    across ratios; an augmenter that is already fitted is used as it is for
    every seed, after checking it was fitted on ``train``. Then one classifier
    is trained per setting (the ``arm`` column of the rows) and scored on ``test``:

    * ``real``: the real training data only (the baseline);
    * ``classical``: real data with the ``classical`` transform (if given);
    * ``gan``: real + synthetic at each ratio > 0 in ``ratios``;
    * ``classical+gan``: real + synthetic, both with the transform (the
      synthetic samples without it if ``classical_on_synthetic=False``);
    * ``gan_only``: synthetic data only, as many as ``train`` with the same
      class counts (classification accuracy score, train-on-synthetic
      test-on-real; if ``include_cas``).

    Within a seed every setting starts from the same classifier
    initialisation, so differences between settings are paired.

    Parameters
    ----------
    train, test : tuple (X, y), Dataset or DataLoader
        Labelled training and held-out data, read once into memory (a
        DataLoader's random transforms are applied once). ``test`` is used
        for scoring only.
    augmenter : SyntheticAugmenter or None
        Fitted or not. ``None`` compares ``real`` and ``classical`` only.
    model_fn : callable, optional
        Returns a fresh ``nn.Module`` mapping samples (value space and shape
        of ``train``) to logits over the sorted class labels. Default, when
        neither ``model_fn`` nor ``estimator`` is given: a
        :class:`DefaultClassifier`.
    train_fn : callable, optional
        ``train_fn(model, loader, device=..., seed=...)`` trains a torch model
        in place (or returns it); ``loader`` yields ``(x float32 batch, list of
        labels)`` and, in GAN runs, is ``augmenter.wrap(...)`` of the real
        loader. Default: Adam on cross-entropy for ``n_steps`` batches (a
        fixed budget, whatever the dataset size).
    estimator : sklearn estimator, optional
        Cloned for every run and fitted on flattened samples; its
        ``random_state`` (if any) is set per seed. Synthetic samples are
        appended as rows (``round(ratio * n_k)`` per class ``k``);
        ``classical`` appends one transformed copy of every real sample.
    ratios : sequence of float
        Synthetic samples per real sample; 0 is the real-only run (always made).
    classical : AffineElastic, or an albumentations or torchvision transform, optional
        Classical augmentation of the real samples (and of the synthetic ones
        in ``classical+gan`` runs). :class:`AffineElastic` augments whole
        batches in the training loop, on the classifier's device; an
        albumentations or torchvision transform is applied to one sample at a
        time as the loader reads it. Estimators get one transformed copy of
        every sample instead. The transform sees float32 images in [0, 1]
        (each channel's training range mapped there): albumentations an HWC
        array, torchvision a CHW tensor; it must keep the shape.
    seeds : sequence of int
        One run of every setting per seed; 5 seeds give a usable interval.
    include_cas : bool
        Add the ``gan_only`` run.
    device : str
        Where torch classifiers train (the augmenter uses its own ``device``).
    n_steps, batch_size, lr : int, int, float
        Budget of the default torch training loop.
    verbose : int
        0 silent, 1 one progress bar over runs, 2 also a bar per run.
    filter_confidence : float, optional
        Torch models only: the real + GAN runs keep only synthetic samples
        that the seed's real-only classifier (trained on ``train`` alone)
        assigns to their requested class with at least this probability
        (:class:`SyntheticFilter` passed to ``augmenter.wrap(filter=...)``).
    synthetic_weight : float
        The built-in torch training loop only: loss weight of a synthetic
        sample in the ``gan`` and ``classical+gan`` runs, real samples
        weighing 1 (:func:`weighted_cross_entropy`).
    classical_on_synthetic : bool
        In ``classical+gan`` runs, augment the synthetic samples with
        ``classical`` as well (torch models: on the fly; estimators: one
        transformed copy of each, as for the real samples);
        docs/evaluation.md says why this is the default.

    Returns
    -------
    AugmentationReport
        Rows ``arm, ratio, classical, seed, accuracy, balanced_accuracy,
        macro_f1, per_class_recall, n_real, n_synthetic`` (``ratio`` is None
        for ``gan_only``; for torch models ``n_synthetic`` is per epoch);
        ``summary()`` gives deltas with confidence intervals.

    Raises
    ------
    ValueError
        When test samples also appear in ``train``, or a fitted augmenter was
        fitted on other data.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from ganaug import GANConfig, SyntheticAugmenter
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (60, 4)), rng.normal(2, 1, (60, 4))]); y = np.repeat([0, 1], 60)
    >>> train, test = (X[::2], y[::2]), (X[1::2], y[1::2])
    >>> gan = SyntheticAugmenter(gan=GANConfig(batch_size=16, mlp_hidden=32), n_steps=10, verbose=0)
    >>> with warnings.catch_warnings():  # 10 GAN steps: expect a mode-collapse warning
    ...     warnings.simplefilter("ignore")
    ...     report = compare_augmentation(train, test, gan, estimator=LogisticRegression(), seeds=(0, 1), verbose=0)
    >>> [(line["arm"], line["ratio"], line["n_seeds"]) for line in report.summary()]
    [('real', 0.0, 2), ('gan', 1.0, 2), ('gan_only', None, 2)]
    >>> report.summary()[0]["delta"], report.rows[0]["n_real"], report.rows[2]["n_synthetic"]
    (0.0, 60, 60)
    """
    x, labels, _, _ = collect_xy(train)
    tx, tlabels, _, _ = collect_xy(test)
    seeds, ratios = _validate_compare_args(model_fn, train_fn, estimator, ratios, seeds, classical, x)
    check_disjoint(x, tx)
    prefitted = augmenter is not None and is_fitted(augmenter)
    if prefitted:
        check_fitted_on(augmenter, x, labels)
    classes = np.unique(labels)
    unknown = sorted(set(np.unique(tlabels).tolist()) - set(classes.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"the test set has classes {unknown} that train lacks ({classes.tolist()}); a classifier cannot learn them"
        )
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    y_true = _label_indices(tlabels, lookup).numpy()
    dev = resolve_device(device)
    gan_ratios = [r for r in ratios if r > 0] if augmenter is not None else []
    arms = [("real", 0.0, False)]
    if classical is not None:
        arms.append(("classical", 0.0, True))
    arms += [("gan", r, False) for r in gan_ratios]
    if classical is not None:
        arms += [("classical+gan", r, True) for r in gan_ratios]
    if include_cas and augmenter is not None:
        arms.append(("gan_only", None, False))
    low, high = channel_range(x) if classical is not None else (None, None)
    if filter_confidence is not None:
        if estimator is not None:
            raise ValueError(
                "filter_confidence works with torch classifiers (model_fn or the default), not with estimator"
            )
        if not 0.0 <= float(filter_confidence) <= 1.0:
            raise ValueError(f"filter_confidence must be a probability in [0, 1]; got {filter_confidence!r}")
    if not Interval("real", 0, closed="neither").accepts(synthetic_weight):
        raise ValueError(f"synthetic_weight must be a positive number; got {synthetic_weight!r}")
    classical_on_synthetic = check_flag(classical_on_synthetic, "classical_on_synthetic")
    if synthetic_weight != 1.0 and (estimator is not None or train_fn is not None):
        raise ValueError(
            "synthetic_weight applies to the built-in torch training loop; with estimator or train_fn, weight "
            "the samples yourself (augmenter.wrap(..., return_is_synthetic=True) gives the flag)"
        )

    study = _Study(
        x,
        labels,
        classes,
        tx,
        y_true,
        estimator,
        model_fn,
        train_fn,
        dev,
        n_steps,
        batch_size,
        lr,
        verbose,
        float(synthetic_weight),
        classical_on_synthetic,
    )
    rows = []
    with tqdm(total=len(seeds) * len(arms), desc="compare_augmentation", disable=verbose < 1) as bar:
        for seed in seeds:
            run_seed, sample_seed, transform_seed = child_seeds(seed, 3)
            aug = None
            if any(arm in ("gan", "classical+gan", "gan_only") for arm, _, _ in arms):
                # building the GAN's modules draws from torch's global generator: fork it so the caller's stream is untouched
                with _seeded_global_rng(seed, dev):
                    aug = augmenter if prefitted else clone(augmenter).set_params(random_state=seed).fit((x, labels))
            real_model = None  # the seed's real-only classifier, the filter's judge (the "real" run comes first)
            for arm, ratio, with_classical in arms:
                bar.set_postfix_str(f"seed {seed} {arm}" + (f" x{ratio:g}" if ratio else ""))
                tf = (
                    _classical(classical, low, high, transform_seed, classical_on_synthetic) if with_classical else None
                )
                if estimator is not None:
                    scores, n_real, n_syn = _run_sklearn(
                        study, aug, arm, ratio, tf, run_seed, sample_seed, transform_seed
                    )
                else:
                    filt = None
                    if filter_confidence is not None and arm in ("gan", "classical+gan"):
                        filt = SyntheticFilter(real_model, min_confidence=float(filter_confidence), classes=classes)
                    scores, n_real, n_syn, model = _run_torch(study, aug, arm, ratio, tf, run_seed, sample_seed, filt)
                    if arm == "real":
                        real_model = model  # trained on the real training split only: the filter's judge
                rows.append(
                    {
                        "arm": arm,
                        "ratio": ratio,
                        "classical": with_classical,
                        "seed": seed,
                        **scores,
                        "n_real": n_real,
                        "n_synthetic": n_syn,
                    }
                )
                bar.update(1)
    meta = {
        "n_train": int(x.shape[0]),
        "n_test": int(tx.shape[0]),
        "classes": classes.tolist(),
        "classifier": type(estimator).__name__
        if estimator is not None
        else ("model_fn" if model_fn is not None else "DefaultClassifier"),
        "n_steps": None if estimator is not None or train_fn is not None else int(n_steps),
        "augmenter": None if augmenter is None else repr(augmenter),
        "augmenter_prefitted": bool(prefitted),
        "classical": None if classical is None else repr(classical),
        "filter_confidence": filter_confidence,
        "synthetic_weight": float(synthetic_weight),
        "classical_on_synthetic": classical_on_synthetic if classical is not None else None,
    }
    return AugmentationReport(rows, meta=meta)


def _synthetic_like(aug, labels: np.ndarray, classes: np.ndarray, ratio: float, seed: int):
    """``round(ratio * n_k)`` synthetic samples of every class ``k`` of ``labels``, as float32."""
    counts = {c: int(round(ratio * int((labels == c).sum()))) for c in classes.tolist()}
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


def _run_torch(study: _Study, aug, arm: str, ratio, tf, seed: int, sample_seed: int, filt=None):
    """Train and score one torch classifier of ``arm``; returns (scores, n_real, n_synthetic, model)."""
    s = study
    data_seed = child_seeds(seed, 2)[1]
    batched = isinstance(tf, BatchAugment)  # a batch transform augments whole batches in the loop, not items
    per_item = None if batched else tf
    n_syn = 0
    if arm == "gan_only":  # nothing real reaches this classifier, not even standardisation statistics
        xs, ys = _synthetic_like(aug, s.labels, s.classes, 1.0, sample_seed)
        base, stats_x = SyntheticDataset(xs, ys), xs
        n_real, n_syn = 0, len(ys)
    else:
        base, stats_x = SyntheticDataset(s.x, s.labels, transform=per_item), s.x
        n_real = len(base)
    order = RandomSampler(range(len(base)), generator=torch.Generator().manual_seed(data_seed))
    loader = DataLoader(base, batch_size=s.batch_size, sampler=order, collate_fn=_collate)
    if arm in ("gan", "classical+gan"):
        # flags per sample: for the loss weight, or to leave synthetic rows out of a batch transform
        flags = s.synthetic_weight != 1.0 or (batched and not s.classical_on_synthetic)
        with _seeded_global_rng(sample_seed, s.device):  # wrap may read an item, running a random transform
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
        loader = _Augmented(loader, tf, keep_flags=s.synthetic_weight != 1.0, device=s.device)
    model = _fit_torch(
        s.x,
        s.labels,
        s.classes,
        loader,
        s.model_fn,
        s.train_fn,
        seed,
        s.device,
        n_steps=s.n_steps,
        batch_size=s.batch_size,
        lr=s.lr,
        verbose=s.verbose,
        desc=arm,
        base_x=stats_x,
        synthetic_weight=s.synthetic_weight,
    )
    pred = _predict_proba(model, s.test_x).argmax(1).numpy()
    return _scores(s.y_true, pred, s.classes), n_real, n_syn, model


def _run_sklearn(study: _Study, aug, arm: str, ratio, tf, seed: int, sample_seed: int, transform_seed: int):
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
        xs, ys = _synthetic_like(aug, labels, classes, 1.0 if arm == "gan_only" else ratio, sample_seed)
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


def _classical(classical, low, high, seed: int, on_synthetic: bool):
    """The classical transform of one run: a batch transform bound to the data's range, or a per-sample wrapper."""
    if is_batched(classical):
        return BatchAugment(classical, low, high, seed, synthetic=on_synthetic)
    return ClassicalTransform(classical, low, high, seed)


def _classical_copy(tf, x: torch.Tensor, seed: int) -> torch.Tensor:
    """One classically augmented copy of every sample of ``x`` (for estimators, which see a fixed set)."""
    if isinstance(tf, BatchAugment):
        return BatchAugment(tf.transform, tf.low, tf.high, seed)(x)
    with _seeded_global_rng(seed, torch.device("cpu")):
        return torch.stack([tf(xi) for xi in x])


class _Augmented:
    """The batches of ``loader`` with a batch transform applied on ``device`` (flags kept if ``keep_flags``)."""

    def __init__(self, loader, transform: BatchAugment, keep_flags: bool, device: torch.device):
        self.loader, self.transform, self.keep_flags, self.device = loader, transform, keep_flags, device

    def __iter__(self):
        for batch in self.loader:
            flags = batch[2] if len(batch) == 3 else None
            x = self.transform(batch[0].to(self.device, torch.float32), flags)
            yield (x, batch[1], flags) if self.keep_flags else (x, batch[1])

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name):  # dataset, batch_size, ... of the loader underneath
        return getattr(self.loader, name)
