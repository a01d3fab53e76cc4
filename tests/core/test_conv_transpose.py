"""conv_transpose: against its loop twin, finite differences, PyTorch, and the identity
dA_prev = conv_transpose(dZ, W) of conv_backward; its trace and its geometry errors."""

import itertools

import numpy as np
import pytest

from core import GeometryError, conv_backward, conv_forward, conv_geometry
from core.transpose import (
    conv_transpose,
    conv_transpose_backward,
    conv_transpose_loop,
    conv_transpose_totals,
    conv_transpose_trace,
    transpose_as_convolution,
    transpose_geometry,
    transposed_counterpart,
)

# (m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, output_padding)
GEOMETRIES = [
    pytest.param(1, 2, 2, 1, 3, 1, 1, 0, 1, 0, id="no-pad-no-stride"),
    pytest.param(2, 3, 3, 2, 3, 3, 2, 0, 1, 0, id="stride2"),
    pytest.param(1, 3, 4, 2, 3, 2, 2, 1, 1, 1, id="stride2-pad1-outpad1-non-square"),
    pytest.param(2, 4, 3, 3, 2, 2, 3, 2, 1, (2, 0), id="stride3-outpad-pair"),
    pytest.param(1, 3, 3, 1, 3, 2, 1, 2, 1, 0, id="full-pad"),
    pytest.param(2, 3, 5, 2, 3, 2, 1, 0, 2, 1, id="dilation2-outpad"),
    pytest.param(1, 4, 4, 2, 1, 3, 2, 0, 1, 1, id="f1-stride2"),
    pytest.param(3, 2, 3, 4, 4, 5, 3, 1, 2, 2, id="batch-channels-dilated-strided"),
    pytest.param(1, 1, 1, 1, 1, 1, 1, 0, 1, 0, id="one-cell"),
]


def _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, dtype=np.float64):
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C, n_C_prev)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    return A_prev, W, b


def _size(n_prev, f, stride, pad, dilation, op):
    return (n_prev - 1) * stride - 2 * pad + dilation * (f - 1) + 1 + op


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, op",
                         GEOMETRIES)
def test_matches_loop_twin(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation,
                           op, dtype, tol):
    A_prev, W, b = _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, dtype)
    hp = {"stride": stride, "pad": pad}
    Z, cache = conv_transpose(A_prev, W, b, hp, output_padding=op, dilation=dilation)
    Z_loop, _ = conv_transpose_loop(A_prev, W, b, hp, output_padding=op, dilation=dilation)
    op_H, op_W = (op, op) if isinstance(op, int) else op
    assert Z.shape == (m, _size(n_H_prev, f, stride, pad, dilation, op_H),
                       _size(n_W_prev, f, stride, pad, dilation, op_W), n_C)
    assert Z.dtype == dtype
    np.testing.assert_allclose(Z, Z_loop, rtol=tol, atol=tol)
    assert cache[3]["output_padding"] == (op_H, op_W) and cache[3]["dilation"] == dilation


def test_worked_examples():
    A_prev = np.array([1.0, 2.0]).reshape(1, 1, 2, 1)
    W, b = np.ones((2, 2, 1, 1)), np.zeros((1, 1, 1, 1))
    Z, cache = conv_transpose(A_prev, W, b, {"stride": 2, "pad": 0})
    np.testing.assert_array_equal(Z[0, :, :, 0], [[1, 1, 2, 2], [1, 1, 2, 2]])
    Z1, _ = conv_transpose(A_prev, W, b, {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(Z1[0, :, :, 0], [[1, 3, 2], [1, 3, 2]])
    dA_prev, dW, db = conv_transpose_backward(np.ones((1, 2, 4, 1)), cache)
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[4, 4]])
    np.testing.assert_array_equal(dW[:, :, 0, 0], [[3, 3], [3, 3]])
    assert db.shape == (1, 1, 1, 1) and db[0, 0, 0, 0] == 8
    assert transpose_geometry(3, 3, 3, stride=2, pad=1).n_H == 5


@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, op",
                         GEOMETRIES[:6])
def test_gradients_against_finite_differences(rng, numeric_grad, m, n_H_prev, n_W_prev,
                                              n_C_prev, f, n_C, stride, pad, dilation, op):
    A_prev, W, b = _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C)
    hp = {"stride": stride, "pad": pad}
    Z, cache = conv_transpose(A_prev, W, b, hp, output_padding=op, dilation=dilation)
    dZ = rng.standard_normal(Z.shape)

    def loss():
        return float(np.sum(conv_transpose(A_prev, W, b, hp, output_padding=op,
                                           dilation=dilation)[0] * dZ))

    dA_prev, dW, db = conv_transpose_backward(dZ, cache)
    np.testing.assert_allclose(dA_prev, numeric_grad(loss, A_prev), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dW, numeric_grad(loss, W), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, numeric_grad(loss, b), rtol=1e-6, atol=1e-7)


def _tensor(torch, a, grad=True):
    # A contiguous copy: PyTorch's backward wants contiguous gradients.
    return torch.tensor(np.ascontiguousarray(a), requires_grad=grad)


@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, op",
                         GEOMETRIES)
def test_agrees_with_pytorch(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation,
                             op):
    torch = pytest.importorskip("torch")
    A_prev, W, b = _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C)
    Z, cache = conv_transpose(A_prev, W, b, {"stride": stride, "pad": pad},
                              output_padding=op, dilation=dilation)
    x = _tensor(torch, A_prev.transpose(0, 3, 1, 2))  # NCHW
    w = _tensor(torch, W.transpose(3, 2, 0, 1))  # (in_channels, out_channels, kH, kW)
    bias = torch.tensor(b.reshape(-1), requires_grad=True)
    z = torch.nn.functional.conv_transpose2d(x, w, bias, stride=stride, padding=pad,
                                             output_padding=op, dilation=dilation)
    np.testing.assert_allclose(Z, z.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-12,
                               atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    z.backward(_tensor(torch, dZ.transpose(0, 3, 1, 2), grad=False))
    dA_prev, dW, db = conv_transpose_backward(dZ, cache)
    np.testing.assert_allclose(dA_prev, x.grad.numpy().transpose(0, 2, 3, 1), atol=1e-11)
    np.testing.assert_allclose(dW, w.grad.numpy().transpose(2, 3, 1, 0), atol=1e-11)
    np.testing.assert_allclose(db.reshape(-1), bias.grad.numpy(), atol=1e-11)


IDENTITY = [
    pytest.param(stride, pad, f, dilation,
                 id=f"stride{stride}-pad{pad}-f{f}-dilation{dilation}")
    for stride, pad, f, dilation in itertools.product((1, 2, 3), (0, 1, 2), (1, 2, 3, 4), (1, 2))
]


@pytest.mark.parametrize("stride, pad, f, dilation", IDENTITY)
def test_dA_prev_is_the_transposed_convolution_of_dZ(rng, stride, pad, f, dilation):
    n_H_prev, n_W_prev, n_C_prev, n_C = 9, 8, 3, 2  # non-square, several channels
    A_prev = rng.standard_normal((2, n_H_prev, n_W_prev, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    hp = {"stride": stride, "pad": pad}
    Z, cache = conv_forward(A_prev, W, b, hp, dilation=dilation)
    dZ = rng.standard_normal(Z.shape)
    dA_prev, _, _ = conv_backward(dZ, cache)
    g = conv_geometry(n_H_prev, n_W_prev, f, stride=stride, pad=pad, dilation=dilation)
    # The rows and columns the forward floor dropped come back as output_padding.
    dropped = ((n_H_prev + 2 * pad - g.f_eff) % stride, (n_W_prev + 2 * pad - g.f_eff) % stride)
    seen, _ = conv_transpose(dZ, W, np.zeros((1, 1, 1, n_C_prev)), hp, output_padding=dropped,
                             dilation=dilation)
    back = transposed_counterpart(n_H_prev, n_W_prev, f, stride=stride, pad=pad,
                                  dilation=dilation)
    assert back["output_padding"] == dropped and (back["n_H_prev"], back["n_W_prev"]) == (
        g.n_H, g.n_W)
    assert seen.shape == A_prev.shape
    np.testing.assert_allclose(seen, dA_prev, rtol=1e-12, atol=1e-12)


def test_trace_steps_add_up_to_the_output(rng):
    A_prev, W, b = _layer(rng, 1, 3, 4, 2, 3, 2)
    hp = {"stride": 2, "pad": 1}
    Z, _ = conv_transpose(A_prev, W, b, hp, output_padding=1)
    page = conv_transpose_trace(A_prev, W, b, hp, output_padding=1, limit=1000)
    assert page.kind == "conv_transpose" and page.total == 3 * 4 * 2 == len(page.steps)
    g = transpose_geometry(3, 4, 3, stride=2, pad=1, output_padding=1)
    canvas = np.zeros((g.n_H_full, g.n_W_full, 2))
    for k, step in enumerate(page.steps):
        assert step.index == k
        assert (step.i, step.h, step.w, step.c) == np.unravel_index(k, A_prev.shape)
        assert 0 <= step.vert_start < step.vert_end <= g.n_H_full
        assert 0 <= step.horiz_start < step.horiz_end <= g.n_W_full
        assert step.a == A_prev[0, step.h, step.w, step.c]
        np.testing.assert_allclose(step.spread, step.a * W[:, :, :, step.c])
        canvas[step.vert_start:step.vert_end, step.horiz_start:step.horiz_end] += step.spread
        np.testing.assert_allclose(
            canvas, conv_transpose_totals(A_prev, W, b, hp, k, output_padding=1)[0],
            atol=1e-12)
    np.testing.assert_allclose(canvas[1:1 + g.n_H, 1:1 + g.n_W] + b[0, 0, 0], Z[0], atol=1e-12)
    # Pages and positions: the step of input cell (2, 1) channel 1 is 2*8 + 1*2 + 1 = 19.
    at = conv_transpose_trace(A_prev, W, b, hp, output_padding=1, position=(0, 2, 1, 1),
                              limit=2)
    assert at.offset == 19 and [s.index for s in at.steps] == [19, 20]
    d = at.steps[0].to_dict()
    assert d["a"] == A_prev[0, 2, 1, 1] and np.shape(d["spread"]) == (3, 3, 2)
    assert conv_transpose_trace(A_prev, W, b, hp, offset=24, limit=5).steps == ()


@pytest.mark.parametrize("kwargs, words", [
    ({"f": 3, "stride": 0}, "stride must be at least 1"),
    ({"f": 2, "stride": 2, "output_padding": 2}, "output_padding must be smaller"),
    ({"f": 3, "stride": 1, "pad": 3}, "output would be empty"),
    ({"f": 0}, "f (window size) must be at least 1"),
    ({"f": 3, "dilation": 0}, "dilation must be at least 1"),
    ({"f": 3, "output_padding": (0, -1)}, "output_padding (columns) must be at least 0"),
])
def test_geometry_errors_name_the_numbers(kwargs, words):
    with pytest.raises(GeometryError) as info:
        transpose_geometry(2, 2, **kwargs)
    assert words in str(info.value)


def test_shape_errors_name_the_shapes(rng):
    A_prev, W, b = _layer(rng, 1, 3, 3, 2, 3, 4)
    with pytest.raises(GeometryError, match="Channel mismatch"):
        conv_transpose(A_prev, W[..., :1], b, {"stride": 1, "pad": 0})
    with pytest.raises(GeometryError, match=r"\(1, 1, 1, 4\)"):
        conv_transpose(A_prev, W, b[..., :2], {"stride": 1, "pad": 0})
    with pytest.raises(GeometryError, match="'pad'"):
        conv_transpose(A_prev, W, b, {"stride": 1})
    Z, cache = conv_transpose(A_prev, W, b, {"stride": 1, "pad": 0})
    with pytest.raises(GeometryError, match="shape of the forward output"):
        conv_transpose_backward(Z[:, :-1], cache)


@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, op",
                         GEOMETRIES)
def test_it_is_a_convolution_over_zero_inserted_input_with_the_flipped_kernel(
        rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dilation, op):
    A_prev, W, _ = _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C)
    hp = {"stride": stride, "pad": pad}
    Z, _ = conv_transpose(A_prev, W, np.zeros((1, 1, 1, n_C)), hp, output_padding=op,
                          dilation=dilation)
    A_up, W_flip, inserted = transpose_as_convolution(A_prev, W, hp, output_padding=op,
                                                      dilation=dilation)
    direct, _ = conv_forward(A_up, W_flip, np.zeros((1, 1, 1, n_C)), {"stride": 1, "pad": 0},
                             dilation=dilation)
    np.testing.assert_allclose(direct, Z, rtol=1e-12, atol=1e-12)
    assert inserted.shape == A_up.shape[1:3]
    assert (A_up[:, inserted] == 0).all()
    assert (~inserted).sum() <= n_H_prev * n_W_prev  # A_prev's cells (fewer when cropped)


def test_zero_insertion_example():
    A_up, W_flip, inserted = transpose_as_convolution(
        np.array([1.0, 2.0]).reshape(1, 1, 2, 1), np.arange(4.0).reshape(2, 2, 1, 1),
        {"stride": 2, "pad": 0})
    np.testing.assert_array_equal(A_up[0, :, :, 0], [[0, 0, 0, 0, 0], [0, 1, 0, 2, 0],
                                                      [0, 0, 0, 0, 0]])
    np.testing.assert_array_equal(W_flip[:, :, 0, 0], [[3, 2], [1, 0]])
    np.testing.assert_array_equal(inserted[1], [True, False, True, False, True])
