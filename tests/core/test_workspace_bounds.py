"""core.workspace: its bounds hold (tracemalloc measures every fast function) and are not loose."""

import gc
import tracemalloc

import numpy as np
import pytest

from core import GeometryError, conv_backward, conv_forward, pool_backward, pool_forward
from core._fast import scratch as _scratch
from core.workspace import (
    conv_backward_breakdown,
    conv_backward_bytes,
    conv_forward_bytes,
    pool_backward_bytes,
    pool_forward_bytes,
)

SLACK_BYTES = 1 << 18  # a bound may exceed 4x the measured peak by this much (small layers)


def _peak(fn) -> int:
    """Peak bytes traced while fn() runs, above what was held before (results included)."""
    _scratch.clear()  # start without pooled scratch: every array is new
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before


# (A_prev shape, W shape, stride, pad, dilation, pad_mode, tight): tight cases are the
# ordinary layers, where the bound must also stay within 4x the measured peak.
CONV_CASES = [
    pytest.param((1, 256, 256, 3), (3, 3, 3, 8), 1, 1, 1, "constant", True, id="page-256"),
    pytest.param((1, 128, 128, 3), (5, 5, 3, 16), 2, 2, 1, "constant", True, id="f5-s2"),
    pytest.param((4, 32, 32, 16), (3, 3, 16, 32), 1, 1, 1, "constant", True, id="batch"),
    pytest.param((2, 40, 33, 3), (3, 3, 3, 4), 3, 0, 2, "constant", True, id="s3-d2"),
    pytest.param((4, 32, 32, 16), (3, 3, 16, 32), 1, 1, 1, "reflect", True, id="reflect"),
    pytest.param((1, 64, 48, 3), (3, 3, 3, 8), 2, 3, 1, "edge", True, id="edge-s2"),
    pytest.param((2, 7, 6, 2), (3, 3, 2, 3), 3, 3, 2, "edge", False, id="tiny"),
    pytest.param((1, 1, 1, 1), (1, 1, 1, 1), 1, 0, 1, "constant", False, id="one-pixel"),
    # Issue 10's bomb at 1/16 of its channels: almost all padding, one output number.
    pytest.param((1, 1, 1, 64), (6, 6, 64, 1), 1, 125, 50, "constant", True, id="dilated-pad"),
    pytest.param((2, 1, 1, 32), (5, 5, 32, 1), 3, 40, 20, "constant", True, id="dilated-pad-s3"),
]


# float32 in make test only (make test-fast keeps float64: the larger bound)
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
@pytest.mark.parametrize("A_shape, W_shape, stride, pad, dilation, pad_mode, tight", CONV_CASES)
def test_conv_bounds_hold_and_are_tight(rng, A_shape, W_shape, stride, pad, dilation, pad_mode,
                                        tight, dtype):
    A_prev = rng.standard_normal(A_shape).astype(dtype)
    W = rng.standard_normal(W_shape).astype(dtype)
    b = rng.standard_normal((1, 1, 1, W_shape[3])).astype(dtype)
    hp = {"stride": stride, "pad": pad}
    kw = {"pad_mode": pad_mode, "dilation": dilation}
    itemsize = np.dtype(dtype).itemsize
    forward = conv_forward_bytes(A_shape, W_shape, hp, itemsize=itemsize, **kw)
    measured = _peak(lambda: conv_forward(A_prev, W, b, hp, **kw))
    assert measured <= forward
    if tight:
        assert forward <= 4 * measured + SLACK_BYTES, (forward, measured)

    Z, cache = conv_forward(A_prev, W, b, hp, **kw)
    dZ = rng.standard_normal(Z.shape).astype(dtype)
    # the cache's hparameters carry pad_mode and dilation: the bound reads them there too
    backward = conv_backward_bytes(A_shape, W_shape, cache[3], itemsize=itemsize)
    assert backward == conv_backward_bytes(A_shape, W_shape, hp, itemsize=itemsize, **kw)
    measured = _peak(lambda: conv_backward(dZ, cache))
    assert measured <= backward
    if tight:
        assert backward <= 4 * measured + SLACK_BYTES, (backward, measured)


def test_integer_inputs_are_counted_with_their_float64_copies():
    A_prev = np.arange(4 * 30 * 30 * 3, dtype=np.int16).reshape(4, 30, 30, 3)
    W = np.ones((3, 3, 3, 2), dtype=np.int8)
    b = np.zeros((1, 1, 1, 2), dtype=np.int8)
    hp = {"stride": 1, "pad": 1}
    bound = conv_forward_bytes(A_prev.shape, W.shape, hp, converted_inputs=True)
    assert _peak(lambda: conv_forward(A_prev, W, b, hp)) <= bound
    assert bound > conv_forward_bytes(A_prev.shape, W.shape, hp)


def test_issue_10_bombs_are_priced_before_anything_is_allocated():
    # POST /api/conv_backward took RSS from 106 to 1084 MB for one output number: the padded
    # input alone is 251 x 251 x 1024 float64 numbers (516 MB), its gradient as much again.
    hp = {"stride": 1, "pad": 125}
    padded = 251 * 251 * 1024 * 8
    assert conv_forward_bytes((1, 1, 1, 1024), (6, 6, 1024, 1), hp, dilation=50) >= padded
    parts = conv_backward_breakdown((1, 1, 1, 1024), (6, 6, 1024, 1), hp, dilation=50)
    assert parts["phase buffers (the padded input)"] == parts["their gradient"] == padded
    # "Unable to allocate 64.3 GiB": the bound says so before NumPy tries.
    big = conv_backward_bytes((16, 1, 1, 2048), (9, 9, 2048, 1), {"stride": 1, "pad": 256},
                              dilation=64)
    assert big >= 64.3 * 2**30
    # Nothing grows with the sizes while pricing them: an absurd request costs nothing.
    tracemalloc.start()
    try:
        conv_backward_bytes((10**6, 10**5, 10**5, 10**4), (99, 99, 10**4, 10**4),
                            {"stride": 1, "pad": 10**7}, dilation=10**4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 16


POOL_CASES = [
    pytest.param((1, 256, 256, 8), 2, 2, id="f2-s2"),
    pytest.param((1, 256, 256, 8), 3, 1, id="f3-s1"),
    pytest.param((4, 33, 31, 5), 3, 2, id="f3-s2-batch"),
    pytest.param((2, 64, 64, 16), 1, 1, id="f1"),
    pytest.param((1, 9, 9, 2), 2, 3, id="stride-larger-than-f"),
]


# float32 in make test only (make test-fast keeps float64: the larger bound)
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
@pytest.mark.parametrize("mode, tie_rule", [("max", "first"), ("max", "all"), ("max", "split"),
                                            ("average", "first")])
@pytest.mark.parametrize("shape, f, stride", POOL_CASES)
def test_pool_bounds_hold_and_are_tight(rng, shape, f, stride, mode, tie_rule, dtype):
    A_prev = rng.integers(0, 3, shape).astype(dtype)  # ties, so every tie rule does work
    hp = {"f": f, "stride": stride}
    itemsize = np.dtype(dtype).itemsize
    tight = shape[1] >= 32
    forward = pool_forward_bytes(shape, hp, mode, itemsize=itemsize)
    measured = _peak(lambda: pool_forward(A_prev, hp, mode))
    assert measured <= forward
    if tight:
        assert forward <= 4 * measured + SLACK_BYTES, (forward, measured)
    A, cache = pool_forward(A_prev, hp, mode)
    dA = rng.standard_normal(A.shape).astype(dtype)
    backward = pool_backward_bytes(shape, hp, mode, tie_rule=tie_rule, itemsize=itemsize)
    measured = _peak(lambda: pool_backward(dA, cache, mode, tie_rule=tie_rule))
    assert measured <= backward
    if tight:
        assert backward <= 4 * measured + SLACK_BYTES, (backward, measured)


def test_mixed_dtypes_fit_the_float64_bound(rng):
    A_prev = rng.standard_normal((1, 64, 64, 8)).astype(np.float32)
    A, cache = pool_forward(A_prev, {"f": 2, "stride": 2})
    dA = rng.standard_normal(A.shape)  # float64: the result is float64
    bound = pool_backward_bytes(A_prev.shape, {"f": 2, "stride": 2}, itemsize=8)
    assert _peak(lambda: pool_backward(dA, cache)) <= bound


@pytest.mark.parametrize("call, message", [
    (lambda: conv_forward_bytes((1, 4, 4), (3, 3, 1, 1), {"stride": 1, "pad": 0}), "4 axes"),
    (lambda: conv_forward_bytes((1, 4, 4, 2), (3, 3, 1, 1), {"stride": 1, "pad": 0}),
     "n_C_prev = 2"),
    (lambda: conv_forward_bytes((1, 4, 4, 1), (7, 7, 1, 1), {"stride": 1, "pad": 1}),
     "does not fit"),
    (lambda: conv_forward_bytes((1, 4, 4, 1), (3, 3, 1, 1), {"stride": 1}), "'pad'"),
    (lambda: conv_forward_bytes((1, 4, 4, 1), (3, 3, 1, 1), {"stride": 0, "pad": 0}),
     "stride"),
    (lambda: conv_forward_bytes((1, 4, 4, 1), (3, 3, 1, 1), {"stride": 1, "pad": 0},
                                itemsize=2), "itemsize"),
    (lambda: conv_backward_bytes((1, 4, 4, 1), (3, 3, 1, 1), {"stride": 1, "pad": 0},
                                 pad_mode="wrap"), "pad_mode"),
    (lambda: pool_forward_bytes((1, 4, 4, 1), {"f": 5, "stride": 1}), "does not fit"),
    (lambda: pool_backward_bytes((1, 4, 4, 1), {"f": 2, "stride": 2}, tie_rule="any"),
     "tie_rule"),
])
def test_bad_shapes_are_refused_like_the_layers_refuse_them(call, message):
    with pytest.raises(GeometryError, match=message):
        call()
