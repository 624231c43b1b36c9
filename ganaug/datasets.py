"""Torch Datasets in torchvision's contract: ``__getitem__ -> (img, target)``,
``__len__``, ``transform`` / ``target_transform`` and a useful repr."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset


class SyntheticDataset(Dataset):
    """A fixed pool of synthetic samples.

    Parameters
    ----------
    data : torch.Tensor
        Samples, ``(N, C, H, W)`` or ``(N, F)``.
    targets : sequence
        One label per sample (the original class values).
    transform, target_transform : callable, optional
        Applied to each sample / label on access.

    Examples
    --------
    >>> import torch
    >>> ds = SyntheticDataset(torch.zeros(4, 1, 28, 28), [0, 1, 0, 1])
    >>> img, target = ds[1]
    >>> img.shape, target, len(ds)
    (torch.Size([1, 28, 28]), 1, 4)
    """

    def __init__(
        self, data: torch.Tensor, targets, transform: Callable | None = None, target_transform: Callable | None = None
    ):
        if len(data) != len(targets):
            raise ValueError(f"got {len(data)} samples but {len(targets)} targets")
        self.data = data
        self.targets = list(np.asarray(targets).tolist())
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        classes = sorted(set(self.targets), key=str)
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Sample shape: {tuple(self.data.shape[1:])}, dtype {self.data.dtype}",
            f"    Classes: {classes[:10]}{' ...' if len(classes) > 10 else ''}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform}")
        return "\n".join(lines)


class MixedDataset(Dataset):
    """Real samples first, then synthetic ones, as one Dataset.

    Indices ``0 .. len(real) - 1`` are the real dataset's items (with its own
    transforms); the rest come from ``synthetic``. With
    ``return_is_synthetic=True`` items are ``(img, target, is_synthetic)`` so a
    training loop can weight synthetic samples differently.

    Examples
    --------
    >>> import torch
    >>> real = SyntheticDataset(torch.ones(3, 2), [0, 1, 1])
    >>> fake = SyntheticDataset(torch.zeros(2, 2), [0, 0])
    >>> mixed = MixedDataset(real, fake, return_is_synthetic=True)
    >>> len(mixed), mixed[0][2], mixed[4][2]
    (5, False, True)
    """

    def __init__(self, real: Dataset, synthetic: Dataset, return_is_synthetic: bool = False):
        self.real = real
        self.synthetic = synthetic
        self.return_is_synthetic = return_is_synthetic

    @property
    def n_real(self) -> int:
        return len(self.real)

    def __len__(self) -> int:
        return len(self.real) + len(self.synthetic)

    def __getitem__(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        is_synthetic = index >= len(self.real)
        item = self.synthetic[index - len(self.real)] if is_synthetic else self.real[index]
        img, target = item[0], item[1]
        if self.return_is_synthetic:
            return img, target, is_synthetic
        return img, target

    def __repr__(self) -> str:
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)} "
            f"({len(self.real)} real + {len(self.synthetic)} synthetic)\n"
            f"    Real: {type(self.real).__name__}\n    Return is_synthetic: {self.return_is_synthetic}"
        )
