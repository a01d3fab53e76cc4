"""Convolution: fast against the loop twins, gradients against finite differences, dtypes."""

import numpy as np
import pytest

from core import conv_backward, conv_forward, zero_pad
from core.conv import prepare_conv
from core.loops import conv_backward_loop, conv_forward_loop

# (m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad)
GEOMETRIES = [
    pytest.param(1, 4, 4, 1, 3, 1, 1, 0, id="pad0-stride1"),
    pytest.param(2, 5, 5, 3, 3, 4, 1, 1, id="pad1-same"),
    pytest.param(2, 6, 6, 2, 3, 3, 1, 2, id="pad2"),
    pytest.param(1, 7, 7, 2, 3, 2, 2, 1, id="stride2"),
    pytest.param(3, 8, 7, 2, 2, 3, 3, 0, id="stride3-non-square"),
    pytest.param(2, 5, 5, 3, 1, 4, 1, 0, id="f1"),
    pytest.param(2, 5, 5, 3, 1, 2, 2, 1, id="f1-stride2-pad1"),
    pytest.param(1, 3, 3, 2, 5, 2, 1, 1, id="f-equals-padded-size"),
    pytest.param(2, 4, 6, 1, 4, 2, 1, 0, id="f-equals-height"),
    pytest.param(2, 9, 5, 3, 2, 5, 3, 1, id="stride-larger-than-f"),
    pytest.param(4, 6, 9, 5, 3, 6, 2, 2, id="batch-many-channels"),
    pytest.param(1, 1, 1, 1, 1, 1, 1, 0, id="one-pixel"),
    pytest.param(2, 10, 3, 4, 3, 2, 2, 0, id="tall-thin-floor-drops"),
]


def _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, dtype=np.float64):
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C_prev, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    return A_prev, W, b


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad", GEOMETRIES)
def test_conv_matches_loop_twin(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad,
                                dtype, tol):
    A_prev, W, b = _layer(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, dtype)
    hparameters = {"stride": stride, "pad": pad}
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    Z_loop, _ = conv_forward_loop(A_prev, W, b, hparameters)
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    assert Z.shape == (m, n_H, n_W, n_C)
    assert Z.dtype == dtype
    np.testing.assert_allclose(Z, Z_loop, rtol=tol, atol=tol)

    dZ = rng.standard_normal(Z.shape).astype(dtype)
    fast = conv_backward(dZ, cache)
    loop = conv_backward_loop(dZ, cache)
    for name, got, want, shape in zip(("dA_prev", "dW", "db"), fast, loop,
                                      (A_prev.shape, W.shape, b.shape), strict=True):
        assert got.shape == shape, name
        assert got.dtype == dtype, name
        np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10, err_msg=name)


PAD_CASES = [
    pytest.param("constant", 0.0, id="zero"),
    pytest.param("constant", 1.5, id="constant-1.5"),
    pytest.param("constant", (4, 6), id="constant-pair"),
    pytest.param("reflect", 0.0, id="reflect"),
    pytest.param("edge", 0.0, id="edge"),
]


@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("pad_mode, pad_value", PAD_CASES)
@pytest.mark.parametrize("stride, pad", [(1, 2), (2, 1), (3, 3)])
def test_pad_modes_and_dilation_match_loop_twin(rng, pad_mode, pad_value, dilation, stride, pad):
    A_prev, W, b = _layer(rng, 2, 7, 6, 2, 3, 3)
    hparameters = {"stride": stride, "pad": pad}
    kwargs = {"pad_mode": pad_mode, "pad_value": pad_value, "dilation": dilation}
    Z, cache = conv_forward(A_prev, W, b, hparameters, **kwargs)
    Z_loop, _ = conv_forward_loop(A_prev, W, b, hparameters, **kwargs)
    f_eff = dilation * 2 + 1
    n_H, n_W = (7 + 2 * pad - f_eff) // stride + 1, (6 + 2 * pad - f_eff) // stride + 1
    assert Z.shape == (2, n_H, n_W, 3)
    np.testing.assert_allclose(Z, Z_loop, rtol=1e-12, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    for got, want in zip(conv_backward(dZ, cache), conv_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pad_mode, pad_value", PAD_CASES)
def test_zero_pad_modes_equal_np_pad(rng, pad_mode, pad_value):
    X = rng.standard_normal((2, 4, 3, 2))
    got = zero_pad(X, 2, pad_mode=pad_mode, pad_value=pad_value)
    widths = ((0, 0), (2, 2), (2, 2), (0, 0))
    if pad_mode == "constant":
        want = np.pad(X, widths, "constant", constant_values=pad_value)
    else:
        want = np.pad(X, widths, pad_mode)
    np.testing.assert_array_equal(got, want)


def test_constant_pair_puts_before_top_left_and_after_bottom_right():
    X = np.zeros((1, 2, 2, 1))
    P = zero_pad(X, 1, pad_value=(4, 6))[0, :, :, 0]
    np.testing.assert_array_equal(P, [[4, 4, 4, 6], [4, 0, 0, 6], [4, 0, 0, 6], [4, 6, 6, 6]])


@pytest.mark.parametrize("pad_mode, pad_value", PAD_CASES)
@pytest.mark.parametrize("dilation, stride, pad", [(1, 1, 1), (1, 2, 2), (2, 1, 2), (2, 2, 1)])
def test_conv_gradients_match_centred_differences(rng, numeric_grad, pad_mode, pad_value,
                                                  dilation, stride, pad):
    A_prev, W, b = _layer(rng, 2, 5, 4, 2, 2, 3)
    G = None
    hparameters = {"stride": stride, "pad": pad}
    kwargs = {"pad_mode": pad_mode, "pad_value": pad_value, "dilation": dilation}

    def loss():  # L = sum(Z * G): dL/dZ = G
        Z, _ = conv_forward(A_prev, W, b, hparameters, **kwargs)
        return float(np.sum(Z * G))

    Z, cache = conv_forward(A_prev, W, b, hparameters, **kwargs)
    G = rng.standard_normal(Z.shape)
    dA_prev, dW, db = conv_backward(G, cache)
    np.testing.assert_allclose(dA_prev, numeric_grad(loss, A_prev), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dW, numeric_grad(loss, W), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, numeric_grad(loss, b), rtol=1e-6, atol=1e-7)


def test_reflect_and_edge_gradient_folds_onto_source_cells():
    # A 1 x 1 kernel of weight 1 with pad 1 copies the padded input: each output cell's
    # gradient of 1 flows to the input cell that pad cell shows.
    A_prev = np.arange(9.0).reshape(1, 3, 3, 1)
    W = np.ones((1, 1, 1, 1))
    b = np.zeros((1, 1, 1, 1))
    hp = {"stride": 1, "pad": 1}
    _, cache = conv_forward(A_prev, W, b, hp, pad_mode="edge")
    dA, _, _ = conv_backward(np.ones((1, 5, 5, 1)), cache)
    # edge: a corner cell is shown 4 times (itself, 2 edge copies, 1 corner copy)
    np.testing.assert_array_equal(dA[0, :, :, 0], [[4, 2, 4], [2, 1, 2], [4, 2, 4]])
    _, cache = conv_forward(A_prev, W, b, hp, pad_mode="reflect")
    dA, _, _ = conv_backward(np.ones((1, 5, 5, 1)), cache)
    # reflect: [a b c] -> [b | a b c | b], so per axis the counts are 1, 3, 1
    np.testing.assert_array_equal(dA[0, :, :, 0], [[1, 3, 1], [3, 9, 3], [1, 3, 1]])
    _, cache = conv_forward(A_prev, W, b, hp, pad_value=7.0)
    dA, _, _ = conv_backward(np.ones((1, 5, 5, 1)), cache)
    np.testing.assert_array_equal(dA[0, :, :, 0], np.ones((3, 3)))


def test_small_examples_from_docstrings():
    Z, cache = conv_forward(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)),
                            np.zeros((1, 1, 1, 1)), {"stride": 1, "pad": 1})
    np.testing.assert_array_equal(Z[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    dA_prev, dW, db = conv_backward(np.ones((1, 3, 3, 1)), cache)
    assert db.reshape(-1).tolist() == [9]
    np.testing.assert_array_equal(dW[:, :, 0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_cache_holds_unpadded_input_and_a_copy_of_hparameters(rng):
    A_prev, W, b = _layer(rng, 1, 4, 4, 2, 3, 2)
    hparameters = {"stride": 1, "pad": 2}
    Z, cache = conv_forward(A_prev, W, b, hparameters, pad_mode="reflect", dilation=2)
    assert len(cache) == 4
    np.testing.assert_array_equal(cache[0], A_prev)
    assert cache[3] == {"stride": 1, "pad": 2, "pad_mode": "reflect", "pad_value": 0.0,
                        "dilation": 2}
    assert hparameters == {"stride": 1, "pad": 2}  # the caller's dict is not changed
    # the backward pass reads the extensions back from the cache
    dZ = rng.standard_normal(Z.shape)
    for got, want in zip(conv_backward(dZ, cache), conv_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_integer_inputs_are_promoted_to_float64():
    A_prev = np.arange(16).reshape(1, 4, 4, 1)
    W = np.ones((2, 2, 1, 1), dtype=np.int32)
    b = np.zeros((1, 1, 1, 1), dtype=np.int64)
    Z, cache = conv_forward(A_prev, W, b, {"stride": 2, "pad": 0})
    assert Z.dtype == np.float64
    np.testing.assert_array_equal(Z[0, :, :, 0], [[10, 18], [42, 50]])
    dA, dW, db = conv_backward(np.ones(Z.shape, dtype=np.int64), cache)
    assert dA.dtype == dW.dtype == db.dtype == np.float64
    assert zero_pad(np.ones((1, 1, 1, 1), dtype=np.int8), 1).dtype == np.float64


def test_float32_stays_float32_and_is_close_to_float64(rng):
    A_prev, W, b = _layer(rng, 2, 9, 8, 3, 3, 4)
    hp = {"stride": 2, "pad": 1}
    Z32, cache32 = conv_forward(A_prev.astype(np.float32), W.astype(np.float32),
                                b.astype(np.float32), hp)
    Z64, cache64 = conv_forward(A_prev, W, b, hp)
    assert Z32.dtype == np.float32
    np.testing.assert_allclose(Z32, Z64, rtol=1e-4, atol=1e-4)
    dZ = rng.standard_normal(Z64.shape)
    for g32, g64 in zip(conv_backward(dZ.astype(np.float32), cache32),
                        conv_backward(dZ, cache64), strict=True):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("split", ["blocks", "chunks", "whole"])
@pytest.mark.parametrize("block", [1, 5, 17])
@pytest.mark.parametrize("stride, pad, dilation, pad_mode", [
    (1, 1, 1, "constant"), (2, 2, 1, "reflect"), (3, 1, 2, "edge"), (2, 0, 3, "constant"),
])
def test_blocked_paths_match_loop_twin(rng, monkeypatch, split, block, stride, pad, dilation,
                                       pad_mode):
    # Real inputs are cut into cache-sized blocks and each block's GEMMs into chunks; force
    # both on small inputs (tiny blocks or chunks that end anywhere) and check every number.
    from core._fast import gemm

    if split == "blocks":
        monkeypatch.setattr(gemm, "MIN_BLOCK", block)
        monkeypatch.setattr(gemm, "BLOCK_BYTES", 1)
    elif split == "whole":  # tiny blocks, each block's GEMMs in one call
        monkeypatch.setattr(gemm, "MIN_BLOCK", block)
        monkeypatch.setattr(gemm, "BLOCK_BYTES", 1)
        monkeypatch.setattr(gemm, "WHOLE_GEMM_MNK", 1)
    else:  # whole-input blocks, GEMMs in slices of `block` columns
        monkeypatch.setattr(gemm, "MIN_BLOCK", 1)
        monkeypatch.setattr(gemm, "SINGLE_THREAD_MNK", block * (3 * 9 + 1) * 4)
    A_prev, W, b = _layer(rng, 2, 9, 7, 3, 3, 4)
    hp = {"stride": stride, "pad": pad}
    kw = {"pad_mode": pad_mode, "dilation": dilation}
    Z, cache = conv_forward(A_prev, W, b, hp, **kw)
    np.testing.assert_allclose(Z, conv_forward_loop(A_prev, W, b, hp, **kw)[0], rtol=1e-12,
                               atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    for got, want in zip(conv_backward(dZ, cache), conv_backward_loop(dZ, cache), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    grids, layout = gemm.phase_input(prepare_conv(*cache), np.float64)
    columns = gemm.Columns(grids, layout, 3)
    if split in ("blocks", "whole"):
        assert columns.width == block
        assert len(list(columns.blocks())) == -(-layout.n_computed // block)
        if split == "whole":
            assert gemm.gemm_slices(block, 28, 4) == [slice(0, block)]
    else:
        assert [q.stop - q.start for q in gemm.gemm_slices(2 * block + 1, 28, 4)] == \
            [block, block, 1]


def test_scratch_arrays_are_reused_but_never_returned(rng, monkeypatch):
    # Intermediates go back to a pool between calls; results must stay fresh arrays, and a
    # call of another shape or dtype in between must not change them.
    from core._fast import scratch as _scratch

    cases = [(_layer(rng, 1, 9, 8, 3, 3, 4), {"stride": 1, "pad": 1}, np.float64),
             (_layer(rng, 2, 11, 6, 2, 3, 5), {"stride": 2, "pad": 2}, np.float32),
             (_layer(rng, 1, 7, 7, 1, 1, 2), {"stride": 1, "pad": 0}, np.float64)]
    results = []
    for (A_prev, W, b), hp, dtype in cases * 2:
        A_prev, W, b = (x.astype(dtype) for x in (A_prev, W, b))
        Z, cache = conv_forward(A_prev, W, b, hp)
        dZ = np.linspace(-1, 1, Z.size, dtype=dtype).reshape(Z.shape)
        grads = conv_backward(dZ, cache)
        results.append([x.copy() for x in (Z, *grads)])
        want = [conv_forward_loop(A_prev, W, b, hp)[0], *conv_backward_loop(dZ, cache)]
        for got, w in zip((Z, *grads), want, strict=True):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, w, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                       atol=1e-5 if dtype == np.float32 else 1e-12)
        assert _scratch.pooled_bytes() > 0, "the intermediates went back to the pool"
        for arr in (Z, *grads):
            for kept in _scratch._free:
                assert not np.shares_memory(arr, kept)
    for first, second in zip(results[:3], results[3:], strict=True):
        for x, y in zip(first, second, strict=True):
            np.testing.assert_array_equal(x, y)
    assert _scratch.pooled_bytes() <= _scratch.MAX_POOL_BYTES
    # Outside a call nothing is handed out from the pool; a pool bound of 0 keeps nothing.
    outside = _scratch.scratch_array((4,), np.float64)
    assert not any(np.shares_memory(outside, kept) for kept in _scratch._free)
    monkeypatch.setattr(_scratch, "MAX_POOL_BYTES", 0)
    (A_prev, W, b), hp, _ = cases[0]
    Z, cache = conv_forward(A_prev, W, b, hp)
    conv_backward(np.ones(Z.shape), cache)
    assert _scratch.pooled_bytes() == 0


def test_concurrent_calls_never_share_scratch(rng):
    from concurrent.futures import ThreadPoolExecutor

    A_prev, W, b = _layer(rng, 1, 40, 33, 3, 3, 4)
    hp = {"stride": 2, "pad": 1}
    dZs = [rng.standard_normal(conv_forward(A_prev, W, b, hp)[0].shape) for _ in range(4)]

    def run(dZ):
        Z, cache = conv_forward(A_prev, W, b, hp)
        return [x.copy() for x in (Z, *conv_backward(dZ, cache))]

    want = [run(dZ) for dZ in dZs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            for got, w in zip(pool.map(run, dZs), want, strict=True):
                for x, y in zip(got, w, strict=True):
                    np.testing.assert_array_equal(x, y)
