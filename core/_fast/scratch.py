"""Scratch arrays for the convolution, reused from one call to the next (a bounded pool).

Why it exists: a fresh array of more than a few hundred KB comes from the operating system
(glibc's malloc maps it, and unmaps it when it is freed), so every 4 KB page of it costs a
page fault on first touch, a few microseconds each in a virtual machine. The convolution's
intermediates (the phase buffers, their gradient, dZ on the flat grid, the blocks of
columns) are of that size, and the server makes them again for every request. Measured
through the server's own call pattern (app.explore.services.layer.run, one BLAS thread, with and
without the pool, in interleaved rounds; `python -m bench --only core_bench`, section
"Scratch pool"), the pool removes most of the page faults of a request and pays at the page's
default image sizes. It stops paying when the process's allocator keeps freed memory (glibc's
M_MMAP_THRESHOLD / M_TRIM_THRESHOLD raised): then remove it. docs/BENCHMARKS.md has the
numbers.

How it works: a call opens `scratch_scope()`; inside it `scratch_array` hands out a pooled
buffer (the smallest free one that fits and is at most twice as big) or a new one, and the
scope's end gives them all back. One pool serves every thread; a buffer belongs to one call
until that call's scope ends, so no two calls ever share one. The parts of a call that run
on other threads (core/_fast/parallel.py) use buffers the call took in its own thread. Buffers
above MAX_ARRAY_BYTES are never kept, and the pool keeps at most MAX_POOL_BYTES in all
(largest dropped first).
Nothing made from a scratch array may outlive the scope: results are always fresh arrays.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

MAX_ARRAY_BYTES = 1 << 24  # larger scratch arrays are allocated fresh and never kept
MAX_POOL_BYTES = 1 << 26  # what the pool may hold between calls, per process

_free: list[np.ndarray] = []  # free raw uint8 buffers, smallest first
_free_lock = threading.Lock()
_current = threading.local()  # .taken: the buffers of this thread's open scope, or None


@contextmanager
def scratch_scope():
    """Within it, scratch_array hands out pooled buffers; they go back at the end."""
    taken: list[np.ndarray] = []
    outer = getattr(_current, "taken", None)
    _current.taken = taken
    try:
        yield
    finally:
        _current.taken = outer
        with _free_lock:
            _free.extend(taken)
            _free.sort(key=lambda a: a.nbytes)
            total = sum(a.nbytes for a in _free)
            while total > MAX_POOL_BYTES:
                total -= _free.pop().nbytes


def scratch_array(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array of `shape`: pooled inside `scratch_scope()` (when at most
    MAX_ARRAY_BYTES), else a fresh one."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    taken = getattr(_current, "taken", None)
    if taken is None or nbytes > MAX_ARRAY_BYTES:
        return np.empty(shape, dtype=dtype)
    raw = None
    with _free_lock:  # the smallest that fits, and not more than twice as big
        for k, candidate in enumerate(_free):
            if nbytes <= candidate.nbytes <= 2 * max(nbytes, 4096):
                raw = _free.pop(k)
                break
    if raw is None:
        raw = np.empty(max(nbytes, 1), dtype=np.uint8)
    taken.append(raw)
    return raw[:nbytes].view(dtype).reshape(shape)


def pooled_bytes() -> int:
    """Bytes the pool holds now (between calls; at most MAX_POOL_BYTES)."""
    with _free_lock:
        return sum(a.nbytes for a in _free)


def clear() -> None:
    """Drop every pooled buffer (tests and benchmarks start from an empty pool)."""
    with _free_lock:
        _free.clear()
