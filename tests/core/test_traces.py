"""Trace invariants: step counts, windows, values equal to the fast passes, running totals."""

import json
import tracemalloc

import numpy as np
import pytest

from core import (
    GeometryError,
    conv_backward,
    conv_backward_row_sums,
    conv_backward_totals,
    conv_backward_trace,
    conv_forward,
    conv_forward_trace,
    pool_backward,
    pool_backward_totals,
    pool_backward_trace,
    pool_forward,
    pool_forward_trace,
    step_index,
    step_position,
    zero_pad,
)
from core.padding import fold_pad

CONV_CASES = [
    pytest.param({"stride": 1, "pad": 1}, {}, id="same"),
    pytest.param({"stride": 2, "pad": 0}, {}, id="pad0-stride2"),
    pytest.param({"stride": 1, "pad": 2}, {"pad_mode": "reflect"}, id="reflect"),
    pytest.param({"stride": 2, "pad": 3}, {"pad_mode": "edge", "dilation": 2}, id="edge-dilated"),
    pytest.param({"stride": 3, "pad": 2}, {"pad_value": (4, 6)}, id="constant-pair"),
    pytest.param({"stride": 1, "pad": 1}, {"pad_value": -1.5, "dilation": 2}, id="constant-1.5"),
]


def _conv_layer(rng, hparameters, kwargs, m=2, shape=(6, 5), n_C_prev=2, f=3, n_C=3):
    A_prev = rng.standard_normal((m, *shape, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    Z, cache = conv_forward(A_prev, W, b, hparameters, **kwargs)
    return A_prev, W, b, Z, cache


def _all_steps(trace, *args, page=7, **kwargs):
    """Every step, fetched page by page (pages must tile the steps exactly)."""
    steps, offset = [], 0
    while True:
        p = trace(*args, offset=offset, limit=page, **kwargs)
        assert p.offset == offset
        steps.extend(p.steps)
        if len(p.steps) < page:
            return p.total, steps
        offset += page


@pytest.mark.parametrize("hparameters, kwargs", CONV_CASES)
def test_conv_forward_trace_invariants(rng, hparameters, kwargs):
    A_prev, W, b, Z, _ = _conv_layer(rng, hparameters, kwargs)
    total, steps = _all_steps(conv_forward_trace, A_prev, W, b, hparameters, **kwargs)
    assert total == Z.size == len(steps)
    A_pad = zero_pad(A_prev, hparameters["pad"], pad_mode=kwargs.get("pad_mode", "constant"),
                     pad_value=kwargs.get("pad_value", 0.0))
    d = kwargs.get("dilation", 1)
    for k, s in enumerate(steps):
        assert s.index == k
        assert (s.i, s.h, s.w, s.c) == step_position(Z.shape, k)
        assert 0 <= s.vert_start < s.vert_end <= A_pad.shape[1]
        assert 0 <= s.horiz_start < s.horiz_end <= A_pad.shape[2]
        assert s.vert_start == s.h * hparameters["stride"]
        assert s.vert_end - s.vert_start == d * 2 + 1
        window = A_pad[s.i, s.vert_start:s.vert_end:d, s.horiz_start:s.horiz_end:d, :]
        np.testing.assert_array_equal(s.a_slice, window)
        np.testing.assert_array_equal(s.weights, W[..., s.c])
        np.testing.assert_allclose(s.products, window * W[..., s.c], rtol=1e-15)
        assert s.total == pytest.approx(np.sum(s.products), rel=1e-12, abs=1e-12)
        assert s.bias == b[0, 0, 0, s.c]
        assert s.z == pytest.approx(Z[s.i, s.h, s.w, s.c], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("hparameters, kwargs", CONV_CASES)
def test_conv_backward_trace_and_running_totals(rng, hparameters, kwargs):
    A_prev, W, b, Z, cache = _conv_layer(rng, hparameters, kwargs)
    dZ = rng.standard_normal(Z.shape)
    total, steps = _all_steps(conv_backward_trace, dZ, cache, page=5)
    assert total == dZ.size == len(steps)
    dA_prev, dW, db = conv_backward(dZ, cache)
    pad = hparameters["pad"]
    A_pad = zero_pad(A_prev, pad, pad_mode=kwargs.get("pad_mode", "constant"),
                     pad_value=kwargs.get("pad_value", 0.0))
    d = kwargs.get("dilation", 1)
    # Replay the loops' += from the steps alone, and compare with totals at a few k.
    acc_dA = np.zeros(A_pad.shape)
    acc_dW, acc_db = np.zeros(W.shape), np.zeros(b.shape)
    checkpoints = {0, 1, len(steps) // 3, len(steps) // 2 + 1, len(steps) - 1}
    for k, s in enumerate(steps):
        assert s.dz == dZ[s.i, s.h, s.w, s.c]
        np.testing.assert_allclose(s.da_add, W[..., s.c] * s.dz, rtol=1e-15)
        window = A_pad[s.i, s.vert_start:s.vert_end:d, s.horiz_start:s.horiz_end:d, :]
        np.testing.assert_allclose(s.dw_add, window * s.dz, rtol=1e-15)
        acc_dA[s.i, s.vert_start:s.vert_end:d, s.horiz_start:s.horiz_end:d, :] += s.da_add
        acc_dW[..., s.c] += s.dw_add
        acc_db[..., s.c] += s.dz
        assert s.db_running == pytest.approx(acc_db[0, 0, 0, s.c], rel=1e-12, abs=1e-12)
        if k in checkpoints:
            t_dA, t_dW, t_db = conv_backward_totals(dZ, cache, k)
            np.testing.assert_allclose(t_dA, acc_dA, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(t_dW, acc_dW, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(t_db, acc_db, rtol=1e-10, atol=1e-12)
    # At the last step the running totals are the full backward pass.
    t_dA, t_dW, t_db = conv_backward_totals(dZ, cache, len(steps) - 1)
    np.testing.assert_allclose(fold_pad(t_dA, pad, kwargs.get("pad_mode", "constant"),
                                        *A_prev.shape[1:3]), dA_prev, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t_dW, dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t_db, db, rtol=1e-12, atol=1e-12)
    assert steps[-1].db_running == pytest.approx(db[0, 0, 0, steps[-1].c], rel=1e-12)
    before = conv_backward_totals(dZ, cache, -1)
    assert all(not np.any(x) for x in before)


@pytest.mark.parametrize("mode, tie_rule", [("max", "first"), ("max", "all"), ("max", "split"),
                                            ("average", "first")])
@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (2, 3)])
def test_pool_traces_and_running_totals(rng, mode, tie_rule, f, stride):
    A_prev = rng.integers(0, 3, (2, 7, 6, 2)).astype(float)  # ties on purpose
    hparameters = {"f": f, "stride": stride}
    A, cache = pool_forward(A_prev, hparameters, mode=mode)
    total, fwd = _all_steps(pool_forward_trace, A_prev, hparameters, mode, tie_rule=tie_rule)
    assert total == A.size == len(fwd)
    for s in fwd:
        window = A_prev[s.i, s.vert_start:s.vert_end, s.horiz_start:s.horiz_end, s.c]
        assert s.vert_end - s.vert_start == f and s.vert_end <= A_prev.shape[1]
        assert s.horiz_end <= A_prev.shape[2]
        np.testing.assert_array_equal(s.window, window)
        assert s.value == pytest.approx(A[s.i, s.h, s.w, s.c], rel=1e-12)
        if mode == "max":
            assert s.window[s.argmax] == s.value
            ties = int((window == window.max()).sum())
            assert s.mask.sum() == pytest.approx(ties if tie_rule == "all" else 1.0)
        else:
            assert s.argmax is None and s.mask is None

    dA = rng.standard_normal(A.shape)
    total, bwd = _all_steps(pool_backward_trace, dA, cache, mode, tie_rule=tie_rule)
    acc = np.zeros(A_prev.shape)
    for k, s in enumerate(bwd):
        assert s.da == dA[s.i, s.h, s.w, s.c]
        np.testing.assert_allclose(s.added, s.route * s.da, rtol=1e-15)
        if mode == "average":
            np.testing.assert_allclose(s.route, np.full((f, f), 1 / f**2))
        acc[s.i, s.vert_start:s.vert_end, s.horiz_start:s.horiz_end, s.c] += s.added
        if k in (0, len(bwd) // 2):
            np.testing.assert_allclose(pool_backward_totals(dA, cache, k, mode, tie_rule), acc,
                                       rtol=1e-12, atol=1e-12)
    full = pool_backward(dA, cache, mode, tie_rule=tie_rule)
    np.testing.assert_allclose(acc, full, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pool_backward_totals(dA, cache, len(bwd) - 1, mode, tie_rule),
                               full, rtol=1e-12, atol=1e-12)


def test_position_addressing_equals_offset_addressing(rng):
    hp = {"stride": 1, "pad": 1}
    A_prev, W, b, Z, cache = _conv_layer(rng, hp, {})
    dZ = rng.standard_normal(Z.shape)
    for position in [(0, 0, 0, 0), (1, 2, 3, 1), (1, 5, 4, 2)]:
        k = step_index(Z.shape, position)
        assert step_position(Z.shape, k) == position
        by_pos = conv_forward_trace(A_prev, W, b, hp, position=position, limit=4)
        by_off = conv_forward_trace(A_prev, W, b, hp, offset=k, limit=4)
        assert by_pos.offset == k
        assert json.dumps(by_pos.to_dict()) == json.dumps(by_off.to_dict())
        back_pos = conv_backward_trace(dZ, cache, position=position, limit=3)
        back_off = conv_backward_trace(dZ, cache, offset=k, limit=3)
        assert back_pos.to_dict() == back_off.to_dict()
        assert (back_pos.steps[0].i, back_pos.steps[0].h, back_pos.steps[0].w,
                back_pos.steps[0].c) == position
    A, pcache = pool_forward(A_prev, {"f": 2, "stride": 2})
    k = step_index(A.shape, (1, 1, 1, 0))
    assert (pool_forward_trace(A_prev, {"f": 2, "stride": 2}, position=(1, 1, 1, 0)).to_dict()
            == pool_forward_trace(A_prev, {"f": 2, "stride": 2}, offset=k).to_dict())
    dA = rng.standard_normal(A.shape)
    assert (pool_backward_trace(dA, pcache, position=(1, 1, 1, 0), limit=2).to_dict()
            == pool_backward_trace(dA, pcache, offset=k, limit=2).to_dict())


def test_step_index_examples():
    assert step_index((1, 2, 3, 4), (0, 1, 0, 2)) == 14
    assert step_position((1, 2, 3, 4), 14) == (0, 1, 0, 2)
    assert step_index((2, 3, 3, 5), (1, 2, 2, 4)) == 2 * 3 * 3 * 5 - 1


def test_pages_at_the_end_and_past_it(rng):
    hp = {"stride": 1, "pad": 0}
    A_prev, W, b, Z, _ = _conv_layer(rng, hp, {}, m=1)
    last = conv_forward_trace(A_prev, W, b, hp, offset=Z.size - 2, limit=10)
    assert [s.index for s in last.steps] == [Z.size - 2, Z.size - 1]
    past = conv_forward_trace(A_prev, W, b, hp, offset=Z.size + 5, limit=10)
    assert past.steps == () and past.total == Z.size and past.offset == Z.size
    assert conv_forward_trace(A_prev, W, b, hp, limit=0).steps == ()
    with pytest.raises(GeometryError, match="limit"):
        conv_forward_trace(A_prev, W, b, hp, limit=-1)
    with pytest.raises(GeometryError, match="step 36 does not exist: there are 36 steps"):
        conv_backward_totals(np.ones(Z.shape), conv_forward(A_prev, W, b, hp)[1], Z.size)


def test_to_dict_is_plain_json_with_full_precision(rng):
    hp = {"stride": 1, "pad": 1}
    A_prev, W, b, Z, cache = _conv_layer(rng, hp, {})
    page = conv_forward_trace(A_prev.astype(np.float32), W, b, hp, limit=2).to_dict()
    assert page["kind"] == "conv_forward" and page["total"] == Z.size and page["offset"] == 0
    step = page["steps"][0]
    assert set(step) == {"index", "i", "h", "w", "c", "vert_start", "vert_end", "horiz_start",
                         "horiz_end", "a_slice", "weights", "products", "total", "bias", "z"}
    assert type(step["a_slice"][1][1][0]) is float and type(step["index"]) is int
    assert step["weights"][0][0][0] == W[0, 0, 0, 0]  # float64 round trip, no rounding
    assert json.loads(json.dumps(page)) == page
    pool = pool_forward_trace(A_prev, {"f": 2, "stride": 2}, limit=1).to_dict()["steps"][0]
    assert isinstance(pool["argmax"], list) and len(pool["argmax"]) == 2
    avg = pool_forward_trace(A_prev, {"f": 2, "stride": 2}, "average", limit=1).to_dict()
    assert avg["steps"][0]["argmax"] is None and avg["steps"][0]["mask"] is None
    back = conv_backward_trace(np.ones(Z.shape), cache, limit=1).to_dict()["steps"][0]
    assert set(back) - {"index", "i", "h", "w", "c", "vert_start", "vert_end", "horiz_start",
                        "horiz_end"} == {"dz", "da_add", "dw_add", "db_running"}


def test_a_page_costs_memory_for_its_steps_not_for_the_image():
    # A 1024 x 1024 x 3 float64 input is 25 MB; padding it would allocate more than that.
    rng = np.random.default_rng(0)
    A_prev = rng.standard_normal((1, 1024, 1024, 3))
    W = rng.standard_normal((3, 3, 3, 8))
    b = np.zeros((1, 1, 1, 8))
    hp = {"stride": 1, "pad": 1}
    dZ = rng.standard_normal((1, 1024, 1024, 8))
    dZ_view = np.zeros((1, 1024, 1030, 8))[:, :, 3:1027]  # strided, like conv_forward's Z
    cache = (A_prev, W, b, hp)
    end = 1024 * 1024 * 8 - 64
    for pad_mode in ("constant", "reflect", "edge"):
        tracemalloc.start()
        try:
            conv_forward_trace(A_prev, W, b, hp, pad_mode=pad_mode, offset=end, limit=64)
            conv_backward_trace(dZ, cache, offset=end, limit=64)
            conv_backward_trace(dZ_view, cache, offset=end, limit=64)
            pool_forward_trace(A_prev, {"f": 3, "stride": 1}, offset=end, limit=64)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000, f"{pad_mode}: a 64-step page allocated {peak} bytes"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows", [0, 1, 2, 9, 10007])
def test_db_running_prefix_sum_is_exact_enough(dtype, rows):
    from core.trace import _column_sums

    X = np.random.default_rng(rows).standard_normal((rows, 5)).astype(dtype)
    want = X.astype(np.float64).sum(axis=0)
    got = _column_sums(X)
    assert got.dtype == np.float64 and got.shape == (5,)
    np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-5,
                               atol=1e-9 if dtype == np.float64 else 1e-3)


def test_backward_pages_of_a_strided_dZ_equal_those_of_a_copy(rng):
    hp = {"stride": 1, "pad": 1}
    *_, Z, cache = _conv_layer(rng, hp, {}, m=2)
    m, n_H, n_W, n_C = Z.shape
    dZ = np.zeros((m, n_H, n_W + 3, n_C))[:, :, 1:-2]  # a strided view (like Z itself may be)
    dZ[...] = Z
    assert not dZ.flags.c_contiguous
    contiguous = np.ascontiguousarray(dZ)
    for offset in (0, 5, Z.size // 2 + 3, Z.size - 4):
        got = conv_backward_trace(dZ, cache, offset=offset, limit=4).steps
        want = conv_backward_trace(contiguous, cache, offset=offset, limit=4).steps
        assert [s.index for s in got] == [s.index for s in want] == list(range(offset,
                                                                             offset + 4))
        for g, w in zip(got, want, strict=True):
            assert g.dz == w.dz
            np.testing.assert_array_equal(g.da_add, w.da_add)
            assert g.db_running == pytest.approx(w.db_running, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("hparameters, kwargs", CONV_CASES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_backward_pages_with_db_prefix_equal_those_without(rng, hparameters, kwargs,
                                                            contiguous):
    *_, Z, cache = _conv_layer(rng, hparameters, kwargs, m=2)
    dZ = rng.standard_normal(Z.shape)
    if not contiguous:  # a strided view, as Z itself may be
        dZ = np.zeros((*Z.shape[:2], Z.shape[2] + 3, Z.shape[3]))[:, :, 1:-2]
        dZ[...] = rng.standard_normal(Z.shape)
    prefix = conv_backward_row_sums(dZ)
    for page in (1, 4, 7):  # pages that start and end anywhere in a row or an image
        total, without = _all_steps(conv_backward_trace, dZ, cache, page=page)
        _, with_prefix = _all_steps(conv_backward_trace, dZ, cache, page=page,
                                    db_prefix=prefix)
        assert total == len(without) == len(with_prefix) == dZ.size
        for g, w in zip(with_prefix, without, strict=True):
            assert (g.index, g.dz) == (w.index, w.dz)
            np.testing.assert_array_equal(g.da_add, w.da_add)
            np.testing.assert_array_equal(g.dw_add, w.dw_add)
            assert g.db_running == pytest.approx(w.db_running, rel=1e-12, abs=1e-12)
    _, _, db = conv_backward(dZ, cache)
    assert with_prefix[-1].db_running == pytest.approx(db[0, 0, 0, -1], rel=1e-12)
    for position in ((1, 0, 0, 0), (0, Z.shape[1] - 1, Z.shape[2] - 1, 2), (1, 1, 1, 1)):
        got = conv_backward_trace(dZ, cache, position=position, limit=3, db_prefix=prefix)
        want = conv_backward_trace(dZ, cache, position=position, limit=3)
        assert [s.db_running for s in got.steps] == pytest.approx(
            [s.db_running for s in want.steps], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 5, 4), (3, 4, 1, 2), (1, 7, 40, 3),
                                   (2, 2, 17, 8)])
def test_conv_backward_row_sums_shape_and_values(dtype, shape):
    dZ = np.random.default_rng(sum(shape)).standard_normal(shape).astype(dtype)
    m, n_H, n_W, n_C = shape
    prefix = conv_backward_row_sums(dZ)
    assert prefix.shape == (m, n_H + 1, n_C) and prefix.dtype == np.float64
    flat = dZ.astype(np.float64).reshape(m * n_H, n_W, n_C).sum(axis=1)
    running = np.concatenate([np.zeros((1, n_C)), np.cumsum(flat, axis=0)])
    for i in range(m):
        for h in range(n_H + 1):  # db just before step (i, h, 0, 0); row n_H: after image i
            np.testing.assert_allclose(prefix[i, h], running[i * n_H + h], rtol=1e-12,
                                       atol=1e-12)
    np.testing.assert_allclose(prefix[-1, -1], dZ.astype(np.float64).sum(axis=(0, 1, 2)),
                               rtol=1e-12, atol=1e-12)
    if m > 1:
        np.testing.assert_array_equal(prefix[1:, 0], prefix[:-1, n_H])
    np.testing.assert_array_equal(conv_backward_row_sums(np.ones((1, 2, 3, 1)))[0, :, 0],
                                  [0, 3, 6])


def test_db_prefix_of_the_wrong_shape_is_refused(rng):
    *_, Z, cache = _conv_layer(rng, {"stride": 1, "pad": 1}, {})
    dZ = rng.standard_normal(Z.shape)
    bad = conv_backward_row_sums(dZ)[:, :-1]
    with pytest.raises(GeometryError, match=r"db_prefix must be conv_backward_row_sums\(dZ\)"):
        conv_backward_trace(dZ, cache, offset=3, limit=2, db_prefix=bad)


def test_a_page_at_the_end_with_db_prefix_allocates_little():
    rng = np.random.default_rng(5)
    A_prev = rng.standard_normal((1, 300, 300, 3))
    W = rng.standard_normal((3, 3, 3, 8))
    b = rng.standard_normal((1, 1, 1, 8))
    Z, cache = conv_forward(A_prev, W, b, {"stride": 1, "pad": 1})
    dZ = rng.standard_normal(Z.shape)
    prefix = conv_backward_row_sums(dZ)
    assert prefix.nbytes == 301 * 8 * 8
    tracemalloc.start()
    try:
        page = conv_backward_trace(dZ, cache, offset=dZ.size - 64, limit=64, db_prefix=prefix)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert page.steps[-1].db_running == pytest.approx(dZ.sum(axis=(0, 1, 2))[-1], rel=1e-12)
