"""What variation is real + classical missing at N images per class? Extra classical transforms, on held-out images.

The recipe's real + classical arm (``recipes/mnist_augment.py``: albumentations affine +
elastic, the quick profile's classifier budget) is run per seed on N images per class of
the embedded MNIST sample's training split, drawn as the recipe draws them, once with the
recipe's transform and once per ``--variant`` with one more kind of variation appended
(or, for ``wide-affine``, a wider affine range in its place). Each variant's classifier has the
recipe arm's seeds: only the transform differs. The script prints, per variant, the mean
accuracy and the paired difference against the recipe's transform with its 95% interval.

A variant that lifts real + classical by a point or more names a kind of variation that a
generator could add and the recipe's classical arm lacks (issue 6 asks real + classical +
GAN for +1 at N=10); a variant that does not rules that kind out. Every classifier is
scored on the training split's images outside the subset (``--validation``'s images): the
test split is never read.

    python benchmarks/classical_variants.py --n 10
    python benchmarks/classical_variants.py --n 10 --variant stroke grid
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402

from _recipe import arm, recipe_module, split  # noqa: E402
from ganaug.stats import paired_difference  # noqa: E402


def variant_transform(name: str, recipe):
    """``recipe``'s classical transform with one kind of variation added (``"recipe"``: unchanged)."""
    import albumentations as A

    base = recipe.classical_transform()
    extra = {
        "recipe": None,
        # stroke width: a 2x2 dilation (thicker) or erosion (thinner), each on a quarter of the images
        "stroke": A.OneOf([A.Morphological(scale=2, operation="dilation", p=1.0), A.Morphological(scale=2, operation="erosion", p=1.0)], p=0.5),
        # another local deformation: a coarse grid of randomly stretched cells
        "grid": A.GridDistortion(num_steps=4, distort_limit=0.3, p=0.5),
        # broken strokes: up to 3 small patches blanked
        "dropout": A.CoarseDropout(num_holes_range=(1, 3), hole_height_range=(3, 6), hole_width_range=(3, 6), fill=0, p=0.5),
        # the elastic distortion on every image and stronger
        "elastic": A.ElasticTransform(alpha=16.0, sigma=3.0, p=1.0),
    }
    if name == "wide-affine":  # twice the recipe's rotation, scale and shear range, 1.5x its shift, in place of it
        wide = A.Affine(scale=(0.8, 1.2), translate_percent=(-0.15, 0.15), rotate=(-30, 30), shear=(-20, 20), p=1.0)
        return A.Compose([wide, *base.transforms[1:]])
    if name not in extra:
        raise ValueError(f"unknown variant {name!r}; choose from {sorted([*extra, 'wide-affine'])}")
    return base if extra[name] is None else A.Compose([*base.transforms, extra[name]])


VARIANTS = ("stroke", "grid", "dropout", "elastic", "wide-affine")


def task(n: int, seed: int, variant: str, clf_steps: int) -> tuple:
    torch.set_num_threads(1)
    recipe = recipe_module()
    train, held = split(n, seed)
    return seed, variant, arm(recipe, None, train, held, seed, "classical", clf_steps, classical=variant_transform(variant, recipe))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10, help="real images per class")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--variant", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--jobs", type=int, default=2, help="single-thread worker processes")
    args = p.parse_args(argv)
    from joblib import Parallel, delayed

    clf_steps = recipe_module().PROFILES["quick"]["clf_steps"]
    print(f"torch {torch.__version__}, N={args.n}, seeds {args.seeds}, classifier steps {clf_steps}, "
          f"{args.jobs} single-thread workers; real + classical scored on held-out training images")
    t0 = time.perf_counter()
    names = ["recipe", *args.variant]
    jobs = [(s, v) for s in args.seeds for v in names]
    done = Parallel(n_jobs=args.jobs)(delayed(task)(args.n, s, v, clf_steps) for s, v in jobs)
    acc = {(s, v): a for s, v, a in done}
    ref = [acc[s, "recipe"] for s in args.seeds]
    print(f"\nrecipe's classical transform: {np.mean(ref):.3f}")
    for v in args.variant:
        got = [acc[s, v] for s in args.seeds]
        d = paired_difference(got, ref)
        print(f"{v:>12}: {np.mean(got):.3f}, minus the recipe's {100 * d['delta']:+.1f} "
              f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] points")
    print(f"\n{(time.perf_counter() - t0) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
