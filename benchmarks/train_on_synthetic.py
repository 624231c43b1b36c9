"""Train on synthetic, test on held-out real: what the recipe's GAN samples are worth, on a validation split.

For each N and seed the recipe's GAN (``recipes/mnist_augment.py``: ``GAN_PARAMS``,
``--gan-steps`` steps, plus any ``--set`` fields) is fitted on N images per class of
the embedded MNIST sample's training split, drawn as the recipe draws them. The
recipe's classifier (``ganaug.evaluation.fit_classifier``, ``--clf-steps`` Adam
steps, batch 64) is then trained on one of:

* ``real``: the N images per class;
* ``classical x1``: one copy of each of them through the recipe's albumentations
  transform (no originals): what a hand-made variant of a real image is worth;
* ``GAN fixed xK``: K * N synthetic samples per class, drawn once (K from
  ``--multiples``; the recipe's "GAN only" arm is K = 1), each class's samples
  spread evenly over its training images (``sample(..., stratify=True)``, the
  default); with ``--independent`` also ``GAN fixed xK, independent picks``
  (``stratify=False``); with ``--draws D`` every fixed set is drawn D times
  (other sampling seeds, same GAN) and the seed's figure is their mean;
* ``GAN redrawn``: N synthetic samples per class, drawn afresh every epoch, as
  ``SyntheticAugmenter.wrap`` (``refresh="epoch"``) delivers them.

Every classifier is scored on the training split's images outside the subset (3,900
at N=10, 3,500 at N=50): the sample's test split is never read, so settings can be
chosen on these figures.

    python benchmarks/train_on_synthetic.py --n 10 50 --seeds 0 1 2 3 4
    python benchmarks/train_on_synthetic.py --n 10 --set warp_shift=0.25
    python benchmarks/train_on_synthetic.py --n 10 --multiples 1 --draws 3 --independent --clf-steps 600
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from _recipe import recipe_module  # noqa: E402
from ganaug import SyntheticAugmenter  # noqa: E402
from ganaug.config import parse_assignment  # noqa: E402
from ganaug.data import load_mnist_sample, subsample_per_class  # noqa: E402
from ganaug.evaluation import _ClassicalTransform, fit_classifier  # noqa: E402
from ganaug.stats import paired_difference  # noqa: E402


def classical_copies(x: np.ndarray, transform, seed: int) -> np.ndarray:
    """One pass of ``transform`` over uint8 images ``x`` (N, 1, H, W), through the wrapper compare_augmentation uses."""
    wrapped = _ClassicalTransform(transform, torch.zeros(1), torch.full((1,), 255.0), seed=seed)
    out = torch.stack([wrapped(torch.from_numpy(xi).float()) for xi in x]).numpy()
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def redrawn_loop(aug: SyntheticAugmenter, labels: np.ndarray, n_steps: int, batch_size: int = 64, lr: float = 1e-3):
    """A ``train_fn`` for ``fit_classifier``: Adam on cross-entropy, a fresh draw of ``labels`` every epoch."""

    def train(model, loader, device, seed):
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        shuffle = torch.Generator().manual_seed(seed)
        model.train()
        step, epoch = 0, 0
        while step < n_steps:
            xs, ys = aug.sample(len(labels), y=labels, random_state=seed + epoch)
            xs = torch.as_tensor(np.asarray(xs), dtype=torch.float32)
            ys = torch.as_tensor(np.asarray(ys), dtype=torch.long)  # labels are the class indices 0-9
            for rows in torch.randperm(len(ys), generator=shuffle).split(batch_size):
                loss = F.cross_entropy(model(xs[rows].to(device)), ys[rows].to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                if step >= n_steps:
                    break
            epoch += 1
        return model

    return train


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        pred = model(torch.as_tensor(x, dtype=torch.float32)).argmax(1).numpy()
    return float((model.classes_[pred] == y).mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[10, 50])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--gan-steps", type=int, default=400, help="400 by default, the quick profile's")
    p.add_argument("--clf-steps", type=int, default=300, help="300 by default, the budget of the figures in docs/usefulness.md (the quick profile now trains 600)")
    p.add_argument("--multiples", type=int, nargs="+", default=[1, 10], help="fixed synthetic sets of K * N per class")
    p.add_argument("--draws", type=int, default=1, help="draws of every fixed set per GAN (other sampling seeds), averaged")
    p.add_argument("--independent", action="store_true",
                   help="also train on fixed sets whose samples pick their training image independently (stratify=False)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="a GANConfig field on top of the recipe's GAN settings (repeatable)")
    args = p.parse_args(argv)
    recipe = recipe_module()
    params = dict(recipe.GAN_PARAMS)
    try:
        params.update(parse_assignment(item) for item in args.set)
    except ValueError as exc:
        p.error(f"--set: {exc}")
    if any(k < 1 for k in args.multiples):
        p.error("--multiples: every K must be at least 1")
    if args.draws < 1:
        p.error("--draws must be at least 1")

    (xtr, ytr), _ = load_mnist_sample()  # the test split stays unread
    picks = {"": True, **({", independent picks": False} if args.independent else {})}
    fixed = [(k, tag, stratify) for k in args.multiples for tag, stratify in picks.items()]
    arms = ["real", "classical x1", *(f"GAN fixed x{k}{tag}" for k, tag, _ in fixed), "GAN redrawn"]
    print(f"GAN: {params}, {args.gan_steps} steps; classifier {args.clf_steps} steps; seeds {args.seeds}")
    for n in args.n:
        acc = {arm: [] for arm in arms}
        spread = {f"GAN fixed x{k}{tag}": [] for k, tag, _ in fixed}  # per seed: max - min over the draws
        t0 = time.perf_counter()
        for seed in args.seeds:
            idx = subsample_per_class(ytr, n, seed=seed)
            held = np.setdiff1d(np.arange(len(ytr)), idx)
            x, y, vx, vy = xtr[idx], ytr[idx], xtr[held], ytr[held]
            aug = SyntheticAugmenter(n_steps=args.gan_steps, random_state=seed, verbose=0, distributed=False, **params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # few-example warnings are expected at N=10
                aug.fit((x, y))

            def score(data, **kw):
                return accuracy(fit_classifier(data, n_steps=args.clf_steps, random_state=seed, **kw), vx, vy)

            acc["real"].append(score((x, y)))
            acc["classical x1"].append(score((classical_copies(x, recipe.classical_transform(), seed), y)))
            for k, tag, stratify in fixed:
                draws = []
                for d in range(args.draws):  # draw 0 uses the seed the single-draw figures used
                    xs, ys = aug.sample(k * len(y), y=np.repeat(y, k), random_state=1000 + seed + 10_000 * d, stratify=stratify)
                    draws.append(score((np.asarray(xs), np.asarray(ys))))
                acc[f"GAN fixed x{k}{tag}"].append(float(np.mean(draws)))
                spread[f"GAN fixed x{k}{tag}"].append(max(draws) - min(draws))
            first = aug.sample(len(y), y=y, random_state=2000 + seed)  # sizes and standardises the classifier
            acc["GAN redrawn"].append(score(first, train_fn=redrawn_loop(aug, y, args.clf_steps)))
            print(f"N={n} seed={seed}: " + ", ".join(f"{a} {v[-1]:.3f}" for a, v in acc.items()), flush=True)
        real = acc["real"]
        print(f"\nN = {n} per class, {len(args.seeds)} seeds, validation: the {len(held)} other training images "
              f"({(time.perf_counter() - t0) / 60:.1f} minutes)\n")
        print("| arm | accuracy | / real only | points vs real only [95% CI] |")
        print("|---|---|---|---|")
        for arm, values in acc.items():
            d = paired_difference(values, real)
            ci = "" if arm == "real" else f"{100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
            print(f"| {arm} | {np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.3f} | "
                  f"{np.mean(values) / np.mean(real):.2f}x | {ci} |")
        if args.draws > 1:
            print(f"\n{args.draws} draws of each fixed set per GAN; max - min accuracy over a GAN's draws, mean [largest] over seeds:")
            for arm, values in spread.items():
                print(f"  {arm}: {np.mean(values):.3f} [{max(values):.3f}]")
        print()


if __name__ == "__main__":
    main()
