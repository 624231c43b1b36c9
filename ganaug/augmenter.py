"""SyntheticAugmenter: fit a class-conditional GAN on labelled data, sample from
it, and mix its samples into a DataLoader at a chosen real:synthetic ratio."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler
from torch.utils.data.distributed import DistributedSampler

from . import __version__
from ._validation import check_flag, child_seeds, collect_xy, fingerprint, join_process_group, resolve_device, resolve_seed
from .checkpoint import FORMAT_VERSION, atomic_save, safe_load
from .config import CONFIG_FIELDS, GANConfig
from .datasets import MixedDataset, SyntheticDataset
from .models import build_models, init_weights
from .training import GANTrainer

STRATEGIES = ("conditional", "per_class")
MIN_CLASS_SIZE = 5


class SyntheticAugmenter(BaseEstimator):
    """Class-conditional GAN data augmentation behind an sklearn face.

    ``fit`` trains a GAN (a DCGAN for images, an MLP for flat features) on
    labelled data; ``sample`` draws labelled synthetic samples in the value
    space, shape and dtype of the training data; ``wrap`` turns a DataLoader
    into one that also yields synthetic samples.

    Parameters
    ----------
    latent_dim, g_width, d_width, mlp_hidden, architecture, loss, lr_g, lr_d, betas, batch_size, n_steps, d_steps, gp_weight, aux_weight, aux_weight_g, ema_decay, diffaugment, diffaugment_threshold, real_augment, lecam_weight, diversity_weight, spectral_norm, log_every, amp, cuda_graph, channels_last, g_upsample, warp_shift, warp_stroke
        GAN hyperparameters; see :class:`ganaug.GANConfig` for each.
    strategy : {"conditional", "per_class"}
        One class-conditional GAN, or one unconditional GAN per class (each
        trained on ``batch_size`` images of its class per step).
    random_state : int, RandomState or None
        Drives weight initialisation, batches, noise, DiffAugment, sampling
        and the wrapped loader's shuffling. Same seed on CPU: same samples.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    verbose : int
        0 silent, 1 a progress bar while fitting.
    checkpoint_dir : str or Path, optional
        Where to write training checkpoints; ``fit(..., resume=True)``
        continues from the newest one there.
    checkpoint_every : int
        Steps between checkpoints.
    distributed : {"auto", False}
        ``"auto"``: under ``torchrun`` with several processes, train one GAN
        data-parallel over all ranks (DDP). ``False``: this process trains its
        own GAN on the data it is given, whatever the launch; for sweeps that
        give each rank different fits.

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in ``fit`` (sorted).
    generator_ : nn.Module
        The EMA generator used for sampling (eval mode).
    history_ : dict
        Training curves: ``step``, ``d_loss``, ``g_loss``, ``d_real``,
        ``d_fake``, and per-class ``diversity`` after fitting.
    config_ : GANConfig
        The hyperparameters used.
    sample_shape_ : tuple
        Shape of one sample.
    n_samples_per_class_ : ndarray
        Training samples per class.

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(40, 1, 28, 28)
    >>> y = torch.arange(40) % 2
    >>> aug = SyntheticAugmenter(n_steps=2, batch_size=8, random_state=0, verbose=0).fit((X, y))
    >>> xs, ys = aug.sample(6)
    >>> xs.shape, ys.tolist()
    (torch.Size([6, 1, 28, 28]), [0, 1, 0, 1, 0, 1])
    >>> bool(xs.min() >= X.min()) and bool(xs.max() <= X.max())
    True
    """

    def __init__(
        self,
        *,
        latent_dim: int = 64,
        g_width: int = 32,
        d_width: int = 32,
        mlp_hidden: int = 256,
        architecture: str = "auto",
        loss: str = "nonsaturating",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas=None,
        batch_size: int = 32,
        n_steps: int = 1500,
        d_steps: int = 1,
        gp_weight: float = 10.0,
        aux_weight: float = 3.0,
        aux_weight_g: float | None = None,
        ema_decay: float = 0.999,
        diffaugment: str = "",
        diffaugment_threshold: int = 5000,
        real_augment: float = 0.0,
        lecam_weight: float = 0.0,
        diversity_weight: float = 0.3,
        spectral_norm: bool = True,
        log_every: int = 25,
        amp: bool = True,
        cuda_graph: bool = True,
        channels_last="auto",
        g_upsample: str = "transposed",
        warp_shift: float = 0.125,
        warp_stroke: float = 0.0,
        strategy: str = "conditional",
        random_state=None,
        device: str = "auto",
        verbose: int = 1,
        checkpoint_dir=None,
        checkpoint_every: int = 500,
        distributed="auto",
    ):
        self.latent_dim = latent_dim
        self.g_width = g_width
        self.d_width = d_width
        self.mlp_hidden = mlp_hidden
        self.architecture = architecture
        self.loss = loss
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.betas = betas
        self.batch_size = batch_size
        self.n_steps = n_steps
        self.d_steps = d_steps
        self.gp_weight = gp_weight
        self.aux_weight = aux_weight
        self.aux_weight_g = aux_weight_g
        self.ema_decay = ema_decay
        self.diffaugment = diffaugment
        self.diffaugment_threshold = diffaugment_threshold
        self.real_augment = real_augment
        self.lecam_weight = lecam_weight
        self.diversity_weight = diversity_weight
        self.spectral_norm = spectral_norm
        self.log_every = log_every
        self.amp = amp
        self.cuda_graph = cuda_graph
        self.channels_last = channels_last
        self.g_upsample = g_upsample
        self.warp_shift = warp_shift
        self.warp_stroke = warp_stroke
        self.strategy = strategy
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed

    # -- fitting ------------------------------------------------------------------------------
    def _make_config(self) -> GANConfig:
        return GANConfig(**{name: getattr(self, name) for name in CONFIG_FIELDS})

    def fit(self, data, y=None, *, resume: bool = False) -> "SyntheticAugmenter":
        """Train the GAN on ``data``.

        Parameters
        ----------
        data : DataLoader, Dataset or tuple (X, y)
            Labelled training data. Images ``(N, C, H, W)`` or ``(N, H, W)``
            at 28, 32 or 64 px with 1 or 3 channels; flat features ``(N, F)``.
            A DataLoader or Dataset is read once, transforms included.
        y : array-like, optional
            Labels, when ``data`` is an array ``X`` rather than a tuple.
        resume : bool
            Continue from the newest checkpoint in ``checkpoint_dir``.

        Returns
        -------
        self
        """
        if y is not None:
            data = (data, y)
        x, labels, dtype, was_numpy = collect_xy(data)
        return self._fit_arrays(x, labels, dtype, was_numpy, resume=resume)

    def _fit_arrays(self, x: torch.Tensor, labels: np.ndarray, dtype: str, was_numpy: bool, resume: bool = False):
        cfg = self._make_config()
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {self.strategy!r}")
        if resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir: the folder the interrupted fit wrote its checkpoints to")
        if isinstance(self.checkpoint_every, bool) or not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive integer; got {self.checkpoint_every!r}")
        if self.distributed not in ("auto", False):
            raise ValueError(f"distributed must be 'auto' or False; got {self.distributed!r}")
        device = resolve_device(self.device)
        data_parallel = self.distributed == "auto"
        if data_parallel:
            join_process_group(device)  # under torchrun: data-parallel over the ranks
        sample_shape = tuple(x.shape[1:])  # what samples are given back in
        if x.dim() == 3:  # (N, H, W) grey images
            x = x.unsqueeze(1)
        if x.dim() == 4 and x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
            raise ValueError(
                f"images must be channels-first (N, C, H, W); got {tuple(x.shape)}, which looks channels-last: "
                "use X.transpose(0, 3, 1, 2) (numpy) or X.permute(0, 3, 1, 2) (torch)"
            )
        if x.dim() not in (2, 4):
            raise ValueError(
                f"samples must be flat features (N, F) or images (N, H, W) / (N, C, H, W); got {x.dim()} dimensions {tuple(x.shape)}"
            )
        classes, y_idx, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(classes) < 2 and self.strategy == "conditional":
            raise ValueError(
                f"the conditional GAN needs at least 2 classes; got only {classes.tolist()}: "
                "use strategy='per_class' to model a single class"
            )
        small = {c: int(n) for c, n in zip(classes.tolist(), counts) if n < MIN_CLASS_SIZE}
        if small:
            warnings.warn(
                f"classes {small} have fewer than {MIN_CLASS_SIZE} examples; they are trained with the others "
                "(conditional model) but their samples will be close copies of those few examples",
                UserWarning,
                stacklevel=3,
            )
        images = x.dim() == 4 and cfg.architecture != "mlp"
        lo, hi, scaled, mean, std = _fit_value_space(x, images)
        seed = resolve_seed(self.random_state)
        init_seed, train_seed, sample_seed = child_seeds(seed, 3)
        per_class = self.strategy == "per_class"
        with torch.random.fork_rng(devices=[]):  # module construction draws from torch's global generator:
            g, d = build_models(cfg, len(classes), scaled.shape[1:], bounded=images, per_class=per_class)  # leave it untouched
        init_gen = torch.Generator().manual_seed(init_seed)
        init_weights(g, init_gen)
        init_weights(d, init_gen)
        if hasattr(g, "set_exemplars"):  # architecture="warp": the generator deforms the training images
            g.set_exemplars(scaled, torch.from_numpy(y_idx.astype(np.int64)))
        trainer = GANTrainer(g, d, cfg, device, train_seed, data_parallel=data_parallel)
        fp = fingerprint(x, labels)
        extra = {"fingerprint": fp, "strategy": self.strategy, "seed": seed}
        if resume:
            saved = trainer.resume(self.checkpoint_dir, per_class=per_class)
            if saved is not None and saved.get("fingerprint") != fp:
                raise ValueError(
                    f"the checkpoints in {str(self.checkpoint_dir)!r} were written by a fit on different data; "
                    "pass the same data, or use a new checkpoint_dir"
                )
            if saved is not None and saved.get("seed") != seed:
                raise ValueError(
                    f"the checkpoints in {str(self.checkpoint_dir)!r} come from a fit with another random_state; "
                    "pass the same random_state to resume"
                )
        trainer.fit(
            scaled,
            torch.from_numpy(y_idx.astype(np.int64)),
            n_classes=len(classes),
            per_class=per_class,
            verbose=self.verbose,
            checkpoint_dir=self.checkpoint_dir,
            checkpoint_every=self.checkpoint_every,
            extra=extra,
        )
        self.config_ = cfg
        self.classes_ = classes
        self.n_samples_per_class_ = counts
        self.sample_shape_ = sample_shape
        self._model_shape_ = tuple(scaled.shape[1:])
        self.value_low_, self.value_high_ = lo, hi
        if not images:
            self._feature_mean_, self._feature_std_ = mean, std
        self._real_spread_ = _class_spread(scaled, y_idx, len(classes))
        self.images_ = images
        self.dtype_ = dtype
        self.return_numpy_ = was_numpy
        self.device_ = trainer.device
        self.generator_ = trainer.G_ema
        self.discriminator_ = trainer.D
        self.history_ = trainer.history
        self.n_steps_ = trainer.step
        self.fit_fingerprint_ = fp
        self.seed_ = seed
        self._sample_gen = torch.Generator(device=self.device_).manual_seed(sample_seed)
        self.history_["diversity"] = self.diversity()
        self._warn_collapse()
        return self

    # -- sampling -----------------------------------------------------------------------------
    def _label_indices(self, n: int, y) -> np.ndarray:
        k = len(self.classes_)
        if y is None:
            return np.arange(n) % k
        values = np.atleast_1d(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y))
        if values.dtype.kind == "f":
            raise ValueError(f"y must be class labels (integers or names); got {values.dtype}")
        lookup = {c: i for i, c in enumerate(self.classes_.tolist())}
        unknown = sorted({v for v in values.tolist() if v not in lookup}, key=str)
        if unknown:
            raise ValueError(f"unknown class(es) {unknown}; known classes are {self.classes_.tolist()}")
        idx = np.array([lookup[v] for v in values.tolist()], dtype=np.int64)
        if values.size == 1:
            return np.full(n, idx[0], dtype=np.int64)
        if len(idx) != n:
            raise ValueError(f"y has {len(idx)} labels but n={n} samples were asked for; pass one label or n labels")
        return idx

    def sample(self, n: int, y=None, random_state=None, batch_size: int = 4096, stratify: bool = True):
        """Draw ``n`` labelled synthetic samples.

        Parameters
        ----------
        n : int
            Number of samples.
        y : None, label, or array of n labels
            ``None`` balances over classes (cycling through ``classes_``);
            one label (int or class name) gives ``n`` samples of that class.
        random_state : int, optional
            Makes this draw reproducible; ``None`` continues the augmenter's
            own stream (seeded by ``random_state`` at fit time).
        batch_size : int
            Samples generated per forward pass.
        stratify : bool
            With ``architecture="warp"`` every sample bends one training image
            of its class. ``True`` spreads each class's samples in this call
            evenly over that class's training images: ``m`` samples of a
            class with ``c`` images use each image ``m / c`` times when ``c``
            divides ``m``. ``False`` picks the image independently for every
            sample, which for ``m = c`` leaves about a third of them out.
            Other generators ignore it.

        Returns
        -------
        x : Tensor or ndarray
            Samples in the training data's value range, shape and dtype
            (numpy when the training data was numpy).
        y : Tensor or ndarray
            Their labels, as in ``classes_``.

        Examples
        --------
        >>> import torch
        >>> from ganaug import SyntheticAugmenter
        >>> x, y = torch.rand(20, 1, 28, 28), torch.arange(20) % 2
        >>> aug = SyntheticAugmenter(architecture="warp", n_steps=2, batch_size=8, random_state=0, verbose=0).fit((x, y))
        >>> xs, ys = aug.sample(20, y=[0] * 10 + [1] * 10, random_state=1)  # every training image bent once
        >>> tuple(xs.shape), ys.bincount().tolist()
        ((20, 1, 28, 28), [10, 10])
        """
        check_is_fitted(self, "generator_")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer; got {n!r}")
        stratify = check_flag(stratify, "stratify")
        n = int(n)
        idx = self._label_indices(n, y)
        gen = self._sample_gen if random_state is None else torch.Generator(device=self.device_).manual_seed(resolve_seed(random_state))
        g = self.generator_
        g.eval()
        labels = torch.from_numpy(idx).to(self.device_)
        choice_dim = getattr(g, "choice_dim", None)  # the latent coordinate that picks a training exemplar
        choice = _stratified_normal(labels, gen) if stratify and choice_dim is not None and n else None
        # one host buffer filled batch by batch: no concatenation, no second copy of the samples
        x = torch.empty((n,) + tuple(self._model_shape_ if self.images_ else (int(np.prod(self.sample_shape_)),)))
        if self.device_.type == "cuda":
            # touch the fresh pages with all CPU threads first: device-to-host copies into
            # untouched pageable memory run several times slower (benchmarks/sample_speed.py)
            x.zero_()
        amp = self.device_.type == "cuda" and self.config_.amp
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            for start in range(0, n, batch_size):
                lab = labels[start : start + batch_size]
                z = torch.randn(lab.shape[0], g.latent_dim, generator=gen, device=self.device_)
                if choice is not None:
                    z[:, choice_dim] = choice[start : start + lab.shape[0]]
                x[start : start + lab.shape[0]].copy_(self._to_value_space(g(z, lab).float()).reshape((lab.shape[0],) + x.shape[1:]))
        x = x.reshape((n,) + tuple(self.sample_shape_))
        x = _cast(x, self.dtype_)
        labels_out = self.classes_[idx]
        if self.return_numpy_:
            return x.numpy(), labels_out
        if labels_out.dtype.kind in "iu":
            return x, torch.from_numpy(labels_out.astype(np.int64))
        return x, labels_out

    def _to_value_space(self, s: torch.Tensor) -> torch.Tensor:
        lo, hi = self.value_low_.to(s.device), self.value_high_.to(s.device)
        if self.images_:  # per-channel range
            lo, hi = lo.view(1, -1, 1, 1), hi.view(1, -1, 1, 1)
            return (s + 1) / 2 * (hi - lo) + lo
        s = s.reshape(s.shape[0], -1)
        mean, std = self._feature_mean_.to(s.device), self._feature_std_.to(s.device)
        return torch.minimum(torch.maximum(s * std + mean, lo), hi)

    def diversity(self, n_per_class: int = 64) -> list[float]:
        """Per-class diversity: mean pairwise distance between samples of a class
        divided by the same for the real training samples of that class (near 0 = collapsed)."""
        check_is_fitted(self, "generator_")
        gen = torch.Generator(device=self.device_).manual_seed(12345)
        scores = []
        for k in range(len(self.classes_)):
            lab = torch.full((n_per_class,), k, device=self.device_, dtype=torch.long)
            with torch.inference_mode():
                z = torch.randn(n_per_class, self.generator_.latent_dim, generator=gen, device=self.device_)
                s = self.generator_(z, lab).float().flatten(1)
            fake = torch.pdist(s).mean().item() if n_per_class > 1 else 0.0
            real = self._real_spread_[k]
            scores.append(float(fake / real) if real > 0 else float("nan"))
        return scores

    def _warn_collapse(self, threshold: float = 0.2) -> None:
        collapsed = [c for c, v in zip(self.classes_.tolist(), self.history_["diversity"]) if v < threshold]
        if collapsed:
            warnings.warn(
                f"mode collapse suspected for classes {collapsed}: their samples vary less than {threshold:.0%} "
                "as much as the real ones (history_['diversity']); try more n_steps, loss='hinge' or a lower lr",
                UserWarning,
                stacklevel=3,
            )

    # -- loaders ------------------------------------------------------------------------------
    def synthetic_counts(self, real_counts: dict, ratio: float, balance: bool = False) -> dict:
        """How many synthetic samples of each class ``wrap`` adds per epoch.

        Without ``balance`` each class gets ``round(ratio * n_real_k)``; with it,
        every class is first topped up to the largest class, then gets
        ``round(ratio * n_real / n_classes)`` more.
        """
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not np.isfinite(ratio) or ratio < 0:
            raise ValueError(f"ratio must be a number >= 0 (synthetic samples per real sample); got {ratio!r}")
        if not balance:
            return {c: int(round(ratio * n)) for c, n in real_counts.items()}
        largest = max(real_counts.values())
        total = sum(real_counts.values())
        extra = int(round(ratio * total / len(self.classes_)))
        return {c: largest - real_counts.get(c, 0) + extra for c in self.classes_.tolist()}

    def wrap(
        self,
        loader: DataLoader,
        ratio: float = 1.0,
        balance: bool = False,
        refresh: str = "epoch",
        return_is_synthetic: bool = False,
        filter: Callable | None = None,
        random_state=None,
        synthetic_transform: Callable | None = None,
        stratify: bool = True,
    ) -> DataLoader:
        """A DataLoader over the real data plus synthetic samples.

        Keeps the loader's batch_size, shuffling, collate_fn, num_workers,
        pin_memory, drop_last, worker settings and the dataset's transforms
        (synthetic samples are already in the post-transform space; give
        ``synthetic_transform`` to augment them too).

        Parameters
        ----------
        loader : DataLoader
            The user's training loader (a map-style dataset with labels).
        ratio : float
            Synthetic samples per real sample per epoch (0 = real only).
        balance : bool
            First top every class up to the largest class (see
            :meth:`synthetic_counts`).
        refresh : {"epoch", "fixed"}
            Draw a fresh synthetic pool every epoch, or one pool for all epochs.
        return_is_synthetic : bool
            Yield ``(x, y, is_synthetic)`` batches.
        filter : callable, optional
            ``filter(x, y) -> bool mask`` of synthetic samples to keep, for
            instance ``ganaug.evaluation.SyntheticFilter(classifier, min_confidence)``;
            rejected ones are redrawn.
        random_state : int, optional
            Seeds the synthetic pools and the shuffling; defaults to a seed
            derived from the augmenter's ``random_state``.
        synthetic_transform : callable, optional
            Applied to each synthetic sample (a tensor in the samples' value
            space and shape) when the loader reads it, for instance the
            classical augmentation the real images get.
        stratify : bool
            Passed to :meth:`sample` for every pool (and every refill the
            filter asks for): with ``architecture="warp"``, ``True`` spreads a
            pool's samples of each class evenly over that class's training
            images, ``False`` picks the image independently for every sample.

        Returns
        -------
        DataLoader
        """
        check_is_fitted(self, "generator_")
        if not isinstance(loader, DataLoader):
            raise TypeError(f"wrap expects a torch DataLoader; got {type(loader).__name__}")
        if refresh not in ("epoch", "fixed"):
            raise ValueError(f"refresh must be 'epoch' or 'fixed'; got {refresh!r}")
        if loader.batch_size is None:
            raise ValueError("wrap needs a loader with automatic batching (batch_size set, no batch_sampler)")
        if synthetic_transform is not None and not callable(synthetic_transform):
            raise TypeError(f"synthetic_transform must be callable; got {type(synthetic_transform).__name__}")
        stratify = check_flag(stratify, "stratify")
        real = loader.dataset
        with torch.random.fork_rng(devices=[]):  # reading items may run the user's random transforms
            real_labels = _dataset_labels(real)
            first = real[0][1] if len(real) else None
        unknown = set(np.unique(real_labels).tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(f"the loader has classes {sorted(unknown, key=str)} the augmenter was not fitted on ({self.classes_.tolist()})")
        values, counts = np.unique(real_labels, return_counts=True)
        per_class = self.synthetic_counts(dict(zip(values.tolist(), counts.tolist())), ratio, balance)
        seed = resolve_seed(random_state) if random_state is not None else child_seeds(self.seed_, 4)[3]
        pool = _SyntheticPool(self, per_class, refresh, seed, filter, stratify)
        # give targets the type the real items have, so default collation works
        pool.target_dtype = first.dtype if isinstance(first, torch.Tensor) else None
        pool.transform = synthetic_transform
        mixed = MixedDataset(real, pool, return_is_synthetic=return_is_synthetic)
        sampler = _like_sampler(loader.sampler, mixed, seed)
        return _MixedLoader(
            mixed,
            batch_size=loader.batch_size,
            sampler=sampler,
            num_workers=loader.num_workers,
            collate_fn=loader.collate_fn,
            pin_memory=loader.pin_memory,
            drop_last=loader.drop_last,
            timeout=loader.timeout,
            worker_init_fn=loader.worker_init_fn,
            prefetch_factor=loader.prefetch_factor,
            persistent_workers=False,
            generator=torch.Generator().manual_seed(seed),  # worker seeds come from here, not the global stream
        )

    # -- persistence --------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write config, EMA generator weights, classes and value space to one file.

        The file holds only tensors and builtins; :meth:`load` reads it with
        ``torch.load(weights_only=True)``.
        """
        check_is_fitted(self, "generator_")
        state = {
            "format_version": FORMAT_VERSION,
            "library_version": __version__,
            "kind": "model",
            "params": {k: v for k, v in self.get_params().items() if k != "random_state" or isinstance(v, (int, type(None)))},
            "config": self.config_.to_dict(),
            "classes": self.classes_.tolist(),
            "n_samples_per_class": self.n_samples_per_class_.tolist(),
            "sample_shape": list(self.sample_shape_),
            "model_shape": list(self._model_shape_),
            "value_low": self.value_low_,
            "value_high": self.value_high_,
            "feature_mean": getattr(self, "_feature_mean_", torch.zeros(0)),
            "feature_std": getattr(self, "_feature_std_", torch.zeros(0)),
            "real_spread": list(self._real_spread_),
            "images": self.images_,
            "dtype": self.dtype_,
            "return_numpy": self.return_numpy_,
            "generator": {k: v.cpu() for k, v in self.generator_.state_dict().items()},
            "history": self.history_,
            "n_steps": self.n_steps_,
            "fingerprint": self.fit_fingerprint_,
            "seed": self.seed_,
        }
        if state["params"].get("checkpoint_dir") is not None:
            state["params"]["checkpoint_dir"] = str(state["params"]["checkpoint_dir"])
        return atomic_save(state, path)

    @classmethod
    def load(cls, path, device=None) -> "SyntheticAugmenter":
        """Read a file written by :meth:`save` (on any device; CUDA files load on CPU)."""
        state = safe_load(path, map_location="cpu", kind="model")
        if state.get("kind") != "model":
            raise ValueError(f"{str(path)!r} is a ganaug {state.get('kind')!r} file, not a saved model (use SyntheticAugmenter.save)")
        try:
            params = dict(state["params"])
            if device is not None:
                params["device"] = device
            aug = cls(**params)
            aug.device_ = resolve_device(aug.device)
            aug.config_ = GANConfig.from_dict(state["config"])
            aug.classes_ = np.asarray(state["classes"])
            aug.n_samples_per_class_ = np.asarray(state["n_samples_per_class"])
            aug.sample_shape_ = tuple(state["sample_shape"])
            aug.value_low_, aug.value_high_ = state["value_low"], state["value_high"]
            if state["feature_mean"].numel():
                aug._feature_mean_, aug._feature_std_ = state["feature_mean"], state["feature_std"]
            aug._real_spread_ = list(state["real_spread"])
            aug.images_ = bool(state["images"])
            aug.dtype_ = state["dtype"]
            aug.return_numpy_ = bool(state["return_numpy"])
            aug._model_shape_ = tuple(state["model_shape"])
            with torch.random.fork_rng(devices=[]):
                g, _ = build_models(
                    aug.config_, len(aug.classes_), aug._model_shape_, bounded=aug.images_, per_class=aug.strategy == "per_class"
                )
            g.load_state_dict(state["generator"])
            aug.generator_ = g.to(aug.device_).eval().requires_grad_(False)
            aug.history_ = state["history"]
            aug.n_steps_ = int(state["n_steps"])
            aug.fit_fingerprint_ = state["fingerprint"]
            aug.seed_ = int(state["seed"])
        except (KeyError, TypeError, RuntimeError) as exc:
            raise ValueError(f"{str(path)!r} is damaged or incomplete: {exc}") from exc
        aug._sample_gen = torch.Generator(device=aug.device_).manual_seed(child_seeds(aug.seed_, 3)[2])
        return aug

    def export(self, directory, n_per_class: int, format: str = "png", random_state=None, classes=None) -> Path:
        """Write ``n_per_class`` samples of every class (or of ``classes``) to ``directory``.

        ``format="png"`` writes an ImageFolder tree (``directory/<class>/<i>.png``,
        pixel values mapped from the training range to 0-255); ``"npz"`` writes
        ``directory/synthetic.npz`` with arrays ``x`` and ``y``.
        """
        check_is_fitted(self, "generator_")
        if format not in ("png", "npz"):
            raise ValueError(f"format must be 'png' or 'npz'; got {format!r}")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        wanted = self.classes_ if classes is None else np.asarray(classes)
        labels = np.repeat(wanted, n_per_class)
        x, y = self.sample(len(labels), y=labels, random_state=random_state)
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        if format == "npz":
            path = directory / "synthetic.npz"
            np.savez_compressed(path, x=x.numpy(), y=np.asarray(y))
            return path
        if not self.images_:
            raise ValueError("format='png' needs an image model; this augmenter models flat features, use format='npz'")
        from PIL import Image

        pix = x.reshape((-1,) + tuple(self.sample_shape_))
        if pix.dim() == 3:
            pix = pix.unsqueeze(1)
        if self.dtype_ != "uint8":  # map the training value range to 0-255
            lo, hi = self.value_low_.view(1, -1, 1, 1), self.value_high_.view(1, -1, 1, 1)
            pix = ((pix.float() - lo) / (hi - lo).clamp_min(1e-12) * 255).round().clamp(0, 255)
        pix = pix.to(torch.uint8).permute(0, 2, 3, 1).numpy()
        for i, (img, label) in enumerate(zip(pix, np.asarray(y).tolist())):
            folder = directory / str(label)
            folder.mkdir(exist_ok=True)
            Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(folder / f"{i:06d}.png")
        return directory

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "generator_")


# -- helpers ---------------------------------------------------------------------------------
def _stratified_normal(labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One standard-normal value per row, stratified within each label.

    The ``m`` rows of a label get one value from each of ``m`` slices of equal
    probability, in random order: marginally still standard normal, but a
    generator that picks one of a class's ``c`` exemplars through this value
    (``WarpGenerator``) uses each of them ``m / c`` times when ``c`` divides
    ``m``, instead of leaving about a third of them out of a draw of ``c``.
    """
    n = labels.shape[0]
    order = torch.argsort(labels.double() + torch.rand(n, generator=gen, device=labels.device, dtype=torch.float64))
    counts = torch.bincount(labels)
    first = torch.cumsum(counts, 0) - counts  # where each label's block starts in sorted order
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n, device=labels.device) - first[labels[order]]  # random position within its label
    u = (rank + torch.rand(n, generator=gen, device=labels.device, dtype=torch.float64)) / counts[labels]
    return torch.special.ndtri(u.clamp(1e-7, 1 - 1e-7)).float()


def _fit_value_space(x: torch.Tensor, images: bool):
    """Learn the value space and scale the data to what the GAN trains on.

    Images: per-channel [min, max] -> [-1, 1]. Features: per-feature
    standardisation (mean, std); the [min, max] range is kept to clip samples.
    Returns ``(low, high, scaled, mean, std)`` (mean and std empty for images).
    """
    if images:
        dims = (0, 2, 3)
        lo, hi = x.amin(dim=dims), x.amax(dim=dims)
        span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        scaled = (x - lo.view(1, -1, 1, 1)) / span.view(1, -1, 1, 1) * 2 - 1
        return lo, hi, scaled, torch.zeros(0), torch.zeros(0)
    flat = x.reshape(x.shape[0], -1)
    lo, hi = flat.amin(0), flat.amax(0)
    mean = flat.mean(0)
    std = flat.std(0, unbiased=False) if flat.shape[0] > 1 else torch.ones_like(mean)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return lo, hi, (flat - mean) / std, mean, std


def _class_spread(scaled: torch.Tensor, y_idx: np.ndarray, n_classes: int, max_n: int = 256) -> list[float]:
    """Mean pairwise distance between training samples of each class (GAN space)."""
    spread = []
    for k in range(n_classes):
        rows = scaled[torch.from_numpy(np.where(y_idx == k)[0][:max_n])].flatten(1)
        spread.append(float(torch.pdist(rows).mean()) if rows.shape[0] > 1 else 0.0)
    return spread


def _cast(x: torch.Tensor, dtype: str) -> torch.Tensor:
    if dtype in ("uint8", "int8", "int16", "int32", "int64"):
        return x.round().to(getattr(torch, dtype))
    if dtype in ("float64", "float16", "bfloat16"):
        return x.to(getattr(torch, dtype))
    return x


def _dataset_labels(dataset) -> np.ndarray:
    """Labels of a map-style dataset: its ``targets`` attribute when present, else read item by item."""
    targets = getattr(dataset, "targets", None)
    if targets is not None and len(targets) == len(dataset):
        return np.asarray(targets.cpu() if isinstance(targets, torch.Tensor) else targets)
    if isinstance(dataset, torch.utils.data.Subset):
        return _dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    if isinstance(dataset, torch.utils.data.TensorDataset):
        return dataset.tensors[1].cpu().numpy()
    labels = []
    for i in range(len(dataset)):
        t = dataset[i][1]
        labels.append(t.item() if isinstance(t, torch.Tensor) else t)
    return np.asarray(labels)


class _SyntheticPool(SyntheticDataset):
    """The synthetic half of a wrapped loader: a pool redrawn per epoch or kept fixed."""

    def __init__(self, augmenter: SyntheticAugmenter, per_class: dict, refresh: str, seed: int, filter: Callable | None, stratify: bool):
        self.augmenter = augmenter
        self.stratify = stratify
        self.labels = np.concatenate([np.full(n, c, dtype=augmenter.classes_.dtype) for c, n in per_class.items() if n > 0] or [np.zeros(0, augmenter.classes_.dtype)])
        self.refresh = refresh
        self.seed = seed
        self.filter = filter
        self.epoch = -1
        self.target_dtype = None
        super().__init__(torch.empty((0,)), [])
        self.draw(0)

    def __getitem__(self, index: int):
        img, target = super().__getitem__(index)
        if self.target_dtype is not None:
            target = torch.tensor(target, dtype=self.target_dtype)
        return img, target

    def draw(self, epoch: int) -> None:
        if epoch == self.epoch or (self.refresh == "fixed" and self.epoch >= 0):
            return
        self.epoch = epoch
        n = len(self.labels)
        x, y = self.augmenter.sample(n, y=self.labels if n else None, random_state=self.seed + epoch, stratify=self.stratify)
        if self.filter is not None and n:
            x, y = self._filtered(x, y, epoch)
        self.data = torch.as_tensor(x)
        self.targets = list(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y).tolist())

    def _filtered(self, x, y, epoch):
        keep_x, keep_y = [], []
        wanted = {c: int(m) for c, m in zip(*np.unique(self.labels, return_counts=True))}
        for attempt in range(10):
            mask = np.asarray(self.filter(x, y), dtype=bool)
            yv = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
            for c in list(wanted):
                rows = np.where(mask & (yv == c))[0][: wanted[c]]
                if len(rows):
                    keep_x.append(torch.as_tensor(x)[rows])
                    keep_y.append(yv[rows])
                    wanted[c] -= len(rows)
            wanted = {c: m for c, m in wanted.items() if m > 0}
            if not wanted:
                break
            labels = np.concatenate([np.full(m * 2, c) for c, m in wanted.items()])
            x, y = self.augmenter.sample(len(labels), y=labels, random_state=self.seed + 7919 * (attempt + 1) + epoch, stratify=self.stratify)
        if wanted:
            warnings.warn(f"filter kept too few synthetic samples after 10 draws; short by {wanted} per class", UserWarning, stacklevel=4)
        return torch.cat(keep_x) if keep_x else torch.empty((0,) + tuple(self.augmenter.sample_shape_)), np.concatenate(keep_y) if keep_y else np.zeros(0)

    def __getstate__(self):  # workers need the pool, not the GAN
        state = self.__dict__.copy()
        state["augmenter"] = None
        return state

    def __repr__(self) -> str:
        return super().__repr__() + f"\n    Refresh: {self.refresh} (epoch {self.epoch})"


def _like_sampler(sampler, dataset, seed: int):
    """The sampler the user's loader used, rebuilt over the mixed dataset."""
    if isinstance(sampler, DistributedSampler):
        return DistributedSampler(dataset, num_replicas=sampler.num_replicas, rank=sampler.rank, shuffle=sampler.shuffle, seed=sampler.seed, drop_last=sampler.drop_last)
    if isinstance(sampler, RandomSampler):
        return RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    if isinstance(sampler, SequentialSampler):
        return SequentialSampler(dataset)
    raise ValueError(
        f"wrap supports loaders with shuffle=True/False or a DistributedSampler; got a {type(sampler).__name__}: "
        "build the loader over ganaug.MixedDataset yourself to use another sampler"
    )


class _MixedLoader(DataLoader):
    """A DataLoader that redraws its synthetic pool at the start of every epoch."""

    def __iter__(self):
        pool = self.dataset.synthetic
        self._epoch = getattr(self, "_epoch", -1) + 1
        pool.draw(self._epoch)
        if isinstance(self.sampler, DistributedSampler):
            self.sampler.set_epoch(self._epoch)
        return super().__iter__()


__all__ = ["SyntheticAugmenter", "NotFittedError"]
