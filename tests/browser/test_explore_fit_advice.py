"""Settings that do not fit: the headline says so with core's precise advice ("f <= 17"),
never the last size; the page asks /api/geometry first and never sends /api/image a
request it knows will be refused, so the console stays free of "Failed to load resource"."""

from __future__ import annotations

import re

from pagetools import open_page, renders, wait_ready

QUERY = ("sample=chelsea&size=24&color=gray&f=3&stride=1&pad=1&pad_mode=constant&dilation=1"
         "&k0=identity&b0=0&relu=1&pool=max&pool_f=2&pool_stride=2&tie=first&up=ones"
         "&stage=conv_forward&step=10")


def test_a_window_too_big_is_headlined_with_precise_advice(page_and_log):
    page, log = page_and_log
    open_page(page, QUERY)
    head = page.locator("#geo-out")
    assert head.inner_text().startswith("Z is 16 × 24")
    images = []
    page.on("request", lambda r: images.append(r.url) if "/api/image" in r.url else None)
    page.locator("#f").fill("21")
    box = page.locator("#settings-error")
    box.wait_for(state="visible")
    # 16 x 24 image, pad 1, 2 x 2 pooling after: f_eff <= 16 + 2 - 1 = 17
    text = head.inner_text()
    assert "do not fit" in text and "Z is" not in text
    assert "f ≤ 17" in text and "pad ≥ 3" in text and "size ≥ 30" in text
    assert "f <= 17" in box.inner_text() and "smaller f" not in box.inner_text()
    assert images == []  # refused by the check, never sent
    # each advised value fits: the page computes again and the headline is a size again
    n = renders(page)
    page.locator("#f").fill("17")
    wait_ready(page, n + 1)
    assert head.inner_text().startswith("Z is 2 × 10")
    assert box.is_hidden()
    assert log.console_errors == [] and log.page_errors == []


def test_a_pooling_that_does_not_fit_advises_the_conv_stride(page_and_log):
    page, log = page_and_log
    open_page(page, QUERY)
    page.locator("#stride").fill("4")
    page.locator("#pool-f").fill("5")
    page.locator("#settings-error").wait_for(state="visible")
    text = page.locator("#geo-out").inner_text()
    # Z is floor((16 + 2 - 3) / 4) + 1 = 4 rows, the 5 x 5 pooling needs 5: stride <= 3
    assert "stride ≤ 3" in text and "pool f ≤ 4" in text
    assert "Pooling over Z (4 x 6)" in page.locator("#settings-error").inner_text()
    assert log.console_errors == [] and log.page_errors == []


def test_invalid_settings_log_no_console_error(page_and_log):
    page, log = page_and_log
    open_page(page, QUERY)
    # reflect padding wider than the image, a preset that needs odd f, a huge dilation
    page.select_option("#pad-mode", "reflect")
    page.locator("#pad").fill("20")
    page.locator("#settings-error").wait_for(state="visible")
    assert "pad ≤ 15" in page.locator("#geo-out").inner_text()
    page.select_option("#pad-mode", "constant")
    page.locator("#pad").fill("1")
    page.locator("#dilation").fill("16")
    page.locator("#settings-error-text", has_text="dilation").wait_for()
    # f 3 spans 2*dilation + 1 <= 16 + 2 - 1 (the pooling needs 2 rows of Z): dilation <= 8
    assert "dilation ≤ 8" in page.locator("#geo-out").inner_text()
    page.locator("#dilation").fill("1")
    page.locator("#f").fill("4")  # identity works for every f: fits
    page.locator("#filter-0-preset").wait_for()
    page.select_option("#filter-0-preset", "sobel_x")  # sobel needs an odd f
    page.locator("#settings-error-text", has_text="odd").wait_for()
    assert "cannot be computed" in page.locator("#geo-out").inner_text()
    # a reload of a link with settings that do not fit: checked before anything is sent,
    # then the setting is dropped for the default and the page says why
    page.goto("/explore?" + QUERY.replace("f=3", "f=25"))
    page.locator("#url-dropped").wait_for(state="visible")
    assert re.search(r"f 25 dropped: at most \d+ for this image",
                     page.locator("#url-dropped").inner_text())
    assert page.locator("#f").input_value() == "3"
    assert log.console_errors == [] and log.page_errors == []
