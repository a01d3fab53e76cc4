"""The gallery page: every card draws its convolution and transposed convolution, the
formula filled in; the downloads are the animations (opened with Pillow, frames counted);
a number that cannot work says why on its card; the numbers switch redraws."""

from __future__ import annotations

import io

from PIL import Image
from playwright.sync_api import expect


def _open(page):
    page.goto("/gallery")
    expect(page.locator("#main")).to_have_attribute("data-state", "ready", timeout=30000)


def _frames(path) -> tuple[str, int]:
    im = Image.open(io.BytesIO(path.read_bytes()))
    return im.format, getattr(im, "n_frames", 1)


def test_every_card_is_drawn_with_its_formula(page_and_log):
    page, log = page_and_log
    _open(page)
    cards = page.locator(".gallery-card")
    assert cards.count() == 8
    for i in range(cards.count()):
        card = cards.nth(i)
        assert card.get_attribute("data-state") == "ready"
        for kind in ("conv", "transposed", "direct"):
            img = card.locator(f'[data-kind="{kind}"] img')
            img.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=img.element_handle())
    odd = page.locator('[data-key="padding_strides_odd"]')
    expect(odd.locator('[data-kind="conv"] .formula')).to_contain_text(
        "floor((6 + 2*1 - 3) / 2) + 1 = floor(5 / 2) + 1 = 3")
    expect(odd.locator('[data-kind="transposed"] .formula')).to_contain_text(
        "(3 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 6")
    assert log.console_errors == [] and log.page_errors == []


def test_downloads_are_the_animations(page_and_log, tmp_path):
    page, _ = page_and_log
    _open(page)
    card = page.locator('[data-key="padding_strides"]')  # 5 x 5, f 3, stride 2, pad 1
    for kind, fmt, name, frames in (
            ("conv", "gif", "conv_forward-5x5-f3-s2-p1-d1.gif", 9),
            ("conv", "apng", "conv_forward-5x5-f3-s2-p1-d1.png", 9),
            ("transposed", "gif", "conv_transpose-3x3-f3-s2-p1-d1.gif", 9),
            ("direct", "apng", "conv_transpose_direct-3x3-f3-s2-p1-d1.png", 25)):
        with page.expect_download() as info:
            card.locator(f'[data-kind="{kind}"] a[data-format="{fmt}"]').click()
        download = info.value
        assert download.suggested_filename == name
        path = tmp_path / name
        download.save_as(path)
        assert _frames(path) == ("GIF" if fmt == "gif" else "PNG", frames)


def test_changing_a_number_redraws_and_a_bad_one_says_why(page_and_log, tmp_path):
    page, log = page_and_log
    _open(page)
    card = page.locator('[data-key="no_padding_no_strides"]')
    card.locator('[data-field="h"]').fill("6")
    expect(card.locator('[data-kind="conv"] .formula')).to_contain_text("(6 + 2*0 - 3)")
    with page.expect_download() as info:
        card.locator('[data-kind="conv"] a[data-format="gif"]').click()
    path = tmp_path / "six.gif"
    info.value.save_as(path)
    assert _frames(path) == ("GIF", 16)  # 4 x 4 window positions
    card.locator('[data-field="f"]').fill("9")
    error = card.locator(".card-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("f = 9")
    expect(card.locator('[data-kind="conv"]')).to_be_hidden()
    card.locator('[data-field="f"]').fill("3")
    expect(error).to_be_hidden()
    card.locator('[data-field="h"]').fill("99")  # past the server's bound: never sent
    expect(error).to_contain_text("input n must be a whole number from 1 to 64")
    card.locator('[data-field="h"]').fill("6")
    expect(error).to_be_hidden()
    half = page.locator('[data-key="half_padding"]')
    half.locator('[data-field="f"]').fill("5")
    expect(half.locator('[data-field="pad"]')).to_have_value("2")  # floor(5 / 2)
    before = card.locator('[data-kind="conv"] img').get_attribute("src")
    page.locator("#numbers").check()
    expect(card.locator('[data-kind="conv"] img')).not_to_have_attribute("src", before)
    assert "numbers=true" in card.locator('[data-kind="conv"] img').get_attribute("src")
    assert log.page_errors == [] and log.console_errors == []  # no refusal reaches the console
