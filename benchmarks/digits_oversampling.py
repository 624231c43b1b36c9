"""GANOverSampler against no resampling, RandomOverSampler and SMOTE on imbalanced digits.

sklearn's 8x8 digits,
a stratified 50% test split, the odd digits cut to 8 training examples each
(the even digits keep their ~90), and the same imblearn pipeline
``[sampler] -> StandardScaler -> LogisticRegression`` for every method, scored
by balanced accuracy on the untouched test half. Every seed draws its own
split, its own 8 examples per odd digit and seeds every sampler. GANOverSampler runs
twice: on its defaults (``architecture="auto"`` reads the 64 columns as 8x8 images: the image
generator, trained at 28 px), and on the 64 columns as flat features (``architecture="offset"``,
what ``"auto"`` gives flat rows of 10 classes).

Run from the repository root::

    python benchmarks/digits_oversampling.py                       # 5 seeds, default GAN
    python benchmarks/digits_oversampling.py --seeds 0 1 2 --set n_steps=800 --set lr_g=1e-3
    python benchmarks/digits_oversampling.py --validation --samplers RandomOverSampler GANOverSampler

``--validation`` sets the test half aside unseen and splits the training half 50/50 the same
way again (odd digits cut to 8, even digits keep ~45): for choosing settings, never for reporting.
``--samplers`` runs only the methods named (no resampling always runs).
``--set FIELD=VALUE`` (repeatable) changes one GANConfig field of the sampler's GAN
(values read as JSON: ``mlp_hidden=128``, ``loss=hinge``, ``betas=[0.5,0.9]``).
A line per (seed, method) is printed as it finishes; the table at the end gives
each method's mean balanced accuracy ± std over seeds, its paired difference from
no resampling (``ganaug.evaluation.paired_difference``: mean over seeds with the
95% interval; an interval above 0 means the method helped), on how many seeds it
beat no resampling, its paired difference from RandomOverSampler, its mean fit
time in seconds and the score of every seed.
PyTorch is limited to ``--threads`` intra-op threads (1 by default): on a
shared 2-core machine two threads made GAN training 5-10x slower.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from ganaug import GANConfig, GANOverSampler  # noqa: E402
from ganaug.config import parse_assignment  # noqa: E402
from ganaug.evaluation import paired_difference  # noqa: E402

N_MINORITY = 8
MINORITY_CLASSES = (1, 3, 5, 7, 9)


def imbalanced_digits(seed: int, validation: bool = False):
    """Stratified 50/50 split of digits; odd digits cut to N_MINORITY training examples.

    ``validation``: the test half is set aside unseen and the training half split 50/50 the same way again
    (the even digits keep ~45 training examples), so that settings are chosen on held-out training rows."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    if validation:
        X_tr, X_te, y_tr, y_te = train_test_split(X_tr, y_tr, test_size=0.5, stratify=y_tr, random_state=seed)
    rng = np.random.RandomState(seed)
    keep = np.ones(len(y_tr), dtype=bool)
    for c in MINORITY_CLASSES:
        rows = np.where(y_tr == c)[0]
        keep[rng.choice(rows, len(rows) - N_MINORITY, replace=False)] = False
    return X_tr[keep], y_tr[keep], X_te, y_te


def samplers(seed: int, gan) -> dict:
    return {
        "none": None,
        "RandomOverSampler": RandomOverSampler(random_state=seed),
        "SMOTE": SMOTE(random_state=seed),
        # "auto" reads the rows as 8x8 images: the image generator (trained at 28 px, sampled back at 8)
        "GANOverSampler": GANOverSampler(gan=gan, random_state=seed),
        # the same rows as flat features: the generator "auto" gives flat rows of 10 classes
        "GAN, flat rows": GANOverSampler(gan=gan, architecture="offset", random_state=seed),
    }


SAMPLERS = tuple(samplers(0, None))


def run(seeds, gan, names=SAMPLERS, validation=False) -> dict:
    """``{method: {"scores": [...], "seconds": [...]}}`` over ``seeds``."""
    results: dict = {}
    for seed in seeds:
        X_tr, y_tr, X_te, y_te = imbalanced_digits(seed, validation)
        for name, sampler in samplers(seed, gan).items():
            if name not in names:
                continue
            steps = ([sampler] if sampler is not None else []) + [StandardScaler(), LogisticRegression(max_iter=2000)]
            model = make_pipeline(*steps)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # GAN small-class / collapse notes
                model.fit(X_tr, y_tr)
            seconds = time.perf_counter() - t0
            score = balanced_accuracy_score(y_te, model.predict(X_te))
            entry = results.setdefault(name, {"scores": [], "seconds": []})
            entry["scores"].append(score)
            entry["seconds"].append(seconds)
            print(f"  seed {seed}  {name:<18} balanced accuracy {score:.4f}  ({seconds:.1f} s)", flush=True)
    return results


def _versus(scores: np.ndarray, base: np.ndarray) -> str:
    d = paired_difference(scores, base)
    return f"{d['delta']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"


def report(results: dict, seeds) -> str:
    base = np.array(results["none"]["scores"])
    ros = np.array(results["RandomOverSampler"]["scores"]) if "RandomOverSampler" in results else None
    lines = [
        f"{'method':<18} {'balanced accuracy':>20} {'vs none [95% CI]':>28} {'wins':>5} "
        f"{'vs RandomOverSampler':>28} {'fit s':>6}   per seed ({', '.join(map(str, seeds))})",
        "-" * 150,
    ]
    for name, entry in results.items():
        s = np.array(entry["scores"])
        vs = _versus(s, base) if name != "none" else ""
        wins = f"{int((s > base).sum())}/{len(s)}" if name != "none" else ""
        vs_ros = _versus(s, ros) if ros is not None and name not in ("none", "RandomOverSampler") else ""
        per_seed = " ".join(f"{v:.4f}" for v in s)
        lines.append(
            f"{name:<18} {s.mean():>11.4f} ± {s.std(ddof=1) if len(s) > 1 else 0.0:.4f} {vs:>28} {wins:>5} "
            f"{vs_ros:>28} {np.mean(entry['seconds']):>6.1f}   {per_seed}"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of the sampler's GAN"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument(
        "--samplers",
        nargs="+",
        choices=SAMPLERS,
        default=list(SAMPLERS),
        help="methods to run (no resampling always runs: the others are compared with it)",
    )
    parser.add_argument(
        "--validation", action="store_true", help="score on held-out training rows (the test half is not used)"
    )
    args = parser.parse_args(argv)
    try:
        gan = GANConfig(**dict(map(parse_assignment, args.set)))
    except (TypeError, ValueError) as exc:
        parser.error(f"--set: {exc}")
    torch.set_num_threads(args.threads)
    print(f"digits, odd digits cut to {N_MINORITY} training examples, 50% stratified test split; seeds {args.seeds}")
    print(f"pipeline: [sampler] -> StandardScaler -> LogisticRegression(max_iter=2000); torch threads {args.threads}")
    print(f"GANOverSampler(gan={gan!r})")
    t0 = time.perf_counter()
    names = ["none"] + [name for name in SAMPLERS if name in args.samplers and name != "none"]
    results = run(args.seeds, gan, names, args.validation)
    print()
    if args.validation:
        print("scored on held-out training rows (--validation): for choosing settings, not for reporting")
    print(report(results, args.seeds))
    print(f"\nwall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
