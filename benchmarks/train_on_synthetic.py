"""Train on synthetic, test on held-out real: what the default GAN's samples are worth, on a validation split.

For each N and seed the library's default GAN (``GANConfig()`` with
``--gan-steps`` steps, plus any ``--set`` fields) is fitted on N images per class of
the embedded MNIST sample's training split, drawn as the recipe draws them. The
recipe's classifier (``ganaug.evaluation.fit_classifier``, ``--clf-steps`` Adam
steps, batch 64) is then trained on one of:

* ``real``: the N images per class;
* ``classical x1``: one copy of each of them through the recipe's classical
  transform (no originals; ``--classical`` as the recipe's: ``AffineElastic`` on the
  whole set, or albumentations one image at a time through
  ``ganaug.classical.ClassicalTransform``): what a hand-made variant of a
  real image is worth;
* ``GAN fixed xK``: K * N synthetic samples per class, drawn once (K from
  ``--multiples``; the recipe's "GAN only" row is K = 1).

Every classifier is scored on the training split's images outside the subset (3,900
at N=10, 3,500 at N=50): the sample's test split is never read, so settings can be
chosen on these figures.

    python benchmarks/train_on_synthetic.py --n 10 50 --seeds 0 1 2 3 4
    python benchmarks/train_on_synthetic.py --n 10 --set warp_shift=0.25

``--set FIELD=VALUE`` (repeatable, values read as JSON) changes one GANConfig field of
the recipe's GAN; its steps are ``--gan-steps``. A line per (N, seed) gives every
training set's accuracy as it finishes; then a markdown table per N gives each training
set's mean accuracy ± std over seeds, its ratio to real-only, and its paired difference
from real-only in points with the 95% interval (``ganaug.evaluation.paired_difference``;
an interval below 0 means the set is worth less than the real images).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402
from _recipe import recipe_module  # noqa: E402

from ganaug import GANConfig, SyntheticAugmenter  # noqa: E402
from ganaug.classical import BatchAugment, ClassicalTransform, is_batched  # noqa: E402
from ganaug.config import parse_assignment  # noqa: E402
from ganaug.evaluation import fit_classifier, paired_difference  # noqa: E402
from ganaug.io import load_mnist_sample, subsample_per_class  # noqa: E402


def classical_copies(x: np.ndarray, transform, seed: int) -> np.ndarray:
    """One copy of every uint8 image of ``x`` (N, 1, H, W) through the recipe's classical transform."""
    low, high, xt = torch.zeros(1), torch.full((1,), 255.0), torch.from_numpy(x).float()
    if is_batched(transform):
        out = BatchAugment(transform, low, high, seed=seed)(xt)
    else:
        tf = ClassicalTransform(transform, low, high, seed=seed)
        out = torch.stack([tf(xi) for xi in xt])
    return np.clip(np.round(out.numpy()), 0, 255).astype(np.uint8)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    return float((model.classes_[pred] == y).mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--gan-steps", type=int, default=400, help="400 by default, the quick profile's")
    p.add_argument("--clf-steps", type=int, default=600, help="600 by default, the quick profile's")
    p.add_argument("--multiples", type=int, nargs="+", default=[1, 10], help="fixed synthetic sets of K * N per class")
    p.add_argument(
        "--classical",
        choices=("batched", "albumentations"),
        default="batched",
        help="the recipe's classical transform: AffineElastic on the whole set, or albumentations image by image",
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field on top of the defaults"
    )
    args = p.parse_args(argv)
    recipe = recipe_module()
    try:
        sets = dict(map(parse_assignment, args.set))
        if "n_steps" in sets:
            raise ValueError("set the GAN's steps with --gan-steps")
        gan = GANConfig(**{**sets, "n_steps": args.gan_steps})
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    if any(k < 1 for k in args.multiples):
        p.error("--multiples: every K must be at least 1")

    (xtr, ytr), _ = load_mnist_sample()  # the test split stays unread
    arms = ["real", "classical x1", *(f"GAN fixed x{k}" for k in args.multiples)]
    print(f"GAN: {gan!r}; classifier {args.clf_steps} steps; classical {args.classical}; seeds {args.seeds}")
    for n in args.n:
        acc = {arm: [] for arm in arms}
        t0 = time.perf_counter()
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            held = np.setdiff1d(np.arange(len(ytr)), idx)
            x, y, vx, vy = xtr[idx], ytr[idx], xtr[held], ytr[held]
            aug = SyntheticAugmenter(gan=gan, random_state=seed, verbose=0, distributed=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # few-example warnings are expected at N=10
                aug.fit((x, y))

            def score(data, seed=seed, vx=vx, vy=vy):
                return accuracy(fit_classifier(data, n_steps=args.clf_steps, random_state=seed), vx, vy)

            acc["real"].append(score((x, y)))
            copies = classical_copies(x, recipe.classical_transform(args.classical), seed)
            acc["classical x1"].append(score((copies, y)))
            for k in args.multiples:
                xs, ys = aug.sample(k * len(y), y=np.repeat(y, k), random_state=1000 + seed)
                acc[f"GAN fixed x{k}"].append(score((np.asarray(xs), np.asarray(ys))))
            print(f"N={n} seed={seed}: " + ", ".join(f"{a} {v[-1]:.3f}" for a, v in acc.items()), flush=True)
        real = acc["real"]
        print(
            f"\nN = {n} per class, {len(args.seeds)} seeds, validation: the {len(held)} other training images "
            f"({(time.perf_counter() - t0) / 60:.1f} minutes)\n"
        )
        print("| arm | accuracy | / real only | points vs real only [95% CI] |")
        print("|---|---|---|---|")
        for arm, values in acc.items():
            d = paired_difference(values, real)
            ci = (
                ""
                if arm == "real"
                else f"{100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
            )
            print(
                f"| {arm} | {np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.3f} | "
                f"{np.mean(values) / np.mean(real):.2f}x | {ci} |"
            )
        print()


if __name__ == "__main__":
    main()
