"""ganaug.io: loading data sets."""

import numpy as np
import pytest


def test_digits_loader_pads_or_fills_the_frame_with_the_same_split():
    from ganaug.io import load_digits_28

    (pad, y_pad), (pad_te, _) = load_digits_28(mode="pad")
    (big, y_big), (big_te, _) = load_digits_28(mode="resize")
    assert pad.shape == big.shape == (898, 1, 28, 28) and len(pad_te) == len(big_te) == 899
    assert np.array_equal(y_pad, y_big)  # the split does not depend on the mode
    assert pad[:, :, :10].max() == 0 and pad[:, :, 18:].max() == 0  # an 8x8 digit in a zero frame
    assert big[:, :, :10].max() > 0 and big[:, :, 18:].max() > 0  # the digit fills the 28x28 frame
    with pytest.raises(ValueError, match="mode must be 'pad' or 'resize'"):
        load_digits_28(mode="crop")
