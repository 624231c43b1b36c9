"""ganaug.classical: classical transforms in the value space, AffineElastic and batch transforms."""

import warnings

import pytest
import torch
from conftest import TINY_GAN, _brighter_top_half

from ganaug import SyntheticAugmenter
from ganaug.classical import ClassicalTransform
from ganaug.evaluation import compare_augmentation

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def test_classical_transform_sees_unit_range_and_returns_value_space():
    A = pytest.importorskip("albumentations")
    from torchvision.transforms import v2

    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4) * 8  # channel ranges 0..120 and 128..248
    low, high = torch.tensor([0.0, 128.0]), torch.tensor([120.0, 248.0])
    seen = []
    spy = ClassicalTransform(lambda u: seen.append(u) or u, low, high, seed=0)
    assert torch.allclose(spy(x), x)
    assert float(seen[0].min()) == 0.0 and float(seen[0].max()) == 1.0
    flipped = x.flip(-1)
    assert torch.allclose(ClassicalTransform(v2.RandomHorizontalFlip(p=1.0), low, high, seed=0)(x), flipped)
    assert torch.allclose(ClassicalTransform(A.HorizontalFlip(p=1.0), low, high, seed=0)(x), flipped, atol=1e-4)
    with pytest.raises(ValueError, match="changed the sample shape"):
        ClassicalTransform(lambda u: u[:, :2], low, high, seed=0)(x)
    with pytest.raises(ValueError, match=r"from \(2, 4, 4\) to \(2, 2, 2\)"):
        ClassicalTransform(A.CenterCrop(2, 2, p=1.0), low, high, seed=0)(x)
    grey = ClassicalTransform(A.HorizontalFlip(p=1.0), low[:1], high[:1], seed=0)(x[0])  # (H, W) in, (H, W) out
    assert grey.shape == (4, 4) and torch.allclose(grey, x[0].flip(-1), atol=1e-4)


def test_affine_elastic_draws_its_parameters_per_image_from_the_generator():
    from ganaug.evaluation import AffineElastic

    x = torch.zeros(8, 1, 28, 28)
    x[:, :, 8:20, 11:17] = 255.0  # eight copies of one bar
    lo, hi = torch.tensor([0.0]), torch.tensor([255.0])
    tf = AffineElastic(elastic_p=0.5)
    out = tf(x, lo, hi, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    flat = out.flatten(1)
    assert (torch.cdist(flat, flat) + torch.eye(8) * 1e9).min() > 1.0  # every copy moved its own way
    assert torch.equal(out, tf(x, lo, hi, torch.Generator().manual_seed(0)))  # the generator is all the randomness
    assert not torch.equal(out, tf(x, lo, hi, torch.Generator().manual_seed(1)))
    still = AffineElastic(rotate=0.0, scale=0.0, shear=0.0, translate=0.0, elastic_p=0.0)
    assert torch.allclose(still(x, lo, hi, torch.Generator().manual_seed(0)), x, atol=1e-3)  # no range: no change
    # the grey (N, H, W) layout and the colour one, each channel in its own range
    from ganaug.classical import BatchAugment

    assert BatchAugment(tf, lo, hi, seed=0)(x[:, 0]).shape == (8, 28, 28)
    rgb = torch.rand(4, 3, 32, 32) * torch.tensor([1.0, 10.0, 100.0]).view(1, 3, 1, 1)
    out = tf(rgb, torch.zeros(3), torch.tensor([1.0, 10.0, 100.0]), torch.Generator().manual_seed(0))
    assert all(out[:, c].max() <= [1.0, 10.0, 100.0][c] + 1e-4 for c in range(3))


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 9, 9), (1, 8, 20), (1, 1, 16)])
def test_affine_elastic_bends_images_smaller_than_its_blur(shape):
    # sklearn's digits are 8 x 8: the elastic field's blur (3 sigma, 9 px) reaches past their edges
    from ganaug.evaluation import AffineElastic

    x = torch.rand(6, *shape)
    out = AffineElastic(elastic_p=1.0)(x, torch.zeros(shape[0]), torch.ones(shape[0]), torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 and not torch.equal(out, x)


def test_a_batch_transform_augments_whole_batches_and_the_synthetic_rows_only_when_asked():
    from sklearn.linear_model import LogisticRegression

    from ganaug.evaluation import AffineElastic

    class Spy(AffineElastic):
        def __call__(self, x, low, high, generator):
            rows.append(x.shape[0])
            return super().__call__(x, low, high, generator)

    train, test = _brighter_top_half(48, 0.5)
    kwargs = dict(
        ratios=(0.0, 1.0), classical=Spy(), seeds=(0,), n_steps=8, batch_size=16, verbose=0, include_cas=False
    )
    counts, reports = {}, {}
    for how in ("torch", "sklearn"):
        for flag in (True, False):
            rows = []
            extra = {"estimator": LogisticRegression(max_iter=20)} if how == "sklearn" else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                gan = SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2})
                reports[how, flag] = compare_augmentation(
                    train, test, gan, classical_on_synthetic=flag, **kwargs, **extra
                )
            counts[how, flag] = list(rows)
    # torch: one call per batch of 16 (8 steps each for classical and classical+gan), never one per sample
    assert counts["torch", True] == [16] * 16
    # classical+gan reads 8 batches of 16 from 32 real + 32 synthetic samples: 64 synthetic rows augmented or not
    assert sum(counts["torch", True]) - sum(counts["torch", False]) == 64
    # estimators: one call for the copy of the 32 real samples, and one for the 32 synthetic ones when asked
    assert counts["sklearn", True] == [32, 32, 32] and counts["sklearn", False] == [32, 32]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        rows = []
        again = compare_augmentation(train, test, SyntheticAugmenter(**{**TINY_GAN, "n_steps": 2}), **kwargs)
    assert again.rows == reports["torch", True].rows  # seeded: the same transform draws on every run


@pytest.mark.cuda
def test_affine_elastic_runs_on_the_cuda_device_it_is_given():
    from ganaug.evaluation import AffineElastic

    x = torch.zeros(64, 1, 28, 28, device="cuda")
    x[:, :, 8:20, 11:17] = 1.0
    gen = torch.Generator(device="cuda").manual_seed(0)
    out = AffineElastic()(x, torch.tensor([0.0]), torch.tensor([1.0]), gen)
    assert out.is_cuda and out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    again = AffineElastic()(x, torch.tensor([0.0]), torch.tensor([1.0]), torch.Generator(device="cuda").manual_seed(0))
    assert torch.equal(out, again)


def test_crop_jitter_crops_and_jitters_each_image_its_own_way_and_keeps_the_range():
    from ganaug.classical import CropJitter

    x = torch.rand(16, 3, 24, 40, generator=torch.Generator().manual_seed(0)) * 200 + 20
    low, high = torch.full((3,), 20.0), torch.full((3,), 220.0)
    out = CropJitter()(x, low, high, torch.Generator().manual_seed(1))
    assert out.shape == x.shape and bool(out.min() >= 20) and bool(out.max() <= 220)
    changed = (out - x).abs().flatten(1).mean(1)
    assert bool((changed > 1).all()) and changed.std() > 0.1  # every image moved, each by its own amount
    again = CropJitter()(x, low, high, torch.Generator().manual_seed(1))
    assert torch.equal(out, again)  # the generator given is the only randomness


def test_crop_jitter_flips_only_when_asked():
    from ganaug.classical import CropJitter

    x = torch.zeros(64, 1, 8, 8)
    x[:, :, :, :4] = 1.0  # bright left half
    plain = dict(scale=(1.0, 1.0), ratio=(1.0, 1.0), brightness=0, contrast=0, saturation=0)
    low, high = torch.zeros(1), torch.ones(1)
    kept = CropJitter(**plain)(x, low, high, torch.Generator().manual_seed(0))
    assert torch.allclose(kept, x, atol=1e-5)
    flipped = CropJitter(**plain, hflip=True)(x, low, high, torch.Generator().manual_seed(0))
    right_bright = flipped[:, 0, :, 4:].mean((1, 2)) > 0.5
    assert 10 < int(right_bright.sum()) < 54  # about half mirrored


def test_the_classical_transform_suits_the_images():
    from ganaug.classical import AffineElastic, CropJitter, classical_for, is_batched

    assert isinstance(classical_for((3, 96, 128)), CropJitter) and isinstance(classical_for((1, 28, 28)), AffineElastic)
    assert is_batched(CropJitter())
