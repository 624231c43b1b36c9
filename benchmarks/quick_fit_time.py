"""Wall time of a default GAN fit on N images per class (10 classes).

    python benchmarks/quick_fit_time.py                 # N = 10 and 50 per class, seeds 0 1 2
    python benchmarks/quick_fit_time.py --device cuda
    python benchmarks/quick_fit_time.py --set n_steps=400   # the fit of the recipe's quick profile
    python benchmarks/quick_fit_time.py --unlabelled        # with the rest of the training pool unlabelled

Fits ``SyntheticAugmenter()`` on the library's defaults (``GANConfig()``), with any
``--set FIELD=VALUE`` fields (repeatable, values read as JSON) on top, on N images per
class of the embedded MNIST sample's training split, drawn as the recipe draws them. Prints, for every N, the mean and the largest fit time
in seconds over the seeds (CUDA work is waited for before the clock stops). With ``--unlabelled`` the
rest of the 4,000-image training pool is passed as ``unlabelled`` (as ``recipes/mnist_augment.py
--unlabelled`` does), and the number of images that joined is printed too.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.config import parse_assignment
from ganaug.io import load_mnist_sample, subsample_per_class


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--n-per-class", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of the recipe's GAN"
    )
    p.add_argument("--unlabelled", action="store_true", help="pass the rest of the training pool as unlabelled")
    args = p.parse_args()
    try:
        gan = GANConfig(**dict(map(parse_assignment, args.set)))
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    (xtr, ytr), _ = load_mnist_sample()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}")
    print(f"GAN: {gan!r}")
    for n in args.n_per_class:
        times, joined = [], []
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            unlabelled = np.delete(xtr, idx, axis=0) if args.unlabelled else None
            aug = SyntheticAugmenter(gan=gan, random_state=seed, device=args.device, verbose=0, distributed=False)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                aug.fit((xtr[idx], ytr[idx]), unlabelled=unlabelled)
            if aug.device_.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            joined.append(int(aug.n_pseudo_labelled_.sum()))
        extra = f"; {len(xtr) - 10 * n} unlabelled, joined {joined}" if args.unlabelled else ""
        print(
            f"N={n:>4} per class: fit {np.mean(times):.1f} s mean, {max(times):.1f} s max over seeds {args.seeds}"
            + extra
        )


if __name__ == "__main__":
    main()
