"""compare_augmentation: the same classifier trained on real data, with classical
augmentation, with GAN samples at several ratios, with both, and on GAN samples
only, over seeds; paired so that differences between them carry intervals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import torch
from sklearn.base import clone
from torch import nn
from tqdm.auto import tqdm

from .._validation import Interval, check_flag, child_seeds, collect_xy, resolve_device
from ..classical import channel_range
from ..classifier import DEFAULT_N_STEPS, label_indices, predict_proba, seeded_global_rng
from ..unlabelled import collect_inputs
from .filtering import SyntheticFilter
from .leakage import check_disjoint, check_fitted_on, is_fitted
from .report import AugmentationReport
from .runs import _classical, _run_sklearn, _run_torch, _Study
from .stats import check_seeds


def _validate_compare_args(*, model_fn, train_fn, estimator, ratios, seeds, classical, x):
    if model_fn is not None and estimator is not None:
        raise ValueError("give either model_fn (a torch model) or estimator (an sklearn estimator), not both")
    if estimator is not None and train_fn is not None:
        raise ValueError("train_fn trains torch models; an sklearn estimator is trained with its own fit")
    if estimator is not None and not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise TypeError(f"estimator must be an sklearn estimator with fit and predict; got {type(estimator).__name__}")
    if model_fn is not None and not callable(model_fn):
        raise TypeError("model_fn must be a callable returning a fresh nn.Module")
    seeds = check_seeds(seeds)
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


#: The arms that train with the samples of the GAN fitted on ``train`` alone.
_GAN_ARMS = ("gan", "classical+gan", "gan_only", "gan+logit_adjusted")


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
    unlabelled=None,
    self_training_threshold: float = 0.9,
    arms: Sequence[str] | None = None,
    loss_baselines="auto",
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
    * ``gan_only``: synthetic data only, as many per class as the GAN
      trained on (classification accuracy score, train-on-synthetic
      test-on-real; if ``include_cas``).

    With ``unlabelled`` data, also:

    * ``self_training``: pseudo-labelling, the baseline for unlabelled data.
      The seed's ``classical`` classifier (``real`` without a transform)
      labels the unlabelled samples; those it gives at least
      ``self_training_threshold`` join the real ones, and a fresh classifier
      is trained on both with the same transform and budget (a single round
      of scikit-learn's ``SelfTrainingClassifier``);
    * ``gan+unlabelled``, ``classical+gan+unlabelled``,
      ``gan_only+unlabelled``: the same as their namesakes with a GAN fitted
      with the unlabelled data (``fit(train, unlabelled=unlabelled)``).

    With ``loss_baselines`` (by default when the training classes are
    imbalanced), also the losses practitioners try first on imbalanced
    classes, which generate nothing (:data:`ganaug.classifier.LOSSES`):

    * ``class_weighted``: real data, each sample weighted ``n / (K * n_k)``;
    * ``logit_adjusted``: real data, the logit-adjusted loss (Menon et al., 2021);
    * ``gan+logit_adjusted``: real + synthetic at each ratio, the logit-adjusted
      loss on top (the synthetic samples keep the class proportions, so the
      two can stack).

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
    unlabelled : array, Dataset or DataLoader of inputs, optional
        Samples without labels from the training pool (never from ``test``:
        the leak guard checks), in the shape and dtype of ``train``. Adds
        the arms above; torch classifiers only; ``augmenter`` must not be
        fitted yet.
    self_training_threshold : float
        The probability above which the ``self_training`` arm keeps a
        pseudo-label.
    arms : sequence of str, optional
        Run only these arms (of :data:`ganaug.evaluation.stats.ARMS`); default all that the other
        arguments allow. Differences from ``real`` or ``classical`` need
        those arms.
    loss_baselines : bool or "auto"
        Add the ``class_weighted``, ``logit_adjusted`` and ``gan+logit_adjusted``
        arms (the built-in torch training loop only). ``"auto"``: when the
        largest class of ``train`` has at least 1.5 times the samples of the
        smallest, and neither ``estimator`` nor ``train_fn`` is given.

    Returns
    -------
    AugmentationReport
        Rows ``arm, ratio, classical, seed, accuracy, balanced_accuracy,
        macro_f1, per_class_recall, n_real, n_synthetic`` (``ratio`` is None
        for ``gan_only``; for torch models ``n_synthetic`` is per epoch);
        ``summary()`` gives deltas with confidence intervals. With a
        ``SyntheticAugmenter(self_check=True)``, the rows of the GAN arms
        also hold ``self_check``: the candidate the seed's check chose on
        held-out training rows (its reach is the one the GAN arms sample at;
        their ratio is the one in ``ratios``).

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
    x, labels, dtype, _ = collect_xy(train)
    tx, tlabels, _, _ = collect_xy(test)
    seeds, ratios = _validate_compare_args(
        model_fn=model_fn, train_fn=train_fn, estimator=estimator, ratios=ratios, seeds=seeds, classical=classical, x=x
    )
    check_disjoint(x, tx)
    prefitted = augmenter is not None and is_fitted(augmenter)
    xu = _check_unlabelled(
        unlabelled,
        x,
        dtype=dtype,
        test_x=tx,
        estimator=estimator,
        prefitted=prefitted,
        threshold=self_training_threshold,
    )
    if prefitted:
        check_fitted_on(augmenter, x, labels)
    classes = np.unique(labels)
    unknown = sorted(set(np.unique(tlabels).tolist()) - set(classes.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"the test set has classes {unknown} that train lacks ({classes.tolist()}); a classifier cannot learn them"
        )
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    y_true = label_indices(tlabels, lookup).numpy()
    dev = resolve_device(device)
    gan_ratios = [r for r in ratios if r > 0] if augmenter is not None else []
    with_losses = _loss_baselines(loss_baselines, labels, custom_loop=estimator is not None or train_fn is not None)
    run_arms = None if arms is None else [str(a) for a in ([arms] if isinstance(arms, str) else arms)]
    arms = [("real", 0.0, False)]
    if classical is not None:
        arms.append(("classical", 0.0, True))
    arms += [("gan", r, False) for r in gan_ratios]
    if classical is not None:
        arms += [("classical+gan", r, True) for r in gan_ratios]
    if with_losses:
        arms += [("class_weighted", 0.0, False), ("logit_adjusted", 0.0, False)]
        arms += [("gan+logit_adjusted", r, False) for r in gan_ratios]
    if include_cas and augmenter is not None:
        arms.append(("gan_only", None, False))
    if xu is not None:
        arms.append(("self_training", None, classical is not None))
        if augmenter is not None:
            arms += [(f"{arm}+unlabelled", r, tf) for arm, r, tf in arms if arm in ("gan", "classical+gan", "gan_only")]
    if run_arms is not None:
        unknown = sorted(set(run_arms) - {arm for arm, _, _ in arms}, key=str)
        if unknown:
            raise ValueError(
                f"arms {unknown} are not among those these arguments allow: {sorted({a for a, _, _ in arms})}"
            )
        arms = [a for a in arms if a[0] in run_arms]
        if filter_confidence is not None and "real" not in run_arms:
            raise ValueError("filter_confidence judges samples with the real-only classifier: keep 'real' in arms")
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
            aug = aug_u = None
            # building the GAN's modules draws from torch's global generator: fork it so the caller's stream is untouched
            if any(arm in _GAN_ARMS for arm, _, _ in arms):
                with seeded_global_rng(seed, dev):
                    aug = augmenter if prefitted else clone(augmenter).set_params(random_state=seed).fit((x, labels))
            if any(arm.endswith("+unlabelled") for arm, _, _ in arms):
                with seeded_global_rng(seed, dev):
                    aug_u = clone(augmenter).set_params(random_state=seed).fit((x, labels), unlabelled=xu)
            models = {}  # the seed's real-only / classical classifiers: the filter's judge, the self-training teacher
            for arm, ratio, with_classical in arms:
                bar.set_postfix_str(f"seed {seed} {arm}" + (f" x{ratio:g}" if ratio else ""))
                tf = (
                    _classical(classical, low, high, seed=transform_seed, on_synthetic=classical_on_synthetic)
                    if with_classical
                    else None
                )
                if arm == "self_training":
                    base = "classical" if with_classical else "real"
                    if base not in models:  # left out of arms= but needed as the teacher; the student gets a fresh tf
                        models[base] = _run_torch(
                            study, None, base, ratio=0.0, tf=tf, seed=run_seed, sample_seed=sample_seed
                        )[3]
                        tf = (
                            _classical(classical, low, high, seed=transform_seed, on_synthetic=True)
                            if with_classical
                            else None
                        )
                    student = _self_training_study(study, models[base], xu, threshold=self_training_threshold)
                    scores = _run_torch(
                        student, None, "real", ratio=0.0, tf=tf, seed=run_seed, sample_seed=sample_seed
                    )[0]
                    n_real, n_syn = len(labels), len(student.labels) - len(labels)  # n_synthetic: pseudo-labelled
                elif estimator is not None:
                    scores, n_real, n_syn = _run_sklearn(
                        study,
                        aug,
                        arm,
                        ratio=ratio,
                        tf=tf,
                        seed=run_seed,
                        sample_seed=sample_seed,
                        transform_seed=transform_seed,
                    )
                else:
                    filt = None
                    if filter_confidence is not None and arm in ("gan", "classical+gan", "gan+logit_adjusted"):
                        filt = SyntheticFilter(models["real"], min_confidence=float(filter_confidence), classes=classes)
                    gan, name = (aug_u, arm[: -len("+unlabelled")]) if arm.endswith("+unlabelled") else (aug, arm)
                    scores, n_real, n_syn, model = _run_torch(
                        study, gan, name, ratio=ratio, tf=tf, seed=run_seed, sample_seed=sample_seed, filt=filt
                    )
                    if arm in ("real", "classical"):
                        models[arm] = model
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
                if arm in _GAN_ARMS or arm.endswith("+unlabelled"):
                    # SyntheticAugmenter(self_check=True): what its check chose on held-out rows
                    check = getattr(aug_u if arm.endswith("+unlabelled") else aug, "self_check_", None)
                    if check is not None:
                        rows[-1]["self_check"] = check["chosen"]
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
        "loss_baselines": with_losses,
    }
    return AugmentationReport(rows, meta=meta)


def _loss_baselines(value, labels: np.ndarray, *, custom_loop: bool) -> bool:
    """Whether a comparison runs the class-weighted and logit-adjusted arms (``loss_baselines`` resolved)."""
    if value == "auto":
        counts = np.unique(labels, return_counts=True)[1]
        return bool(not custom_loop and len(counts) > 1 and counts.max() >= 1.5 * counts.min())
    value = check_flag(value, "loss_baselines")
    if value and custom_loop:
        raise ValueError(
            "loss_baselines trains the built-in torch loop with other losses; with estimator or train_fn, "
            "weigh the classes yourself (e.g. class_weight='balanced') and pass loss_baselines=False"
        )
    return value


def _check_unlabelled(unlabelled, x, *, dtype, test_x, estimator, prefitted, threshold):
    """The unlabelled inputs of a comparison as a tensor (``None`` without), checked against train and test."""
    if unlabelled is None:
        return None
    if estimator is not None:
        raise ValueError("unlabelled works with torch classifiers (model_fn or the default), not with estimator")
    if prefitted:
        raise ValueError(
            "with unlabelled, pass an augmenter that is not fitted yet: the comparison fits it with and without "
            "the unlabelled data for every seed"
        )
    if not Interval("real", 0, 1).accepts(threshold):
        raise ValueError(f"self_training_threshold must be a probability in [0, 1]; got {threshold!r}")
    xu, dtype_u = collect_inputs(unlabelled)
    if dtype_u != dtype:
        raise TypeError(f"unlabelled holds {dtype_u} values but train {dtype}: pass both in the same value space")
    if tuple(xu.shape[1:]) != tuple(x.shape[1:]):
        raise ValueError(f"unlabelled samples have shape {tuple(xu.shape[1:])} but train's {tuple(x.shape[1:])}")
    try:
        check_disjoint(xu, test_x)
    except ValueError as exc:  # unlabelled data comes from the training pool: test images in it leak
        raise ValueError(f"unlabelled data overlaps the test set: {exc}") from None
    return xu


def _self_training_study(study: _Study, teacher, xu: torch.Tensor, *, threshold: float) -> _Study:
    """``study`` with the unlabelled samples the teacher gives at least ``threshold`` added, under its labels."""
    conf, pred = predict_proba(teacher, xu).max(dim=1)
    keep = (conf >= threshold).nonzero(as_tuple=True)[0]
    labels = np.concatenate([study.labels, study.classes[pred[keep].numpy()]])
    return dataclasses.replace(study, x=torch.cat([study.x, xu[keep]]), labels=labels)
