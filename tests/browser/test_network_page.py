"""The network page: a drawn digit gets a prediction from the server, the backward view and a
layer's step view open."""

from __future__ import annotations

import re

from playwright.sync_api import expect

# Waits go through locators: a string predicate polled by wait_for_function may be evaluated
# with eval, which the page's Content-Security-Policy (script-src 'self') refuses.


def _open(browser, server_url):
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/network")
    expect(page.locator("#main")).to_have_attribute("data-prediction", re.compile(r"."),
                                                  timeout=20000)
    return context, page, errors


def test_draw_a_digit_and_see_a_prediction(browser, server_url):
    context, page, errors = _open(browser, server_url)
    page.click("#clear")
    page.evaluate("() => { delete document.querySelector('#main').dataset.prediction; }")
    box = page.locator("#pad").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + 0.5 * w, y0 + 0.15 * h)
    page.mouse.down()
    page.mouse.move(x0 + 0.5 * w, y0 + 0.85 * h, steps=12)
    page.mouse.up()
    expect(page.locator("#main")).to_have_attribute("data-prediction", re.compile(r"."),
                                                  timeout=20000)
    assert page.locator("#probs li").count() == 10
    assert page.locator("#prediction .pred-class").inner_text() in "0123456789"
    assert errors == []
    context.close()


def test_backward_view_and_layer_steps(browser, server_url):
    context, page, errors = _open(browser, server_url)
    page.click("#show-backward")
    page.wait_for_selector("#target-row:not([hidden])")
    assert "dZ" in page.locator("[data-layer=conv1] .layer-shape").first.inner_text()
    page.click("[data-layer=conv2] .open-steps")
    expect(page.locator("#steps-panel")).to_have_attribute("data-kind", "conv_backward",
                                                          timeout=20000)
    page.click("#st-next")
    expect(page.locator("#steps-panel")).to_have_attribute("data-step", "1", timeout=20000)
    assert "dz = dZ" in page.locator("#step-eq").inner_text()
    assert errors == []
    context.close()
