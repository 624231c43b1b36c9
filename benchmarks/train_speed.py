"""Training throughput: ganaug's trainer against a plain reference loop of the same model.

The reference is written the way the pytorch/examples DCGAN is: a DataLoader
hands out batches that are copied to the device every step, fp32 eager, the
losses read back to the host every step, the EMA updated parameter by
parameter. It trains the *same* generator and discriminator with the same
loss, auxiliary classifier, mode-seeking term and DiffAugment ops as ganaug's
GANTrainer.

    python benchmarks/train_speed.py --device cpu --steps 200 --repeats 5
    python benchmarks/train_speed.py --device cuda --steps 2000 --batch-size 256
    python benchmarks/train_speed.py --device cuda --steps 300 --architecture warp   # the warp generator

Prints images/s for each, peak memory, the FLOPs per training image with the
arithmetic bound on the device, and a last line ``speed-up: X.XXx``.
"""

from __future__ import annotations

import argparse
import copy
import resource
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ganaug.config import GANConfig
from ganaug.diffaugment import diff_augment
from ganaug.losses import mode_seeking_loss, paired_choice, paired_labels
from ganaug.models import build_models, init_weights
from ganaug.training import GANTrainer


def make_models(cfg, x, y, seed=0):
    g, d = build_models(cfg, 10, (1, 28, 28))
    gen = torch.Generator().manual_seed(seed)
    init_weights(g, gen)
    init_weights(d, gen)
    if hasattr(g, "set_exemplars"):  # the warp generator bends the training images
        g.set_exemplars(x, y)
    return g, d


def reference_loop(g, d, x, y, cfg, device, steps):
    """pytorch/examples-style loop over a DataLoader; returns images/s."""
    g, d = g.to(device), d.to(device)
    ema = copy.deepcopy(g).eval()
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    loader = DataLoader(TensorDataset(x, y), batch_size=cfg.batch_size, shuffle=True, drop_last=True)
    ops = cfg.diffaugment_ops(channels=1, n_samples=len(x))
    rng = torch.Generator(device=device).manual_seed(0)
    step, t0 = 0, None
    while step < steps + 5:
        for real, labels in loader:
            if step == 5:  # warm-up done
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
            real, labels = real.to(device), labels.to(device)
            z = torch.randn(real.shape[0], g.latent_dim, device=device)
            fake_labels = paired_labels(labels) if cfg.diversity_weight > 0 else labels
            if cfg.diversity_weight > 0 and hasattr(g, "choice_dim"):
                z = paired_choice(z, g.choice_dim)
            fake = g(z, fake_labels)
            out_r, cls_r = d(diff_augment(real, ops, rng), labels, return_aux=True)
            out_f, _ = d(diff_augment(fake.detach(), ops, rng), fake_labels, return_aux=True)
            loss_d = (
                F.softplus(-out_r).mean() + F.softplus(out_f).mean() + cfg.aux_weight * F.cross_entropy(cls_r, labels)
            )
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            out, cls = d(diff_augment(fake, ops, rng), fake_labels, return_aux=True)
            loss_g = F.softplus(-out).mean() + cfg.aux_weight * F.cross_entropy(cls, fake_labels)
            if cfg.diversity_weight > 0:
                loss_g = loss_g + cfg.diversity_weight * mode_seeking_loss(fake, z)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            with torch.no_grad():
                for pe, p in zip(ema.parameters(), g.parameters()):
                    pe.mul_(cfg.ema_decay).add_(p, alpha=1 - cfg.ema_decay)
            _ = (loss_d.item(), loss_g.item())  # the example prints both every step
            step += 1
            if step >= steps + 5:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * cfg.batch_size / (time.perf_counter() - t0)


def ganaug_loop(g, d, x, y, cfg, device, steps):
    """GANTrainer.fit on device-resident data; returns images/s."""
    warm = copy.copy(cfg)
    warm.n_steps = 5
    t = GANTrainer(g, d, warm, device=device, seed=0)
    t.fit(x, y, n_classes=10, verbose=0)
    t.cfg = copy.copy(cfg)
    t.cfg.n_steps = steps + 5
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    t.fit(x, y, n_classes=10, verbose=0)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * cfg.batch_size / (time.perf_counter() - t0)


def flops_per_image(cfg, device, x, y):
    """FLOPs of one ganaug training step divided by the batch size (torch's FLOP counter)."""
    from torch.utils.flop_counter import FlopCounterMode

    g, d = make_models(cfg, x[:256], y[:256])
    c = copy.copy(cfg)
    c.n_steps = 1
    t = GANTrainer(g, d, c, device=device, seed=0)
    x = torch.rand(256, 1, 28, 28, device=device) * 2 - 1
    y = torch.arange(256, device=device) % 10
    with FlopCounterMode(display=False) as counter:
        t.train_step(x, y, ops=c.diffaugment_ops(1, 256))
    return counter.get_total_flops() / cfg.batch_size


def reference_flops_per_image(cfg, device, x, y, steps=3):
    """FLOPs of one reference-loop step divided by the batch size (it runs 5 warm-up steps before ``steps``)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        reference_loop(*make_models(cfg, x, y), x, y, cfg, device, steps)
    return counter.get_total_flops() / (steps + 5) / cfg.batch_size


def peak_memory(device):
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB GPU"
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB RSS (process)"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=None, help="default: GANConfig's")
    p.add_argument(
        "--n-images",
        type=int,
        default=None,
        help="training set size (random MNIST-shaped data); default: 500 on CPU, 60,000 on CUDA",
    )
    p.add_argument("--repeats", type=int, default=1, help="rounds of (reference, ganaug); medians are printed")
    p.add_argument(
        "--no-cuda-graph", action="store_true", help="ganaug's trainer without CUDA graphs (GANConfig.cuda_graph=False)"
    )
    p.add_argument(
        "--channels-last",
        choices=["auto", "on", "off"],
        default="auto",
        help="ganaug's GANConfig.channels_last (auto: on for the CPU); the reference loop stays contiguous",
    )
    p.add_argument(
        "--architecture", choices=["dcgan", "warp"], default="dcgan", help="the generator (GANConfig.architecture)"
    )
    p.add_argument(
        "--peak-tflops",
        type=float,
        default=None,
        help="device peak for the arithmetic bound (default: measured matmul rate)",
    )
    args = p.parse_args()
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    cfg = GANConfig(
        architecture=args.architecture,
        cuda_graph=not args.no_cuda_graph,
        channels_last={"auto": "auto", "on": True, "off": False}[args.channels_last],
    ).resolve(images=True)  # the reference loop reads the resolved loss weights
    if args.batch_size is not None:
        cfg.batch_size = args.batch_size
    if args.n_images is None:
        args.n_images = 60_000 if device.type == "cuda" else 500
    if args.n_images < cfg.batch_size:
        p.error(f"--n-images ({args.n_images}) must be at least the batch size ({cfg.batch_size})")
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(args.n_images, 1, 28, 28, generator=gen) * 2 - 1
    y = torch.arange(args.n_images) % 10
    print(
        f"device {device} ({torch.cuda.get_device_name() if device.type == 'cuda' else f'{torch.get_num_threads()} threads'}), "
        f"torch {torch.__version__}, {cfg.architecture} generator, batch {cfg.batch_size}, {args.steps} timed steps, {args.n_images} images"
        + (", CUDA graphs" if device.type == "cuda" and cfg.cuda_graph else "")
        + f", ganaug channels-last {'on' if cfg.uses_channels_last(device) else 'off'}"
    )

    # the two loops take turns, --repeats times, so a machine whose speed drifts (shared CPUs) affects both
    refs, ourss, ratios = [], [], []
    for _ in range(args.repeats):
        refs.append(reference_loop(*make_models(cfg, x, y), x, y, cfg, device, args.steps))
        ref_mem = peak_memory(device)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        ourss.append(ganaug_loop(*make_models(cfg, x, y), x, y, cfg, device, args.steps))
        ours_mem = peak_memory(device)
        ratios.append(ourss[-1] / refs[-1])
    ref, ours = statistics.median(refs), statistics.median(ourss)
    if args.repeats > 1:
        print(f"speed-up per round: {', '.join(f'{r:.2f}x' for r in ratios)}")
    fpi = flops_per_image(cfg, device, x, y)
    ref_fpi = reference_flops_per_image(cfg, device, x, y)
    peak = args.peak_tflops
    if peak is None:
        n = 4096 if device.type == "cuda" else 1024
        a = torch.randn(n, n, device=device, dtype=torch.bfloat16 if device.type == "cuda" else torch.float32)
        for _ in range(3):
            a @ a
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(20):
            a @ a
        if device.type == "cuda":
            torch.cuda.synchronize()
        peak = 2 * n**3 * 20 / (time.perf_counter() - t0) / 1e12
    bound = peak * 1e12 / fpi
    print(f"reference loop : {ref:10.0f} images/s   peak {ref_mem}" + (" (median)" if args.repeats > 1 else ""))
    print(f"ganaug trainer : {ours:10.0f} images/s   peak {ours_mem}" + (" (median)" if args.repeats > 1 else ""))
    print(
        f"FLOPs per training image {fpi / 1e6:.1f} MFLOP; at {peak * 1000:,.0f} GFLOP/s (measured matmul rate, "
        f"{'bf16' if device.type == 'cuda' else 'fp32'}) the arithmetic bound is {bound:,.0f} images/s; "
        f"ganaug reaches {ours / bound:.1%} of it"
    )
    print(
        f"the reference loop does {ref_fpi / 1e6:.1f} MFLOP per training image, {ref_fpi / fpi:.2f}x ganaug's: "
        "the speed-up if both ran at the same arithmetic rate"
    )
    print(f"one epoch of 60,000 images: {60000 / ours:.2f} s")
    print(
        f"speed-up: {statistics.median(ratios):.2f}x"
        + (f" (median of {args.repeats} rounds)" if args.repeats > 1 else "")
    )


if __name__ == "__main__":
    main()
