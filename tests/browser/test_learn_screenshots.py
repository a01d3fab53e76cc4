"""Screenshots of Learn mode for the README: the exercise path at 1280 px, mistake mode, and
the page on a 390 px phone. Look at them after a change.

They go to a temporary folder, so that a test run leaves the work tree clean; with
CONVSTEP_SCREENSHOT_DIR=docs/screenshots (as `make screenshots` sets it) they refresh the
README's pictures."""

from __future__ import annotations

import os
import tempfile
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.pagetools import wait_until

OUT = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
           or Path(tempfile.gettempdir()) / "convstep-screenshots")
SHOTS = [
    # name, query, viewport, what must be on screen
    ("learn-path", "fn=conv_forward&step=12", (1280, 860), "#arith li"),
    ("learn-mistake", "fn=conv_forward&mistake=stride_missing&step=2", (1280, 1000),
     "#compare h3"),
    ("learn-phone", "fn=conv_forward&step=12", (390, 844), "#view table"),
]


def _save_small(path: Path, png: bytes) -> None:
    """Palette PNG: a few hundred KB instead of a couple of MB per shot."""
    with Image.open(BytesIO(png)) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True)


@pytest.mark.parametrize(("name", "query", "size", "selector"), SHOTS)
def test_learn_screenshot(make_page, name, query, size, selector):
    page, log = make_page(*size)
    page.goto(f"/learn?{query}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, f"!!document.querySelector('{selector}')")
    wait_until(page, "document.fonts.status === 'loaded'")
    wait_until(page, "!document.querySelector('#mistake-field').hidden")  # the list is in
    if name == "learn-mistake":
        page.evaluate("document.querySelector('#fn-title').scrollIntoView()")
    box = page.locator(selector).first.bounding_box()
    assert box and box["y"] < size[1], f"{selector} is not on the first screen"
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    _save_small(path, page.screenshot())
    with Image.open(path) as im:
        assert im.size == size
    assert not log.console_errors and not log.page_errors
