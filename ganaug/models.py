"""Generator and discriminator modules. ``nn.Module`` only: no I/O, no training.

Image models take 1 or 3 channels and work at any ``(H, W)`` that
:func:`ganaug.resolution.grid` accepts (a coarse grid doubled ``n`` times;
:func:`ganaug.resolution.working_shape` picks one for images of any size). The
MLP pair serves flat feature vectors (tabular data, flattened images).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm as _sn

from .config import EXEMPLAR_ARCHITECTURES, IMAGE_ARCHITECTURES, UPSAMPLING
from .resolution import MAX_WIDTH_FACTOR, expand, grid


def _channels(width: int, level: int) -> int:
    """Channels of a network's feature maps ``level + 1`` halvings below the image: doubling, up to a cap."""
    return width * min(2**level, MAX_WIDTH_FACTOR)


def _hw(size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


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


def _grad_in_layout(h: torch.Tensor) -> torch.Tensor:
    """``h`` unchanged; its gradient is handed back in ``h``'s memory layout.

    A channels-last map flattened for a dense layer gets its gradient back as a
    plain (contiguous) tensor; the LeakyReLU and convolution backward passes
    below it then mix two layouts, which on the CPU is many times slower than
    either layout alone. Values are unchanged.
    """
    if (
        h.requires_grad
        and h.dim() == 4
        and not h.is_contiguous()
        and h.is_contiguous(memory_format=torch.channels_last)
    ):
        h.register_hook(lambda g: g.contiguous(memory_format=torch.channels_last))
    return h


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
    mapped by a dense layer to a (B, C0, base_h, base_w) map and upsampled by
    stride-2 transposed convolutions (``upsample="nearest"``: nearest-neighbour
    doubling and a 3x3 convolution) to (B, channels, H, W) in [-1, 1]; ``size``
    is ``H`` for a square or ``(H, W)``. With ``n_classes == 1`` the generator
    is unconditional.
    """

    def __init__(
        self,
        n_classes: int,
        *,
        latent_dim: int,
        channels: int,
        size: int | tuple[int, int],
        width: int = 64,
        upsample: str = "transposed",
    ):
        super().__init__()
        n_up, bh, bw = grid(size)
        c0 = _channels(width, n_up - 1)
        self.n_classes, self.latent_dim, self.base, self.c0 = n_classes, latent_dim, (bh, bw), c0
        self.embed = nn.Embedding(n_classes, latent_dim) if n_classes > 1 else None
        in_dim = latent_dim * (2 if self.embed is not None else 1)
        # (B, in_dim) -> (B, c0 * base_h * base_w)
        self.fc = nn.Sequential(
            nn.Linear(in_dim, c0 * bh * bw, bias=False), nn.BatchNorm1d(c0 * bh * bw), nn.ReLU(True)
        )
        blocks = []
        for level in range(n_up - 1, 0, -1):
            # (B, c, h, w) -> (B, c', 2h, 2w), c' = c / 2 below the cap
            c, c_next = _channels(width, level), _channels(width, level - 1)
            blocks += [*_up(c, c_next, how=upsample, bias=False), nn.BatchNorm2d(c_next), nn.ReLU(True)]
        # (B, width, H/2, W/2) -> (B, channels, H, W)
        blocks += [*_up(width, channels, how=upsample, bias=True), nn.Tanh()]
        self.net = nn.Sequential(*blocks)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], dim=1)
        h = self.fc(z).view(z.shape[0], self.c0, *self.base)
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
    #: Buffers whose size is the fitted data's, not the constructor's: loading a state_dict takes theirs.
    _fitted_buffers = ("exemplars",)

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
        self.exemplars = x[order].to(self.class_start.device, torch.float32)  # indexing made a copy of its own
        self.class_count = counts.to(self.class_start.device)
        self.class_start = (torch.cumsum(counts, 0) - counts).to(self.class_start.device)
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in self._fitted_buffers:
            key = prefix + name
            if key in state_dict:
                self._put_buffer(name, torch.empty_like(state_dict[key], device=self.class_start.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _put_buffer(self, name: str, value: torch.Tensor) -> None:
        """Set buffer ``name``, registering it first if it is one set after training (the warp generator's
        native-size exemplars)."""
        if name in self._buffers:
            setattr(self, name, value)
        else:
            self.register_buffer(name, value)

    def _rows(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The row of :attr:`exemplars` that ``z[:, choice_dim]`` picks in class ``y``, one per row."""
        if self.exemplars.shape[0] == 0:
            raise RuntimeError(f"{type(self).__name__} has no exemplars: call set_exemplars(x, y) first")
        count = self.class_count[y]
        # ndtr is in [0, 1]: the pick is never below 0
        pick = (torch.special.ndtr(z[:, self.choice_dim].float()) * count).long().clamp(max=count - 1)
        return self.class_start[y] + pick

    def _pick(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The exemplar of class ``y`` that ``z[:, choice_dim]`` picks, one per row."""
        return self.exemplars[self._rows(z, y)].to(z.dtype)


class WarpGenerator(_Exemplars, nn.Module):
    """Class-conditional generator that deforms training images of the requested class.

    ``z[:, 0]`` picks one stored exemplar of class ``y`` (through the normal
    CDF, so a standard-normal ``z`` picks them uniformly); a small network
    reads the exemplar, the noise and the label and outputs a smooth
    displacement field on a coarse (``base_h`` x ``base_w``) grid, averaged
    down to ``field_grid`` x ``field_grid`` when that is given (1: one shift
    for the whole image), upsampled bilinearly and applied with
    ``grid_sample``: the sample is the exemplar, bent. ``resample="nearest"``
    reads each of its pixels from the nearest exemplar pixel (the gradient
    is bilinear's); ``"bilinear"`` blends the four around it. With ``stroke > 0`` a
    second head outputs a coarse map ``t`` in ``[-stroke, stroke]`` and each
    pixel of the bent image is moved the fraction ``t`` of the way to its 3x3
    dilation (``t > 0``: thicker strokes) or ``-t`` of the way to its 3x3
    erosion (``t < 0``: thinner ones), a kind of variation that affine and
    elastic augmentation lack. The adversarial loss keeps the deformations
    plausible, the mode-seeking term (``diversity_weight``) makes them vary
    with the noise.
    Exemplars live in buffers (:meth:`set_exemplars`), so they travel with
    ``state_dict`` and with saved models.

    The networks work at ``size`` (``H`` for a square or ``(H, W)``). Images
    larger than that are stored at their own size too (:meth:`set_native`):
    :meth:`native` reads the working-size exemplar, as training did, and applies
    the field (and stroke map), upsampled, to the full-size one.

    Examples
    --------
    >>> import torch
    >>> gen = WarpGenerator(n_classes=2, latent_dim=8, channels=1, size=28)
    >>> x, y = torch.rand(6, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 0, 1, 0, 1])
    >>> out = gen.set_exemplars(x, y)(torch.randn(4, 8), torch.tensor([1, 1, 0, 0]))
    >>> tuple(out.shape), gen.exemplars.shape[0]
    ((4, 1, 28, 28), 6)
    """

    static_buffers = (*_Exemplars.static_buffers, "native_codes", "native_book", "deformation_reach")
    _fitted_buffers = ("exemplars", "native_codes", "native_book", "deformation_reach")

    def __init__(
        self,
        n_classes: int,
        *,
        latent_dim: int,
        channels: int,
        size: int | tuple[int, int],
        width: int = 32,
        max_shift: float = 0.125,
        stroke: float = 0.0,
        field_grid: int | None = None,
        resample: str = "nearest",
    ):
        super().__init__()
        self.resample = resample
        n_down, bh, bw = grid(size)
        # the displacement field's own grid, or a coarser one it is averaged down to (more rigid bends)
        self.field_grid = (bh, bw) if field_grid is None else (min(field_grid, bh), min(field_grid, bw))
        self.n_classes, self.latent_dim, self.base = n_classes, latent_dim, (bh, bw)
        self.max_shift = 2 * max_shift  # grid_sample coordinates span 2 per image size
        self.trained_max_shift = self.max_shift
        self.embed = nn.Embedding(n_classes, latent_dim)
        c = _channels(width, n_down - 1)
        self.c = c
        # (B, 2 * latent) -> (B, c, base_h, base_w)
        self.fc = nn.Sequential(nn.Linear(2 * latent_dim, c * bh * bw), nn.ReLU(True))
        enc, c_in = [], channels
        for level in range(n_down):
            # (B, c_in, h, w) -> (B, c_out, h/2, w/2)
            enc += [nn.Conv2d(c_in, _channels(width, level), 4, 2, 1), nn.LeakyReLU(0.2, True)]
            c_in = _channels(width, level)
        self.enc = nn.Sequential(*enc)  # exemplar -> (B, c, base_h, base_w)
        # (B, 2c, bh, bw) -> (B, 2, bh, bw) displacement, at most max_shift of the image size
        self.flow = self._map_head(c, 2)
        self.stroke = float(stroke)
        # (B, 2c, bh, bw) -> (B, 1, bh, bw) stroke change in [-1, 1], scaled by stroke (absent at 0: the
        # state_dict of a model without it is unchanged)
        self.thickness = self._map_head(c, 1) if self.stroke > 0 else None
        self._init_exemplars(n_classes, (channels, *_hw(size)))

    @staticmethod
    def _map_head(c: int, n_out: int) -> nn.Sequential:
        """(B, 2c, bh, bw) -> (B, n_out, bh, bw) in [-1, 1]: a coarse map read from exemplar and noise."""
        return nn.Sequential(nn.Conv2d(2 * c, c, 3, 1, 1), nn.ReLU(True), nn.Conv2d(c, n_out, 3, 1, 1), nn.Tanh())

    @torch.no_grad()
    def set_native(self, codes: torch.Tensor, y: torch.Tensor, book: torch.Tensor):
        """Keep the training images at their own size, as :func:`ganaug.resolution.compact` gives them.

        ``y`` are the class indices given to :meth:`set_exemplars` (the rows are stored in the same
        order). Returns ``self``.
        """
        order = torch.argsort(torch.as_tensor(y, dtype=torch.long), stable=True)
        if codes.shape[0] != self.exemplars.shape[0] or codes.shape[1] != self.exemplars.shape[1]:
            raise ValueError(
                f"native images {tuple(codes.shape)} do not match the exemplars {tuple(self.exemplars.shape)}"
            )
        in_order = torch.equal(order, torch.arange(len(order)))  # already sorted by class (an ImageFolder's): no copy
        self._put_buffer("native_codes", (codes if in_order else codes[order]).to(self.class_start.device))
        self._put_buffer("native_book", book.to(self.class_start.device))
        return self

    @torch.no_grad()
    def set_reach(self, reach: float):
        """Bend ``reach`` times as far as the generator was trained to (kept in the ``state_dict``); returns ``self``."""
        self._put_buffer("deformation_reach", torch.tensor(float(reach), device=self.class_start.device))
        self.max_shift = self.trained_max_shift * float(reach)
        return self

    @property
    def reach(self) -> float:
        """The deformation reach as a fraction of the trained one (1.0 unless :meth:`set_reach` was called)."""
        return float(self._buffers["deformation_reach"]) if "deformation_reach" in self._buffers else 1.0

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + "deformation_reach" in state_dict:
            self.max_shift = self.trained_max_shift * self.reach

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        src = self._pick(z, y)
        return self._bend(src, src, z, y)

    @property
    def draws_native(self) -> bool:
        """Whether :meth:`set_native` stored the training images at their own size."""
        return "native_codes" in self._buffers

    def native(self, z: torch.Tensor, y: torch.Tensor, *, decode: bool = True) -> torch.Tensor:
        """Samples at the training images' own size (:meth:`forward` where none were stored).

        ``decode=False`` bends the stored codes themselves and returns them in code units: where
        :func:`ganaug.resolution.code_map` gives a map, applying it afterwards gives the samples (bending
        commutes with it), one multiply-add instead of two (uint8 images: none).
        """
        if not self.draws_native:
            return self(z, y)
        rows = self._rows(z, y)
        src = self.exemplars[rows].to(z.dtype)
        codes = self.native_codes[rows]
        target = expand(codes, self.native_book, z.dtype) if decode else codes.to(z.dtype)
        return self._bend(src, target, z, y, identity=_identity_grid(*target.shape[-2:], like=target))

    def field(self, h: torch.Tensor, *, size) -> torch.Tensor:
        """The displacement field read from ``h`` (:meth:`features`), on ``field_grid`` and spread bilinearly to
        ``size``: ``(B, 2, H, W)``, in grid_sample units."""
        shift = self.flow(h) * self.max_shift  # (B, 2, base_h, base_w)
        if self.field_grid != tuple(shift.shape[-2:]):
            shift = F.adaptive_avg_pool2d(shift, self.field_grid)
        return F.interpolate(shift, size=size, mode="bilinear", align_corners=False)

    def features(self, src: torch.Tensor, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """What the field's and the stroke map's heads read: the exemplars ``src``, encoded, beside the noise and
        label, ``(B, 2c, base_h, base_w)``."""
        code = self.fc(torch.cat([z, self.embed(y)], dim=1)).view(z.shape[0], self.c, *self.base)
        return torch.cat([self.enc(src), code], dim=1)

    def _bend(self, src, target, z, y, identity: torch.Tensor | None = None) -> torch.Tensor:
        """``target`` bent by the field (and stroke map) the networks read from ``src``, noise and label
        (``identity``: the target's unbent sampling grid, ``(1, H, W, 2)``, when it is at hand)."""
        h = self.features(src, z, y)
        shift = self.field(h, size=target.shape[-2:])
        if identity is None:
            theta = torch.eye(2, 3, device=z.device, dtype=shift.dtype).expand(z.shape[0], 2, 3)
            identity = F.affine_grid(theta, list(target.shape), align_corners=False)
        grid_ = identity + shift.permute(0, 2, 3, 1)
        grid_ = grid_.to(target.dtype)

        def read(mode: str) -> torch.Tensor:
            return F.grid_sample(target, grid_, mode=mode, padding_mode="border", align_corners=False)

        if self.resample == "bilinear":
            out = read("bilinear")
        elif grid_.requires_grad:  # training: the nearest pixel's value, the bilinear gradient (straight through)
            blend = read("bilinear")
            out = read("nearest") + (blend - blend.detach())
        else:  # sampling: the nearest pixel's value, with no gradient to carry
            out = read("nearest")
        if self.thickness is None:
            return out
        t = F.interpolate(
            self.thickness(h) * self.stroke, size=target.shape[-2:], mode="bilinear", align_corners=False
        ).to(out.dtype)
        # a 3x3 neighbourhood at the working size: proportionally wider on a larger target
        k = 2 * max(1, round(target.shape[-1] / src.shape[-1])) + 1
        thicker = F.max_pool2d(out, k, 1, k // 2) - out  # >= 0
        thinner = out + F.max_pool2d(-out, k, 1, k // 2)  # >= 0: out minus its erosion
        return out + t.clamp(min=0) * thicker - (-t).clamp(min=0) * thinner


def _identity_grid(height: int, width: int, *, like: torch.Tensor) -> torch.Tensor:
    """``(1, H, W, 2)`` sampling grid that leaves an image as it is (``affine_grid`` of the identity, without a
    matrix product per image)."""
    xs = (torch.arange(width, device=like.device, dtype=like.dtype) * 2 + 1) / width - 1
    ys = (torch.arange(height, device=like.device, dtype=like.dtype) * 2 + 1) / height - 1
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).unsqueeze(0)


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

    (B, channels, H, W) -> stride-2 convolutions with LeakyReLU down to
    (B, C, base_h, base_w) -> flatten -> one logit per image, plus the inner
    product of the features with a learned class embedding (projection).
    ``sn`` puts spectral normalisation on every layer; ``aux`` adds an
    auxiliary classifier over the same features (AC-GAN).
    """

    def __init__(
        self,
        n_classes: int,
        *,
        channels: int,
        size: int | tuple[int, int],
        width: int = 64,
        sn: bool = True,
        aux: bool = False,
    ):
        super().__init__()
        n_down, bh, bw = grid(size)
        layers, c_in = [], channels
        for level in range(n_down):
            # (B, c_in, h, w) -> (B, c, h/2, w/2)
            c = _channels(width, level)
            layers += [_maybe_sn(nn.Conv2d(c_in, c, 4, 2, 1), sn), nn.LeakyReLU(0.2, True)]
            c_in = c
        # (B, c_in, bh, bw) -> (B, c_in, bh, bw): one more look at the coarse map
        layers += [_maybe_sn(nn.Conv2d(c_in, c_in, 3, 1, 1), sn), nn.LeakyReLU(0.2, True)]
        self.net = nn.Sequential(*layers)
        feat = c_in * bh * bw
        self.out = _maybe_sn(nn.Linear(feat, 1), sn)
        self.embed = _maybe_sn(nn.Embedding(n_classes, feat), sn) if n_classes > 1 else None
        self.aux = nn.Linear(feat, n_classes) if aux and n_classes > 1 else None

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_aux: bool = False):
        h = _grad_in_layout(self.net(x)).flatten(1)  # (B, feat)
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
        if arch == "warp":
            g = WarpGenerator(
                n_classes,
                latent_dim=cfg.latent_dim,
                channels=c,
                size=(h, w),
                width=cfg.g_width,
                max_shift=cfg.warp_shift,
                stroke=cfg.warp_stroke,
                field_grid=cfg.warp_grid,
                resample=cfg.warp_resample,
            )
        else:
            g = ConvGenerator(
                n_classes,
                latent_dim=cfg.latent_dim,
                channels=c,
                size=(h, w),
                width=cfg.g_width,
                upsample=cfg.g_upsample,
            )
        d = ConvDiscriminator(
            n_classes, channels=c, size=(h, w), width=cfg.d_width, sn=cfg.spectral_norm, aux=cfg.aux_weight > 0
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
