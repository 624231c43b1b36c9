"""Sampling throughput of a fitted SyntheticAugmenter (images/s for 100,000 samples).

    python benchmarks/sample_speed.py --device cpu
    python benchmarks/sample_speed.py --device cuda --n 1000000 --batch-size 65536
    python benchmarks/sample_speed.py --device cuda --set architecture=warp    # the warp generator

The GAN (GANConfig's defaults, or with the ``--set FIELD=VALUE`` fields, repeatable,
values read as JSON) is fitted for 2 steps on 100 random 28x28 grey images (the
speed of sampling does not depend on training), warmed up with 1,000 samples, then
timed drawing ``--n`` samples into host memory as float32. Prints the device and
the time taken, then the rate in images per second: higher is better.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from ganaug import GANConfig, SyntheticAugmenter
from ganaug.config import parse_assignment


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--batch-size", type=int, default=None, help="sampling batch (default: sample()'s)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="a GANConfig field of the GAN")
    args = p.parse_args()
    try:
        gan = GANConfig(**{**dict(map(parse_assignment, args.set)), "n_steps": 2})
    except (TypeError, ValueError) as exc:
        p.error(f"--set: {exc}")
    x = torch.rand(100, 1, 28, 28)
    y = torch.arange(100) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2 steps: collapse warning expected, speed does not depend on training
        aug = SyntheticAugmenter(gan=gan, random_state=0, verbose=0, device=args.device).fit((x, y))
    kw = {} if args.batch_size is None else {"batch_size": args.batch_size}
    aug.sample(1000, **kw)  # warm-up
    if aug.device_.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    xs, _ = aug.sample(args.n, **kw)
    dt = time.perf_counter() - t0
    print(
        f"device {aug.device_}, {aug.config_.architecture} generator: {args.n} samples in {dt:.3f} s (to host memory, float32)"
    )
    print(f"sampling: {args.n / dt:,.0f} images/s")


if __name__ == "__main__":
    main()
