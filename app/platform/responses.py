"""A JSON answer sent as a list of byte chunks, with its Content-Length known up front, and
the gzip of such answers for clients that accept it.

Compression happens in two places, both at `gzip_level` (CONVSTEP_GZIP_LEVEL, 0 = off):
the large answers (/api/image, /api/arrays) are compressed by `gzip_chunks` in the worker
thread that builds them, so the work is counted in Server-Timing and in the heavy-request
limit and never runs on the event loop; every other answer of a compressible type of at
least GZIP_MINIMUM bytes (steps pages, the OpenAPI schema, scripts, styles) by
app/platform/middleware/gzip.py (Starlette's, which hands chunks of 128 KiB or more to a thread).
"""

from __future__ import annotations

import zlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

GZIP_MINIMUM = 1024  # bytes; below this gzip saves too little to be worth its header


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (`gzip`, `x-gzip` or `*`, q > 0)."""
    if not accept_encoding:
        return False
    star = None
    for item in accept_encoding.split(","):
        token, _, params = item.strip().partition(";")
        token = token.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if token in ("gzip", "x-gzip"):
            return q > 0
        if token == "*":
            star = q > 0
    return bool(star)


def gzip_chunks(chunks: list[bytes], level: int) -> list[bytes]:
    """The chunks as one gzip stream (a list of its pieces). `chunks` is emptied as it is
    compressed, so each piece of the plain answer can be freed once it is compressed."""
    z = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunks.reverse()
    out = []
    while chunks:
        piece = z.compress(chunks.pop())
        if piece:
            out.append(piece)
    out.append(z.flush())
    return out


def maybe_gzip(chunks: list[bytes], gzip: bool, level: int) -> tuple[list[bytes], str | None]:
    """(chunks, content encoding): gzipped when asked, on and worth it (then `chunks` is
    emptied, see gzip_chunks)."""
    if gzip and level > 0 and sum(len(c) for c in chunks) >= GZIP_MINIMUM:
        return gzip_chunks(chunks, level), "gzip"
    return chunks, None


class JSONChunks(Response):
    """`chunks` joined are one JSON document (or its gzip stream, with `content_encoding`
    "gzip"); each goes out as its own body message, so a large answer is never copied into
    one buffer."""

    media_type = "application/json"

    def __init__(self, chunks: list[bytes], status_code: int = 200,
                 content_encoding: str | None = None) -> None:
        total = sum(len(c) for c in chunks)
        # A small answer goes out in one piece (GzipMiddleware leaves it as it is).
        self.chunks = chunks if total >= GZIP_MINIMUM else [b"".join(chunks)]
        super().__init__(content=None, status_code=status_code)
        self.headers["content-length"] = str(total)
        if content_encoding is not None:
            # GzipMiddleware adds Vary to the answers it passes uncompressed, not to these.
            self.headers["content-encoding"] = content_encoding
            self.headers["vary"] = "Accept-Encoding"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        last = len(self.chunks) - 1
        for i, chunk in enumerate(self.chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < last})
