"""The network page: a drawn digit gets a prediction from the server, the backward view and a
layer's step view open."""

from __future__ import annotations

import re

import numpy as np
import pytest
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
    with page.expect_response(lambda r: "/api/network/steps" in r.url) as info:
        page.click("[data-layer=conv2] .open-steps")
    answer = info.value.json()
    expect(page.locator("#steps-panel")).to_have_attribute("data-kind", "conv_backward",
                                                          timeout=20000)
    page.click("#st-next")
    expect(page.locator("#steps-panel")).to_have_attribute("data-step", "1", timeout=20000)
    assert "dz = dZ" in page.locator("#step-eq").inner_text()
    # the step written out is the kit's (Explore's conv_backward lines): the code, and per
    # input channel W x dz and the input slice a_slice x dz, with the server's numbers
    step = answer["page"]["steps"][1]
    code = page.locator("#step-body pre.code").inner_text()
    win = f"da_prev_pad[{step['vert_start']}:{step['vert_end']}, {step['horiz_start']}:"
    assert code.startswith(win) and "dW[:, :, :, " in code and "db[:, :, :, " in code
    pad = np.array(answer["arrays"]["A_prev_pad"])
    C = pad.shape[2]
    assert page.locator("#step-body table[data-field=a_slice]").count() == C

    def cells(field: str, ch: int) -> np.ndarray:
        return np.array(page.eval_on_selector(
            f'#step-body table[data-field="{field}"][data-channel="{ch}"]',
            "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => Number(c.dataset.v)))"))

    rows = slice(step["vert_start"], step["vert_end"])
    cols = slice(step["horiz_start"], step["horiz_end"])
    W = np.array(answer["arrays"]["W"])
    for ch in (0, C - 1):
        np.testing.assert_array_equal(cells("a_slice", ch), pad[rows, cols, ch])
        np.testing.assert_array_equal(cells("da_add", ch), np.array(step["da_add"])[:, :, ch])
        np.testing.assert_array_equal(cells("W", ch), W[:, :, ch, step["c"]])
    assert errors == []
    context.close()



def test_layer_steps_play_pause_and_keys(browser, server_url):
    """The step view runs on the kit's player and keys: Play walks the steps at the speed
    chosen and stops at the last one, Pause holds the step, the arrows step (Shift: ten),
    Home and End jump."""
    context, page, errors = _open(browser, server_url)
    panel = page.locator("#steps-panel")
    page.click("[data-layer=pool1] .open-steps")
    expect(panel).to_have_attribute("data-kind", "pool_forward", timeout=20000)
    expect(panel).to_have_attribute("data-step", "0")
    total = int(page.locator("#st-scrub").get_attribute("max")) + 1
    assert total > 20
    page.select_option("#st-speed", "64")
    page.click("#st-play")
    expect(page.locator("#st-play")).to_have_attribute("aria-pressed", "true")
    expect(panel).to_have_attribute("data-step", re.compile(r"^([5-9]|\d\d+)$"), timeout=10000)
    page.click("#st-play")
    expect(page.locator("#st-play")).to_have_attribute("aria-pressed", "false")
    held = panel.get_attribute("data-step")
    page.wait_for_timeout(300)
    assert panel.get_attribute("data-step") == held
    page.locator("#st-scrub").focus()
    page.keyboard.press("Home")
    expect(panel).to_have_attribute("data-step", "0")
    page.locator("#st-next").focus()  # keys pressed inside the panel
    page.keyboard.press("Shift+ArrowRight")
    expect(panel).to_have_attribute("data-step", "10")
    page.keyboard.press("ArrowLeft")
    expect(panel).to_have_attribute("data-step", "9")
    expect(page.locator("#st-label")).to_have_text(f"step 10 of {total}")
    page.keyboard.press("End")
    expect(panel).to_have_attribute("data-step", str(total - 1))
    page.click("#st-play")  # from the last step, Play starts again at the first
    expect(panel).to_have_attribute("data-step", str(total - 1), timeout=20000)
    expect(page.locator("#st-play")).to_have_attribute("aria-pressed", "false", timeout=20000)
    assert errors == []
    context.close()

def _stroke(page, box, points, up=True):
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * w, y0 + y * h, steps=6)
    if up:
        page.mouse.up()


def test_a_quick_second_stroke_aborts_the_first_run(browser, server_url):
    """The runs of the first stroke never answer (held here): the second stroke's start and
    end abort them, no error shows, and the prediction drawn is the final drawing's."""
    context, page, errors = _open(browser, server_url)
    page.click("#clear")
    root = page.locator("#main")
    expect(root).to_have_attribute("data-state", "ready")
    page.evaluate("() => { delete document.querySelector('#main').dataset.prediction; }")
    held, sent, failed = [], [], []
    hold = [True]

    def on_run(route):
        sent.append(route.request.post_data_json)
        if hold[0]:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/network/run", on_run)
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    box = page.locator("#pad").bounding_box()
    _stroke(page, box, [(0.3, 0.2), (0.7, 0.2)])  # the top bar of a 7: its runs are held
    expect(root).to_have_attribute("data-state", "busy")
    _stroke(page, box, [(0.7, 0.2), (0.45, 0.88)], up=False)  # then at once its stem
    hold[0] = False
    page.mouse.up()
    expect(root).to_have_attribute("data-prediction", re.compile(r"."), timeout=20000)
    expect(root).to_have_attribute("data-state", "ready", timeout=20000)
    assert len(held) >= 2, sent  # the first stroke's moves and its end at least
    run_failures = [f for u, f in failed if u.endswith("/api/network/run")]
    assert len(run_failures) >= len(held) and all("ABORTED" in f for f in run_failures), failed
    assert page.locator("#input-error").is_hidden()
    assert errors == []
    # the last run sent is the whole drawing (both strokes), and the page shows the
    # server's answer to it
    last = sent[-1]["input"]
    assert last["kind"] == "strokes" and len(last["strokes"]) == 2
    assert last["strokes"][0][0] == pytest.approx([0.3 * 168, 0.2 * 168], abs=1)
    assert last["strokes"][1][-1] == pytest.approx([0.45 * 168, 0.88 * 168], abs=1)
    answer = page.request.post(f"{server_url}/api/network/run", data=sent[-1]).json()
    assert root.get_attribute("data-prediction") == str(answer["forward"]["prediction"])
    titles = page.locator("#probs li").evaluate_all("(lis) => lis.map((li) => li.title)")
    shown = [float(t.split(" = ")[1]) for t in titles]
    assert shown == answer["forward"]["probs"]
    context.close()  # the held routes' requests were aborted by the page: nothing to answer
