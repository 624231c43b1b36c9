"""Choosing an image default on every image family at once, by the worst family: imbalanced protocol, held out.

For each family (the MNIST sample, and the glyphs, shapes and textures of ``benchmarks/image_families.py``) and
each seed, a long-tailed training set is drawn from the family's training pool (``--counts``, by default 500, 250,
125, 90, 60, 40, 25, 12, 8 and 5 images of the 10 classes) and scored on up to ``--per-class`` other images of
each class from the same pool: the test splits are never read. The same small CNN and budget
(``ganaug.evaluation.compare_resampling``) trains on the set balanced by RandomOverSampler, with the class-weighted
and the logit-adjusted loss, and balanced by ``GANOverSampler(self_check=False)`` (its samples always) with each
value of the swept GANConfig field.

    python benchmarks/family_defaults.py --families-dir data/families --sweep warp_shift=[0.125,0.25,0.5]
    python benchmarks/family_defaults.py --families-dir data/families --sweep warp_shift=[0.5] --self-check --jobs 2

(write the families first: ``python benchmarks/image_families.py --out data/families``; without
``--families-dir`` only the MNIST sample runs.) Prints a line per (family, seed, arm) as it finishes, then per
family and arm the mean balanced accuracy, and per swept value its paired difference from the best baseline of
that family (the highest mean of RandomOverSampler, class-weighted and logit-adjusted) with the 95% interval,
and the worst family's difference: the number a default is chosen by. ``--self-check`` adds
``GANOverSampler(self_check=True)`` on the defaults (``--check-steps`` sets its classifiers' budget,
``ganaug.self_check.RESAMPLING_CHECK_STEPS``); ``--jobs N`` runs N (family, seed) pairs at once.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from imblearn.over_sampling import RandomOverSampler
from joblib import Parallel, delayed

from ganaug import GANConfig, GANOverSampler
from ganaug.config import parse_assignment
from ganaug.evaluation import compare_resampling, paired_difference
from ganaug.io import load_idx_folder, load_mnist_sample
from ganaug.self_check import RESAMPLING_CHECK_STEPS, resampling_check_steps

COUNTS = (500, 250, 125, 90, 60, 40, 25, 12, 8, 5)
FAMILIES = ("mnist", "glyphs", "shapes", "textures")
BASELINES = {
    "RandomOverSampler": RandomOverSampler(),
    "class-weighted CE": (None, "class_weighted"),
    "logit adjustment": (None, "logit_adjusted"),
}


@functools.cache
def load_family(name: str, families_dir: str | None):
    """The family's training pool ``(x uint8 (N, 1, 28, 28), y)``: its test split is not loaded. Read once a
    process (``main`` reads the labels before :func:`run_each` reads the images)."""
    if name == "mnist":
        return load_mnist_sample()[0]
    if families_dir is None:
        raise SystemExit(f"--families-dir is needed for {name!r} (python benchmarks/image_families.py --out DIR)")
    return load_idx_folder(Path(families_dir) / name, "train")


def capped_counts(y: np.ndarray, counts, per_class: int) -> list[int]:
    """``counts``, each capped so that ``per_class`` images of the class are left to score (the MNIST sample has
    400 training images per class: its largest class trains on 300)."""
    pools = np.bincount(np.unique(y, return_inverse=True)[1])
    if len(pools) != len(counts):
        raise SystemExit(f"--counts gives {len(counts)} counts for {len(pools)} classes")
    return [int(min(n, max(1, p - per_class))) for n, p in zip(counts, pools)]


def held_out_split(y: np.ndarray, counts, seed: int, per_class: int):
    """Indices of a long-tailed training set (``counts[k]`` of class k) and of up to ``per_class`` other images
    of every class to score on, both from the training pool."""
    rng = np.random.RandomState(seed)
    train, score = [], []
    for k, n in zip(np.unique(y), capped_counts(y, counts, per_class)):
        pool = rng.permutation(np.where(y == k)[0])
        train.append(pool[:n])
        score.append(pool[n : n + per_class])
    return np.concatenate(train), np.concatenate(score)


def add_family_arguments(p: argparse.ArgumentParser, *, balanced: bool = False) -> None:
    """The options every family benchmark takes: ``--families``, ``--families-dir``, ``--seeds`` and ``--jobs``;
    with ``balanced``, those of a benchmark that draws the same number of images from every class as well:
    ``--n-per-class`` (drawn to train on) and ``--per-class`` (other training images scored)."""
    p.add_argument("--families", nargs="+", choices=FAMILIES, default=None, help="default: every family found")
    p.add_argument("--families-dir", default=None, help="the --out folder of benchmarks/image_families.py")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--jobs", type=int, default=1, help="(family, seed) pairs run at once")
    if balanced:
        p.add_argument("--n-per-class", type=int, default=10, help="training images drawn per class")
        p.add_argument("--per-class", type=int, default=100, help="other training images scored per class")


def chosen_families(families, families_dir) -> list[str]:
    """The families a run covers: those named, else the MNIST sample and every family written under
    ``families_dir``."""
    return families or ["mnist"] + [f for f in FAMILIES[1:] if families_dir and (Path(families_dir) / f).is_dir()]


def run_each(run, families, families_dir, seeds, *, jobs: int, **kw) -> list:
    """``run(family, x, y, seed=seed, **kw)`` for every family (its training pool) and seed, ``jobs`` at a time;
    the results in that order."""
    data = {fam: load_family(fam, families_dir) for fam in families}
    return Parallel(n_jobs=jobs)(each_family_and_seed(run, data, seeds, **kw))


def run_and_report(run, report, args, *, families, **kw) -> int:
    """:func:`run_each` over ``families`` with the ``families_dir``, ``seeds`` and ``jobs`` of the parsed ``args``,
    then ``print(report(results))`` and the wall time as JSON; returns 0 (the exit status)."""
    t0 = time.perf_counter()
    results = run_each(run, families, args.families_dir, args.seeds, jobs=args.jobs, **kw)
    print(report(results))
    print(json.dumps({"wall_seconds": round(time.perf_counter() - t0, 1)}))
    return 0


def each_family_and_seed(run, data: dict, seeds, **kw):
    """joblib tasks ``run(family, x, y, seed=seed, **kw)`` for every family of ``data`` (``{family: (x, y)}``)
    and every seed, family by family."""
    return (delayed(run)(fam, *xy, seed=seed, **kw) for fam, xy in data.items() for seed in seeds)


def gan_arms(field, values, gan_steps, self_check: bool) -> dict:
    """The GANOverSampler arms: one per swept value (its samples always, ``self_check=False``: the GAN's setting
    is what is chosen), and with ``self_check`` the defaults with the check on."""
    arms = {
        f"GANOverSampler {field}={v}": GANOverSampler(gan=GANConfig(**{field: v}, n_steps=gan_steps), self_check=False)
        for v in values
    }
    if self_check:
        arms["GANOverSampler(self_check=True)"] = GANOverSampler(gan=GANConfig(n_steps=gan_steps), self_check=True)
    return arms


def run_family(family, x, y, *, seed, counts, per_class, arms, clf_steps, check_steps) -> list[dict]:
    torch.set_num_threads(1)
    train, score = held_out_split(y, counts, seed, per_class)
    arms = {**BASELINES, **arms}
    with resampling_check_steps(check_steps), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows = compare_resampling(
            (x[train], y[train]), (x[score], y[score]), arms, seeds=(seed,), n_steps=clf_steps, verbose=0
        )
    for r in rows:
        r["family"] = family
        chose = f"  (self-check chose {r['self_check']})" if "self_check" in r else ""
        print(
            f"  {family:<9} seed {seed}  {r['arm']:<36} balanced accuracy {r['balanced_accuracy']:.4f}{chose}",
            flush=True,
        )
    return rows


def report(rows: list[dict], families, gan_arms) -> str:
    lines = []
    worst = {a: np.inf for a in gan_arms}
    for fam in families:
        fr = [r for r in rows if r["family"] == fam]
        seeds = sorted({r["seed"] for r in fr})
        score = {
            a: [next(r["balanced_accuracy"] for r in fr if r["arm"] == a and r["seed"] == s) for s in seeds]
            for a in list(BASELINES) + gan_arms
        }
        best = max(BASELINES, key=lambda a: np.mean(score[a]))
        lines.append(f"\n{fam} ({len(seeds)} seeds; best baseline: {best})")
        for a in list(BASELINES) + gan_arms:
            extra = ""
            if a in gan_arms:
                d = paired_difference(score[a], score[best])
                worst[a] = min(worst[a], d["delta"])
                extra = (
                    f"  vs {best}: {100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] pts"
                )
            lines.append(f"  {a:<36} {np.mean(score[a]):.4f}{extra}")
    lines.append("\nworst family, GANOverSampler minus its best baseline (points):")
    for a in gan_arms:
        lines.append(f"  {a:<36} {100 * worst[a]:+.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_family_arguments(p)
    p.add_argument("--sweep", default="warp_shift=[0.5]", metavar="FIELD=[V1,V2,...]", help="a GANConfig field")
    p.add_argument("--counts", default=",".join(map(str, COUNTS)))
    p.add_argument("--per-class", type=int, default=100, help="held-out training images scored per class")
    p.add_argument("--gan-steps", type=int, default=400)
    p.add_argument("--clf-steps", type=int, default=600)
    p.add_argument("--self-check", action="store_true", help="also GANOverSampler(self_check=True) on the defaults")
    p.add_argument(
        "--check-steps",
        type=int,
        default=RESAMPLING_CHECK_STEPS,
        help="the self-check's classifier steps",
    )
    args = p.parse_args(argv)
    field, values = parse_assignment(args.sweep)
    values = values if isinstance(values, list) else [values]
    try:
        for v in values:
            GANConfig(**{field: v})
    except (TypeError, ValueError) as exc:
        p.error(f"--sweep: {exc}")
    counts = [int(c) for c in args.counts.split(",")]
    families = chosen_families(args.families, args.families_dir)
    print(
        f"families {families}; sweep {field} over {values}; seeds {args.seeds}; counts {counts}; "
        f"GAN steps {args.gan_steps}, classifier steps {args.clf_steps}"
        + (f", self-check classifier steps {args.check_steps}" if args.self_check else "")
        + "; scored on held-out training images"
    )
    for fam in families:
        capped = capped_counts(load_family(fam, args.families_dir)[1], counts, args.per_class)
        if capped != counts:
            print(f"{fam}: counts capped to {capped} (images left to score)")
    arms = gan_arms(field, values, args.gan_steps, args.self_check)
    return run_and_report(
        run_family,
        lambda parts: report([row for part in parts for row in part], families, list(arms)),
        args,
        families=families,
        counts=counts,
        per_class=args.per_class,
        arms=arms,
        clf_steps=args.clf_steps,
        check_steps=args.check_steps,
    )


if __name__ == "__main__":
    sys.exit(main())
