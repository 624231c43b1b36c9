"""Wall time of a default GAN fit on N images per class (10 classes).

    python benchmarks/quick_fit_time.py                 # N = 10 and 50 per class, seeds 0 1 2
    python benchmarks/quick_fit_time.py --device cuda
    python benchmarks/quick_fit_time.py --set n_steps=400   # the fit of the recipe's quick profile
    python benchmarks/quick_fit_time.py --unlabelled        # with the rest of the training pool unlabelled
    python benchmarks/quick_fit_time.py --self-check --n-per-class 10 100   # what self_check=True adds
    python benchmarks/quick_fit_time.py --data data/g96/glyphs/train --self-check --n-per-class 10 100

Fits ``SyntheticAugmenter()`` on the library's defaults (``GANConfig()``), with any
``--set FIELD=VALUE`` fields (repeatable, values read as JSON) on top, on N images per
class of the embedded MNIST sample's training split (or of ``--data``: an ImageFolder tree, an .npz file or
an IDX folder, as ``ganaug fit`` reads), drawn as the recipe draws them. Prints, for every N, the mean and the
largest fit time in seconds over the seeds (CUDA work is waited for before the clock stops). With
``--unlabelled`` the rest of the training pool is passed as ``unlabelled`` (as ``recipes/mnist_augment.py
--unlabelled`` does), and the number of images that joined is printed too. With ``--self-check`` every seed also
fits ``SyntheticAugmenter(self_check=True)``, the two fits alternating (the checked one first on odd seeds), and
it prints the seconds the check added and where they went (``self_check_["seconds"]``: its GAN fit, its
classifiers).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.config import parse_assignment
from ganaug.io import load_data, load_mnist_sample, subsample_per_class


def timed_fit(aug: SyntheticAugmenter, x, y, *, unlabelled) -> float:
    """Seconds ``aug.fit((x, y), unlabelled=unlabelled)`` took, its warnings muted and CUDA work waited for."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        aug.fit((x, y), unlabelled=unlabelled)
    if aug.device_.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--n-per-class", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of the recipe's GAN"
    )
    p.add_argument("--unlabelled", action="store_true", help="pass the rest of the training pool as unlabelled")
    p.add_argument("--data", default=None, help="an ImageFolder tree, .npz file or IDX folder (default: MNIST sample)")
    p.add_argument("--self-check", action="store_true", help="also fit with self_check=True and print what it adds")
    args = p.parse_args()
    try:
        gan = GANConfig(**dict(map(parse_assignment, args.set)))
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    xtr, ytr = load_data(args.data) if args.data else load_mnist_sample()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}")
    print(f"data: {args.data or 'the MNIST sample'}, images {tuple(xtr.shape[1:])} {xtr.dtype}")
    print(f"GAN: {gan!r}")
    n_classes = len(np.unique(ytr))
    for n in args.n_per_class:
        times, checked, joined, parts = [], [], [], []
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            unlabelled = np.delete(xtr, idx, axis=0) if args.unlabelled else None
            kinds = [False, True] if args.self_check else [False]
            for self_check in kinds[::-1] if seed % 2 else kinds:
                aug = SyntheticAugmenter(
                    gan=gan,
                    random_state=seed,
                    device=args.device,
                    verbose=0,
                    distributed=False,
                    self_check=self_check,
                )
                (checked if self_check else times).append(timed_fit(aug, xtr[idx], ytr[idx], unlabelled=unlabelled))
                if self_check:
                    parts.append(aug.self_check_["seconds"])
                else:
                    joined.append(int(aug.n_pseudo_labelled_.sum()))
        extra = f"; {len(xtr) - n_classes * n} unlabelled, joined {joined}" if args.unlabelled else ""
        print(
            f"N={n:>4} per class ({n_classes * n} images): fit {np.mean(times):.1f} s mean, {max(times):.1f} s max "
            f"over seeds {args.seeds}" + extra
        )
        if args.self_check:
            gan_s, clf_s = (np.mean([p[k] for p in parts]) for k in ("gan fit", "classifiers"))
            print(
                f"  self_check=True: fit {np.mean(checked):.1f} s mean, {max(checked):.1f} s max; adds "
                f"{np.mean(checked) - np.mean(times):.1f} s ({np.mean(checked) / np.mean(times):.2f}x): the check's GAN "
                f"fit {gan_s:.1f} s, its classifiers {clf_s:.1f} s"
            )


if __name__ == "__main__":
    main()
