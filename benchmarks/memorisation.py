"""Are the samples near-copies of the few training images? (recipe data)

For each N and seed, the default GAN (or one with the ``--set`` fields; ``--gan-steps``
steps) is fitted on N images per class of the embedded MNIST sample, exactly as the recipe's quick
profile draws them, and ``ganaug.evaluation.memorisation`` compares the
pixel-space distance of 1,000 samples to their nearest training image with the
same distance for the 1,000 test images (which only serve as the yardstick:
nothing is trained or chosen on them).

    python benchmarks/memorisation.py --n 10 50 --seeds 0 1 2
    python benchmarks/memorisation.py --n 10 50 --seeds 0 1 2 --set architecture=warp --set real_augment=1 \
        --set diversity_weight=1 --set warp_shift=0.5          # the recipe's GAN
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _recipe import add_set_option, gan_config  # noqa: E402

from ganaug import SyntheticAugmenter  # noqa: E402
from ganaug.evaluation import memorisation  # noqa: E402
from ganaug.io import load_mnist_sample, subsample_per_class  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--gan-steps", type=int, default=500)
    p.add_argument("--samples", type=int, default=1000)
    add_set_option(p)
    args = p.parse_args(argv)
    gan = gan_config(p, args.set)
    (xtr, ytr), (xte, _) = load_mnist_sample()
    print("| N | seed | near-copy share (test: 0.05) | median NN distance, samples / test images |")
    print("|---|---|---|---|")
    for n in args.n:
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            aug = SyntheticAugmenter(gan=gan, n_steps=args.gan_steps, random_state=seed, verbose=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                aug.fit((xtr[idx], ytr[idx]))
            xs, _ = aug.sample(args.samples, random_state=seed)
            m = memorisation(np.asarray(xtr[idx], np.float32), np.asarray(xs, np.float32), np.asarray(xte, np.float32))
            print(
                f"| {n} | {seed} | {m['near_copy_share']:.3f} | {m['synthetic_nn_median']:.0f} / {m['test_nn_median']:.0f} = {m['median_ratio']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
