"""The layer passes on several threads (core/_fast/parallel.py): the same bits as on one thread.

The conv and pool passes cut their work into parts whose sizes do not depend on the thread
count (blocks of columns, bands of rows), so with 1, 2 or 3 threads, and whichever group
runs first (`threads(n, reverse=True)` runs the last first), every number must be
bit-identical, not merely close; and the threaded path must still match the loop twins
(core/loops.py) and centred finite differences. Tiny blocks, bands and copy pieces are
forced so that small inputs take every threaded path: many groups, a group whose deferred
adds span several blocks or bands, windows that overlap, ties.
"""

import threading

import numpy as np
import pytest

import core._fast.bands as bands
import core._fast.gemm as gemm
from core import conv_backward, conv_forward, pool_backward, pool_forward
from core._fast import parallel as _parallel
from core.conv import prepare_conv
from core.loops import conv_backward_loop, conv_forward_loop, pool_backward_loop

SCHEDULES = [(1, False), (2, False), (3, False), (2, True), (3, True)]  # (threads, reverse)


@pytest.fixture
def tiny_parts(monkeypatch):
    """Blocks of 1..5 columns, bands of a row or two, copies cut into pieces of any size."""
    def use(block: int = 3, band_bytes: int = 1):
        monkeypatch.setattr(gemm, "MIN_BLOCK", block)
        monkeypatch.setattr(gemm, "BLOCK_BYTES", 1)
        monkeypatch.setattr(bands, "_BAND_BYTES", band_bytes)
        monkeypatch.setattr(_parallel, "MIN_SPLIT_BYTES", 0)
    return use


def _bits(arrays):
    return [(a.dtype, a.shape, np.ascontiguousarray(a).tobytes()) for a in arrays]


def _conv_all(A_prev, W, b, hp, dZ, **kw):
    Z, cache = conv_forward(A_prev, W, b, hp, **kw)
    return [Z, *conv_backward(dZ, cache)]


CONV_CASES = [  # m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, pad_mode, dilation
    (2, 9, 7, 3, 3, 4, 1, 1, "constant", 1),
    (1, 13, 11, 2, 5, 3, 2, 2, "constant", 1),
    (3, 10, 9, 3, 3, 5, 3, 1, "reflect", 1),
    (2, 12, 13, 1, 3, 2, 2, 2, "edge", 2),
    (1, 8, 9, 4, 1, 3, 1, 0, "constant", 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("block", [1, 3, 17])
def test_conv_is_bit_identical_on_any_thread_count(rng, tiny_parts, dtype, case, block):
    m, H, Wd, C, f, n_C, stride, pad, pad_mode, dilation = case
    tiny_parts(block=block)
    A_prev = rng.standard_normal((m, H, Wd, C)).astype(dtype)
    W = rng.standard_normal((f, f, C, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    hp, kw = {"stride": stride, "pad": pad}, {"pad_mode": pad_mode, "dilation": dilation}
    Z, _ = conv_forward(A_prev, W, b, hp, **kw)
    dZ = rng.standard_normal(Z.shape).astype(dtype)
    results = []
    for n, reverse in SCHEDULES:
        with _parallel.threads(n, reverse=reverse):
            results.append(_bits(_conv_all(A_prev, W, b, hp, dZ, **kw)))
    assert all(r == results[0] for r in results)
    with _parallel.threads(2):
        got = _conv_all(A_prev, W, b, hp, dZ, **kw)
    Z_loop, cache = conv_forward_loop(A_prev, W, b, hp, **kw)
    want = [Z_loop, *conv_backward_loop(dZ, cache)]
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for x, y in zip(got, want, strict=True):
        assert x.dtype == dtype
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def test_conv_whole_block_gemms_on_threads_match_one_thread(rng, tiny_parts, monkeypatch):
    # Blocks big enough for one GEMM call each (OpenBLAS could thread those itself).
    tiny_parts(block=40)
    monkeypatch.setattr(gemm, "WHOLE_GEMM_MNK", 1)
    A_prev, W = rng.standard_normal((2, 30, 31, 3)), rng.standard_normal((3, 3, 3, 8))
    b, hp = rng.standard_normal((1, 1, 1, 8)), {"stride": 1, "pad": 1}
    dZ = rng.standard_normal((2, 30, 31, 8))
    with _parallel.threads(1):
        one = _bits(_conv_all(A_prev, W, b, hp, dZ))
    for reverse in (False, True):
        with _parallel.threads(2, reverse=reverse):
            assert _bits(_conv_all(A_prev, W, b, hp, dZ)) == one


def test_conv_backward_that_would_keep_too_much_aside_runs_its_blocks_in_one_group(
        rng, tiny_parts, monkeypatch):
    tiny_parts(block=4)
    A_prev, W = rng.standard_normal((1, 14, 15, 3)), rng.standard_normal((3, 3, 3, 4))
    b, hp = rng.standard_normal((1, 1, 1, 4)), {"stride": 1, "pad": 1}
    dZ = rng.standard_normal((1, 14, 15, 4))
    with _parallel.threads(1):
        one = _bits(_conv_all(A_prev, W, b, hp, dZ))
    grids, layout = gemm.phase_input(prepare_conv(A_prev, W, b, hp), np.float64)
    columns = gemm.Columns(grids, layout, 3)
    assert gemm.threads_pay_backward(columns, 4, 1, np.float64)
    monkeypatch.setattr(gemm, "MAX_KEPT_BYTES", 0)
    assert not gemm.threads_pay_backward(columns, 4, 1, np.float64)
    with _parallel.threads(2, reverse=True):
        assert _bits(_conv_all(A_prev, W, b, hp, dZ)) == one


def test_conv_gradients_on_threads_match_centred_differences(rng, tiny_parts, numeric_grad):
    tiny_parts(block=2)
    A_prev, W = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 3, 2, 3))
    b, hp = rng.standard_normal((1, 1, 1, 3)), {"stride": 2, "pad": 1}
    with _parallel.threads(2):
        Z, cache = conv_forward(A_prev, W, b, hp)
        weights = rng.standard_normal(Z.shape)  # loss = sum(weights * Z)
        dA_prev, dW, db = conv_backward(weights, cache)

        def loss():
            return float(np.sum(weights * conv_forward(A_prev, W, b, hp)[0]))

        for grad, x in ((dA_prev, A_prev), (dW, W), (db, b)):
            np.testing.assert_allclose(grad, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)


POOL_CASES = [(9, 7, 2, 2), (10, 6, 3, 1), (11, 8, 3, 2), (8, 9, 2, 3), (13, 5, 4, 1),
              (7, 7, 1, 1)]  # n_H_prev, n_W_prev, f, stride


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_H_prev, n_W_prev, f, stride", POOL_CASES)
@pytest.mark.parametrize("band_bytes", [1, 400])
def test_pool_is_bit_identical_on_any_thread_count(rng, tiny_parts, dtype, n_H_prev, n_W_prev,
                                                    f, stride, band_bytes):
    tiny_parts(band_bytes=band_bytes)
    hp = {"f": f, "stride": stride}
    for ties in (True, False):  # inputs of 0/1/2 tie in most windows
        A_prev = (rng.integers(0, 3, (2, n_H_prev, n_W_prev, 3)) if ties
                  else rng.standard_normal((2, n_H_prev, n_W_prev, 3))).astype(dtype)
        for mode, rules in (("max", ("first", "all", "split")), ("average", ("first",))):
            A, cache = pool_forward(A_prev, hp, mode)
            dA = rng.standard_normal(A.shape).astype(dtype)
            results = []
            for n, reverse in SCHEDULES:
                with _parallel.threads(n, reverse=reverse):
                    results.append(_bits([pool_forward(A_prev, hp, mode)[0]]
                                         + [pool_backward(dA, cache, mode, tie_rule=rule)
                                            for rule in rules]))
            assert all(r == results[0] for r in results), (mode, ties)
            with _parallel.threads(2):
                for rule in rules:
                    got = pool_backward(dA, cache, mode, tie_rule=rule)
                    want = pool_backward_loop(dA, cache, mode, tie_rule=rule)
                    assert got.dtype == dtype
                    if stride >= f and rule != "split":  # each cell gets one product: exact
                        np.testing.assert_array_equal(got, want)
                    else:
                        tol = 1e-5 if dtype == np.float32 else 1e-12
                        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (3, 2)])
def test_pool_gradients_on_threads_match_centred_differences(rng, tiny_parts, numeric_grad, f,
                                                             stride):
    tiny_parts(band_bytes=1)
    A_prev = rng.standard_normal((2, 7, 6, 2))  # no ties: max is differentiable
    hp = {"f": f, "stride": stride}
    with _parallel.threads(2):
        for mode in ("max", "average"):
            A, cache = pool_forward(A_prev, hp, mode)
            weights = rng.standard_normal(A.shape)

            def loss(mode=mode, weights=weights):
                return float(np.sum(weights * pool_forward(A_prev, hp, mode)[0]))

            np.testing.assert_allclose(pool_backward(weights, cache, mode),
                                       numeric_grad(loss, A_prev), rtol=1e-6, atol=1e-8)


def test_split_groups_consecutive_parts_one_per_thread():
    with _parallel.threads(3):
        assert _parallel.split(7) == [range(0, 2), range(2, 4), range(4, 7)]
        assert _parallel.split(2) == [range(0, 1), range(1, 2)]
        assert _parallel.split(0) == [range(0, 0)]
    with _parallel.threads(1):
        assert _parallel.split(5) == [range(0, 5)]


def test_run_runs_every_task_nested_ones_inline_and_raises_their_errors():
    seen, threads = [], set()

    def task(k):
        def go():
            threads.add(threading.get_ident())
            # a part calling a layer: its own parts run inline, in this thread
            assert _parallel.split(4) == [range(0, 4)]
            seen.append(k)
        return go

    with _parallel.threads(2):
        _parallel.run([task(0), task(1)])
        assert sorted(seen) == [0, 1] and len(threads) == 2

        def fails():
            raise ValueError("part 1 failed")

        with pytest.raises(ValueError, match="part 1 failed"):
            _parallel.run([task(2), fails])
        assert 2 in seen


def test_parts_on_pool_threads_run_under_the_callers_errstate():
    """np.errstate is per thread: a part on a pool thread keeps the caller's, so an overflow
    the caller silenced (the network's weights check) does not warn from another thread,
    and one the caller raises on still raises."""
    seen = []

    def part():
        seen.append((threading.get_ident(), np.geterr()["over"]))
        np.float64(1e308) * np.float64(10.0)  # overflows

    with _parallel.threads(2):
        with np.errstate(over="ignore"):
            _parallel.run([part, part])
        assert len({t for t, _ in seen}) == 2 and {o for _, o in seen} == {"ignore"}
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            _parallel.run([part, part])


@pytest.mark.skipif(_parallel._set_blas_threads is None, reason="OpenBLAS not found")
def test_thread_count_follows_blas_and_blas_gets_its_threads_back():
    before = _parallel._get_blas_threads()
    try:
        for n in (1, 2):
            _parallel._set_blas_threads(n)
            assert _parallel.thread_count() == min(n, _parallel.os.cpu_count() or 1)
        _parallel._set_blas_threads(2)
        inside = []
        with _parallel.threads(2):  # while parts run, OpenBLAS is on one thread
            _parallel.run([lambda: inside.append(_parallel._get_blas_threads())] * 2)
        assert inside == [1, 1]
        assert _parallel._get_blas_threads() == 2
    finally:
        _parallel._set_blas_threads(before)


def test_concurrent_threaded_calls_give_the_same_bits(rng, tiny_parts):
    # Two callers, each cutting its call over the pool: scratch buffers and deferred adds
    # belong to one call.
    from concurrent.futures import ThreadPoolExecutor

    tiny_parts(block=5, band_bytes=300)
    A_prev, W = rng.standard_normal((1, 20, 17, 3)), rng.standard_normal((3, 3, 3, 4))
    b, hp = rng.standard_normal((1, 1, 1, 4)), {"stride": 1, "pad": 1}
    dZs = [rng.standard_normal((1, 20, 17, 4)) for _ in range(4)]

    def call(dZ):
        conv = _conv_all(A_prev, W, b, hp, dZ)
        A, cache = pool_forward(conv[0], {"f": 3, "stride": 1})
        return _bits([*conv, pool_backward(A, cache)])

    with _parallel.threads(1):
        want = [call(dZ) for dZ in dZs]
    with _parallel.threads(2), ThreadPoolExecutor(2) as callers:
        for _ in range(3):
            assert list(callers.map(call, dZs)) == want


def test_a_forked_child_starts_its_own_pool(rng, tiny_parts):
    import os
    import select
    import signal

    tiny_parts(block=5)
    A_prev, W = rng.standard_normal((1, 12, 11, 2)), rng.standard_normal((3, 3, 2, 3))
    b, hp = rng.standard_normal((1, 1, 1, 3)), {"stride": 1, "pad": 1}
    with _parallel.threads(2):
        want = _bits([conv_forward(A_prev, W, b, hp)[0]])  # the parent's pool now exists
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the same call must finish (not wait on dead threads)
            ok = _bits([conv_forward(A_prev, W, b, hp)[0]]) == want
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
        os.close(write)
        try:
            ready, _, _ = select.select([read], [], [], 30)
            if not ready:  # the child hangs: end it, and fail
                os.kill(pid, signal.SIGKILL)
            assert ready and os.read(read, 1) == b"1", "the forked child's call did not finish"
        finally:
            os.close(read)
            os.waitpid(pid, 0)
