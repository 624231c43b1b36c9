"""ganaug: GAN-based data augmentation with an honest measurement of whether it helped.

``SyntheticAugmenter`` fits a class-conditional GAN and mixes its samples into a
DataLoader; ``GANOverSampler`` does it inside imbalanced-learn pipelines;
``GANConfig`` holds every GAN hyperparameter; :mod:`ganaug.evaluation` measures
what the samples did to a classifier.
"""

from ._version import __version__
from .augmenter import SyntheticAugmenter
from .config import GANConfig
from .datasets import MixedDataset, SyntheticDataset
from .images import save_grid
from .oversampling import GANOverSampler

__all__ = [
    "GANConfig",
    "GANOverSampler",
    "MixedDataset",
    "SyntheticAugmenter",
    "SyntheticDataset",
    "__version__",
    "save_grid",
]
