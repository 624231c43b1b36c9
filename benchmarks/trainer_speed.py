"""GAN trainer steps per second on the current machine, for one config or two side by side.

Builds the default conditional DCGAN (28x28 grey images unless ``--channels`` /
``--size`` say otherwise), warms up 20 steps, then times training steps; prints
wall-clock and process-CPU-time rates (the latter is less disturbed by other
jobs on a shared machine).

With ``--vs`` a second trainer is built with those GANConfig fields changed
and the two take turns, ``--rounds`` times ``--steps`` steps each, so that a
machine whose speed drifts affects both alike; the last line is the median of
the per-round ratios (second / first). ``--compile`` hands the second
trainer its generator and discriminator behind ``torch.compile`` (the library does
not offer it: this is how that was measured; the compile time is printed); without
``--vs`` the second trainer then has the first's config.

    python benchmarks/trainer_speed.py --threads 1
    python benchmarks/trainer_speed.py --threads 1 --set diffaugment= --set aux_weight=3
    python benchmarks/trainer_speed.py --device cpu --set channels_last=false --vs channels_last=true --rounds 15 --steps 30
    python benchmarks/trainer_speed.py --device cpu --compile --rounds 15 --steps 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganaug.config import GANConfig, parse_assignment  # noqa: E402
from ganaug.models import build_models, init_weights  # noqa: E402
from ganaug.training import GANTrainer  # noqa: E402


def parse_fields(items: list[str]) -> dict:
    """``["field=value", ...]`` -> dict of GANConfig fields (ganaug.config.parse_assignment)."""
    return dict(parse_assignment(item) for item in items)


def make_trainer(kw: dict, shape: tuple[int, int, int], device: str, n_images: int = 300, compile: bool = False):
    """A GANTrainer of the default models for ``kw``, its data and DiffAugment ops, warmed up 20 steps
    (``compile``: its generator and discriminator behind ``torch.compile``; the compile time is printed)."""
    cfg = GANConfig(**kw)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((n_images, *shape), generator=gen) * 2 - 1
    y = torch.arange(n_images) % 10
    g, d = build_models(cfg, 10, shape, bounded=True, per_class=False)
    init_weights(g, gen), init_weights(d, gen)
    if hasattr(g, "set_exemplars"):  # the warp generator (architecture=warp) bends the training images
        g.set_exemplars(x, y)
    if compile:  # the same modules (and parameters) behind compiled forwards, in both the D and the G update
        g, d = torch.compile(g), torch.compile(d)
    trainer = GANTrainer(g, d, cfg, device=device, seed=0)
    x, y = x.to(trainer.device), y.to(trainer.device)
    ops = cfg.diffaugment_ops(channels=shape[0], n_samples=n_images)
    if compile:
        start = time.perf_counter()
        for _ in range(3):  # compiles the D update and the G update (D frozen) variants
            trainer.train_step(x, y, ops=ops)
        print(f"torch.compile: first 3 steps took {time.perf_counter() - start:.1f} s")
    for _ in range(20):
        trainer.train_step(x, y, ops=ops)
    return trainer, x, y, ops


def timed(run, steps: int) -> tuple[float, float]:
    """(steps/s wall, steps/s process CPU time) of ``steps`` training steps."""
    trainer, x, y, ops = run
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    sync()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.train_step(x, y, ops=ops)
    sync()
    return steps / (time.perf_counter() - wall), steps / (time.process_time() - cpu)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--steps", type=int, default=100, help="timed steps (per round with --vs)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--set", action="append", default=[], help="GANConfig field=value (repeatable)")
    p.add_argument(
        "--vs",
        action="append",
        default=[],
        help="field=value for a second trainer timed in turns with the first (repeatable)",
    )
    p.add_argument("--rounds", type=int, default=10, help="turns of the two trainers with --vs")
    p.add_argument("--compile", action="store_true", help="torch.compile the second trainer's modules")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    shape = (args.channels, args.size, args.size)
    first = parse_fields(args.set)
    head = f"{args.device}, threads={torch.get_num_threads()}, images {shape}, batch {GANConfig(**first).batch_size}"
    if not args.vs and not args.compile:
        steps, cpu = timed(make_trainer(first, shape, args.device), args.steps)
        print(f"{first} {head}: {steps:.1f} steps/s wall, {cpu:.1f} steps/s CPU time")
        return
    second = {**first, **parse_fields(args.vs)}
    runs = [make_trainer(first, shape, args.device), make_trainer(second, shape, args.device, compile=args.compile)]
    rates = [[], []]
    for _ in range(args.rounds):
        for i, run in enumerate(runs):
            rates[i].append(timed(run, args.steps)[0])
    ratios = [b / a for a, b in zip(*rates)]
    print(head)
    for kw, r in zip((first, {**second, **({"torch.compile": True} if args.compile else {})}), rates):
        print(f"{kw}: median {statistics.median(r):.1f} steps/s wall over {args.rounds} rounds of {args.steps} steps")
    print(f"per-round ratios: {', '.join(f'{v:.2f}' for v in ratios)}")
    print(f"second / first: {statistics.median(ratios):.3f}x (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
