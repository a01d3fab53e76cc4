""""Use it yourself": the code the page shows is run here and must reproduce the server's
arrays; and the other ways in (drag and drop, paste, editing a kernel) work."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pytest
from pagetools import (
    DEFAULT_QUERY,
    canvas_stats,
    decode,
    open_page,
    post_image,
    renders,
    wait_ready,
    wait_until,
)
from PIL import Image

WEIGHTS = [0.5, -1, 0.25, 0, 1, -0.5, 2, 0, -2, 0.1, 0.2, 0.3, -0.3, -0.2, -0.1, 1, 1, 1,
           0, 0.5, 0, -1, 0, 1, 0.75, -0.75, 0]  # (3, 3, 3) in channel-last order
QUERY = ("sample=coffee&size=24&color=rgb&f=3&stride=2&pad=1&pad_mode=edge&dilation=1"
         "&k0=sobel_x&b0=0&k1=c:" + ",".join(str(w) for w in WEIGHTS) + "&b1=0.1&relu=1"
         "&pool=max&pool_f=2&pool_stride=1&tie=first&up=random&seed=3&stage=conv_forward&step=0")
SETTINGS = {
    "sample": "coffee", "size": 24, "color": "rgb", "f": 3, "stride": 2, "pad": 1,
    "pad_mode": "edge", "pad_value": 0.0, "dilation": 1,
    "filters": [{"preset": "sobel_x", "bias": 0.0},
                {"weights": np.array(WEIGHTS).reshape(3, 3, 3).tolist(), "bias": 0.1}],
    "relu": True, "pool": {"mode": "max", "f": 2, "stride": 1, "tie_rule": "first"},
    "upstream": {"kind": "random", "seed": 3},
}


def _snippet(page, kind: str) -> str:
    page.click(f'#snippet-tabs [data-kind="{kind}"]')
    return page.locator("#snippet-code").inner_text()


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), b.astype(np.float64),
                               rtol=1e-5, atol=1e-5)


def test_python_snippet_reproduces_the_servers_arrays(page_and_log):
    page, _ = page_and_log
    open_page(page, QUERY)
    api = post_image(page, SETTINGS)
    assert page.evaluate("document.body.dataset.imageId") == api["id"]
    ns: dict = {}
    exec(compile(_snippet(page, "python"), "<python snippet>", "exec"), ns)
    arrays = api["arrays"]
    _close(ns["Z"][0], decode(arrays["Z"]))
    _close(ns["A_pool"][0], decode(arrays["pooled"]))
    _close(ns["dA_prev"][0], decode(arrays["dA_prev"]))
    _close(ns["dW"], decode(arrays["dW"]))
    _close(ns["db"].reshape(-1), decode(arrays["db"]))


def test_pytorch_snippet_reproduces_the_servers_arrays(page_and_log):
    pytest.importorskip("torch")
    page, _ = page_and_log
    open_page(page, QUERY)
    api = post_image(page, SETTINGS)
    ns: dict = {}
    exec(compile(_snippet(page, "torch"), "<pytorch snippet>", "exec"), ns)
    arrays = api["arrays"]
    _close(ns["Z_nhwc"][0], decode(arrays["Z"]))
    _close(ns["dA_prev"][0], decode(arrays["dA_prev"]))
    _close(ns["dW"], decode(arrays["dW"]))
    _close(ns["db"].reshape(-1), decode(arrays["db"]))


def test_curl_snippet_gets_the_same_image(page_and_log):
    page, _ = page_and_log
    open_page(page, QUERY)
    text = _snippet(page, "curl")
    out = subprocess.run(["bash", "-c", text], capture_output=True, text=True, timeout=60,
                         check=True)
    body = json.loads(out.stdout)  # the shown step's record (test_explore_snippet_at_step.py)
    assert body["id"] == page.evaluate("document.body.dataset.imageId")
    z = decode(post_image(page, SETTINGS)["arrays"]["Z"])
    rec = body["steps"][0]
    assert rec["z"] == pytest.approx(float(z[rec["h"], rec["w"], rec["c"]]), rel=1e-6)


def test_copy_button_copies_the_snippet(browser, server_url):
    ctx = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 800},
                              reduced_motion="reduce")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    open_page(page, QUERY)
    page.click('#snippet-tabs [data-kind="torch"]')
    page.get_by_role("button", name="Copy", exact=True).click()
    page.locator("#copy-status", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == page.locator(
        "#snippet-code").inner_text()
    ctx.close()


def _png(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_drop_and_paste_upload(page_and_log, how):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pad")
    n = renders(page)
    page.evaluate(
        """([how, bytes]) => {
            const file = new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'});
            const dt = new DataTransfer();
            dt.items.add(file);
            if (how === 'drop') {
                document.dispatchEvent(new DragEvent('dragenter', {dataTransfer: dt}));
                document.body.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,
                                                                  cancelable: true}));
            } else {
                document.body.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt,
                                                                         bubbles: true}));
            }
        }""",
        [how, list(_png((10, 200, 90)))],
    )
    wait_ready(page, n + 1)
    assert page.locator('[data-field="chain"] .chain-item b').first.inner_text() == "72 × 96 × 3"
    assert page.locator("#drop-overlay").is_hidden()
    assert log.page_errors == []


def test_editing_a_kernel_number_makes_it_custom_and_redraws(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=12287")
    before = canvas_stats(page, "#view .map-group figure.map canvas.map-base")
    n = renders(page)
    cell = page.get_by_label("Filter 0 weight row 1 column 1", exact=True)
    cell.fill("2")
    wait_ready(page, n + 1)
    assert page.locator("#filter-0-preset").input_value() == "__custom"
    wait_until(page, "location.search.includes('k0=w%3A')")
    after = canvas_stats(page, "#view .map-group figure.map canvas.map-base")
    assert after["sum"] != before["sum"]
    # the URL now carries the weights: a reload restores the custom kernel
    page.reload()
    wait_ready(page)
    assert page.locator("#filter-0-preset").input_value() == "__custom"
    assert page.get_by_label("Filter 0 weight row 1 column 1", exact=True).input_value() == "2"
    assert log.page_errors == []


def test_filter_count_and_presets(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")
    n = renders(page)
    page.locator("#n-filters").fill("4")
    wait_ready(page, n + 1)
    assert page.locator("#filters fieldset.filter").count() == 4
    assert page.locator("#view .map-group figure.map").count() == 4
    assert "× 4" in page.locator('[data-field="chain"]').inner_text()
    n = renders(page)
    page.select_option("#filter-3-preset", "laplacian")
    wait_ready(page, n + 1)
    assert "k3=laplacian" in page.evaluate("location.search")
    assert log.page_errors == []
