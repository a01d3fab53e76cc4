"""One request to an ASGI app in this process, from a thread of its own.

A session that drives Chromium through Playwright's sync API keeps an event loop running
in the main thread, where anyio.run / asyncio.run refuse to start; a fresh thread has none.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx


def asgi_request(app, method: str, url: str, **kwargs) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.request(method, url, **kwargs)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, go).result()


def run_in_thread(coroutine_function):
    """anyio.run(coroutine_function) in a fresh thread (see the module docstring)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, coroutine_function).result()
