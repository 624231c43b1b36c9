"""Images at their own size: fit time, sampling rate, peak memory and the cost of the working resolution.

Colour glyphs (``benchmarks/image_families.py``: letters A-J, one font per image, coloured ink on coloured
paper) at the sizes real small-data problems come in, with the library's defaults:

* ``fit``: a default ``SyntheticAugmenter(random_state=0).fit`` on ``--fit-n`` (100) images of 96 x 128 (10 a
  class), timed;
* ``sample``: samples per second at 224 x 224 (the rate does not depend on training: the GAN is fitted for 2
  steps), drawn into host memory as uint8, the training images' dtype;
* ``memory``: the peak resident memory of a process that renders ``--memory-n`` (1,000) colour 224 x 224 images
  and fits on them (``--memory-steps`` steps; the default fit's 500 unless set), and the size of the model file
  it saves;
* ``loader``: how far a default fit (``--memory-steps`` steps) on a DataLoader of ``--memory-n`` colour 224 x 224
  images as float32 in [0, 1] (what ``ToTensor`` gives) raises the peak resident memory of a process that already
  holds them, against their size;
* ``steps``: seconds per training step of the warp generator on 96 x 128 images with its networks working at a
  longer side of 32, 48, 64 and 96 px (``ganaug.resolution.WORK_SIDE`` is 32), rounds alternating.

    python benchmarks/native_size.py                          # all five
    python benchmarks/native_size.py --parts fit sample

Prints one line per figure.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _recipe import families_module  # benchmarks/ is on sys.path when a benchmark runs as a script
from torch.utils.data import DataLoader, TensorDataset

from ganaug import SyntheticAugmenter, resolution

PARTS = ("fit", "sample", "memory", "loader", "steps")


def glyphs(n: int, size: tuple[int, int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` colour glyph images (uint8) of ``size``, as evenly over the 10 letters as the fonts allow."""
    families = families_module()
    per_class = -(-n // 10)
    fonts = families.font_files()[: per_class + 20]  # a few spare: fonts that lack a letter are left out
    x, y, _ = families.render_glyphs(size, colour=True, fonts=fonts, seed=seed)
    rows = np.concatenate([np.flatnonzero(y == k)[:per_class] for k in range(10)])[:n]
    return torch.from_numpy(x[rows]), torch.from_numpy(y[rows])


def part_fit(args) -> None:
    x, y = glyphs(args.fit_n, (96, 128))
    t0 = time.perf_counter()
    aug = SyntheticAugmenter(random_state=0, verbose=0, **_steps(args.fit_steps)).fit((x, y))
    dt = time.perf_counter() - t0
    print(
        f"fit: {len(x)} colour 96x128 images, {aug.n_steps_} steps at {aug._model_shape_[1]}x{aug._model_shape_[2]}: "
        f"{dt:.1f} s"
    )


def part_sample(args) -> None:
    x, y = glyphs(100, (224, 224))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2 steps: a collapse warning is expected; the rate does not depend on it
        aug = SyntheticAugmenter(n_steps=2, random_state=0, verbose=0).fit((x, y))
    aug.sample(50)  # warm-up
    t0 = time.perf_counter()
    xs, _ = aug.sample(args.sample_n)
    dt = time.perf_counter() - t0
    print(
        f"sample: {args.sample_n} colour 224x224 samples ({xs.dtype}) in {dt:.2f} s: {args.sample_n / dt:,.0f} images/s"
    )


def part_memory(args, child: str = "--memory-child") -> None:
    """Runs in a process of its own: ru_maxrss is a process's peak."""
    cmd = [sys.executable, __file__, child, "--memory-n", str(args.memory_n)]
    cmd += [] if args.memory_steps is None else ["--memory-steps", str(args.memory_steps)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    print(out)


def loader_child(args) -> None:
    x, y = glyphs(args.memory_n, (224, 224))
    x = x.float().div_(255)  # as ToTensor gives them
    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = torch.from_numpy(np.unique(y.numpy(), return_index=True)[1])  # an image a class
        SyntheticAugmenter(random_state=0, verbose=0, n_steps=1).fit((x[first], y[first]))  # libraries loaded
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        aug = SyntheticAugmenter(random_state=0, verbose=0, **_steps(args.memory_steps)).fit(loader)
    rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 2**10  # KiB on Linux -> MiB
    print(
        f"loader: fit on a DataLoader of {len(x)} float32 colour 224x224 images ({x.nbytes / 2**20:.0f} MiB; "
        f"{aug.n_steps_} steps): the peak resident memory rose by {rise:.0f} MiB"
    )


def memory_child(args) -> None:
    x, y = glyphs(args.memory_n, (224, 224))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the model file holds the training images: expected here
        aug = SyntheticAugmenter(random_state=0, verbose=0, **_steps(args.memory_steps)).fit((x, y))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.pt"
            aug.save(path)
            size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux -> GiB
    print(
        f"memory: fit on {len(x)} colour 224x224 images ({aug.n_steps_} steps): peak resident {peak:.2f} GiB; "
        f"model file {size / 2**20:.0f} MiB"
    )


def part_steps(args) -> None:
    x, y = glyphs(100, (96, 128))
    sides = [s for s in (32, 48, 64, 96) if s <= args.max_side]
    timings = {s: [] for s in sides}
    fitted, library_side = {}, resolution.WORK_SIDE
    for side in sides:
        resolution.WORK_SIDE = side  # the working resolution the fit picks
        fitted[side] = SyntheticAugmenter(random_state=0, verbose=0, n_steps=2).fit((x, y))
    resolution.WORK_SIDE = library_side
    for _ in range(args.rounds):
        for side in sides:  # alternating: the machine's speed drifts between minutes
            resolution.WORK_SIDE = side
            t0 = time.perf_counter()
            fitted[side].set_params(n_steps=args.step_n).fit((x, y))
            timings[side].append((time.perf_counter() - t0) / args.step_n)
    resolution.WORK_SIDE = library_side
    for side in sides:
        shape = fitted[side]._model_shape_
        print(f"steps: working side {side} ({shape[1]}x{shape[2]}): {np.median(timings[side]):.3f} s a step (median)")


def _steps(n):
    return {} if n is None else {"n_steps": n}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--fit-n", type=int, default=100)
    p.add_argument("--fit-steps", type=int, default=None, help="default: the library's")
    p.add_argument("--sample-n", type=int, default=5000)
    p.add_argument("--memory-n", type=int, default=1000)
    p.add_argument("--memory-steps", type=int, default=None, help="default: the library's")
    p.add_argument("--step-n", type=int, default=20, help="training steps timed per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-side", type=int, default=96, help="steps: the largest working side timed")
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--loader-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    if args.memory_child or args.loader_child:
        (memory_child if args.memory_child else loader_child)(args)
        return 0
    parts = {"fit": part_fit, "sample": part_sample, "memory": part_memory, "steps": part_steps}
    parts["loader"] = lambda a: part_memory(a, child="--loader-child")
    for part in args.parts:
        parts[part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
