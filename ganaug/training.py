"""The GAN training loop: losses, EMA generator, DiffAugment, bf16 autocast,
divergence guard, progress bar and checkpoints.

Read top to bottom, one step is: draw a real batch and noise, update the
discriminator on augmented real and fake images, update the generator
through the discriminator, move the EMA generator towards the generator.
All randomness comes from one ``torch.Generator`` whose state travels in
every checkpoint, so a resumed fit equals an uninterrupted one on CPU.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validation import user_path
from ._version import __version__
from ._warnings import warn
from .checkpoint import FORMAT_VERSION, atomic_save, checkpoint_path, list_checkpoints, prune_checkpoints, safe_load
from .config import GANConfig
from .diffaugment import diff_augment, random_affine
from .distributed import (
    barrier,
    broadcast_buffers,
    gather_per_class,
    mean_over_ranks,
    owned_classes,
    rank_world,
    wrap_ddp,
)
from .losses import d_loss_fn, g_loss_fn, gradient_penalty, mode_seeking_loss, paired_choice, paired_labels
from .models import PerClass

#: The label of a fit's progress bar (a self-check's own GAN fit shows :data:`ganaug.self_check.GAN_BAR`).
FIT_BAR = "ganaug fit"


class GANTrainer:
    """Trains a (generator, discriminator) pair on tensors resident on one device.

    Parameters
    ----------
    generator, discriminator : nn.Module
        Modules with ``forward(input, labels)``; the generator's
        ``latent_dim`` attribute gives the noise size.
    config : GANConfig
        Hyperparameters.
    device : torch.device
        Where training runs; modules are moved there.
    seed : int
        Seeds the one ``torch.Generator`` behind batches, noise and DiffAugment.
    data_parallel : bool
        Train over all ranks of an active process group (DDP); ``False``
        trains in this process alone even when a group exists.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        config: GANConfig,
        *,
        device: torch.device,
        seed: int,
        data_parallel: bool = True,
    ):
        # a config with "auto" fields left is resolved by the kind of model it trains
        images = any(isinstance(m, nn.Conv2d) for m in discriminator.modules())
        if config.architecture == "auto":  # read from the modules: exemplar generators or ones that start from noise
            exemplars = hasattr(generator, "set_exemplars")
            kind = ("warp" if exemplars else "dcgan") if images else ("offset" if exemplars else "mlp")
            config = dataclasses.replace(config, architecture=kind)
        self.cfg = config.resolve(images=images)
        self.device = torch.device(device)
        self.G = generator.to(self.device)
        self.D = discriminator.to(self.device)
        if self.cfg.uses_channels_last(self.device):  # moves only 4-D (convolution) weights; a no-op for the MLP
            self.G = self.G.to(memory_format=torch.channels_last)
            self.D = self.D.to(memory_format=torch.channels_last)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self._fixed = _fixed_buffers(self.G)
        self._share_fixed_buffers()
        # data-parallel training when a process group is active (torchrun): every rank draws the same
        # global batch from the same seed and computes on its slice; DDP averages the gradients
        self.rank, self.world = rank_world() if data_parallel else (0, 1)
        # one training step recorded as a CUDA graph and replayed: no per-kernel launch cost
        self.use_graph = (
            config.cuda_graph
            and self.device.type == "cuda"
            and self.world == 1
            and config.loss != "wasserstein-gp"
            and not isinstance(self.G, PerClass)  # routes rows by class with a data-dependent nonzero
            and hasattr(torch.cuda.CUDAGraph, "register_generator_state")
        )
        betas = config.resolved_betas()
        # fused Adam: one kernel for all parameters, on CUDA and (torch >= 2.4) on CPU;
        # capturable keeps its step counter on the device so the update can live in a CUDA graph
        self.opt_g = torch.optim.Adam(
            self.G.parameters(), lr=config.lr_g, betas=betas, fused=True, capturable=self.use_graph
        )
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=config.lr_d, betas=betas, fused=True, capturable=self.use_graph
        )
        self._ema_weight = torch.zeros((), device=self.device)  # 1 - EMA decay of the coming step
        self._drop_graph()  # no recorded step yet
        self.lecam_ema = torch.full((2,), float("nan"), device=self.device)  # moving means of D(real), D(fake)
        self.rng = torch.Generator(device=self.device).manual_seed(int(seed))
        self.step = 0
        self.history: dict[str, list] = {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
        self.lr_scale = 1.0
        self.rollbacks = 0
        self._G_train, self._D_train = self.G, self.D  # what the discriminator step calls (DDP wrappers under DDP)
        self._spread = False  # per-class GANs spread over the ranks (set by fit)
        self._by_class = None  # class-balanced batches: rows sorted by class, each class's start and count (fit)

    def _checkpoint_dir(self, directory: str | Path, per_class: bool) -> Path:
        """Where this process keeps its checkpoints: per-class GANs spread over ranks keep one folder per rank."""
        if per_class and self.world > 1:
            return user_path(directory) / f"rank{self.rank}"
        return user_path(directory)

    def _slice(self, t: torch.Tensor) -> torch.Tensor:
        """This rank's part of a global batch (all of it without a process group, or when the ranks
        train different per-class GANs)."""
        if self.world == 1 or self._spread:
            return t
        n = t.shape[0] // self.world
        return t[self.rank * n : (self.rank + 1) * n]

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue training bit for bit (plain tensors and builtins)."""
        return {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "history": copy.deepcopy(self.history),
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "lecam_ema": self.lecam_ema.clone(),
        }

    def load_state_dict(self, state: dict) -> None:
        self._drop_graph()  # the optimisers' state tensors are replaced below
        self.step = int(state["step"])
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        # the optimisers adopt the tensors they are given and step them in place: give them their own copies,
        # so ``state`` (a rollback's last good snapshot) stays as it was
        self.opt_g.load_state_dict(copy.deepcopy(state["opt_g"]))
        self.opt_d.load_state_dict(copy.deepcopy(state["opt_d"]))
        self.rng.set_state(state["rng"].cpu())
        self.history = copy.deepcopy(state["history"])
        self.lr_scale = float(state.get("lr_scale", 1.0))
        self.rollbacks = int(state.get("rollbacks", 0))
        if "lecam_ema" in state:
            self.lecam_ema.copy_(state["lecam_ema"])
        self._share_fixed_buffers()  # loading gave the EMA generator copies of its own

    def _share_fixed_buffers(self) -> None:
        """The buffers training never writes (the warp generator's exemplars: the training images at the working
        size) are the generator's in the EMA generator too, not a second copy."""
        for name in self._fixed:
            module, _, buffer = name.rpartition(".")
            self.G_ema.get_submodule(module).register_buffer(buffer, self.G.get_buffer(name))

    def _drop_graph(self) -> None:
        """Forget the recorded step (it holds the old tensors and learning rates); record anew later."""
        self._graph, self._graph_out, self._warm_steps = None, None, 0

    def _set_lr(self) -> None:
        self._drop_graph()
        for opt, lr in ((self.opt_g, self.cfg.lr_g), (self.opt_d, self.cfg.lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr * self.lr_scale

    # -- one step -----------------------------------------------------------------------------
    def _batch(self, x: torch.Tensor, y: torch.Tensor, class_index: list[torch.Tensor] | None):
        b = self.cfg.batch_size
        if class_index is None and self._by_class is not None:  # a class at random, then one of its rows
            order, start, count = self._by_class
            k = torch.randint(0, count.numel(), (b,), generator=self.rng, device=self.device)
            u = torch.rand(b, generator=self.rng, device=self.device)
            idx = order[start[k] + torch.minimum((u * count[k]).long(), count[k] - 1)]
        elif class_index is None:
            idx = torch.randint(0, x.shape[0], (b,), generator=self.rng, device=self.device)
        else:  # per-class GANs: batch_size real images for every class
            idx = torch.cat(
                [ci[torch.randint(0, ci.numel(), (b,), generator=self.rng, device=self.device)] for ci in class_index]
            )
        return x[idx], y[idx]

    def train_step(self, x: torch.Tensor, y: torch.Tensor, *, ops: tuple[str, ...], class_index=None) -> torch.Tensor:
        """One generator update (after ``d_steps`` discriminator updates); returns the 4 logged figures.

        With CUDA graphs the first 3 steps run eagerly on a side stream, the
        4th is recorded, and from then on the recording is replayed. ``x``,
        ``y`` and ``class_index`` must stay the same tensors while it is.
        """
        self._ema_weight.fill_(1.0 - min(self.cfg.ema_decay, (1.0 + self.step) / (10.0 + self.step)))
        if self._graph is not None:
            self._graph.replay()
            out = self._graph_out.clone()
        elif self.use_graph:
            out = self._warm_up_or_record(x, y, ops=ops, class_index=class_index)
        else:
            out = self._step(x, y, ops=ops, class_index=class_index)
        self.step += 1
        return out

    def _warm_up_or_record(self, x, y, *, ops, class_index) -> torch.Tensor:
        current = torch.cuda.current_stream(self.device)
        side = torch.cuda.Stream(self.device)
        side.wait_stream(current)
        with torch.cuda.stream(side):
            out = self._step(x, y, ops=ops, class_index=class_index)
        current.wait_stream(side)
        self._warm_steps += 1
        if self._warm_steps == 3:  # lazily created optimiser state and library workspaces exist now
            graph = torch.cuda.CUDAGraph()
            graph.register_generator_state(self.rng)
            with torch.cuda.graph(graph):  # records; nothing runs until replay
                self._graph_out = self._step(x, y, ops=ops, class_index=class_index)
            self._graph = graph
        return out

    def _step(self, x: torch.Tensor, y: torch.Tensor, *, ops: tuple[str, ...], class_index=None) -> torch.Tensor:
        """The device work of one step (what a CUDA graph records)."""
        cfg, rng = self.cfg, self.rng
        # the autocast weight cache does not survive graph replays
        autocast = torch.autocast(
            "cuda",
            dtype=torch.bfloat16,
            enabled=cfg.amp and self.device.type == "cuda",
            cache_enabled=not self.use_graph,
        )
        for i in range(cfg.d_steps):
            real, labels = self._batch(x, y, class_index)
            if cfg.real_augment > 0:  # classical augmentation of the real images, outside the gradient path
                real = random_affine(real, rng, cfg.real_augment)
            z = torch.randn(real.shape[0], self.G.latent_dim, generator=rng, device=self.device)
            real, labels, z = self._slice(real), self._slice(labels), self._slice(z)
            fake_labels = paired_labels(labels) if cfg.diversity_weight > 0 else labels
            choice_dim = getattr(self.G, "choice_dim", None)  # declared by generators that pick an exemplar from z
            if cfg.diversity_weight > 0 and choice_dim is not None:
                # a pair deforms the same exemplar: the term then measures the deformation
                z = paired_choice(z, choice_dim)
            # only the last discriminator step's fakes are back-propagated into the generator
            with autocast, torch.set_grad_enabled(i == cfg.d_steps - 1):
                fake = self._G_train(z, fake_labels)
            with autocast:
                real_aug = diff_augment(real, ops, rng)
                fake_aug = diff_augment(fake.detach(), ops, rng)
                # real and fake through the discriminator in one pass: (2B, ...) -> (2B,) logits
                both, cls_both = self._d(
                    torch.cat([real_aug, fake_aug.to(real_aug.dtype)]), torch.cat([labels, fake_labels]), train=True
                )
                d_real, d_fake = both.split(real.shape[0])
                cls_real = None if cls_both is None else cls_both[: real.shape[0]]
                d_loss = d_loss_fn(cfg.loss, d_real, d_fake)
                if cls_real is not None:
                    d_loss = d_loss + cfg.aux_weight * F.cross_entropy(cls_real.float(), labels)
                if cfg.lecam_weight > 0:
                    d_loss = d_loss + cfg.lecam_weight * self._lecam(d_real, d_fake)
                if cfg.loss == "wasserstein-gp":
                    d_loss = d_loss + cfg.gp_weight * gradient_penalty(
                        self.D, real_aug, fake_aug.float(), y=labels, generator=rng
                    )
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        # generator update: gradients flow through D to the images, but D's own weight
        # gradients are not needed (the convolution backward for them is most of the cost)
        self.D.requires_grad_(False)
        try:
            with autocast:
                g_out, cls_fake = self._d(diff_augment(fake, ops, rng), fake_labels)
                g_loss = g_loss_fn(cfg.loss, g_out)
                if cls_fake is not None:
                    aux_g = cfg.aux_weight if cfg.aux_weight_g is None else cfg.aux_weight_g
                    g_loss = g_loss + aux_g * F.cross_entropy(cls_fake.float(), fake_labels)
                if cfg.diversity_weight > 0:
                    g_loss = g_loss + cfg.diversity_weight * mode_seeking_loss(fake.float(), z)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            self.D.requires_grad_(True)
        self.opt_g.step()
        self._update_ema()
        return torch.stack([d_loss.detach(), g_loss.detach(), d_real.detach().mean(), d_fake.detach().mean()])

    def _lecam(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        """LeCam regulariser; updates the moving averages of the mean real and fake logits."""
        with torch.no_grad():
            means = torch.stack([d_real.mean(), d_fake.mean()])
            self.lecam_ema.copy_(torch.where(self.lecam_ema.isnan(), means, 0.99 * self.lecam_ema + 0.01 * means))
        return F.relu(d_real - self.lecam_ema[1]).pow(2).mean() + F.relu(self.lecam_ema[0] - d_fake).pow(2).mean()

    def _d(self, inp: torch.Tensor, labels: torch.Tensor, train: bool = False):
        """Discriminator logits (float32) and, when it has one, its class logits.

        ``train=True`` goes through the data-parallel wrapper (its gradients are
        averaged over ranks); the generator step uses the bare module, whose
        weights are frozen there.
        """
        d = self._D_train if train else self.D
        if getattr(self.D, "aux", None) is None:
            return d(inp, labels).float(), None
        logit, cls = d(inp, labels, return_aux=True)
        return logit.float(), cls

    @torch.no_grad()
    def _update_ema(self) -> None:
        # ema += w * (g - ema), w = 1 - decay from a device tensor (train_step sets it: during the first
        # steps it averages over the steps so far, while they are fewer than 1 / (1 - decay))
        ema_p = list(self.G_ema.parameters())
        delta = torch._foreach_sub(list(self.G.parameters()), ema_p)
        torch._foreach_mul_(delta, self._ema_weight)
        torch._foreach_add_(ema_p, delta)
        for (name, b_ema), b in zip(self.G_ema.named_buffers(), self.G.buffers()):
            if name not in self._fixed:  # the fixed ones are shared
                b_ema.copy_(b)

    # -- the loop -----------------------------------------------------------------------------
    def fit(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        *,
        n_classes: int,
        per_class: bool = False,
        verbose: int = 1,
        checkpoint_dir: str | Path | None = None,
        checkpoint_every: int = 500,
        extra: dict | None = None,
        desc: str = FIT_BAR,
    ) -> GANTrainer:
        """Train until ``config.n_steps`` generator updates have been made.

        Every ``log_every`` steps the mean losses are read back: a divergence
        rolls back to the last good state, otherwise they are logged; every
        ``checkpoint_every`` steps (and at the end) a checkpoint is written to
        ``checkpoint_dir``. ``extra`` (builtins and tensors) is stored in every
        checkpoint.
        """
        cfg = self.cfg
        x, y, ops, class_index = self._prepare(x, y, n_classes=n_classes, per_class=per_class)
        if checkpoint_dir is not None:
            checkpoint_dir = self._checkpoint_dir(checkpoint_dir, per_class)
        good = self._snapshot()
        acc = torch.zeros(4, device=self.device)  # summed figures since the last read (stays on the device)
        acc_n = 0
        bar = tqdm(
            total=cfg.n_steps,
            initial=self.step,
            desc=desc,
            disable=verbose <= 0 or self.rank != 0,
            leave=verbose > 1,
            dynamic_ncols=True,
        )
        try:
            while self.step < cfg.n_steps:
                acc += self.train_step(x, y, ops=ops, class_index=class_index)
                acc_n += 1
                bar.update(1)
                last = self.step == cfg.n_steps
                at_log = self.step % cfg.log_every == 0 or last
                at_ckpt = checkpoint_dir is not None and (self.step % checkpoint_every == 0 or last)
                if not (at_log or at_ckpt):
                    continue
                figures = (mean_over_ranks(acc, self.world) / acc_n).tolist()  # the only host sync
                acc.zero_()
                acc_n = 0
                if _diverged(figures):
                    self._rollback(good, figures)
                    continue
                self._log(figures, bar)
                if not last:
                    good = self._snapshot(reuse=good)
                if at_ckpt:
                    self._checkpoint(checkpoint_dir, extra)
        finally:
            bar.close()
        self._finish(n_classes, checkpoint_dir)
        return self

    def _prepare(self, x: torch.Tensor, y: torch.Tensor, *, n_classes: int, per_class: bool):
        """Data on the device, the DiffAugment ops, how batches are drawn, and the data-parallel set-up of a fit."""
        cfg = self.cfg
        x = x.to(self.device, torch.float32)
        y = y.to(self.device, torch.long)
        ops = cfg.diffaugment_ops(channels=x.shape[1] if x.dim() == 4 else 0, n_samples=x.shape[0])
        class_index = [(y == k).nonzero(as_tuple=True)[0] for k in range(n_classes)] if per_class else None
        # class-balanced batches draw from the rows sorted by class, with each class's start and count
        count = torch.unique(y, return_counts=True)[1] if not per_class and cfg.class_balanced is True else None
        self._by_class = None if count is None else (torch.argsort(y, stable=True), count.cumsum(0) - count, count)
        # several processes: per-class GANs are spread over the ranks (rank r trains classes r, r + world, ...,
        # each on full batches) and gathered at the end; one conditional GAN is trained data-parallel
        self._spread = per_class and self.world > 1
        if self._spread:
            if self.world > n_classes:
                raise ValueError(
                    f"strategy='per_class' spreads the {n_classes} classes' GANs over the processes, so it needs at most "
                    f"{n_classes} processes; got {self.world}"
                )
            class_index = [class_index[k] for k in owned_classes(n_classes, self.rank, self.world)]
        elif self.world > 1 and cfg.batch_size % self.world:
            raise ValueError(
                f"batch_size ({cfg.batch_size}) must be divisible by the number of processes ({self.world}): "
                "it is the global batch, split evenly over the ranks"
            )
        if not self._spread and self.world > 1 and self._G_train is self.G:
            self._G_train, self._D_train = wrap_ddp(self.G, self.D, device=self.device, per_class=per_class)
        self._set_lr()  # also forgets a step recorded by an earlier fit (its tensors are gone)
        return x, y, ops, class_index

    def _log(self, figures: list[float], bar) -> None:
        """Append the mean losses since the last entry to ``history`` and show them on the progress bar."""
        for key, v in zip(("d_loss", "g_loss", "d_real", "d_fake"), figures):
            self.history[key].append(v)
        self.history["step"].append(self.step)
        bar.set_postfix(d=f"{figures[0]:.3f}", g=f"{figures[1]:.3f}", refresh=False)

    def _checkpoint(self, directory: Path, extra: dict | None) -> None:
        """Write a checkpoint from the rank that keeps them (spread per-class GANs: every rank, its own classes)."""
        if self.rank == 0 or self._spread:
            self.save_checkpoint(directory, extra)

    def _finish(self, n_classes: int, checkpoint_dir) -> None:
        """After the last step of several processes: every rank holds the same, whole model."""
        if self.world == 1:
            return
        if self._spread:
            gather_per_class((self.G, self.G_ema, self.D), n_classes=n_classes, world=self.world)
        else:  # batch-norm statistics were last updated on each rank's own slice: take rank 0's
            broadcast_buffers((self.G, self.G_ema, self.D), src=0)
        if checkpoint_dir is not None:
            barrier()  # rank 0's checkpoint is complete before anyone returns

    def _snapshot(self, reuse: dict | None = None) -> dict:
        """A copy of :meth:`state_dict` that later steps leave alone; ``reuse``, an earlier snapshot, lends its
        tensors' memory (no fresh allocation every log). The buffers training never writes are held, not copied."""
        fixed = {self.G.get_buffer(name).data_ptr() for name in self._fixed}
        return _copied(self.state_dict(), reuse, keep=fixed - {0})

    def _rollback(self, good: dict, figures: list[float]) -> None:
        """Divergence guard: restore the last good state and halve the learning rates."""
        self.rollbacks += 1
        if self.rollbacks > 5:
            raise RuntimeError(
                f"GAN training diverged (losses {figures}) and did not recover after 5 rollbacks with halved "
                "learning rates; try loss='hinge', smaller lr_g/lr_d, spectral_norm=True, or check the data for outliers"
            )
        rollbacks, diverged_at = self.rollbacks, self.step
        self.load_state_dict(good)
        self.rollbacks = rollbacks
        self.lr_scale *= 0.5
        self._set_lr()
        warn(
            f"GAN training diverged near step {diverged_at} (losses {figures}); rolled back to step {self.step} "
            f"and halved the learning rates (now x{self.lr_scale:g})",
            RuntimeWarning,
        )
        # draw the next batches from a different stream so the same blow-up is not replayed
        self.rng.manual_seed(
            int(torch.randint(0, 2**62, (1,), generator=self.rng, device=self.device)) + self.rollbacks
        )

    def save_checkpoint(self, directory: str | Path, extra: dict | None = None) -> Path:
        """Atomically write the full training state; keep the previous checkpoint."""
        state = {
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "kind": "checkpoint",
            "config": self.cfg.to_dict(),
            "trainer": self.state_dict(),
            "extra": extra or {},
        }
        path = atomic_save(state, checkpoint_path(directory, self.step))
        prune_checkpoints(directory, keep=2)
        return path

    def resume(self, directory: str | Path, per_class: bool = False) -> dict | None:
        """Load the newest readable checkpoint in ``directory``; return its ``extra`` dict (None if none).

        ``per_class`` must match the coming ``fit`` (under several processes it
        reads this rank's own folder).
        """
        directory = self._checkpoint_dir(directory, per_class)
        errors = []
        for path in reversed(list_checkpoints(directory)):
            try:
                state = safe_load(path, map_location=self.device, kind="checkpoint")
            except ValueError as exc:  # a damaged newest file: fall back to the previous one
                errors.append(str(exc))
                warn(f"skipping unreadable checkpoint: {exc}", RuntimeWarning)
                continue
            self.load_state_dict(state["trainer"])
            return state.get("extra", {})
        if errors:
            raise ValueError(f"no readable checkpoint in {str(directory)!r}: " + "; ".join(errors))
        return None


def _fixed_buffers(module: nn.Module) -> set[str]:
    """Names of the buffers in ``module`` (at any depth) that training never writes: those its modules declare in
    ``static_buffers`` (the warp generator's exemplars)."""
    return {
        f"{prefix}.{name}" if prefix else name
        for prefix, m in module.named_modules()
        for name, _ in m.named_buffers(recurse=False)
        if name in getattr(m, "static_buffers", ())
    }


def _copied(state, reuse, keep=frozenset()):
    """A deep copy of ``state`` written into the matching tensors of ``reuse`` where there are some; tensors
    whose ``data_ptr`` is in ``keep`` are held as they are."""
    if isinstance(state, torch.Tensor):
        if state.data_ptr() in keep:
            return state
        if isinstance(reuse, torch.Tensor) and _layout(reuse) == _layout(state):
            return reuse.copy_(state)
        return state.clone()
    if isinstance(state, dict):
        out = copy.copy(state)  # keeps the dict's type and a module state dict's ``_metadata``
        for key, value in state.items():
            out[key] = _copied(value, reuse.get(key) if isinstance(reuse, dict) else None, keep)
        return out
    return copy.deepcopy(state)


def _layout(t: torch.Tensor) -> tuple:
    return t.shape, t.dtype, t.device, t.stride()


def _diverged(figures: list[float]) -> bool:
    """Whether the mean losses and logits ``(d_loss, g_loss, d_real, d_fake)`` show a diverged fit: a figure
    that is not finite, or real and fake logits more than 1e4 apart."""
    return not all(math.isfinite(v) for v in figures) or abs(figures[2] - figures[3]) > 1e4
