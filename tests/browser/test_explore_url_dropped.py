"""Explore opened with values its address cannot use (out of the page's limits, unreadable,
or not fitting the image) runs on valid settings and says, in a line that can be dismissed,
what it dropped and why, instead of staying empty."""

from __future__ import annotations

import re

from pagetools import open_page, selected_stage
from playwright.sync_api import expect


def test_values_over_the_limits_are_dropped_and_named(page_and_log):
    page, log = page_and_log
    open_page(page, "stride=99&f=50&pad=abc")
    note = page.locator("#url-dropped")
    expect(note).to_be_visible()
    text = note.inner_text()
    limits = page.evaluate("JSON.parse(document.getElementById('boot').textContent).limits")
    assert f"stride 99 dropped: at most {limits['stride']['max']}" in text
    assert f"f 50 dropped: at most {limits['f']['max']}" in text
    assert "pad abc dropped: not a number" in text
    # the page runs on the defaults for those: the form shows them, the stage is drawn
    assert page.locator("#stride").input_value() == "1"
    assert page.locator("#f").input_value() == "3"
    assert selected_stage(page) == "conv_forward"
    assert page.locator("#view canvas").count() > 0
    expect(page).not_to_have_url(re.compile(r"stride=99|f=50"))
    page.locator("#url-dropped-close").click()
    expect(note).to_be_hidden()
    assert log.console_errors == [] and log.page_errors == []


def test_a_setting_that_does_not_fit_the_image_is_dropped_with_the_servers_bound(make_page):
    page, log = make_page(width=390)
    open_page(page, "size=12&f=31")  # f within the page's limits, too big for a 12-px image
    note = page.locator("#url-dropped")
    expect(note).to_be_visible()
    # the bound is /api/geometry's advice for this image (12 x 8, pad 1: f <= 10)
    check = page.request.post("/api/geometry", data={"settings": {"sample": "chelsea",
                                                                  "size": 12, "f": 31}})
    bound = next(a["value"] for a in check.json()["advice"] if a["setting"] == "f")
    assert f"f 31 dropped: at most {bound} for this image" in note.inner_text()
    assert page.locator("#f").input_value() == "3"
    assert page.locator("#view canvas").count() > 0
    assert log.page_errors == []
