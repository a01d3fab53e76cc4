"""Explore's "As transposed conv" stage at 1280 and 390 px: the user's dZ with zeros inserted,
the flipped kernel, and every step's numbers the server's, its sum the same dA_prev that the
Conv backward stage shows; the stage and step are in the URL."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pagetools import DEFAULT_QUERY, DEFAULT_SETTINGS, decode, open_page, post_image, table_values
from playwright.sync_api import expect

QUERY = DEFAULT_QUERY.replace("size=96", "size=24").replace("stride=1", "stride=2")
SETTINGS = {**DEFAULT_SETTINGS, "size": 24, "stride": 2}


@pytest.mark.parametrize("width", [1280, 390])
def test_stage_shows_dA_prev_as_a_transposed_convolution(make_page, width):
    page, log = make_page(width=width)
    open_page(page, QUERY + "&stage=backward_transpose&step=41")
    api = post_image(page, SETTINGS)
    dA_prev = decode(api["arrays"]["dA_prev"])  # (16, 24, 3)
    up = decode(api["arrays"]["dZ_up"])  # (18, 26, 2): dZ 8 x 12 with zeros between
    assert up.shape == (18, 26, 2) and dA_prev.shape == (16, 24, 3)
    tab = page.locator("#tab-backward_transpose")
    assert tab.get_attribute("aria-selected") == "true" and tab.is_visible()
    assert page.locator("#view .convt-view canvas").count() >= 5  # 2 dZ_up maps, 3 dA_prev
    assert "1 zero inserted" in page.locator("#view .convt-view").inner_text()
    for k in (41, 0, 1151):
        page.locator("#scrub").fill(str(k))
        h, w, c = np.unravel_index(k, dA_prev.shape)
        assert page.locator("#step-label").inner_text().startswith(f"step {k + 1} of 1152")
        z = page.locator('#view output[data-field="z"]')
        z.wait_for()
        got = float(z.get_attribute("data-v"))
        assert got == pytest.approx(float(dA_prev[h, w, c]), abs=1e-6)
        shown = float(page.locator('#view output[data-field="dA_prev"]').get_attribute("data-v"))
        assert shown == float(dA_prev[h, w, c])  # Conv backward's number, side by side
        # the window of dZ_up the tables show is the server's array, channel by channel
        vs, hs = h, w  # stride 1 over dZ_up
        for f in range(2):
            window = np.array(table_values(page, "a_slice", f)).reshape(3, 3)
            np.testing.assert_array_equal(window, up[vs:vs + 3, hs:hs + 3, f])
            products = np.array(table_values(page, "products", f))
            weights = np.array(table_values(page, "weights", f))
            np.testing.assert_allclose(products, window.reshape(-1) * weights, atol=1e-12)
    # the address is written at most every 150 ms (kit/urlstate.js coalesces): wait for it
    expect(page).to_have_url(re.compile(r"[?&]stage=backward_transpose&step=1151\b"))
    assert log.console_errors == [] and log.page_errors == []


def test_weights_are_the_kernel_turned_around(page_and_log):
    page, log = page_and_log
    open_page(page, QUERY + "&stage=backward_transpose&step=0")
    flipped = np.array(table_values(page, "weights", 0)).reshape(3, 3)
    W = decode(post_image(page, SETTINGS)["arrays"]["W"])  # (3, 3, 3, 2)
    # step 0 is dA_prev[0, 0, 0]: filter 0's kernel for channel 0, turned by 180 degrees
    np.testing.assert_allclose(flipped, W[::-1, ::-1, 0, 0], atol=1e-7)
    assert log.console_errors == [] and log.page_errors == []


def test_no_stage_when_the_pad_mode_folds_the_gradient(page_and_log):
    page, log = page_and_log
    open_page(page, QUERY.replace("pad_mode=constant", "pad_mode=reflect"))
    assert page.locator("#tab-conv_backward").count() == 1
    assert page.locator("#tab-backward_transpose").count() == 0
    assert log.console_errors == [] and log.page_errors == []
