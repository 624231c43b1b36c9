"""Imbalanced MNIST: does topping up the small classes with GAN samples beat duplicating or interpolating them?

The training set keeps 400, 200, 100, 75, 50, 35, 20, 10, 6 and 4 images of digits 0-9 (drawn anew for every
seed from the training pool); the test split stays balanced. The same small CNN, with the same budget, trains on
the imbalanced set as it is (``none``), balanced by imbalanced-learn's RandomOverSampler and SMOTE, with the
losses practitioners try first on imbalanced classes (class-weighted cross-entropy, and the logit-adjusted loss
of Menon et al. 2021), and with the GAN four ways: ``GANOverSampler`` as it comes (on images it first weighs its
samples against duplicates and the two losses on a held-out fifth of each class and then uses what did best
there; a chosen loss: no rows added, the classifier trains with that loss), ``GANOverSampler(self_check=False)``
(the samples always, a fixed set appended once), ``GANOverSampler + logit adjustment`` (unchecked: every class
topped up half-way to the largest in log count, ``sqrt(n_k * n_max)``, and the logit-adjusted loss for the
imbalance left) and ``SyntheticAugmenter.wrap(balance=True)`` (a fresh synthetic top-up every epoch). The GANs
use the library's defaults; only the step budget of the profile is set. Scored by balanced accuracy, paired over
seeds (``ganaug.evaluation.compare_resampling``). The summary lists each seed's choice of the check and where its
time went (its GAN fit, its classifiers).

    python recipes/mnist_imbalanced.py --quick       # 2-core CPU
    python recipes/mnist_imbalanced.py               # sized for one GPU

Outputs in --out: results.csv, summary.md, recall.png, samples.png, config.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: E402
from mnist_augment import load_dataset, resolve_jobs, run_info  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from ganaug import GANConfig, GANOverSampler, SyntheticAugmenter, save_grid  # noqa: E402
from ganaug.cli import image_size, sigterm_as_interrupt  # noqa: E402
from ganaug.config import parse_assignment  # noqa: E402
from ganaug.evaluation import compare_resampling, paired_difference  # noqa: E402
from ganaug.self_check import RESAMPLING_CHECK_STEPS, resampling_check_steps  # noqa: E402

COUNTS = (400, 200, 100, 75, 50, 35, 20, 10, 6, 4)
PROFILES = {
    "quick": dict(seeds=[0, 1, 2, 3, 4], gan_steps=400, clf_steps=600),
    "default": dict(seeds=[0, 1, 2, 3, 4], gan_steps=3000, clf_steps=1000),
}
ARMS = (
    "none",
    "RandomOverSampler",
    "SMOTE",
    "class-weighted CE",
    "logit adjustment",
    "GANOverSampler",
    "GANOverSampler(self_check=False)",
    "GANOverSampler + logit adjustment",
    "wrap(balance=True)",
)
#: The arm whose self-check (on by default for images) the summary reports.
CHECKED = "GANOverSampler"
# The baselines every GAN arm is compared with, in the summary's columns.
BASELINES = ("none", "RandomOverSampler", "SMOTE", "class-weighted CE", "logit adjustment")


def imbalanced_subset(y: np.ndarray, counts, seed: int) -> np.ndarray:
    """Indices of ``counts[k]`` images of the k-th class (sorted labels), drawn without replacement."""
    rng = np.random.RandomState(seed)
    classes = np.unique(y)
    if len(counts) != len(classes):
        raise ValueError(f"--counts gives {len(counts)} counts for {len(classes)} classes")
    parts = []
    for c, n in zip(classes, counts):
        pool = np.where(y == c)[0]
        if n > len(pool):
            raise ValueError(f"class {c} has {len(pool)} training images; --counts asks for {n}")
        parts.append(rng.choice(pool, n, replace=False))
    return np.sort(np.concatenate(parts))


def halfway(y) -> dict:
    """Targets half-way to the largest class in log count: ``sqrt(n_k * n_max)`` images of class k."""
    classes, counts = np.unique(y, return_counts=True)
    return {c: max(int(n), int(round(np.sqrt(n * counts.max())))) for c, n in zip(classes, counts)}


def arms_of(rows: list) -> list[str]:
    """The arms present in ``rows``, in the recipe's order (:data:`ARMS`)."""
    present = {r["arm"] for r in rows}
    return [a for a in ARMS if a in present]


def samplers(gan: GANConfig, device: str, smallest: int) -> dict:
    """The arms. SMOTE interpolates between 3 neighbours (its default 5 needs 6 images of every class), fewer
    when the ``smallest`` class has fewer than 4 images."""
    return {
        "none": None,
        "RandomOverSampler": RandomOverSampler(),
        "SMOTE": SMOTE(k_neighbors=min(3, smallest - 1)),
        "class-weighted CE": (None, "class_weighted"),
        "logit adjustment": (None, "logit_adjusted"),
        "GANOverSampler": GANOverSampler(gan=gan, device=device),
        "GANOverSampler(self_check=False)": GANOverSampler(gan=gan, device=device, self_check=False),
        "GANOverSampler + logit adjustment": (
            GANOverSampler(gan=gan, device=device, sampling_strategy=halfway, self_check=False),
            "logit_adjusted",
        ),
        "wrap(balance=True)": SyntheticAugmenter(gan=gan, device=device, verbose=0, distributed=False),
    }


def run_seed(seed, train_set, scored_fn, cfg, device, threads=None) -> list:
    """Rows of one seed: every arm on that seed's imbalanced subset."""
    if threads is not None:
        torch.set_num_threads(threads)
    xtr, ytr = train_set
    idx = imbalanced_subset(ytr, cfg["counts"], seed)
    scored = scored_fn(idx, seed)
    # --check-steps for this seed only: given back after it, also in a caller's own process
    with resampling_check_steps(cfg["check_steps"]), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-class warnings are the point of this recipe
        return compare_resampling(
            (xtr[idx], ytr[idx]),
            scored,
            samplers(cfg["gan"], device, min(cfg["counts"])),
            seeds=(seed,),
            device=device,
            n_steps=cfg["clf_steps"],
            verbose=0,
        )


def summarise(rows: list, confidence: float = 0.95) -> list[dict]:
    """Per arm: mean balanced accuracy and its paired difference from each baseline."""
    arms = arms_of(rows)
    by = {arm: {r["seed"]: r for r in rows if r["arm"] == arm} for arm in arms}
    seeds = sorted(by["none"])
    out = []
    for arm in arms:
        vals = [by[arm][s]["balanced_accuracy"] for s in seeds]
        line = {
            "arm": arm,
            "balanced_accuracy": float(np.mean(vals)),
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan"),
            "seconds": float(np.mean([by[arm][s]["resample_seconds"] for s in seeds])),
        }
        for base in BASELINES:
            if base != arm:
                line[base] = paired_difference(vals, [by[base][s]["balanced_accuracy"] for s in seeds], confidence)
        out.append(line)
    return out


def to_markdown(lines: list[dict]) -> str:
    head = "| arm | balanced accuracy (mean ± sd) | " + " | ".join(f"Δ vs {b} [95% CI]" for b in BASELINES)
    out = [head + " | resampling s |", "|---" * (3 + len(BASELINES)) + "|"]
    for line in lines:
        cells = []
        for b in BASELINES:
            d = line.get(b)
            cells.append(
                "—"
                if d is None
                else f"{100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] pts"
            )
        out.append(
            f"| {line['arm']} | {line['balanced_accuracy']:.3f} ± {line['std']:.3f} | "
            + " | ".join(cells)
            + f" | {line['seconds']:.1f} |"
        )
    return "\n".join(out)


def plot_recall(rows: list, counts, path: Path) -> None:
    """Mean recall of every class against its training count, one line per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    classes = list(rows[0]["per_class_recall"])  # in the order of the sorted labels, as counts are
    for arm in arms_of(rows):
        recall = [np.mean([r["per_class_recall"][c] for r in rows if r["arm"] == arm]) for c in classes]
        ax.plot(range(len(classes)), recall, marker="o", label=arm)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([f"{c}\n({n})" for c, n in zip(classes, counts)])
    ax.set_xlabel("class (training images)")
    ax.set_ylabel("recall, mean over seeds")
    ax.set_title("Recall per class on the test split")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="the 2-core CPU profile")
    p.add_argument(
        "--dataset",
        choices=["mnist", "idx", "folder"],
        default="mnist",
        help="MNIST (torchvision, else the embedded sample), an MNIST-format IDX folder given by --data-dir "
        "(e.g. a family written by benchmarks/image_families.py), or an ImageFolder tree with train/ and test/ "
        "(any size, grey or colour: e.g. image_families.py --size 96x128 --colour --image-folder)",
    )
    p.add_argument("--data-dir", default=None, help="torchvision MNIST root (default ./data) or the IDX folder")
    p.add_argument("--offline", action="store_true", help="never try to download MNIST")
    p.add_argument("--size", type=image_size, default=None, help="--dataset folder: read its images at HxW (or S)")
    p.add_argument("--counts", default=",".join(map(str, COUNTS)), help="training images per class, comma-separated")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (0..S-1)")
    p.add_argument("--gan-steps", type=int, default=None)
    p.add_argument("--clf-steps", type=int, default=None)
    p.add_argument(
        "--validation",
        action="store_true",
        help="score on training images outside each seed's subset (up to 100 per class; classes with none left "
        "are not scored) instead of the test split, for choosing settings without touching it",
    )
    p.add_argument(
        "--gan-param",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a GANConfig field on top of the library's defaults, for both GAN arms (repeatable)",
    )
    p.add_argument(
        "--check-steps",
        type=int,
        default=RESAMPLING_CHECK_STEPS,
        help="the self-check's classifier steps (default: ganaug.self_check.RESAMPLING_CHECK_STEPS)",
    )
    p.add_argument(
        "--self-check",
        action="store_true",
        help="no effect: GANOverSampler checks itself on images by default (kept so older commands run)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument("--jobs", default="auto", help="worker processes of one CPU thread each, sharing out the seeds")
    p.add_argument("--out", default="runs/mnist_imbalanced")
    args = p.parse_args(argv)

    cfg = dict(PROFILES["quick" if args.quick else "default"])
    try:
        cfg["counts"] = [int(v) for v in args.counts.split(",")]
    except ValueError:
        p.error(f"--counts must be comma-separated integers; got {args.counts!r}")
    if min(cfg["counts"]) < 2:
        p.error(f"--counts: every class needs at least 2 images (SMOTE interpolates between two); got {args.counts}")
    if args.seeds:
        cfg["seeds"] = list(range(args.seeds))
    cfg["check_steps"] = args.check_steps
    for key in ("gan_steps", "clf_steps"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    try:
        gan_params = dict(map(parse_assignment, args.gan_param))
        if "n_steps" in gan_params:
            raise ValueError("set the GAN's steps with --gan-steps")
        cfg["gan"] = GANConfig(**gan_params, n_steps=cfg["gan_steps"])
    except (TypeError, ValueError) as exc:
        p.error(f"--gan-param: {exc}")
    try:
        jobs = resolve_jobs(args.jobs, args.device, 1, len(cfg["seeds"]))
    except ValueError as exc:
        p.error(str(exc))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_args = argparse.Namespace(
        dataset=args.dataset, digits="resize", data_dir=args.data_dir, offline=args.offline, size=args.size
    )
    (xtr, ytr), (xte, yte), data_desc = load_dataset(data_args)
    try:
        for seed in cfg["seeds"]:
            imbalanced_subset(ytr, cfg["counts"], seed)
    except ValueError as exc:
        p.error(str(exc))

    if args.validation:

        def scored_fn(idx, seed):  # held-out training images; the test split stays unread
            rng = np.random.RandomState(10_000 + seed)
            held = np.setdiff1d(np.arange(len(ytr)), idx)
            keep = [rng.permutation(held[ytr[held] == c])[:100] for c in np.unique(ytr)]
            keep = np.sort(np.concatenate(keep))
            return xtr[keep], ytr[keep]
    else:

        def scored_fn(idx, seed):
            return xte, yte

    config = {
        **run_info(args.quick),
        "dataset": data_desc,
        "scored_on": "validation: up to 100 training images per class outside each seed's subset"
        if args.validation
        else "the test split",
        **cfg,
        "gan_params": gan_params,
        "gan_config": cfg["gan"].to_dict(),
        "device": args.device,
        "processes": jobs,
    }
    (out / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "gan"}, indent=2, default=str))
    print(
        f"data: {data_desc}; counts {cfg['counts']}; scored on {config['scored_on']}; {len(cfg['seeds'])} seeds; "
        f"GAN steps {cfg['gan_steps']}, classifier steps {cfg['clf_steps']}; writing to {out}/"
    )
    t0, rows = time.perf_counter(), []
    bar = tqdm(total=len(cfg["seeds"]), desc="seeds", unit="seed")
    interrupted = False
    try:
        if jobs == 1:
            for seed in cfg["seeds"]:
                rows += run_seed(seed, (xtr, ytr), scored_fn, cfg, args.device)
                bar.update()
        else:
            from joblib import Parallel, delayed

            tasks = (
                delayed(run_seed)(seed, (xtr, ytr), scored_fn, cfg, args.device, threads=1) for seed in cfg["seeds"]
            )
            for part in Parallel(n_jobs=jobs, return_as="generator_unordered")(tasks):
                rows += part
                bar.update()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the seeds that finished are written below
        if not rows:
            raise
        interrupted = True
    bar.close()
    order = arms_of(rows)
    rows.sort(key=lambda r: (r["seed"], order.index(r["arm"])))
    elapsed = time.perf_counter() - t0

    classes = list(rows[0]["per_class_recall"])
    with open(out / "results.csv", "w") as f:
        head = ["arm", "seed", "balanced_accuracy", "accuracy", "macro_f1", "n_train", "resample_seconds"]
        f.write(",".join(head + [f"recall_{c}" for c in classes]) + "\n")
        for r in rows:
            f.write(",".join([str(r[k]) for k in head] + [str(r["per_class_recall"][c]) for c in classes]) + "\n")
    plot_recall(rows, cfg["counts"], out / "recall.png")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idx = imbalanced_subset(ytr, cfg["counts"], cfg["seeds"][0])
        gan = SyntheticAugmenter(gan=cfg["gan"], random_state=cfg["seeds"][0], device=args.device, verbose=0)
        save_grid(gan.fit((xtr[idx], ytr[idx])), out / "samples.png", n_per_class=10, random_state=0)
    table = to_markdown(summarise(rows))
    checked = {r["seed"]: r for r in rows if r["arm"] == CHECKED and r.get("self_check") is not None}
    if checked:
        table += f"\n\n{CHECKED} chose, on a held-out fifth of each class: " + "; ".join(
            f"seed {seed} {r['self_check']}" for seed, r in sorted(checked.items())
        )
        took = {
            part: np.mean([r["self_check_seconds"][part] for r in checked.values()])
            for part in ("gan fit", "classifiers")
        }
        table += (
            f". Of its resampling s in the table (means over seeds): the check's GAN fit {took['gan fit']:.1f} s, its "
            f"classifiers {took['classifiers']:.1f} s, then the sampler's own fit when the GAN won."
        )
    finished = sorted({r["seed"] for r in rows})
    left = (
        f"**Interrupted** after {len(finished)} of {len(cfg['seeds'])} seeds; the table covers seeds "
        f"{', '.join(map(str, finished))}.\n\n"
        if interrupted
        else ""
    )
    (out / "summary.md").write_text(
        f"# Imbalanced images: GAN balancing against no resampling, RandomOverSampler, SMOTE and imbalance losses\n\n"
        f"{data_desc}; "
        f"training counts {cfg['counts']}; scored on {config['scored_on']} (balanced accuracy); "
        f"{len(cfg['seeds'])} seeds; command `{config['command']}`; machine {config['machine']}; "
        f"{elapsed / 60:.1f} minutes.\n\n{left}{table}\n"
    )
    print(table)
    if interrupted:
        print(
            f"\ninterrupted after {len(finished)} of {len(cfg['seeds'])} seeds; their results are in {out}/",
            file=sys.stderr,
        )
        return 130
    print(f"\ndone in {elapsed / 60:.1f} minutes; results in {out}/ (results.csv, summary.md, recall.png, samples.png)")
    return 0


if __name__ == "__main__":
    with sigterm_as_interrupt():  # a scheduler's SIGTERM keeps the finished seeds, as Ctrl-C does
        sys.exit(main())
