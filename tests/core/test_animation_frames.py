"""core.animation: frame counts, windows inside their grid, and the numbers of the last frame
equal to core's own results on the documented example."""

import numpy as np
import pytest

from core import GeometryError, conv_backward, conv_forward, pool_backward, pool_forward
from core.animation import (
    OPS,
    animation_size,
    example_gradient,
    example_input,
    example_kernel,
    plan_animation,
)
from core.conv import conv_backward_padded
from core.transpose import conv_transpose_totals


def test_the_documented_example():
    np.testing.assert_array_equal(example_input(2, 5), [[0, 1, 2, 3, 0], [3, 0, 1, 2, 3]])
    np.testing.assert_array_equal(example_kernel(3), [[1, 0, 2], [2, 1, 0], [0, 2, 1]])
    np.testing.assert_array_equal(example_kernel(1), [[1]])
    np.testing.assert_array_equal(example_gradient(2, 3), [[1, 3, 2], [2, 1, 3]])


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("h, w, f, stride, pad, dilation", [
    (5, 5, 3, 1, 0, 1), (5, 6, 3, 2, 1, 1), (7, 5, 2, 3, 2, 1), (6, 6, 2, 1, 1, 2),
    (4, 4, 1, 1, 0, 1),
])
def test_frames_and_final_numbers(op, h, w, f, stride, pad, dilation):
    pool = op.startswith("pool")
    kw = {"stride": stride} if pool else {"stride": stride, "pad": pad, "dilation": dilation}
    a = plan_animation(op, h, w, f, **kw)
    n_frames, r0, c0, r1, c1 = animation_size(op, h, w, f, **kw)
    assert (a.n_frames, a.grids[0].n_rows, a.grids[0].n_cols, a.grids[1].n_rows,
            a.grids[1].n_cols) == (n_frames, r0, c0, r1, c1)
    frames = list(a.frames())
    assert [fr.index for fr in frames] == list(range(n_frames))
    grid = a.grids[a.window_grid]
    values = [g.values.copy() for g in a.grids]
    for fr in frames:
        assert min(fr.window_rows) >= 0 and max(fr.window_rows) < grid.n_rows
        assert min(fr.window_cols) >= 0 and max(fr.window_cols) < grid.n_cols
        other = a.grids[1 - a.window_grid]
        assert 0 <= fr.cell[0] < other.n_rows and 0 <= fr.cell[1] < other.n_cols
        values[fr.update_grid][fr.update_rows, fr.update_cols] = fr.update_values
    x = example_input(h, w)[None, :, :, None]
    W = example_kernel(f)[:, :, None, None]
    b = np.zeros((1, 1, 1, 1))
    if op == "conv_transpose_direct":  # the same Z as the scatter, cropped
        full = conv_transpose_totals(x, W, b, {"stride": stride, "pad": pad}, h * w - 1,
                                     dilation=dilation)[0, :, :, 0]
        want = full[pad:full.shape[0] - pad, pad:full.shape[1] - pad]
        assert n_frames == want.size  # one per output cell
        assert (a.grids[0].values[a.grids[0].zeros] == 0).all()
    elif op == "conv_transpose":
        assert n_frames == h * w  # one per input cell
        want = conv_transpose_totals(x, W, b, {"stride": stride, "pad": pad}, h * w - 1,
                                     dilation=dilation)[0, :, :, 0]
    elif pool:
        A, cache = pool_forward(x, {"stride": stride, "f": f})
        assert n_frames == A.shape[1] * A.shape[2]
        want = (A[0, :, :, 0] if op == "pool_forward" else pool_backward(
            example_gradient(*A.shape[1:3])[None, :, :, None], cache)[0, :, :, 0])
    else:
        Z, cache = conv_forward(x, W, b, {"stride": stride, "pad": pad}, dilation=dilation)
        assert n_frames == Z.shape[1] * Z.shape[2]  # one per output window position
        dZ = example_gradient(*Z.shape[1:3])[None, :, :, None]
        want = (Z[0, :, :, 0] if op == "conv_forward"
                else conv_backward_padded(dZ, cache)[0][0, :, :, 0])
        if op == "conv_backward":  # the crop of the padded gradient is dA_prev
            np.testing.assert_allclose(want[pad:pad + h, pad:pad + w],
                                       conv_backward(dZ, cache)[0][0, :, :, 0])
    got = values[1]
    touched = ~np.isnan(got)
    np.testing.assert_allclose(got[touched], want[touched])
    if a.window_grid == 0:
        assert touched.all()
    else:  # the cells no window reaches keep no number, and their gradient is zero
        assert (want[~touched] == 0).all()


@pytest.mark.parametrize("args, kwargs, words", [
    (("conv_forward", 3, 3, 5), {}, "does not fit"),
    (("conv_sideways", 3, 3, 1), {}, "op must be one of"),
    (("pool_forward", 3, 3, 2), {"stride": 0}, "stride must be at least 1"),
    (("conv_transpose", 1, 1, 1), {"pad": 1}, "empty"),
])
def test_geometry_errors(args, kwargs, words):
    with pytest.raises(GeometryError, match=words):
        plan_animation(*args, **kwargs)
    with pytest.raises(GeometryError, match=words):
        animation_size(*args, **kwargs)
