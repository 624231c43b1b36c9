"""The ablation on a user's own images: real only, classical, GAN and classical + GAN at a few images per class.

:func:`run_ablation` is what ``ganaug compare DATA`` runs: for every images-per-class ``N`` and seed it draws
``N`` training images of every class (a different draw per seed), fits the default GAN on exactly those, and
trains one classifier per arm on them, scored on a test split the GANs never see. The table, ``summary.md``,
``gain.png`` and ``samples.png`` are written as the MNIST recipe writes them.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .._validation import check_sample_dims, user_path
from .._warnings import warn
from ..augmenter import SyntheticAugmenter
from ..classical import classical_for
from ..classifier import DEFAULT_N_STEPS
from ..config import GANConfig
from ..images import save_grid
from ..io import subsample_per_class
from .compare import compare_augmentation
from .report import AugmentationReport
from .stats import check_seeds

#: What each (N, seed) cell trains: one classifier per arm, the GAN at ``ratio`` synthetic images per real one.
ARMS = ("real", "classical", "gan", "classical+gan")


def split_test(x: np.ndarray, y: np.ndarray, *, test_size: float, seed: int = 0):
    """``(train, test)`` index arrays: a stratified ``test_size`` share of every class held out."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1; got {test_size!r}")
    rng = np.random.RandomState(seed)
    test = []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        test.append(rows[: max(1, round(test_size * len(rows)))])
    test = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(y)), test), test


def _checked_rows(rows: list[dict], check: dict) -> list[dict]:
    """A self-checked cell's rows: its GAN arms' ``ratio`` is None (the check's, in ``checked_ratio``). A check
    that chose real data alone adds no samples, so that cell's GAN arms are its real-only and classical runs."""
    if check["ratio"] == 0:
        gan = {"real": "gan", "classical": "classical+gan"}
        rows = rows + [{**r, "arm": gan[r["arm"]], "self_check": check["chosen"]} for r in rows]
    out = []
    for r in rows:
        if r["arm"] in ("gan", "classical+gan"):
            r = {**r, "ratio": None, "checked_ratio": check["ratio"]}
        out.append(r)
    return out


def self_check_lines(rows) -> str:
    """What each cell's self-check chose, as a Markdown list (empty without a self-check)."""
    chosen = {(r["n_per_class"], r["seed"]): r["self_check"] for r in rows if "self_check" in r}
    if not chosen:
        return ""
    items = "".join(f"- N={n}, seed {seed}: {c}\n" for (n, seed), c in sorted(chosen.items()))
    return (
        "What each cell's self-check chose on a held-out fifth of its training images "
        "(`SyntheticAugmenter(self_check=True)`; the GAN arms above mix its samples at the chosen reach and ratio, "
        "as `wrap()` does by default, and a cell whose check chose real data alone adds none):\n\n" + items
    )


def _capped(n_per_class: Sequence[int], y: np.ndarray) -> list[int]:
    """``n_per_class`` with every ``N`` above the smallest class's count lowered to it (once each), with a warning.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _capped([5, 10, 50], np.array([0] * 40 + [1] * 8))
    [5, 8]
    >>> print(caught[0].message)
    class 1 has 8 training images: the cells at N = 10, 50 images per class take 8 of every class
    """
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min())
    over = [n for n in n_per_class if n > smallest]
    if over:
        warn(
            f"class {classes[counts.argmin()]} has {smallest} training images: the cells at N = "
            f"{', '.join(map(str, over))} images per class take {smallest} of every class",
            UserWarning,
        )
    return list(dict.fromkeys(min(n, smallest) for n in n_per_class))


def run_ablation(
    train,
    test,
    *,
    n_per_class: Sequence[int] = (10,),
    seeds: Sequence[int] = (0, 1, 2),
    ratio: float = 1.0,
    gan: GANConfig | None = None,
    classical=None,
    clf_steps: int = DEFAULT_N_STEPS,
    device: str = "auto",
    out=None,
    title: str = "Augmentation ablation",
    verbose: int = 1,
    self_check: bool = False,
) -> AugmentationReport:
    """Real only, classical, GAN and classical + GAN, paired per seed, at ``n_per_class`` images per class.

    Parameters
    ----------
    train, test : tuple (X, y)
        The training pool (each cell draws its images from it) and the test split (scoring only).
    n_per_class : sequence of int
        Training images per class of a cell. An ``N`` above the smallest class's count becomes that count
        (every cell stays balanced) with a warning, and its rows say the ``N`` used.
    seeds : sequence of int
        One cell per seed and ``N``: the draw of the images, the GAN and the classifiers.
    ratio : float
        Synthetic images per real one in the GAN arms.
    gan : GANConfig, optional
        The GAN's settings (default: the library's).
    classical : batched transform, optional
        Default: :func:`ganaug.classical.classical_for` the images (random resized crops and colour
        jitter for colour images, affine and elastic bends for grey ones).
    clf_steps : int
        Training batches of every classifier (:class:`ganaug.evaluation.DefaultClassifier`, ResNet-style
        above 64 px).
    out : str or Path, optional
        Folder for ``results.csv``, ``summary.md``, ``gain.png``, ``samples.png`` and ``config.json``.
    verbose : int
        1 shows a progress bar over the cells with the time left.
    self_check : bool
        Fit every cell's GAN with ``SyntheticAugmenter(self_check=True)`` and run its GAN arms as ``wrap()`` does
        by default: at the reach and ratio its check chose (real data alone where the check chose that; ``ratio``
        is then unused). Their rows have ``ratio`` None and ``checked_ratio``; ``summary.md`` lists each cell's
        choice.

    Returns
    -------
    AugmentationReport
        Rows per arm and seed with ``n_per_class``; ``summary()`` gives the paired differences.
    """
    xtr, ytr = (np.asarray(a) for a in train)
    shape = tuple(check_sample_dims(torch.as_tensor(xtr[:1])).shape[1:])
    classical = classical_for(shape) if classical is None else classical
    out = None if out is None else user_path(out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    n_per_class = _capped(n_per_class, ytr)
    seeds = check_seeds(seeds)
    cells = [(n, seed) for n in n_per_class for seed in seeds]
    meta = {  # config.json; its minutes are added when it is written
        "title": title,
        "images": "x".join(map(str, shape)),
        "n_per_class": list(n_per_class),
        "seeds": list(seeds),
        "ratio": "chosen by each cell's self-check" if self_check else ratio,
        "classical": repr(classical),
        "classifier_steps": clf_steps,
        "gan_config": (gan or GANConfig()).to_dict(),
        "self_check": bool(self_check),
    }
    rows, t0 = [], time.perf_counter()
    bar = tqdm(cells, desc="(N, seed) cells", unit="cell", disable=not verbose)
    done = 0
    try:
        for i, (n, seed) in enumerate(bar):
            bar.set_postfix_str(f"N={n} seed={seed}")
            idx = subsample_per_class(ytr, n, seed)
            cell_train = (xtr[idx], ytr[idx])
            aug = SyntheticAugmenter(gan=gan, random_state=seed, device=device, verbose=0, self_check=self_check)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # few images a class: the warnings are expected here
                aug.fit(cell_train)
                if i == 0 and out is not None:
                    save_grid(aug, out / "samples.png", n_per_class=8, random_state=0)
                # with the self-check, the GAN arms mix at the ratio its check chose, as wrap() does by default
                cell_ratio = aug.self_check_["ratio"] if self_check else ratio
                report = compare_augmentation(
                    cell_train,
                    test,
                    aug,
                    ratios=(0.0, cell_ratio),
                    classical=classical,
                    seeds=(seed,),
                    include_cas=False,
                    device=device,
                    n_steps=clf_steps,
                    verbose=0,
                    arms=ARMS if cell_ratio > 0 else ARMS[:2],
                    loss_baselines=False,
                )
            cell = report.rows if not self_check else _checked_rows(report.rows, aug.self_check_)
            rows += [{"n_per_class": n, **row} for row in cell]
            done += 1
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM under the command line: the finished cells are kept
        bar.close()
        if out is None or not rows:
            raise
        _write(out, _report(rows, meta, t0), rows, unfinished=cells[done:])
        raise KeyboardInterrupt(
            f"{done} of {len(cells)} cells finished; their results are in {out}/ (summary.md lists the rest)"
        ) from stop
    report = _report(rows, meta, t0)
    if out is not None:
        _write(out, report, rows)
    return report


def _report(rows: list[dict], meta: dict, t0: float) -> AugmentationReport:
    """The rows so far as a report; its meta records the minutes since ``t0``."""
    meta = {**meta, "minutes": round((time.perf_counter() - t0) / 60, 2)}
    return AugmentationReport(rows, group_by=("n_per_class",), meta=meta)


def _write(out: Path, report: AugmentationReport, rows: list[dict], *, unfinished=()) -> None:
    """``results.csv``, ``gain.png``, ``config.json`` and ``summary.md`` of the cells that ran; ``unfinished``
    lists the ``(N, seed)`` cells an interruption left out."""
    meta = report.meta
    report.to_csv(out / "results.csv")
    report.plot(out / "gain.png")
    (out / "config.json").write_text(json.dumps({**meta, "unfinished_cells": list(unfinished)}, indent=2, default=str))
    n_seeds = len(meta["seeds"])
    left = (
        f"**Interrupted**: {len(unfinished)} cell{'s' * (len(unfinished) > 1)} (N, seed) did not run: "
        f"{', '.join(f'({n}, {seed})' for n, seed in unfinished)}. The table covers the cells that finished.\n\n"
        if unfinished
        else ""
    )
    (out / "summary.md").write_text(
        f"# {meta['title']}\n\nImages {meta['images']}; {n_seeds} seed{'s' * (n_seeds > 1)}; classical augmentation "
        f"{meta['classical']}; {meta['minutes']:.1f} minutes.\n\n{left}{report.to_markdown()}\n{self_check_lines(rows)}"
    )
