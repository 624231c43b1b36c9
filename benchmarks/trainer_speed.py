"""GAN trainer steps per second on the current machine (issue 10 speed work).

Builds the default conditional DCGAN for 28x28 grey images, warms up 20 steps,
then times 100 training steps; prints wall-clock and process-CPU-time rates
(the latter is less disturbed by other jobs on a shared machine).

    python benchmarks/trainer_speed.py --threads 1
    python benchmarks/trainer_speed.py --threads 1 --set diffaugment= --set aux_weight=3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganaug.config import GANConfig  # noqa: E402
from ganaug.models import build_models, init_weights  # noqa: E402
from ganaug.training import GANTrainer  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--set", action="append", default=[], help="GANConfig field=value (repeatable)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    kw = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            kw[key] = json.loads(value)
        except json.JSONDecodeError:
            kw[key] = value
    cfg = GANConfig(**kw)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(300, 1, 28, 28, generator=gen) * 2 - 1
    y = torch.arange(300) % 10
    g, d = build_models(cfg, 10, (1, 28, 28), bounded=True, per_class=False)
    init_weights(g, gen), init_weights(d, gen)
    trainer = GANTrainer(g, d, cfg, "cpu", 0)
    ops = cfg.diffaugment_ops(channels=1, n_samples=300)
    for _ in range(20):
        trainer.train_step(x, y, ops)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        trainer.train_step(x, y, ops)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{kw} threads={torch.get_num_threads()}: {args.steps / wall:.1f} steps/s wall, {args.steps / cpu:.1f} steps/s CPU time")


if __name__ == "__main__":
    main()
