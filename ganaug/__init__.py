"""ganaug: GAN-based data augmentation with an honest measurement of whether it helped.

``SyntheticAugmenter`` fits a class-conditional GAN and mixes its samples into a
DataLoader; ``GANOverSampler`` does it inside imbalanced-learn pipelines;
``GANConfig`` holds every GAN hyperparameter; :mod:`ganaug.evaluation` measures
what the samples did to a classifier.
"""

__version__ = "0.2.0.dev0"

from .augmenter import SyntheticAugmenter  # noqa: E402
from .config import GANConfig  # noqa: E402
from .datasets import MixedDataset, SyntheticDataset  # noqa: E402
from .images import save_grid  # noqa: E402
from .oversampling import GANOverSampler  # noqa: E402

__all__ = [
    "GANConfig",
    "GANOverSampler",
    "MixedDataset",
    "SyntheticAugmenter",
    "SyntheticDataset",
    "__version__",
    "save_grid",
]
