"""Every hyperparameter of a ganaug GAN in one dataclass."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

LOSSES = ("nonsaturating", "minimax", "hinge", "wasserstein-gp")
ARCHITECTURES = ("auto", "dcgan", "mlp", "warp")
UPSAMPLING = ("transposed", "nearest")
IMAGE_SIZES = (28, 32, 64)
DIFFAUGMENT_OPS = ("translation", "cutout", "color")


@dataclass
class GANConfig:
    """Hyperparameters of the class-conditional GAN and its training loop.

    The defaults train a usable class-conditional DCGAN on 10-100 MNIST-like
    images per class in about a minute on a 2-core CPU. They were chosen with
    ``benchmarks/usefulness.py``; docs/usefulness.md has the measurements.

    Parameters
    ----------
    latent_dim : int
        Size of the noise vector fed to the generator.
    g_width, d_width : int
        Channel width of the last generator block and of the first
        discriminator block; deeper blocks use multiples of it.
    mlp_hidden : int
        Hidden units of the MLP generator and discriminator (flat features).
    architecture : {"auto", "dcgan", "mlp", "warp"}
        ``"auto"`` picks the DCGAN for image tensors ``(N, C, H, W)`` and the
        MLP for flat feature vectors ``(N, F)``. ``"warp"`` (images only)
        keeps the DCGAN discriminator but replaces the generator by one that
        bends a training image of the requested class with a smooth,
        noise-driven displacement field (:class:`ganaug.models.WarpGenerator`):
        every sample is a deformed training image, the adversarial loss keeps
        the deformations plausible and the mode-seeking term
        (``diversity_weight``) makes them vary. The fitted model carries the
        training images.
    loss : {"nonsaturating", "minimax", "hinge", "wasserstein-gp"}
        Adversarial loss.
    lr_g, lr_d : float
        Adam learning rates of generator and discriminator.
    betas : tuple of float
        Adam betas. ``None`` means the DCGAN defaults ``(0.5, 0.999)``, or
        ``(0.0, 0.9)`` for ``"wasserstein-gp"``.
    batch_size : int
        Real images per training step.
    n_steps : int
        Generator updates.
    d_steps : int
        Discriminator updates per generator update.
    gp_weight : float
        Gradient-penalty weight for ``"wasserstein-gp"``.
    aux_weight : float
        Weight of an auxiliary classification loss (AC-GAN style): the
        discriminator also learns to classify real images, and the generator
        is rewarded when its images are classified as the requested class.
        Raises class fidelity on small data; 0 disables. The default 3 beat 0,
        0.3 and 1 on MNIST at 10 and 50 images per class (docs/usefulness.md).
    aux_weight_g : float or None
        Weight of the auxiliary classification loss in the generator's
        objective only; ``None`` (the default) uses ``aux_weight``. A strong
        reward for being classified as the requested class can teach the
        generator speckle patterns that sway the auxiliary head rather than
        cleaner strokes; a lower generator-side weight keeps the
        discriminator's class-aware features.
    ema_decay : float
        Decay of the exponential moving average of the generator weights used
        for sampling; 0 disables the average.
    diffaugment : str
        Comma-separated DiffAugment ops applied to every discriminator input
        (``"translation"``, ``"cutout"``, ``"color"``); ``"auto"`` uses
        ``"translation,cutout"`` (plus ``"color"`` for RGB) when there are
        fewer than ``diffaugment_threshold`` training images, ``""`` (the
        default) disables. With the short fits ganaug targets (<= 1500 steps)
        DiffAugment slowed learning more than it curbed memorisation: samples
        were less useful to a classifier (docs/usefulness.md); consider
        ``"translation,cutout"`` for fits of many thousand steps.
    diffaugment_threshold : int
        Dataset size under which ``diffaugment="auto"`` switches DiffAugment on.
    real_augment : float
        Strength of a classical random affine (rotation, scale, shear, shift;
        1.0 = up to 15 degrees, +-15 % scale, 10 degrees shear, 10 % shift)
        applied to the real images before the discriminator sees them, outside
        the gradient path: the generator learns the augmented distribution, so
        a GAN fit on a handful of images per class yields more varied samples.
        0 disables. Images only.
    lecam_weight : float
        Weight of the LeCam regulariser (Tseng et al., 2021), which pulls the
        discriminator's outputs on real images towards a moving average of its
        outputs on fakes and vice versa; 0 disables.
    diversity_weight : float
        Weight of a mode-seeking term (Mao et al., 2019) in the generator loss:
        pairs of fakes with the same label and different noise are pushed
        apart in proportion to the distance of their noise vectors, so that
        samples vary more around the few training exemplars of a class; 0
        disables. With the default 0.3, train-on-synthetic accuracy rose from
        0.82x to 0.87x of real-only (MNIST, 10 per class, 500 steps), and a
        classifier trained on other real images still gives 94 % of the
        samples their requested label (97 % without the term, 88 % at
        weight 1; docs/usefulness.md). Measured on images: on flat features
        it made GANOverSampler worse, which therefore leaves it off there.
    spectral_norm : bool
        Spectral normalisation on every discriminator layer.
    log_every : int
        Steps between two entries of ``history_`` (and host syncs on CUDA).
    amp : bool
        bf16 autocast on CUDA (ignored on CPU).
    cuda_graph : bool
        On CUDA in a single process, record one training step as a CUDA
        graph after 3 warm-up steps and replay it (H100, batch 256: 108,225
        images/s against 16,569 eager, ``benchmarks/train_speed.py``);
        ignored on CPU, under DDP, for ``loss="wasserstein-gp"`` and for
        ``strategy="per_class"`` (whose class routing is data-dependent).
    channels_last : {"auto", True, False}
        Keep the convolution weights (and so the activations) of the DCGAN in
        channels-last memory order. ``"auto"`` (the default) turns it on for
        training on the CPU, where it gave 1.12x the training steps/s on
        28x28 grey images and on 32x32 colour ones (2-core CPU, median of 15
        alternating rounds of ``benchmarks/trainer_speed.py --set
        channels_last=false --vs channels_last=true``), and off on CUDA, where
        it has not been measured. The MLP has no convolutions: no effect there.
    g_upsample : {"transposed", "nearest"}
        How the DCGAN generator doubles its resolution: stride-2 transposed
        4x4 convolutions (the DCGAN design), or nearest-neighbour upsampling
        followed by a 3x3 convolution, which cannot leave the checkerboard
        pattern of uneven kernel overlap (Odena et al., 2016).
    warp_shift : float
        ``architecture="warp"`` only: the largest displacement of a pixel, as
        a fraction of the image size (0.125 = 3.5 px at 28 px).
    warp_stroke : float
        ``architecture="warp"`` only: in ``[0, 1]``, how far the generator
        may move each pixel of a bent image towards its 3x3 dilation (thicker
        strokes) or erosion (thinner ones); the amount is learned per sample
        and place. 0 (the default) keeps the exemplars' stroke width and the
        model's parameters as before. On MNIST at 10 images per class it
        changed none of the recipe's arms (docs/usefulness.md, "What real +
        classical lacks at N = 10"): for data whose stroke width varies more.

    Examples
    --------
    >>> from ganaug import GANConfig
    >>> cfg = GANConfig(n_steps=500)
    >>> cfg.loss, cfg.n_steps
    ('nonsaturating', 500)
    >>> GANConfig(loss="wgan")
    Traceback (most recent call last):
    ...
    ValueError: loss must be one of ('nonsaturating', 'minimax', 'hinge', 'wasserstein-gp'); got 'wgan'
    """

    latent_dim: int = 64
    g_width: int = 32
    d_width: int = 32
    mlp_hidden: int = 256
    architecture: str = "auto"
    loss: str = "nonsaturating"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] | None = None
    batch_size: int = 32
    n_steps: int = 1500
    d_steps: int = 1
    gp_weight: float = 10.0
    aux_weight: float = 3.0
    aux_weight_g: float | None = None
    ema_decay: float = 0.999
    diffaugment: str = ""
    diffaugment_threshold: int = 5000
    real_augment: float = 0.0
    lecam_weight: float = 0.0
    diversity_weight: float = 0.3
    spectral_norm: bool = True
    log_every: int = 25
    amp: bool = True
    cuda_graph: bool = True
    channels_last: bool | str = "auto"
    g_upsample: str = "transposed"
    warp_shift: float = 0.125
    warp_stroke: float = 0.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> "GANConfig":
        """Raise ``ValueError`` naming the first bad field; return ``self``."""
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}; got {self.architecture!r}")
        for name in ("latent_dim", "g_width", "d_width", "mlp_hidden", "batch_size", "d_steps", "log_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if isinstance(self.n_steps, bool) or not isinstance(self.n_steps, int) or self.n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1; got {self.n_steps!r}")
        for name in ("lr_g", "lr_d"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number; got {value!r}")
        if not isinstance(self.aux_weight, (int, float)) or self.aux_weight < 0:
            raise ValueError(f"aux_weight must be a number >= 0; got {self.aux_weight!r}")
        if self.aux_weight_g is not None and (isinstance(self.aux_weight_g, bool) or not isinstance(self.aux_weight_g, (int, float)) or not self.aux_weight_g >= 0):
            raise ValueError(f"aux_weight_g must be None or a number >= 0; got {self.aux_weight_g!r}")
        if isinstance(self.warp_shift, bool) or not isinstance(self.warp_shift, (int, float)) or not 0 < self.warp_shift <= 1:
            raise ValueError(f"warp_shift must be a number in (0, 1]; got {self.warp_shift!r}")
        if isinstance(self.warp_stroke, bool) or not isinstance(self.warp_stroke, (int, float)) or not 0 <= self.warp_stroke <= 1:
            raise ValueError(f"warp_stroke must be a number in [0, 1]; got {self.warp_stroke!r}")
        for name in ("real_augment", "lecam_weight", "diversity_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0; got {value!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1); got {self.ema_decay!r}")
        if self.betas is not None:
            betas = tuple(self.betas)
            if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
                raise ValueError(f"betas must be two numbers in [0, 1); got {self.betas!r}")
            self.betas = (float(betas[0]), float(betas[1]))
        if self.g_upsample not in UPSAMPLING:
            raise ValueError(f"g_upsample must be one of {UPSAMPLING}; got {self.g_upsample!r}")
        if not (isinstance(self.channels_last, bool) or self.channels_last == "auto"):
            raise ValueError(f"channels_last must be 'auto', True or False; got {self.channels_last!r}")
        self.diffaugment_ops(channels=1, n_samples=0)
        return self

    def uses_channels_last(self, device) -> bool:
        """Whether convolution weights are kept channels-last when training on ``device``."""
        if self.channels_last == "auto":
            import torch

            return torch.device(device).type == "cpu"
        return bool(self.channels_last)

    def resolved_betas(self) -> tuple[float, float]:
        """Adam betas for this loss when ``betas`` is ``None``."""
        if self.betas is not None:
            return tuple(self.betas)
        return (0.0, 0.9) if self.loss == "wasserstein-gp" else (0.5, 0.999)

    def diffaugment_ops(self, channels: int, n_samples: int) -> tuple[str, ...]:
        """The DiffAugment ops to use for data with ``channels`` and ``n_samples``."""
        policy = (self.diffaugment or "").replace(" ", "")
        if policy == "auto":
            if n_samples >= self.diffaugment_threshold:
                return ()
            return ("translation", "cutout") + (("color",) if channels == 3 else ())
        ops = tuple(op for op in policy.split(",") if op)
        for op in ops:
            if op not in DIFFAUGMENT_OPS:
                raise ValueError(
                    f"diffaugment ops must be among {DIFFAUGMENT_OPS} (comma-separated), 'auto' or ''; got {op!r}"
                )
        return ops

    def to_dict(self) -> dict:
        """Plain-builtin dict (JSON and ``torch.load(weights_only=True)`` safe)."""
        d = dataclasses.asdict(self)
        if d["betas"] is not None:
            d["betas"] = list(d["betas"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "GANConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown GANConfig fields {sorted(unknown)}; known: {sorted(names)}")
        d = dict(d)
        if d.get("betas") is not None:
            d["betas"] = tuple(d["betas"])
        return cls(**d)


CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(GANConfig))


def parse_assignment(text: str, fields=CONFIG_FIELDS) -> tuple[str, object]:
    """Read a command-line ``FIELD=VALUE`` into ``(field, value)``.

    The value is read as JSON where it parses (numbers, ``true``/``false``,
    ``null``, lists) and kept as a string otherwise, so ``warp_shift=0.25``
    gives a float and ``architecture=warp`` a string.

    Parameters
    ----------
    text : str
        ``"FIELD=VALUE"``.
    fields : sequence of str
        The accepted field names; defaults to every :class:`GANConfig` field.

    Returns
    -------
    (str, object)

    Raises
    ------
    ValueError
        When ``text`` has no ``=`` or names a field outside ``fields``.

    Examples
    --------
    >>> parse_assignment("warp_shift=0.25"), parse_assignment("architecture=warp")
    (('warp_shift', 0.25), ('architecture', 'warp'))
    """
    key, sep, value = str(text).partition("=")
    if not sep:
        raise ValueError(f"expected FIELD=VALUE; got {text!r}")
    if key not in fields:
        raise ValueError(f"unknown field {key!r}; known: {', '.join(fields)}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
