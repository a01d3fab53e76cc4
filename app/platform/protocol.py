"""uvicorn's h11 protocol with a deadline for request heads (slow clients, "slowloris").

uvicorn times out idle kept-alive connections (`timeout_keep_alive`) but not a client that
connects and then sends its request line and headers a byte at a time: such a client holds
its connection forever. Here every request head must be complete within
`CONVSTEP_HEADER_TIMEOUT_S` seconds (default 10) of the connection opening, or of the first
byte of the next request on a kept-alive connection; otherwise the connection is closed.
A head is at most 16 KiB (MAX_HEAD_BYTES, however it arrives; 400 beyond), bodies are
bounded by BodyLimitMiddleware, and a slow client only ever holds its own connection: the event loop
keeps serving everyone else. The 400 that uvicorn itself sends for a request it cannot
parse carries the same security headers as every answer of the app.

    uvicorn app.main:app --http app.platform.protocol:HeadTimeoutH11Protocol
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.platform.config import ServeSettings
from app.platform.middleware.security_headers import PAGE_CSP, STATIC_HEADERS

_400_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                *((k.lower().encode(), v.encode()) for k, v in STATIC_HEADERS.items()),
                (b"content-security-policy", PAGE_CSP.encode())]

# The largest request head (request line and headers). h11 enforces its own bound
# (uvicorn's h11_max_incomplete_event_size, 16 KiB) only on a head that is still incomplete
# after a read: a head sent in one write was parsed whatever its size. Counted here.
MAX_HEAD_BYTES = 16 * 1024


def header_timeout() -> float:
    """Seconds a client has to send a whole request head (CONVSTEP_HEADER_TIMEOUT_S, read by
    ServeSettings); a bad value stops the server with its name."""
    try:
        return ServeSettings.from_env().header_timeout_s
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


class HeadTimeoutH11Protocol(H11Protocol):
    """H11Protocol that closes a connection whose request head does not arrive in time."""

    header_timeout_s = header_timeout()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes of the request head received so far
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            if self._head_deadline is None:
                self._arm()  # the first byte of the next request on a kept-alive connection
            end = data.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else end + 4
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse_head()
                return
            if end >= 0:
                self._head_bytes = 0
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the head is complete (or the connection failed)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, with the security headers."""
        for event in (h11.Response(status_code=400, headers=_400_HEADERS, reason=b"Bad Request"),
                      h11.Data(data=msg.encode("ascii")), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()

    def _refuse_head(self) -> None:
        """400 for a head over MAX_HEAD_BYTES, written as it is (h11 has not seen a
        request yet, so it cannot send an answer), then the connection is closed."""
        self._disarm()
        msg = f"The request head (request line and headers) is over {MAX_HEAD_BYTES} bytes."
        head = [b"HTTP/1.1 400 Bad Request", *(k + b": " + v for k, v in _400_HEADERS),
                b"content-length: " + str(len(msg)).encode()]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + msg.encode())
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
