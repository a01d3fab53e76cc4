"""Admission of work by what it costs, under one per-worker memory budget.

Every request that computes states, before it allocates anything, an upper bound of the
bytes it will hold at its peak (`cost`: core/workspace.py's bounds for the layer functions,
the arrays it keeps and the answer it builds; app/platform/bounds.py adds them up). The
`Admission` (app.state.limiter) then decides:

- **Memory**: `memory_budget_bytes` (CONVSTEP_MEMORY_BUDGET_BYTES) holds the requests in
  flight *and* the steps cache. A request runs only when its cost fits beside the costs of
  the requests already running; the cache gives up its least recently used entries to make
  room (it never holds more than the budget minus the work in flight, and at most
  `cache_bytes`). A request whose cost alone is over the budget is a 413 naming it.
- **Cost classes**: a request of at most `LIGHT_BYTES` (the exercise's small arrays, a page
  of steps) is light: it runs as soon as its bytes fit, without waiting for a heavy slot
  and past any heavy request that waits. Heavier ones also need one of `max_heavy` slots
  (the CPU) and wait in arrival order.
- **Shedding**: at most `max_queue` requests wait, each at most `queue_wait_s`; beyond that
  503 with Retry-After, at once.

`heavy(request, fn, *args, cost=...)` runs `fn` in the thread pool once admitted;
`admitted(request, cost)` is the same as an async context manager. Work that outlives its
request (a training job) holds its bytes with `hold(cost)` until it calls the release it
got back: admitted at once or refused (413 / 503), never queued, and no heavy slot (its
own limit, max_jobs, bounds the threads).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.platform.config import Settings
from app.platform.errors import ApiError

T = TypeVar("T")
MIB = 2**20
# Up to this many bytes a request is light: no heavy slot, no waiting behind heavy work.
LIGHT_BYTES = 8 * MIB
# The cost of work that states none (a route of another area calling heavy() as before).
DEFAULT_COST = 64 * MIB


class OverloadedError(ApiError):
    """503 with Retry-After: no room within the budget, the queue is full or too slow."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(503, "overloaded", detail,
                         headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def too_costly(cost: int, settings: Settings, what: str = "this request") -> ApiError:
    return ApiError(413, "over_memory_budget",
                    f"{what} needs up to {cost} bytes of memory at its peak (bounded before "
                    f"anything is allocated); the limit is memory_budget_bytes = "
                    f"{settings.memory_budget_bytes} (CONVSTEP_MEMORY_BUDGET_BYTES) per "
                    "worker. Use smaller arrays, a smaller image, pad or dilation.")


@dataclass
class _Waiter:
    future: asyncio.Future[None]
    cost: int
    heavy: bool


class Admission:
    """Requests in flight by their cost: within the memory budget, `max_heavy` heavy ones
    at once, `max_queue` waiting. `cache_room` tells the steps cache how much it may hold.

    Runs in one event loop (the worker's); futures are made in the running loop at wait
    time, so one instance serves any loop (tests run each request in its own).
    """

    def __init__(self, settings: Callable[[], Settings],
                 shrink_cache: Callable[[int], None] = lambda _room: None,
                 after_heavy: Callable[[], None] = lambda: None) -> None:
        self.settings = settings
        self.shrink_cache = shrink_cache
        self.after_heavy = after_heavy  # memory.py's Trimmer: memory back past the limit
        self.in_flight = 0  # bytes reserved by running requests
        self.running_heavy = 0
        self.running = 0
        self.held = 0  # bytes of in_flight held by work beyond its request (hold)
        self._waiters: collections.deque[_Waiter] = collections.deque()

    # --- what the cache may hold ---------------------------------------------------------

    def cache_room(self) -> int:
        """Bytes the steps cache may hold now: the budget minus the work in flight."""
        s = self.settings()
        return max(0, min(s.cache_bytes, s.memory_budget_bytes - self.in_flight))

    # --- admission ------------------------------------------------------------------------

    def _fits(self, cost: int, heavy: bool) -> bool:
        s = self.settings()
        if heavy and self.running_heavy >= s.max_heavy:
            return False
        return self.in_flight + cost <= s.memory_budget_bytes

    def _take(self, cost: int, heavy: bool) -> None:
        self.in_flight += cost
        self.running += 1
        self.running_heavy += heavy
        self.shrink_cache(self.cache_room())

    def _give_back(self, cost: int, heavy: bool) -> None:
        self.in_flight -= cost
        self.running -= 1
        self.running_heavy -= heavy
        if heavy:
            self.after_heavy()
        self._wake()

    def _wake(self) -> None:
        """Admit the waiters that fit now: heavy ones in arrival order (the first that does
        not fit holds the later heavy ones back), light ones wherever they stand."""
        heavy_blocked = False
        for w in list(self._waiters):
            if w.future.done():
                self._waiters.remove(w)
                continue
            if w.heavy and heavy_blocked:
                continue
            if self._fits(w.cost, w.heavy):
                self._waiters.remove(w)
                self._take(w.cost, w.heavy)
                w.future.set_result(None)
            elif w.heavy:
                heavy_blocked = True

    @contextlib.asynccontextmanager
    async def slot(self, cost: int = DEFAULT_COST, what: str = "this request"
                   ) -> AsyncIterator[None]:
        """Hold `cost` bytes of the budget (and a heavy slot when cost > LIGHT_BYTES) while
        the body runs: 413 when the cost alone is over the budget, 503 when no room comes."""
        s = self.settings()
        cost = max(1, int(cost))
        if cost > s.memory_budget_bytes:
            raise too_costly(cost, s, what)
        heavy = cost > LIGHT_BYTES
        queued_heavy = any(w.heavy for w in self._waiters)
        if self._fits(cost, heavy) and not (heavy and queued_heavy):
            self._take(cost, heavy)
        else:
            await self._wait(cost, heavy, s)
        try:
            yield
        finally:
            self._give_back(cost, heavy)

    def hold(self, cost: int, what: str = "this work") -> Callable[[], None]:
        """Hold `cost` bytes of the budget beyond the request (no heavy slot): 413 when the
        cost alone is over the budget, 503 when it does not fit now. Returns the release,
        to be called once on this event loop (later calls do nothing)."""
        s = self.settings()
        cost = max(1, int(cost))
        if cost > s.memory_budget_bytes:
            raise too_costly(cost, s, what)
        if self.in_flight + cost > s.memory_budget_bytes:
            raise OverloadedError(
                f"The server is busy: {what} needs {cost} bytes of memory_budget_bytes = "
                f"{s.memory_budget_bytes} and {self.in_flight} are in use. Try again "
                "shortly.", s.queue_wait_s)
        self.in_flight += cost
        self.held += cost
        self.shrink_cache(self.cache_room())
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.in_flight -= cost
                self.held -= cost
                self._wake()

        return release

    async def _wait(self, cost: int, heavy: bool, s: Settings) -> None:
        if len(self._waiters) >= s.max_queue:
            raise OverloadedError(
                f"The server is busy: {self.running} requests are running ({self.running_heavy}"
                f" heavy, max_heavy = {s.max_heavy}; {self.in_flight} of memory_budget_bytes = "
                f"{s.memory_budget_bytes} in use) and {len(self._waiters)} are waiting "
                f"(max_queue = {s.max_queue}). Try again shortly.", s.queue_wait_s)
        waiter = _Waiter(asyncio.get_running_loop().create_future(), cost, heavy)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), timeout=s.queue_wait_s)
        except TimeoutError:
            if waiter.future.done() and not waiter.future.cancelled():
                return  # admitted just as the wait ended: run after all
            waiter.future.cancel()
            raise OverloadedError(
                f"The server is busy: no room came free within queue_wait_s = "
                f"{s.queue_wait_s} s (max_heavy = {s.max_heavy}, memory_budget_bytes = "
                f"{s.memory_budget_bytes}). Try again shortly.", s.queue_wait_s) from None
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                self._give_back(cost, heavy)
            else:
                waiter.future.cancel()
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)


# The name the rest of the app has used for it.
HeavyLimiter = Admission


def admitted(request: Request, cost: int = DEFAULT_COST,
             what: str = "this request") -> contextlib.AbstractAsyncContextManager[None]:
    """`async with admitted(request, cost):` holds `cost` bytes of the budget."""
    return request.app.state.limiter.slot(cost, what)


async def heavy_slot(request: Request) -> AsyncIterator[None]:
    """A dependency that holds DEFAULT_COST of the budget while the route runs."""
    async with request.app.state.limiter.slot():
        yield


async def heavy(request: Request, fn: Callable[..., T], *args: Any,
                cost: int = DEFAULT_COST, what: str = "this request") -> T:
    """Run `fn` in the thread pool once `cost` bytes are admitted (413 / 503, see slot)."""
    async with request.app.state.limiter.slot(cost, what):
        return await run_in_threadpool(fn, *args)


def release_when_done(thread: threading.Thread, release: Callable[[], None]) -> None:
    """Call `release` (from Admission.hold) on the running event loop once `thread` ends."""
    loop = asyncio.get_running_loop()

    def watch() -> None:
        thread.join()
        try:
            loop.call_soon_threadsafe(release)
        except RuntimeError:  # that loop has closed (a test's own): no waiter is left on it
            release()

    threading.Thread(target=watch, name=f"release-{thread.name}", daemon=True).start()
