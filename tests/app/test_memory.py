"""app/platform/memory.py: past its limit the worker gives freed memory back (glibc's malloc_trim).

The real case runs in a fresh interpreter: it frees one 16 MiB array (glibc then serves
arrays of up to 16 MiB from its heap), allocates 96 arrays of 1 MiB and a smaller one after
them, frees the 96, and reads its RSS before and after a Trimmer over its limit runs. The
96 MiB stay in the heap under the last block until the trim gives them back."""

from __future__ import annotations

import asyncio
import ctypes
import subprocess
import sys
import time

import pytest

from app.main import create_app
from app.platform.config import Settings
from app.platform.heavy import LIGHT_BYTES, HeavyLimiter
from app.platform.memory import Trimmer, rss_bytes

SCRIPT = """
import sys, time
import numpy as np
from app.platform.memory import Trimmer, rss_bytes
big = np.ones(2 << 20); del big                      # 16 MiB freed: the threshold moves
before = rss_bytes()
arrays = [np.ones(1 << 17) for _ in range(96)]       # 96 arrays of 1 MiB, touched
pin = np.ones(16000)                                 # a block after them (128 KB)
del arrays
held = rss_bytes() - before
t = Trimmer(lambda: 0)
t.after_heavy()
deadline = time.monotonic() + 10
while t.trims == 0 and time.monotonic() < deadline:
    time.sleep(0.01)
print(held >> 20, (rss_bytes() - before) >> 20, t.trims)
"""

glibc = pytest.mark.skipif(not sys.platform.startswith("linux")
                           or not hasattr(ctypes.CDLL(None), "malloc_trim"),
                           reason="malloc_trim is glibc's (Linux)")


@glibc
def test_a_trimmer_over_its_limit_gives_the_freed_heap_back():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True)
    held, after, trims = map(int, out.stdout.split())
    assert held > 80, "the case must show glibc keeping freed arrays"
    assert trims == 1
    assert after < 16, f"{after} MiB still held after the trim"


def _wait(trimmer: Trimmer, n: int) -> None:
    deadline = time.monotonic() + 10
    while trimmer.trims < n and time.monotonic() < deadline:
        time.sleep(0.005)


def test_it_trims_only_over_its_limit_and_one_at_a_time():
    calls = []
    under = Trimmer(lambda: 1 << 60, trim=lambda: calls.append("under") or 1)
    under.after_heavy()
    time.sleep(0.05)
    assert calls == [] and under.trims == 0

    over = Trimmer(lambda: 0, trim=lambda: time.sleep(0.1) or calls.append("over") or 1)
    over.after_heavy()
    over.after_heavy()  # the first is still running: not a second thread
    _wait(over, 1)
    time.sleep(0.15)
    assert calls == ["over"] and over.trims == 1
    assert rss_bytes() is None or rss_bytes() > 0


def test_no_malloc_trim_means_nothing_is_done():
    t = Trimmer(lambda: 0, trim=None)
    t.trim = None
    t.after_heavy()
    assert t.trims == 0


def test_the_limiter_calls_it_after_heavy_requests_only():
    seen = []
    s = Settings()
    lim = HeavyLimiter(lambda: s, after_heavy=lambda: seen.append(lim.running_heavy))

    async def go():
        async with lim.slot(cost=1024):
            pass
        assert seen == []
        async with lim.slot(cost=LIGHT_BYTES + 1):
            pass

    asyncio.run(go())
    assert seen == [0]  # called once the heavy slot was given back


def test_the_app_trims_past_its_budget_plus_its_size_when_built():
    app = create_app(Settings(memory_budget_bytes=256 << 20))
    limit = app.state.trimmer.limit()
    assert 256 << 20 < limit < (256 << 20) + (1 << 30)
    assert app.state.limiter.after_heavy == app.state.trimmer.after_heavy
