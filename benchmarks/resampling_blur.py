"""What reading pixels between pixels costs each image family: sub-pixel shifts, blended or not.

The warp generator bends an exemplar, so each pixel of a sample is read at a point between the exemplar's pixels
(``GANConfig.warp_resample``). This benchmark isolates that reading from everything a GAN learns. For each family
of ``benchmarks/family_defaults.py`` and each seed, ``--n-per-class`` images a class are drawn from the family's
training pool, and the library's default classifier trains on them alone and with one copy of each, shifted by
a random translation of up to ``--shift`` px along each axis, read four ways: blended from the four pixels around
each point (bilinear), from sixteen (bicubic), from the nearest pixel (nearest: the shift rounded to whole pixels
where the image is copied). Every arm is scored on up to ``--per-class`` other images a class of the pool (the
test splits are never read).

    python benchmarks/resampling_blur.py --families-dir data/families --seeds 0 1 2 3 4 --jobs 2

Prints a line per (family, seed), then per family each arm's accuracy and its difference from real images alone,
in points, with a 95% interval over the seeds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_defaults  # noqa: E402

from ganaug.classifier import DEFAULT_N_STEPS, fit_classifier, predict_proba  # noqa: E402
from ganaug.evaluation import paired_difference  # noqa: E402

MODES = ("bilinear", "bicubic", "nearest")


def shifted(x: torch.Tensor, *, mode: str, max_px: float, gen: torch.Generator) -> torch.Tensor:
    """``x`` (N, C, H, W) in [-1, 1] translated by up to ``max_px`` px along each axis, read with ``mode``."""
    n, _, h, w = x.shape
    theta = torch.eye(2, 3).repeat(n, 1, 1)
    # grid_sample coordinates span 2 per image side
    theta[:, :, 2] = (torch.rand(n, 2, generator=gen) * 2 - 1) * max_px * 2 / torch.tensor([w, h])
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="border", align_corners=False).clamp(-1, 1)


def run_seed(family, x, y, *, seed, n_per_class, per_class, shift, clf_steps) -> dict:
    torch.set_num_threads(1)
    classes = np.unique(y)
    train, pool = family_defaults.held_out_split(y, [n_per_class] * len(classes), seed, per_class)
    images = torch.as_tensor(x).float() / 127.5 - 1
    labels = np.searchsorted(classes, y)
    gen = torch.Generator().manual_seed(seed)

    def accuracy(xs: torch.Tensor, ys: np.ndarray) -> float:
        clf = fit_classifier((xs, ys.tolist()), n_steps=clf_steps, random_state=seed)
        return float((predict_proba(clf, images[pool]).argmax(1).numpy() == labels[pool]).mean())

    real, codes = images[train], labels[train]
    scores = {"real only": accuracy(real, codes)}
    for mode in MODES:
        copies = shifted(real, mode=mode, max_px=shift, gen=gen)
        scores[f"+ {mode} shift"] = accuracy(torch.cat([real, copies]), np.concatenate([codes, codes]))
    print(f"  {family:<9} seed {seed}  " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()), flush=True)
    return {"family": family, "seed": seed, "scores": scores}


def report(results: list[dict]) -> str:
    lines = []
    for family in dict.fromkeys(r["family"] for r in results):
        rows = [r["scores"] for r in results if r["family"] == family]
        lines.append(f"\n{family} ({len(rows)} seeds)")
        real = [s["real only"] for s in rows]
        for arm in rows[0]:
            values = [s[arm] for s in rows]
            line = f"  {arm:<18} {np.mean(values):.4f}"
            if arm != "real only":
                d = paired_difference(values, real)
                line += (
                    f"  vs real only: {100 * d['delta']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] pts"
                )
            lines.append(line)
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    family_defaults.add_family_arguments(p, balanced=True)
    p.add_argument("--shift", type=float, default=3.0, help="largest translation along each axis, px")
    p.add_argument("--clf-steps", type=int, default=DEFAULT_N_STEPS, help="classifier steps (the library's default)")
    args = p.parse_args(argv)
    families = family_defaults.chosen_families(args.families, args.families_dir)
    print(f"families {families}; seeds {args.seeds}; {args.n_per_class} images a class; shifts up to {args.shift} px")
    options = {name: getattr(args, name) for name in ("n_per_class", "per_class", "shift", "clf_steps")}
    return family_defaults.run_and_report(run_seed, report, args, families=families, **options)


if __name__ == "__main__":
    sys.exit(main())
