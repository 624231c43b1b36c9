"""ganaug.scaling: the value space the GAN trains in, and large image sets scaled without extra copies."""

import pytest
import torch

import ganaug._validation
from ganaug import scaling
from ganaug._validation import _all_finite, to_float_tensor


@pytest.mark.parametrize("shape, size", [((12, 3, 30, 40), (9, 12)), ((12, 1, 8, 8), (28, 28))])
def test_images_scaled_a_slice_at_a_time_equal_the_whole_scaled_and_resized(shape, size, monkeypatch):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0)) * 255
    lo, hi, whole, _, _ = scaling.fit_value_space(x, images=True)
    expected = scaling.resize_images(whole, size)  # area averages when shrinking, bilinear when enlarging
    monkeypatch.setattr(ganaug._validation, "SLICE_VALUES", x[0].numel() * 5)  # slices of 5 images: 5, 5 and 2
    _, _, sliced, _, _ = scaling.fit_value_space(x, images=True, size=size)
    assert torch.equal(sliced, expected)


def test_the_finite_check_reads_every_slice(monkeypatch):
    monkeypatch.setattr(ganaug._validation, "SLICE_VALUES", 8)  # slices of two rows of 4
    x = torch.zeros(10, 4)
    x[9, 3] = float("nan")  # in the last slice of two rows
    assert not _all_finite(x) and _all_finite(x[:9])
    with pytest.raises(ValueError, match="NaN or infinite values in 1 sample"):
        to_float_tensor(x.double())
    assert to_float_tensor(torch.arange(6, dtype=torch.uint8)).dtype == torch.float32  # integers: always finite
