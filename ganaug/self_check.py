"""The self-check of an over-sampling: do the GAN's samples help a classifier of the user's own data?

Before :class:`ganaug.GANOverSampler` tops classes up with synthetic samples, ``self_check=True`` holds out part
of every class, fits the GAN on the rest, and trains the same small classifier (:class:`ganaug.classifier.
DefaultClassifier`, a fixed budget) on the rest four ways: balanced with the GAN's samples (for the warp generator
at several deformation reaches), balanced by duplicating real rows (random over-sampling), and as it is with each
loss that weighs the classes instead (:data:`CHECK_LOSSES`: class weights, logit adjustment), the baselines a
practitioner tries first. The held-out rows score each by their balanced probability (the mean over classes of the
probability the classifier gives a held-out row's own class): with one or two held-out rows in the smallest
classes, accuracy is too coarse to rank them, and the log-likelihood leant to logit adjustment where it was not
the best. The candidates that generate nothing cost no GAN fit, so they are scored on :data:`BASELINE_SPLITS`
held-out splits (the GAN's and more) and ranked by their mean. The sampler then uses what scored best; when
duplication or a loss beats every synthetic variant, it says so (:class:`SyntheticSamplesWarning`) and appends
duplicates, or nothing (the loss is the user's to apply), instead of samples that hurt.

Both checks' classifiers judge images larger than :data:`CHECK_SIDE` px on the longer side shrunk to it
(:func:`judged`; the GAN still samples at the images' own size): at full size their classifiers were most of a
check's cost (at 96 x 128 in colour, 44 times the plain fit; shrunk, 4.7 times, as at 28 x 28).

``SyntheticAugmenter(self_check=True)`` runs the same kind of check for augmentation (:func:`check_augmentation`):
the classifier trains on the fit part alone and with the GAN's samples at several ratios (and reaches), scored by
the held-out rows' balanced log-likelihood, and the augmenter keeps what scored best, real data alone included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._validation import check_positive_int, child_seeds
from ._warnings import warn
from .classifier import predict_proba, train_classifier
from .resolution import WORK_SIDE
from .scaling import MIN_IMAGE_SIZE

#: The share of every class (of at least 2 rows; at least one row each) held out to score the candidates.
HELD_OUT_FRACTION = 0.2
#: The warp generator's deformation reaches tried, as fractions of the reach it was trained with.
REACHES = (1.0, 0.5, 0.25)
#: Synthetic samples per real sample tried by an augmenter's self-check (:func:`check_augmentation`).
RATIOS = (0.5, 1.0, 2.0)
#: The classifier's budget for each candidate of an augmenter's check (batches of 64).
CHECK_STEPS = 300
#: The classifier's budget for each candidate of an over-sampling's check: its candidates train on sets of very
#: different sizes (topped up to the largest class, or as they are), and at 300 steps the check preferred the
#: smaller sets where a classifier trained longer did better with the samples (benchmarks/family_defaults.py
#: --self-check; docs/settings.md, "Beyond digits").
RESAMPLING_CHECK_STEPS = 600
#: The losses an over-sampling's check weighs against its top-ups (:data:`ganaug.classifier.LOSSES`), each on the
#: fit part as it is.
CHECK_LOSSES = ("class_weighted", "logit_adjusted")
#: Held-out splits on which an over-sampling's check scores the candidates that generate nothing (duplicates and
#: :data:`CHECK_LOSSES`; the first split is the GAN's, the only one its samples are scored on). Chosen with the
#: score, by the worst image family, on held-out training images (benchmarks/check_choice.py; docs/settings.md,
#: "Beyond digits").
BASELINE_SPLITS = 3
#: The longer side, in pixels, of the images the checks' classifiers train and score on (:func:`judged`): larger
#: images are shrunk to it, as the warp generator's networks see them (:data:`ganaug.resolution.WORK_SIDE`). At
#: full size a check of colour images at 96 x 128 took 44 times the plain fit, nearly all of it in its classifiers
#: (docs/settings.md, "Beyond digits").
CHECK_SIDE = WORK_SIDE
#: The label of the progress bar of a check's GAN fit on its fit part (the fit on all the data shows
#: :data:`ganaug.training.FIT_BAR`).
GAN_BAR = "ganaug self-check: GAN"
#: What each check ranks its candidates by (see :func:`_held_out_scores`).
RESAMPLING_SCORE = "probability"
AUGMENTATION_SCORE = "log-likelihood"


@contextlib.contextmanager
def resampling_check_steps(n_steps: int):
    """Within the ``with`` block, an over-sampling's check trains each classifier ``n_steps`` batches instead of
    :data:`RESAMPLING_CHECK_STEPS`, which is given back on leaving it (also on an error).

    For benchmarks and quick runs: the default budget is what the check was chosen with.

    Examples
    --------
    >>> import ganaug.self_check as sc
    >>> with sc.resampling_check_steps(5):
    ...     sc.RESAMPLING_CHECK_STEPS
    5
    >>> sc.RESAMPLING_CHECK_STEPS
    600
    """
    global RESAMPLING_CHECK_STEPS
    n_steps = check_positive_int(n_steps, "n_steps")
    before = RESAMPLING_CHECK_STEPS
    RESAMPLING_CHECK_STEPS = n_steps
    try:
        yield
    finally:
        RESAMPLING_CHECK_STEPS = before


class SyntheticSamplesWarning(UserWarning):
    """The self-check found that synthetic samples did not help a classifier of the held-out data."""


def warn_lost(owner: str, check: dict, *, lost: str, instead: str) -> None:
    """Say that a self-check found the GAN's samples did not help: ``owner's self-check: on N held-out training
    rows, <lost> (balanced <score> of the held-out rows: <scores>); <instead>``."""
    scores = ", ".join(f"{k} {v:.3f}" for k, v in check["scores"].items())
    warn(
        f"{owner}'s self-check: on {check['n_held_out']} held-out training rows, {lost} (balanced "
        f"{check['score']} of the held-out rows: {scores}); {instead}",
        SyntheticSamplesWarning,
    )


def held_out_split(codes: np.ndarray, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rows the GAN and classifiers train on, and of the held-out rows that score them.

    Every class of at least 2 rows gives ``round(fraction * n)`` of them (at least 1, always leaving 1) to the
    held-out part; a class of 1 row stays whole.

    Examples
    --------
    >>> codes = np.array([0] * 10 + [1] * 3 + [2])
    >>> fit, held = held_out_split(codes, fraction=0.2, seed=0)
    >>> np.bincount(codes[held], minlength=3).tolist(), len(fit) + len(held)
    ([2, 1, 0], 14)
    """
    rng = np.random.RandomState(seed)
    held = []
    for k in np.unique(codes):
        rows = rng.permutation(np.where(codes == k)[0])
        if len(rows) >= 2:
            held.append(rows[: min(len(rows) - 1, max(1, round(fraction * len(rows))))])
    held = np.sort(np.concatenate(held)) if held else np.zeros(0, dtype=int)
    return np.setdiff1d(np.arange(len(codes)), held), held


def duplicate_rows(codes: np.ndarray, wanted: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """For every entry of ``wanted`` (a class code), the index of a row of ``codes`` of that class, drawn with
    replacement: random over-sampling. Each class draws its rows in one call, in the order its first entry comes.

    Examples
    --------
    >>> idx = duplicate_rows(np.array([0, 0, 1, 1, 1]), np.array([1, 1, 0]), np.random.RandomState(0))
    >>> np.array([0, 0, 1, 1, 1])[idx].tolist()
    [1, 1, 0]
    """
    idx = np.zeros(len(wanted), dtype=np.int64)
    for k in dict.fromkeys(wanted.tolist()):
        at = wanted == k
        idx[at] = rng.choice(np.where(codes == k)[0], int(at.sum()), replace=True)
    return idx


def _warp_modules(generator: torch.nn.Module) -> list:
    """The modules of ``generator`` whose deformation reach can be scaled (:meth:`ganaug.models.WarpGenerator.set_reach`)."""
    return [m for m in generator.modules() if hasattr(m, "set_reach")]


def set_reach(generator: torch.nn.Module, reach: float) -> None:
    """Scale the warp generator's deformation reach to ``reach`` times the one it was trained with.

    The reach travels with the generator's ``state_dict``, so a saved and loaded augmenter bends as far.
    """
    for m in _warp_modules(generator):
        m.set_reach(reach)


def judged(x: torch.Tensor) -> torch.Tensor:
    """Images as the checks' classifiers see them: ``(N, [C,] H, W)`` images whose longer side is over
    :data:`CHECK_SIDE` px are shrunk by area averages so that it is :data:`CHECK_SIDE` (aspect kept, no side under
    its own size or :data:`ganaug.scaling.MIN_IMAGE_SIZE`, whichever is smaller); smaller images and flat rows are
    returned as they are.

    Examples
    --------
    >>> judged(torch.zeros(2, 3, 96, 128)).shape, judged(torch.zeros(2, 28, 28)).shape
    (torch.Size([2, 3, 24, 32]), torch.Size([2, 28, 28]))
    >>> judged(torch.zeros(2, 1, 16, 512)).shape, judged(torch.zeros(2, 784)).shape
    (torch.Size([2, 1, 8, 32]), torch.Size([2, 784]))
    """
    if x.dim() not in (3, 4) or max(x.shape[-2:]) <= CHECK_SIDE:
        return x
    h, w = x.shape[-2:]
    scale = CHECK_SIDE / max(h, w)
    size = tuple(max(min(side, MIN_IMAGE_SIZE), round(side * scale)) for side in (h, w))
    shrunk = F.interpolate(x.unsqueeze(1) if x.dim() == 3 else x, size=size, mode="area")
    return shrunk.squeeze(1) if x.dim() == 3 else shrunk


def _held_out_scores(model, x: torch.Tensor, codes: np.ndarray) -> dict:
    """The mean over classes of the held-out rows' log-probability of their own class (``"log-likelihood"``) and
    of that probability itself (``"probability"``)."""
    own = predict_proba(model, x).numpy()[np.arange(len(codes)), codes]
    per_row = {"log-likelihood": np.log(np.clip(own, 1e-6, None)), "probability": own}
    return {name: float(np.mean([v[codes == k].mean() for k in np.unique(codes)])) for name, v in per_row.items()}


@dataclasses.dataclass
class _Split:
    """A held-out split of a check: the fit part's rows (float32, as :func:`judged` sees them) and class codes, and
    the held-out rows that score every candidate trained on them (with the same seed and budget)."""

    x: torch.Tensor
    codes: np.ndarray
    held_x: torch.Tensor
    held_codes: np.ndarray
    n_classes: int
    seed: int
    device: torch.device
    n_steps: int

    def score(self, extra_x: torch.Tensor, extra_codes: np.ndarray, loss: str = "cross_entropy") -> dict:
        """The held-out rows' scores (:func:`_held_out_scores`) under the small classifier trained with ``loss`` on
        the fit part plus ``extra_x`` (rows as :func:`judged` sees them)."""
        model = train_classifier(
            torch.cat([self.x, extra_x]),
            np.r_[self.codes, extra_codes],
            np.arange(self.n_classes),
            seed=self.seed,
            device=self.device,
            n_steps=self.n_steps,
            batch_size=64,
            lr=1e-3,
            verbose=0,
            desc="self-check",
            base_x=self.x,
            loss=loss,
        )
        return _held_out_scores(model, self.held_x, self.held_codes)


@dataclasses.dataclass
class _FitPart(_Split):
    """The split the GAN is fitted on: a :class:`_Split` with the fitted augmenter and the reaches to try."""

    augmenter: object
    reaches: tuple
    native_shape: tuple

    def samples(self, wanted: np.ndarray, seed: int) -> torch.Tensor:
        """The GAN's samples of the classes in ``wanted`` (one per entry), shaped as the fit part's rows (drawn at
        the training rows' own shape, then :func:`judged`)."""
        if not len(wanted):
            return self.x[:0]
        syn = np.asarray(self.augmenter.sample(len(wanted), y=wanted, random_state=seed)[0], dtype=np.float32)
        return judged(torch.as_tensor(syn).reshape((-1,) + self.native_shape))


def _progress(total: int, verbose: int):
    """The progress bar over a check's ``total`` classifiers: shown with ``verbose >= 1``, left on screen with 2 (as
    the GAN's own bar)."""
    return tqdm(
        total=total,
        desc="ganaug self-check",
        unit="classifier",
        disable=verbose <= 0,
        leave=verbose > 1,
        dynamic_ncols=True,
    )


def _rows(x, codes, *, fit: np.ndarray, held: np.ndarray) -> dict:
    """The row fields of a :class:`_Split` with fit part ``fit`` and held-out part ``held`` (indices), the rows as
    :func:`judged` sees them."""
    return {
        "x": judged(torch.as_tensor(np.asarray(x[fit], dtype=np.float32))),
        "codes": codes[fit],
        "held_x": judged(torch.as_tensor(np.asarray(x[held], dtype=np.float32))),
        "held_codes": codes[held],
    }


def _fit_part(x, codes, *, fit_augmenter: Callable, n_classes: int, seed: int, device, n_steps: int):
    """``(n_held_out, part)``: the held-out split of a check and, unless the held-out rows have fewer than 2
    classes (``part`` is then None), the :class:`_FitPart` with the GAN ``fit_augmenter`` fitted on the rest,
    whose classifiers train ``n_steps`` batches.
    The split and the classifiers draw from the first two of ``child_seeds(seed, n)`` (the same for every n)."""
    split_seed, clf_seed = child_seeds(seed, 2)
    fit, held = held_out_split(codes, fraction=HELD_OUT_FRACTION, seed=split_seed)
    if len(np.unique(codes[held])) < 2:
        return int(len(held)), None
    augmenter = fit_augmenter(x[fit], codes[fit])
    part = _FitPart(
        **_rows(x, codes, fit=fit, held=held),
        n_classes=n_classes,
        seed=clf_seed,
        device=device,
        n_steps=n_steps,
        augmenter=augmenter,
        reaches=REACHES if _warp_modules(augmenter.generator_) else (None,),
        native_shape=tuple(x.shape[1:]),
    )
    return int(len(held)), part


def _more_splits(x, codes, *, like: _FitPart, seeds) -> list[_Split]:
    """Further held-out splits of ``x``, one per seed of ``seeds`` (those whose held-out rows have 2 classes or
    more), whose classifiers train as those of ``like``."""
    splits = []
    for split_seed in seeds:
        fit, held = held_out_split(codes, fraction=HELD_OUT_FRACTION, seed=split_seed)
        if len(np.unique(codes[held])) >= 2:
            classifier = {k: getattr(like, k) for k in ("n_classes", "seed", "device", "n_steps")}
            splits.append(_Split(**_rows(x, codes, fit=fit, held=held), **classifier))
    return splits


def _top_up(split: _Split) -> np.ndarray:
    """The class codes that bring every class of ``split``'s fit part to its largest, one entry per row to add."""
    counts = np.bincount(split.codes, minlength=split.n_classes)
    return np.repeat(np.arange(split.n_classes), counts.max() - counts)


def _baseline_scores(split: _Split, *, dup_seed: int, bar) -> dict:
    """Each candidate that generates nothing on ``split``: every class topped up to the largest by duplicates of its
    rows, and each of :data:`CHECK_LOSSES` on the rows as they are; ``{candidate: scores}``. Each classifier
    trained moves ``bar`` (:func:`_progress`) on by one."""
    dup = duplicate_rows(split.codes, _top_up(split), np.random.RandomState(dup_seed))
    out = {"duplicates": split.score(split.x[dup], split.codes[dup])}
    bar.update(1)
    for loss in CHECK_LOSSES:
        out[loss] = split.score(split.x[:0], split.codes[:0], loss=loss)
        bar.update(1)
    return out


def _best(scores: dict) -> str:
    """The candidate of ``scores`` (``{candidate: score}``) that scores highest; a tie keeps the GAN (candidates
    whose name starts with ``"gan"``)."""
    return max(scores, key=lambda k: (scores[k], k.startswith("gan")))


def run_self_check(
    x: np.ndarray,
    codes: np.ndarray,
    *,
    fit_augmenter: Callable,
    n_classes: int,
    seed: int,
    device: torch.device,
    verbose: int = 0,
) -> dict:
    """Score the GAN's top-ups against duplication and the class-weighing losses on held-out rows; returns what
    was measured and chosen.

    ``fit_augmenter(x, codes)`` returns a fitted :class:`ganaug.SyntheticAugmenter` (the one the sampler would
    use). Returns ``{"scores": {candidate: balanced held-out probability}, "score": "probability", "chosen":
    candidate, "reach": float or None, "loss": str or None, "n_held_out": int, "n_splits": int, "skipped": bool,
    "seconds": {"gan fit": float, "classifiers": float}}`` (``seconds``: the wall time of the GAN's fit on the fit
    part, and of the classifiers with the samples they train on);
    candidates are ``"gan"`` (or ``"gan reach=R"`` for each of :data:`REACHES` with the warp generator), scored on
    the split the GAN was fitted on, and ``"duplicates"`` and each of :data:`CHECK_LOSSES` (the fit part as it is,
    trained with that loss; ``loss`` names it when it was chosen), whose score is the mean over ``n_splits``
    held-out splits (:data:`BASELINE_SPLITS`, fewer where a split leaves one class held out). A tie keeps the GAN.
    ``verbose >= 1`` shows a progress bar over the classifiers (after the GAN's own, if ``fit_augmenter`` shows one).
    """
    # the first two are _fit_part's; then the samples', the duplicates' and the further splits'
    sample_seed, dup_seed, *split_seeds = child_seeds(seed, 3 + BASELINE_SPLITS)[2:]
    start = time.perf_counter()
    n_held_out, part = _fit_part(
        x,
        codes,
        fit_augmenter=fit_augmenter,
        n_classes=n_classes,
        seed=seed,
        device=device,
        n_steps=RESAMPLING_CHECK_STEPS,
    )
    if part is None:
        return {
            "scores": {},
            "score": RESAMPLING_SCORE,
            "chosen": "gan",
            "reach": None,
            "loss": None,
            "n_held_out": n_held_out,
            "n_splits": 0,
            "skipped": True,
            "seconds": {"gan fit": 0.0, "classifiers": 0.0},
        }
    gan_seconds = time.perf_counter() - start
    top_up = _top_up(part)
    splits = [part, *_more_splits(x, codes, like=part, seeds=split_seeds)]
    scores = {}
    with _progress(len(part.reaches) + len(splits) * (1 + len(CHECK_LOSSES)), verbose) as bar:
        for reach in part.reaches:
            if reach is not None:
                set_reach(part.augmenter.generator_, reach)
            name = "gan" if reach is None else f"gan reach={reach:g}"
            scores[name] = part.score(part.samples(top_up, sample_seed), top_up)[RESAMPLING_SCORE]
            bar.update(1)
        per_split = [_baseline_scores(split, dup_seed=dup_seed, bar=bar) for split in splits]
    for name in per_split[0]:
        scores[name] = float(np.mean([s[name][RESAMPLING_SCORE] for s in per_split]))
    chosen = _best(scores)
    return {
        "scores": scores,
        "score": RESAMPLING_SCORE,
        "chosen": chosen,
        "reach": float(chosen.split("=")[1]) if chosen.startswith("gan reach=") else None,
        "loss": chosen if chosen in CHECK_LOSSES else None,
        "n_held_out": n_held_out,
        "n_splits": len(splits),
        "skipped": False,
        "seconds": {"gan fit": gan_seconds, "classifiers": time.perf_counter() - start - gan_seconds},
    }


def _augmentation_scores(part: _FitPart, *, ratios: tuple[float, ...], sample_seed: int, bar=None) -> tuple:
    """``(scores, candidates)``: the held-out scores (:func:`_held_out_scores`, both) of the fit part alone
    (``"real"``) and with the GAN's samples at each ratio and reach, and ``{candidate: (ratio, reach)}``; what
    :func:`check_augmentation` chooses from. Each classifier trained moves ``bar`` on by one."""
    counts = np.bincount(part.codes, minlength=part.n_classes)
    scores, candidates = {"real": part.score(part.x[:0], part.codes[:0])}, {"real": (0.0, None)}
    if bar is not None:
        bar.update(1)
    for reach in part.reaches:
        if reach is not None:
            set_reach(part.augmenter.generator_, reach)
        for ratio in ratios:
            wanted = np.repeat(np.arange(part.n_classes), np.round(ratio * counts).astype(np.int64))
            name = f"gan x{ratio:g}" + ("" if reach is None else f" reach={reach:g}")
            candidates[name] = (float(ratio), None if reach is None else float(reach))
            scores[name] = part.score(part.samples(wanted, sample_seed), wanted)
            if bar is not None:
                bar.update(1)
    return scores, candidates


def check_augmentation(
    x: np.ndarray,
    codes: np.ndarray,
    *,
    fit_augmenter: Callable,
    n_classes: int,
    seed: int,
    device: torch.device,
    ratios: tuple[float, ...] = RATIOS,
    verbose: int = 0,
) -> dict:
    """Score real data alone against real plus the GAN's samples on held-out rows; returns what was measured and
    chosen.

    ``fit_augmenter(x, codes)`` returns a :class:`ganaug.SyntheticAugmenter` fitted on the fit part, with the
    settings of the augmenter being checked. The candidates are ``"real"`` and ``"gan xR"`` for each ratio ``R``
    (``round(R * n_k)`` samples of each class ``k`` of ``n_k`` fit rows), with the warp generator ``"gan xR
    reach=F"`` for each reach of :data:`REACHES`. Returns ``{"scores": {candidate: balanced held-out
    log-likelihood}, "score": "log-likelihood", "chosen": candidate, "ratio": float (0.0 for "real"), "reach": float
    or None, "n_held_out": int, "skipped": bool, "seconds": {"gan fit": float, "classifiers": float}}`` (as
    :func:`run_self_check`'s); a split that leaves fewer than 2 classes in the held-out part
    skips the check and keeps ratio 1 at the trained reach. ``verbose >= 1`` shows a progress bar over the
    classifiers.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from ganaug import GANConfig, SyntheticAugmenter
    >>> X, y = load_iris(return_X_y=True)
    >>> def fit(x, c):
    ...     gan = GANConfig(batch_size=16, n_steps=5)
    ...     return SyntheticAugmenter(gan=gan, random_state=0, verbose=0).fit(x.astype("float32"), c)
    >>> check = check_augmentation(X, y, fit_augmenter=fit, n_classes=3, seed=0, device=torch.device("cpu"))
    >>> sorted(check["scores"]), check["n_held_out"]
    (['gan x0.5', 'gan x1', 'gan x2', 'real'], 30)
    >>> check["ratio"] == (0.0 if check["chosen"] == "real" else float(check["chosen"].split("x")[1]))
    True
    """
    sample_seed = child_seeds(seed, 3)[2]  # the first two are _fit_part's
    start = time.perf_counter()
    n_held_out, part = _fit_part(
        x, codes, fit_augmenter=fit_augmenter, n_classes=n_classes, seed=seed, device=device, n_steps=CHECK_STEPS
    )
    if part is None:
        return {
            "scores": {},
            "score": AUGMENTATION_SCORE,
            "chosen": "gan x1",
            "ratio": 1.0,
            "reach": None,
            "n_held_out": n_held_out,
            "skipped": True,
            "seconds": {"gan fit": 0.0, "classifiers": 0.0},
        }
    gan_seconds = time.perf_counter() - start
    with _progress(1 + len(part.reaches) * len(ratios), verbose) as bar:
        measured, candidates = _augmentation_scores(part, ratios=ratios, sample_seed=sample_seed, bar=bar)
    scores = {name: s[AUGMENTATION_SCORE] for name, s in measured.items()}
    chosen = _best(scores)
    ratio, reach = candidates[chosen]
    return {
        "scores": scores,
        "score": AUGMENTATION_SCORE,
        "chosen": chosen,
        "ratio": ratio,
        "reach": reach,
        "n_held_out": n_held_out,
        "skipped": False,
        "seconds": {"gan fit": gan_seconds, "classifiers": time.perf_counter() - start - gan_seconds},
    }


__all__ = [
    "BASELINE_SPLITS",
    "CHECK_LOSSES",
    "CHECK_SIDE",
    "GAN_BAR",
    "RATIOS",
    "RESAMPLING_CHECK_STEPS",
    "REACHES",
    "SyntheticSamplesWarning",
    "check_augmentation",
    "duplicate_rows",
    "held_out_split",
    "judged",
    "resampling_check_steps",
    "run_self_check",
    "set_reach",
]
