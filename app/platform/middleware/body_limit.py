"""Request bodies within a byte limit and a time limit, as ASGI middleware.

`BodyLimitMiddleware` refuses a body over the limit with 413 before reading it when the
client declares a Content-Length, and counts the bytes as they stream in otherwise, so no
request ever holds more than the limit in memory: max_json_bytes, or for a multipart upload
the largest file any route reads plus its form (each route's read_upload then holds the body
to its own limit). A body that takes longer than `body_timeout_s` to arrive gets 408. (How
many computations run at once is app/platform/heavy.py's business.)
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
from app.platform.multipart import (
    MULTIPART_OVERHEAD,
    is_multipart,
    upload_limit,
    weights_limit,
)
from app.platform.network_config import get_network_limits


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


def body_limit(settings: Settings, content_type: str | None) -> tuple[int, str]:
    """(limit in bytes, the words naming it) for a request body: a multipart upload is
    bounded by the largest file any route reads (each route's read_upload then holds it to
    its own limit, in its own words), any other body by max_json_bytes."""
    if is_multipart(content_type):
        uploads = (upload_limit(settings), weights_limit(get_network_limits()))
        most = max(uploads, key=lambda limit: limit.bytes)
        return (most.body_bytes, "an upload (a file of at most "
                f"{' or '.join(limit.name for limit in uploads)}, whichever the route reads, "
                f"plus {MULTIPART_OVERHEAD} bytes for the form)")
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
        declared = content_type = None
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value
            elif key == b"content-type":
                content_type = value.decode("latin-1")
        limit, what = body_limit(self.settings(), content_type)
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
