"""Fixtures for the browser tests: one uvicorn serving the app on a socket that the test
process bound (so the port is known before the server starts), and one Debian chromium
driven by Playwright's sync API (see ../shared/BROWSER.md). Each test gets a fresh context
and page, with console errors, page errors and every requested URL recorded."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # no DNS look-ups at all, but loopback still resolves
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def server_url():
    """uvicorn app.main:app on 127.0.0.1:<free port>, for the whole session."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--fd", str(sock.fileno()),
         "--log-level", "warning"],
        cwd=ROOT, pass_fds=[sock.fileno()],
        # every test's browser is one client (127.0.0.1): as many jobs as the server holds
        env={**os.environ, "CONVSTEP_NET_CLIENT_JOBS": "2"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as res:
                if res.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("uvicorn did not start serving app.main:app")
        time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    sock.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


class PageLog:
    """What a page said and asked for while a test ran."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.requests: list[str] = []


@pytest.fixture
def make_page(browser, server_url):
    """make_page(width=1280, height=800) -> (page, log); closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 800, reduced_motion: str = "reduce"):
        ctx = browser.new_context(base_url=server_url, viewport={"width": width, "height": height},
                                  reduced_motion=reduced_motion)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        log = PageLog()
        page.on("console",
                lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        page.on("request", lambda r: log.requests.append(r.url))
        return page, log

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page_and_log(make_page):
    return make_page()
