"""Editing one weight keeps the untouched preset weights in float64, as core made them
(sobel_x / 3 is 0.3333333333333333, never float32's 0.3333333432674408), in the state,
the URL, the request, the snippet and the computation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
from pagetools import DEFAULT_QUERY, open_page, renders, wait_ready, wait_until

from core import preset_kernel


def test_editing_one_weight_keeps_the_others_float64(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=0")  # RGB: the preset / 3
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data) if "/api/image" in r.url else None)
    n = renders(page)
    page.get_by_label("Filter 0 weight row 1 column 1", exact=True).fill("0.5")
    wait_ready(page, n + 1)
    want = preset_kernel("sobel_x", 3) / 3  # float64, as the server divides it
    want[1, 1] = 0.5
    wait_until(page, "location.search.includes('k0=w%3A')")
    k0 = parse_qs(urlparse(page.url).query)["k0"][0]
    got = np.array([float(x) for x in k0.removeprefix("w:").split(",")]).reshape(3, 3)
    assert np.array_equal(got, want), got  # bit for bit
    assert "0.3333333333333333" in k0 and "0.33333334" not in k0
    assert bodies and "0.3333333333333333" in bodies[-1] and "0.33333334" not in bodies[-1]
    page.click('#snippet-tabs [data-kind="python"]')
    snippet = page.locator("#snippet-code").inner_text()
    assert "0.3333333333333333" in snippet and "0.3333333432674408" not in snippet
    # the other weights still read as the preset in the editor
    assert page.get_by_label("Filter 0 weight row 0 column 2", exact=True).input_value() == "0.3333"
    assert log.console_errors == [] and log.page_errors == []


def test_custom_from_the_menu_starts_from_float64(page_and_log):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY.replace("k1=sobel_y", "k1=gaussian_blur")
              + "&stage=conv_forward&step=0")
    n = renders(page)
    page.select_option("#filter-1-preset", "__custom")
    wait_ready(page, n + 1)
    wait_until(page, "location.search.includes('k1=w%3A')")
    k1 = parse_qs(urlparse(page.url).query)["k1"][0]
    got = np.array([float(x) for x in k1.removeprefix("w:").split(",")]).reshape(3, 3)
    assert np.array_equal(got, preset_kernel("gaussian_blur", 3) / 3)
    assert log.console_errors == [] and log.page_errors == []
