"""Screenshots of the network page for the README: the overview, the backward view, a layer's
step view, the training view (after a short job, with its curves) and a scribble called no
digit at 1280 px, and the page on a 390 px phone. Look at them after a change.

They go to a temporary folder, so that a test run leaves the work tree clean; with
CONVSTEP_SCREENSHOT_DIR=docs/screenshots (as `make screenshots` sets it) they refresh the
README's pictures."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_learn_screenshots import OUT, _save_small

SHOTS = [
    # name, query, viewport, the element scrolled to the top (None: the top of the page)
    ("network-overview", "", (1280, 1000), None),
    ("network-backward", "?src=digit&digit=4&mode=backward", (1280, 1000), ".net-grid"),
    ("network-steps", "?src=digit&digit=4&layer=conv1&step=27", (1280, 1000), "#steps-panel"),
    ("network-training", "", (1280, 1000), "#h-train"),
    ("network-phone", "", (390, 844), None),
    ("network-not-a-digit", "", (1280, 800), None),
]
# a scribble on the pad, in its [0, 1] coordinates: the page says it is no digit
SCRIBBLE = [(0.1, 0.2), (0.9, 0.3), (0.15, 0.5), (0.85, 0.55), (0.2, 0.8), (0.9, 0.9),
            (0.5, 0.1), (0.3, 0.95)]


def _scribble(page) -> None:
    page.click("#clear")
    box = page.locator("#pad").bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in SCRIBBLE]
    page.mouse.move(*at[0])
    page.mouse.down()
    for p in at[1:]:
        page.mouse.move(*p, steps=3)
    page.mouse.up()
    expect(page.locator("#main")).to_have_attribute("data-digit-like", "false", timeout=20000)
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")


def _train(page) -> None:
    """A short job from the page's own controls, to its end."""
    page.select_option("#train-epochs", "5")
    page.click("#train-start")
    expect(page.locator("#main")).to_have_attribute("data-train-state", "done", timeout=60000)


@pytest.mark.parametrize(("name", "query", "size", "top"), SHOTS)
def test_network_screenshot(make_page, name, query, size, top):
    page, log = make_page(*size)
    page.goto(f"/network{query}")
    expect(page.locator("#main")).to_have_attribute("data-prediction", re.compile(r"\d"),
                                                  timeout=20000)
    expect(page.locator("#main")).to_have_attribute("data-state", "ready")
    if "layer=" in query:
        expect(page.locator("#steps-panel")).to_have_attribute("data-step", re.compile(r"\d"))
    if name == "network-training":
        _train(page)
    if name == "network-not-a-digit":
        _scribble(page)
    page.evaluate("document.fonts.ready")
    if top:
        page.evaluate("(sel) => document.querySelector(sel).scrollIntoView({block: 'start'})", top)
        page.wait_for_timeout(100)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    _save_small(path, page.screenshot())
    with Image.open(path) as im:
        assert im.size == size
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0], "sideways scroll"
    if name == "network-training":
        page.click("#train-reset")  # frees the server's job slot
        expect(page.locator("#main")).not_to_have_attribute("data-train-state", re.compile("."))
    assert not log.console_errors and not log.page_errors
