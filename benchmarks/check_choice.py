"""How well does a self-check pick among the baselines? Scoring rule and number of held-out splits, by family.

``GANOverSampler(self_check=True)`` holds out a fifth of every class, trains the small classifier on the rest in
each candidate way, and keeps the candidate whose held-out rows score best. This benchmark asks how often that
pick is right among the candidates that generate nothing (duplicates, class-weighted cross-entropy, logit
adjustment), and what a wrong pick costs, for two scoring rules (the balanced log-likelihood the check uses and
balanced accuracy) and for one held-out split against the mean of several.

For each family of ``benchmarks/family_defaults.py`` and each seed, the same long-tailed training set is drawn
from the family's training pool, and every candidate also trains on the whole set and is scored on up to
``--per-class`` other images a class of the pool (the reference: which candidate is really best; the test splits
are never read). Each rule's pick then costs the reference's best balanced accuracy minus the pick's.

    python benchmarks/check_choice.py --families-dir data/families --seeds 0 1 2 3 4 --splits 3 --jobs 2

Prints a line per (family, seed), then per family and rule how often each candidate was picked and the mean cost
in points, and each rule's worst family.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_defaults  # noqa: E402

from ganaug._validation import child_seeds  # noqa: E402
from ganaug.classifier import predict_proba, train_classifier  # noqa: E402
from ganaug.self_check import CHECK_LOSSES, HELD_OUT_FRACTION, duplicate_rows, held_out_split  # noqa: E402

CANDIDATES = ("duplicates",) + CHECK_LOSSES
RULES = ("log-likelihood", "accuracy")


def scores(fit, held, candidate, *, n_classes, seed, n_steps):
    """The ``held`` rows' balanced log-likelihood and balanced accuracy under the small classifier trained on
    ``fit`` the ``candidate`` way (both ``(x, class codes)``)."""
    (x, codes), (held_x, held_codes) = fit, held
    loss = "cross_entropy" if candidate == "duplicates" else candidate
    if candidate == "duplicates":
        counts = np.bincount(codes, minlength=n_classes)
        dup = duplicate_rows(codes, np.repeat(np.arange(n_classes), counts.max() - counts), np.random.RandomState(seed))
        x, codes = torch.cat([x, x[dup]]), np.r_[codes, codes[dup]]
    model = train_classifier(
        x,
        codes,
        np.arange(n_classes),
        seed=seed,
        device=torch.device("cpu"),
        n_steps=n_steps,
        batch_size=64,
        lr=1e-3,
        verbose=0,
        desc="check",
        loss=loss,
    )
    proba = predict_proba(model, held_x).numpy()
    own = np.log(np.clip(proba[np.arange(len(held_codes)), held_codes], 1e-6, None))
    hit = proba.argmax(1) == held_codes
    ks = np.unique(held_codes)
    return {
        "log-likelihood": float(np.mean([own[held_codes == k].mean() for k in ks])),
        "accuracy": float(np.mean([hit[held_codes == k].mean() for k in ks])),
    }


def run_seed(family, x, y, *, seed, counts, per_class, n_splits, n_steps) -> dict:
    torch.set_num_threads(1)
    train, pool = family_defaults.held_out_split(y, counts, seed, per_class)
    classes = np.unique(y)
    codes = np.searchsorted(classes, y[train])
    xt = torch.as_tensor(np.asarray(x[train], dtype=np.float32))  # as the check reads them
    xp = torch.as_tensor(np.asarray(x[pool], dtype=np.float32))
    kw = {"n_classes": len(classes), "n_steps": n_steps}
    # the first split and the classifiers draw as run_self_check's (child_seeds(seed, 2)), the others after them
    seeds = child_seeds(seed, 1 + n_splits)
    clf_seed, split_seeds = seeds[1], [seeds[0], *seeds[2:]]
    ref = {
        c: scores((xt, codes), (xp, np.searchsorted(classes, y[pool])), c, seed=clf_seed, **kw)["accuracy"]
        for c in CANDIDATES
    }
    splits = []
    for split_seed in split_seeds:
        fit, held = held_out_split(codes, fraction=HELD_OUT_FRACTION, seed=split_seed)
        splits.append(
            {c: scores((xt[fit], codes[fit]), (xt[held], codes[held]), c, seed=clf_seed, **kw) for c in CANDIDATES}
        )
    print(
        f"  {family:<9} seed {seed}  reference "
        + ", ".join(f"{c} {v:.4f}" for c, v in ref.items())
        + "; first split's log-likelihood "
        + ", ".join(f"{c} {splits[0][c]['log-likelihood']:.3f}" for c in CANDIDATES),
        flush=True,
    )
    return {"family": family, "seed": seed, "reference": ref, "splits": splits}


def picks(result: dict, rule: str, k: int) -> str:
    """The candidate a check scoring by ``rule`` over the first ``k`` held-out splits keeps."""
    return max(CANDIDATES, key=lambda c: np.mean([s[c][rule] for s in result["splits"][:k]]))


def report(results: list[dict], n_splits: int) -> str:
    lines, worst = [], {}
    ways = [(rule, k) for rule in RULES for k in sorted({1, n_splits})]
    for fam in dict.fromkeys(r["family"] for r in results):
        fr = [r for r in results if r["family"] == fam]
        ref = {c: np.mean([r["reference"][c] for r in fr]) for c in CANDIDATES}
        lines.append(
            f"\n{fam} ({len(fr)} seeds); reference balanced accuracy: "
            + ", ".join(f"{c} {v:.4f}" for c, v in ref.items())
        )
        for rule, k in ways:
            chosen = [picks(r, rule, k) for r in fr]
            cost = [max(r["reference"].values()) - r["reference"][c] for r, c in zip(fr, chosen)]
            worst[(rule, k)] = max(worst.get((rule, k), 0.0), 100 * np.mean(cost))
            counts = ", ".join(f"{c} {chosen.count(c)}" for c in CANDIDATES if chosen.count(c))
            lines.append(f"  {rule:<15} {k} split(s): picked {counts}; cost {100 * np.mean(cost):.1f} points")
    lines.append("\nworst family's mean cost of the pick (points):")
    for (rule, k), v in worst.items():
        lines.append(f"  {rule:<15} {k} split(s): {v:.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", nargs="+", choices=family_defaults.FAMILIES, default=None)
    p.add_argument("--families-dir", default=None, help="the --out folder of benchmarks/image_families.py")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--counts", default=",".join(map(str, family_defaults.COUNTS)))
    p.add_argument("--per-class", type=int, default=100, help="held-out training images scored per class")
    p.add_argument("--splits", type=int, default=3, help="held-out splits a check may average over")
    p.add_argument("--steps", type=int, default=600, help="classifier steps (the check's and the reference's)")
    p.add_argument("--jobs", type=int, default=1)
    args = p.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",")]
    families = args.families or ["mnist"] + [
        f for f in family_defaults.FAMILIES[1:] if args.families_dir and (Path(args.families_dir) / f).is_dir()
    ]
    print(f"families {families}; seeds {args.seeds}; counts {counts}; {args.splits} splits; {args.steps} steps")
    t0 = time.perf_counter()
    data = {fam: family_defaults.load_family(fam, args.families_dir) for fam in families}
    tasks = (
        delayed(run_seed)(
            fam,
            *data[fam],
            seed=seed,
            counts=counts,
            per_class=args.per_class,
            n_splits=args.splits,
            n_steps=args.steps,
        )
        for fam in families
        for seed in args.seeds
    )
    results = Parallel(n_jobs=args.jobs)(tasks)
    print(report(results, args.splits))
    print(json.dumps({"wall_seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
