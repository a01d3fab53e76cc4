"""The network page keeps its view in the URL: the held-out digit, the weights, forward or
backward, the loss's class, the open layer's step view, its direction and step. A reload or a
shared link opens the same view; bad values open the default view, without a page error."""

from __future__ import annotations

import io
import re

import numpy as np
from playwright.sync_api import expect

MAIN = "#main"
STEPS = "#steps-panel"


def _ready(page, query: str = ""):
    page.goto(f"/network{query}")
    expect(page.locator(MAIN)).to_have_attribute("data-prediction", re.compile(r"\d"),
                                                timeout=20000)


def _assert_view(page, *, digit, mode, target, layer, kind, step):
    expect(page.locator("#tab-digit")).to_have_attribute("aria-selected", "true")
    expect(page.locator(f"#digit-grid [data-index='{digit}']")).to_have_attribute(
        "aria-selected", "true")
    expect(page.locator("#input-note")).to_contain_text(f"held-out digit #{digit},")
    expect(page.locator(f"#show-{mode}")).to_have_attribute("aria-checked", "true")
    expect(page.locator(MAIN)).to_have_attribute("data-mode", mode)
    expect(page.locator(f"#targets [data-target='{target}']")).to_have_attribute(
        "aria-checked", "true")
    expect(page.locator("#saliency-note")).to_contain_text(f"loss of class {target}:")
    expect(page.locator(STEPS)).to_be_visible()
    expect(page.locator(STEPS)).to_have_attribute("data-layer", layer)
    expect(page.locator(STEPS)).to_have_attribute("data-kind", kind)
    expect(page.locator(STEPS)).to_have_attribute("data-step", str(step))
    expect(page.locator("#st-label")).to_have_text(re.compile(rf"^step {step + 1} of \d+$"))


def _assert_default_view(page):
    expect(page.locator("#tab-draw")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#src-digit")).to_be_hidden()
    expect(page.locator(MAIN)).to_have_attribute("data-mode", "forward")
    expect(page.locator("#target-row")).to_be_hidden()
    expect(page.locator(STEPS)).to_be_hidden()
    expect(page.locator("#weights")).to_have_value("shipped")
    expect(page.locator("#input-error")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/network$"))  # the bad values are dropped


def test_the_view_survives_a_reload(make_page):
    page, log = make_page(1280, 900)
    _ready(page)
    expect(page).to_have_url(re.compile(r"/network$"))
    page.click("#tab-digit")
    page.click("#digit-grid [data-index='17']")
    page.click("#show-backward")
    page.click("#targets [data-target='3']")
    expect(page.locator("#saliency-note")).to_contain_text("loss of class 3:")
    page.click("[data-layer=conv2] .open-steps")
    expect(page.locator(STEPS)).to_have_attribute("data-kind", "conv_backward")
    page.click("#steps-forward")
    expect(page.locator(STEPS)).to_have_attribute("data-kind", "conv_forward")
    for k in (1, 2, 3):
        page.click("#st-next")
        expect(page.locator(STEPS)).to_have_attribute("data-step", str(k))
    expect(page).to_have_url(re.compile(
        r"\?src=digit&digit=17&mode=backward&target=3&layer=conv2&step=3$"))
    history = page.evaluate("history.length")

    page.reload()
    expect(page.locator(MAIN)).to_have_attribute("data-prediction", re.compile(r"\d"))
    _assert_view(page, digit=17, mode="backward", target=3, layer="conv2",
                 kind="conv_forward", step=3)
    assert page.evaluate("history.length") == history  # replaceState: no entry per change

    # a shared link in a fresh tab, with the backward steps of pool1
    other, other_log = make_page(1280, 900)
    _ready(other, "?src=digit&digit=5&mode=backward&target=0&layer=pool1&dir=backward&step=9")
    _assert_view(other, digit=5, mode="backward", target=0, layer="pool1",
                 kind="pool_backward", step=9)
    expect(other.locator("#steps-backward")).to_have_attribute("aria-checked", "true")

    # closing the step view and going back to forward leave only the digit in the URL
    other.click("#steps-close")
    other.click("#show-forward")
    expect(other).to_have_url(re.compile(r"\?src=digit&digit=5&target=0$"))
    assert log.page_errors == [] and other_log.page_errors == []
    assert log.console_errors == [] and other_log.console_errors == []


def _upload(page) -> str:
    """An .npz with conv1's filters negated, through the API; its weight set's id."""
    shipped = page.request.get("/api/network/weights").json()["params"]
    buf = io.BytesIO()
    np.savez(buf, **{"conv1.W": -np.asarray(shipped["conv1.W"])})
    res = page.request.post("/api/network/weights", multipart={
        "file": {"name": "flipped.npz", "mimeType": "application/octet-stream",
                 "buffer": buf.getvalue()}})
    assert res.status == 201, res.text()
    return res.json()["id"]


def test_an_uploaded_weight_set_in_the_link(make_page):
    page, log = make_page(1280, 900)
    page.goto("/network")
    wid = _upload(page)
    with page.expect_request(lambda r: r.url.endswith("/api/network/run")
                             and wid in (r.post_data or "")):
        _ready(page, f"?w={wid}")
    expect(page.locator("#weights")).to_have_value(wid)
    expect(page.locator("#weights option:checked")).to_contain_text("from the link")
    expect(page).to_have_url(re.compile(rf"\?w={wid}$"))
    page.select_option("#weights", "shipped")
    expect(page).to_have_url(re.compile(r"/network$"))

    # a set the server does not hold (any more): the shipped weights, and a note saying so
    gone = "u" + "0" * 12
    _ready(page, f"?w={gone}&mode=backward")
    expect(page.locator("#weights-status")).to_contain_text("no longer on the server")
    expect(page.locator("#weights")).to_have_value("shipped")
    expect(page.locator(MAIN)).to_have_attribute("data-mode", "backward")
    expect(page).to_have_url(re.compile(r"\?mode=backward$"))
    expect(page.locator("#input-error")).to_be_hidden()
    assert log.page_errors == []


GARBAGE = [
    "?src=photo&digit=-3&w=../../etc/passwd&mode=sideways&target=42&layer=dense&dir=up&step=x",
    "?src=digit&digit=360&target=-1&layer=conv9&mode=",
    "?src=digit&digit=1e3&w=job:abc&target=3.5&layer=__proto__&step=-2",
    "?src=%00&digit=%F0%9F%98%80&w=u&mode=BACKWARD&target=&layer=&dir=&step=",
]


def test_garbage_in_the_url_opens_the_default_view(make_page):
    page, log = make_page(1280, 900)
    for query in GARBAGE:
        _ready(page, query)
        _assert_default_view(page)
    # a step past the layer's last opens its first step
    _ready(page, "?layer=pool2&step=999999")
    expect(page.locator(STEPS)).to_have_attribute("data-layer", "pool2")
    expect(page.locator(STEPS)).to_have_attribute("data-step", "0")
    expect(page).to_have_url(re.compile(r"\?layer=pool2$"))
    assert log.page_errors == []
    assert log.console_errors == []


def test_a_digit_far_down_the_list_is_scrolled_into_its_grid(make_page):
    page, log = make_page(1280, 900)
    _ready(page, "?src=digit&digit=333")
    chosen = page.locator("#digit-grid [data-index='333']")
    expect(chosen).to_have_attribute("aria-selected", "true")
    grid, box = page.locator("#digit-grid").bounding_box(), chosen.bounding_box()
    assert grid["y"] <= box["y"] and box["y"] + box["height"] <= grid["y"] + grid["height"]
    assert log.page_errors == []
