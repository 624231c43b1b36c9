"""How much of the recipe's real + GAN figures is the luck of one synthetic draw, on a validation split.

For each seed the recipe's GAN (``recipes/mnist_augment.py``: ``GAN_PARAMS``, the quick
profile's GAN steps) is fitted once on N images per class of the embedded MNIST sample's
training split, drawn as the recipe draws them. Then the recipe's arms run exactly as
``compare_augmentation`` runs them in the recipe (same classifier, classifier seed,
classical transform and budget: the quick profile's steps at ratio 0.5):

* ``real`` and ``classical`` once per seed (they draw nothing synthetic);
* ``gan`` and ``classical+gan`` once per synthetic draw and sampling mode: ``--draws D``
  sampling seeds per GAN (draw 0 is the seed the recipe uses), each with the pools
  spread evenly over every class's training images (``wrap(..., stratify=True)``, the
  default) and with independent picks (``stratify=False``).

Only the synthetic pools differ between a seed's draws and modes: the GAN, the
classifier's initialisation, its batches of real images and their classical transforms
are the same. The script prints, per mode and draw, the mean over seeds of ``gan - real``
and ``classical+gan - classical`` with their 95% intervals; how far the draws' means lie
apart; the same differences with each seed's draws averaged (the figure a run would give
on average over its draws); and the paired difference between the two modes, over all
(seed, draw) pairs and over seeds with their draws averaged (the honest interval: a seed's
draws share its GAN and classifier).

Every classifier is scored on the training split's images outside the subset, as
``recipes/mnist_augment.py --validation`` scores them: the test split is never read.
Cells run in ``--jobs`` single-thread worker processes, as the recipe's quick profile runs
them. Draw 0 comes within a few tenths of a point of the recipe's ``--validation`` rows, not
to the digit: each GAN is saved and reloaded between processes, and the reloaded generator
rounds its samples slightly differently (its weights are no longer channels-last).

    python benchmarks/draw_noise.py --n 10 --draws 3 --json runs/draw_noise_n10.json
    python benchmarks/draw_noise.py --n 50 --draws 3 --json runs/draw_noise_n50.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402

from _recipe import RATIO, arm, recipe_module, split  # noqa: E402
from ganaug import SyntheticAugmenter  # noqa: E402
from ganaug._validation import child_seeds  # noqa: E402
from ganaug.stats import paired_difference  # noqa: E402


def fit_task(n: int, seed: int, gan_steps: int, clf_steps: int, folder: str) -> tuple:
    """Fit the seed's GAN (saved to ``folder``) and score the arms that draw nothing synthetic."""
    torch.set_num_threads(1)
    recipe = recipe_module()
    train, held = split(n, seed)
    gan = SyntheticAugmenter(n_steps=gan_steps, random_state=seed, device="cpu", verbose=0, distributed=False, **recipe.GAN_PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few-example warnings are expected at N=10
        gan.fit(train)
    gan.save(Path(folder) / f"gan{seed}.pt")
    return seed, {name: arm(recipe, gan, train, held, seed, name, clf_steps) for name in ("real", "classical")}


def draw_task(n: int, seed: int, draw: int, stratify: bool, clf_steps: int, folder: str) -> tuple:
    """Score ``gan`` and ``classical+gan`` on one synthetic draw of the seed's GAN."""
    torch.set_num_threads(1)
    recipe = recipe_module()
    train, held = split(n, seed)
    gan = SyntheticAugmenter.load(Path(folder) / f"gan{seed}.pt")
    sample_seed = child_seeds(seed, 3)[1]
    draw_seed = sample_seed if draw == 0 else child_seeds(sample_seed, draw + 1)[draw]
    return seed, draw, stratify, {
        name: arm(recipe, gan, train, held, seed, name, clf_steps, draw_seed, stratify) for name in ("gan", "classical+gan")
    }


def fmt(d: dict) -> str:
    return f"{100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10, help="real images per class")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--draws", type=int, default=3, help="synthetic draws per GAN (draw 0 is the recipe's)")
    p.add_argument("--jobs", type=int, default=2, help="single-thread worker processes")
    p.add_argument("--json", default=None, help="write every accuracy here")
    args = p.parse_args(argv)
    from joblib import Parallel, delayed

    recipe = recipe_module()
    quick = recipe.PROFILES["quick"]
    gan_steps, clf_steps = quick["gan_steps"], quick["clf_steps"]
    print(f"torch {torch.__version__}, N={args.n}, seeds {args.seeds}, {args.draws} draws, GAN steps {gan_steps}, "
          f"classifier steps {clf_steps}, ratio {RATIO}, {args.jobs} single-thread workers; scored on held-out training images")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        base = dict(Parallel(n_jobs=args.jobs)(delayed(fit_task)(args.n, s, gan_steps, clf_steps, folder) for s in args.seeds))
        tasks = [(s, d, st) for s in args.seeds for d in range(args.draws) for st in (True, False)]
        done = Parallel(n_jobs=args.jobs)(delayed(draw_task)(args.n, s, d, st, clf_steps, folder) for s, d, st in tasks)
    acc = {(s, d, st): r for s, d, st, r in done}
    print(f"\nreal {np.mean([base[s]['real'] for s in args.seeds]):.3f}, "
          f"classical {np.mean([base[s]['classical'] for s in args.seeds]):.3f} (mean over seeds)")
    diffs = {}
    for st, mode in ((True, "spread"), (False, "independent")):
        print(f"\n{mode} picks:")
        for d in range(args.draws):
            g = [acc[s, d, st]["gan"] for s in args.seeds]
            cg = [acc[s, d, st]["classical+gan"] for s in args.seeds]
            print(f"  draw {d}: gan - real {fmt(paired_difference(g, [base[s]['real'] for s in args.seeds]))}, "
                  f"classical+gan - classical {fmt(paired_difference(cg, [base[s]['classical'] for s in args.seeds]))}")
        for name, ref in (("gan", "real"), ("classical+gan", "classical")):
            means = [100 * np.mean([acc[s, d, st][name] - base[s][ref] for s in args.seeds]) for d in range(args.draws)]
            diffs[st, name] = [acc[s, d, st][name] for s in args.seeds for d in range(args.draws)]
            print(f"  {name} - {ref} over the draws: mean {np.mean(means):+.2f}, draws' means from {min(means):+.1f} "
                  f"to {max(means):+.1f} (sd {np.std(means, ddof=1) if len(means) > 1 else float('nan'):.2f})")
        for name, ref in (("gan", "real"), ("classical+gan", "classical")):
            mean_acc = [np.mean([acc[s, d, st][name] for d in range(args.draws)]) for s in args.seeds]
            print(f"  {name} - {ref}, each seed's draws averaged: "
                  f"{fmt(paired_difference(mean_acc, [base[s][ref] for s in args.seeds]))}")
    print("\nspread - independent:")
    for name in ("gan", "classical+gan"):
        by_seed = [[np.mean([acc[s, d, st][name] for d in range(args.draws)]) for s in args.seeds] for st in (True, False)]
        print(f"  {name}: paired over (seed, draw) {fmt(paired_difference(diffs[True, name], diffs[False, name]))}, "
              f"over seeds with their draws averaged {fmt(paired_difference(*by_seed))}")
    if args.json:
        rows = [dict(seed=s, arm=k, draw=None, stratify=None, accuracy=v) for s in args.seeds for k, v in base[s].items()]
        rows += [dict(seed=s, arm=k, draw=d, stratify=st, accuracy=v) for (s, d, st), r in sorted(acc.items()) for k, v in r.items()]
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(f"\n{(time.perf_counter() - t0) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
