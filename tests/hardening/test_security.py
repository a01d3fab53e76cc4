"""Security: strict headers on every response, /docs served offline under its CSP, client
names never used as paths, templates autoescaped, bodies bounded before they are read, slow
clients timed out without blocking others, and nothing from an upload on disk or in a log."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


def api_operations(openapi: dict) -> int:
    return sum(1 for ops in openapi["paths"].values() for m in ops
               if m in ("get", "post", "put", "patch", "delete"))


# --- /docs works offline ------------------------------------------------------------------


@pytest.mark.browser
def test_docs_render_offline_under_the_csp(shared_server, browser):
    """Swagger UI comes from our own /static: every request stays on the server, the CSP
    names no other origin, no CSP violation is reported, every operation is listed and one
    opens with its schema."""
    url = shared_server.url
    r = httpx.get(f"{url}/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "http" not in csp.replace("'self'", "") and "unsafe-inline" not in csp
    assert "cdn" not in r.text and "https://" not in r.text
    n_ops = api_operations(httpx.get(f"{url}/openapi.json").json())

    ctx = browser.new_context(base_url=url)
    page = ctx.new_page()
    console, requests = [], []
    page.on("console", lambda m: console.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("request", lambda req: requests.append(req.url))
    try:
        page.goto("/docs")
        page.locator(".opblock").first.wait_for(timeout=15000)
        assert page.locator(".opblock").count() == n_ops
        page.locator(".opblock-summary", has_text="/api/steps").first.click()
        page.locator(".opblock-body .model-example, .opblock-body .body-param, "
                     ".opblock-body table.parameters, .opblock-body .opblock-section"
                     ).first.wait_for(timeout=10000)
        page.wait_for_timeout(300)
    finally:
        ctx.close()
    assert requests and all(u.startswith(url + "/") for u in requests), requests
    assert any("/static/vendor/swagger-ui/swagger-ui-bundle.js" in u for u in requests)
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console


def test_redoc_sends_people_to_docs(shared_server):
    r = httpx.get(f"{shared_server.url}/redoc")
    assert r.status_code == 308 and r.headers["location"] == "/docs"
    assert json.loads(httpx.get(f"{shared_server.url}/openapi.json").text)["paths"]


# --- slow clients -------------------------------------------------------------------------


def _raw(server, payload: bytes = b"", timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if payload:
        s.sendall(payload)
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """True when the server closed the connection (EOF or reset) without an answer."""
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.timeout(60)
def test_slow_clients_are_cut_and_never_block_others(start_server):
    """40 slowloris connections trickle their request heads a byte at a time, and 10 more
    connect and say nothing. Meanwhile a normal client is served at once; after the head
    deadline (2 s here, 10 s by default) the server has closed every slow connection."""
    server = start_server(env={"CONVSTEP_HEADER_TIMEOUT_S": "2"})
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    slow = [_raw(server, head[:5]) for _ in range(40)]
    idle = [_raw(server) for _ in range(10)]
    stop = threading.Event()

    def trickle() -> None:
        i = 5
        while not stop.is_set() and i < len(head):
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(head[i:i + 1])
            i += 1
            stop.wait(0.2)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(20):
                t0 = time.monotonic()
                assert client.get("/healthz").status_code == 200
                assert time.monotonic() - t0 < 1.0
            r = client.post("/api/image", files={"settings": (None, json.dumps(
                {"sample": "camera", "size": 32}))})
            assert r.status_code == 200
        assert time.monotonic() - started < 2.0  # all of it before any deadline passed
        time.sleep(max(0.0, started + 3.0 - time.monotonic()))
        for s in slow + idle:
            s.settimeout(3.0)
            assert _closed_by_server(s)
    finally:
        stop.set()
        thread.join()
        for s in slow + idle:
            s.close()
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_kept_alive_connection_that_stalls_mid_head_is_cut(start_server):
    server = start_server(env={"CONVSTEP_HEADER_TIMEOUT_S": "1"})
    s = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.settimeout(3)
    answer = b""
    while not answer.endswith(b'{"status":"ok"}'):
        answer += s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200")
    s.sendall(b"GET /healthz HTTP/1.1\r\nHo")  # the next head stops half way
    time.sleep(1.5)
    assert _closed_by_server(s)
    s.close()


def test_an_oversized_request_head_is_refused(shared_server):
    s = _raw(shared_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (1024 * 1024)
             + b"\r\n\r\n")
    s.settimeout(5)
    try:
        answer = s.recv(4096)
    except ConnectionResetError:
        answer = b""
    s.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:100]
    assert httpx.get(f"{shared_server.url}/healthz").status_code == 200


def test_production_options_use_the_head_timeout_protocol():
    from app.__main__ import uvicorn_options

    options = uvicorn_options()
    assert options["http"] == "app.protocol:HeadTimeoutH11Protocol"
    assert options["timeout_keep_alive"] <= 10
