"""Property tests over random geometry: fast == loop twins, geometry == shapes, traces == values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import (
    GeometryError,
    conv_backward,
    conv_forward,
    conv_forward_trace,
    conv_geometry,
    pool_backward,
    pool_backward_trace,
    pool_forward,
    step_index,
)
from core.loops import conv_backward_loop, conv_forward_loop, pool_backward_loop

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def conv_cases(draw):
    m = draw(st.integers(1, 2))
    n_H_prev, n_W_prev = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    n_C_prev, n_C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    f = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    pad_mode = draw(st.sampled_from(["constant", "reflect", "edge"]))
    max_pad = min(n_H_prev, n_W_prev) - 1 if pad_mode == "reflect" else 3
    pad = draw(st.integers(0, max_pad))
    pad_value = draw(st.sampled_from([0.0, 2.5, (4.0, -6.0)]))
    seed = draw(st.integers(0, 2**32 - 1))
    return m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad, dilation, pad_mode, pad_value, seed


@SETTINGS
@given(conv_cases())
def test_conv_fast_equals_loops_or_both_refuse(case):
    m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad, dilation, pad_mode, pad_value, seed = case
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    hp = {"stride": stride, "pad": pad}
    kw = {"pad_mode": pad_mode, "pad_value": pad_value, "dilation": dilation}
    f_eff = dilation * (f - 1) + 1
    fits = f_eff <= n_H_prev + 2 * pad and f_eff <= n_W_prev + 2 * pad
    if not fits:
        with pytest.raises(GeometryError, match="does not fit"):
            conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
        with pytest.raises(GeometryError, match="does not fit"):
            conv_forward(A_prev, W, b, hp, **kw)
        return
    g = conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
    Z, cache = conv_forward(A_prev, W, b, hp, **kw)
    assert Z.shape == (m, g.n_H, g.n_W, n_C)
    np.testing.assert_allclose(Z, conv_forward_loop(A_prev, W, b, hp, **kw)[0], rtol=1e-10,
                               atol=1e-10)
    dZ = rng.standard_normal(Z.shape)
    for got, want in zip(conv_backward(dZ, cache), conv_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # one random step of the trace equals the output there
    position = tuple(int(rng.integers(0, n)) for n in Z.shape)
    step = conv_forward_trace(A_prev, W, b, hp, **kw, position=position, limit=1).steps[0]
    assert step.index == step_index(Z.shape, position)
    assert abs(step.z - Z[position]) <= 1e-10 * (1 + abs(Z[position]))


@SETTINGS
@given(st.integers(1, 2), st.integers(1, 8), st.integers(1, 8), st.integers(1, 3),
       st.integers(1, 4), st.integers(1, 4), st.sampled_from(["max", "average"]),
       st.sampled_from(["first", "all", "split"]), st.booleans(), st.integers(0, 2**32 - 1))
def test_pool_fast_equals_loops(m, n_H_prev, n_W_prev, n_C, f, stride, mode, tie_rule, ties,
                                seed):
    rng = np.random.default_rng(seed)
    shape = (m, n_H_prev, n_W_prev, n_C)
    A_prev = rng.integers(0, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    hp = {"f": f, "stride": stride}
    if f > min(n_H_prev, n_W_prev):
        with pytest.raises(GeometryError, match="does not fit"):
            pool_forward(A_prev, hp, mode)
        return
    A, cache = pool_forward(A_prev, hp, mode)
    assert A.shape == (m, (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1, n_C)
    dA = rng.standard_normal(A.shape)
    got = pool_backward(dA, cache, mode, tie_rule=tie_rule)
    np.testing.assert_allclose(got, pool_backward_loop(dA, cache, mode, tie_rule=tie_rule),
                               rtol=1e-12, atol=1e-12)
    if mode == "average" or tie_rule != "all":
        assert got.sum() == np.float64(dA.sum()) or abs(got.sum() - dA.sum()) < 1e-9
    k = int(rng.integers(0, A.size))
    step = pool_backward_trace(dA, cache, mode, tie_rule=tie_rule, offset=k, limit=1).steps[0]
    window = got[step.i, step.vert_start:step.vert_end, step.horiz_start:step.horiz_end, step.c]
    assert window.shape == step.added.shape
