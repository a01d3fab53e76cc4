"""Screenshots of Explore's transposed-convolution op at 1280 and 390 px: the cat upsampled
by the bilinear kernel mid-sweep, the input cell, its window on the output and the step's
arithmetic in view. `make screenshots` writes them to docs/screenshots (CONVSTEP_SCREENSHOT_DIR);
a test run writes them to a temporary folder. Look at them after a change."""

from __future__ import annotations

import pytest
from pagetools import open_page, wait_until
from PIL import Image
from test_explore_screenshots import OUT, _save_small

# 32 x 48 of the cat, bilinear x2: 64 x 96 out; step 2401 is input cell (16, 32), channel 1
QUERY = "sample=chelsea&size=48&op=transpose&t_kernel=bilinear&t_stride=2&t_pad=1&step=2401"


@pytest.mark.parametrize("width, height", [(1280, 800), (390, 844)])
def test_transposed_op_screenshot(make_page, width, height):
    page, log = make_page(width, height)
    open_page(page, QUERY)
    page.wait_for_selector('#view table[data-field="after"]')
    page.evaluate("document.querySelector('#player').scrollIntoView()")
    wait_until(page, "document.fonts.status === 'loaded'")
    page.wait_for_timeout(150)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"explore-transpose-op-{width}.png"
    _save_small(path, page.screenshot())
    with Image.open(path) as im:
        assert im.size == (width, height)
        assert len(im.convert("RGB").getcolors(1 << 16) or []) > 50  # drawn, not blank
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    assert log.console_errors == [] and log.page_errors == []
