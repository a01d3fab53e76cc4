"""Drawings sent as strokes: the pen a share of the digit's own size, as in the data."""

import numpy as np
import pytest

from core.data import load_digits
from core.drawn import PAD, draw_digit, drawn_pixels, drawn_set
from core.net_input import (
    MAX_LENGTH,
    MAX_POINTS,
    PEN_SHARE,
    InkError,
    _render_dense,
    digit_from_ink,
    ink_from_strokes,
    render_segments,
    resample_polyline,
    segments_of,
)


@pytest.mark.parametrize("width", [0.5, 3.0, 9.0, 14.3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_render_segments_matches_its_dense_twin(width, seed):
    rng = np.random.default_rng(seed)
    strokes = [rng.uniform(-5, 45, (rng.integers(1, 9), 2)) for _ in range(3)]  # off the edge too
    a, b = segments_of(strokes)
    np.testing.assert_allclose(render_segments(a, b, (40, 33), width),
                               _render_dense(a, b, (40, 33), width), atol=1e-12)


def test_a_pen_line_by_hand():
    # a line along row 5's centres (y = 5.5), 4 pixels wide: ink = clip(2.5 - distance, 0, 1),
    # so 1 up to 1.5 away, 0.5 at 2, nothing from 2.5 on
    ink = render_segments(np.array([[2.0, 5.5]]), np.array([[8.0, 5.5]]), (11, 11), 4.0)
    np.testing.assert_allclose(ink[2:9, 5], [0, 0.5, 1, 1, 1, 0.5, 0])
    assert ink[[0, 1, 9, 10], 5].sum() == 0
    np.testing.assert_allclose(ink[5, [0, 9, 10]], [1, 1, 0])  # round caps reach 1.5 on


def test_a_dot_is_a_disk_and_a_vertical_stroke_is_centred():
    dot = ink_from_strokes([[[3.0, 4.0]]])
    assert dot[32, 32] == 1 and dot[0, 0] == 0
    bar = digit_from_ink(ink_from_strokes([[[0, 0], [0, 100]]])).pixels
    assert (bar[:, 3:5] > 0).all() and bar[:, [0, 1, 6, 7]].sum() == 0


def test_resample_polyline_keeps_the_ends_and_the_spacing():
    p = resample_polyline([[0, 0], [10, 0], [10, 5]], 1.0)
    assert len(p) == 16
    np.testing.assert_allclose(p[[0, -1]], [[0, 0], [10, 5]])
    np.testing.assert_allclose(np.sqrt((np.diff(p, axis=0) ** 2).sum(1)), 1.0)


def test_the_same_drawing_at_any_size_gives_the_same_input():
    rng = np.random.default_rng(5)
    big = draw_digit(8, "two_loops", rng, size=0.8)
    want = digit_from_ink(ink_from_strokes(big)).pixels.astype(int)
    corner = np.concatenate(big).min(axis=0)
    for share in (0.5, 0.25, 0.2):
        small = [(s - corner) * share / 0.8 + 10 for s in big]
        got = digit_from_ink(ink_from_strokes(small)).pixels.astype(int)
        assert np.abs(got - want).max() <= 1


def test_a_small_digit_keeps_its_holes_where_the_fixed_pen_made_a_blob():
    # the page's old input: the pad rendered with a pen 0.085 of its side. An 8 a fifth of
    # the pad high becomes a blob (every cell of its middle inked); with the pen a share of
    # the digit's size, its two holes stay empty.
    rng = np.random.default_rng(3)
    eight = draw_digit(8, "two_loops", rng, size=0.2)
    old = drawn_pixels([eight], pad_pen=0.085)[0]
    new = drawn_pixels([eight])[0]
    middle = (slice(1, 7), slice(3, 5))  # the 6 x 2 cells the two loops enclose
    assert old[middle].min() >= 14  # a blob
    assert (new[middle] <= 4).sum() >= 4  # holes
    assert old.sum() > 1.4 * new.sum()


def test_the_pen_share_gives_the_datas_amount_of_ink():
    """PEN_SHARE is chosen so that the drawn set has the data's ink: within 5% on average."""
    data = load_digits().images.reshape(-1, 64).sum(axis=1).mean()  # 312 of 1024
    drawn = drawn_pixels(drawn_set(per_form=1).strokes).reshape(-1, 64).sum(axis=1).mean()
    assert drawn == pytest.approx(data, rel=0.05)
    assert PEN_SHARE == 0.17


def test_strokes_that_hold_no_digit_are_refused():
    with pytest.raises(InkError, match="no strokes"):
        ink_from_strokes([])
    with pytest.raises(InkError, match="Stroke 1 must be a list of"):
        ink_from_strokes([[[0, 0]], [[1, 2, 3]]])
    with pytest.raises(InkError, match="NaN"):
        ink_from_strokes([[[0, 0], [np.nan, 1]]])
    with pytest.raises(InkError, match=f"limit is {MAX_POINTS}"):
        ink_from_strokes([np.zeros((MAX_POINTS + 1, 2))])
    zigzag = np.tile([[0.0, 0.0], [10.0, 10.0]], (MAX_LENGTH // 2 + 1, 1))  # 41 times 14.1
    with pytest.raises(InkError, match=f"the limit is {MAX_LENGTH}"):
        ink_from_strokes([zigzag])
    assert ink_from_strokes([zigzag[:MAX_LENGTH // 2]]).max() == 1  # 27.6 times: drawn


def test_the_drawn_set_is_as_documented():
    d = drawn_set()
    assert len(d.strokes) == 780 and d.labels.shape == (780,)
    assert sorted(np.unique(d.sizes)) == [0.2, 0.25, 0.33, 0.5, 0.8]
    assert all((d.sizes == s).sum() == 156 for s in np.unique(d.sizes))
    forms = set(zip(d.labels.tolist(), d.forms, strict=True))
    assert len(forms) == 26  # every letterform of every digit
    for strokes, size in zip(d.strokes[::37], d.sizes[::37], strict=True):
        pts = np.concatenate(strokes)
        assert pts.min() >= 0 and pts.max() <= PAD
        assert np.ptp(pts[:, 1]) == pytest.approx(size * PAD, rel=0.15)  # its height
    again = drawn_set()
    assert all(np.array_equal(a[0], b[0])
               for a, b in zip(d.strokes, again.strokes, strict=True))
