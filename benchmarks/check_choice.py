"""How well does a self-check pick? Its scoring rule and number of held-out splits, priced on every image family.

``GANOverSampler(self_check=True)`` holds out a fifth of every class, trains the small classifier on the rest in
each candidate way, and keeps the candidate whose held-out rows score best. This benchmark prices that pick: the
candidates are duplicates, class-weighted cross-entropy and logit adjustment (and, with ``--gan-steps N``, the
GAN's top-ups at each reach of the check, from a GAN fitted on the first split's fit part); the rules are the
balanced log-likelihood, accuracy and probability of the own class of the held-out rows, the log-likelihood
with the GAN kept only where accuracy agrees, and the probability under the one-standard-error rule (the GAN kept
only where it scores more than one standard error above the best baseline) and under the paired rule (the GAN kept
only where it scores at least the best baseline on the GAN's own split); each on the first split, and with the
candidates that need no GAN averaged over ``--splits`` splits.

For each family of ``benchmarks/family_defaults.py`` and each seed, the same long-tailed training set is drawn
from the family's training pool, and every candidate also trains on the whole set (the GAN fitted on it) and is
scored on up to ``--per-class`` other images a class of the pool: what each is really worth (the test splits are
never read). Each rule's pick is then priced against the family's best baseline.

    python benchmarks/check_choice.py --families-dir data/families --seeds 0 1 2 3 4 --splits 3 --gan-steps 400 --jobs 2

Prints a line per (family, seed), then per family and rule what was picked, the cost against the best candidate
and the difference from the best baseline in points, and each rule's worst family; and per family the bound no
rule can pass: the best candidate of each seed (and the best of the GAN's reaches) against the best baseline.
``--save FILE`` keeps every seed's scores; ``--load FILE`` reports them again (say, after adding a rule) without
training anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_defaults  # noqa: E402

from ganaug import GANConfig, SyntheticAugmenter  # noqa: E402
from ganaug._validation import child_seeds  # noqa: E402
from ganaug.classifier import predict_proba, train_classifier  # noqa: E402
from ganaug.self_check import (  # noqa: E402
    CHECK_LOSSES,
    HELD_OUT_FRACTION,
    REACHES,
    _best,
    duplicate_rows,
    held_out_split,
    set_reach,
)

BASELINES = ("duplicates",) + CHECK_LOSSES
METRICS = ("log-likelihood", "accuracy", "probability")
#: The one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani & Friedman, ESL 7.10): the candidates that
#: generate nothing are the simpler model, kept unless the GAN's best top-up scores more than one standard error
#: above the best of them (the error of the mean over classes of its per-class difference on the first split).
ONE_SE = "probability, GAN only 1 SE above"
#: The paired rule: the best baseline by its mean over the splits, then the GAN's best top-up kept only where it
#: scores at least that baseline on the split the GAN was fitted on, so both are read on the same held-out rows.
PAIRED = "probability, GAN paired on its split"
#: The scoring rules compared: each metric alone, the log-likelihood with the GAN kept only where held-out
#: accuracy agrees that it beats the best baseline, and the probability under the one-standard-error and the
#: paired rules.
RULES = METRICS + ("log-likelihood, GAN also by accuracy", ONE_SE, PAIRED)


def scores(fit, held, *, loss="cross_entropy", extra=None, n_classes, seed, n_steps):
    """The ``held`` rows' balanced log-likelihood, accuracy and probability of their own class under the small
    classifier trained with ``loss`` on ``fit`` plus ``extra`` (each ``(x, class codes)``), standardised on the
    real rows as the check's classifiers are."""
    (x, codes), (held_x, held_codes) = fit, held
    extra_x, extra_codes = extra if extra is not None else (x[:0], codes[:0])
    model = train_classifier(
        torch.cat([x, extra_x]),
        np.r_[codes, extra_codes],
        np.arange(n_classes),
        seed=seed,
        device=torch.device("cpu"),
        n_steps=n_steps,
        batch_size=64,
        lr=1e-3,
        verbose=0,
        desc="check",
        base_x=x,
        loss=loss,
    )
    proba = predict_proba(model, held_x).numpy()
    own = proba[np.arange(len(held_codes)), held_codes]
    per_row = {
        "log-likelihood": np.log(np.clip(own, 1e-6, None)),
        "accuracy": proba.argmax(1) == held_codes,
        "probability": own,
    }
    ks = np.unique(held_codes)
    by_class = {m: [float(v[held_codes == k].mean()) for k in ks] for m, v in per_row.items()}
    return {**{m: float(np.mean(v)) for m, v in by_class.items()}, "probability by class": by_class["probability"]}


def fit_gan(x, codes, *, seed, gan_steps):
    """The augmenter ``GANOverSampler()`` fits (and its check fits on the fit part)."""
    gan = GANConfig(n_steps=gan_steps)
    return SyntheticAugmenter(gan=gan, strategy="conditional", random_state=seed, verbose=0).fit(
        (x, codes.astype(np.int64))
    )


def candidates(x, codes, *, augmenter, n_classes, seed) -> dict:
    """``{name: (loss, extra rows)}``: every class topped up to the largest by duplicates or, with an
    ``augmenter``, by its samples at each reach of the check; each loss on the rows as they are."""
    counts = np.bincount(codes, minlength=n_classes)
    top_up = np.repeat(np.arange(n_classes), counts.max() - counts)
    dup = duplicate_rows(codes, top_up, np.random.RandomState(seed))
    out = {"duplicates": ("cross_entropy", (x[dup], codes[dup]))}
    out.update({loss: (loss, None) for loss in CHECK_LOSSES})
    for reach in REACHES if augmenter is not None else ():
        set_reach(augmenter.generator_, reach)
        syn = augmenter.sample(len(top_up), y=top_up, random_state=seed)[0]
        syn = torch.as_tensor(np.asarray(syn, dtype=np.float32)).reshape((-1,) + tuple(x.shape[1:]))
        out[f"gan reach={reach:g}"] = ("cross_entropy", (syn, top_up))
    return out


def run_seed(family, x, y, *, seed, counts, per_class, n_splits, n_steps, gan_steps) -> dict:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)  # few images in the smallest classes: expected here
    train, pool = family_defaults.held_out_split(y, counts, seed, per_class)
    classes = np.unique(y)
    codes = np.searchsorted(classes, y[train])
    xt = torch.as_tensor(np.asarray(x[train], dtype=np.float32))  # as the check reads them
    pool_set = (torch.as_tensor(np.asarray(x[pool], dtype=np.float32)), np.searchsorted(classes, y[pool]))
    kw = {"n_classes": len(classes), "n_steps": n_steps}
    # the first split and the classifiers draw as run_self_check's (child_seeds(seed, 2)), the others after them
    seeds = child_seeds(seed, 1 + n_splits)
    clf_seed, split_seeds = seeds[1], [seeds[0], *seeds[2:]]

    def scored(x_fit, codes_fit, *, held, augmenter):
        sets = candidates(x_fit, codes_fit, augmenter=augmenter, n_classes=len(classes), seed=clf_seed)
        return {
            c: scores((x_fit, codes_fit), held, loss=loss, extra=extra, seed=clf_seed, **kw)
            for c, (loss, extra) in sets.items()
        }

    full_gan = fit_gan(x[train], codes, seed=seed, gan_steps=gan_steps) if gan_steps else None
    ref = {c: v["accuracy"] for c, v in scored(xt, codes, held=pool_set, augmenter=full_gan).items()}
    splits = []
    for r, split_seed in enumerate(split_seeds):
        fit, held = held_out_split(codes, fraction=HELD_OUT_FRACTION, seed=split_seed)
        part_gan = fit_gan(x[train][fit], codes[fit], seed=seed, gan_steps=gan_steps) if gan_steps and r == 0 else None
        splits.append(scored(xt[fit], codes[fit], held=(xt[held], codes[held]), augmenter=part_gan))
    print(
        f"  {family:<9} seed {seed}  reference "
        + ", ".join(f"{c} {v:.4f}" for c, v in ref.items())
        + "; first split's log-likelihood "
        + ", ".join(f"{c} {v['log-likelihood']:.3f}" for c, v in splits[0].items()),
        flush=True,
    )
    return {"family": family, "seed": seed, "reference": ref, "splits": splits}


def picks(result: dict, rule: str, k: int) -> str:
    """The candidate a check scoring by ``rule`` over the first ``k`` held-out splits keeps (the GAN's
    candidates are scored on the first split only; a tie keeps the GAN, as the check does)."""
    s = {}
    for split in result["splits"][:k]:
        for c, v in split.items():
            s.setdefault(c, []).append(v)
    mean = {c: {m: np.mean([v[m] for v in vs]) for m in METRICS} for c, vs in s.items()}
    if rule in METRICS:  # the check's own choice, by this metric
        return _best({c: v[rule] for c, v in mean.items()})
    metric = "probability" if rule in (ONE_SE, PAIRED) else "log-likelihood"
    base = max(BASELINES, key=lambda c: mean[c][metric])
    gans = [c for c in mean if c.startswith("gan")]
    if not gans:
        return base
    gan = max(gans, key=lambda c: mean[c][metric])
    first = result["splits"][0]
    if rule == PAIRED:
        return gan if first[gan][metric] >= first[base][metric] else base
    if rule == ONE_SE:
        diff = np.subtract(first[gan]["probability by class"], first[base]["probability by class"])
        se = diff.std(ddof=1) / np.sqrt(len(diff))
        return gan if mean[gan][metric] - mean[base][metric] > se else base
    wins = all(mean[gan][m] >= mean[base][m] for m in ("log-likelihood", "accuracy"))
    return gan if wins else base


def report(results: list[dict], n_splits: int) -> str:
    lines, worst = [], {}
    ways = [(rule, k) for rule in RULES for k in sorted({1, n_splits})]
    for fam in dict.fromkeys(r["family"] for r in results):
        fr = [r for r in results if r["family"] == fam]
        ref = {c: np.mean([r["reference"][c] for r in fr]) for c in fr[0]["reference"]}
        best = max(BASELINES, key=lambda c: ref[c])
        lines.append(
            f"\n{fam} ({len(fr)} seeds); reference balanced accuracy: "
            + ", ".join(f"{c} {v:.4f}" for c, v in ref.items())
            + f"; best baseline {best}"
        )
        for rule, k in ways:
            chosen = [picks(r, rule, k) for r in fr]
            cost = [max(r["reference"].values()) - r["reference"][c] for r, c in zip(fr, chosen)]
            gap = [r["reference"][c] - r["reference"][best] for r, c in zip(fr, chosen)]
            worst[(rule, k)] = min(worst.get((rule, k), np.inf), 100 * np.mean(gap))
            counts = ", ".join(f"{c} {chosen.count(c)}" for c in dict.fromkeys(chosen))
            lines.append(
                f"  {rule:<38} {k} split(s): picked {counts}; cost {100 * np.mean(cost):.1f} points; "
                f"vs best baseline {100 * np.mean(gap):+.1f}"
            )
        bound = [max(r["reference"].values()) - r["reference"][best] for r in fr]
        gans = [c for c in fr[0]["reference"] if c.startswith("gan")]
        gan_bound = [max(r["reference"][c] for c in gans) - r["reference"][best] for r in fr] if gans else None
        lines.append(
            f"  {'bound: the best candidate of each seed':<49} vs best baseline {100 * np.mean(bound):+.1f}"
            + (f" (the best GAN reach of each seed {100 * np.mean(gan_bound):+.1f})" if gans else "")
        )
    lines.append("\nworst family, the pick minus the family's best baseline (points):")
    for (rule, k), v in worst.items():
        lines.append(f"  {rule:<38} {k} split(s): {v:+.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    family_defaults.add_family_arguments(p)
    p.add_argument("--counts", default=",".join(map(str, family_defaults.COUNTS)))
    p.add_argument("--per-class", type=int, default=100, help="held-out training images scored per class")
    p.add_argument("--splits", type=int, default=3, help="held-out splits a check may average over")
    p.add_argument("--steps", type=int, default=600, help="classifier steps (the check's and the reference's)")
    p.add_argument(
        "--gan-steps", type=int, default=0, help="with N > 0 the GAN's top-ups at each reach are candidates too"
    )
    p.add_argument("--save", type=Path, default=None, help="write every seed's scores to this JSON file")
    p.add_argument(
        "--load", type=Path, default=None, help="report the scores a --save wrote (other rules) without running"
    )
    args = p.parse_args(argv)
    if args.load is not None:
        saved = json.loads(args.load.read_text())
        print(report(saved["results"], saved["splits"]))
        return 0
    counts = [int(c) for c in args.counts.split(",")]
    families = family_defaults.chosen_families(args.families, args.families_dir)
    print(f"families {families}; seeds {args.seeds}; counts {counts}; {args.splits} splits; {args.steps} steps")

    def saved_and_reported(results):
        if args.save is not None:
            args.save.write_text(json.dumps({"splits": args.splits, "results": results}))
        return report(results, args.splits)

    return family_defaults.run_and_report(
        run_seed,
        saved_and_reported,
        args,
        families=families,
        counts=counts,
        per_class=args.per_class,
        n_splits=args.splits,
        n_steps=args.steps,
        gan_steps=args.gan_steps,
    )


if __name__ == "__main__":
    sys.exit(main())
