"""What bounds a request: body size, and how many heavy computations run at once.

`BodyLimitMiddleware` refuses a body over the limit with 413 before reading it when the
client declares a Content-Length, and counts the bytes as they stream in otherwise, so no
request ever holds more than the limit in memory. `HeavyLimiter` admits at most
`max_heavy` computations plus `max_queue` waiters; a waiter that gets no slot within
`queue_wait_s` (and anyone beyond the queue) gets 503 with Retry-After. A body that takes
longer than `body_timeout_s` to arrive gets 408.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

# The multipart envelope and the settings JSON travel next to the uploaded file.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_PATHS = ("/api/image",)


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit (FastAPI re-raises it)."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes, the limit "
                              f"for {what}.")
        self.code = "body_too_large"


def body_limit(settings: Settings, path: str) -> tuple[int, str]:
    """(limit in bytes, the words naming it) for a request path."""
    if path in UPLOAD_PATHS:
        return (settings.max_upload_bytes + MULTIPART_OVERHEAD,
                f"an upload (max_upload_bytes = {settings.max_upload_bytes} plus "
                f"{MULTIPART_OVERHEAD} for the form; CONVSTEP_MAX_UPLOAD_BYTES)")
    return (settings.max_json_bytes,
            f"a JSON body (max_json_bytes = {settings.max_json_bytes}; "
            "CONVSTEP_MAX_JSON_BYTES)")


async def _send_json(send: Send, status: int, body: dict, headers: list | None = None) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": raw})


class BodyLimitMiddleware:
    """413 for bodies over the limit, before (Content-Length) or while (streaming) reading."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = body_limit(self.settings(), scope["path"])
        declared = None
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value
        if declared is not None:
            if not declared.isdigit():
                await _send_json(send, 400, {"detail": "Content-Length must be a whole number "
                                             "of bytes.", "code": "bad_content_length"})
                return
            if int(declared) > limit:
                exc = BodyTooLarge(limit, what)
                await _send_json(send, 413, {"detail": exc.detail, "code": exc.code})
                return
        received = 0
        complete = False
        timeout = self.settings().body_timeout_s
        deadline = time.monotonic() + timeout

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body: a wait for the disconnect, never timed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                raise BodyTimeout(timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, what)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)


class BodyTimeout(HTTPException):
    """Raised from `receive` when a client sends its body too slowly."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, f"The request body did not arrive within body_timeout_s = "
                              f"{timeout} s (CONVSTEP_BODY_TIMEOUT_S).")
        self.code = "body_timeout"


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
