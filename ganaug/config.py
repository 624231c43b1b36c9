"""GANConfig: every hyperparameter of a ganaug GAN, declared once, with its constraints."""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass

from ._validation import BOOL, NONE, InstanceOf, Interval, Options, check_params

LOSSES = ("nonsaturating", "minimax", "hinge", "wasserstein-gp")
ARCHITECTURES = ("auto", "dcgan", "mlp", "offset", "warp")
#: The generators for images (C, H, W) and for flat features; those that vary stored training samples (and so are
#: class-conditional and carry the samples in their model files).
IMAGE_ARCHITECTURES = ("dcgan", "warp")
FLAT_ARCHITECTURES = ("mlp", "offset")
EXEMPLAR_ARCHITECTURES = ("warp", "offset")
UPSAMPLING = ("transposed", "nearest")
RESAMPLING = ("bilinear", "nearest")
IMAGE_SIZES = (28, 32, 64)
DIFFAUGMENT_OPS = ("translation", "cutout", "color")
#: Flat features with at least this many classes get the offset generator from ``architecture="auto"``, fewer
#: get the MLP (conditional strategy; docs/settings.md, "What auto picks": measured on 2-4 and 6-10 classes, the
#: offset generator ahead on average from 6 on, the MLP below 5).
OFFSET_MIN_CLASSES = 5
#: GANOverSampler's ``architecture="auto"`` reads flat rows of ``s * s`` columns (8 <= s <= 64) as flattened
#: ``s x s`` grayscale images when, laid out as a grid, horizontally and vertically adjacent columns each correlate
#: on average at least this much more than all pairs of columns do (benchmarks/image_rows.py: sklearn's digits 0.32
#: and 0.48 above, the MNIST sample 0.68 and 0.67; in the weaker direction a random walk 0.20, an AR(1) series 0.20,
#: shuffled digits, counts and a 100-column table about 0; docs/settings.md, "Flat rows that are images").
IMAGE_ROW_MIN_CORRELATION = 0.25
#: What the ``"auto"`` fields resolve to, by the architecture in use (docs/settings.md, "What auto picks").
#: MLP: both loss terms made GANOverSampler worse on benchmarks/digits_oversampling.py. Offset generator: the
#: mode-seeking term at 1 (at 0.3 gradient boosting lost 3 points on digits' held-out rows,
#: benchmarks/oversampling_tabular.py --validation). Warp generator:
#: a strong mode-seeking term and no affine on the discriminator's real images (recipes/mnist_augment.py
#: --validation), and 500 steps (800 gave less on held-out images); the MLP and the DCGAN keep their 1,500.
#: Flat features: class-balanced batches (benchmarks/oversampling_tabular.py: the minority classes of imbalanced
#: tables are otherwise seen too rarely); images keep batches drawn over rows, as measured.
AUTO_VALUES = {
    "n_steps": {"dcgan": 1500, "warp": 500, "mlp": 1500, "offset": 1500},
    "aux_weight": {"dcgan": 3.0, "warp": 3.0, "mlp": 0.0, "offset": 0.0},
    "diversity_weight": {"dcgan": 0.3, "warp": 1.0, "mlp": 0.0, "offset": 1.0},
    "real_augment": {"dcgan": 0.0, "warp": 0.0, "mlp": 0.0, "offset": 0.0},
    "class_balanced": {"dcgan": False, "warp": False, "mlp": True, "offset": True},
}


@dataclass(repr=False)
class GANConfig:
    """Hyperparameters of the class-conditional GAN and its training loop.

    Every GAN hyperparameter is declared here, once. Both estimators take a
    ``GANConfig`` whole (``SyntheticAugmenter(gan=GANConfig(...))``), sklearn
    reaches each field as ``gan__<field>`` (``set_params``, ``GridSearchCV``),
    and every model file and checkpoint carries it. Fields set to ``"auto"``
    are resolved for the data at ``fit`` time (:meth:`resolve`); the fitted
    estimator's ``config_`` shows what was used. docs/settings.md explains the
    defaults.

    Most fields apply to every generator; a few are read by one architecture
    only and ignored by the others (:data:`ARCHITECTURE_FIELDS`):

    ==========  ==========================================
    ``dcgan``   ``g_upsample``
    ``warp``    ``warp_shift``, ``warp_stroke``
    ``offset``  ``offset_scale``, ``mlp_hidden``
    ``mlp``     ``mlp_hidden``
    ==========  ==========================================

    ``g_width`` and ``d_width`` size the image networks (DCGAN and warp), and
    ``pseudo_label_threshold`` and ``pseudo_label_steps`` matter only in fits
    with unlabelled data.

    Parameters
    ----------
    latent_dim : int
        Size of the noise vector fed to the generator.
    g_width, d_width : int
        Channel width of the last generator block and of the first
        discriminator block; deeper blocks use multiples of it.
    mlp_hidden : int
        Hidden units of the MLP generator and discriminator (flat features).
    architecture : {"auto", "dcgan", "mlp", "offset", "warp"}
        ``"auto"`` resolves at ``fit`` time to ``"warp"`` for images
        ``(N, C, H, W)``, and for flat feature vectors ``(N, F)`` to
        ``"offset"`` with 5 classes or more and to ``"mlp"`` with fewer
        (:meth:`resolve`; ``"dcgan"`` and ``"mlp"`` with
        ``strategy="per_class"``). ``"warp"`` (images
        only) keeps the DCGAN discriminator but replaces the generator by one
        that bends a training image of the requested class with a smooth,
        noise-driven displacement field (:class:`ganaug.models.WarpGenerator`):
        every sample is a deformed training image, the adversarial loss keeps
        the deformations plausible and the mode-seeking term
        (``diversity_weight``) makes them vary. The fitted model carries the
        training images. ``"offset"`` (flat features) does the same for rows:
        it moves a training row of the requested class by a learned,
        noise-driven offset of at most ``offset_scale`` standard deviations
        per feature (:class:`ganaug.models.OffsetGenerator`); its fitted model
        carries the training rows. ``"mlp"`` makes rows from noise with an MLP.
        ``"dcgan"`` paints images from noise; it helped in no setting
        measured so far (docs/settings.md) and stays available by name.
    loss : {"nonsaturating", "minimax", "hinge", "wasserstein-gp"}
        Adversarial loss.
    lr_g, lr_d : float
        Adam learning rates of generator and discriminator.
    betas : tuple of float
        Adam betas. ``None`` means the DCGAN defaults ``(0.5, 0.999)``, or
        ``(0.0, 0.9)`` for ``"wasserstein-gp"``.
    batch_size : int
        Real images per training step.
    n_steps : int or "auto"
        Generator updates. ``"auto"``: 500 for the warp generator (a fit on
        10 classes x 10 images takes well under a minute on a 2-core CPU,
        benchmarks/quick_fit_time.py), 1500 for the DCGAN, the MLP and the
        offset generator (:data:`AUTO_VALUES`).
    d_steps : int
        Discriminator updates per generator update.
    gp_weight : float
        Gradient-penalty weight for ``"wasserstein-gp"``.
    aux_weight : float or "auto"
        Weight of an auxiliary classification loss (AC-GAN style): the
        discriminator also learns to classify real images, and the generator
        is rewarded when its images are classified as the requested class.
        Raises class fidelity on small data; 0 disables. ``"auto"``: 3.0 for
        images, 0.0 for flat features (:data:`AUTO_VALUES`).
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
        default) disables; docs/settings.md says when to turn it on.
    diffaugment_threshold : int
        Dataset size under which ``diffaugment="auto"`` switches DiffAugment on.
    real_augment : float or "auto"
        Strength of a classical random affine (rotation, scale, shear, shift;
        1.0 = up to 15 degrees, +-15 % scale, 10 degrees shear, 10 % shift)
        applied to the real images before the discriminator sees them, outside
        the gradient path: the generator learns the augmented distribution, so
        a GAN fit on a handful of images per class yields more varied samples.
        0 disables. Images only. ``"auto"``: 0 (:data:`AUTO_VALUES`): the
        affine range suits digits, not every kind of image.
    class_balanced : bool or "auto"
        Draw every training batch class-balanced (a class at random, then one
        of its rows at random) instead of rows at random, so that a small
        class is trained on as often as a large one (CTGAN's training by
        sampling does the same for discrete columns). ``"auto"``: on for flat
        features, off for images (:data:`AUTO_VALUES`).
    lecam_weight : float
        Weight of the LeCam regulariser (Tseng et al., 2021), which pulls the
        discriminator's outputs on real images towards a moving average of its
        outputs on fakes and vice versa; 0 disables.
    diversity_weight : float or "auto"
        Weight of a mode-seeking term (Mao et al., 2019) in the generator loss:
        pairs of fakes with the same label and different noise are pushed
        apart in proportion to the distance of their noise vectors, so that
        samples vary more around the few training exemplars of a class; 0
        disables. ``"auto"``: 1.0 for the warp and offset generators, 0.3
        for the DCGAN, 0.0 for the MLP (:data:`AUTO_VALUES`).
    spectral_norm : bool
        Spectral normalisation on every discriminator layer.
    log_every : int
        Steps between two entries of ``history_`` (and host syncs on CUDA).
    amp : bool
        bf16 autocast on CUDA (ignored on CPU).
    cuda_graph : bool
        On CUDA in a single process, record one training step as a CUDA
        graph after 3 warm-up steps and replay it (docs/performance.md);
        ignored on CPU, under DDP, for ``loss="wasserstein-gp"`` and for
        ``strategy="per_class"`` (whose class routing is data-dependent).
    channels_last : {"auto", True, False}
        Keep the convolution weights (and so the activations) of the DCGAN in
        channels-last memory order. ``"auto"`` (the default) turns it on for
        training on the CPU, where it is faster (docs/performance.md), and off
        on CUDA. The MLP has no convolutions: no effect there.
    g_upsample : {"transposed", "nearest"}
        How the DCGAN generator doubles its resolution: stride-2 transposed
        4x4 convolutions (the DCGAN design), or nearest-neighbour upsampling
        followed by a 3x3 convolution, which cannot leave the checkerboard
        pattern of uneven kernel overlap (Odena et al., 2016).
    warp_shift : float
        ``architecture="warp"`` only: the largest displacement of a pixel, as
        a fraction of the image size (0.5 = 14 px at 28 px). It bounds the
        reach; the network learns how far to move each region.
    warp_stroke : float
        ``architecture="warp"`` only: in ``[0, 1]``, how far the generator
        may move each pixel of a bent image towards its 3x3 dilation (thicker
        strokes) or erosion (thinner ones); the amount is learned per sample
        and place. 0 (the default) keeps the exemplars' stroke width and the
        model's parameters as before. For data whose stroke width varies more
        than MNIST's (docs/history/experiments.md).
    warp_grid : int or None
        ``architecture="warp"`` only: the displacement field is averaged down
        to a ``warp_grid`` x ``warp_grid`` grid before it is spread over the
        image, so the bends are more rigid: 1 moves the whole image by one
        shift, 2 gives smooth stretches, shears and shifts. None (the default)
        keeps the networks' own grid (7 x 7 at 28 px): local bends. Rigid
        moves keep a shape a shape where local bends turn it into another
        (docs/settings.md, "Beyond digits").
    warp_resample : {"bilinear", "nearest"}
        ``architecture="warp"`` only: how a bent exemplar reads its pixels.
        "nearest" (the default) copies the nearest one, so every pixel of a
        sample is a pixel of its exemplar (gradients flow as for bilinear);
        "bilinear" blends the four around each point, a blur at the scale of
        a pixel. Chosen by the worst of four image families: nearest keeps
        textures and noisy backgrounds and costs smooth digits part of their
        gain (docs/settings.md, "Beyond digits"). Model files written before
        this field existed load with "bilinear", as they were trained.
    offset_scale : float
        ``architecture="offset"`` only: the largest offset the generator may
        add to a feature of a training row, in standard deviations of that
        feature (features are standardised). It bounds the reach; the
        network learns how far to move each feature.
    pseudo_label_threshold : float
        Fits with unlabelled data only (``fit(..., unlabelled=...)``): a
        classifier trained on the labelled samples labels the unlabelled ones,
        and those it gives at least this probability (at most as many per
        class as the median class has) join the GAN's training set, as real
        images for the discriminator and, for the warp generator, as
        exemplars to bend (:func:`ganaug.unlabelled.pseudo_label`).
    pseudo_label_steps : int
        Training batches of that classifier.

    Examples
    --------
    >>> from ganaug import GANConfig
    >>> cfg = GANConfig(n_steps=2000)
    >>> cfg.loss, cfg.n_steps
    ('nonsaturating', 2000)
    >>> cfg
    GANConfig(n_steps=2000)
    >>> cfg.resolve(images=True).architecture, cfg.resolve(images=False, n_classes=3).architecture
    ('warp', 'mlp')
    >>> flat = cfg.resolve(images=False, n_classes=10)
    >>> flat.architecture, flat.diversity_weight
    ('offset', 1.0)
    >>> GANConfig(loss="wgan")
    Traceback (most recent call last):
    ...
    ValueError: loss must be one of 'nonsaturating', 'minimax', 'hinge', 'wasserstein-gp'; got 'wgan'
    >>> GANConfig(lrg=1e-4)
    Traceback (most recent call last):
    ...
    TypeError: GANConfig got unknown field 'lrg' (did you mean 'lr_g'?)
    >>> cfg.set_params(lr_g=1e-4, lr_d=-1)  # checked as a whole: nothing is set
    Traceback (most recent call last):
    ...
    ValueError: lr_d must be a number > 0; got -1
    >>> cfg.lr_g
    0.0002
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
    n_steps: int | str = "auto"
    d_steps: int = 1
    gp_weight: float = 10.0
    aux_weight: float | str = "auto"
    aux_weight_g: float | None = None
    ema_decay: float = 0.999
    diffaugment: str = ""
    diffaugment_threshold: int = 5000
    real_augment: float | str = "auto"
    class_balanced: bool | str = "auto"
    lecam_weight: float = 0.0
    diversity_weight: float | str = "auto"
    spectral_norm: bool = True
    log_every: int = 25
    amp: bool = True
    cuda_graph: bool = True
    channels_last: bool | str = "auto"
    g_upsample: str = "transposed"
    warp_shift: float = 0.5
    warp_stroke: float = 0.0
    warp_grid: int | None = None
    warp_resample: str = "nearest"
    offset_scale: float = 2.0
    pseudo_label_threshold: float = 0.95
    pseudo_label_steps: int = 600

    def __new__(cls, *args, **kwargs):
        # runs before the generated __init__, so an unknown keyword is answered with the field it resembles
        # rather than Python's bare "unexpected keyword argument"
        unknown = sorted(set(kwargs) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"GANConfig got {_unknown_fields(unknown)}")
        return super().__new__(cls)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> GANConfig:
        """Raise ``ValueError`` naming the first field outside its constraints; return ``self``."""
        check_params(_CONSTRAINTS, dataclasses.asdict(self))
        if self.betas is not None and (
            len(self.betas) != 2 or not all(Interval("real", 0, 1, closed="left").accepts(b) for b in self.betas)
        ):
            raise ValueError(f"betas must be None or two numbers in [0, 1); got {self.betas!r}")
        self.diffaugment_ops(channels=1, n_samples=0)
        return self

    # -- sklearn's nested parameters: an estimator's ``gan__<field>`` lands here --------------
    def get_params(self, deep: bool = True) -> dict:
        """Every field and its value (sklearn's ``get_params``; ``deep`` changes nothing)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def set_params(self, **params) -> GANConfig:
        """Set fields by name (sklearn's ``set_params``); return ``self``.

        The whole new state is checked before anything is assigned: a call
        that raises leaves the config as it was.
        """
        unknown = sorted(set(params) - set(CONFIG_FIELDS))
        if unknown:
            raise ValueError(f"GANConfig.set_params got {_unknown_fields(unknown)}")
        checked = dataclasses.replace(self, **params)  # validates the new state as a whole
        for name in params:
            setattr(self, name, getattr(checked, name))
        return self

    def __repr__(self) -> str:
        changed = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        ]
        return f"GANConfig({', '.join(changed)})"

    # -- resolving ---------------------------------------------------------------------------
    def resolve(self, images: bool, per_class: bool = False, n_classes: int | None = None) -> GANConfig:
        """A copy with the data-dependent ``"auto"`` fields resolved.

        ``architecture="auto"`` becomes ``"warp"`` for images; for flat
        features ``"offset"`` when there are at least
        :data:`OFFSET_MIN_CLASSES` classes (``n_classes``; 5) and ``"mlp"``
        otherwise or when ``n_classes`` is not given; ``"dcgan"`` and
        ``"mlp"`` when each class gets its own unconditional GAN
        (``per_class``: those two are the unconditional ones); ``n_steps``, ``aux_weight``,
        ``diversity_weight``, ``real_augment`` and ``class_balanced`` then take the value
        :data:`AUTO_VALUES` gives that architecture. ``diffaugment`` and ``channels_last`` stay as they
        are: they depend on the data size and the device, and the trainer
        resolves them.
        """
        architecture = self.architecture
        if architecture == "auto":
            if images:
                architecture = "dcgan" if per_class else "warp"
            else:
                many = n_classes is not None and n_classes >= OFFSET_MIN_CLASSES
                architecture = "offset" if many and not per_class else "mlp"
        changes = {"architecture": architecture}
        for name, by_architecture in AUTO_VALUES.items():
            if getattr(self, name) == "auto":
                changes[name] = by_architecture[architecture]
        return dataclasses.replace(self, **changes)

    def uses_channels_last(self, device) -> bool:
        """Whether convolution weights are kept channels-last when training on ``device``."""
        if self.channels_last == "auto":
            import torch

            return torch.device(device).type == "cpu"
        return bool(self.channels_last)

    def resolved_betas(self) -> tuple[float, float]:
        """Adam betas for this loss when ``betas`` is ``None``."""
        if self.betas is not None:
            return (float(self.betas[0]), float(self.betas[1]))
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

    # -- files -------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain-builtin dict (JSON and ``torch.load(weights_only=True)`` safe)."""
        d = dataclasses.asdict(self)
        if d["betas"] is not None:
            d["betas"] = [float(b) for b in d["betas"]]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> GANConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        unknown = sorted(set(d) - set(CONFIG_FIELDS))
        if unknown:
            raise ValueError(f"GANConfig.from_dict got {_unknown_fields(unknown)}")
        d = dict(d)
        if d.get("betas") is not None:
            d["betas"] = tuple(d["betas"])
        return cls(**d)


CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(GANConfig))
#: The fields that only one generator reads (the others ignore them): docs/settings.md, "Fields of one
#: architecture". ``mlp_hidden`` sizes both flat-feature networks.
ARCHITECTURE_FIELDS = {
    "dcgan": ("g_upsample",),
    "warp": ("warp_shift", "warp_stroke", "warp_grid", "warp_resample"),
    "offset": ("offset_scale", "mlp_hidden"),
    "mlp": ("mlp_hidden",),
}


def _unknown_fields(names: list[str]) -> str:
    """``unknown field 'lrg' (did you mean 'lr_g'?)``, for each of ``names``, with the list of fields when
    nothing resembles a name."""
    parts = []
    for name in names:
        close = difflib.get_close_matches(name, CONFIG_FIELDS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(CONFIG_FIELDS)}"
        parts.append(f"unknown field {name!r} ({hint})")
    return "; ".join(parts)


_POSITIVE_INT = [Interval("int", 1)]
_NON_NEGATIVE = [Interval("real", 0)]
#: What each field accepts; one entry per field (a test checks that none is missing).
_CONSTRAINTS = {
    "latent_dim": _POSITIVE_INT,
    "g_width": _POSITIVE_INT,
    "d_width": _POSITIVE_INT,
    "mlp_hidden": _POSITIVE_INT,
    "architecture": [Options(*ARCHITECTURES)],
    "loss": [Options(*LOSSES)],
    "lr_g": [Interval("real", 0, closed="neither")],
    "lr_d": [Interval("real", 0, closed="neither")],
    "betas": [NONE, InstanceOf(tuple, list, name="two numbers in [0, 1)")],
    "batch_size": _POSITIVE_INT,
    "n_steps": [Options("auto"), *_POSITIVE_INT],
    "d_steps": _POSITIVE_INT,
    "gp_weight": _NON_NEGATIVE,
    "aux_weight": [Options("auto"), *_NON_NEGATIVE],
    "aux_weight_g": [NONE, *_NON_NEGATIVE],
    "ema_decay": [Interval("real", 0, 1, closed="left")],
    "diffaugment": [InstanceOf(str)],
    "diffaugment_threshold": [Interval("int", 0)],
    "real_augment": [Options("auto"), *_NON_NEGATIVE],
    "class_balanced": [Options("auto"), BOOL],
    "lecam_weight": _NON_NEGATIVE,
    "diversity_weight": [Options("auto"), *_NON_NEGATIVE],
    "spectral_norm": [BOOL],
    "log_every": _POSITIVE_INT,
    "amp": [BOOL],
    "cuda_graph": [BOOL],
    "channels_last": [Options("auto", True, False)],
    "g_upsample": [Options(*UPSAMPLING)],
    "warp_shift": [Interval("real", 0, 1, closed="right")],
    "warp_stroke": [Interval("real", 0, 1)],
    "warp_grid": [NONE, *_POSITIVE_INT],
    "warp_resample": [Options(*RESAMPLING)],
    "offset_scale": [Interval("real", 0, closed="neither")],
    "pseudo_label_threshold": [Interval("real", 0, 1)],
    "pseudo_label_steps": _POSITIVE_INT,
}


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


#: The GAN hyperparameters that are also estimator keywords (default None: the GANConfig's value).
SHORTCUTS = ("architecture", "n_steps")


class GANParamsMixin:
    """The GAN half of an estimator's parameters: ``gan`` (a :class:`GANConfig` or None) and the
    :data:`SHORTCUTS`, with sklearn's nested ``gan__<field>`` names working even while ``gan`` is None."""

    #: What the GAN keywords and ``verbose`` accept; estimators add their own parameters to it.
    _constraints = {
        "gan": [NONE, InstanceOf(GANConfig, name="a GANConfig")],
        "architecture": [NONE, Options(*ARCHITECTURES)],
        "n_steps": [NONE, Interval("int", 1)],
        "verbose": [BOOL, Interval("int", 0)],
    }

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        if deep and params.get("gan") is None:  # show the fields a grid search can reach
            params.update({f"gan__{k}": v for k, v in GANConfig().get_params().items()})
        return params

    def set_params(self, **params):
        if getattr(self, "gan", None) is None and any(key.startswith("gan__") for key in params):
            self.gan = GANConfig()  # a fresh one: set_params never touches a shared default
        return super().set_params(**params)

    def _gan_config(self) -> GANConfig:
        """A new GANConfig: ``gan`` (or the defaults) with the shortcut keywords that are set applied."""
        gan = GANConfig() if self.gan is None else self.gan
        if not isinstance(gan, GANConfig):
            raise TypeError(
                f"gan must be a ganaug.GANConfig or None; got {type(gan).__name__}: write gan=GANConfig(...)"
            )
        return dataclasses.replace(gan, **{k: getattr(self, k) for k in SHORTCUTS if getattr(self, k) is not None})
