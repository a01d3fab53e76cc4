"""Request bodies within a byte limit and a time limit, as ASGI middleware.

`BodyLimitMiddleware` refuses a body over the limit with 413 before reading it when the
client declares a Content-Length, and counts the bytes as they stream in otherwise, so no
request ever holds more than the limit in memory. A body that takes longer than
`body_timeout_s` to arrive gets 408. (How many computations run at once is
app/platform/heavy.py's business.)
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.platform.config import Settings
from app.platform.errors import ApiError
from app.platform.middleware.base import HttpMiddleware

# The multipart envelope and the settings JSON travel next to the uploaded file.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_PATHS = ("/api/image",)


class BodyTooLargeError(ApiError):
    """Raised from `receive` when a streamed body passes the limit (FastAPI re-raises it)."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(413, "body_too_large", f"The request body is larger than {limit} "
                         f"bytes, the limit for {what}.")


class BodyTimeoutError(ApiError):
    """Raised from `receive` when a client sends its body too slowly."""

    def __init__(self, timeout: float) -> None:
        super().__init__(408, "body_timeout", f"The request body did not arrive within "
                         f"body_timeout_s = {timeout} s (CONVSTEP_BODY_TIMEOUT_S).")


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


class BodyLimitMiddleware(HttpMiddleware):
    """413 for bodies over the limit, before (Content-Length) or while (streaming) reading."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        super().__init__(app)
        self.settings = settings

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
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
                exc = BodyTooLargeError(limit, what)
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
                raise BodyTimeoutError(timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit, what)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)
