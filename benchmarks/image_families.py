"""Image families beside handwritten digits, rendered offline: glyphs, shapes and textures.

Every default of ganaug must hold on images that are not pen strokes. This script renders three families of
10 classes each, with nothing downloaded:

* ``glyphs``: the letters A-J, each font one sample of each letter (notMNIST-style), from every font file under
  the system's font folders (``fc-list``; Debian's ``fonts-*`` packages add hundreds: the figures in
  docs/settings.md were rendered after ``apt-get install $(cat benchmarks/font_packages.txt)``, 1,246 font files). A font without a glyph for
  one of the letters, or whose letters render alike, is left out. Train and test never share a font. Without
  font files it falls back to Pillow's built-in font, jittered, so it always renders something.
* ``shapes``: filled or outlined geometric shapes (circle, square, triangle, pentagon, hexagon, star, plus, ring,
  crescent, arrow) at random size, rotation, position and line width, on a noisy dark background.
* ``textures``: procedural textures (horizontal, vertical and diagonal stripes, checkerboard, dot lattice,
  speckle, concentric rings, grid, blobs, zigzag) at random scale, phase, angle and contrast.

Images are greyscale uint8, white-on-black like MNIST, 28 x 28 by default; ``--size HxW --colour`` renders glyphs
as coloured ink on coloured paper with placement jitter (e.g. 96 x 128 for the "your images as they are" work).
Writes one MNIST-format IDX folder per family (``{train,t10k}-{images,labels}-idx*-ubyte``, readable by
``ganaug.io.load_idx_folder``, ``ganaug fit`` and the recipes' ``--dataset idx --data-dir``), or with
``--image-folder`` an ImageFolder tree ``<family>/{train,test}/<class>/<n>.png``, and a preview grid
``<family>.png``.

    python benchmarks/image_families.py --out data/families                 # the three families, 28 x 28
    python benchmarks/image_families.py --out data/glyphs96 --families glyphs --size 96x128 --colour --image-folder
    python recipes/mnist_imbalanced.py --quick --dataset idx --data-dir data/families/shapes --validation

Prints, per family, the classes, the number of train and test images per class and the seconds it took.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FAMILIES = ("glyphs", "shapes", "textures")
LETTERS = "ABCDEFGHIJ"
SHAPES = ("circle", "square", "triangle", "pentagon", "hexagon", "star", "plus", "ring", "crescent", "arrow")
TEXTURES = (
    "horizontal",
    "vertical",
    "diagonal",
    "checkerboard",
    "lattice",
    "speckle",
    "rings",
    "grid",
    "blobs",
    "zigzag",
)
#: rendered per class for shapes and textures: train pool and test split (glyphs: as many as there are fonts)
N_TRAIN, N_TEST = 600, 100
SUPERSAMPLE = 4  # shapes are drawn this many times larger, then downsampled (anti-aliasing)


# -- glyphs ------------------------------------------------------------------------------------
def font_files() -> list[str]:
    """Every scalable font file the system knows (``fc-list``, else the usual folders), sorted."""
    try:
        out = subprocess.run(["fc-list", ":", "file"], capture_output=True, text=True, timeout=60).stdout
        files = {line.split(":")[0].strip() for line in out.splitlines() if line.strip()}
    except (OSError, subprocess.SubprocessError):
        files = set()
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts")):
        if Path(folder).is_dir():
            files |= {str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in (".ttf", ".otf")}
    return sorted(f for f in files if f.lower().endswith((".ttf", ".otf")))


def _glyph_mask(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray | None:
    """The letter's ink as a float mask cropped to its bounding box; None when it has no ink."""
    left, top, right, bottom = font.getbbox(char)
    if right - left < 2 or bottom - top < 2:
        return None
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), char, fill=255, font=font)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    rows, cols = np.nonzero(arr > 0.05)
    if len(rows) == 0:
        return None
    return arr[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def font_letters(path: str | None, letters: str = LETTERS, px: int = 64) -> list[np.ndarray] | None:
    """The masks of ``letters`` in one font (``None`` for Pillow's built-in font), or None when the font lacks a
    glyph (it draws its 'missing' box, or nothing) or draws two letters alike."""
    try:
        font = ImageFont.truetype(path, px) if path else ImageFont.load_default(size=px)
    except OSError:
        return None
    except TypeError:  # Pillow < 10.1: the built-in font is a small bitmap, without sizes
        font = ImageFont.load_default()
    masks = [_glyph_mask(font, c) for c in letters]
    if any(m is None for m in masks):
        return None
    missing = _glyph_mask(font, "\ufffe")  # a code point no font draws: its 'missing glyph' box, if any
    small = [np.asarray(Image.fromarray((m * 255).astype(np.uint8)).resize((12, 12), Image.BILINEAR)) for m in masks]
    if missing is not None:
        box = np.asarray(Image.fromarray((missing * 255).astype(np.uint8)).resize((12, 12), Image.BILINEAR))
        if any(np.abs(s.astype(int) - box).mean() < 4 for s in small):
            return None
    for i in range(len(small)):
        for j in range(i):
            if np.abs(small[i].astype(int) - small[j]).mean() < 4:
                return None
    return masks


def _place(mask: np.ndarray, size: tuple[int, int], rng: np.random.RandomState, *, fill: float, jitter: float):
    """The mask scaled to ``fill`` of the frame (aspect kept) at a position jittered by up to ``jitter`` of it."""
    h, w = size
    scale = fill * min(h / mask.shape[0], w / mask.shape[1])
    gh, gw = max(1, round(mask.shape[0] * scale)), max(1, round(mask.shape[1] * scale))
    glyph = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).resize((gw, gh), Image.LANCZOS), dtype=np.float32)
    top = (h - gh) / 2 + rng.uniform(-jitter, jitter) * h
    left = (w - gw) / 2 + rng.uniform(-jitter, jitter) * w
    top, left = int(np.clip(round(top), 0, h - gh)), int(np.clip(round(left), 0, w - gw))
    out = np.zeros((h, w), dtype=np.float32)
    out[top : top + gh, left : left + gw] = glyph / 255.0
    return out


def render_glyphs(
    size=(28, 28), *, colour: bool = False, fonts: list[str] | None = None, seed: int = 0, copies: int = 1
):
    """Glyph images ``(x uint8 (N, C, H, W), y int64, groups)``: every usable font draws A-J ``copies`` times.

    ``groups[i]`` is the font (and copy) of image i (train/test splits keep a group on one side); an image equal to an
    earlier one (fonts that share a letter's design) is left out, so no image is on both sides of a split. Greyscale: white ink on
    black, the glyph filling 85% of the frame, centred (MNIST-like). ``colour``: dark ink on light paper of random
    hues, the glyph filling 60-85% of the frame with up to 10% placement jitter. Without usable font files,
    Pillow's built-in font stands in (``copies`` at least 20, jittered).
    """
    rng = np.random.RandomState(seed)
    fonts = font_files() if fonts is None else list(fonts)
    usable = [(f, m) for f in fonts if (m := font_letters(f)) is not None]
    if not usable:
        usable, copies = [(None, font_letters(None))], max(copies, 20)
    xs, ys, groups, seen = [], [], [], set()
    for f, (_, masks) in enumerate(usable):
        for c in range(copies):
            g = f * copies + c  # a group: one font's letters, or (jittered copies) one copy of them
            for k, mask in enumerate(masks):
                jittered = colour or copies > 1
                fill = rng.uniform(0.6, 0.85) if jittered else 0.85
                ink = _place(mask, size, rng, fill=fill, jitter=0.1 if jittered else 0.0)
                img = _colourise(ink, rng) if colour else (ink * 255).round().astype(np.uint8)[None]
                if img.tobytes() in seen:  # two fonts (or two files of one) drawing a letter alike: keep it once
                    continue
                seen.add(img.tobytes())
                xs.append(img)
                ys.append(k)
                groups.append(g)
    return np.stack(xs), np.asarray(ys, dtype=np.int64), np.asarray(groups)


def _colourise(ink: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Ink mask -> (3, H, W) uint8: a light paper colour and a dark ink colour, both of random hue, and grain."""
    paper = rng.uniform(0.7, 1.0, 3)
    ink_colour = rng.uniform(0.0, 0.45, 3)
    grain = rng.normal(0, 0.02, ink.shape)
    img = paper[:, None, None] * (1 - ink) + ink_colour[:, None, None] * ink + grain
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


# -- shapes ------------------------------------------------------------------------------------
def _polygon(n: int, r: float, angle: float, inner: float | None = None) -> list[tuple[float, float]]:
    """Vertices of a regular n-gon (or an n-pointed star with ``inner`` radius) around the origin."""
    points = []
    steps = 2 * n if inner else n
    for i in range(steps):
        radius = r if not inner or i % 2 == 0 else inner * r
        a = angle + 2 * math.pi * i / steps
        points.append((radius * math.cos(a), radius * math.sin(a)))
    return points


def _shape_outline(kind: str, r: float, angle: float) -> list[list[tuple[float, float]]]:
    """The polygons (around the origin) that draw ``kind``; circles and rings are handled by the caller."""
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])

    def turned(points):
        return [tuple(rot @ np.asarray(p)) for p in points]

    if kind == "square":
        return [_polygon(4, r, angle + math.pi / 4)]
    if kind == "triangle":
        return [_polygon(3, r, angle)]
    if kind == "pentagon":
        return [_polygon(5, r, angle)]
    if kind == "hexagon":
        return [_polygon(6, r, angle)]
    if kind == "star":
        return [_polygon(5, r, angle, inner=0.42)]
    if kind == "plus":
        t = 0.3 * r
        return [turned([(-r, -t), (r, -t), (r, t), (-r, t)]), turned([(-t, -r), (t, -r), (t, r), (-t, r)])]
    if kind == "arrow":
        s = 0.28 * r
        return [
            turned([(-r, -s), (0.1 * r, -s), (0.1 * r, -2.2 * s), (r, 0), (0.1 * r, 2.2 * s), (0.1 * r, s), (-r, s)])
        ]
    raise ValueError(kind)


def render_shape(kind: str, size: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """One greyscale (H, W) uint8 image of ``kind``."""
    h, w = size
    big = (w * SUPERSAMPLE, h * SUPERSAMPLE)
    img = Image.new("L", big, 0)
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.3, 0.45) * min(big)
    cx = big[0] / 2 + rng.uniform(-0.08, 0.08) * big[0]
    cy = big[1] / 2 + rng.uniform(-0.08, 0.08) * big[1]
    angle = rng.uniform(0, 2 * math.pi)
    shade = int(rng.uniform(170, 255))
    filled = rng.rand() < 0.5
    width = max(1, int(rng.uniform(0.06, 0.12) * r))
    fill, outline = (shade, None) if filled else (None, shade)
    if kind in ("circle", "ring"):
        box = (cx - r, cy - r, cx + r, cy + r)
        if kind == "circle":
            draw.ellipse(box, fill=fill, outline=outline, width=width)
        else:
            draw.ellipse(box, fill=shade)
            inner = r * rng.uniform(0.45, 0.65)
            draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=0)
    elif kind == "crescent":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=shade)
        off = 0.45 * r
        dx, dy = off * math.cos(angle), off * math.sin(angle)
        draw.ellipse((cx + dx - 0.85 * r, cy + dy - 0.85 * r, cx + dx + 0.85 * r, cy + dy + 0.85 * r), fill=0)
    else:
        for poly in _shape_outline(kind, r, angle):
            pts = [(cx + x, cy + y) for x, y in poly]
            if filled:
                draw.polygon(pts, fill=shade)
            else:
                draw.line(pts + [pts[0]], fill=shade, width=width, joint="curve")
    small = np.asarray(img.resize((w, h), Image.LANCZOS), dtype=np.float32)
    background = rng.uniform(0, 40) + rng.normal(0, rng.uniform(3, 12), (h, w))
    return np.clip(np.maximum(small, background), 0, 255).round().astype(np.uint8)


# -- textures ----------------------------------------------------------------------------------
def render_texture(kind: str, size: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    """One greyscale (H, W) uint8 texture of ``kind``: a pattern in [0, 1] at random scale, phase and contrast."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / max(h, w), xx / max(h, w)  # one unit: the longer side
    period = rng.uniform(0.12, 0.3)
    phase = rng.uniform(0, 2 * math.pi)

    def stripes(theta):
        return 0.5 + 0.5 * np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period + phase)

    jitter = rng.uniform(-0.25, 0.25)  # radians around the class's orientation
    if kind == "horizontal":
        pattern = stripes(math.pi / 2 + jitter)
    elif kind == "vertical":
        pattern = stripes(jitter)
    elif kind == "diagonal":
        pattern = stripes(math.pi / 4 * rng.choice([1, 3]) + jitter)
    elif kind == "checkerboard":
        a = rng.uniform(0, math.pi / 2)
        u, v = xx * math.cos(a) + yy * math.sin(a), -xx * math.sin(a) + yy * math.cos(a)
        pattern = ((np.floor(u / (period / 2)) + np.floor(v / (period / 2))) % 2).astype(np.float32)
    elif kind == "lattice":
        p = period * 0.8
        d = np.hypot((xx + phase) % p - p / 2, (yy + 2 * phase) % p - p / 2)
        pattern = (d < p * rng.uniform(0.2, 0.35)).astype(np.float32)
    elif kind == "speckle":
        pattern = (rng.rand(h, w) < rng.uniform(0.1, 0.3)).astype(np.float32)
    elif kind == "rings":
        cy, cx = rng.uniform(0.2, 0.8, 2) * np.array([h, w]) / max(h, w)
        pattern = 0.5 + 0.5 * np.sin(2 * math.pi * np.hypot(xx - cx, yy - cy) / period + phase)
    elif kind == "grid":
        p, t = period, rng.uniform(0.15, 0.3)
        pattern = (((xx + phase) % p < t * p) | ((yy + 2 * phase) % p < t * p)).astype(np.float32)
    elif kind == "blobs":
        coarse = rng.rand(max(2, round(h / 6)), max(2, round(w / 6))).astype(np.float32)
        smooth = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC)) / 255
        pattern = (smooth > np.median(smooth)).astype(np.float32)
    elif kind == "zigzag":
        amp = rng.uniform(0.04, 0.1)
        tooth = period * rng.uniform(0.6, 1.2)
        wave = amp * (2 * np.abs(2 * ((xx / tooth + phase) % 1) - 1) - 1)
        pattern = 0.5 + 0.5 * np.sign(np.sin(2 * math.pi * (yy + wave) / period))
    else:
        raise ValueError(kind)
    low, high = rng.uniform(0, 0.25), rng.uniform(0.65, 1.0)
    img = low + (high - low) * pattern + rng.normal(0, 0.04, (h, w))
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8)


# -- families and splits -----------------------------------------------------------------------
def render_family(name: str, *, size=(28, 28), colour: bool = False, n_per_class: int = N_TRAIN + N_TEST, seed=0):
    """``(x uint8 (N, C, H, W), y int64, groups, class names)`` of one family; ``groups`` ties images that must
    stay on one side of a split (a font), else each image is its own group."""
    if name not in FAMILIES:
        raise ValueError(f"unknown family {name!r}; choose from {FAMILIES}")
    if name == "glyphs":
        x, y, groups = render_glyphs(size, colour=colour, seed=seed)
        return x, y, groups, list(LETTERS)
    if colour:
        raise ValueError("--colour renders glyphs only")
    kinds, render = {"shapes": (SHAPES, render_shape), "textures": (TEXTURES, render_texture)}[name]
    rng = np.random.RandomState(seed)
    x = np.stack([render(kind, size, rng)[None] for _ in range(n_per_class) for kind in kinds])
    y = np.tile(np.arange(len(kinds)), n_per_class)
    return x, y, np.arange(len(y)), list(kinds)


def split_by_group(y: np.ndarray, groups: np.ndarray, *, n_test_per_class: int, seed: int = 0):
    """Train and test indices, the test split holding about ``n_test_per_class`` images per class and no group
    that the train split has."""
    rng = np.random.RandomState(seed)
    if len(np.unique(groups)) == len(y):  # every image its own group: stratified, n_test_per_class of each class
        test = np.concatenate([rng.permutation(np.where(y == k)[0])[:n_test_per_class] for k in np.unique(y)])
        return np.setdiff1d(np.arange(len(y)), test), np.sort(test)
    per_group = len(y) / len(np.unique(groups))
    n_test_groups = max(1, round(n_test_per_class * len(np.unique(y)) / per_group))
    test_groups = rng.permutation(np.unique(groups))[:n_test_groups]
    test = np.isin(groups, test_groups)
    return np.where(~test)[0], np.where(test)[0]


def preview(x: np.ndarray, y: np.ndarray, names: list[str], path: Path, per_class: int = 12) -> None:
    """A grid: one row per class, its first ``per_class`` images."""
    rows = []
    for k in range(len(names)):
        imgs = x[y == k][:per_class]
        imgs = np.concatenate([imgs, np.zeros((per_class - len(imgs),) + imgs.shape[1:], imgs.dtype)])
        rows.append(np.concatenate(list(imgs.transpose(0, 2, 3, 1)), axis=1))
    grid = np.concatenate(rows, axis=0)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)


def write(name: str, x, y, names, train, test, out: Path, *, image_folder: bool) -> Path:
    """The family's train/test splits as an IDX folder (greyscale) or an ImageFolder tree."""
    from ganaug.io import write_idx

    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    if image_folder:
        for split, idx in (("train", train), ("test", test)):
            for i in idx:
                d = folder / split / names[y[i]]
                d.mkdir(parents=True, exist_ok=True)
                img = x[i].transpose(1, 2, 0)
                Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(d / f"{i:06d}.png")
    else:
        if x.shape[1] != 1:
            raise ValueError("IDX folders hold greyscale images; write colour ones with --image-folder")
        for prefix, idx in (("train", train), ("t10k", test)):
            write_idx(folder / f"{prefix}-images-idx3-ubyte", x[idx, 0])
            write_idx(folder / f"{prefix}-labels-idx1-ubyte", y[idx].astype(np.uint8))
        (folder / "classes.txt").write_text("\n".join(names) + "\n")
    preview(x[train], y[train], names, out / f"{name}.png")
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="data/families")
    p.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    p.add_argument("--size", default="28x28", help="HxW of every image, e.g. 28x28 or 96x128")
    p.add_argument("--colour", action="store_true", help="glyphs as coloured ink on coloured paper (3 channels)")
    p.add_argument("--n-per-class", type=int, default=N_TRAIN + N_TEST, help="shapes and textures: images per class")
    p.add_argument("--test-per-class", type=int, default=N_TEST, help="about this many test images per class")
    p.add_argument("--image-folder", action="store_true", help="write an ImageFolder tree of PNGs, not IDX files")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        if len(size) != 2 or min(size) < 8:
            raise ValueError
    except ValueError:
        p.error(f"--size must be HxW with both at least 8, e.g. 28x28; got {args.size!r}")
    out = Path(args.out)
    for name in args.families:
        t0 = time.perf_counter()
        x, y, groups, names = render_family(
            name, size=size, colour=args.colour, n_per_class=args.n_per_class, seed=args.seed
        )
        train, test = split_by_group(y, groups, n_test_per_class=args.test_per_class, seed=args.seed)
        folder = write(name, x, y, names, train, test, out, image_folder=args.image_folder)
        counts = np.bincount(y[train], minlength=len(names)), np.bincount(y[test], minlength=len(names))
        extra = f", {len(np.unique(groups))} fonts" if name == "glyphs" else ""
        print(
            f"{name}: classes {names}; {tuple(x.shape[1:])} uint8; train {counts[0].min()}-{counts[0].max()} and "
            f"test {counts[1].min()}-{counts[1].max()} per class{extra}; {folder}/ ({time.perf_counter() - t0:.1f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
