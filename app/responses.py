"""A JSON answer sent as a list of byte chunks, with its Content-Length known up front."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class JSONChunks(Response):
    """`chunks` joined are one JSON document; each goes out as its own body message, so a
    large answer is never copied into one buffer."""

    media_type = "application/json"

    def __init__(self, chunks: list[bytes], status_code: int = 200) -> None:
        self.chunks = chunks
        super().__init__(content=None, status_code=status_code)
        self.headers["content-length"] = str(sum(len(c) for c in chunks))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        last = len(self.chunks) - 1
        for i, chunk in enumerate(self.chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < last})
