"""Independent parts of one layer pass on a few threads: as many as BLAS uses.

Why: OpenBLAS threads the GEMMs of a convolution, but nothing else: the im2col and col2im
copies, dZ onto the grid and every pooling pass are NumPy element-wise passes, and NumPy
runs them on the calling thread. It releases the GIL inside copies and ufunc loops on
numeric arrays, though, so two threads that each run the same pass over their own part of
the arrays do run at once.

How many threads: as many as NumPy's OpenBLAS uses at the time of the call (read from the
library, so `OPENBLAS_NUM_THREADS` and a runtime change both count), at most os.cpu_count().
One thread means no pool at all: every part runs in the calling thread, in order. The
server runs BLAS on one thread (one request per worker), so it never starts this pool.

The rule that keeps results exact: the callers cut their work into parts that do not depend
on the thread count (bands of rows, blocks of columns: sizes set by the cache, not by the
threads), and `split` only groups consecutive parts, one group per thread. A part writes
cells no other running part writes, or hands its writes to a later sequential step that
adds them in the order one thread would (core/_fast/gemm.py and core/_fast/bands.py say where).
So every number is added in the same order with 1 or N threads: the results are
bit-identical (tests/core/test_parallel_passes.py checks it).

While the parts run, OpenBLAS is set to one thread (and back afterwards): each part's GEMMs
then run on its own thread, instead of every part queueing for OpenBLAS's own threads while
the other parts hold the cores. (A BLAS call of another thread of the process meanwhile
also runs on one thread; its results are the same, OpenBLAS never splits a GEMM's sums.)

A part that itself calls `run` (a layer called from inside a part) runs its parts inline,
so that the pool never waits on itself.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_inside = threading.local()  # .active: this thread is running a part
_forced: int | None = None  # set by `threads()` (tests and benchmarks)
_reversed = False  # set by `threads(n, reverse=True)` (tests)
MIN_SPLIT_BYTES = 1 << 20  # `assign` copies less than this in one piece (waking a thread
# and waiting for it costs about as much as copying a few hundred KB)
_CPUS = os.cpu_count() or 1


def _blas_functions():
    """OpenBLAS's (get_num_threads, set_num_threads) from NumPy's bundled library, or Nones."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype = ctypes.c_int
                put.argtypes = [ctypes.c_int]
                return get, put
    return None, None


_get_blas_threads, _set_blas_threads = _blas_functions()
_blas_lock = threading.Lock()
_blas_lent = 0  # how many `run`s now hold OpenBLAS at one thread
_blas_before = 1  # its thread count before the first of them


def thread_count() -> int:
    """Threads a layer pass may use now: `threads()`'s number if set, else BLAS's (>= 1)."""
    if _forced is not None:
        return _forced
    if getattr(_inside, "active", False) or _get_blas_threads is None:
        return 1
    return max(1, min(int(_get_blas_threads()), _CPUS))


@contextmanager
def threads(n: int, *, reverse: bool = False):
    """Within it, layer passes cut their work for `n` threads whatever BLAS uses (tests,
    benchmarks). reverse=True runs the groups one after another in the calling thread, the
    last first: the schedule of a first thread that lags behind, made certain, so that a
    test sees any result that depends on which group runs first."""
    global _forced, _reversed
    before = _forced, _reversed
    _forced, _reversed = int(n), reverse
    try:
        yield
    finally:
        _forced, _reversed = before


def split(n_parts: int) -> list[range]:
    """Consecutive groups of the parts 0..n_parts-1, one per thread (fewer if fewer parts),
    sizes differing by at most one."""
    groups = max(1, min(n_parts, thread_count()))
    if getattr(_inside, "active", False):
        groups = 1
    bounds = [n_parts * g // groups for g in range(groups + 1)]
    return [range(bounds[g], bounds[g + 1]) for g in range(groups)]


def _executor(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="convstep-part")
            _pool_size = size
        return _pool


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist here, start afresh."""
    global _pool, _pool_size, _blas_lent
    _pool, _pool_size, _blas_lent = None, 0, 0


os.register_at_fork(after_in_child=_forget_pool)


def _as_part(task: Callable[[], None]) -> Callable[[], None]:
    """The task as a part: run inline if it calls `run`, and under the caller's np.errstate
    (thread-local in NumPy, so a pool thread would otherwise warn where the caller asked
    for silence, as a pass in one thread would not)."""
    errors = np.geterr()

    def part():
        _inside.active = True
        try:
            with np.errstate(**errors):
                task()
        finally:
            _inside.active = False
    return part


def run(tasks: Sequence[Callable[[], None]]) -> None:
    """Run the tasks (one per group of `split`) at once: the first in the calling thread,
    the others on the pool; return when all are done, raising the first error."""
    if len(tasks) <= 1 or getattr(_inside, "active", False):
        for task in tasks:
            task()
        return
    if _reversed:
        for task in reversed(tasks):
            _as_part(task)()
        return
    pool = _executor(len(tasks) - 1)
    _lend_blas()
    try:
        futures = [pool.submit(_as_part(task)) for task in tasks[1:]]
        try:
            _as_part(tasks[0])()
        finally:
            errors = []
            for future in futures:
                try:
                    future.result()
                except BaseException as error:  # re-raised below
                    errors.append(error)
    finally:
        _return_blas()
    if errors:
        raise errors[0]


def _lend_blas() -> None:
    """OpenBLAS to one thread while parts run (the module docstring says why)."""
    global _blas_lent, _blas_before
    if _set_blas_threads is None:
        return
    with _blas_lock:
        if _blas_lent == 0:
            _blas_before = int(_get_blas_threads())
            if _blas_before > 1:
                _set_blas_threads(1)
        _blas_lent += 1


def _return_blas() -> None:
    global _blas_lent
    if _set_blas_threads is None:
        return
    with _blas_lock:
        _blas_lent -= 1
        if _blas_lent == 0 and _blas_before > 1:
            _set_blas_threads(_blas_before)


def assign(*copies: tuple[np.ndarray, object, int]) -> None:
    """dst[...] = src for every (dst, src, axis) of `copies` (src an array of dst's shape, or
    a number), each cut along its `axis` into one piece per thread, all in one `run`. A copy
    is exact however it is cut."""
    big = [c for c in copies if c[0].nbytes >= MIN_SPLIT_BYTES]
    for dst, src, _ in copies:
        if dst.nbytes < MIN_SPLIT_BYTES:
            dst[...] = src
    if not big:
        return
    n = max(len(split(dst.shape[axis])) for dst, _, axis in big)

    def piece(k: int) -> None:
        for dst, src, axis in big:
            size = dst.shape[axis]
            start, stop = size * k // n, size * (k + 1) // n
            at = (slice(None),) * (axis % dst.ndim) + (slice(start, stop),)
            dst[at] = src[at] if isinstance(src, np.ndarray) else src

    run([lambda k=k: piece(k) for k in range(n)])


def for_each(fn: Callable[[int], None], n_parts: int) -> None:
    """fn(k) for every part k < n_parts: each group of `split` in order, groups at once."""
    run([lambda group=group: [fn(k) for k in group] for group in split(n_parts)])
