"""gzip for every compressible answer that is not compressed yet, at CONVSTEP_GZIP_LEVEL.

The large answers (/api/image, /api/arrays) arrive here already compressed
(app/platform/responses.py gzips them in their worker thread) and pass through.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Receive, Scope, Send

from app.platform.middleware.base import HttpMiddleware
from app.platform.responses import GZIP_MINIMUM, accepts_gzip


class GzipMiddleware(HttpMiddleware):
    """Starlette's gzip for answers that are not compressed yet, at the level that
    `level()` gives per request (0 = off), honouring q=0 in Accept-Encoding. Images, fonts
    and archives are left alone (Starlette's exclusions); answers that already carry a
    Content-Encoding (JSONChunks) pass through."""

    def __init__(self, app: ASGIApp, level: Callable[[], int]) -> None:
        super().__init__(app)
        self.level = level

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        level = self.level()
        if level > 0 and accepts_gzip(Headers(scope=scope).get("accept-encoding")):
            responder: ASGIApp = GZipResponder(self.app, GZIP_MINIMUM, compresslevel=level)
        else:
            responder = IdentityResponder(self.app, GZIP_MINIMUM)
        await responder(scope, receive, send)
