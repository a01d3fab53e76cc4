"""The "Download animation" menu on Explore's "As transposed conv" stage: the transposed
convolution of dZ as the stage draws it (op conv_transpose_direct, one frame per cell of
dA_prev) with the stage's f, stride, pad, dilation and output_padding, the step on screen as
PNG and SVG, GIF and APNG of every frame."""

from __future__ import annotations

import io

from pagetools import DEFAULT_QUERY, download, open_page
from PIL import Image
from playwright.sync_api import expect

# a 8 x 12 image, f 3 stride 2 pad 1: dZ 4 x 6, output_padding 1 back to dA_prev 8 x 12 x 3
QUERY = DEFAULT_QUERY.replace("size=96", "size=12").replace("stride=1", "stride=2")


def test_the_transposed_stage_exports_its_step(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page, QUERY + "&stage=backward_transpose&step=41")
    menu = page.locator("#download")
    expect(menu).to_be_visible()
    menu.locator("summary").click()
    expect(menu.locator(".download-links")).to_be_visible()
    note = menu.locator(".download-note")
    expect(note).to_contain_text("on your 4 × 6 dZ's grid")
    gif = menu.locator('a[data-kind="gif"]').get_attribute("href")
    for part in ("op=conv_transpose_direct", "h=4", "w=6", "f=3", "stride=2", "pad=1",
                 "output_padding=1"):
        assert part in gif
    # step 42 of 288 runs over (h, w, c) of dA_prev (8 x 12 x 3): cell 13, frame 14
    name, data = download(page, menu, "png", tmp_path)
    assert name == "conv_transpose_direct-4x6-f3-s2-p1-d1-op1-step14.png"
    assert Image.open(io.BytesIO(data)).format == "PNG"
    name, data = download(page, menu, "svg", tmp_path)
    assert name.endswith("-step14.svg") and data.startswith(b"<svg")
    name, data = download(page, menu, "gif", tmp_path)
    assert Image.open(io.BytesIO(data)).n_frames == 8 * 12
    page.locator("#scrub").fill("0")
    page.locator("#download summary").click()  # closed, then opened again: links refreshed
    page.locator("#download summary").click()
    expect(menu.locator('a[data-kind="png"]')).to_have_attribute(
        "download", "conv_transpose_direct-4x6-f3-s2-p1-d1-op1-step1.png")
    assert log.console_errors == [] and log.page_errors == []


def test_a_large_dZ_is_drawn_as_an_example_and_the_note_says_so(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY.replace("stride=1", "stride=2") + "&stage=backward_transpose")
    menu = page.locator("#download")
    menu.locator("summary").click()
    expect(menu.locator(".download-links")).to_be_visible()
    expect(menu.locator(".download-note")).to_contain_text(
        "on a 8 × 8 dZ with your settings (your 32 × 48 dZ has too many cells")
    assert "h=8" in menu.locator('a[data-kind="apng"]').get_attribute("href")
    assert log.console_errors == [] and log.page_errors == []
