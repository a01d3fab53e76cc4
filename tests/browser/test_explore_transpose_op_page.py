"""Explore's transposed-convolution op in a browser: the mode switch, one step per input
cell with the server's numbers (a x W = spread, before + spread = after), the output filling
in, the settings in the URL and back, a refusal said in words, the download menu."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from pagetools import canvas_stats, decode, download, open_page, wait_ready
from PIL import Image
from playwright.sync_api import expect

OP_QUERY = "sample=chelsea&size=24&op=transpose"


def post_op(page, settings: dict) -> dict:
    res = page.request.post("/api/explore/transpose",
                            multipart={"settings": json.dumps(settings)})
    assert res.ok, res.text()
    return res.json()


def shown_table(page, field: str) -> np.ndarray:
    return np.array(page.eval_on_selector(
        f'#view table[data-field="{field}"]',
        "t => [...t.querySelectorAll('tr')].map(tr => [...tr.querySelectorAll('td')]"
        ".map(td => Number(td.dataset.v)))"))


@pytest.mark.parametrize("width", [1280, 390])
def test_switching_to_the_transposed_op_and_stepping(make_page, width):
    page, log = make_page(width=width)
    open_page(page, "sample=chelsea&size=24")
    expect(page.locator("#stage-tabs")).to_be_visible()
    page.locator('input[name="op-mode"][value="transpose"]').check()
    wait_ready(page, 2)
    expect(page.locator("#stage-tabs")).to_be_hidden()
    expect(page.locator("#transpose-settings")).to_be_visible()
    expect(page.locator("#f")).to_be_hidden()  # the conv layer's panels are away
    expect(page.locator("#t-f-note")).to_have_text("f = 4, from the stride")
    api = post_op(page, {"sample": "chelsea", "size": 24})
    X = decode(api["arrays"]["input"])  # (16, 24, 3)
    g = api["geometry"]
    assert (g["n_H"], g["n_W"]) == (32, 48)
    expect(page.locator("#convt-shapes")).to_contain_text("Z 32 × 48 × 3")
    expect(page.locator("#convt-formula")).to_contain_text(
        "(16 - 1)*2 - 2*1 + 1*(4 - 1) + 1 + 0 = 32")
    assert page.locator("#view .convt-op-view canvas").count() >= 2
    total = X.size
    for k in (0, 700, total - 1):
        page.locator("#scrub").fill(str(k))
        h, w, c = np.unravel_index(k, X.shape)
        expect(page.locator("#step-label")).to_contain_text(f"step {k + 1} of {total}")
        a = page.locator('#view output[data-field="a"]')
        expect(a).to_have_attribute("data-v", re.compile(r"."))
        assert float(a.get_attribute("data-v")) == pytest.approx(float(X[h, w, c]), abs=1e-6)
        rec = page.request.post("/api/explore/transpose/steps", data=json.dumps({
            "id": api["id"], "settings": {"sample": "chelsea", "size": 24}, "offset": int(k),
            "limit": 1}), headers={"Content-Type": "application/json"}).json()["steps"][0]
        np.testing.assert_array_equal(shown_table(page, "weights"), np.array(api["kernel"]))
        np.testing.assert_allclose(shown_table(page, "spread"),
                                   np.array(rec["spread"])[:, :, c], atol=1e-12)
        np.testing.assert_allclose(shown_table(page, "after"),
                                   np.array(rec["after"])[:, :, c], atol=1e-12)
        text = page.locator("#view .detail").inner_text()
        assert f"A_prev[{h}, {w}, {c}]" in text
        assert f"Z_full[{2 * h}:{2 * h + 4}, {2 * w}:{2 * w + 4}, {c}]" in text
    # back to the layer: its stages return
    page.locator('input[name="op-mode"][value="conv"]').check()
    expect(page.locator("#stage-tabs")).to_be_visible()
    expect(page.locator("#transpose-settings")).to_be_hidden()
    expect(page.locator("#view .stage-view").first).to_be_visible()
    expect(page.locator("#view .convt-op-view")).to_have_count(0)
    assert log.console_errors == [] and log.page_errors == []


def test_the_output_fills_in_as_the_steps_pass(page_and_log):
    page, log = page_and_log
    open_page(page, OP_QUERY + "&t_kernel=nearest&t_pad=0&step=0")
    out = "#view .convt-op-view .maps > .map:nth-child(2) canvas.map-base"
    seen = []
    for k in (0, 400, 1151):  # nearest, stride 2: every output pixel waits for its B step
        page.locator("#scrub").fill(str(k))
        expect(page.locator("#step-label")).to_contain_text(f"step {k + 1} of 1152")
        page.wait_for_timeout(50)
        seen.append(canvas_stats(page, out)["unreached"])
    assert seen[0] > seen[1] > seen[2] == 0, seen
    assert log.page_errors == []


def test_settings_round_trip_through_the_url(page_and_log):
    page, log = page_and_log
    query = (OP_QUERY + "&t_kernel=w:1,0.5,0.25,2&t_stride=3&t_pad=0&t_op=2&t_dilation=1"
             "&t_bias=0.5&step=5")
    open_page(page, query)
    expect(page.locator("#t-kernel")).to_have_value("own")
    expect(page.locator("#t-weights")).to_have_value("1 0.5\n0.25 2")
    for sel, value in (("#t-stride", "3"), ("#t-pad", "0"), ("#t-op", "2"), ("#t-bias", "0.5")):
        expect(page.locator(sel)).to_have_value(value)
    # (16 - 1)*3 + 2 + 2 = 49 rows
    expect(page.locator("#convt-shapes")).to_contain_text("Z 49 × 73 × 3")
    expect(page.locator("#step-label")).to_contain_text("step 6 of")
    page.locator("#t-stride").fill("4")
    expect(page).to_have_url(re.compile(r"t_stride=4"))
    expect(page.locator("#convt-shapes")).to_contain_text("Z 64 × 96 × 3")
    url = page.url
    assert "op=transpose" in url and "t_kernel=w%3A1%2C0.5%2C0.25%2C2" in url
    page.goto(url)
    wait_ready(page)
    expect(page.locator("#t-stride")).to_have_value("4")
    expect(page.locator("#t-weights")).to_have_value("1 0.5\n0.25 2")
    expect(page.locator("#convt-shapes")).to_contain_text("Z 64 × 96 × 3")
    page.locator("#t-kernel").select_option("gaussian_blur")
    expect(page.locator("#t-f-row")).to_be_visible()
    page.locator("#t-f").fill("5")
    expect(page).to_have_url(re.compile(r"t_kernel=gaussian_blur.*t_f=5"))
    assert log.console_errors == [] and log.page_errors == []


def test_a_refusal_is_said_in_words_and_out_of_range_url_values_dropped(page_and_log):
    page, log = page_and_log
    open_page(page, OP_QUERY + "&t_stride=99&t_kernel=sobel_x")
    note = page.locator("#url-dropped")
    expect(note).to_contain_text("t_stride 99 dropped: at most 16")
    expect(note).to_contain_text("t_kernel sobel_x dropped: not one of bilinear, nearest")
    page.locator("#t-op").fill("2")  # stride 2: output_padding at most 1
    box = page.locator("#convt-error")
    expect(box).to_be_visible()
    expect(box).to_contain_text("output_padding must be smaller than stride or dilation (at "
                                "most max(stride, dilation) - 1 = max(2, 1) - 1 = 1")
    page.locator("#t-op").fill("1")
    expect(box).to_be_hidden()
    expect(page.locator("#convt-shapes")).to_contain_text("Z 33 × 49 × 3")
    assert log.page_errors == []


def test_the_op_downloads_its_loop(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page, "sample=chelsea&size=6&op=transpose&t_kernel=nearest&t_pad=0&step=7")
    menu = page.locator("#download")
    expect(menu).to_be_visible()
    menu.locator("summary").click()
    expect(menu.locator(".download-links")).to_be_visible()
    expect(menu.locator(".download-note")).to_contain_text("on your 4 × 6 image's grid")
    href = menu.locator('a[data-kind="gif"]').get_attribute("href")
    for part in ("op=conv_transpose&", "h=4", "w=6", "f=2", "stride=2", "pad=0"):
        assert part in href
    name, data = download(page, menu, "png", tmp_path)  # step 8 of 72: input cell 2, frame 3
    assert name == "conv_transpose-4x6-f2-s2-p0-d1-step3.png"
    name, data = download(page, menu, "gif", tmp_path)
    assert Image.open(io.BytesIO(data)).n_frames == 24
    assert log.console_errors == [] and log.page_errors == []


def test_a_link_whose_settings_are_refused_opens_on_the_defaults(make_page):
    page, log = make_page(width=390)
    open_page(page, OP_QUERY + "&t_op=2")  # stride 2: output_padding at most 1
    note = page.locator("#url-dropped")
    expect(note).to_contain_text("the address's transposed-convolution settings were dropped "
                                 "for the defaults: output_padding must be smaller than "
                                 "stride or dilation")
    expect(page.locator("#t-op")).to_have_value("0")
    expect(page.locator("#convt-shapes")).to_contain_text("Z 32 × 48 × 3")
    expect(page.locator("#convt-error")).to_be_hidden()
    assert page.locator("#view .convt-op-view canvas").count() >= 2
    expect(page).to_have_url(re.compile(r"t_op=0"))
    assert log.page_errors == []
