"""core/upsampling.py: the upsampling kernels (their sizes, and what they do to an image
through conv_transpose) and the running windows of conv_transpose's loop against the loop
twin run step by step."""

import numpy as np
import pytest

from core import conv_transpose
from core.geometry import GeometryError
from core.transpose import conv_transpose_totals
from core.upsampling import conv_transpose_windows, upsampling_kernel, upsampling_size


@pytest.mark.parametrize("stride, f_nearest, f_bilinear", [(1, 1, 1), (2, 2, 4), (3, 3, 5),
                                                           (4, 4, 8)])
def test_sizes(stride, f_nearest, f_bilinear):
    assert upsampling_size("nearest", stride) == f_nearest
    assert upsampling_size("bilinear", stride) == f_bilinear
    assert upsampling_kernel("bilinear", stride).shape == (f_bilinear, f_bilinear)


def test_bilinear_2_is_the_classic_kernel():
    ramp = np.array([0.25, 0.75, 0.75, 0.25])
    np.testing.assert_array_equal(upsampling_kernel("bilinear", 2), np.outer(ramp, ramp))


def test_nearest_repeats_every_cell():
    A = np.arange(6.0).reshape(1, 2, 3, 1)
    W = upsampling_kernel("nearest", 3)[:, :, None, None]
    Z, _ = conv_transpose(A, W, np.zeros((1, 1, 1, 1)), {"stride": 3, "pad": 0})
    np.testing.assert_array_equal(Z[0, :, :, 0], np.kron(A[0, :, :, 0], np.ones((3, 3))))


@pytest.mark.parametrize("stride", [2, 3, 4])
def test_bilinear_interpolates_a_ramp_exactly_inside(stride):
    """A linear ramp stays linear: away from the border each output cell is the ramp's
    value at its position (the weights of the overlapping windows add to 1)."""
    A = np.tile(np.arange(8.0), (8, 1))[None, :, :, None]  # columns 0..7
    W = upsampling_kernel("bilinear", stride)[:, :, None, None]
    Z, _ = conv_transpose(A, W, np.zeros((1, 1, 1, 1)), {"stride": stride, "pad": stride // 2})
    assert Z.shape == (1, 8 * stride, 8 * stride, 1)
    inner = Z[0, 2 * stride:-2 * stride, 2 * stride:-2 * stride, 0]
    steps = np.diff(inner, axis=1)
    np.testing.assert_allclose(steps, 1.0 / stride, atol=1e-12)  # one input column per s
    np.testing.assert_allclose(np.diff(inner, axis=0), 0.0, atol=1e-12)


def test_unknown_kernel_names_the_choices():
    with pytest.raises(GeometryError, match="bilinear"):
        upsampling_kernel("cubic", 2)


@pytest.mark.parametrize("stride, pad, dilation, op", [(2, 1, 1, 1), (1, 0, 2, 1),
                                                       (3, 0, 1, 0)])
def test_windows_before_and_after_each_step_are_the_running_totals(stride, pad, dilation, op):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1, 3, 4, 2))
    W = rng.standard_normal((3, 3, 2, 2))
    b = np.zeros((1, 1, 1, 2))
    hp = {"stride": stride, "pad": pad}
    kw = {"output_padding": op, "dilation": dilation}
    total = A.size
    pages = conv_transpose_windows(A, W, b, hp, offset=5, limit=100, **kw)
    assert len(pages) == total - 5
    for j, (before, after) in enumerate(pages):
        k = 5 + j
        _, h, w, c = np.unravel_index(k, A.shape)
        rows = slice(h * stride, h * stride + dilation * 2 + 1, dilation)
        cols = slice(w * stride, w * stride + dilation * 2 + 1, dilation)
        prev = conv_transpose_totals(A, W, b, hp, k - 1, **kw)[0, rows, cols, :]
        now = conv_transpose_totals(A, W, b, hp, k, **kw)[0, rows, cols, :]
        np.testing.assert_allclose(before, prev, atol=1e-12)
        np.testing.assert_allclose(after, now, atol=1e-12)
        np.testing.assert_allclose(after - before, A[0, h, w, c] * W[:, :, :, c], atol=1e-12)


def test_a_step_past_the_end_is_refused():
    A = np.ones((1, 2, 2, 1))
    with pytest.raises(GeometryError, match="4 steps"):
        conv_transpose_windows(A, np.ones((2, 2, 1, 1)), np.zeros((1, 1, 1, 1)),
                               {"stride": 1, "pad": 0}, offset=4)
