"""Are the samples near-copies of the few training images? (recipe data)

For each N and seed, the default GAN (or one with the ``--set`` fields; ``--gan-steps``
steps) is fitted on N images per class of the embedded MNIST sample, exactly as the recipe's quick
profile draws them, and ``ganaug.evaluation.memorisation`` compares the
pixel-space distance of ``--samples`` samples to their nearest training image with the
same distance for the 1,000 test images (which only serve as the yardstick:
nothing is trained or chosen on them).

    python benchmarks/memorisation.py --n 10 50 --seeds 0 1 2
    python benchmarks/memorisation.py --n 10 50 --seeds 0 1 2 --set architecture=warp --set real_augment=1 \\
        --set diversity_weight=1 --set warp_shift=0.5          # the recipe's GAN

``--set FIELD=VALUE`` (repeatable) changes one GANConfig field of the GAN (values
read as JSON); its steps are ``--gan-steps``. Prints a markdown table, a row per
(N, seed) as it finishes. The near-copy share is the share of samples closer to a
training image than the 5th percentile of the test images' distances: real unseen
images score 0.05 by construction, so a share well above it means the generator
reproduces its training images. The last column is the median nearest-training
distance of the samples over that of the test images; well below 1 is suspicious.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganaug import GANConfig, SyntheticAugmenter  # noqa: E402
from ganaug.config import parse_assignment  # noqa: E402
from ganaug.evaluation import memorisation  # noqa: E402
from ganaug.io import load_mnist_sample, subsample_per_class  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--gan-steps", type=int, default=500)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of the GAN")
    args = p.parse_args(argv)
    try:
        sets = dict(map(parse_assignment, args.set))
        if "n_steps" in sets:
            raise ValueError("set the GAN's steps with --gan-steps")
        gan = GANConfig(**sets, n_steps=args.gan_steps)
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    (xtr, ytr), (xte, _) = load_mnist_sample()
    print(f"GAN: {gan!r}")
    print("| N | seed | near-copy share (test: 0.05) | median NN distance, samples / test images |")
    print("|---|---|---|---|")
    for n in args.n:
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            aug = SyntheticAugmenter(gan=gan, random_state=seed, verbose=0)
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
