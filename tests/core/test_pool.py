"""Pooling: fast against the loop twins, tie rules, finite differences, dtypes."""

import itertools

import numpy as np
import pytest

from core import max_mask, pool_backward, pool_forward
from core.loops import pool_backward_loop, pool_forward_loop

# (m, n_H_prev, n_W_prev, n_C, f, stride)
GEOMETRIES = [
    pytest.param(1, 4, 4, 1, 2, 2, id="f2-s2"),
    pytest.param(2, 5, 5, 3, 2, 2, id="f2-s2-floor-drops"),
    pytest.param(2, 6, 7, 2, 3, 1, id="f3-s1-overlap"),
    pytest.param(2, 7, 5, 2, 3, 2, id="f3-s2-overlap"),
    pytest.param(1, 9, 9, 2, 2, 3, id="stride-larger-than-f"),
    pytest.param(3, 5, 4, 4, 1, 1, id="f1"),
    pytest.param(1, 4, 6, 2, 4, 1, id="f-equals-height"),
    pytest.param(2, 3, 3, 2, 3, 3, id="f-equals-size"),
    pytest.param(4, 8, 6, 5, 2, 1, id="batch-many-channels"),
]


@pytest.mark.parametrize("inputs", ["continuous", "ties"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C, f, stride", GEOMETRIES)
def test_pool_matches_loop_twin(rng, m, n_H_prev, n_W_prev, n_C, f, stride, dtype, tol, inputs):
    shape = (m, n_H_prev, n_W_prev, n_C)
    A_prev = rng.standard_normal(shape) if inputs == "continuous" else rng.integers(0, 3, shape)
    A_prev = A_prev.astype(dtype)
    hparameters = {"stride": stride, "f": f}
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    for mode in ("max", "average"):
        A, cache = pool_forward(A_prev, hparameters, mode=mode)
        A_loop, _ = pool_forward_loop(A_prev, hparameters, mode=mode)
        assert A.shape == (m, n_H, n_W, n_C)
        assert A.dtype == dtype
        np.testing.assert_allclose(A, A_loop, rtol=tol, atol=tol)
        dA = rng.standard_normal(A.shape).astype(dtype)
        tie_rules = ("first", "all", "split") if mode == "max" else ("first",)
        for tie_rule in tie_rules:
            got = pool_backward(dA, cache, mode=mode, tie_rule=tie_rule)
            want = pool_backward_loop(dA, cache, mode=mode, tie_rule=tie_rule)
            assert got.shape == shape and got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol,
                                       err_msg=f"{mode} {tie_rule}")


def test_tie_rules_on_a_flat_window():
    A_prev = np.full((1, 2, 2, 1), 3.0)
    _, cache = pool_forward(A_prev, {"stride": 2, "f": 2})
    dA = np.array([[[[8.0]]]])
    first = pool_backward(dA, cache, tie_rule="first")[0, :, :, 0]
    every = pool_backward(dA, cache, tie_rule="all")[0, :, :, 0]
    split = pool_backward(dA, cache, tie_rule="split")[0, :, :, 0]
    np.testing.assert_array_equal(first, [[8, 0], [0, 0]])  # first maximum, row-major
    np.testing.assert_array_equal(every, [[8, 8], [8, 8]])  # exercise mask: 4x the gradient
    np.testing.assert_array_equal(split, [[2, 2], [2, 2]])
    np.testing.assert_array_equal(pool_backward(dA, cache)[0, :, :, 0], first)  # default "first"


def test_first_tie_is_row_major_within_each_window_with_overlap():
    # Two overlapping windows (f=2, stride=1) on a row [1 5 5]: window 0 = [1 5], window 1 = [5 5]
    A_prev = np.array([1.0, 5.0, 5.0, 0.0, 0.0, 0.0]).reshape(1, 2, 3, 1)
    _, cache = pool_forward(A_prev, {"stride": 1, "f": 2})
    dA = np.array([1.0, 10.0]).reshape(1, 1, 2, 1)
    got = pool_backward(dA, cache, tie_rule="first")[0, :, :, 0]
    np.testing.assert_array_equal(got, [[0, 11, 0], [0, 0, 0]])
    got = pool_backward(dA, cache, tie_rule="split")[0, :, :, 0]
    np.testing.assert_array_equal(got, [[0, 6, 5], [0, 0, 0]])


def test_first_and_split_preserve_the_total_gradient(rng):
    A_prev = rng.integers(0, 2, (2, 8, 8, 3)).astype(float)  # many ties
    A, cache = pool_forward(A_prev, {"stride": 2, "f": 2})
    dA = rng.standard_normal(A.shape)
    for tie_rule in ("first", "split"):
        assert pool_backward(dA, cache, tie_rule=tie_rule).sum() == pytest.approx(dA.sum())
    assert pool_backward(dA, cache, tie_rule="all").sum() != pytest.approx(dA.sum())


def test_max_mask_rules():
    np.testing.assert_array_equal(max_mask([[2, 2], [0, 1]], "split"), [[0.5, 0.5], [0, 0]])
    np.testing.assert_array_equal(max_mask([[2, 2], [0, 1]], "first"), [[1, 0], [0, 0]])
    np.testing.assert_array_equal(max_mask([[2, 2], [0, 1]], "all"), [[1, 1], [0, 0]])
    np.testing.assert_array_equal(max_mask([[0, 1], [3, 2]]), [[0, 0], [1, 0]])


@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (2, 1), (3, 2), (2, 3)])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_gradients_match_centred_differences(rng, numeric_grad, mode, f, stride):
    # Continuous random inputs have no ties, so max pooling is differentiable there.
    A_prev = rng.standard_normal((2, 6, 5, 2))
    hparameters = {"stride": stride, "f": f}
    A, cache = pool_forward(A_prev, hparameters, mode=mode)
    G = rng.standard_normal(A.shape)

    def loss():
        return float(np.sum(pool_forward(A_prev, hparameters, mode=mode)[0] * G))

    want = numeric_grad(loss, A_prev)
    for tie_rule in ("first", "all", "split"):
        np.testing.assert_allclose(pool_backward(G, cache, mode=mode, tie_rule=tie_rule), want,
                                   rtol=1e-6, atol=1e-7)


def test_small_example_from_docstring():
    A_prev = np.array([[1.0, 3.0], [4.0, 2.0]]).reshape(1, 2, 2, 1)
    assert pool_forward(A_prev, {"f": 2, "stride": 2})[0].item() == 4.0
    assert pool_forward(A_prev, {"f": 2, "stride": 2}, mode="average")[0].item() == 2.5


def test_pool_cache_and_promotion():
    A_prev = np.arange(16).reshape(1, 4, 4, 1)
    hparameters = {"f": 2, "stride": 2}
    A, cache = pool_forward(A_prev, hparameters)
    assert A.dtype == np.float64
    np.testing.assert_array_equal(A[0, :, :, 0], [[5, 7], [13, 15]])
    assert len(cache) == 2
    np.testing.assert_array_equal(cache[0], A_prev)
    assert cache[1] == hparameters and cache[1] is not hparameters


@pytest.mark.parametrize("band_bytes", [1, 200, 1 << 60])
@pytest.mark.parametrize("n_H_prev, f, stride", [(9, 2, 2), (10, 3, 1), (11, 3, 2), (8, 2, 3),
                                                 (7, 1, 1), (4, 4, 1)])
def test_bands_of_rows_match_loop_twin(rng, monkeypatch, band_bytes, n_H_prev, f, stride):
    # Big inputs are pooled in bands of output rows (cache-sized); force bands of one row or a
    # few rows on small inputs: overlapping windows share input rows between bands, ties too.
    import core.pool
    from core._fast import bands as fast_bands

    monkeypatch.setattr(fast_bands, "_BAND_BYTES", band_bytes)
    A_prev = rng.integers(0, 3, (2, n_H_prev, 6, 3)).astype(float)
    hp = {"f": f, "stride": stride}
    g = core.pool.pool_geometry(n_H_prev, 6, f, stride=stride)
    bands = list(fast_bands.bands(A_prev, g))
    spans = [(h0, h1) for h0, h1, _, _ in bands]
    assert spans[0][0] == 0 and spans[-1][1] == g.n_H
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # no gap, no overlap
    if band_bytes == 1:
        assert len(bands) == g.n_H
    for mode in ("max", "average"):
        A, cache = pool_forward(A_prev, hp, mode)
        np.testing.assert_array_equal(A, pool_forward_loop(A_prev, hp, mode)[0])
        dA = rng.standard_normal(A.shape)
        for tie_rule in ("first", "all", "split"):
            np.testing.assert_allclose(pool_backward(dA, cache, mode, tie_rule=tie_rule),
                                       pool_backward_loop(dA, cache, mode, tie_rule=tie_rule),
                                       rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", [2, 3])
def test_tiling_windows_route_ties_by_every_rule(rng, f, dtype):
    # f == stride: the windows tile the input and each cell is written once. Inputs of 0/1
    # make most windows tie; each window's first maximum in row-major order takes "first".
    A_prev = rng.integers(0, 2, (2, 3 * f + 1, 4 * f, 3)).astype(dtype)  # a row the floor drops
    A_prev[0, :f, :f, 0] = 0
    A_prev[0, 1, 0, 0] = A_prev[0, 0, f - 1, 0] = 1  # tied: (0, f-1) comes first
    hp = {"f": f, "stride": f}
    A, cache = pool_forward(A_prev, hp)
    dA = rng.standard_normal(A.shape).astype(dtype)
    for tie_rule in ("first", "all", "split"):
        got = pool_backward(dA, cache, tie_rule=tie_rule)
        want = pool_backward_loop(dA, cache, tie_rule=tie_rule)
        assert got.dtype == dtype
        if tie_rule == "split":  # dA / count against the twin's (mask / count) * dA
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=tie_rule)
        else:  # the same products, exactly
            np.testing.assert_array_equal(got, want, err_msg=tie_rule)
    first = pool_backward(dA, cache, tie_rule="first")
    assert first[0, 0, f - 1, 0] == dA[0, 0, 0, 0] and first[0, 1, 0, 0] == 0
    assert not first[:, 3 * f :].any()  # the dropped row gets no gradient
    # every window hands on its whole gradient under "first" and "split"
    for tie_rule in ("first", "split"):
        routed = pool_backward(dA, cache, tie_rule=tie_rule)[:, : 3 * f]
        sums = routed.reshape(2, 3, f, 4, f, 3).sum(axis=(2, 4))
        np.testing.assert_allclose(sums, dA, rtol=1e-6)
