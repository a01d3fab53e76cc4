"""The page as a new user meets it: it loads cleanly, draws the sample, takes uploads, keeps
its state in the URL, answers the keyboard and fits a phone."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import pytest
from pagetools import (
    DEFAULT_QUERY,
    canvas_stats,
    open_page,
    pressed_sample,
    renders,
    scroll_widths,
    selected_stage,
    wait_ready,
    wait_until,
)
from PIL import Image, ImageDraw

STAGES = ["pad", "conv_forward", "relu", "pool_forward", "pool_backward", "conv_backward"]


def test_loads_without_console_errors_or_offsite_requests(make_page, server_url):
    page, log = make_page(reduced_motion="no-preference")
    page.goto("/explore")  # a first visit: no state in the URL, the convolution plays
    wait_ready(page)
    wait_until(page, "document.body.dataset.playing === '1'")
    page.wait_for_timeout(800)
    assert log.console_errors == []
    assert log.page_errors == []
    hosts = {urlparse(u).hostname for u in log.requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    # colours first (display encoding, one byte per value), exact numbers right after
    assert any(urlparse(u).path == "/api/image" and "encoding=display" in u for u in log.requests)
    assert any(urlparse(u).path == "/api/arrays" for u in log.requests)
    assert any("/static/js/explore/main.js" in u for u in log.requests)
    # no inline style or script in the HTML (the page runs under a strict CSP)
    html = page.request.get("/explore").text()
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html
    csp = page.request.get("/explore").headers["content-security-policy"]
    assert "script-src 'self'" in csp


def test_sample_is_drawn_within_a_second(page_and_log):
    page, log = page_and_log
    page.goto("/explore?" + DEFAULT_QUERY + "&stage=conv_forward&step=3000")
    wait_ready(page)
    assert int(page.evaluate("document.body.dataset.drawnMs")) < 1000
    padded = canvas_stats(page, "#view .conv-view figure.map canvas.map-base")
    assert padded["colors"] > 200  # the cat, not a blank canvas
    z = canvas_stats(page, "#view .map-group figure.map canvas.map-base")
    assert z["colors"] > 20  # the feature map has filled in up to step 3000
    assert page.locator("#stage-tabs [role=tab]").count() == 7  # the six, As transposed conv
    assert pressed_sample(page) == "chelsea"
    assert log.console_errors == [] and log.page_errors == []


def _image_bytes(fmt: str, size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    im = Image.new("RGB", size, (30, 30, 30))
    d = ImageDraw.Draw(im)
    d.rectangle([size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4], fill=color)
    d.line([0, 0, size[0], size[1]], fill=(255, 255, 255), width=3)
    buf = io.BytesIO()
    im.save(buf, format=fmt, quality=92) if fmt == "JPEG" else im.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(("fmt", "name", "size", "shape"), [
    ("PNG", "tall.png", (50, 100), "96 × 48 × 3"),
    ("JPEG", "wide.jpg", (120, 40), "32 × 96 × 3"),
])
def test_png_and_jpeg_uploads_redraw(page_and_log, tmp_path, fmt, name, size, shape):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=pad")
    before = canvas_stats(page, "#view figure.map canvas.map-base")
    path = tmp_path / name
    path.write_bytes(_image_bytes(fmt, size, (220, 40, 40)))
    n = renders(page)
    page.set_input_files("#upload", str(path))
    wait_ready(page, n + 1)
    after = canvas_stats(page, "#view figure.map canvas.map-base")
    assert after["sum"] != before["sum"]
    assert (after["width"], after["height"]) != (before["width"], before["height"])
    assert page.locator('[data-field="chain"] .chain-item b').first.inner_text() == shape
    assert name in page.locator("#source-name").inner_text()
    assert page.locator("#samples button[aria-pressed=true]").count() == 0
    assert log.console_errors == [] and log.page_errors == []


def test_refused_upload_shows_the_servers_message(page_and_log, tmp_path):
    page, log = page_and_log
    open_page(page)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image at all")
    page.set_input_files("#upload", str(bad))
    err = page.locator("#upload-error")
    err.wait_for(state="visible")
    text = err.inner_text()
    assert "image" in text.lower() and len(text) > 20
    # the error sits next to the upload control, and the last good image stays
    assert page.locator(".sidebar #upload-error").count() == 1
    assert page.locator("#samples button[aria-pressed=true]").count() == 1
    assert log.page_errors == []


def test_url_restores_state(make_page):
    query = ("sample=coffee&size=40&color=gray&f=5&stride=2&pad=2&pad_mode=reflect&dilation=1"
             "&k0=gaussian_blur&b0=0.25&relu=0&pool=average&pool_f=3&pool_stride=1&up=random"
             "&seed=7&stage=pool_forward&step=5&digits=6")
    page, log = make_page()
    open_page(page, query)
    for _ in range(2):  # as opened, then after a reload
        assert page.locator("#stride").input_value() == "2"
        assert page.locator("#pad").input_value() == "2"
        assert page.locator("#f").input_value() == "5"
        assert page.locator("#pad-mode").input_value() == "reflect"
        assert page.locator("#pool-mode").input_value() == "average"
        assert page.locator("#upstream").input_value() == "random"
        assert page.locator("#seed").input_value() == "7"
        assert page.locator("#relu").is_checked() is False
        assert page.locator("input[name=color][value=gray]").is_checked()
        assert page.locator("#filter-0-preset").input_value() == "gaussian_blur"
        assert page.locator("#filter-0-bias").input_value() == "0.25"
        assert pressed_sample(page) == "coffee"
        assert selected_stage(page) == "pool_forward"
        assert page.locator("#scrub").input_value() == "5"
        assert page.locator("#step-label").inner_text().startswith("step 6 of")
        assert page.locator("#digits").input_value() == "6"
        assert page.locator("#stage-tabs [role=tab]").count() == 5  # no ReLU stage
        page.reload()
        wait_ready(page)
    # and a change goes into the URL
    page.locator("#stride").fill("1")
    wait_until(page, "location.search.includes('stride=1')")
    assert log.console_errors == [] and log.page_errors == []


def test_keyboard_drives_the_player(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")
    label = page.locator("#step-label")
    assert label.inner_text().startswith("step 1 of")
    page.locator("h2#h-geo").click()  # focus on the page, not a control
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert label.inner_text().startswith("step 3 of")
    page.keyboard.press("ArrowLeft")
    assert label.inner_text().startswith("step 2 of")
    page.keyboard.press("Shift+ArrowRight")
    assert label.inner_text().startswith("step 12 of")
    page.keyboard.press("Space")
    wait_until(page, "document.body.dataset.playing === '1'")
    page.wait_for_timeout(300)
    page.keyboard.press("Space")
    wait_until(page, "document.body.dataset.playing === '0'")
    assert int(page.evaluate("document.body.dataset.step")) > 11
    page.keyboard.press("End")
    assert label.inner_text().startswith("step 12288 of 12288")
    # the live region reads the step's equation
    wait_until(page, "document.getElementById('live').textContent.includes('Z[63, 95, 1]')")
    # the buttons are real, labelled buttons
    for name in ("First step", "Step back", "Play", "Step forward", "Last step"):
        assert page.get_by_role("button", name=name, exact=True).count() == 1
    assert log.page_errors == []


@pytest.mark.parametrize("stage", STAGES)
def test_phone_viewport_has_no_sideways_scroll(make_page, stage):
    page, log = make_page(390, 844)
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step=40")
    page.wait_for_timeout(200)
    sw, cw = scroll_widths(page)
    assert sw <= cw, (stage, sw, cw)
    assert log.page_errors == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_control_has_a_name(page_and_log, stage):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step=10")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select')]
        .filter(e => e.offsetParent !== null || e.type === 'file')
        .filter(e => {
            const name = (e.getAttribute('aria-label') || '').trim()
                || (e.labels && [...e.labels].map(l => l.textContent).join('').trim())
                || (e.tagName === 'BUTTON' && e.textContent.trim());
            return !name;
        })
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unnamed == []
    assert log.page_errors == []
