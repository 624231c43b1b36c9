"""The ``ganaug`` command: ``ganaug fit DATA --out MODEL`` and ``ganaug sample MODEL --n N --out DIR``."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from .config import ARCHITECTURES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ganaug", description="Fit a class-conditional GAN on labelled images and draw samples from it."
    )
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="train a GAN on DATA and save it")
    f.add_argument("data", help="an ImageFolder tree, an .npz with arrays x and y, or an MNIST-style IDX folder")
    f.add_argument("--out", required=True, help="model file to write (e.g. model.pt)")
    f.add_argument("--steps", type=int, default=None, help="generator updates (default: GANConfig's)")
    f.add_argument("--batch-size", type=int, default=None)
    f.add_argument("--strategy", choices=("conditional", "per_class"), default="conditional")
    f.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="auto",
        help="'warp' bends training images, 'offset' moves training rows (the model file then contains them); see GANConfig",
    )
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--device", default="auto")
    f.add_argument("--checkpoint-dir", default=None, help="write checkpoints here (and --resume from them)")
    f.add_argument("--resume", action="store_true")
    f.add_argument("--quiet", action="store_true")
    s = sub.add_parser("sample", help="draw samples from a saved model")
    s.add_argument("model", help="model file written by 'ganaug fit'")
    s.add_argument("--n", type=int, required=True, help="samples per class (or in total with --class)")
    s.add_argument("--class", dest="klass", default=None, help="only this class")
    s.add_argument("--out", required=True, help="output folder")
    s.add_argument("--format", choices=("png", "npz"), default="png")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ganaug`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from .augmenter import SyntheticAugmenter
    from .config import GANConfig
    from .io import load_data

    try:
        if args.command == "fit":
            x, y = load_data(args.data)
            params = {
                "random_state": args.seed,
                "device": args.device,
                "strategy": args.strategy,
                "architecture": args.architecture,
                "verbose": 0 if args.quiet else 1,
            }
            if args.steps is not None:
                params["n_steps"] = args.steps
            if args.batch_size is not None:
                params["gan"] = GANConfig(batch_size=args.batch_size)
            if args.checkpoint_dir:
                params["checkpoint_dir"] = args.checkpoint_dir
            t0 = time.perf_counter()
            aug = SyntheticAugmenter(**params).fit((x, y), resume=args.resume)
            path = aug.save(args.out)
            print(
                f"fitted on {len(y)} samples of {len(aug.classes_)} classes in {time.perf_counter() - t0:.1f} s; saved {path}"
            )
        else:
            aug = SyntheticAugmenter.load(args.model, device=args.device)
            classes = None if args.klass is None else [_match_class(args.klass, aug.classes_)]
            out = aug.export(args.out, n_per_class=args.n, format=args.format, random_state=args.seed, classes=classes)
            print(f"wrote samples to {out}")
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"ganaug {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _match_class(text: str, classes: np.ndarray):
    for c in classes.tolist():
        if str(c) == text:
            return c
    raise ValueError(f"unknown class {text!r}; known classes are {classes.tolist()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
