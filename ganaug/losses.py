"""GAN losses and the pairing behind the mode-seeking term: tensors in, tensors out."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def d_loss_fn(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss from logits on real and fake inputs."""
    if loss in ("nonsaturating", "minimax"):
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if loss == "hinge":
        return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
    return fake.mean() - real.mean()  # wasserstein-gp; the penalty is added by the caller


def g_loss_fn(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """Generator loss from discriminator logits on fake inputs."""
    if loss == "nonsaturating":
        return F.softplus(-fake).mean()
    if loss == "minimax":
        return -F.softplus(fake).mean()
    return -fake.mean()


def gradient_penalty(
    d: nn.Module, real: torch.Tensor, fake: torch.Tensor, *, y: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """WGAN-GP penalty (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake."""
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = d(x_hat, y)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def paired_labels(labels: torch.Tensor) -> torch.Tensor:
    """Labels in which each odd row repeats the row before it: rows 2k and 2k + 1 share a class.

    Neighbouring rows, so that a data-parallel rank's even-sized slice of a
    global batch holds whole pairs and pairs exactly as one process would.

    Examples
    --------
    >>> import torch
    >>> paired_labels(torch.tensor([3, 1, 4, 1, 5])).tolist()
    [3, 3, 4, 4, 5]
    """
    out = labels.clone()
    out[1::2] = labels[0::2][: out[1::2].shape[0]]
    return out


def paired_choice(z: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Noise in which row 2k + 1 has row 2k's coordinate ``dim`` (the exemplar choice of a warp generator).

    Examples
    --------
    >>> import torch
    >>> paired_choice(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).tolist()
    [[1.0, 2.0], [1.0, 4.0], [5.0, 6.0]]
    """
    out = z.clone()
    out[1::2, dim] = z[0::2, dim][: out[1::2].shape[0]]
    return out


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mode-seeking term for fakes made from :func:`paired_labels` labels.

    1 / (mean |G(z1) - G(z2)| / mean |z1 - z2|) over the pairs (2k, 2k + 1):
    small when images move as much as their noise does.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0], [1.0]])
    >>> round(mode_seeking_loss(torch.tensor([[0.0], [2.0]]), z).item(), 3)  # images twice as far apart as the noise
    0.5
    """
    h = fake.shape[0] // 2
    if h == 0:
        return fake.new_zeros(())
    ratio = (fake[0 : 2 * h : 2] - fake[1 : 2 * h : 2]).abs().mean() / (
        z[0 : 2 * h : 2] - z[1 : 2 * h : 2]
    ).abs().mean()
    return 1.0 / (ratio + 1e-5)
