"""Did the synthetic data help? Paired comparisons of classifiers trained with and
without GAN augmentation (:func:`compare_augmentation`, :class:`AugmentationReport`), of
GAN balancing against other samplers on imbalanced data (:func:`compare_resampling`),
the leak guard, fidelity metrics against the real-data floor, memorisation checks
and quality gating of samples.

Every public name is imported from here: ``from ganaug.evaluation import compare_augmentation``.
"""

from ..classical import AffineElastic, CropJitter
from ..classifier import DefaultClassifier, fit_classifier, weighted_cross_entropy
from .compare import compare_augmentation
from .fidelity import distribution_metrics, memorisation
from .filtering import SyntheticFilter, filter_synthetic
from .leakage import check_leakage
from .report import AugmentationReport, arm_name
from .resampling import compare_resampling
from .stats import paired_difference, paired_summary

__all__ = [
    "AffineElastic",
    "CropJitter",
    "AugmentationReport",
    "DefaultClassifier",
    "SyntheticFilter",
    "arm_name",
    "check_leakage",
    "compare_augmentation",
    "compare_resampling",
    "distribution_metrics",
    "filter_synthetic",
    "fit_classifier",
    "memorisation",
    "paired_difference",
    "paired_summary",
    "weighted_cross_entropy",
]
