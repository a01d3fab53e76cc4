"""The exercise's own checks (np.random.seed(1) cases) and the learner's code against core."""

import numpy as np
import pytest

from core import (
    conv_backward,
    conv_forward,
    conv_single_step,
    create_mask_from_window,
    distribute_value,
    pool_backward,
    pool_forward,
    zero_pad,
)
from core.loops import conv_backward_loop, pool_backward_loop


def test_zero_pad_known_numbers():
    np.random.seed(1)
    x = np.random.randn(4, 3, 3, 2)
    x_pad = zero_pad(x, 2)
    assert x_pad.shape == (4, 7, 7, 2)
    np.testing.assert_allclose(
        x[1, 1], [[0.90085595, -0.68372786], [-0.12289023, -0.93576943],
                  [-0.26788808, 0.53035547]], atol=1e-8)
    np.testing.assert_array_equal(x_pad[1, 1], np.zeros((7, 2)))
    np.testing.assert_array_equal(x_pad[:, 2:5, 2:5, :], x)


def test_conv_single_step_known_number():
    np.random.seed(1)
    a_slice_prev = np.random.randn(4, 4, 3)
    W = np.random.randn(4, 4, 3)
    b = np.random.randn(1, 1, 1)
    Z = conv_single_step(a_slice_prev, W, b)
    assert isinstance(Z, float)
    assert abs(Z - -6.99908945068) < 1e-10


def _exercise_conv():
    np.random.seed(1)
    A_prev = np.random.randn(10, 5, 7, 4)
    W = np.random.randn(3, 3, 4, 8)
    b = np.random.randn(1, 1, 1, 8)
    return A_prev, W, b, {"pad": 1, "stride": 2}


def test_conv_forward_known_numbers():
    A_prev, W, b, hparameters = _exercise_conv()
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    assert Z.shape == (10, 3, 4, 8)
    assert np.mean(Z) == pytest.approx(0.692360880758, abs=1e-11)
    np.testing.assert_allclose(
        Z[3, 2, 1], [-1.28912231, 2.27650251, 6.61941931, 0.95527176, 8.25132576, 2.31329639,
                     13.00689405, 2.34576051], atol=1e-8)
    assert cache[0] is A_prev or np.array_equal(cache[0], A_prev)  # unpadded, as the exercise
    assert cache[3]["pad"] == 1 and cache[3]["stride"] == 2


def test_conv_backward_known_numbers():
    # The exercise's backward check: its own forward case (10, 4, 4, 3), 2x2x3x8, pad 2, stride 2.
    np.random.seed(1)
    A_prev = np.random.randn(10, 4, 4, 3)
    W = np.random.randn(2, 2, 3, 8)
    b = np.random.randn(1, 1, 1, 8)
    Z, cache = conv_forward(A_prev, W, b, {"pad": 2, "stride": 2})
    assert np.mean(Z) == pytest.approx(0.0489952035289, abs=1e-11)
    np.testing.assert_allclose(
        Z[3, 2, 1], [-0.61490741, -6.7439236, -2.55153897, 1.75698377, 3.56208902, 0.53036437,
                     5.18531798, 8.75898442], atol=1e-8)
    dA, dW, db = conv_backward(Z, cache)
    assert np.mean(dA) == pytest.approx(1.45243777754, abs=1e-10)
    assert np.mean(dW) == pytest.approx(1.72699145831, abs=1e-10)
    assert np.mean(db) == pytest.approx(7.83923256462, abs=1e-10)


def test_pool_forward_known_numbers():
    np.random.seed(1)
    A_prev = np.random.randn(2, 4, 4, 3)
    hparameters = {"stride": 2, "f": 3}
    A, _ = pool_forward(A_prev, hparameters)
    np.testing.assert_allclose(A.ravel(), [1.74481176, 0.86540763, 1.13376944, 1.13162939,
                                           1.51981682, 2.18557541], atol=1e-8)
    A, _ = pool_forward(A_prev, hparameters, mode="average")
    np.testing.assert_allclose(A.ravel(), [0.02105773, -0.20328806, -0.40389855, -0.22154621,
                                           0.51716526, 0.48155844], atol=1e-8)
    assert A.shape == (2, 1, 1, 3)


@pytest.mark.parametrize("mode, expected", [
    ("max", [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]]),
    ("average", [[0.08485462, 0.2787552], [1.26461098, -0.25749373],
                 [1.17975636, -0.53624893]]),
])
def test_pool_backward_known_numbers(mode, expected):
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    _, cache = pool_forward(A_prev, {"stride": 1, "f": 2})
    dA = np.random.randn(5, 4, 2, 2)
    assert np.mean(dA) == pytest.approx(0.145713902729, abs=1e-11)
    dA_prev = pool_backward(dA, cache, mode=mode)
    np.testing.assert_allclose(dA_prev[1, 1], expected, atol=1e-8)
    # The exercise's mask is x == max(x) ("all"); on randn inputs there are no ties, so the
    # default "first" gives the same numbers.
    np.testing.assert_array_equal(dA_prev, pool_backward(dA, cache, mode=mode, tie_rule="all"))


def test_create_mask_and_distribute_value_known_numbers():
    np.random.seed(1)
    x = np.random.randn(2, 3)
    np.testing.assert_array_equal(create_mask_from_window(x),
                                  [[True, False, False], [False, False, False]])
    np.testing.assert_array_equal(create_mask_from_window(np.array([[1, 3], [4, 2]])),
                                  [[False, False], [True, False]])
    # Ties keep the exercise's meaning: every maximum is True.
    np.testing.assert_array_equal(create_mask_from_window(np.array([[5, 5], [0, 5]])),
                                  [[True, True], [False, True]])
    np.testing.assert_array_equal(distribute_value(2, (2, 2)), np.full((2, 2), 0.5))
    np.testing.assert_array_equal(distribute_value(1.0, (2, 3)), np.full((2, 3), 1 / 6))


# --- The learner's code (the exercise's loops, verbatim in spirit) run against core ---------


def learner_conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape  # noqa: RUF059
    stride = hparameters['stride']
    pad = hparameters['pad']
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(0, m):
        a_prev = A_prev_pad[i, :, :, :]
        for h in range(0, n_H):
            for w in range(0, n_W):
                for c in range(0, n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    a_slice_prev = a_prev[vert_start:vert_end, horiz_start:horiz_end, :]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    assert Z.shape == (m, n_H, n_W, n_C)
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def learner_conv_backward(dZ, cache):
    """The classic solution, including its crop [pad:-pad]."""
    (A_prev, W, b, hparameters) = cache  # noqa: RUF059
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros((f, f, n_C_prev, n_C))
    db = np.zeros((1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += (
                        W[:, :, :, c] * dZ[i, h, w, c])
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
    return dA_prev, dW, db


@pytest.mark.parametrize("shape, f, n_C, stride, pad", [
    ((2, 5, 7, 4), 3, 8, 2, 1),
    ((1, 6, 6, 1), 1, 2, 1, 0),
    ((3, 4, 5, 2), 2, 3, 3, 2),
    ((1, 3, 3, 3), 5, 1, 1, 1),
])
def test_learner_conv_forward_runs_unchanged_against_core(shape, f, n_C, stride, pad):
    rng = np.random.default_rng(sum(shape) + f)
    A_prev = rng.standard_normal(shape)
    W = rng.standard_normal((f, f, shape[3], n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    hparameters = {"stride": stride, "pad": pad}
    Z_learner, _ = learner_conv_forward(A_prev, W, b, hparameters)
    Z, _ = conv_forward(A_prev, W, b, hparameters)
    np.testing.assert_allclose(Z, Z_learner, rtol=1e-12, atol=1e-12)


def test_learner_conv_backward_agrees_with_core_when_pad_is_positive():
    rng = np.random.default_rng(3)
    A_prev = rng.standard_normal((2, 5, 4, 3))
    W = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal((1, 1, 1, 2))
    Z, cache = conv_forward(A_prev, W, b, {"stride": 1, "pad": 1})
    dZ = rng.standard_normal(Z.shape)
    for ours, theirs in zip(conv_backward(dZ, cache), learner_conv_backward(dZ, cache),
                            strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_conv_backward_with_pad_zero_where_the_exercise_crop_breaks():
    rng = np.random.default_rng(4)
    A_prev = rng.standard_normal((2, 5, 6, 3))
    W = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal((1, 1, 1, 2))
    Z, cache = conv_forward(A_prev, W, b, {"stride": 1, "pad": 0})
    dZ = rng.standard_normal(Z.shape)
    # [pad:-pad] with pad = 0 is [0:0], an empty slice: the classic code cannot even assign.
    with pytest.raises(ValueError):
        learner_conv_backward(dZ, cache)
    dA_prev, dW, db = conv_backward(dZ, cache)
    assert dA_prev.shape == A_prev.shape
    assert np.abs(dA_prev).sum() > 0
    for ours, loop in zip((dA_prev, dW, db), conv_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(ours, loop, rtol=1e-12, atol=1e-12)


def test_pool_backward_with_no_padding_and_overlap_matches_loops():
    rng = np.random.default_rng(5)
    A_prev = rng.standard_normal((2, 5, 4, 3))
    A, cache = pool_forward(A_prev, {"stride": 1, "f": 3})
    dA = rng.standard_normal(A.shape)
    for mode in ("max", "average"):
        np.testing.assert_allclose(pool_backward(dA, cache, mode),
                                   pool_backward_loop(dA, cache, mode), rtol=1e-12, atol=1e-12)
