"""How well does the augmenter's self-check pick? Its scoring rules priced at a few images per class on every family.

``SyntheticAugmenter(self_check=True)`` holds out a fifth of every class, fits a GAN on the rest, trains the small
classifier on the rest alone and with the GAN's samples at each ratio of ``ganaug.self_check.RATIOS`` and each
reach of ``REACHES``, and keeps the candidate whose held-out rows score best; ``wrap()`` then mixes at its ratio.
This benchmark prices that pick. For each family of ``benchmarks/family_defaults.py`` and each seed, ``--n-per-class``
images a class are drawn from the family's training pool; a GAN is fitted on all of them, and every candidate
trains on them with ``compare_augmentation`` (samples mixed in by ``wrap()``, as a user gets them), without and
with the classical augmentation suited to the images, and is scored on up to ``--per-class`` other images a class
of the pool: what each is really worth (the test splits are never read). The check's candidates are scored its way
(``ganaug.self_check``'s split, GAN fit and classifiers), and each rule below picks one:

* the held-out balanced log-likelihood or probability of the own class, over all candidates;
* the same between real data alone and the default (1 synthetic image per real one at the trained reach) only;
* each of them with real data alone scored on ``--splits`` held-out splits and averaged.

    python benchmarks/augment_check_choice.py --families-dir data/families --seeds 0 1 2 3 4 --jobs 2

Prints a line per (family, seed), then per family each candidate's accuracy, and per rule what it picked and the
pick's accuracy minus real only and minus the default, without and with classical augmentation, and the bound no
rule can pass (the best candidate of each seed); then each rule's worst family.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_defaults  # noqa: E402

from ganaug import GANConfig, SyntheticAugmenter  # noqa: E402
from ganaug._validation import child_seeds, derived_seed  # noqa: E402
from ganaug.classical import classical_for  # noqa: E402
from ganaug.evaluation import compare_augmentation  # noqa: E402
from ganaug.self_check import (  # noqa: E402
    CHECK_STEPS,
    RATIOS,
    REACHES,
    _augmentation_scores,
    _best,
    _fit_part,
    _more_splits,
    set_reach,
)

DEFAULT = "gan x1 reach=1"
SCORES = ("log-likelihood", "probability")
#: (score, candidates, real scored on every split): the rules compared; ("log-likelihood", "all", False) is the
#: check as it is.
RULES = [(s, c, r) for s in SCORES for c in ("all", "real or default") for r in (False, True)]


def name(ratio: float, reach: float) -> str:
    return f"gan x{ratio:g} reach={reach:g}"


def fit_gan(x, codes, *, seed, gan_steps):
    """The augmenter ``SyntheticAugmenter()`` fits (its check fits a twin on the fit part)."""
    gan = GANConfig(n_steps=gan_steps) if gan_steps else None
    return SyntheticAugmenter(gan=gan, random_state=seed, verbose=0).fit((x, codes.astype(np.int64)))


def reference(augmenter, train, test, *, seed, clf_steps) -> dict:
    """``{candidate: (accuracy without, with classical augmentation)}``: every candidate trained on all of
    ``train`` by ``compare_augmentation`` and scored on ``test``."""
    out, real = {}, None
    for reach in REACHES:
        set_reach(augmenter.generator_, reach)
        arms = ("gan", "classical+gan") + (("real", "classical") if real is None else ())
        rep = compare_augmentation(
            train,
            test,
            augmenter,
            ratios=(0.0, *RATIOS),
            classical=classical_for(train[0].shape[1:]),
            seeds=(seed,),
            include_cas=False,
            n_steps=clf_steps,
            device="cpu",
            verbose=0,
            arms=arms,
            loss_baselines=False,
        )
        acc = {(r["ratio"], bool(r["classical"])): r["accuracy"] for r in rep.rows}
        if real is None:
            real = (acc[(0.0, False)], acc[(0.0, True)])
        out.update({name(q, reach): (acc[(q, False)], acc[(q, True)]) for q in RATIOS})
    set_reach(augmenter.generator_, 1.0)
    return {"real": real, **out}


def check_scores(x, codes, *, seed, gan_steps, n_splits) -> dict:
    """The check's scores of every candidate (``{candidate: {score: value}}``) on its own split, and of real data
    alone on each of ``n_splits`` splits (``"real splits"``: a list)."""
    check_seed = derived_seed(seed, "self_check")  # as SyntheticAugmenter._check seeds it
    sample_seed = child_seeds(check_seed, 3)[2]
    n_classes = int(codes.max()) + 1
    _, part = _fit_part(
        x,
        codes,
        fit_augmenter=lambda fx, fc: fit_gan(fx, fc, seed=seed, gan_steps=gan_steps),
        n_classes=n_classes,
        seed=check_seed,
        device=torch.device("cpu"),
        n_steps=CHECK_STEPS,
    )
    out, _ = _augmentation_scores(part, ratios=RATIOS, sample_seed=sample_seed)
    more = _more_splits(x, codes, like=part, seeds=child_seeds(check_seed, 3 + n_splits)[3:])
    out["real splits"] = [out["real"]] + [s.score(s.x[:0], s.codes[:0]) for s in more]
    return out


def run_seed(family, x, y, *, seed, n_per_class, per_class, n_splits, gan_steps, clf_steps) -> dict:
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)  # ten images a class: expected here
    classes = np.unique(y)
    train, pool = family_defaults.held_out_split(y, [n_per_class] * len(classes), seed, per_class)
    codes = np.searchsorted(classes, y[train])
    full = fit_gan(x[train], codes, seed=seed, gan_steps=gan_steps)
    ref = reference(
        full, (x[train], codes), (x[pool], np.searchsorted(classes, y[pool])), seed=seed, clf_steps=clf_steps
    )
    check = check_scores(x[train], codes, seed=seed, gan_steps=gan_steps, n_splits=n_splits)
    print(
        f"  {family:<9} seed {seed}  accuracy (plain / classical) "
        + ", ".join(f"{c} {a:.3f}/{b:.3f}" for c, (a, b) in ref.items())
        + "; check's log-likelihood "
        + ", ".join(f"{c} {v['log-likelihood']:.3f}" for c, v in check.items() if c != "real splits"),
        flush=True,
    )
    return {"family": family, "seed": seed, "reference": ref, "check": check}


def picks(check: dict, rule: tuple) -> str:
    """The candidate a check scoring by ``rule`` keeps (a tie keeps the GAN, as the check does)."""
    score, among, real_splits = rule
    s = {c: v[score] for c, v in check.items() if c != "real splits"}
    if real_splits:
        s["real"] = float(np.mean([v[score] for v in check["real splits"]]))
    if among != "all":
        s = {c: s[c] for c in ("real", DEFAULT)}
    return _best(s)


def rule_name(rule: tuple) -> str:
    score, among, real_splits = rule
    return f"{score}, {among}" + (", real on every split" if real_splits else "")


def report(results: list[dict], n_splits: int) -> str:
    lines, worst = [], {}
    ways = [("always real", None), ("always the default", None)] + [(rule_name(r), r) for r in RULES]
    for fam in dict.fromkeys(r["family"] for r in results):
        fr = [r for r in results if r["family"] == fam]
        ref = {c: np.mean([r["reference"][c] for r in fr], axis=0) for c in fr[0]["reference"]}
        lines.append(
            f"\n{fam} ({len(fr)} seeds), accuracy without / with classical augmentation: "
            + ", ".join(f"{c} {a:.3f}/{b:.3f}" for c, (a, b) in ref.items())
        )
        for label, rule in ways:
            if rule is None:
                chosen = ["real" if label == "always real" else DEFAULT] * len(fr)
            else:
                chosen = [picks(r["check"], rule) for r in fr]
            got = np.array([r["reference"][c] for r, c in zip(fr, chosen)])
            vs_real = 100 * (got - np.array([r["reference"]["real"] for r in fr])).mean(0)
            vs_default = 100 * (got - np.array([r["reference"][DEFAULT] for r in fr])).mean(0)
            w = worst.setdefault(label, np.full(4, np.inf))
            worst[label] = np.minimum(w, np.r_[vs_real, vs_default])
            counts = ", ".join(f"{c} {chosen.count(c)}" for c in dict.fromkeys(chosen))
            lines.append(
                f"  {label:<58} vs real {vs_real[0]:+5.1f} / {vs_real[1]:+5.1f}, vs default {vs_default[0]:+5.1f} / "
                f"{vs_default[1]:+5.1f} points; picked {counts}"
            )
        best = np.array([np.max(list(r["reference"].values()), axis=0) for r in fr])  # (seeds, 2)
        lines.append(
            f"  {'bound: the best candidate of each seed':<58} vs real "
            + " / ".join(f"{v:+5.1f}" for v in 100 * (best - [r["reference"]["real"] for r in fr]).mean(0))
            + ", vs default "
            + " / ".join(f"{v:+5.1f}" for v in 100 * (best - [r["reference"][DEFAULT] for r in fr]).mean(0))
            + " points"
        )
    lines.append(
        f"\nworst family (points; real alone on {n_splits} splits where named), pick minus real only and minus the "
        "default, without / with classical augmentation:"
    )
    for label, (a, b, c, d) in worst.items():
        lines.append(f"  {label:<58} vs real {a:+5.1f} / {b:+5.1f}, vs default {c:+5.1f} / {d:+5.1f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    family_defaults.add_family_arguments(p, balanced=True)
    p.add_argument("--splits", type=int, default=3, help="held-out splits real data alone may be averaged over")
    p.add_argument("--gan-steps", type=int, default=0, help="GAN generator updates (0: the library's default)")
    p.add_argument("--clf-steps", type=int, default=300, help="steps of the classifiers that price the candidates")
    args = p.parse_args(argv)
    families = family_defaults.chosen_families(args.families, args.families_dir)
    print(f"families {families}; seeds {args.seeds}; {args.n_per_class} images a class; {args.splits} splits")
    return family_defaults.run_and_report(
        run_seed,
        lambda results: report(results, args.splits),
        args,
        families=families,
        n_per_class=args.n_per_class,
        per_class=args.per_class,
        n_splits=args.splits,
        gan_steps=args.gan_steps,
        clf_steps=args.clf_steps,
    )


if __name__ == "__main__":
    sys.exit(main())
