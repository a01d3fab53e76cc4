"""Helpers the browser tests share: waiting for the page, reading canvases and the API."""

from __future__ import annotations

import base64
import json
import time

import numpy as np

DEFAULT_QUERY = ("sample=chelsea&size=96&color=rgb&f=3&stride=1&pad=1&pad_mode=constant"
                 "&pad_value=0&dilation=1&k0=sobel_x&b0=0&k1=sobel_y&b1=0&relu=1&pool=max"
                 "&pool_f=2&pool_stride=2&tie=first&up=ones")
DEFAULT_SETTINGS = {
    "sample": "chelsea", "size": 96, "color": "rgb", "f": 3, "stride": 1, "pad": 1,
    "pad_mode": "constant", "pad_value": 0.0, "dilation": 1,
    "filters": [{"preset": "sobel_x", "bias": 0.0}, {"preset": "sobel_y", "bias": 0.0}],
    "relu": True, "pool": {"mode": "max", "f": 2, "stride": 2, "tie_rule": "first"},
    "upstream": {"kind": "ones", "seed": 0},
}


def wait_until(page, expression: str, arg=None, timeout: float = 15.0) -> None:
    """Poll a JS expression (or a function of `arg`) until it is truthy.

    page.wait_for_function evaluates its predicate with eval() inside the page, which the
    page's Content-Security-Policy forbids; page.evaluate goes through the debugger protocol.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg) if arg is not None else page.evaluate(expression)
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression!r}")
        page.wait_for_timeout(25)


def renders(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.renders || 0)"))


def wait_ready(page, at_least: int = 1) -> None:
    """Until the page has drawn `at_least` results of /api/image, with exact numbers (the
    float32 copies of the display-encoded arrays have arrived and the view is redrawn)."""
    wait_until(page, f"Number(document.body.dataset.renders || 0) >= {at_least} && "
                     "document.body.dataset.exact === '1'")


def open_page(page, query: str = DEFAULT_QUERY) -> None:
    page.goto(f"/explore?{query}" if query else "/explore")
    wait_ready(page)


def canvas_stats(page, selector: str) -> dict:
    """Distinct colours and a checksum of a canvas's pixels."""
    return page.evaluate(
        """(sel) => {
            const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            let sum = 0;
            let unreached = 0;  // the background of cells no step has reached yet
            for (let i = 0; i < d.length; i += 4) {
                const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
                if (v === 0xe4e7ec) unreached += 1;
                seen.add(v);
                sum = (sum + v * ((i >> 2) % 9973 + 1)) % 1000000007;
            }
            return {colors: seen.size, sum, unreached, width: c.width, height: c.height};
        }""",
        selector,
    )


def post_image(page, settings: dict) -> dict:
    """POST /api/image for a sample, through the page's own origin."""
    res = page.request.post("/api/image", multipart={"settings": json.dumps(settings)})
    assert res.ok, res.text()
    return res.json()


def post_steps(page, body: dict) -> dict:
    res = page.request.post("/api/steps", data=json.dumps(body),
                            headers={"Content-Type": "application/json"})
    assert res.ok, res.text()
    return res.json()


def decode(arr: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(arr["data"]), dtype="<f4").reshape(arr["shape"])


def table_values(page, field: str, channel: int | None = None) -> list[float]:
    """Exact values (data-v) of a detail-panel table, row-major."""
    sel = f'#view table[data-field="{field}"]'
    if channel is not None:
        sel += f'[data-channel="{channel}"]'
    return page.eval_on_selector(
        sel, "t => [...t.querySelectorAll('td')].map(td => Number(td.dataset.v))")


def pressed_sample(page) -> str | None:
    return page.locator("#samples button[aria-pressed=true]").get_attribute("data-sample")


def selected_stage(page) -> str | None:
    return page.locator("#stage-tabs [aria-selected=true]").get_attribute("data-stage")


def scroll_widths(page) -> tuple[int, int]:
    return tuple(page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"))


def scalar_value(page, field: str) -> float:
    return page.eval_on_selector(f'#view output[data-field="{field}"]', "o => Number(o.dataset.v)")


def flat_channel(a3: list, ch: int) -> list[float]:
    return [row[s][ch] for row in a3 for s in range(len(row))]


def download(page, menu, kind: str, tmp_path) -> tuple[str, bytes]:
    """Click the download menu's `kind` link (gif, apng, png, svg): (file name, bytes)."""
    with page.expect_download() as info:
        menu.locator(f'a[data-kind="{kind}"]').click()
    d = info.value
    path = tmp_path / d.suggested_filename
    d.save_as(path)
    return d.suggested_filename, path.read_bytes()
