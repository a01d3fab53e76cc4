"""Security headers on every response (a route may set its own Content-Security-Policy),
and a Server-Timing header with the time the server took."""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from app.platform.middleware.base import HttpMiddleware

# The page: its own scripts, styles and images only; no inline script, no framing.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
            "blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
# /docs: Swagger UI served from our own /static; its one inline script is allowed by its
# hash, never by 'unsafe-inline'. No other origin is named.
DOCS_CSP = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware(HttpMiddleware):
    """STATIC_HEADERS and PAGE_CSP on every answer that does not set its own, and
    Server-Timing: app;dur=<ms from the request's arrival to the answer's start>."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # Time from the request's arrival to the answer's first byte (the body is
                # built by then): what the benchmark reports as server time.
                headers.append("Server-Timing",
                               f"app;dur={(time.perf_counter() - started) * 1000:.3f}")
                for key, value in STATIC_HEADERS.items():
                    headers.setdefault(key, value)
                headers.setdefault("Content-Security-Policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
