"""Drawings and photos made into the network's 8 x 8 input, as the data was made: read as
they are (digit_from_ink), or thinned and redrawn with the strokes' pen (digit_from_pixels)."""

import numpy as np
import pytest

from core.data import load_digits
from core.drawn import PAD, draw_digit
from core.net_input import (
    PEN_SHARE,
    InkError,
    digit_from_ink,
    digit_from_pixels,
    ink_from_gray,
    ink_from_strokes,
    redraw_ink,
    render_segments,
    segments_of,
)
from core.thinning import _thin_loop, depth, thin


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


# ---------------------------------------------------------------- drawings sent as pixels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("density", [0.3, 0.6, 0.85])
def test_thin_matches_its_loop_twin(seed, density):
    rng = np.random.default_rng(seed)
    mask = rng.random((17, 23)) < density
    np.testing.assert_array_equal(thin(mask), _thin_loop(mask))


def test_thin_by_hand():
    bar = np.zeros((5, 9), dtype=bool)
    bar[1:4, 1:8] = True  # 3 rows high, 7 columns long
    want = np.zeros_like(bar)
    want[2, 2:7] = True  # the middle row, half a width short of each end
    np.testing.assert_array_equal(thin(bar), want)
    square = np.zeros((4, 4), dtype=bool)
    square[1:3, 1:3] = True
    assert thin(square).sum() == 1  # a 2 x 2 dot stays a dot
    line = np.eye(6, dtype=bool)  # one pixel wide already: kept whole
    np.testing.assert_array_equal(thin(line), line)


def test_a_thick_ring_thins_to_a_closed_loop():
    y, x = np.mgrid[:60, :60] + 0.5
    r = np.hypot(y - 30, x - 30)
    skeleton = thin((r > 12) & (r < 24))
    assert (np.abs(r[skeleton] - 18) <= 1.5).all()  # along the ring's middle
    angles = np.degrees(np.arctan2(y[skeleton] - 30, x[skeleton] - 30))
    assert len(np.unique(np.floor(angles / 10))) == 36  # all the way round: no gap


def test_depth_by_hand():
    bar = np.zeros((7, 9), dtype=bool)
    bar[1:6, 1:8] = True  # 5 rows high
    np.testing.assert_array_equal(depth(bar)[:, 4], [0, 1, 2, 3, 2, 1, 0])
    assert depth(bar)[3, 1] == 1 and depth(np.zeros((3, 3)))[1, 1] == 0


def test_redrawing_a_thick_bar_by_hand():
    """The docstring's bar: 100 x 30, its centre line about 70 long, thinned to the pen."""
    ink = np.zeros((140, 80))
    ink[20:120, 25:55] = 1.0
    r = redraw_ink(ink)
    assert r.box == (20, 25, 120, 55)
    assert r.size == pytest.approx(70, abs=3)
    assert r.stroke == pytest.approx(30, abs=2)
    rows = np.flatnonzero(r.ink.max(axis=1) > 0.5)  # the redrawn bar, in its 64-pixel frame
    cols = np.flatnonzero(r.ink.max(axis=0) > 0.5)
    width, height = np.ptp(cols) + 1, np.ptp(rows) + 1
    assert width / height == pytest.approx(PEN_SHARE / (1 + PEN_SHARE), abs=0.04)


@pytest.mark.parametrize("digit, form", [(8, "two_loops"), (4, "open"), (7, "crossbar"),
                                         (0, "oval")])
def test_thin_and_thick_drawings_come_out_as_their_strokes_do(digit, form):
    """The same drawing rendered as pixels with a hairline, the strokes' pen or a felt tip
    (0.04, 0.17, 0.3 of its size) becomes nearly the same 8 x 8 input as its strokes: within
    1.5 of 16 a pixel on average (0.19 to 1.44 measured), where the hairline and the felt tip
    read as they are (digit_from_ink) are 2 or more away (2.02 to 3.05)."""
    strokes = draw_digit(digit, form, np.random.default_rng(digit), size=0.8)
    want = digit_from_ink(ink_from_strokes(strokes)).pixels.astype(int)
    size = float(np.ptp(np.concatenate(strokes), axis=0).max())
    for share in (0.04, 0.17, 0.3):
        ink = render_segments(*segments_of(strokes), (PAD, PAD), share * size)
        p, r = digit_from_pixels(ink)
        assert np.abs(p.pixels.astype(int) - want).mean() < 1.5, share
        if share != PEN_SHARE:
            assert np.abs(digit_from_ink(ink).pixels.astype(int) - want).mean() >= 2, share
        assert r.stroke == pytest.approx(share * size, rel=0.25, abs=2)
        assert p.source_shape == (PAD, PAD)


def test_a_blank_drawing_sent_as_pixels_is_refused():
    with pytest.raises(InkError, match="blank"):
        digit_from_pixels(np.zeros((10, 10)))
    p, r = digit_from_pixels(np.pad(np.ones((1, 1)), 3))  # a dot: a disk, like a stroke's dot
    assert p.pixels.max() == 16 and r.box == (3, 3, 4, 4)
