"""SyntheticAugmenter: fit a class-conditional GAN on labelled data, sample from
it, save and load it; ``wrap`` (in :mod:`ganaug.mixing`) mixes its samples into a
DataLoader at a chosen real:synthetic ratio."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.utils.data import DataLoader

from ._validation import (
    BOOL,
    NONE,
    InstanceOf,
    Interval,
    Options,
    check_flag,
    check_params,
    check_sample_dims,
    class_indices,
    collect_xy,
    derived_seed,
    fingerprint,
    resolve_device,
    resolve_seed,
    warn_collapse,
    warn_small_classes,
)
from ._warnings import warn
from .checkpoint import check_resumable
from .classical import random_transforms
from .config import FLAT_ARCHITECTURES, GANConfig, GANParamsMixin
from .distributed import join_process_group
from .images import export_samples
from .mixing import mixed_loader
from .models import build_models, init_weights, stratified_normal
from .persistence import FITTED, read_model_file, write_model_file
from .resolution import code_map, compact, samples_at_native_size, working_shape
from .scaling import cast, class_spread, fit_value_space, resize_images, to_value_space
from .self_check import GAN_BAR, HELD_OUT_FRACTION, check_augmentation, set_reach, warn_lost
from .training import FIT_BAR, GANTrainer
from .unlabelled import split_unlabelled, with_pseudo_labelled

STRATEGIES = ("conditional", "per_class")
#: Values (samples x channels x pixels) :meth:`SyntheticAugmenter.sample` generates at a time, at most.
SAMPLE_BATCH_VALUES = 2**24


class SyntheticAugmenter(GANParamsMixin, BaseEstimator):
    """Class-conditional GAN data augmentation with scikit-learn's conventions.

    ``fit`` trains a GAN on labelled data (for images the warp generator, which bends training images of the
    requested class into new shapes; for flat features with 5 classes or more the offset generator, which moves
    training rows of the class, and an MLP with fewer; or the generator ``architecture`` names); ``sample`` draws
    labelled synthetic samples in the value space, shape and dtype of the training data; ``wrap`` turns a
    DataLoader into one that also yields synthetic samples.

    Parameters
    ----------
    gan : GANConfig, optional
        Every GAN hyperparameter (:class:`ganaug.GANConfig`); None means the
        defaults. sklearn reaches each field as ``gan__<field>``
        (``set_params(gan__lr_g=1e-4)``, a ``GridSearchCV`` grid).
    architecture : {"auto", "dcgan", "mlp", "offset", "warp"}, optional
        When given, replaces ``gan.architecture``.
    n_steps : int, optional
        When given, replaces ``gan.n_steps`` (generator updates).
    strategy : {"conditional", "per_class"}
        One class-conditional GAN, or one unconditional GAN per class (each
        trained on ``batch_size`` images of its class per step).
    random_state : int, RandomState or None
        Drives weight initialisation, batches, noise, DiffAugment, sampling
        and the wrapped loader's shuffling. Same seed on CPU: same samples.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    verbose : int
        0 silent, 1 a progress bar while fitting (the GAN's training, and
        with ``self_check=True`` first the check's own GAN, labelled
        "ganaug self-check: GAN", and its classifiers).
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
    self_check : bool, default=False
        Check on the user's own data whether the samples help before
        trusting them (:func:`ganaug.self_check.check_augmentation`): hold out
        a fifth of every class, fit the same GAN on the rest, and train a
        small classifier (:class:`ganaug.classifier.DefaultClassifier`, 300
        steps) on the rest alone and with the GAN's samples at 0.5, 1 and 2
        per real sample (with the warp generator, each at the full, half and
        a quarter of its deformation reach); the held-out part scores each.
        ``fit`` then trains on all the data and keeps what scored best: the
        reach (set on the generator) and the ratio (:meth:`wrap`'s default).
        When real data alone scored best, a
        :class:`ganaug.self_check.SyntheticSamplesWarning` says so and
        ``wrap`` yields the real data only unless given a ratio. Costs a
        second GAN fit on four fifths of the data and ten classifier trainings
        (four without the warp generator), which judge images larger than 32
        px shrunk to 32 px on the longer side
        (:func:`ganaug.self_check.judged`; the samples themselves are drawn
        at the images' own size). Unlabelled data takes no part in the
        check. Off by default: with a few images a class the held-out part is
        small and its choice noisy (docs/evaluation.md measures it).

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
        The hyperparameters used, every data-dependent ``"auto"`` resolved
        (:meth:`GANConfig.resolve`).
    sample_shape_ : tuple
        Shape of one sample.
    holds_training_images_ : bool
        ``True`` when the generator stores the training images (or rows) it was fitted on (``architecture="warp"``,
        the default for images, and ``"offset"``): the model, and any file :meth:`save` writes, contains them.
        Share such a file only where the training data may go (docs/reliability.md).
    n_samples_per_class_ : ndarray
        Labelled training samples per class.
    n_pseudo_labelled_ : ndarray
        Unlabelled samples per class that joined the GAN's training set
        (zeros without ``unlabelled``).
    self_check_ : dict or None
        With ``self_check=True``: ``scores`` (each candidate's balanced
        log-likelihood of the held-out rows), ``chosen`` (``"real"``, ``"gan
        xR"`` or ``"gan xR reach=F"``), ``ratio`` (0.0 for ``"real"``),
        ``reach`` (None: as trained), ``n_held_out``, ``skipped`` (too few
        rows to hold any out: ratio 1 at the trained reach) and ``seconds``
        (what the check took: ``"gan fit"`` on the fit part,
        ``"classifiers"``). ``None`` otherwise.

    Examples
    --------
    >>> import torch
    >>> from ganaug import GANConfig
    >>> X = torch.rand(40, 1, 28, 28)
    >>> y = torch.arange(40) % 2
    >>> aug = SyntheticAugmenter(gan=GANConfig(batch_size=8), n_steps=2, random_state=0, verbose=0).fit((X, y))
    >>> xs, ys = aug.sample(6)
    >>> xs.shape, ys.tolist()
    (torch.Size([6, 1, 28, 28]), [0, 1, 0, 1, 0, 1])
    >>> bool(xs.min() >= X.min()) and bool(xs.max() <= X.max())
    True
    """

    def __init__(
        self,
        *,
        gan: GANConfig | None = None,
        architecture: str | None = None,
        n_steps: int | None = None,
        strategy: str = "conditional",
        random_state=None,
        device: str = "auto",
        verbose: int = 1,
        checkpoint_dir=None,
        checkpoint_every: int = 500,
        distributed="auto",
        self_check: bool = False,
    ):
        self.gan, self.architecture, self.n_steps = gan, architecture, n_steps
        self.strategy = strategy
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.distributed = distributed
        self.self_check = self_check

    #: What each parameter accepts (checked in ``fit``; GAN fields by GANConfig, random_state by resolve_seed,
    #: device by resolve_device).
    _constraints = {
        **GANParamsMixin._constraints,
        "strategy": [Options(*STRATEGIES)],
        "checkpoint_dir": [NONE, InstanceOf(str, os.PathLike)],
        "checkpoint_every": [Interval("int", 1)],
        "distributed": [Options("auto", False)],
        "self_check": [BOOL],
    }

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, data, y=None, *, unlabelled=None, resume: bool = False) -> SyntheticAugmenter:
        """Train the GAN on ``data`` (and on what it can learn from ``unlabelled`` data).

        Parameters
        ----------
        data : DataLoader, Dataset or tuple (X, y)
            Labelled training data. Images ``(N, C, H, W)`` or ``(N, H, W)``
            with 1 or 3 channels, 8 to 512 px a side, square or not, of any
            dtype and value range (after ``Normalize`` too); samples come back
            at their size, dtype and range. The networks work at a smaller
            size (at most 32 px on the longer side for the warp generator,
            which bends the images at their own size when sampling; square
            images up to 64 px work at 28, 32 or 64 px; see
            :mod:`ganaug.resolution`). Flat features ``(N, F)``.
            A DataLoader or Dataset is read once, transforms included: one
            whose dataset draws random transforms (crops, flips, jitter) gives
            the GAN one random draw of each image, and ``fit`` warns; fit on
            the same data without them and :meth:`wrap` the augmenting loader.
        y : array-like, optional
            Labels, when ``data`` is an array ``X`` rather than a tuple. A
            label of -1 marks an unlabelled row (scikit-learn's
            semi-supervised convention), in a tuple ``(X, y)`` too.
        unlabelled : array, Dataset or DataLoader of inputs, optional
            Samples without labels, in the shape and dtype of ``data`` (may be
            combined with ``y == -1`` rows). The GAN also trains on those a
            classifier of the labelled data labels surely
            (:func:`ganaug.unlabelled.pseudo_label`; ``n_pseudo_labelled_``).
        resume : bool
            Continue from the newest checkpoint in ``checkpoint_dir``.

        Returns
        -------
        self
        """
        if y is not None:
            data = (data, y)
        drawn = random_transforms(data)
        if drawn:
            warn(
                f"the data's transforms draw at random ({', '.join(drawn)}): the GAN learns from one random draw of "
                "each image, read once (and the warp generator bends those draws). Fit it on the same images with "
                "only the fixed transforms (ToImage, Resize, Normalize, ...) and give wrap() the augmenting loader"
            )
        # uint8 images stay uint8 until they are scaled a slice at a time: a large set is never whole as float32
        x, labels, dtype, was_numpy = collect_xy(data, verbose=self.verbose, keep_uint8=True)
        x, labels, xu = split_unlabelled(x, labels, dtype=dtype, unlabelled=unlabelled)
        return self._fit_arrays(x, labels, dtype=dtype, was_numpy=was_numpy, resume=resume, unlabelled=xu)

    def _fit_check_part(self, x: np.ndarray, codes: np.ndarray) -> SyntheticAugmenter:
        """``fit((x, codes))`` on a self-check's fit part, under a progress bar of its own name
        (:data:`ganaug.self_check.GAN_BAR`), not to be taken for the fit on all the data."""
        xt, labels, dtype, was_numpy = collect_xy((x, codes))
        return self._fit_arrays(
            xt, labels, dtype=dtype, was_numpy=was_numpy, resume=False, unlabelled=None, bar=GAN_BAR
        )

    def _fit_arrays(
        self,
        x,
        labels: np.ndarray,
        *,
        dtype: str,
        was_numpy: bool,
        resume: bool,
        unlabelled,
        bar: str = FIT_BAR,
    ):
        check_params(self._constraints, self.get_params(deep=False))
        cfg = self._gan_config()
        if resume and self.checkpoint_dir is None:
            raise ValueError(
                "resume=True needs checkpoint_dir: the folder the interrupted fit wrote its checkpoints to"
            )
        device = resolve_device(self.device)
        data_parallel = self.distributed == "auto"
        if data_parallel:
            join_process_group(device)  # under torchrun: data-parallel over the ranks
        sample_shape = tuple(x.shape[1:])  # what samples are given back in
        x = check_sample_dims(x)
        classes, y_idx, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(classes) < 2 and self.strategy == "conditional":
            raise ValueError(
                f"the conditional GAN needs at least 2 classes; got only {classes.tolist()}: "
                "use strategy='per_class' to model a single class"
                + (" (y == -1 marks unlabelled rows; relabel a class named -1)" if unlabelled is not None else "")
            )
        seed = resolve_seed(self.random_state)
        check = None
        if self.self_check:  # before the fit, on a GAN of its own: the held-out rows are scored, never trained on
            check = self._check(x, y_idx, n_classes=len(classes), dtype=dtype, was_numpy=was_numpy, seed=seed)
        images = x.dim() == 4 and cfg.architecture not in FLAT_ARCHITECTURES
        cfg = cfg.resolve(images=images, per_class=self.strategy == "per_class", n_classes=len(classes))
        warn_small_classes(classes, counts, cfg.architecture)
        # images train at a working size, e.g. 8x8 digits at 28 px, 96x128 photos at 24x32 (ganaug.resolution)
        size = working_shape(*x.shape[-2:], architecture=cfg.architecture) if images else None
        lo, hi, scaled, mean, std = fit_value_space(x, images, size=size)
        native = images and samples_at_native_size(*x.shape[-2:], architecture=cfg.architecture)
        per_class = self.strategy == "per_class"
        # the confident part of the unlabelled data (if any) joins the training set
        space = (lo, hi, mean, std)  # the unlabelled data is scaled as the labelled data was
        scaled, y_train, n_pseudo, joined = with_pseudo_labelled(
            scaled,
            y_idx,
            unlabelled=unlabelled,
            space=space,
            cfg=cfg,
            seed=derived_seed(seed, "pseudo_labels"),
            device=device,
        )
        # building the modules draws from torch's global generator: fork it, leaving the caller's stream untouched
        with torch.random.fork_rng(devices=[]):
            g, d = build_models(cfg, len(classes), scaled.shape[1:], bounded=images, per_class=per_class)
        init_gen = torch.Generator().manual_seed(derived_seed(seed, "init"))
        init_weights(g, init_gen)
        init_weights(d, init_gen)
        if hasattr(g, "set_exemplars"):  # warp and offset: the generator varies the training samples
            g.set_exemplars(scaled, y_train)
        trainer = GANTrainer(g, d, cfg, device=device, seed=derived_seed(seed, "train"), data_parallel=data_parallel)
        fp = fingerprint(x, labels)
        extra = {"fingerprint": fp, "strategy": self.strategy, "seed": seed}
        if unlabelled is not None:  # a resumed fit must see the same unlabelled data too
            extra["unlabelled"] = fingerprint(unlabelled, np.zeros(len(unlabelled)))
        if resume:
            check_resumable(trainer.resume(self.checkpoint_dir, per_class=per_class), extra, self.checkpoint_dir)
        trainer.fit(
            scaled,
            y_train,
            n_classes=len(classes),
            per_class=per_class,
            verbose=self.verbose,
            checkpoint_dir=self.checkpoint_dir,
            checkpoint_every=self.checkpoint_every,
            extra=extra,
            desc=bar,
        )
        self.config_ = cfg
        self.classes_ = classes
        self.n_samples_per_class_ = counts
        self.n_pseudo_labelled_ = n_pseudo
        self.sample_shape_ = sample_shape
        self._model_shape_ = tuple(scaled.shape[1:])
        self.value_low_, self.value_high_ = lo, hi
        if not images:
            self._feature_mean_, self._feature_std_ = mean, std
        self._real_spread_ = class_spread(scaled, y_train.numpy(), len(classes))
        self.images_ = images
        self.dtype_ = dtype
        self.return_numpy_ = was_numpy
        self.device_ = trainer.device
        # in the default memory format, as load() builds it: a saved and reloaded model draws the same samples
        self.generator_ = trainer.G_ema.to(memory_format=torch.contiguous_format)
        if native:  # the warp generator bends the training images at their own size when sampling
            full = x if unlabelled is None else torch.cat([x, check_sample_dims(unlabelled)[joined]])
            codes, book = compact(full, lo, hi, dtype=dtype)
            self.generator_.set_native(codes, y_train, book)
        self.discriminator_ = trainer.D
        self.history_ = trainer.history
        self.n_steps_ = trainer.step
        self.fit_fingerprint_ = fp
        self.seed_ = seed
        self._reset_sample_stream()
        self.history_["diversity"] = self.diversity()
        warn_collapse(self.classes_, self.history_["diversity"])
        self.self_check_ = check
        if check is not None and check["reach"] is not None:
            set_reach(self.generator_, check["reach"])
        return self

    def _check(self, x: torch.Tensor, codes: np.ndarray, *, n_classes: int, dtype: str, was_numpy: bool, seed: int):
        """The held-out check of ``self_check=True``; warns when real data alone scored best."""

        def fit_augmenter(fx, fc):
            twin = clone(self).set_params(self_check=False, checkpoint_dir=None, random_state=seed)
            with warnings.catch_warnings():  # about four fifths of the data; the fit on all of it warns for itself
                warnings.simplefilter("ignore", UserWarning)
                return twin._fit_arrays(
                    torch.as_tensor(fx),
                    fc,
                    dtype=dtype,
                    was_numpy=was_numpy,
                    resume=False,
                    unlabelled=None,
                    bar=GAN_BAR,
                )

        check = check_augmentation(
            x.to(torch.float32).numpy(),
            codes,
            fit_augmenter=fit_augmenter,
            n_classes=n_classes,
            seed=derived_seed(seed, "self_check"),
            device=resolve_device(self.device),
            verbose=self.verbose,
        )
        if check["chosen"] == "real":
            warn_lost(
                "SyntheticAugmenter",
                check,
                lost=f"{HELD_OUT_FRACTION:.0%} of each class, a classifier trained on real data alone did better than "
                "with the GAN's samples",
                instead="wrap() yields the real data only unless given a ratio (self_check_ has the scores)",
            )
        return check

    # -- sampling -----------------------------------------------------------------------------
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
        >>> from ganaug import GANConfig, SyntheticAugmenter
        >>> x, y = torch.rand(20, 1, 28, 28), torch.arange(20) % 2
        >>> gan = GANConfig(batch_size=8)
        >>> aug = SyntheticAugmenter(gan=gan, architecture="warp", n_steps=2, random_state=0, verbose=0).fit((x, y))
        >>> xs, ys = aug.sample(20, y=[0] * 10 + [1] * 10, random_state=1)  # every training image bent once
        >>> tuple(xs.shape), ys.bincount().tolist()
        ((20, 1, 28, 28), [10, 10])
        """
        check_is_fitted(self, "generator_")
        if not Interval("int", 0).accepts(n):
            raise ValueError(f"n must be a non-negative integer; got {n!r}")
        stratify = check_flag(stratify, "stratify")
        n = int(n)
        idx = class_indices(self.classes_, n, y)
        gen = (
            self._sample_gen
            if random_state is None
            else torch.Generator(device=self.device_).manual_seed(resolve_seed(random_state))
        )
        g = self.generator_
        g.eval()
        labels = torch.from_numpy(idx).to(self.device_)
        choice_dim = getattr(g, "choice_dim", None)  # the latent coordinate that picks a training exemplar
        choice = stratified_normal(labels, gen) if stratify and choice_dim is not None and n else None
        # one host buffer filled batch by batch: no concatenation, no second copy of the samples
        shape = self._image_shape() if self.images_ else (int(np.prod(self.sample_shape_)),)
        draw, to_values = g, self._to_value_space
        if getattr(g, "draws_native", False):  # the warp generator bends the training images at their own size
            draw, to_values = self._native_draw(g)
            batch_size = min(batch_size, max(1, SAMPLE_BATCH_VALUES // math.prod(shape)))
        # in the output's dtype: uint8 images take a quarter of float32's memory (cast batch by batch)
        x = torch.empty((n,) + shape, dtype=cast(torch.zeros(0), self.dtype_).dtype)
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
                out = draw(z, lab).float()
                if self.images_:
                    out = resize_images(out, shape[-2:])
                values = cast(to_values(out), self.dtype_)
                x[start : start + lab.shape[0]].copy_(values.reshape((lab.shape[0],) + shape))
        x = x.reshape((n,) + tuple(self.sample_shape_))
        labels_out = self.classes_[idx]
        if self.return_numpy_:
            return x.numpy(), labels_out
        if labels_out.dtype.kind in "iu":
            return x, torch.from_numpy(labels_out.astype(np.int64))
        return x, labels_out

    def _native_draw(self, g) -> tuple[Callable, Callable]:
        """``(draw, to_values)`` for a generator that bends the training images at their own size: it bends
        their codes where one multiply-add per channel maps codes to values (none for uint8 images)."""
        to_values = partial(self._to_value_space, fused=True)
        linear = code_map(g.native_book)
        if linear is None:
            return g.native, to_values
        lo, hi = self.value_low_.to(g.native_book), self.value_high_.to(g.native_book)
        scale, shift = (hi - lo) / 2 * linear[0], lo + (hi - lo) / 2 * (linear[1] + 1)
        if torch.allclose(scale, torch.ones_like(scale), atol=1e-6) and torch.allclose(
            shift, torch.zeros_like(shift), atol=1e-4
        ):
            return partial(g.native, decode=False), lambda codes: codes  # uint8 images: the codes are the pixels
        scale, shift = scale.view(1, -1, 1, 1), shift.view(1, -1, 1, 1)
        return partial(g.native, decode=False), lambda codes: torch.addcmul(shift.to(codes), codes, scale.to(codes))

    def _image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the images given to fit (grey (H, W) images have C = 1)."""
        shape = tuple(self.sample_shape_)
        return shape if len(shape) == 3 else (1,) + shape

    def _to_value_space(self, s: torch.Tensor, fused: bool = False) -> torch.Tensor:
        if self.images_:
            return to_value_space(s, self.value_low_, self.value_high_, fused=fused)
        return to_value_space(s, self.value_low_, self.value_high_, mean=self._feature_mean_, std=self._feature_std_)

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

    def wrap(
        self,
        loader: DataLoader,
        ratio: float | None = None,
        balance: bool = False,
        refresh: str = "epoch",
        return_is_synthetic: bool = False,
        filter: Callable | None = None,
        random_state=None,
        synthetic_transform: Callable | str | None = None,
        stratify: bool = True,
    ) -> DataLoader:
        """A DataLoader over the real data plus synthetic samples.

        Keeps the loader's batch_size, shuffling, collate_fn, num_workers,
        pin_memory, drop_last, worker settings and the dataset's transforms
        (synthetic samples are already in the post-transform space; give
        ``synthetic_transform`` to augment them too). With few images, build
        the loader with ``drop_last=True``: the mixed epoch's last batch can
        be a handful of samples (200 samples in batches of 64 leave 8), and
        a step on them cost ganaug's evaluation classifier more than the
        samples gave until it skipped such batches (docs/evaluation.md,
        "Full batches").

        Parameters
        ----------
        loader : DataLoader
            The user's training loader (a map-style dataset with labels).
        ratio : float, optional
            Synthetic samples per real sample per epoch (0 = real only).
            Default: the ratio the self-check chose (``self_check_["ratio"]``;
            0 when real data alone did best), else 1.
        balance : bool
            First top every class up to the largest class
            (:func:`ganaug.mixing.synthetic_counts`).
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
        synthetic_transform : callable, "classical" or None
            Applied to each synthetic sample (a tensor in the samples' value
            space and shape) when the loader reads it, for instance the
            classical augmentation the real images get. ``"classical"``:
            ganaug's own, suited to the images (:func:`ganaug.classical.classical_for`:
            small affine and elastic bends for grey images, random resized
            crops and colour jitter for colour ones), in the samples' value
            range, as ``ganaug compare`` augments the synthetic samples.
            ``None`` leaves them as drawn, and warns
            (:class:`ganaug.mixing.UntransformedSyntheticWarning`) when the
            loader's dataset draws random transforms for the real images.
        stratify : bool
            Passed to :meth:`sample` for every pool (and every refill the
            filter asks for): with ``architecture="warp"``, ``True`` spreads a
            pool's samples of each class evenly over that class's training
            images, ``False`` picks the image independently for every sample.

        Returns
        -------
        DataLoader

        Raises
        ------
        ValueError
            When the loader's samples have another shape than the data the
            augmenter was fitted on (a warning when their values lie far
            from that data's: another scaling or normalisation), or classes
            it was not fitted on.
        """
        check_is_fitted(self, "generator_")
        if ratio is None:
            check = getattr(self, "self_check_", None)
            ratio = 1.0 if check is None else check["ratio"]
        return mixed_loader(
            self,
            loader,
            ratio=ratio,
            balance=balance,
            refresh=refresh,
            return_is_synthetic=return_is_synthetic,
            filter=filter,
            random_state=random_state,
            synthetic_transform=synthetic_transform,
            stratify=stratify,
        )

    # -- persistence --------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write config, EMA generator weights, classes and value space to one file.

        The file holds only tensors and builtins; :meth:`load` reads it with
        ``torch.load(weights_only=True)``. When ``holds_training_images_`` is true (``architecture="warp"``,
        the default for images; ``"offset"``, for rows) the file contains every training sample, because the
        generator varies them, and ``save`` warns once per call: share the file only where the training data may
        go. :func:`ganaug.evaluation.memorisation` measures how close the samples are to the training data
        (docs/reliability.md).
        """
        check_is_fitted(self, "generator_")
        if self.holds_training_images_:
            n = int(np.sum(self.n_samples_per_class_))
            offset = self.config_.architecture == "offset"
            what = "rows the offset generator moves" if offset else "images the warp generator bends"
            warn(
                f"the model file holds the {n} training {what}; share it only where the training data may go",
                UserWarning,
            )
        fitted = {attr: getattr(self, attr) for attr in FITTED if hasattr(self, attr)}
        params = self.get_params(deep=False)
        return write_model_file(path, params=params, fitted=fitted, generator_state=self.generator_.state_dict())

    @classmethod
    def load(cls, path, device=None) -> SyntheticAugmenter:
        """Read a file written by :meth:`save` (on any device; CUDA files load on CPU).

        Files written by ganaug 0.1.0 load too.
        """
        params, fitted, generator_state = read_model_file(path)
        if device is not None:
            params["device"] = device
        try:
            aug = cls(**params)
            aug._restore(fitted, generator_state)
        except (KeyError, TypeError, RuntimeError) as exc:  # a file whose entries do not fit together
            raise ValueError(f"{str(path)!r} is damaged or incomplete: {exc}") from exc
        return aug

    def _restore(self, fitted: dict, generator_state: dict) -> None:
        """Become the fitted augmenter a model file describes (:func:`ganaug.persistence.read_model_file`)."""
        for attr, value in fitted.items():
            setattr(self, attr, value)
        self.device_ = resolve_device(self.device)
        g, _ = self._build_models()
        g.load_state_dict(generator_state)
        self.generator_ = g.to(self.device_).eval().requires_grad_(False)
        self._reset_sample_stream()

    def _build_models(self) -> tuple[nn.Module, nn.Module]:
        """Untrained generator and discriminator of the fitted shape and config (on the CPU)."""
        with torch.random.fork_rng(devices=[]):  # building modules draws from torch's global generator
            return build_models(
                self.config_,
                len(self.classes_),
                self._model_shape_,
                bounded=self.images_,
                per_class=self.strategy == "per_class",
            )

    # the discriminator's spectral norm cannot be pickled as a module (torch refuses parametrized modules):
    # it travels as its weights, so a fitted augmenter, or a pipeline that holds one, pickles whole
    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ hands out the instance's own __dict__
        d = state.pop("discriminator_", None)
        if d is not None:
            state["_discriminator_weights"] = (d.state_dict(), d.training)
        return state

    def __setstate__(self, state: dict) -> None:
        weights = state.pop("_discriminator_weights", None)
        super().__setstate__(state)
        if weights is not None:
            d = self._build_models()[1]
            d.load_state_dict(weights[0])
            self.discriminator_ = d.to(self.device_).train(weights[1])

    def _reset_sample_stream(self) -> None:
        """Start the stream :meth:`sample` continues when given no ``random_state`` (seeded from ``seed_``)."""
        self._sample_gen = torch.Generator(device=self.device_).manual_seed(derived_seed(self.seed_, "sample"))

    def export(self, directory, n_per_class: int, format: str = "png", random_state=None, classes=None) -> Path:
        """Write ``n_per_class`` samples of every class (or of ``classes``) to ``directory``.

        ``format="png"`` writes an ImageFolder tree (``directory/<class>/<i>.png``,
        pixel values mapped from the training range to 0-255); ``"npz"`` writes
        ``directory/synthetic.npz`` with arrays ``x`` and ``y``. ``directory`` must be new or
        empty (``FileExistsError`` otherwise): nothing there is overwritten, and no synthetic image
        joins a folder of real ones.
        """
        check_is_fitted(self, "generator_")
        return export_samples(self, directory, n_per_class, format=format, random_state=random_state, classes=classes)

    @property
    def holds_training_images_(self) -> bool:
        """Whether the fitted generator stores the training images (see the class's Attributes)."""
        return hasattr(self.generator_, "set_exemplars")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "generator_")


__all__ = ["SyntheticAugmenter", "NotFittedError"]
