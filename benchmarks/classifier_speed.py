"""What one classifier run of the recipe costs: the default CNN's step and the classical transform.

    python benchmarks/classifier_speed.py                  # CPU: batch 64 of 1x28x28, 300 timed steps
    python benchmarks/classifier_speed.py --device cuda    # the batched transform on the GPU

Prints milliseconds per training step of ``DefaultClassifier`` (Adam, cross-entropy) with
contiguous and with channels-last weights (``compare_augmentation`` and ``fit_classifier`` use
channels-last on CPU), then milliseconds per image of the recipe's classical augmentation two
ways, in alternating rounds on the same images: ``AffineElastic`` on whole batches (what the
recipe and ``compare_augmentation`` use) and the same ranges through albumentations, one image at
a time through ``compare_augmentation``'s per-sample wrapper. The last line is their ratio: the
share of the per-image cost the batched transform keeps.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import torch
import torch.nn.functional as F
from _recipe import recipe_module  # benchmarks/ is on sys.path when a benchmark runs as a script

from ganaug.classical import BatchAugment, ClassicalTransform
from ganaug.evaluation import DefaultClassifier


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


def batched_ms(transform, x: torch.Tensor, batch: int) -> float:
    """Milliseconds per image of a batch transform over ``x`` in batches of ``batch``."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    transform(x[:batch])  # warm-up
    sync()
    t0 = time.perf_counter()
    for start in range(0, len(x), batch):
        transform(x[start : start + batch])
    sync()
    return (time.perf_counter() - t0) / len(x) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--images", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of the two transforms; medians printed")
    p.add_argument("--device", default="cpu", help="where the batched transform runs (the others stay on the CPU)")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for cl in (False, True):
        ms = step_ms(cl, args.steps, args.batch)
        print(f"DefaultClassifier step, batch {args.batch}, {'channels-last' if cl else 'contiguous'}: {ms:.2f} ms")
    recipe = recipe_module()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 255, size=(args.images, 1, 28, 28)).astype(np.float32))
    low, high = torch.zeros(1), torch.full((1,), 255.0)
    batched = BatchAugment(recipe.classical_transform("batched"), low, high, seed=0)
    per_image = ClassicalTransform(recipe.classical_transform("albumentations"), low, high, seed=0)
    xd = x.to(args.device)
    times = {"batched": [], "per image": []}
    for _ in range(args.rounds):
        times["batched"].append(batched_ms(batched, xd, args.batch))
        times["per image"].append(transform_ms(per_image, x))
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(
        f"classical transform, AffineElastic on batches of {args.batch} ({args.device}): {med['batched']:.4f} ms per image"
    )
    print(f"classical transform, albumentations one image at a time (CPU): {med['per image']:.4f} ms per image")
    print(f"batched / per image: {med['batched'] / med['per image']:.3f} (median of {args.rounds} alternating rounds)")


if __name__ == "__main__":
    main()
