"""State shared by every worker: Redis when CONVSTEP_REDIS_URL is set, else this process.

The network's uploaded weights, training jobs, job limit and per-client quotas are written
through one small key-value interface (`Shared`) with two implementations that behave the
same: `MemoryShared` (a dict in this process: the default, one command, no Redis) and
`RedisShared` (redis-py's asyncio client: every worker process and host on that Redis sees
the same state). The policies (app/network/store.py) are written once, as
coroutines over that interface.

Every operation runs on one event loop of its own, in a daemon thread of this process
(`store_loop`): the Redis client and its pub/sub connection live there for the process's
life, whatever loop a request runs on (uvicorn's, or a test's fresh one per request).
`await shared.call(coro)` runs a coroutine there from any loop; a training thread uses
`shared.submit(coro)`.

Watchers wait on `Signal`s, which wake asyncio futures on any loop from any thread without
holding a thread while they wait. A `publish(channel)` fires this process's signal of that
channel; with Redis, it is a PUBLISH that every worker's pub/sub listener turns into the same
local fire.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from app.platform.errors import ApiError

T = TypeVar("T")

# ---------------------------------------------------------------- the store's event loop

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def store_loop() -> asyncio.AbstractEventLoop:
    """The process's store loop (started on first use, in a daemon thread)."""
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="convstep-store",
                             daemon=True).start()
            _loop = loop
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    """Run `coro` on the store loop; a concurrent Future of its result (any thread)."""
    return asyncio.run_coroutine_threadsafe(coro, store_loop())


async def call(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` run on the store loop, from any event loop; Redis's own errors (it went
    away, it did not answer in time) become a 503 that says so."""
    try:
        if asyncio.get_running_loop() is store_loop():
            return await coro
        return await asyncio.wrap_future(submit(coro))
    except Exception as exc:
        if type(exc).__module__.startswith("redis."):
            raise ApiError(503, "store_unavailable", "The shared store (Redis, "
                           f"CONVSTEP_REDIS_URL) failed: {type(exc).__name__}. Try again in "
                           "a moment.", headers={"Retry-After": "5"}) from None
        raise


# ---------------------------------------------------------------- waking watchers


def _wake(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


class Signal:
    """A counter that asyncio code on any loop can wait on, fired from any thread."""

    def __init__(self) -> None:
        self.version = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = set()
        self._first: set[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = set()

    def fire(self) -> None:
        with self._lock:
            self.version += 1
            first, waiters = self._first, self._waiters
            self._first, self._waiters = set(), set()
        for loop, fut in (*first, *waiters):  # a control's answer before the watchers'
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(_wake, fut)

    async def wait(self, seen: int, timeout: float, first: bool = False) -> None:
        """Return once version != seen, or after `timeout` seconds; `first`: be woken
        before the other waiters (a control waiting for its effect)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        entry = (loop, fut)
        with self._lock:
            if self.version != seen:
                return
            (self._first if first else self._waiters).add(entry)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)
                self._first.discard(entry)


class Signals:
    """This process's signals by channel name."""

    def __init__(self) -> None:
        self._signals: dict[str, Signal] = {}
        self._lock = threading.Lock()

    def get(self, channel: str) -> Signal:
        with self._lock:
            sig = self._signals.get(channel)
            if sig is None:
                sig = self._signals[channel] = Signal()
            return sig

    def fire(self, channel: str) -> None:
        with self._lock:
            sig = self._signals.get(channel)
        if sig is not None:
            sig.fire()

    def forget(self, channel: str) -> None:
        with self._lock:
            self._signals.pop(channel, None)


# ---------------------------------------------------------------- the interface


class Shared(abc.ABC):
    """Keys with optional time to live, sorted sets, a lock, publish/subscribe: the interface
    of MemoryShared (one process, the default) and RedisShared (CONVSTEP_REDIS_URL).

    Every coroutine method runs on the store loop (call them through `call`/`submit`).
    Values are bytes; sorted-set members are str.
    """

    kind = "abstract"

    def __init__(self) -> None:
        self.signals = Signals()
        # messages on the "ctl" channel: (job id, action) for the worker running that job
        self.on_control: Callable[[str], Awaitable[None]] | None = None

    @abc.abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    @abc.abstractmethod
    async def delete(self, *keys: str) -> None: ...

    @abc.abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    async def expire(self, key: str, ttl: float) -> None: ...

    @abc.abstractmethod
    async def zadd(self, key: str, member: str, score: float) -> None: ...

    @abc.abstractmethod
    async def zrem(self, key: str, *members: str) -> None: ...

    @abc.abstractmethod
    async def zrange(self, key: str) -> list[tuple[str, float]]:
        """(member, score) pairs, lowest score first."""

    @abc.abstractmethod
    async def zdrop_below(self, key: str, score: float) -> None:
        """Remove the members whose score is below `score`."""

    @abc.abstractmethod
    def lock(self, name: str) -> contextlib.AbstractAsyncContextManager: ...

    @abc.abstractmethod
    async def publish(self, channel: str, message: str = "") -> None: ...

    async def close(self) -> None:  # noqa: B027 (nothing to close in memory; Redis overrides)
        """Release the connection, if any."""

    async def zcount_live(self, key: str, now: float) -> int:
        """Members whose score (an expiry time) is still ahead of `now`, the others dropped."""
        await self.zdrop_below(key, now)
        return len(await self.zrange(key))


class MemoryShared(Shared):
    """Everything in this process (the default: no Redis)."""

    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self._kv: dict[str, tuple[bytes, float | None]] = {}
        self._z: dict[str, dict[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _live(self, key: str) -> bytes | None:
        item = self._kv.get(key)
        if item is None:
            return None
        value, until = item
        if until is not None and time.monotonic() >= until:
            del self._kv[key]
            return None
        return value

    async def get(self, key):
        return self._live(key)

    async def set(self, key, value, ttl=None):
        self._kv[key] = (value, None if ttl is None else time.monotonic() + ttl)

    async def delete(self, *keys):
        for k in keys:
            self._kv.pop(k, None)
            self._z.pop(k, None)

    async def exists(self, key):
        return self._live(key) is not None or bool(self._z.get(key))

    async def expire(self, key, ttl):
        value = self._live(key)
        if value is not None:
            self._kv[key] = (value, time.monotonic() + ttl)

    async def zadd(self, key, member, score):
        self._z.setdefault(key, {})[member] = score

    async def zrem(self, key, *members):
        z = self._z.get(key, {})
        for m in members:
            z.pop(m, None)

    async def zrange(self, key):
        return sorted(self._z.get(key, {}).items(), key=lambda kv: (kv[1], kv[0]))

    async def zdrop_below(self, key, score):
        z = self._z.get(key)
        if z:
            for m in [m for m, s in z.items() if s < score]:
                del z[m]

    def lock(self, name):
        lk = self._locks.get(name)
        if lk is None:
            lk = self._locks[name] = asyncio.Lock()
        return lk

    async def publish(self, channel, message=""):
        if channel == "ctl":
            if self.on_control is not None:
                await self.on_control(message)
        else:
            self.signals.fire(channel)


MAX_CONNECTIONS = 32  # per worker process, besides its one pub/sub connection


class RedisShared(Shared):
    """Every worker and host on one Redis (redis-py's asyncio client). Keys carry `prefix`;
    one pub/sub connection per process turns messages into local signal fires."""

    kind = "redis"

    def __init__(self, url: str, prefix: str = "convstep:") -> None:
        super().__init__()
        import redis.asyncio as aioredis

        self.url, self.prefix = url, prefix
        # a bounded pool that makes a caller wait for a free connection (the default one
        # raises "Too many connections" past its size: 200 watchers did)
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=MAX_CONNECTIONS, timeout=10, socket_connect_timeout=5,
            socket_timeout=10, health_check_interval=30)
        self.r = aioredis.Redis(connection_pool=pool)
        self._listener: asyncio.Task | None = None
        self._listening = asyncio.Event()

    def k(self, key: str) -> str:
        return self.prefix + key

    async def start(self) -> None:
        """Check the server answers, and start the pub/sub listener."""
        await self.r.ping()
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        await asyncio.wait_for(self._listening.wait(), 10)

    async def _listen(self) -> None:
        pattern = self.prefix + "ev:*"
        while True:
            try:
                pubsub = self.r.pubsub(ignore_subscribe_messages=True)
                await pubsub.psubscribe(pattern)
                self._listening.set()
                async for msg in pubsub.listen():
                    channel = msg["channel"].decode()[len(self.prefix) + 3:]
                    if channel == "ctl":
                        if self.on_control is not None:
                            await self.on_control(msg["data"].decode())
                    else:
                        self.signals.fire(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis went away: wake every watcher (they re-read), retry
                for sig in list(self.signals._signals.values()):
                    sig.fire()
                await asyncio.sleep(1.0)

    async def get(self, key):
        return await self.r.get(self.k(key))

    async def set(self, key, value, ttl=None):
        await self.r.set(self.k(key), value, px=None if ttl is None else max(1, int(ttl * 1000)))

    async def delete(self, *keys):
        if keys:
            await self.r.delete(*(self.k(k) for k in keys))

    async def exists(self, key):
        return bool(await self.r.exists(self.k(key)))

    async def expire(self, key, ttl):
        await self.r.pexpire(self.k(key), max(1, int(ttl * 1000)))

    async def zadd(self, key, member, score):
        await self.r.zadd(self.k(key), {member: score})

    async def zrem(self, key, *members):
        if members:
            await self.r.zrem(self.k(key), *members)

    async def zrange(self, key):
        return [(m.decode(), s) for m, s in
                await self.r.zrange(self.k(key), 0, -1, withscores=True)]

    async def zdrop_below(self, key, score):
        await self.r.zremrangebyscore(self.k(key), "-inf", f"({score!r}")

    @contextlib.asynccontextmanager
    async def lock(self, name) -> AsyncIterator[None]:
        # a worker that dies holding it loses it after `timeout` seconds
        async with self.r.lock(self.k("lock:" + name), timeout=10, blocking_timeout=10):
            yield

    async def publish(self, channel, message=""):
        await self.r.publish(self.k("ev:" + channel), message)

    async def close(self):
        if self._listener is not None:
            self._listener.cancel()
        await self.r.aclose()


def clock() -> float:
    """Wall-clock seconds: the time every worker and host agrees on (scores, expiries)."""
    return time.time()


async def open_shared(redis_url: str) -> Shared:
    """The Shared of this process for `redis_url` ('' -> in process); run on the store loop."""
    if not redis_url:
        return MemoryShared()
    shared = RedisShared(redis_url)
    await shared.start()
    return shared
