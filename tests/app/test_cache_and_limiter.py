"""The steps cache's bounds and the heavy-request limiter, on their own."""

from __future__ import annotations

import asyncio

import pytest

from app.platform.cache import LruCache
from app.platform.config import Settings
from app.platform.heavy import HeavyLimiter, OverloadedError


def _cache(**limits) -> LruCache:
    s = Settings(**limits)
    return LruCache(lambda: s)


def test_lru_evicts_the_least_recently_used_by_count():
    c = _cache(cache_entries=2)
    c.put("a", 1, 10)
    c.put("b", 2, 10)
    assert c.get("a") == 1  # "b" is now the oldest
    c.put("c", 3, 10)
    assert c.get("b") is None and c.get("a") == 1 and c.get("c") == 3
    assert len(c) == 2 and c.nbytes == 20


def test_lru_evicts_by_bytes_and_drops_what_cannot_fit():
    mb = 1024 * 1024
    c = _cache(cache_bytes=3 * mb)
    c.put("a", "A", mb)
    c.put("b", "B", mb)
    c.put("c", "C", 2 * mb)  # 4 MB > 3 MB: "a" goes
    assert c.get("a") is None and c.get("b") == "B" and c.get("c") == "C"
    c.put("huge", "H", 4 * mb)  # larger than the whole bound: not kept, nothing evicted
    assert c.get("huge") is None and len(c) == 2
    c.put("b", "B2", 2 * mb)  # replacing "b" counts its new size only: 2 + 2 MB, "c" goes
    assert c.nbytes == 2 * mb and len(c) == 1
    assert c.get("b") == "B2" and c.get("c") is None


def test_kept_keys_are_evicted_last():
    c = _cache(cache_entries=2)
    c.put(("image", 1), "img", 10)
    c.put(("alias", 1), 1, 10)
    c.put(("result", 1), "res", 10, keep=(("image", 1),))  # the alias goes, not the image
    assert c.get(("image", 1)) == "img" and c.get(("alias", 1)) is None
    c.put(("result", 2), "res2", 10, keep=(("image", 1),))
    assert c.get(("image", 1)) == "img" and c.get(("result", 1)) is None
    c.clear()
    assert len(c) == 0 and c.nbytes == 0


def _limiter(**limits) -> HeavyLimiter:
    s = Settings(**limits)
    return HeavyLimiter(lambda: s)


def test_limiter_hands_the_slot_to_the_oldest_waiter():
    async def go():
        lim = _limiter(max_heavy=1, max_queue=2, queue_wait_s=5)
        order = []

        async def job(name, hold):
            async with lim.slot():
                order.append(name)
                await asyncio.sleep(hold)

        first = asyncio.create_task(job("first", 0.05))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(job("second", 0))
        await asyncio.sleep(0.001)
        third = asyncio.create_task(job("third", 0))
        await asyncio.gather(first, second, third)
        return order, lim.running

    order, running = asyncio.run(go())
    assert order == ["first", "second", "third"] and running == 0


def test_limiter_cancelled_waiter_gives_nothing_away():
    async def go():
        lim = _limiter(max_heavy=1, max_queue=4, queue_wait_s=5)
        async with lim.slot():
            waiter = asyncio.create_task(lim.slot().__aenter__())
            await asyncio.sleep(0.01)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        # The slot was released to nobody (the cancelled waiter): free again.
        async with lim.slot():
            return lim.running

    assert asyncio.run(go()) == 1


def test_limiter_timeout_and_full_queue():
    async def go():
        lim = _limiter(max_heavy=1, max_queue=0, queue_wait_s=0.05)
        async with lim.slot():
            with pytest.raises(OverloadedError) as full:
                async with lim.slot():
                    pass
        lim2 = _limiter(max_heavy=1, max_queue=1, queue_wait_s=0.05)
        async with lim2.slot():
            with pytest.raises(OverloadedError) as slow:
                async with lim2.slot():
                    pass
        return full.value, slow.value, lim.running, lim2.running

    full, slow, r1, r2 = asyncio.run(go())
    assert full.status_code == slow.status_code == 503
    assert "max_queue = 0" in full.detail and "queue_wait_s = 0.05" in slow.detail
    assert full.headers == {"Retry-After": "1"}
    assert r1 == r2 == 0
