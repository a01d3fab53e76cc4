"""Screenshots of every stage (and the page on a phone), taken at 1280 x 800 with the stage's
maps and numbers in view. Look at them after a change.

They go to a temporary folder, so that a test run leaves the work tree clean; `make
screenshots` sets CONVSTEP_SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from pagetools import DEFAULT_QUERY, DEFAULT_SETTINGS, decode, open_page, post_image, wait_until
from PIL import Image

OUT = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
           or Path(tempfile.gettempdir()) / "convstep-screenshots")
# the backward stages with upstream = the output itself (L = sum(out**2) / 2): a gradient
# with the picture's structure instead of all ones
BACKWARD = DEFAULT_QUERY.replace("up=ones", "up=output")
SHOTS = [
    ("1-pad", DEFAULT_QUERY + "&stage=pad&step=0", None),
    ("2-convolution", DEFAULT_QUERY + "&stage=conv_forward&step=8101", "z"),
    ("3-relu", DEFAULT_QUERY + "&stage=relu&step=5000", "a"),
    ("4-pooling", DEFAULT_QUERY + "&stage=pool_forward&step=1201", "value"),
    ("5-pool-backward", BACKWARD + "&stage=pool_backward&step=1201", "da"),
    ("6-conv-backward", BACKWARD + "&stage=conv_backward&step=5001", "db_running"),
    ("6b-conv-backward-numbers", BACKWARD + "&stage=conv_backward&step=5001", "db_running"),
    # stride 2: one zero inserted between dZ's cells; dA_prev[30, 40, 0]
    ("8-transposed-conv", BACKWARD.replace("stride=1", "stride=2")
     + "&stage=backward_transpose&step=8760", "z"),
]


def _save_small(path: Path, png: bytes) -> None:
    """Palette PNG: a few hundred KB instead of a couple of MB per shot."""
    from io import BytesIO

    with Image.open(BytesIO(png)) as im:
        im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True)


def _nonzero_dz_step(page, start: int) -> int:
    """The first conv_backward step from `start` whose dZ is not 0 (a step worth a picture)."""
    settings = {**DEFAULT_SETTINGS, "upstream": {"kind": "output", "seed": 0}}
    dz = decode(post_image(page, settings)["arrays"]["dZ"]).reshape(-1)
    return start + int(np.flatnonzero(dz[start:])[0])


@pytest.mark.parametrize(("name", "query", "field"), SHOTS)
def test_stage_screenshot(make_page, name, query, field):
    page, log = make_page(1280, 800)
    if name.startswith("6"):
        query = query.replace("step=5001", f"step={_nonzero_dz_step(page, 5001)}")
    open_page(page, query)
    if field:
        page.wait_for_selector(f'#view output[data-field="{field}"]')
    target = "#view .detail" if name.endswith("numbers") else "#stage-tabs"
    page.evaluate(f"document.querySelector('{target}').scrollIntoView()")
    wait_until(page, "document.fonts.status === 'loaded'")
    page.wait_for_timeout(150)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    _save_small(path, page.screenshot())
    with Image.open(path) as im:
        assert im.size == (1280, 800)
        assert len(im.convert("RGB").getcolors(1 << 16) or []) > 50  # drawn, not blank
    assert log.console_errors == [] and log.page_errors == []


def test_overview_and_phone_screenshots(make_page):
    page, log = make_page(1280, 800)
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=3101")
    page.wait_for_selector('#view output[data-field="z"]')
    OUT.mkdir(parents=True, exist_ok=True)
    _save_small(OUT / "0-overview.png", page.screenshot())
    phone, plog = make_page(390, 844)
    open_page(phone, DEFAULT_QUERY + "&stage=conv_forward&step=3101")
    phone.wait_for_selector('#view output[data-field="z"]')
    phone.evaluate("document.getElementById('stage-tabs').scrollIntoView()")
    phone.wait_for_timeout(150)
    _save_small(OUT / "7-phone.png", phone.screenshot())
    with Image.open(OUT / "7-phone.png") as im:
        assert im.size == (390, 844)
    assert log.page_errors == [] and plog.page_errors == []
