"""ganaug: GAN-based data augmentation with an honest measurement of whether it helped."""

__version__ = "0.1.0"

from .augmenter import SyntheticAugmenter  # noqa: E402
from .config import GANConfig  # noqa: E402
from .datasets import MixedDataset, SyntheticDataset  # noqa: E402
from .sklearn import GANOverSampler  # noqa: E402

__all__ = ["GANConfig", "GANOverSampler", "MixedDataset", "SyntheticAugmenter", "SyntheticDataset", "__version__"]
