"""The ``ganaug`` command: ``ganaug fit DATA --out MODEL``, ``ganaug sample MODEL --n N --out DIR`` and
``ganaug compare DATA`` (the augmentation ablation on your own images)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import warnings

import numpy as np

from ._version import __version__
from .config import ARCHITECTURES

_SIZE_HELP = "read an ImageFolder tree's images at this size, HxW or S for a square (for images of several sizes)"


def image_size(text: str) -> tuple[int, int]:
    """An image size as ``--size`` takes it, ``HxW`` or ``S`` for a square, as ``(H, W)``; an argparse ``type``.

    Examples
    --------
    >>> image_size("96x128"), image_size("64")
    ((96, 128), (64, 64))
    """
    parts = text.lower().split("x")
    try:
        h, w = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, 0)
    except ValueError:
        h = w = 0
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"expected HxW or S in pixels, e.g. 96x128 or 64; got {text!r}")
    return h, w


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ganaug", description="Fit a class-conditional GAN on labelled images and draw samples from it."
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="train a GAN on DATA and save it")
    f.add_argument("data", help="an ImageFolder tree, an .npz with arrays x and y, or an MNIST-style IDX folder")
    f.add_argument("--out", required=True, help="model file to write (e.g. model.pt)")
    f.add_argument("--size", type=image_size, default=None, help=_SIZE_HELP)
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
    c = sub.add_parser(
        "compare",
        help="the ablation on DATA: real only, classical, GAN, classical + GAN at a few images per class",
        description="Train a small classifier on N images per class of DATA with and without classical and GAN "
        "augmentation, over seeds, and score it on a test split the GANs never see. Writes results.csv, "
        "summary.md, gain.png, samples.png and config.json to --out.",
    )
    c.add_argument(
        "data",
        help="an ImageFolder tree (with train/ and test/ subfolders, or one tree to split), an .npz with arrays "
        "x and y, or an MNIST-style IDX folder",
    )
    c.add_argument("--test", default=None, help="the test data, in the same forms (default: DATA's test/ or a split)")
    c.add_argument("--size", type=image_size, default=None, help=_SIZE_HELP)
    c.add_argument("--test-size", type=float, default=0.3, help="share of every class held out when DATA is one tree")
    c.add_argument("--n-per-class", default="10", help="comma-separated images per class, e.g. 10,50")
    c.add_argument("--seeds", type=int, default=3, help="number of seeds (0..S-1)")
    c.add_argument("--ratio", type=float, default=1.0, help="synthetic images per real one in the GAN arms")
    c.add_argument("--gan-steps", type=int, default=None, help="GAN generator updates (default: the library's)")
    c.add_argument("--clf-steps", type=int, default=None, help="classifier batches (default: the library's)")
    c.add_argument("--architecture", choices=ARCHITECTURES, default="auto", help="the GAN's generator (see GANConfig)")
    c.add_argument(
        "--self-check",
        action="store_true",
        help="fit each GAN with SyntheticAugmenter(self_check=True) and list what each check chose",
    )
    c.add_argument("--device", default="auto")
    c.add_argument("--out", default="runs/compare")
    c.add_argument("--quiet", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ganaug`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from .augmenter import SyntheticAugmenter
    from .checkpoint import check_file_path
    from .config import GANConfig
    from .io import load_data

    try:
        if args.command == "fit":
            check_file_path(args.out)  # before the training, not after it
            x, y = load_data(args.data, size=args.size, verbose=0 if args.quiet else 1)
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
        elif args.command == "compare":
            return _compare(args)
        else:
            aug = SyntheticAugmenter.load(args.model, device=args.device)
            classes = None if args.klass is None else [_match_class(args.klass, aug.classes_)]
            out = aug.export(args.out, n_per_class=args.n, format=args.format, random_state=args.seed, classes=classes)
            print(f"wrote samples to {out}")
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, IsADirectoryError) as exc:
        print(f"ganaug {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM under the console script
        print(f"\nganaug {args.command}: interrupted" + (f"; {exc}" if str(exc) else ""), file=sys.stderr)
        return 130
    return 0


def _train_test(args):
    """``(train, test, description)`` for ``ganaug compare``."""
    from ._validation import user_path
    from .evaluation.ablation import split_test
    from .io import check_size_applies, is_idx_folder, load_data, load_idx_folder

    path, size, shown = user_path(args.data), args.size, 0 if args.quiet else 1
    if args.test is not None:
        return (
            load_data(path, size, verbose=shown),
            load_data(args.test, size, verbose=shown),
            f"{path} (test: {args.test})",
        )
    if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
        train, test = (load_data(path / part, size, verbose=shown) for part in ("train", "test"))
        return train, test, f"{path}/train (test: {path}/test)"
    if is_idx_folder(path):
        check_size_applies(path, size)
        return load_idx_folder(path, "train"), load_idx_folder(path, "test"), f"IDX folder {path}"
    x, y = load_data(path, size, verbose=shown)
    train, test = split_test(x, y, test_size=args.test_size)
    return (x[train], y[train]), (x[test], y[test]), f"{path} ({args.test_size:.0%} of every class held out)"


def _compare(args) -> int:
    from .classifier import DEFAULT_N_STEPS
    from .config import GANConfig
    from .evaluation.ablation import run_ablation

    try:
        n_per_class = [int(v) for v in args.n_per_class.split(",")]
    except ValueError:
        raise ValueError(
            f"--n-per-class must be comma-separated integers, e.g. 10,50; got {args.n_per_class!r}"
        ) from None
    if args.seeds < 1 or min(n_per_class) < 1:
        raise ValueError("--seeds and --n-per-class must be at least 1")
    train, test, described = _train_test(args)
    print(f"data: {described}; {len(train[1])} training images, {len(test[1])} test images; writing to {args.out}/")
    report = run_ablation(
        train,
        test,
        n_per_class=n_per_class,
        seeds=range(args.seeds),
        ratio=args.ratio,
        gan=GANConfig(
            architecture=args.architecture, **({} if args.gan_steps is None else {"n_steps": args.gan_steps})
        ),
        clf_steps=args.clf_steps or DEFAULT_N_STEPS,
        device=args.device,
        out=args.out,
        title=f"Augmentation ablation on {args.data}",
        verbose=0 if args.quiet else 1,
        self_check=args.self_check,
    )
    print(report.to_markdown())
    print(f"\nresults in {args.out}/ (results.csv, summary.md, gain.png, samples.png, config.json)")
    return 0


def _match_class(text: str, classes: np.ndarray):
    for c in classes.tolist():
        if str(c) == text:
            return c
    raise ValueError(f"unknown class {text!r}; known classes are {classes.tolist()}")


def console(argv: list[str] | None = None) -> int:
    """The ``ganaug`` console script: :func:`main`, with warnings shown as one line naming the command, and
    SIGTERM taken as Ctrl-C (``ganaug compare`` then keeps the cells that finished).

    Python's own display names a source line (the console script's ``sys.exit(main())``), which says nothing to
    someone at a terminal; ``main`` itself leaves warnings alone for programs and tests that call it.
    """
    command = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), "")

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"ganaug {command}: warning: {message}", file=sys.stderr)

    with sigterm_as_interrupt(), warnings.catch_warnings():  # both give the previous handlers back afterwards
        warnings.showwarning = show
        return main(argv)


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Inside the block, SIGTERM (a scheduler's, ``timeout``'s) raises ``KeyboardInterrupt`` as Ctrl-C does, so a
    long run stops the way it does on Ctrl-C (keeping what finished); the previous handler comes back after."""

    def terminated(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console())
