"""Two uvicorn workers behind one port (`--workers 2`): the steps cache is per process, so a
/api/steps that lands on the worker that never saw the image answers 404 unknown_image, and
the client re-sends the image and gets the same numbers. Shown at the HTTP level and with
the real page in Chromium.

Each API request here goes over a fresh connection, steered to a chosen worker by pausing
the other one (SIGSTOP) while the kernel hands out the connection: the shared socket is
then accepted by the chosen worker only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import httpx
import pytest

pytestmark = pytest.mark.timeout(120)

# The page's URL state and the settings it sends for it (as in tests/browser/pagetools.py).
QUERY = ("sample=chelsea&size=96&color=rgb&f=3&stride=1&pad=1&pad_mode=constant"
         "&pad_value=0&dilation=1&k0=sobel_x&b0=0&k1=sobel_y&b1=0&relu=1&pool=max"
         "&pool_f=2&pool_stride=2&tie=first&up=ones")
SETTINGS = {
    "sample": "chelsea", "size": 96, "color": "rgb", "f": 3, "stride": 1, "pad": 1,
    "pad_mode": "constant", "pad_value": 0.0, "dilation": 1,
    "filters": [{"preset": "sobel_x", "bias": 0.0}, {"preset": "sobel_y", "bias": 0.0}],
    "relu": True, "pool": {"mode": "max", "f": 2, "stride": 2, "tie_rule": "first"},
    "upstream": {"kind": "ones", "seed": 0},
}


def wait_until(page, expression: str, arg=None, timeout: float = 15.0) -> None:
    """Poll a JS expression (or a function of `arg`) until truthy (the page's CSP forbids
    the eval() that page.wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not (page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression!r}")
        page.wait_for_timeout(25)


def fresh(url: str) -> httpx.Client:
    """A client that opens a new connection for every request."""
    return httpx.Client(base_url=url, timeout=30,
                        limits=httpx.Limits(max_keepalive_connections=0))


def post_image(c: httpx.Client, settings: dict) -> dict:
    r = c.post("/api/image", files={"settings": (None, json.dumps(settings), "application/json")})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def steps_with_resend(c: httpx.Client, image: dict, body: dict, tries: int = 8) -> dict:
    """What the page does: /api/steps, and on 404 unknown_image send the image again."""
    for _ in range(tries):
        r = c.post("/api/steps", json={"id": image["id"], "settings": image["settings"], **body})
        if r.status_code == 200:
            return r.json()
        assert r.status_code == 404 and r.json()["code"] == "unknown_image", r.text[:300]
        again = post_image(c, image["settings"])
        assert again["id"] == image["id"]  # content-addressed: the same id on every worker
    raise AssertionError(f"no worker answered after {tries} re-sends")


@contextlib.contextmanager
def only(server, pid: int):
    """While inside, every worker but `pid` is paused (SIGSTOP), so the kernel hands each
    new connection on the shared socket to `pid`: a way to steer a request to a worker."""
    others = [w for w in server.worker_pids() if w != pid]
    for w in others:
        os.kill(w, signal.SIGSTOP)
    try:
        yield
    finally:
        for w in others:
            os.kill(w, signal.SIGCONT)


def test_two_workers_miss_then_recover_with_the_same_numbers(start_server):
    """Worker A computes the image; B, asked for a page of it, answers 404 unknown_image;
    the image sent again (to B) gives the same id, and B's pages equal A's to the last bit."""
    server = start_server(workers=2, access_log=False)
    a, b = server.worker_pids()
    settings = {**SETTINGS, "size": 48}
    body = {"stage": "conv_forward", "offset": 0, "limit": 64}
    with fresh(server.url) as c:
        with only(server, a):
            image = post_image(c, settings)
        with only(server, b):
            r = c.post("/api/steps", json={"id": image["id"], "settings": settings, **body})
            assert r.status_code == 404 and r.json()["code"] == "unknown_image", r.text[:300]
            assert "send the image to /api/image again" in r.json()["detail"]
            page = steps_with_resend(c, image, body)  # re-sends to B, then B answers
        assert {k: page[k] for k in ("kind", "total", "offset", "steps")} == \
            image["steps"]["conv_forward"]
        later = {"stage": "conv_backward", "offset": 777, "limit": 8}
        with only(server, a):
            from_a = steps_with_resend(c, image, later)
        with only(server, b):
            from_b = steps_with_resend(c, image, later)
        assert from_a == from_b
        # with both workers free, the kernel spreads new connections: every answer agrees
        assert all(steps_with_resend(c, image, later) == from_a for _ in range(6))


@pytest.mark.browser
def test_the_page_resends_across_two_workers(start_server, chromium):
    """The real page, two workers. Its API requests are relayed over fresh connections and
    steered: the first image to worker A, then everything to worker B, as when the
    browser's next connection lands on the other process. Stepping the player past the
    first page asks B for a page of an image it never saw: 404 unknown_image, the page
    re-sends the image (to B, on the same path) and shows the step's numbers, with no error.
    Then both workers hold the image, and steps on either agree."""
    server = start_server(workers=2, access_log=False)
    a, b = server.worker_pids()
    target = [a]
    events: list[tuple[str, int, str | None, int]] = []
    relay = fresh(server.url)

    def via_fresh_connection(route):
        """Relay the page's API request to the target worker over a new connection."""
        req = route.request
        headers = {k: v for k, v in req.headers.items()
                   if k.lower() in ("content-type", "accept")}
        with only(server, target[0]):
            response = relay.request(req.method, req.url, content=req.post_data_buffer,
                                     headers=headers)
        code = response.json().get("code") if response.status_code == 404 else None
        name = req.url.rsplit("/api/", 1)[1].split("?")[0]
        events.append((name, response.status_code, code, target[0]))
        route.fulfill(status=response.status_code, body=response.content,
                      headers={k: v for k, v in response.headers.items()
                               if k.lower() not in ("content-length", "connection",
                                                    "transfer-encoding")})

    page_errors: list[str] = []
    console: list[str] = []

    def go(browser) -> None:
        ctx = browser.new_context(base_url=server.url, reduced_motion="reduce")
        ctx.route("**/api/**", via_fresh_connection)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        try:
            page.goto(f"/?{QUERY}&stage=conv_forward&step=0")
            wait_until(page, "Number(document.body.dataset.renders || 0) >= 1")
            # the page loads progressively: let its follow-up array requests finish on A
            wait_until(page, "document.body.dataset.complete === '1' "
                             "&& document.body.dataset.exact === '1'")
            image = {"id": page.evaluate("document.body.dataset.imageId"), "settings": SETTINGS}
            assert [e[:2] for e in events if e[0] == "image"] == [("image", 200)]
            target[0] = b  # from now on the page talks to the other worker
            with fresh(server.url) as c:
                for k in (3000, 7000, 11000):  # past the first page: /api/steps is asked
                    page.locator("#scrub").fill(str(k))
                    wait_until(page, f"document.body.dataset.step === '{k}'")
                    with only(server, a):  # the numbers worker A computes for step k
                        rec = steps_with_resend(c, image, {"stage": "conv_forward", "offset": k,
                                                           "limit": 1})["steps"][0]
                    wait_until(page, "(v) => Number(document.querySelector("
                                     "'#view output[data-field=\"z\"]')?.dataset.v) === v",
                               rec["z"])
                    assert page.locator('#view output[data-field="z"]').count() == 1
        finally:
            ctx.close()
            relay.close()

    chromium(go)
    calls = [e[:3] for e in events if e[0] in ("image", "steps")]
    # A computed the image; B missed it, got it again from the page, then served the steps
    assert calls[:4] == [("image", 200, None), ("steps", 404, "unknown_image"),
                         ("image", 200, None), ("steps", 200, None)], events
    assert all(e[1] == 200 for e in events[events.index(next(
        e for e in events if e[1] == 404)) + 1:]), events
    assert {e[3] for e in events if e[0] == "steps"} == {b}
    # Chromium logs the 404 it received; nothing else may reach the console
    assert page_errors == [] and all("status of 404" in m for m in console), (page_errors,
                                                                              console)
