"""Security: strict headers on every response, /docs served offline under its CSP, client
names never used as paths, templates autoescaped, bodies bounded before they are read, slow
clients timed out without blocking others, and nothing from an upload on disk or in a log."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)


def api_operations(openapi: dict) -> int:
    return sum(1 for ops in openapi["paths"].values() for m in ops
               if m in ("get", "post", "put", "patch", "delete"))


# --- /docs works offline ------------------------------------------------------------------


@pytest.mark.browser
def test_docs_render_offline_under_the_csp(shared_server, chromium):
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

    console: list[str] = []
    requests: list[str] = []

    def go(browser) -> None:
        ctx = browser.new_context(base_url=url)
        page = ctx.new_page()
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

    chromium(go)
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


def test_a_body_that_trickles_gets_408_and_others_are_served(start_server):
    """Headers complete, then the body a byte at a time: 408 after body_timeout_s (1 s
    here, 30 s by default), while another client is served at once."""
    server = start_server(env={"CONVSTEP_BODY_TIMEOUT_S": "1"})
    s = _raw(server, b"POST /api/image HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/"
             b"form-data; boundary=zz\r\nContent-Length: 5000\r\n\r\n--zz")
    t0 = time.monotonic()
    answer = b""
    s.settimeout(0.2)
    while time.monotonic() - t0 < 5 and b"body_timeout" not in answer:
        with contextlib.suppress(OSError):
            s.sendall(b"x")
        assert httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            answer += s.recv(65536)
    s.close()
    assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout" in answer, answer[:300]
    assert 0.9 < time.monotonic() - t0 < 4


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

    options = uvicorn_options({})
    assert options["http"] == "app.platform.protocol:HeadTimeoutH11Protocol"
    assert options["timeout_keep_alive"] <= 10
    assert options["proxy_headers"] is False  # X-Forwarded-For is not believed by default


def test_behind_a_named_proxy_its_forwarded_client_is_the_client(start_server):
    """CONVSTEP_FORWARDED_ALLOW_IPS=127.0.0.1: the proxy's X-Forwarded-For is the client (the
    per-client quotas count it); without the variable, the header changes nothing."""
    body = {"epochs": 30, "batch_size": 16, "steps_per_second": 5}  # still running next
    for env, second in (({"CONVSTEP_FORWARDED_ALLOW_IPS": "127.0.0.1"}, 201), ({}, 503)):
        server = start_server(env={**env, "CONVSTEP_NET_MAX_JOB_SECONDS": "60"})
        jobs = [httpx.post(f"{server.url}/api/network/train", json=body, timeout=30,
                           headers={"X-Forwarded-For": ip}) for ip in ("10.1.1.1", "10.1.1.2")]
        assert jobs[0].status_code == 201, jobs[0].text
        assert jobs[1].status_code == second, jobs[1].text
        server.stop()


# --- headers on every response ------------------------------------------------------------


def _assert_strict_headers(r: httpx.Response, what: str) -> None:
    h = r.headers
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("x-frame-options") == "DENY", what
    assert h.get("referrer-policy") == "no-referrer", what
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, (what, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (what, csp)
    assert "http:" not in csp and "https:" not in csp, (what, csp)


def _every_response(url: str) -> list[tuple[str, httpx.Response]]:
    """One request per route and per kind of answer: pages, API, static, docs, and errors
    from the app, its validation, its middlewares and the router."""
    sample = {"sample": "camera", "size": 16}
    files = {"settings": (None, json.dumps(sample), "application/json")}
    out = []
    with httpx.Client(base_url=url, timeout=30) as c:
        openapi = c.get("/openapi.json").json()
        for path, ops in openapi["paths"].items():
            for method in ops:
                concrete = path.replace("{name}", "camera")
                if method == "get":
                    out.append((f"GET {concrete}", c.get(concrete)))
                elif path == "/api/image":
                    out.append(("POST /api/image", c.post(path, files=files)))
                else:  # an empty JSON object: each route's validation error
                    out.append((f"POST {path} {{}}", c.post(path, json={})))
        image_id = next(r for w, r in out if w == "POST /api/image").json()["id"]
        out += [
            ("GET /", c.get("/")),
            ("GET /docs", c.get("/docs")),
            ("GET /redoc", c.get("/redoc")),
            ("GET /openapi.json", c.get("/openapi.json")),
            ("GET /static/css/app.css", c.get("/static/css/app.css")),
            ("GET /static/js/kit/api.js", c.get("/static/js/kit/api.js")),
            ("GET /static/vendor/swagger-ui/swagger-ui.css",
             c.get("/static/vendor/swagger-ui/swagger-ui.css")),
            ("GET /static/missing.js (404)", c.get("/static/missing.js")),
            ("GET /nowhere (404)", c.get("/nowhere")),
            ("DELETE /healthz (405)", c.delete("/healthz")),
            ("GET /api/samples/nope (422)", c.get("/api/samples/nope")),
            ("POST /api/steps unknown id (404)", c.post("/api/steps", json={
                "id": "ab" * 16, "settings": sample, "stage": "conv_forward"})),
            ("POST /api/steps (200)", c.post("/api/steps", json={
                "id": image_id, "settings": sample, "stage": "conv_forward"})),
            ("POST /api/image not multipart (415)", c.post("/api/image", json=sample)),
            ("POST /api/image text file (415)", c.post("/api/image", files={
                **files, "file": ("x.png", b"not an image", "image/png")})),
            ("POST /api/zero_pad bad JSON (422)", c.post(
                "/api/zero_pad", content=b"{", headers={"content-type": "application/json"})),
            ("HEAD /healthz", c.head("/healthz")),
        ]
    return out


def _raw_response(server, request: bytes) -> httpx.Response:
    """Send bytes httpx would refuse to send; parse the answer's status and headers."""
    s = _raw(server, request)
    data = b""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while b"\r\n\r\n" not in data and (chunk := s.recv(65536)):
            data += chunk
    s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in head[1:]]
    return httpx.Response(int(head[0].split(" ")[1]), headers=headers)


def test_strict_headers_on_every_route_and_every_error(shared_server):
    responses = _every_response(shared_server.url)
    post = b"POST /api/zero_pad HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    responses += [
        ("declared 1 GB (413)", _raw_response(
            shared_server, post + b"Content-Length: 1000000000\r\n\r\n")),
        ("unparsable Content-Length (uvicorn's 400)", _raw_response(
            shared_server, post + b"Content-Length: 2x\r\n\r\n{}")),
        ("not HTTP at all (uvicorn's 400)", _raw_response(shared_server, b"HELLO\r\n\r\n")),
    ]
    statuses = {r.status_code for _, r in responses}
    assert {200, 308, 400, 404, 405, 413, 415, 422} <= statuses, statuses
    for what, r in responses:
        assert r.status_code < 500, (what, r.status_code, r.text[:200])
        _assert_strict_headers(r, what)
    # the page itself runs no inline script or style at all
    page = next(r for w, r in responses if w == "GET /").headers["content-security-policy"]
    assert "script-src 'self';" in page and "style-src 'self';" in page


def test_strict_headers_on_503_shedding(start_server):
    """A 503 from the limiter carries the headers too (max_heavy 1, no queue)."""
    server = start_server(env={"CONVSTEP_MAX_HEAVY": "1", "CONVSTEP_MAX_QUEUE": "0"},
                          access_log=False)
    heavy = {"sample": "coffee", "size": 256,
             "filters": [{"preset": "sobel_x"}] * 8}

    def post() -> httpx.Response:
        return httpx.post(f"{server.url}/api/image", timeout=60, files={
            "settings": (None, json.dumps(heavy), "application/json")})

    results: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: results.append(post())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shed = [r for r in results if r.status_code == 503]
    assert shed and {r.status_code for r in results} <= {200, 503}
    for r in shed:
        _assert_strict_headers(r, "503")
        assert int(r.headers["retry-after"]) >= 1 and r.json()["code"] == "overloaded"


# --- names, templates, bodies -------------------------------------------------------------


def _raw_get(server, target: bytes) -> bytes:
    s = _raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    with contextlib.suppress(TimeoutError):
        while chunk := s.recv(65536):
            data += chunk
    s.close()
    return data


@pytest.mark.parametrize("target", [
    b"/static/../app/main.py", b"/static/..%2fapp%2fmain.py", b"/static/%2e%2e/app/config.py",
    b"/static//etc/passwd", b"/api/samples/..%2f..%2fapp%2fmain.py",
    b"/api/samples/%2e%2e", b"/api/samples/chelsea.jpg", b"/api/samples/../main.py",
])
def test_no_client_name_reaches_the_file_system(shared_server, target):
    """Only /static's own files and the whitelisted sample names are ever read."""
    answer = _raw_get(shared_server, target)
    status = int(answer.split(b" ", 2)[1])
    assert status in (404, 422), (target, answer[:200])
    assert b"create_app" not in answer and b"root:" not in answer and b"Settings" not in answer


def test_sample_names_are_a_whitelist_and_upload_names_are_ignored(shared_server):
    url = shared_server.url
    r = httpx.post(f"{url}/api/image", files={"settings": (None, json.dumps(
        {"sample": "../../app/main.py", "size": 16}), "application/json")})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "sample"
    from PIL import Image

    from .hostile_images import encode

    png = encode(Image.new("L", (4, 4), 7), "PNG")
    for name in ("../../../../tmp/convstep-pwned.png", "/etc/passwd", "C:\\boot.ini",
                 "a\x00b.png", "<script>alert(1)</script>.png"):
        r = httpx.post(f"{url}/api/image", files={
            "settings": (None, json.dumps({"size": 4}), "application/json"),
            "file": (name, png, "image/png")})
        assert r.status_code == 200, (name, r.text[:200])
        assert name not in r.text
    assert not Path("/tmp/convstep-pwned.png").exists()


def test_no_route_opens_a_path_built_from_a_request():
    """A tripwire over app/: files are only read in platform/samples.py, from the fixed SAMPLES
    table (the router answers 422 for any other name before that code runs), and in
    memory.py, whose one read is the constant /proc/self/statm (its own RSS)."""
    root = Path(__file__).resolve().parents[2] / "app"
    readers = re.compile(r"\bopen\(|read_bytes\(|read_text\(|write_bytes\(|write_text\(|"
                         r"FileResponse|NamedTemporaryFile|SpooledTemporaryFile|mkstemp")
    in_memory = "Image.open(io.BytesIO("  # Pillow reading the upload's bytes in memory

    def code(p: Path) -> str:
        text = p.read_text().replace(in_memory, "")
        if "zipfile.ZipFile(io.BytesIO(" in text:  # members of an uploaded .npz, in memory
            text = text.replace("archive.open(", "")
        if p.name == "memory.py":  # a constant path, nothing from a request
            text = text.replace('open("/proc/self/statm", "rb")', "", 1)
        return text

    hits = {p.relative_to(root).as_posix() for p in root.rglob("*.py") if readers.search(code(p))}
    assert hits <= {"platform/samples.py"}, hits
    from app.platform.samples import SAMPLES

    assert all(s.path.is_file() and "/" not in s.file for s in SAMPLES.values())


def test_templates_autoescape_and_boot_data_cannot_close_its_script():
    from app.explore.services.page import boot_data
    from app.main import create_app
    from app.platform.config import Settings

    env = create_app().state.templates.env
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    html = env.get_template("explore.html").render(request=None, nav=[], boot={
        **boot_data(Settings()), "evil": "</script><script>alert(1)</script>", "q": "'\"&"})
    boot = html.split('<script type="application/json" id="boot">', 1)[1].split("</script>")[0]
    assert "<" not in boot and ">" not in boot and "&" not in boot.replace("\\u0026", "")
    assert json.loads(boot)["evil"] == "</script><script>alert(1)</script>"


@pytest.mark.timeout(60)
def test_bodies_are_refused_before_they_are_read(shared_server):
    """A client declaring a 1 GB body gets 413 at once, without sending it; one streaming
    chunks without a length is cut off at the limit, and the server's memory stays flat."""
    before = shared_server.rss()
    s = _raw(shared_server, b"POST /api/image HTTP/1.1\r\nHost: x\r\nContent-Type: "
             b"multipart/form-data; boundary=zz\r\nContent-Length: 1000000000\r\n\r\n")
    t0 = time.monotonic()
    answer = b""
    while b"body_too_large" not in answer and (chunk := s.recv(65536)):
        answer += chunk
    s.close()
    assert answer.startswith(b"HTTP/1.1 413") and time.monotonic() - t0 < 2
    assert b"body_too_large" in answer

    def chunks():
        block = b"0" * (1024 * 1024)
        for _ in range(64):  # 64 MiB offered, the limit is 10 MiB + 64 KiB
            yield block

    r = httpx.post(f"{shared_server.url}/api/image", content=chunks(), timeout=30,
                   headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert shared_server.rss() - before < 40 * 1024 * 1024
    assert httpx.get(f"{shared_server.url}/healthz").status_code == 200


# --- nothing from an upload on disk or in the log -------------------------------------------


def test_uploads_leave_nothing_on_disk_or_in_the_log(start_server, tmp_path):
    """With the access log on and TMPDIR pointing at an empty folder, a large upload, a
    broken one and an oversized one leave no file behind, no open file in the worker, and
    neither their file names nor their bytes in the server's output."""
    from .hostile_images import encode, noise_rgb

    tmp = tmp_path / "server-tmp"
    tmp.mkdir()
    server = start_server(env={"TMPDIR": str(tmp), "CONVSTEP_MAX_UPLOAD_BYTES": str(4 * 2**20)})
    marker = b"CONVSTEP-SECRET-PAYLOAD-7f3a"
    big = encode(noise_rgb(1200, 900, seed=3), "BMP") + marker  # 3.2 MB, > 1 MiB spool size
    broken = encode(noise_rgb(seed=4), "PNG")[:300] + marker
    cases = [("SECRET-NAME-big.bmp", big), ("SECRET-NAME-broken.png", broken),
             ("SECRET-NAME-huge.bmp", big + b"\0" * (4 * 2**20 + 10_000 - len(big)))]
    statuses = []
    for name, data in cases:
        r = httpx.post(f"{server.url}/api/image", timeout=60, files={
            "settings": (None, json.dumps({"size": 32}), "application/json"),
            "file": (name, data, "image/bmp")})
        statuses.append(r.status_code)
    assert statuses == [200, 422, 413], statuses
    open_files = [os.readlink(f"/proc/{server.proc.pid}/fd/{fd}")
                  for fd in os.listdir(f"/proc/{server.proc.pid}/fd")]
    log = server.log()
    assert "POST /api/image" in log  # the access log is on...
    assert "SECRET-NAME" not in log and marker.decode() not in log  # ...and says nothing more
    assert list(tmp.iterdir()) == []
    assert not [f for f in open_files if f.startswith(str(tmp)) or "(deleted)" in f], open_files


# --- issue 10: a 500 carries every header; the head limit holds in one write ---------------


def test_an_internal_error_is_a_500_with_every_security_header(monkeypatch):
    """Force an unexpected error inside a route: the answer is a JSON 500 that still has
    every security header (Starlette sends it from outside the header middleware), and the
    traceback does not reach the client."""
    import core
    from app.main import create_app

    from .asgi import run_in_thread

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(core, "conv_single_step", boom)
    app = create_app()

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            example = {"a_slice_prev": [[[1.0]]], "W": [[[1.0]]], "b": [[[0.0]]]}
            return await c.post("/api/conv_single_step", json=example)

    r = run_in_thread(go)
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    assert "secret" not in r.text and "Traceback" not in r.text
    _assert_strict_headers(r, "500 internal error")


@pytest.mark.parametrize("size, served", [(15 * 1024, True), (17 * 1024, False),
                                          (100 * 1024, False)])
def test_the_head_limit_holds_for_a_head_sent_in_one_write(shared_server, size, served):
    """A 100 KiB head in a single write was served (h11 checks only incomplete heads)."""
    line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
    head = line + b"b" * (size - len(line) - 4) + b"\r\n\r\n"
    assert len(head) == size
    s = socket.create_connection(("127.0.0.1", shared_server.port), timeout=5)
    s.sendall(head)
    answer = b""
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while chunk := s.recv(65536):
            answer += chunk
    s.close()
    if served:
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    else:
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"16384 bytes" in answer and b"x-frame-options: DENY" in answer.lower().replace(
            b"deny", b"DENY")
    assert httpx.get(f"{shared_server.url}/healthz").status_code == 200
