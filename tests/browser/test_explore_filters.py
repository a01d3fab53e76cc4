"""Explore's "Upload filters (.safetensors / .npz)": a file's conv weights become the page's
filters, exactly (float64 in the grids' values, the URL, the request, the snippet and the
computed Z, checked against core.conv_forward), a file with several tensors offers a choice,
a bad file shows its error and the page keeps working; the network page's conv1 card links
to its filters in Explore."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from pagetools import DEFAULT_QUERY, open_page, renders, wait_ready
from playwright.sync_api import expect
from safetensors.numpy import save

import core
from app.platform.imaging import decode
from app.platform.samples import sample_bytes
from core.data import load_weights

THIRD = 1 / 3
# `make screenshots` sets CONVSTEP_SCREENSHOT_DIR=docs/screenshots; a test run writes elsewhere.
SHOTS = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
             or Path(tempfile.gettempdir()) / "convstep-screenshots")


def _file(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _upload(page, path: str):
    """Upload a weight file; the /api/image answer it causes (its request body too)."""
    n = renders(page)
    with page.expect_response(lambda r: "/api/image" in r.url and r.request.method == "POST",
                              timeout=20000) as got:
        page.set_input_files("#filter-file", path)
    wait_ready(page, n + 1)
    return got.value


def _check_z(response, W: np.ndarray, b: np.ndarray, color: str) -> None:
    """The first conv_forward step records' z against core.conv_forward on the same image."""
    answer = response.json()
    s = answer["settings"]
    image = decode(sample_bytes(s["sample"]), size=s["size"], color=color, max_pixels=10**8)
    X = image[None].astype(np.float64) / 255.0
    Z, _ = core.conv_forward(X, W, b.reshape(1, 1, 1, -1), {"stride": s["stride"], "pad": s["pad"]})
    W32 = W.astype(np.float32).astype(np.float64)
    Z32, _ = core.conv_forward(X, W32, b.reshape(1, 1, 1, -1), {"stride": s["stride"],
                                                                "pad": s["pad"]})
    steps = answer["steps"]["conv_forward"]["steps"]
    assert steps
    for rec in steps[: W.shape[3] + 3]:
        want = Z[0, rec["h"], rec["w"], rec["c"]]
        # the record sums its products in the trace's order, conv_forward as a GEMM: the
        # same float64 numbers to an ulp or two; weights rounded to float32 move z by more
        assert abs(rec["z"] - want) <= 1e-13 * max(1.0, abs(want)), rec
        assert abs(Z32[0, rec["h"], rec["w"], rec["c"]] - want) > 1e-10


def test_a_safetensors_file_in_pytorch_layout_becomes_the_filters(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")  # RGB, 2 Sobel filters
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(8, 1, 3, 3))
    weight[0, 0, 1, 1] = THIRD
    bias = rng.normal(size=8) / 10
    bias[3] = -THIRD
    path = _file(tmp_path, "conv1.safetensors", save({"conv1.weight": weight, "conv1.bias": bias}))
    response = _upload(page, path)
    body = page.locator("body")
    expect(body).to_have_attribute("data-filters-loaded", "conv1.weight")
    status = page.locator("#filter-file-status")
    expect(status).to_contain_text("conv1.weight (PyTorch layout 8 x 1 x 3 x 3) -> 8 filters "
                                   "3 x 3, gray")
    expect(status).to_contain_text("The colour mode is now gray: the tensor has 1 input channel.")
    expect(status).to_contain_text("Biases from conv1.bias.")
    assert page.locator('input[name="color"][value="gray"]').is_checked()
    assert page.input_value("#f") == "3" and page.input_value("#n-filters") == "8"
    W = weight.transpose(2, 3, 1, 0)  # (3, 3, 1, 8)
    for c in (0, 3, 7):
        for i, j in ((0, 0), (1, 1), (2, 1)):
            cell = page.get_by_label(f"Filter {c} weight row {i} column {j}", exact=True)
            v = float(W[i, j, 0, c])
            assert cell.input_value() == f"{float(f'{v:.4g}'):g}" or float(
                cell.input_value()) == float(f"{v:.4g}")
            assert float(cell.get_attribute("title")) == v  # the exact value on hover
        assert float(page.input_value(f"#filter-{c}-bias")) == bias[c]
    # the request and the URL carry the file's float64 numbers
    sent = json.loads(response.request.post_data_buffer.decode("latin-1").split(
        'name="settings"')[1].split("\r\n\r\n", 1)[1].split("\r\n--", 1)[0])
    got = np.stack([np.asarray(fl["weights"]) for fl in sent["filters"]], axis=2)[:, :, None]
    assert np.array_equal(got, W) and [fl["bias"] for fl in sent["filters"]] == bias.tolist()
    page.evaluate("1")  # let the 150 ms URL sync pass
    page.wait_for_timeout(300)
    q = parse_qs(urlparse(page.url).query)
    assert q["color"] == ["gray"] and q["f"] == ["3"]
    k0 = np.array([float(t) for t in q["k0"][0].removeprefix("w:").split(",")]).reshape(3, 3)
    assert np.array_equal(k0, W[:, :, 0, 0]) and "0.3333333333333333" in q["k0"][0]
    assert float(q["b3"][0]) == -THIRD
    page.click('#snippet-tabs [data-kind="python"]')
    snippet = page.locator("#snippet-code").inner_text()
    assert "0.3333333333333333" in snippet and repr(-THIRD) in snippet
    _check_z(response, W, bias, "gray")
    assert log.console_errors == [] and log.page_errors == []


def test_an_npz_with_several_tensors_offers_a_choice(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY.replace("color=rgb", "color=gray") + "&stage=conv_forward")
    rng = np.random.default_rng(1)
    first = rng.normal(size=(4, 3, 5, 5))  # PyTorch layout, RGB
    first[1, 2, 4, 0] = THIRD
    path = _file(tmp_path, "model.npz", _npz({
        "features.0.weight": first, "features.0.bias": np.full(4, THIRD),
        "features.3.weight": rng.normal(size=(16, 4, 3, 3)), "fc.weight": np.zeros((10, 4))}))
    page.set_input_files("#filter-file", path)
    status = page.locator("#filter-file-status")
    expect(status).to_contain_text("model.npz: 2 conv tensors; 1 of the 2 choices below fit "
                                   "Explore: pick one.")
    items = page.locator("#filter-file-list li")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("features.3.weight has 4 input channels; Explore's "
                                         "image has 1 (gray) or 3 (RGB).")
    expect(items.nth(1)).to_contain_text("16 filters > max_filters 8")
    assert items.nth(1).locator("button").count() == 0  # not selectable
    n = renders(page)
    with page.expect_response(lambda r: "/api/image" in r.url and r.request.method == "POST",
                              timeout=20000) as got:
        items.nth(0).locator("button").click()
    wait_ready(page, n + 1)
    expect(status).to_contain_text("features.0.weight (PyTorch layout 4 x 3 x 5 x 5) -> 4 "
                                   "filters 5 x 5, RGB")
    expect(status).to_contain_text("The colour mode is now RGB: the tensor has 3 input channels.")
    assert page.locator('input[name="color"][value="rgb"]').is_checked()
    assert page.input_value("#f") == "5" and page.input_value("#n-filters") == "4"
    W = first.transpose(2, 3, 1, 0)  # (5, 5, 3, 4)
    cell = page.get_by_label("Filter 1 weight row 4 column 0 channel B", exact=True)
    assert float(cell.get_attribute("title")) == THIRD == W[4, 0, 2, 1]
    _check_z(got.value, W, np.full(4, THIRD), "rgb")
    assert log.console_errors == [] and log.page_errors == []


def test_a_bad_file_shows_its_error_and_the_page_keeps_working(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page)
    status = page.locator("#filter-file-status")
    page.set_input_files("#filter-file", _file(tmp_path, "model.pt", b"\x80\x04pickle"))
    expect(status).to_contain_text("model.pt: file: this is a pickle")
    expect(status).to_have_class("error")
    w = np.zeros((2, 1, 3, 3))
    w[1, 0, 0, 0] = np.nan
    page.set_input_files("#filter-file", _file(tmp_path, "nan.safetensors",
                                                save({"conv1.weight": w})))
    expect(status).to_contain_text("'conv1.weight' holds 1 value(s) that are NaN")
    page.set_input_files("#filter-file", _file(tmp_path, "wide.safetensors",
                                                save({"c.weight": np.zeros((64, 3, 3, 3))})))
    expect(status).to_contain_text("64 filters > max_filters 8")
    # the settings are untouched and the page still computes
    assert page.input_value("#n-filters") == "2"
    n = renders(page)
    page.fill("#pad", "0")
    wait_ready(page, n + 1)
    bad = [e for e in log.console_errors if "status of 4" not in e]
    assert bad == [] and log.page_errors == []


def test_a_weight_file_dropped_on_the_page_goes_to_the_filters(page_and_log):
    page, log = page_and_log
    open_page(page)
    weight = np.full((2, 1, 3, 3), THIRD)
    data = list(save({"conv1.weight": weight}))
    n = renders(page)
    page.evaluate("""(bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "dropped.safetensors"));
        document.querySelector("main").dispatchEvent(
            new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }""", data)
    expect(page.locator("body")).to_have_attribute("data-filters-loaded", "conv1.weight")
    wait_ready(page, n + 1)
    expect(page.locator("#filter-file-status")).to_contain_text("dropped.safetensors: conv1.weight")
    assert page.locator("#source-name").inner_text().find("dropped") == -1  # not an image
    assert float(page.get_by_label("Filter 1 weight row 2 column 2", exact=True).get_attribute(
        "title")) == THIRD
    assert log.console_errors == [] and log.page_errors == []


def test_the_network_page_links_its_conv1_filters_to_explore(page_and_log):
    page, log = page_and_log
    page.goto("/network")
    link = page.get_by_role("link", name="see these filters on a photo in Explore")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href",
                                   "/explore?net_filters=shipped&layer=conv1&step=2147483647")
    assert page.locator('[data-layer="conv1"]').get_by_role("link").count() == 1
    link.click()
    page.wait_for_url("**/explore?**")
    expect(page.locator("body")).to_have_attribute("data-filters-loaded", "conv1.W")
    wait_ready(page)
    expect(page.locator("#filter-file-status")).to_contain_text(
        "The network's conv1 (weights shipped): conv1.W (exercise layout 3 x 3 x 1 x 8) -> 8 "
        "filters 3 x 3, gray")
    params = load_weights()
    cell = page.get_by_label("Filter 5 weight row 2 column 0", exact=True)
    assert float(cell.get_attribute("title")) == params["conv1.W"][2, 0, 0, 5]
    page.wait_for_timeout(300)
    q = parse_qs(urlparse(page.url).query)
    assert "net_filters" not in q and q["color"] == ["gray"] and "k7" in q
    # it opens on the convolution's last step: the feature maps are whole
    total = page.locator("#scrub").get_attribute("max")
    assert q["step"] == [total], (q.get("step"), total)
    assert log.page_errors == []


def test_screenshots_of_eight_loaded_filters(make_page, tmp_path):
    weight = np.random.default_rng(2).normal(size=(8, 1, 3, 3))
    path = _file(tmp_path, "conv1.safetensors", save({"conv1.weight": weight}))
    for width in (1280, 390):
        page, log = make_page(width=width, height=900)
        open_page(page)
        _upload(page, path)
        panel = page.locator("#h-conv").locator("xpath=..")
        page.locator("#n-filters").scroll_into_view_if_needed()
        page.locator("#n-filters").evaluate("e => e.scrollIntoView({block: 'start'})")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"explore-filters-file-{width}.png"))
        box = panel.bounding_box()
        assert box and box["width"] <= width  # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert log.page_errors == []
