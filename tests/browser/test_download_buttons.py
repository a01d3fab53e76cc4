"""The "Download animation" menu on Learn and Explore: its links are the view's op and
geometry as the server animates it (GIF, APNG, the step shown as PNG and SVG), and what
they download opens as such."""

from __future__ import annotations

import io
import re

from pagetools import download as _download
from PIL import Image
from playwright.sync_api import expect


def test_learn_exports_the_function_shown_at_its_step(page_and_log, tmp_path):
    page, log = page_and_log
    page.goto("/learn?fn=conv_forward&step=4")  # 5 x 7, f 3, stride 2, pad 1: 3 x 4 windows
    menu = page.locator("#download")
    expect(menu).to_be_visible()
    menu.locator("summary").click()
    expect(menu.locator(".download-links")).to_be_visible()
    name, data = _download(page, menu, "gif", tmp_path)
    assert name == "conv_forward-5x7-f3-s2-p1-d1.gif"
    im = Image.open(io.BytesIO(data))
    assert im.format == "GIF" and im.n_frames == 12
    # step 5 of 24 is Z[0, 0, 2, 0]: window position (0, 2), the animation's frame 3
    name, data = _download(page, menu, "png", tmp_path)
    assert name == "conv_forward-5x7-f3-s2-p1-d1-step3.png"
    frame = Image.open(io.BytesIO(data))
    im.seek(2)
    assert frame.format == "PNG"
    assert frame.convert("RGB").tobytes() == im.convert("RGB").tobytes()
    name, data = _download(page, menu, "svg", tmp_path)
    assert name.endswith("-step3.svg") and data.startswith(b"<svg")
    name, data = _download(page, menu, "apng", tmp_path)
    assert Image.open(io.BytesIO(data)).n_frames == 12
    page.locator('a[href*="fn=pool_backward"]').first.click()
    expect(menu.locator(".download-note")).to_contain_text("pool_backward's loop on this 5 × 7")
    # a function without a window loop has no menu
    page.locator('a[href*="fn=zero_pad"]').first.click()
    expect(menu).to_be_hidden()
    assert log.page_errors == []


def test_explore_exports_its_stage(page_and_log, tmp_path):
    page, log = page_and_log
    page.goto("/explore?stage=pool_forward")
    menu = page.locator("#download")
    expect(menu).to_be_visible(timeout=20000)
    menu.locator("summary").click()
    expect(menu.locator(".download-links")).to_be_visible()
    expect(menu.locator(".download-note")).to_contain_text("pool forward")
    name, data = _download(page, menu, "gif", tmp_path)
    assert name.startswith("pool_forward-16x16-f2-s2")
    assert Image.open(io.BytesIO(data)).n_frames == 64  # 8 x 8 windows
    assert log.page_errors == []


def test_explore_shows_dA_prev_as_a_transposed_convolution(page_and_log):
    page, log = page_and_log
    page.goto("/explore?stage=conv_backward&stride=2")
    panel = page.locator("#transpose-panel")
    expect(panel).to_be_visible(timeout=20000)
    img = page.locator("#transpose-img")
    expect(img).to_have_attribute("src", re.compile(r"op=conv_transpose_direct.*stride=2"))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=img.element_handle())
    # the working image is 64 x 96: a 12 x 12 example, dZ 6 x 6, output_padding 1 back to 12
    expect(page.locator("#transpose-formula")).to_contain_text("(6 - 1)*2 - 2*1")
    expect(page.locator("#transpose-where")).to_contain_text("12 × 12")
    page.locator("#tab-conv_forward").click()
    expect(panel).to_be_hidden()
    assert log.page_errors == []
