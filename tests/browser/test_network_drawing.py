"""The network page as a newcomer draws on it: no "blank" flash when a stroke starts, Clear
empties every view, a small digit is read, a scribble is called no digit, a long weights name
stays in its panel, a photo of a thick digit is redrawn and read."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


def _open(make_page, width=1280, height=900):
    page, log = make_page(width, height)
    page.goto("/network")
    expect(page.locator("#main")).to_have_attribute("data-prediction", re.compile(r"."),
                                                  timeout=20000)
    return page, log


def _stroke(page, points, steps=6):
    box = page.locator("#pad").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * w, y0 + y * h, steps=steps)
    page.mouse.up()


def _blank_pixels(page, selector):
    return page.evaluate("""(sel) => {
      const cv = document.querySelector(sel);
      const { data } = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height);
      return data.every((v) => v === 0);
    }""", selector)


def test_a_stroke_never_sends_an_empty_drawing_nor_flashes_an_error(make_page):
    page, log = _open(make_page)
    page.click("#clear")
    statuses, bodies = [], []
    page.on("response", lambda r: statuses.append(r.status) if r.url.endswith("/run") else None)
    page.on("request", lambda r: bodies.append(r.post_data_json)
            if r.url.endswith("/api/network/run") else None)
    # the error box must never show, not even for a moment: watched by a MutationObserver
    page.evaluate("""() => {
      const box = document.querySelector('#input-error');
      window.__errorShown = false;
      new MutationObserver(() => { if (!box.hidden) window.__errorShown = true; })
        .observe(box, { attributes: true, childList: true });
    }""")
    _stroke(page, [(0.5, 0.1), (0.5, 0.9)])
    expect(page.locator("#main")).to_have_attribute("data-prediction", re.compile(r"."))
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    assert bodies and all(b["input"]["kind"] == "strokes" and b["input"]["strokes"]
                          for b in bodies)
    assert all(s == 200 for s in statuses), statuses
    assert page.evaluate("window.__errorShown") is False
    assert log.console_errors == [] and log.page_errors == []


def test_clear_empties_the_maps_and_the_probabilities(make_page):
    page, log = _open(make_page)
    assert page.locator("#probs li").count() == 10
    assert not _blank_pixels(page, "#input-map")
    page.click("#clear")
    root = page.locator("#main")
    expect(root).not_to_have_attribute("data-prediction", re.compile(r"."))
    assert page.locator("#probs li").count() == 0
    assert page.locator("#prediction").inner_text() == ""
    assert _blank_pixels(page, "#input-map") and _blank_pixels(page, "#pad")
    assert _blank_pixels(page, "[data-layer=conv1] canvas")
    assert page.locator("#input-note").inner_text() == ""
    assert "Draw one digit" in page.locator("#verdict").inner_text()
    page.hover("#input-map")  # a blank map has no values to report
    assert page.locator("#readout").inner_text() == "Hover a cell to read its exact value."
    assert log.page_errors == []


def test_a_small_plain_seven_is_read(make_page):
    """A 7 without a crossbar, a fifth of the pad high, in a corner."""
    page, _ = _open(make_page)
    page.click("#clear")
    _stroke(page, [(0.1, 0.1), (0.22, 0.1), (0.14, 0.3)], steps=4)
    root = page.locator("#main")
    expect(root).to_have_attribute("data-prediction", "7")
    expect(root).to_have_attribute("data-digit-like", "true")
    note = page.locator("#input-note").inner_text()
    assert re.match(r"1 stroke, 3\d px of the 168 px pad", note), note


def test_a_scribble_says_it_is_no_digit(make_page):
    page, log = _open(make_page)
    page.click("#clear")
    _stroke(page, [(0.1, 0.2), (0.9, 0.3), (0.15, 0.5), (0.85, 0.55), (0.2, 0.8), (0.9, 0.9),
                   (0.5, 0.1), (0.3, 0.95)], steps=3)
    root = page.locator("#main")
    expect(root).to_have_attribute("data-digit-like", "false")
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class(re.compile("is-ood"))
    assert "does not look like a digit" in verdict.inner_text()
    assert log.page_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_weights_name_stays_inside_its_panel(make_page, width):
    page, _ = _open(make_page, width=width)
    page.evaluate("""() => {
      const opt = document.createElement('option');
      opt.value = 'u0';
      opt.textContent = 'my-very-long-weights-file-name-from-a-training-run-on-friday'
        + '.safetensors (97.2% held out)';
      const s = document.querySelector('#weights');
      s.append(opt);
      s.value = 'u0';
    }""")
    select = page.locator("#weights").bounding_box()
    panel = page.locator(".net-weights").bounding_box()
    assert select["x"] + select["width"] <= panel["x"] + panel["width"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_photo_that_is_no_digit_says_so(make_page):
    """A sample photo (coffee.jpg) on the Photo tab: no "9 at 95%", a warning."""
    from app.platform.samples import SAMPLES_DIR

    page, log = _open(make_page)
    page.click("#tab-photo")
    sample = SAMPLES_DIR / "coffee.jpg"
    page.set_input_files("#photo", str(sample))
    root = page.locator("#main")
    expect(root).to_have_attribute("data-digit-like", "false", timeout=20000)
    assert "does not look like a digit" in page.locator("#verdict").inner_text()
    assert log.page_errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_a_photo_of_a_felt_tip_digit_is_read(make_page, tmp_path, width):
    """A photo of a 4 written with a felt tip (a pen 0.15 of the pad, gray on white): the page
    shows it thinned and redrawn as the network reads it, and reads a 4."""
    import numpy as np
    from PIL import Image

    from core.drawn import PAD
    from core.net_input import render_segments, segments_of

    strokes = [np.array([[50, 20], [45, 100], [130, 100]], float),
               np.array([[110, 30], [110, 155]], float)]
    ink = render_segments(*segments_of(strokes), (PAD, PAD), 0.15 * PAD)
    photo = tmp_path / "four.png"
    Image.fromarray((255 - 200 * np.pad(ink, 40)).astype(np.uint8)).save(photo)
    page, log = _open(make_page, width)
    page.click("#tab-photo")
    page.set_input_files("#photo", str(photo))
    root = page.locator("#main")
    expect(root).to_have_attribute("data-prediction", "4", timeout=20000)
    expect(root).to_have_attribute("data-digit-like", "true")
    note = page.locator("#input-note").inner_text()
    assert re.search(r"strokes \d+ px wide, thinned and redrawn with a \d+ px pen", note), note
    page.locator("#input-note").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / f"network-photo-felt-tip-{width}.png")  # looked at
    assert log.page_errors == []
