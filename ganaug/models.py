"""Generator and discriminator modules. ``nn.Module`` only: no I/O, no training.

Image models support 1 or 3 channels at 28, 32 and 64 pixels (square). The
MLP pair serves flat feature vectors (tabular data, flattened images).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm as _sn

from .config import EXEMPLAR_ARCHITECTURES, IMAGE_ARCHITECTURES, IMAGE_SIZES, UPSAMPLING


def _base_size(image_size: int) -> int:
    if image_size not in IMAGE_SIZES:
        raise ValueError(
            f"image size {image_size} px is not supported; supported square sizes are {IMAGE_SIZES} "
            "(SyntheticAugmenter enlarges square images of 8 px or more to the next of them; shrink larger ones, "
            "e.g. torchvision.transforms.Resize(64), or pass images under 8 px as flat features)"
        )
    return 7 if image_size == 28 else 4


def _maybe_sn(module: nn.Module, use: bool) -> nn.Module:
    return _sn(module) if use else module


def _head(d: nn.Module, h: torch.Tensor, y: torch.Tensor, *, return_aux: bool):
    """Shared discriminator head: (B, feat) features -> (B,) logits [, (B, K) class logits].

    logit = out(h) + <embed(y), h> (projection conditioning); the optional
    auxiliary classifier predicts the class from the same features.
    """
    logit = d.out(h).squeeze(1)
    if d.embed is not None:
        logit = logit + (d.embed(y) * h).sum(1)
    if not return_aux:
        return logit
    return logit, (d.aux(h) if d.aux is not None else None)


def _up(c_in: int, c_out: int, *, how: str, bias: bool) -> list[nn.Module]:
    """Layers doubling the resolution: (B, c_in, s, s) -> (B, c_out, 2s, 2s)."""
    if how == "nearest":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias)]
    if how == "transposed":
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)]
    raise ValueError(f"upsample must be one of {UPSAMPLING}; got {how!r}")


class ConvGenerator(nn.Module):
    """Class-conditional DCGAN generator.

    noise ``z`` (B, latent) and label embedding (B, latent) are concatenated,
    mapped by a dense layer to a (B, C0, base, base) map and upsampled by
    stride-2 transposed convolutions (``upsample="nearest"``: nearest-neighbour
    doubling and a 3x3 convolution) to (B, channels, size, size) in [-1, 1].
    With ``n_classes == 1`` the generator is unconditional.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        latent_dim: int,
        channels: int,
        size: int,
        width: int = 64,
        upsample: str = "transposed",
    ):
        super().__init__()
        base = _base_size(size)
        n_up = int(math.log2(size // base))
        c0 = width * 2 ** (n_up - 1)
        self.n_classes, self.latent_dim, self.base, self.c0 = n_classes, latent_dim, base, c0
        self.embed = nn.Embedding(n_classes, latent_dim) if n_classes > 1 else None
        in_dim = latent_dim * (2 if self.embed is not None else 1)
        # (B, in_dim) -> (B, c0 * base * base)
        self.fc = nn.Sequential(
            nn.Linear(in_dim, c0 * base * base, bias=False), nn.BatchNorm1d(c0 * base * base), nn.ReLU(True)
        )
        blocks = []
        c = c0
        for _ in range(n_up - 1):
            # (B, c, s, s) -> (B, c/2, 2s, 2s)
            blocks += [*_up(c, c // 2, how=upsample, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        # (B, width, size/2, size/2) -> (B, channels, size, size)
        blocks += [*_up(c, channels, how=upsample, bias=True), nn.Tanh()]
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        h = self.fc(z).view(z.shape[0], self.c0, self.base, self.base)
        return self.net(h)


class _Exemplars:
    """Training samples kept in buffers, one picked per row by the noise: the part exemplar generators share.

    ``z[:, choice_dim]`` picks one stored exemplar of class ``y`` through the
    normal CDF, so a standard-normal ``z`` picks them uniformly. The buffers
    travel with ``state_dict`` and with saved models.
    """

    #: The latent coordinate that picks the exemplar: training pairs share it, so the mode-seeking term
    #: compares two variations of one exemplar (the trainer reads this attribute).
    choice_dim = 0
    #: Buffers training never changes (the exemplars): the trainer does not copy them into the EMA generator.
    static_buffers = ("exemplars", "class_start", "class_count")

    def _init_exemplars(self, n_classes: int, sample_shape: tuple[int, ...]) -> None:
        self.register_buffer("exemplars", torch.zeros(0, *sample_shape))
        self.register_buffer("class_start", torch.zeros(n_classes, dtype=torch.long))
        self.register_buffer("class_count", torch.ones(n_classes, dtype=torch.long))

    @torch.no_grad()
    def set_exemplars(self, x: torch.Tensor, y: torch.Tensor):
        """Store samples ``x`` (in the model's value space) and class indices ``y``; return ``self``."""
        y = torch.as_tensor(y, dtype=torch.long)
        counts = torch.bincount(y, minlength=self.n_classes)
        if counts.numel() != self.n_classes or (counts == 0).any():
            raise ValueError(f"every class needs at least one exemplar; counts per class {counts.tolist()}")
        order = torch.argsort(y, stable=True)
        x = x.reshape(x.shape[0], *self.exemplars.shape[1:])
        self.exemplars = x[order].to(self.class_start.device, torch.float32).clone()
        self.class_count = counts.to(self.class_start.device)
        self.class_start = (torch.cumsum(counts, 0) - counts).to(self.class_start.device)
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        key = prefix + "exemplars"
        if key in state_dict:  # the number of exemplars is the fitted data's, not the constructor's
            self.exemplars = torch.empty_like(state_dict[key], device=self.exemplars.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _pick(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The exemplar of class ``y`` that ``z[:, choice_dim]`` picks, one per row."""
        if self.exemplars.shape[0] == 0:
            raise RuntimeError(f"{type(self).__name__} has no exemplars: call set_exemplars(x, y) first")
        count = self.class_count[y]
        # ndtr is in [0, 1]: the pick is never below 0
        pick = (torch.special.ndtr(z[:, self.choice_dim].float()) * count).long().clamp(max=count - 1)
        return self.exemplars[self.class_start[y] + pick].to(z.dtype)


class WarpGenerator(_Exemplars, nn.Module):
    """Class-conditional generator that deforms training images of the requested class.

    ``z[:, 0]`` picks one stored exemplar of class ``y`` (through the normal
    CDF, so a standard-normal ``z`` picks them uniformly); a small network
    reads the exemplar, the noise and the label and outputs a smooth
    displacement field on a coarse (``base`` x ``base``) grid, upsampled
    bilinearly and applied with ``grid_sample``: the sample is the exemplar,
    bent. With ``stroke > 0`` a second head outputs a coarse map ``t`` in
    ``[-stroke, stroke]`` and each pixel of the bent image is moved the
    fraction ``t`` of the way to its 3x3 dilation (``t > 0``: thicker strokes)
    or ``-t`` of the way to its 3x3 erosion (``t < 0``: thinner ones), a kind
    of variation that affine and elastic augmentation lack. The adversarial
    loss keeps the deformations plausible, the mode-seeking term
    (``diversity_weight``) makes them vary with the noise.
    Exemplars live in buffers (:meth:`set_exemplars`), so they travel with
    ``state_dict`` and with saved models.

    Examples
    --------
    >>> import torch
    >>> gen = WarpGenerator(n_classes=2, latent_dim=8, channels=1, size=28)
    >>> x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 0, 1, 0, 1])
    >>> out = gen.set_exemplars(x, y)(torch.randn(4, 8), torch.tensor([1, 1, 0, 0]))
    >>> tuple(out.shape), gen.exemplars.shape[0]
    ((4, 1, 28, 28), 6)
    """

    def __init__(
        self,
        n_classes: int,
        *,
        latent_dim: int,
        channels: int,
        size: int,
        width: int = 32,
        max_shift: float = 0.125,
        stroke: float = 0.0,
    ):
        super().__init__()
        base = _base_size(size)
        n_down = int(math.log2(size // base))
        self.n_classes, self.latent_dim, self.base = n_classes, latent_dim, base
        self.max_shift = 2 * max_shift  # grid_sample coordinates span 2 per image size
        self.embed = nn.Embedding(n_classes, latent_dim)
        c = width * 2 ** (n_down - 1)
        self.c = c
        # (B, 2 * latent) -> (B, c, base, base)
        self.fc = nn.Sequential(nn.Linear(2 * latent_dim, c * base * base), nn.ReLU(True))
        enc, c_in, c_out = [], channels, width
        for _ in range(n_down):
            # (B, c_in, s, s) -> (B, c_out, s/2, s/2)
            enc += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            c_in, c_out = c_out, c_out * 2
        self.enc = nn.Sequential(*enc)  # exemplar -> (B, c, base, base)
        # (B, 2c, base, base) -> (B, 2, base, base) displacement, at most max_shift of the image size
        self.flow = self._map_head(c, 2)
        self.stroke = float(stroke)
        # (B, 2c, base, base) -> (B, 1, base, base) stroke change in [-1, 1], scaled by stroke (absent at 0: the
        # state_dict of a model without it is unchanged)
        self.thickness = self._map_head(c, 1) if self.stroke > 0 else None
        self._init_exemplars(n_classes, (channels, size, size))

    @staticmethod
    def _map_head(c: int, n_out: int) -> nn.Sequential:
        """(B, 2c, base, base) -> (B, n_out, base, base) in [-1, 1]: a coarse map read from exemplar and noise."""
        return nn.Sequential(nn.Conv2d(2 * c, c, 3, 1, 1), nn.ReLU(True), nn.Conv2d(c, n_out, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        src = self._pick(z, y)
        code = self.fc(torch.cat([z, self.embed(y)], dim=1)).view(z.shape[0], self.c, self.base, self.base)
        h = torch.cat([self.enc(src), code], dim=1)
        shift = self.flow(h) * self.max_shift  # (B, 2, base, base)
        shift = F.interpolate(shift, size=src.shape[-2:], mode="bilinear", align_corners=False)
        theta = torch.eye(2, 3, device=z.device, dtype=shift.dtype).expand(z.shape[0], 2, 3)
        grid = F.affine_grid(theta, list(src.shape), align_corners=False) + shift.permute(0, 2, 3, 1)
        out = F.grid_sample(src, grid.to(src.dtype), mode="bilinear", padding_mode="border", align_corners=False)
        if self.thickness is None:
            return out
        t = F.interpolate(
            self.thickness(h) * self.stroke, size=src.shape[-2:], mode="bilinear", align_corners=False
        ).to(out.dtype)
        thicker = F.max_pool2d(out, 3, 1, 1) - out  # >= 0
        thinner = out + F.max_pool2d(-out, 3, 1, 1)  # >= 0: out minus its erosion
        return out + t.clamp(min=0) * thicker - (-t).clamp(min=0) * thinner


def stratified_normal(labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One standard-normal value per row, stratified within each label.

    The ``m`` rows of a label get one value from each of ``m`` slices of equal
    probability, in random order: marginally still standard normal, but a
    generator that picks one of a class's ``c`` exemplars through this value
    (:class:`WarpGenerator`) uses each of them ``m / c`` times when ``c`` divides
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


class ConvDiscriminator(nn.Module):
    """DCGAN discriminator with projection class conditioning.

    (B, channels, size, size) -> stride-2 convolutions with LeakyReLU down to
    (B, C, base, base) -> flatten -> one logit per image, plus the inner
    product of the features with a learned class embedding (projection).
    ``sn`` puts spectral normalisation on every layer; ``aux`` adds an
    auxiliary classifier over the same features (AC-GAN).
    """

    def __init__(
        self, n_classes: int, *, channels: int, size: int, width: int = 64, sn: bool = True, aux: bool = False
    ):
        super().__init__()
        base = _base_size(size)
        n_down = int(math.log2(size // base))
        layers, c_in, c = [], channels, width
        for _ in range(n_down):
            # (B, c_in, s, s) -> (B, c, s/2, s/2)
            layers += [_maybe_sn(nn.Conv2d(c_in, c, 4, 2, 1), sn), nn.LeakyReLU(0.2, True)]
            c_in, c = c, c * 2
        # (B, c_in, base, base) -> (B, c_in, base, base): one more look at the coarse map
        layers += [_maybe_sn(nn.Conv2d(c_in, c_in, 3, 1, 1), sn), nn.LeakyReLU(0.2, True)]
        self.net = nn.Sequential(*layers)
        feat = c_in * base * base
        self.out = _maybe_sn(nn.Linear(feat, 1), sn)
        self.embed = _maybe_sn(nn.Embedding(n_classes, feat), sn) if n_classes > 1 else None
        self.aux = nn.Linear(feat, n_classes) if aux and n_classes > 1 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_aux: bool = False):
        h = self.net(x).flatten(1)  # (B, feat)
        return _head(self, h, y, return_aux=return_aux)


class MLPGenerator(nn.Module):
    """Class-conditional MLP generator for flat feature vectors.

    [z, embed(y)] (B, 2*latent) -> two hidden layers -> (B, n_features);
    ``bounded=True`` ends in tanh (features scaled to [-1, 1]).
    """

    def __init__(self, n_classes: int, *, latent_dim: int, n_features: int, hidden: int = 256, bounded: bool = False):
        super().__init__()
        self.n_classes, self.latent_dim = n_classes, latent_dim
        self.embed = nn.Embedding(n_classes, latent_dim) if n_classes > 1 else None
        in_dim = latent_dim * (2 if self.embed is not None else 1)
        layers = [
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(True),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(True),
            nn.Linear(hidden, n_features),
        ]
        if bounded:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        return self.net(z)


class OffsetGenerator(_Exemplars, nn.Module):
    """Class-conditional generator that moves training rows of the requested class.

    ``z[:, 0]`` picks one stored row of class ``y`` (as
    :class:`WarpGenerator` picks an image); an MLP reads the row, the noise
    and the label and outputs an offset of at most ``max_offset`` per feature
    (features are standardised, so in standard deviations): the sample is the
    row, moved. The weights start near zero, so training starts from copies of
    the rows; the adversarial loss keeps the moves plausible for the class,
    the mode-seeking term (``diversity_weight``) makes them vary with the noise.

    Examples
    --------
    >>> import torch
    >>> gen = OffsetGenerator(n_classes=2, latent_dim=8, n_features=5)
    >>> x, y = torch.randn(6, 5), torch.tensor([0, 1, 0, 1, 0, 1])
    >>> out = gen.set_exemplars(x, y)(torch.randn(4, 8), torch.tensor([1, 1, 0, 0]))
    >>> tuple(out.shape), gen.exemplars.shape[0]
    ((4, 5), 6)
    """

    def __init__(self, n_classes: int, *, latent_dim: int, n_features: int, hidden: int = 256, max_offset: float = 2.0):
        super().__init__()
        self.n_classes, self.latent_dim, self.max_offset = n_classes, latent_dim, float(max_offset)
        self.embed = nn.Embedding(n_classes, latent_dim)
        # (B, F + 2 * latent) -> (B, F) offset in [-max_offset, max_offset]
        self.net = nn.Sequential(
            nn.Linear(n_features + 2 * latent_dim, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, hidden),
            nn.ReLU(True),
            nn.Linear(hidden, n_features),
            nn.Tanh(),
        )
        self._init_exemplars(n_classes, (n_features,))

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        src = self._pick(z, y)
        return src + self.max_offset * self.net(torch.cat([src, z, self.embed(y)], dim=1))


class MLPDiscriminator(nn.Module):
    """MLP discriminator with projection conditioning: (B, n_features) -> (B,) logits.

    ``sn`` and ``aux`` as for :class:`ConvDiscriminator`.
    """

    def __init__(self, n_classes: int, *, n_features: int, hidden: int = 256, sn: bool = True, aux: bool = False):
        super().__init__()
        self.net = nn.Sequential(
            _maybe_sn(nn.Linear(n_features, hidden), sn),
            nn.LeakyReLU(0.2, True),
            _maybe_sn(nn.Linear(hidden, hidden), sn),
            nn.LeakyReLU(0.2, True),
        )
        self.out = _maybe_sn(nn.Linear(hidden, 1), sn)
        self.embed = _maybe_sn(nn.Embedding(n_classes, hidden), sn) if n_classes > 1 else None
        self.aux = nn.Linear(hidden, n_classes) if aux and n_classes > 1 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_aux: bool = False):
        return _head(self, self.net(x), y, return_aux=return_aux)


class PerClass(nn.Module):
    """One module per class behind the conditional ``forward(x, y)`` interface.

    Each row of the batch goes to the module of its class (which sees label 0):
    ``strategy="per_class"`` trains one unconditional GAN per class this way.
    """

    def __init__(self, modules: list[nn.Module]):
        super().__init__()
        self.per_class = nn.ModuleList(modules)
        self.n_classes = len(modules)
        self.latent_dim = getattr(modules[0], "latent_dim", None)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = None
        for k, module in enumerate(self.per_class):
            rows = (y == k).nonzero(as_tuple=True)[0]
            if rows.numel() == 0:
                continue
            part = module(x[rows], torch.zeros_like(y[rows]))
            if out is None:
                out = part.new_empty((x.shape[0],) + part.shape[1:])
            out[rows] = part
        if out is None:
            raise ValueError("PerClass got an empty batch")
        return out


def build_models(
    cfg, n_classes: int, sample_shape: tuple[int, ...], *, bounded: bool = True, per_class: bool = False
) -> tuple[nn.Module, nn.Module]:
    """Build the (generator, discriminator) pair for data of ``sample_shape``.

    ``sample_shape`` is ``(C, H, W)`` for images or ``(F,)`` for features.
    ``per_class=True`` builds one unconditional pair per class, wrapped in
    :class:`PerClass`.
    """
    cfg = cfg.resolve(images=len(sample_shape) == 3, per_class=per_class, n_classes=n_classes)
    if per_class:
        if cfg.architecture in EXEMPLAR_ARCHITECTURES:
            raise ValueError(
                f"architecture={cfg.architecture!r} is class-conditional; it does not combine with strategy='per_class'"
            )
        pairs = [build_models(cfg, 1, sample_shape, bounded=bounded) for _ in range(n_classes)]
        return PerClass([g for g, _ in pairs]), PerClass([d for _, d in pairs])
    arch = cfg.architecture
    if arch in IMAGE_ARCHITECTURES:
        if len(sample_shape) != 3:
            raise ValueError(f"architecture={arch!r} needs images (C, H, W); got samples of shape {sample_shape}")
        c, h, w = sample_shape
        if c not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels; got {c}")
        if h != w:
            raise ValueError(f"images must be square; got {h}x{w} (resize or pad them)")
        if arch == "warp":
            g = WarpGenerator(
                n_classes,
                latent_dim=cfg.latent_dim,
                channels=c,
                size=h,
                width=cfg.g_width,
                max_shift=cfg.warp_shift,
                stroke=cfg.warp_stroke,
            )
        else:
            g = ConvGenerator(
                n_classes, latent_dim=cfg.latent_dim, channels=c, size=h, width=cfg.g_width, upsample=cfg.g_upsample
            )
        d = ConvDiscriminator(
            n_classes, channels=c, size=h, width=cfg.d_width, sn=cfg.spectral_norm, aux=cfg.aux_weight > 0
        )
    else:
        n_features = int(math.prod(sample_shape))
        if arch == "offset":
            g = OffsetGenerator(
                n_classes,
                latent_dim=cfg.latent_dim,
                n_features=n_features,
                hidden=cfg.mlp_hidden,
                max_offset=cfg.offset_scale,
            )
        else:
            g = MLPGenerator(
                n_classes, latent_dim=cfg.latent_dim, n_features=n_features, hidden=cfg.mlp_hidden, bounded=bounded
            )
        d = MLPDiscriminator(
            n_classes, n_features=n_features, hidden=cfg.mlp_hidden, sn=cfg.spectral_norm, aux=cfg.aux_weight > 0
        )
    return g, d


@torch.no_grad()
def init_weights(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """DCGAN initialisation drawn from ``generator`` (no global RNG).

    Weights ~ N(0, 0.02), normalisation scales ~ N(1, 0.02), biases 0; the
    spectral-norm power-iteration vectors are set to the exact top singular
    vectors of the new weights.
    """
    for m in module.modules():
        weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else getattr(m, "weight", None)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.weight.normal_(1.0, 0.02, generator=generator)
            m.bias.zero_()
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            weight.normal_(0.0, 0.02, generator=generator)
            if getattr(m, "bias", None) is not None:
                m.bias.zero_()
        if hasattr(m, "parametrizations"):
            sn = m.parametrizations.weight[0]
            mat = weight.reshape(weight.shape[0], -1)
            u, _, vh = torch.linalg.svd(mat.float(), full_matrices=False)
            sn._u.copy_(u[:, 0])
            sn._v.copy_(vh[0])
    return module
