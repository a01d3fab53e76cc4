"""Drawings and photos made into the network's 8 x 8 input, as the data was made."""

import numpy as np
import pytest

from core.data import load_digits
from core.net_input import InkError, digit_from_ink, ink_from_gray


def test_a_bar_fills_the_height_keeps_its_aspect_and_is_centred():
    ink = np.zeros((40, 40))
    ink[5:35, 15:25] = 1.0
    p = digit_from_ink(ink)
    assert p.box == (5, 15, 35, 25)
    assert p.placed == pytest.approx((0.0, 8 / 3, 8.0, 8 / 3))
    np.testing.assert_array_equal(p.pixels, np.tile([0, 0, 5, 16, 16, 5, 0, 0], (8, 1)))
    assert p.pixels.dtype == np.uint8


def test_a_wide_stroke_fills_the_width_and_is_centred_vertically():
    ink = np.zeros((10, 50))
    ink[4:6, 5:45] = 0.7  # 2 x 40: 8 columns wide, 0.4 of a row high
    p = digit_from_ink(ink)
    assert p.placed == pytest.approx((3.8, 0.0, 0.4, 8.0))
    np.testing.assert_array_equal(p.pixels[3], [16] * 8)  # rows 3 and 4 hold half of it each
    np.testing.assert_array_equal(p.pixels[4], [16] * 8)
    assert p.pixels[[0, 1, 2, 5, 6, 7]].sum() == 0


def _area_loop(crop, y0, x0, step):
    """Twin of the area resampling: supersample each output cell on a fine grid."""
    fine = 64
    out = np.zeros((8, 8))
    for r in range(8):
        for c in range(8):
            for a in range(fine):
                for b in range(fine):
                    y, x = r + (a + 0.5) / fine, c + (b + 0.5) / fine
                    i, j = int(np.floor((y - y0) / step)), int(np.floor((x - x0) / step))
                    if 0 <= i < crop.shape[0] and 0 <= j < crop.shape[1] and (y - y0) >= 0 \
                            and (x - x0) >= 0:
                        out[r, c] += crop[i, j] / fine**2
    return out


def test_area_resampling_matches_supersampling(rng):
    ink = rng.random((12, 7)) ** 3
    p = digit_from_ink(ink, threshold=0.0)
    y0, x0, height, _ = p.placed
    want = _area_loop(ink / ink.max(), y0, x0, height / 12)
    np.testing.assert_allclose(p.pixels, np.rint(want * 16 / want.max()), atol=1)


def test_an_upscaled_data_digit_comes_back():
    """A data digit drawn 4x larger comes back unchanged when it reaches 16 and its columns
    are centred in the 8 (the preprocessing centres the box)."""
    checked = 0
    for image in load_digits().images[:300]:
        cols = np.flatnonzero(image.any(axis=0))
        if image.max() < 16 or cols[0] != 7 - cols[-1]:
            continue
        big = np.kron(image / 16.0, np.ones((4, 4)))
        np.testing.assert_array_equal(digit_from_ink(big, threshold=0.0).pixels, image)
        checked += 1
    assert checked >= 20


def test_blank_and_bad_drawings_are_refused():
    with pytest.raises(InkError, match="blank"):
        digit_from_ink(np.zeros((5, 5)))
    with pytest.raises(InkError, match=r"2-D array .* shape is \(2, 2, 2\)"):
        digit_from_ink(np.ones((2, 2, 2)))
    with pytest.raises(InkError, match="NaN"):
        digit_from_ink(np.array([[1.0, np.nan]]))


@pytest.mark.parametrize("paper, stroke", [(1.0, 0.1), (0.05, 0.9)])
def test_ink_from_gray_finds_the_paper(paper, stroke):
    gray = np.full((20, 20), paper)
    gray[5:15, 8:12] = stroke
    ink = ink_from_gray(gray)
    assert ink.max() == 1.0 and ink[0, 0] == 0.0
    np.testing.assert_array_equal(ink[5:15, 8:12], 1.0)
    with pytest.raises(InkError, match="flat colour"):
        ink_from_gray(np.full((4, 4), paper))
