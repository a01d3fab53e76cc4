"""Learn mode's mistake mode: a classic mistake on its probe case, the buggy output beside
the right one with the differing cells marked, the buggy line beside the right one, the jump
to the first step where they differ; the checker's deep links."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli.links import page_link
from cli.report import describe_difference
from core.mistakes import MISTAKES, default_case
from tests.browser.pagetools import wait_until


def open_learn(page, query: str) -> None:
    page.goto(f"/learn?{query}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")


def wait_compare(page) -> None:
    wait_until(page, "!!document.querySelector('#compare h3')")


def state(page) -> dict:
    return page.evaluate("({...document.querySelector('#main').dataset})")


def api_run(page, fn: str, mistake: str, **query) -> dict:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    res = page.request.get(f"/api/learn/{fn}/mistakes/{mistake}" + (f"?{q}" if q else ""))
    assert res.ok, res.text()
    return res.json()


def marked(page, field: str, cls: str) -> list[tuple[int, int]]:
    return sorted(tuple(x) for x in page.eval_on_selector_all(
        f'#compare table[data-field="{field}"] td.{cls}',
        "cs => cs.map(c => [Number(c.dataset.r), Number(c.dataset.c)])"))


def values(page, field: str) -> np.ndarray:
    return np.array(page.eval_on_selector(
        f'#compare table[data-field="{field}"]',
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].filter(c => c.tagName === 'TD')"
        ".map(c => Number(c.dataset.v)))"), dtype=float)


def test_deep_link_opens_mistake_mode_at_the_step(make_page):
    page, log = make_page()
    run = api_run(page, "conv_forward", "stride_missing")
    first = run["first_difference"]
    link = page_link("", "conv_forward", "stride_missing", first["step"], run["case"]["name"])
    open_learn(page, link.split("?", 1)[1])
    wait_compare(page)
    assert state(page)["step"] == str(first["step"]) and state(page)["mistake"] == "stride_missing"
    assert page.locator("#step-label").inner_text().startswith(f"Step {first['step'] + 1} of 24")
    # the checker's text names the step the page shows
    assert f", step {first['step'] + 1} of 24 (i, h, w, c)" in describe_difference(first)
    # right and buggy outputs side by side, the differing cells marked
    i, _, _, c = first["cell"]
    right = np.array(run["right"]["outputs"]["Z"]["values"])[i, :, :, c]
    buggy = np.array(run["buggy"]["outputs"]["Z"]["values"])[i, :, :, c]
    np.testing.assert_array_equal(values(page, "right-Z"), right)
    np.testing.assert_array_equal(values(page, "buggy-Z"), buggy)
    want = sorted(map(tuple, np.argwhere(np.array(run["differs"]["Z"]["values"])[i, :, :, c])))
    assert marked(page, "right-Z", "differs") == want == marked(page, "buggy-Z", "differs")
    assert len(want) > 0
    # the buggy line beside the right one, in the panel and in the code
    assert "vert_start = h * stride" in page.locator("#compare .ld-right").inner_text()
    assert "vert_start = h" in page.locator("#compare .ld-buggy").inner_text()
    bug_lines = page.eval_on_selector_all("#code .cl.bug", "ls => ls.map(l => l.textContent)")
    assert any(line.strip().startswith("vert_start = h   #") for line in bug_lines)
    # the step where they part says so, with both values
    note = page.locator("#diff-note").inner_text()
    assert "Z[0, 0, 1, 0]" in note
    assert f"{first['expected']:g}" in note and f"{first['got']:g}" in note
    assert not log.console_errors and not log.page_errors


def test_pick_a_mistake_then_jump_to_the_first_difference(make_page):
    page, log = make_page()
    open_learn(page, "fn=conv_backward")
    wait_until(page, "!document.querySelector('#mistake-field').hidden")
    labels = page.eval_on_selector_all("#mistake option", "os => os.map(o => o.value)")
    assert "assign_not_accumulate|assign_not_accumulate/dW" in labels
    assert "crop_minus_pad|crop_minus_pad" in labels
    assert not any(v.startswith("bias_per_element") for v in labels)  # not in conv_backward
    page.select_option("#mistake", "assign_not_accumulate|assign_not_accumulate/dW")
    page.wait_for_url("**mistake=assign_not_accumulate**")
    open_learn(page, page.url.split("?", 1)[1])
    wait_compare(page)
    assert state(page)["step"] == "0"
    run = api_run(page, "conv_backward", "assign_not_accumulate",
                  flavour="assign_not_accumulate/dW")
    first = run["first_difference"]
    assert first["output"] == "dW" and first["step"] > 0
    assert page.locator("#diff-note").is_hidden()
    page.click("#jump-diff")
    assert state(page)["step"] == str(first["step"])
    assert page.locator("#diff-note").is_visible()
    # the walk's running dW at that step is the right code's; the note gives the buggy value
    assert f"{first['got']:g}" in page.locator("#diff-note").inner_text()
    assert "dW[:, :, :, c] = a_slice * dZ[i, h, w, c]" in page.locator("#code").inner_text()
    # back to the right code: no reload, the path again
    page.click("#compare button:has-text('Back to the right code')")
    assert page.locator("#compare").is_hidden()
    assert "mistake=" not in page.url and state(page)["mistake"] == ""
    assert not log.console_errors and not log.page_errors


def test_a_mistake_that_raises_jumps_to_the_crop(make_page):
    page, _ = make_page()
    open_learn(page, "fn=conv_backward&mistake=crop_minus_pad")
    wait_compare(page)
    assert page.locator("#buggy-error").inner_text().startswith("The buggy code raises")
    assert "pad 0" in page.locator("#case-line").inner_text()
    page.click("#jump-diff")
    assert page.locator("#step-label").inner_text().endswith("the crop")
    assert any("[0:-0] = [0:0], an empty slice" in t for t in
               page.eval_on_selector_all("#arith li", "ls => ls.map(l => l.textContent)"))


def test_shapes_that_differ_are_named(make_page):
    page, _ = make_page()
    open_learn(page, "fn=zero_pad&mistake=pad_all_axes")
    wait_compare(page)
    run = api_run(page, "zero_pad", "pad_all_axes")
    right, buggy = (run[k]["outputs"]["X_pad"]["shape"] for k in ("right", "buggy"))
    assert right != buggy
    title = page.locator('#compare [data-output="X_pad"] h3').inner_text()
    assert f"right ({', '.join(map(str, right))})" in title
    assert f"buggy ({', '.join(map(str, buggy))})" in title


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_every_mistake_opens_on_its_functions(make_page, mistake):
    page, log = make_page()
    for fn in MISTAKES[mistake].functions:
        open_learn(page, f"fn={fn}&mistake={mistake}")
        wait_compare(page)
        assert state(page)["fn"] == fn and state(page)["mistake"] == mistake
        assert default_case(fn, mistake) in page.locator("#case-line").inner_text()
        assert page.locator("#compare .ld-buggy code").inner_text().strip()
        run = api_run(page, fn, mistake)
        if run["first_difference"]:
            page.click("#jump-diff")
            assert page.locator("#diff-note").is_visible(), (fn, mistake)
    assert not log.console_errors and not log.page_errors, json.dumps(log.page_errors)


def test_switching_function_leaves_mistake_mode(make_page):
    page, _ = make_page()
    open_learn(page, "fn=pool_backward&mistake=mask_not_max")
    wait_compare(page)
    page.click('#fn-list a[data-fn="pool_forward"]')
    assert page.locator("#compare").is_hidden() and state(page)["mistake"] == ""
    assert "mistake=" not in page.url
    page.click('#fn-list a[data-fn="pool_backward"]')  # the path again, not the probe case
    assert page.locator("#case-line").is_hidden()


def test_mistake_mode_on_a_phone(make_page):
    page, log = make_page(width=390, height=844)
    for query in ("fn=conv_backward&mistake=dW_without_slice",
                  "fn=pool_backward&mistake=assign_not_accumulate"):
        open_learn(page, query)
        wait_compare(page)
        sw, cw = page.evaluate("[document.documentElement.scrollWidth, "
                               "document.documentElement.clientWidth]")
        assert sw <= cw, query
        top = {sel: page.locator(sel).bounding_box()["y"] for sel in
               ("#player", "#compare", ".explain", ".lsettings")}
        assert top["#player"] < top["#compare"] < top[".explain"] < top[".lsettings"], query
    assert not log.console_errors and not log.page_errors


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_the_callout_gives_the_open_mistakes_tip_not_the_general_one(make_page, mistake):
    """Every mistake's callout is its own tip (its right line and what goes wrong), never the
    function's general one (the stride tip was shown in every mistake: issue 17 §4)."""
    page, _log = make_page()
    fn = MISTAKES[mistake].variants[-1].function
    open_learn(page, f"fn={fn}&mistake={mistake}")
    wait_compare(page)
    run = api_run(page, fn, mistake)
    callout = page.locator("#callout").inner_text()
    assert callout.startswith("Look here: ") and run["variant"]["what_goes_wrong"] in callout
    first_right = run["variant"]["right_line"].strip().split("\n")[0].strip()
    assert first_right in callout
    open_learn(page, f"fn={fn}")  # no mistake: the function's own tip
    general = page.locator("#callout").inner_text()
    assert run["variant"]["what_goes_wrong"] not in general and general != callout


def box_of(page, selector: str) -> dict:
    b = page.locator(selector).first.bounding_box()
    assert b and b["height"] > 0, selector
    return b


@pytest.mark.parametrize(("fn", "flavour"), [
    ("conv_forward", "stride_missing"),
    ("conv_forward", "height_width_swapped"),
    ("conv_backward", "assign_not_accumulate/dW"),
    ("conv_backward", "unpadded_slice"),
    ("pool_forward", "stride_missing"),
    ("pool_backward", "stride_missing"),
    ("pool_backward", "mask_not_max/min"),
    ("pool_backward", "distribute_without_dz/no_dz"),
])
def test_after_the_jump_the_stage_and_the_buggy_line_are_on_screen(make_page, fn, flavour):
    """At 1280 x 800, after "Jump to step N": the grid with the window (both windows), the
    buggy code's line under it and the buggy line in the exercise's code, all inside the
    window's height (bounding boxes), without another scroll."""
    page, log = make_page(width=1280, height=800)
    mistake = flavour.split("/")[0]
    open_learn(page, f"fn={fn}&mistake={mistake}&flavour={flavour}")
    wait_compare(page)
    page.click("#jump-diff")
    wait_until(page, "!document.querySelector('#diff-note').hidden")
    page.wait_for_timeout(100)  # the smooth scroll, if any, has settled
    stage = box_of(page, "#view table:has(td.inwin)")
    bug = box_of(page, "#code .cl.bug")
    boxes = {"stage": stage, "code's buggy line": bug}
    if page.locator(".yours-lines .ld-yours").count():
        boxes["the buggy loop's line"] = box_of(page, ".yours-lines .ld-yours")
    for what, b in boxes.items():
        assert b["y"] >= 0 and b["y"] + b["height"] <= 800, (fn, flavour, what, b)
    assert not log.console_errors and not log.page_errors


def test_small_words_one_mistake_a_scalar_and_a_wrong_return(make_page):
    """Issue 17 §4's small things: "1 classic mistake changes" (not "mistakes"), a scalar
    output named without "[]", and a wrong return said as "returned ...", never "raises
    returned ..." (an exception still "raises")."""
    page, log = make_page()
    open_learn(page, "fn=zero_pad")
    wait_until(page, "!document.querySelector('#mistake-field').hidden")
    n = sum(v.function == "zero_pad" for m in MISTAKES.values() for v in m.variants)
    assert n == 1
    assert page.locator("#mistake-note").inner_text() == "1 classic mistake changes zero_pad."
    open_learn(page, "fn=conv_single_step&mistake=bias_per_element")
    wait_compare(page)
    text = page.locator("#compare").inner_text()
    assert "Z[]" not in text and "right Z" in text
    assert ": Z is " in page.locator("#first-diff-text").inner_text()
    said = page.evaluate("""async ([tuple, raised]) => {
      const m = await import('/static/js/learn/mistake.js');
      const at = { step: 2, total_steps: 24, position: [0, 0, 1, 0], kind: 'error' };
      return [
        m.firstDifferenceText({ error: tuple, ...at }),
        m.firstDifferenceText({ error: raised, ...at }),
        m.errorSentence('The buggy code', 'returned None for dW (a missing return?)'),
        m.errorSentence('The buggy code', 'IndexError: index 7 is out of bounds'),
      ];
    }""", ["returned a tuple of 2 arrays; expected a tuple (dA_prev, dW, db)",
           "ValueError: operands could not be broadcast"])
    assert said[0] == ("The buggy code returned a tuple of 2 arrays; expected a tuple (dA_prev, dW,"
                       " db) after step 3 of 24 (i, h, w, c = 0, 0, 1, 0).")
    assert said[1].startswith("The buggy code raises after step 3 of 24")
    assert said[1].endswith(": ValueError: operands could not be broadcast")
    assert said[2] == "The buggy code returned None for dW (a missing return?)."
    assert said[3] == "The buggy code raises IndexError: index 7 is out of bounds"
    assert not any("raises returned" in s for s in said)
    assert not log.console_errors and not log.page_errors
