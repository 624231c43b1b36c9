"""Which small classifier for images above 64 px: accuracy on held-out training images and seconds a step.

The ablation (``ganaug compare``) trains one classifier per arm and seed, so its network decides both what the
table can show and how long it takes. This trains each candidate on ``--n`` colour glyph images per class (96 x
128, ``benchmarks/image_families.py``), with and without ``CropJitter``, and scores it on other images of the
training pool (never the test split):

* ``cnn``: the 2-block CNN ``DefaultClassifier`` uses up to 64 px;
* ``resnet``: ``ganaug.classifier.residual_features`` (strided 5x5 stem, max-pool, three residual blocks, an
  average pool to 4 x 4);
* ``resnet-global``: the same with one global average pool;
* ``resnet-patch``: a 4x4 stride-4 stem of 16 channels, narrower blocks and a global average pool.

    python benchmarks/classifier_choice.py --seeds 3 --steps 300

Prints one line per candidate and arm: mean validation accuracy over seeds and median seconds a step.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
import torch
from _recipe import training_glyphs  # benchmarks/ is on sys.path when a benchmark runs as a script
from torch import nn

from ganaug.classical import CropJitter
from ganaug.classifier import DefaultClassifier, _Residual, residual_features
from ganaug.evaluation import compare_augmentation
from ganaug.io import subsample_per_class


def patch_features(channels: int) -> nn.Sequential:
    """A cheaper stem: 4x4 patches of 16 channels (a quarter of the size in one step), narrower blocks."""
    return nn.Sequential(
        nn.Conv2d(channels, 16, 4, 4, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),  # (16, H/4, W/4)
        _Residual(16, 16, 1),
        _Residual(16, 32, 2),
        _Residual(32, 64, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 64),
        nn.ReLU(),
    )


def global_features(channels: int) -> nn.Sequential:
    layers = list(residual_features(channels))
    pool = next(i for i, m in enumerate(layers) if isinstance(m, nn.AdaptiveAvgPool2d))
    # one average over the whole image instead of the 4 x 4 grid
    return nn.Sequential(*layers[:pool], nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 64), nn.ReLU())


def cnn_features(channels: int) -> nn.Sequential:
    small = DefaultClassifier((channels, 32, 32), 2, torch.zeros(channels, 1, 1), torch.ones(channels, 1, 1))
    return small.features


CANDIDATES = {
    "cnn": cnn_features,
    "resnet": residual_features,
    "resnet-global": global_features,
    "resnet-patch": patch_features,
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=10, help="training images per class")
    p.add_argument("--val-per-class", type=int, default=50, help="held-out training images per class scored")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--candidates", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES))
    p.add_argument("--fonts", type=int, default=None, help="render only the first this many fonts (default: all)")
    p.add_argument("--test-per-class", type=int, default=100, help="the test split left out, as image_families.py")
    args = p.parse_args(argv)
    x, y = training_glyphs(fonts=args.fonts, test_per_class=args.test_per_class)
    for name in args.candidates:
        acc = {"real": [], "classical": []}
        seconds = []
        for seed in range(args.seeds):
            idx = subsample_per_class(y, args.n, seed=seed)
            rest = np.setdiff1d(np.arange(len(y)), idx)
            val = np.sort(rest[subsample_per_class(y[rest], args.val_per_class, seed=seed + 1000)])
            train, held = (x[idx], y[idx]), (x[val], y[val])
            xt = torch.as_tensor(train[0]).float()

            def model_fn(xt=xt, name=name):
                clf = DefaultClassifier.for_data(xt, 10)
                clf.features = CANDIDATES[name](xt.shape[1])
                return clf

            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # one seed a call: the mean is over the calls
                report = compare_augmentation(
                    train,
                    held,
                    None,
                    model_fn=model_fn,
                    classical=CropJitter(),
                    seeds=(seed,),
                    n_steps=args.steps,
                    verbose=0,
                    arms=("real", "classical"),
                    loss_baselines=False,
                )
            seconds.append((time.perf_counter() - t0) / (2 * args.steps))
            for row in report.rows:
                acc[row["arm"]].append(row["accuracy"])
        print(
            f"{name}: real only {np.mean(acc['real']):.3f}, real + CropJitter {np.mean(acc['classical']):.3f} "
            f"(validation accuracy, {args.seeds} seeds, {args.steps} steps); {np.median(seconds):.3f} s a step"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
