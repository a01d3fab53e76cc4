"""Freed memory goes back to the system once the worker holds more than its budget.

glibc's malloc serves a block of 128 KiB or more with its own mapping at first, but each time
such a block is freed it raises that threshold to the block's size (up to 32 MiB): the arrays
of later requests then come from the heaps of malloc's arenas (one per thread of the pool that
runs the work), which is fast (freed memory is reused without page faults) but keeps what was
freed in the middle of a heap. Under the mixed overload of bench/load_bench.py (budget
512 MiB) a worker's RSS grew to about 800 MiB and stayed there, although the work in flight
and the cache never held more than the budget.

`Trimmer` keeps the fast reuse while the worker is small, and calls glibc's `malloc_trim(0)`
(which gives back every whole free page of every arena) after a heavy request ends whenever
the worker's RSS is over its limit (the memory budget plus its RSS when the app was built).
Fixing the mmap threshold instead (mallopt) held RSS as well but made every large array a
fresh mapping: a size-512 image request's compute went from about 95 to 150 ms.

Only glibc on Linux has malloc_trim; elsewhere (musl, macOS) `Trimmer.after_heavy` only
reads nothing and does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int | None:
    """This process's resident set, or None where /proc is not there."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def _malloc_trim() -> Callable[[], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # no glibc
        return None
    fn.argtypes = (ctypes.c_size_t,)
    fn.restype = ctypes.c_int
    return lambda: fn(0)


class Trimmer:
    """`after_heavy()`: when RSS is over `limit()` bytes, trim malloc's arenas in a thread of
    its own (one at a time; the event loop never waits for it)."""

    def __init__(self, limit: Callable[[], int], trim: Callable[[], int] | None = None) -> None:
        self.limit = limit
        self.trim = trim if trim is not None else _malloc_trim()
        self.trims = 0  # how many times it trimmed (read by tests and the bench)
        self._busy = threading.Lock()

    def after_heavy(self) -> None:
        if self.trim is None:
            return
        rss = rss_bytes()
        if rss is None or rss <= self.limit() or not self._busy.acquire(blocking=False):
            return
        threading.Thread(target=self._run, name="malloc-trim", daemon=True).start()

    def _run(self) -> None:
        try:
            self.trim()
            self.trims += 1
        finally:
            self._busy.release()
