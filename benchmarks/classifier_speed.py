"""What one classifier run of the recipe costs on CPU: the default CNN's step and the classical transform.

    python benchmarks/classifier_speed.py             # batch 64 of 1x28x28, 300 timed steps

Prints milliseconds per training step of ``DefaultClassifier`` (Adam, cross-entropy) with
contiguous and with channels-last weights (``compare_augmentation`` and ``fit_classifier`` use
channels-last on CPU), and milliseconds per image of the recipe's albumentations transform,
called directly and through the wrapper that maps samples to [0, 1] and back.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import torch
import torch.nn.functional as F

from ganaug.evaluation import DefaultClassifier, _ClassicalTransform

from _recipe import recipe_module  # benchmarks/ is on sys.path when a benchmark runs as a script


def step_ms(channels_last: bool, steps: int, batch: int) -> float:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, 28, 28, generator=gen) * 255
    y = torch.randint(0, 10, (batch,), generator=gen)
    torch.manual_seed(0)
    model = DefaultClassifier.for_data(x, 10)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(20):  # warm-up: oneDNN picks its kernels on the first calls
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps * 1e3


def transform_ms(fn, images) -> float:
    t0 = time.perf_counter()
    for img in images:
        fn(img)
    return (time.perf_counter() - t0) / len(images) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--images", type=int, default=3000)
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for cl in (False, True):
        print(f"DefaultClassifier step, batch {args.batch}, {'channels-last' if cl else 'contiguous'}: {step_ms(cl, args.steps, args.batch):.2f} ms")
    tf = recipe_module().classical_transform()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 255, size=(args.images, 1, 28, 28)).astype(np.float32))
    unit = [np.ascontiguousarray(img.permute(1, 2, 0).numpy() / 255.0) for img in x]
    direct = tf
    direct.set_random_seed(0)
    print(f"recipe's albumentations transform, called directly: {transform_ms(lambda u: direct(image=u), unit):.3f} ms per image")
    wrapped = _ClassicalTransform(tf, torch.zeros(1), torch.full((1,), 255.0), seed=0)
    print(f"the same through compare_augmentation's wrapper: {transform_ms(wrapped, x):.3f} ms per image")


if __name__ == "__main__":
    main()
