"""What the warp generator's working resolution, and a second, coarser discriminator, are worth to a classifier.

The warp generator's networks (and its discriminator) work at images shrunk to at most
``ganaug.resolution.WORK_SIDE`` px on the longer side; the field they learn is applied to the
training image at its own size. This benchmark fits the default ``SyntheticAugmenter`` at several
working sides, and at 64 px with a two-scale discriminator (the same discriminator beside one
that judges the images at half the working size; their logits are added), on 10
images a class of an ImageFolder tree, and scores a classifier trained on real + GAN and on real +
classical + GAN on *held-out training images* (the rest of the training folder, ``--held-out``
a class; no test images are read).

    python benchmarks/image_families.py --out /tmp/g96 --families glyphs --size 96x128 --colour --image-folder
    python benchmarks/working_resolution.py /tmp/g96/glyphs/train --seeds 0 1 2
    python benchmarks/working_resolution.py --fonts 200    # renders the glyphs itself

Prints one row per variant (accuracy, mean over seeds, and the paired difference from the
library's working side with its 95% interval), and the real-only and classical accuracies of
the same cells.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from _recipe import training_glyphs  # benchmarks/ is on sys.path when a benchmark runs as a script
from torch import nn

import ganaug.augmenter
from ganaug import SyntheticAugmenter, resolution
from ganaug.classical import classical_for
from ganaug.evaluation import compare_augmentation
from ganaug.evaluation.stats import paired_difference
from ganaug.io import load_image_folder, subsample_per_class
from ganaug.models import ConvDiscriminator


class TwoScaleDiscriminator(nn.Module):
    """``full`` beside a discriminator of the same kind that sees the images average-pooled to half the size.

    (B, C, H, W) -> full(x) + half(avg_pool(x, 2)): one logit per image; the class logits (when the
    discriminator has an auxiliary classifier) are ``full``'s.
    """

    def __init__(self, full: ConvDiscriminator, n_classes: int, *, channels: int, size: tuple[int, int], cfg):
        super().__init__()
        self.full = full
        self.coarse = ConvDiscriminator(
            n_classes,
            channels=channels,
            size=(size[0] // 2, size[1] // 2),
            width=cfg.d_width,
            sn=cfg.spectral_norm,
            aux=False,
        )
        self.aux = full.aux  # the trainer reads whether there is an auxiliary classifier here

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_aux: bool = False):
        small = self.coarse(F.avg_pool2d(x, 2), y)
        if not return_aux:
            return self.full(x, y) + small
        logit, cls = self.full(x, y, return_aux=True)
        return logit + small, cls


def _two_scale_build(original):
    """``build_models`` whose image discriminator is a :class:`TwoScaleDiscriminator`."""

    def build(cfg, n_classes, shape, **kw):
        g, d = original(cfg, n_classes, shape, **kw)
        if isinstance(d, ConvDiscriminator):
            d = TwoScaleDiscriminator(d, n_classes, channels=shape[0], size=tuple(shape[-2:]), cfg=cfg)
        return g, d

    return build


#: (name, working side, two-scale discriminator)
VARIANTS = {
    "side32": (32, False),
    "side48": (48, False),
    "side64": (64, False),
    "side64-two-scale": (64, True),
}
#: The library's setting (``ganaug.resolution.WORK_SIDE``, one discriminator): the others are compared with it.
DEFAULT = f"side{resolution.WORK_SIDE}"


def held_out_split(y: np.ndarray, n_per_class: int, held_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a ``n_per_class`` training subset and of up to ``held_out`` other rows a class."""
    train = subsample_per_class(y, n_per_class, seed)
    rest = np.setdiff1d(np.arange(len(y)), train)
    rng = np.random.RandomState(10_000 + seed)
    held = [rng.permutation(rest[y[rest] == k])[:held_out] for k in np.unique(y)]
    return train, np.sort(np.concatenate(held))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "train_dir",
        nargs="?",
        help="an ImageFolder tree of training images (one folder per class); default: colour glyphs at 96 x 128 "
        "rendered here, the training side of image_families.py's split",
    )
    p.add_argument("--fonts", type=int, default=None, help="without train_dir: render this many fonts (default: all)")
    p.add_argument(
        "--test-per-class",
        type=int,
        default=100,
        help="without train_dir: the test split left out, as image_families.py",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-per-class", type=int, default=10)
    p.add_argument("--held-out", type=int, default=50, help="held-out training images a class that score")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--gan-steps", type=int, default=None, help="default: the library's")
    p.add_argument("--clf-steps", type=int, default=300)
    args = p.parse_args(argv)
    if args.train_dir is None:
        x, y = training_glyphs(fonts=args.fonts, test_per_class=args.test_per_class)
        names = [chr(ord("A") + k) for k in range(10)]
    else:
        x, y, names = load_image_folder(args.train_dir)
    classical = classical_for(tuple(x.shape[1:]))
    print(f"{len(x)} training images {tuple(x.shape[1:])}, {len(names)} classes; classical: {classical!r}")
    original_build, original_side = ganaug.augmenter.build_models, resolution.WORK_SIDE
    acc: dict[str, dict[str, list[float]]] = {}
    t0 = time.perf_counter()
    for seed in args.seeds:
        rows, held = held_out_split(y, args.n_per_class, args.held_out, seed)
        train, test = (x[rows], y[rows]), (x[held], y[held])
        for i, name in enumerate(args.variants):
            side, two_scale = VARIANTS[name]
            resolution.WORK_SIDE = side
            ganaug.augmenter.build_models = _two_scale_build(original_build) if two_scale else original_build
            try:
                extra = {} if args.gan_steps is None else {"n_steps": args.gan_steps}
                aug = SyntheticAugmenter(random_state=seed, verbose=0, **extra)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    t_fit = time.perf_counter()
                    aug.fit(train)
                    t_fit = time.perf_counter() - t_fit
                    arms = ("real", "classical", "gan", "classical+gan") if i == 0 else ("gan", "classical+gan")
                    report = compare_augmentation(
                        train,
                        test,
                        aug,
                        ratios=(0.0, 1.0),
                        classical=classical,
                        seeds=(seed,),
                        include_cas=False,
                        n_steps=args.clf_steps,
                        verbose=0,
                        arms=arms,
                        loss_baselines=False,
                    )
            finally:
                resolution.WORK_SIDE, ganaug.augmenter.build_models = original_side, original_build
            for row in report.rows:
                key = row["arm"] if row["arm"] in ("real", "classical") else name
                acc.setdefault(key, {}).setdefault(row["arm"], []).append(row["accuracy"])
            print(
                f"seed {seed} {name}: working {aug._model_shape_[1]}x{aug._model_shape_[2]}, fit {t_fit:.0f} s; "
                + ", ".join(f"{r['arm']} {r['accuracy']:.3f}" for r in report.rows)
                + f"  [{(time.perf_counter() - t0) / 60:.1f} min]",
                flush=True,
            )
    print(f"\naccuracy on {args.held_out} held-out training images a class, mean of {len(args.seeds)} seeds")
    for key in ("real", "classical"):
        if key in acc:
            print(f"{key:24s} {np.mean(acc[key][key]):.3f}")
    for name in args.variants:
        cells = []
        for arm in ("gan", "classical+gan"):
            a = np.asarray(acc[name][arm])
            cell = f"{arm} {a.mean():.3f}"
            if name != DEFAULT and DEFAULT in acc:
                d = paired_difference(a, np.asarray(acc[DEFAULT][arm]))
                cell += f" ({d['delta'] * 100:+.1f} [{d['ci_low'] * 100:+.1f}, {d['ci_high'] * 100:+.1f}] vs {DEFAULT})"
            cells.append(cell)
        print(f"{name:24s} " + "; ".join(cells))


if __name__ == "__main__":
    main()
