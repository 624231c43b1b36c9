"""ganaug.resolution: where the image networks work, what they refuse, and images kept at their own size."""

import pytest
import torch

from ganaug.resolution import (
    MAX_IMAGE_SIDE,
    WORK_SIDE,
    check_image_size,
    compact,
    expand,
    grid,
    samples_at_native_size,
    working_shape,
)


@pytest.mark.parametrize("side", [28, 32, 64])
def test_the_square_sizes_train_where_they_always_have(side):
    for architecture in ("warp", "dcgan"):
        assert working_shape(side, side, architecture=architecture) == (side, side)
        assert not samples_at_native_size(side, side, architecture=architecture)
    assert working_shape(8, 8, architecture="warp") == (28, 28)  # small squares train enlarged, as before
    assert working_shape(48, 48, architecture="warp") == (64, 64)


@pytest.mark.parametrize("height, width", [(96, 128), (224, 224), (512, 100), (20, 300), (40, 30), (28, 20)])
def test_the_warp_networks_work_small_with_the_aspect_kept(height, width):
    h, w = working_shape(height, width, architecture="warp")
    grid((h, w))  # a shape the networks build at
    assert max(h, w) <= WORK_SIDE
    aspect = (h / w) / (height / width)
    # roughly the aspect: a side is a whole number of 4 px cells, and at least one (20 x 300 works at 4 x 32)
    assert 0.6 < aspect < 1.7 or min(h, w) == 4
    if max(height, width) > WORK_SIDE:
        assert samples_at_native_size(height, width, architecture="warp")


def test_the_dcgan_works_at_the_images_own_size_up_to_128_px():
    assert working_shape(96, 128, architecture="dcgan") == (96, 128)
    assert working_shape(128, 32, architecture="dcgan") == (128, 32)
    assert not samples_at_native_size(96, 128, architecture="dcgan")
    with pytest.raises(ValueError, match="architecture='warp'.*Resize\\(128\\)"):
        working_shape(96, 160, architecture="dcgan")


@pytest.mark.parametrize(
    "height, width, message",
    [(4, 28, "too small.*flat features"), (28, MAX_IMAGE_SIDE + 1, "over the 512 px.*Resize")],
)
def test_sizes_outside_8_to_512_px_are_refused_with_what_to_do(height, width, message):
    with pytest.raises(ValueError, match=message):
        check_image_size(height, width, architecture="warp")


def test_uint8_images_are_kept_as_they_are_and_read_back_exactly():
    x = torch.randint(0, 256, (5, 3, 12, 10), generator=torch.Generator().manual_seed(0)).to(torch.uint8)
    low, high = torch.tensor([3.0, 0.0, 10.0]), torch.tensor([250.0, 255.0, 200.0])
    codes, book = compact(x.float(), low, high, dtype="uint8")
    assert codes.dtype == torch.uint8 and torch.equal(codes, x)
    back = (expand(codes, book) + 1) / 2 * (high - low).view(1, 3, 1, 1) + low.view(1, 3, 1, 1)
    assert torch.allclose(back, x.float(), atol=1e-4)


def test_normalised_floats_quantise_without_loss():
    """ToDtype(scale=True) then Normalize: at most 256 values a channel, kept as one byte each."""
    pixels = torch.randint(0, 256, (6, 3, 16, 20), generator=torch.Generator().manual_seed(1))
    mean, std = (
        torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1),
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1),
    )
    x = (pixels / 255.0 - mean) / std
    low, high = x.amin((0, 2, 3)), x.amax((0, 2, 3))
    codes, book = compact(x, low, high, dtype="float32")
    assert codes.dtype == torch.uint8 and book.shape == (3, 256)
    scaled = (x - low.view(1, 3, 1, 1)) / (high - low).view(1, 3, 1, 1) * 2 - 1
    assert torch.allclose(expand(codes, book), scaled, atol=1e-6)


def test_floats_with_more_than_256_values_a_channel_stay_floats():
    x = torch.rand(4, 1, 30, 30, generator=torch.Generator().manual_seed(2))
    codes, book = compact(x, torch.tensor([0.0]), torch.tensor([1.0]), dtype="float32")
    assert codes.dtype == torch.float32 and book.numel() == 0
    assert torch.allclose(expand(codes, book), x * 2 - 1)
