"""Fixtures for the hardening tests: live uvicorn servers (one or more workers, with
`python -m app`'s options) on a socket the test process bound to 127.0.0.1 port 0, their
resident memory read from /proc and their log captured to a file (bench.load_bench's
LiveServer); and Debian's chromium for the browser checks.

Every request these tests send goes to 127.0.0.1 only, and every loop is bounded in count
and time (see /work/.library/env/README.md, "the network").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.load_bench import LiveServer
from bench.redis_server import RedisServer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # no DNS look-ups at all, but loopback still resolves
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """start_server(env={...}, workers=1) -> a LiveServer, stopped after the test."""
    servers: list[LiveServer] = []

    def start(**kwargs) -> LiveServer:
        server = LiveServer(tmp_path / f"server{len(servers)}.log", **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, nothing persisted, for the session."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One default server for a whole test module."""
    server = LiveServer(tmp_path_factory.mktemp("server") / "server.log")
    yield server
    server.stop()


@pytest.fixture
def chromium() -> Callable:
    """chromium(fn) -> fn(browser): runs `fn` in a thread of its own, with its own
    Playwright and Chromium. Playwright's sync API keeps an event loop running in the
    thread that starts it, so another test folder's session-wide browser (tests/browser)
    would stop a second one in the main thread, and ours would stop anyio.run there."""

    def run(fn: Callable):
        def body():
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    return fn(b)
                finally:
                    b.close()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(body).result()

    return run
