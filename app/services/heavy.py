"""How many heavy computations run at once, and the way routes run them off the event loop.

`HeavyLimiter` admits at most `max_heavy` computations plus `max_queue` waiters; a waiter
that gets no slot within `queue_wait_s` (and anyone beyond the queue) gets 503 with
Retry-After. `heavy(request, fn, ...)` runs `fn` in the thread pool inside a slot;
`heavy_slot` is the same as a dependency, for routes that FastAPI runs in its thread pool.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.config import Settings

T = TypeVar("T")


class Overloaded(HTTPException):
    """503 with Retry-After: every heavy slot is busy and the queue is full or too slow."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(503, detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))})
        self.code = "overloaded"


class HeavyLimiter:
    """At most `max_heavy` running, `max_queue` waiting (each at most `queue_wait_s`).

    Futures are made in the running loop at wait time, so one limiter serves any loop.
    """

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self.settings = settings
        self.running = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        s = self.settings()
        if self.running >= s.max_heavy:
            if len(self._waiters) >= s.max_queue:
                raise Overloaded(
                    f"The server is busy: {self.running} heavy requests are running "
                    f"(max_heavy = {s.max_heavy}) and {len(self._waiters)} are waiting "
                    f"(max_queue = {s.max_queue}). Try again shortly.", s.queue_wait_s)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout=s.queue_wait_s)
            except TimeoutError:
                if waiter.done() and not waiter.cancelled():
                    self._release()  # the slot arrived just as the wait ended: pass it on
                else:
                    waiter.cancel()
                raise Overloaded(
                    f"The server is busy: no heavy slot came free within queue_wait_s = "
                    f"{s.queue_wait_s} s (max_heavy = {s.max_heavy}). Try again shortly.",
                    s.queue_wait_s) from None
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._release()
                else:
                    waiter.cancel()
                raise
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
        else:
            self.running += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot to the oldest live waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves over: `running` stays the same
                return
        self.running -= 1


async def heavy_slot(request: Request) -> AsyncIterator[None]:
    """A dependency that holds a heavy slot while the route runs."""
    async with request.app.state.limiter.slot():
        yield


async def heavy(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` in the thread pool once a heavy slot is free (503 if none comes soon)."""
    async with request.app.state.limiter.slot():
        return await run_in_threadpool(fn, *args)
