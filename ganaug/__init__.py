"""ganaug: GAN-based data augmentation with an honest measurement of whether it helped."""

__version__ = "0.1.0"

from .augmenter import SyntheticAugmenter  # noqa: E402
from .config import GANConfig  # noqa: E402
from .datasets import MixedDataset, SyntheticDataset  # noqa: E402
from .evaluation import (  # noqa: E402
    AugmentationReport,
    SyntheticFilter,
    check_leakage,
    compare_augmentation,
    distribution_metrics,
    filter_synthetic,
    fit_classifier,
    memorisation,
    paired_summary,
    save_grid,
)
from .sklearn import GANOverSampler  # noqa: E402

__all__ = [
    "AugmentationReport",
    "GANConfig",
    "GANOverSampler",
    "MixedDataset",
    "SyntheticAugmenter",
    "SyntheticDataset",
    "SyntheticFilter",
    "__version__",
    "check_leakage",
    "compare_augmentation",
    "distribution_metrics",
    "filter_synthetic",
    "fit_classifier",
    "memorisation",
    "paired_summary",
    "save_grid",
]
