"""Learn mode's exercise path (/learn): the eight functions in order, each with its code and
its live arithmetic, walked step by step; the numbers are core's; deep links; the phone."""

from __future__ import annotations

import numpy as np
import pytest

import core
from core.probes import B_GRAY as B
from core.probes import FUNCTIONS, get_case
from core.probes import GRAY_5X7 as A_PREV
from core.probes import W_GRAY as W
from tests.browser.pagetools import scroll_widths, wait_until

STRIDE = 2
POOL = {"f": 3, "stride": 1}
DA_POOL = get_case("pool_backward", "gray_f3_s1_max").inputs["dA"]
DA_POOL_AVERAGE = get_case("pool_backward", "gray_f3_s1_average").inputs["dA"]


def open_learn(page, query: str = "") -> None:
    page.goto(f"/learn?{query}" if query else "/learn")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")


def state(page) -> dict:
    return page.evaluate("({...document.querySelector('#main').dataset})")


def arith(page) -> list[str]:
    return page.eval_on_selector_all("#arith li", "ls => ls.map(l => l.textContent)")


def table(page, field: str) -> np.ndarray:
    rows = page.eval_on_selector(
        f'#view table[data-field="{field}"]',
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].filter(c => c.tagName === 'TD')"
        ".map(c => Number(c.dataset.v)))")
    return np.array(rows, dtype=float)


def press(page, key: str) -> None:
    """A key as the page's key handler sees it (focus on the player, not on a radio)."""
    page.locator("#btn-play").focus()
    page.keyboard.press(key)


def marked(page, field: str, cls: str) -> list[tuple[int, int]]:
    return [tuple(x) for x in page.eval_on_selector_all(
        f'#view table[data-field="{field}"] td.{cls}',
        "cs => cs.map(c => [Number(c.dataset.r), Number(c.dataset.c)])")]


def test_opens_paused_at_step_one_with_the_arithmetic(make_page):
    page, log = make_page()
    open_learn(page)
    assert state(page)["fn"] == "zero_pad" and state(page)["step"] == "0"
    assert page.locator("#step-label").inner_text().startswith("Step 1 of 7")
    assert page.locator("#btn-play").inner_text() == "Play"
    page.wait_for_timeout(2600)  # a playing page would have moved on by now
    assert state(page)["step"] == "0"
    lines = arith(page)
    assert ("X_pad.shape = (m, n_H + 2 * pad, n_W + 2 * pad, n_C) = (1, 5 + 2 * 1, 7 + 2 * 1, 1)"
            " = (1, 7, 9, 1)") in lines
    assert page.locator("#callout").inner_text().startswith("Look here")
    assert page.locator("#code .cl.hl").count() >= 1
    assert not log.console_errors and not log.page_errors


def test_every_function_in_order_shows_its_code_with_live_values(make_page):
    page, log = make_page()
    open_learn(page)
    names = page.eval_on_selector_all("#fn-list a", "as => as.map(a => a.dataset.fn)")
    assert names == list(FUNCTIONS)
    for n, name in enumerate(FUNCTIONS, start=1):
        page.click(f'#fn-list a[data-fn="{name}"]')
        assert state(page)["fn"] == name and state(page)["step"] == "0"
        assert page.locator("#fn-title").inner_text() == f"{n}. {name}"
        code = page.locator("#code").inner_text()
        assert f"def {name}(" in code
        assert page.locator("#code .cl.hl").count() >= 1
        first = arith(page)
        assert first, name
        page.locator("#btn-next").click()
        assert state(page)["step"] == "1"
        assert arith(page) != first, f"{name}: stepping did not change the arithmetic"
    assert page.url.endswith("fn=pool_backward&step=1")
    assert not log.console_errors and not log.page_errors


def test_conv_forward_writes_the_corners_out_and_matches_core(make_page):
    page, _ = make_page()
    open_learn(page, "fn=conv_forward")
    Z, _ = core.conv_forward(A_PREV, W, B, {"stride": STRIDE, "pad": 1})
    n_W, n_C = Z.shape[2:]
    # step k is (h, w, c) in loop order; go to h = 1, w = 2, c = 0 with the arrow keys
    k = (1 * n_W + 2) * n_C
    for _ in range(k):
        page.keyboard.press("ArrowRight")
    assert state(page)["step"] == str(k)
    lines = arith(page)
    assert "vert_start = h * stride = 1 * 2 = 2" in lines
    assert "vert_end = vert_start + f = 2 + 3 = 5" in lines
    assert "horiz_start = w * stride = 2 * 2 = 4" in lines
    assert "horiz_end = horiz_start + f = 4 + 3 = 7" in lines
    assert "a_slice_prev = a_prev_pad[2:5, 4:7, :]" in lines
    z = Z[0, 1, 2, 0]
    assert any(line.endswith(f"= {z:g}") for line in lines)
    # the window is drawn on the padded input: rows 2-4, columns 4-6
    assert sorted(marked(page, "a_prev_pad", "window")) == [(r, c) for r in range(2, 5)
                                                            for c in range(4, 7)]
    assert marked(page, "Z0", "current") == [(1, 2)]
    # the output fills in: cells after the step are not written yet
    unreached = marked(page, "Z0", "unreached")
    assert (1, 3) in unreached and (1, 1) not in unreached
    page.keyboard.press("End")
    np.testing.assert_array_equal(table(page, "Z0"), Z[0, :, :, 0])
    np.testing.assert_array_equal(table(page, "Z1"), Z[0, :, :, 1])
    np.testing.assert_array_equal(table(page, "a_prev_pad"), core.zero_pad(A_PREV, 1)[0, :, :, 0])


def test_pad_zero_changes_the_numbers(make_page):
    page, _ = make_page()
    open_learn(page, "fn=conv_forward")
    page.check('input[name=pad][value="0"]')
    press(page, "End")
    Z, _ = core.conv_forward(A_PREV, W, B, {"stride": STRIDE, "pad": 0})
    np.testing.assert_array_equal(table(page, "Z0"), Z[0, :, :, 0])
    assert "pad=0" in page.url
    assert page.locator("#step-label").inner_text().startswith(f"Step {Z.size} of {Z.size}")


def test_backward_passes_match_core(make_page):
    page, _ = make_page()
    open_learn(page, "fn=conv_backward&pad=0")
    _, cache = core.conv_forward(A_PREV, W, B, {"stride": STRIDE, "pad": 0})
    dZ = get_case("conv_backward", "gray_s2_p0").inputs["dZ"]  # the checker's probe
    dA_prev, dW, db = core.conv_backward(dZ, cache)
    page.keyboard.press("End")  # the crop
    assert any("[0:-0] = [0:0], an empty slice" in line for line in arith(page))
    np.testing.assert_array_equal(table(page, "dA_prev"), dA_prev[0, :, :, 0])
    np.testing.assert_array_equal(table(page, "dW0"), dW[:, :, 0, 0])
    np.testing.assert_array_equal(table(page, "db"), db.reshape(1, -1))
    # running totals: after the first step only dZ[0, 0, 0, 0] * W[..., 0] is in da_prev_pad
    page.keyboard.press("Home")
    da_pad, _, _ = core.conv_backward_totals(dZ, cache, 0)
    np.testing.assert_array_equal(table(page, "da_prev_pad"), da_pad[0, :, :, 0])

    page.click('#fn-list a[data-fn="pool_backward"]')
    _, pcache = core.pool_forward(A_PREV, POOL, mode="max")
    page.keyboard.press("End")
    expected = core.pool_backward(DA_POOL, pcache, mode="max", tie_rule="all")
    np.testing.assert_array_equal(table(page, "dA_prev"), expected[0, :, :, 0])
    assert "create_mask_from_window(a_prev_slice)" in page.locator("#code").inner_text()
    page.check('input[name=mode][value="average"]')
    press(page, "End")
    _, acache = core.pool_forward(A_PREV, POOL, mode="average")
    expected = core.pool_backward(DA_POOL_AVERAGE, acache, mode="average")
    np.testing.assert_allclose(table(page, "dA_prev"), expected[0, :, :, 0], rtol=0, atol=0)


def test_ties_under_the_exercise_rule(make_page):
    page, _ = make_page()
    open_learn(page, "fn=create_mask_from_window")
    # the first 3 x 3 window (loop order) whose maximum is tied
    windows = [A_PREV[0, h:h + 3, w:w + 3, 0] for h in range(3) for w in range(5)]
    k = next(k for k, x in enumerate(windows) if np.count_nonzero(x == x.max()) > 1)
    x = windows[k]
    page.fill("#scrub", str(k))
    assert state(page)["step"] == str(k)
    assert f"np.max(x) = {x.max():g}" in arith(page)
    n = np.count_nonzero(x == x.max())
    assert any(f"{n} cells are True (a tie: all of them)" in line for line in arith(page))
    assert sorted(marked(page, "mask", "on")) == sorted(map(tuple, np.argwhere(x == x.max())))


@pytest.mark.parametrize(("query", "fn", "step", "label"), [
    ("fn=conv_forward&step=5", "conv_forward", 5, "Step 6 of 24"),
    ("fn=pool_backward&step=14&mode=average", "pool_backward", 14, "Step 15 of 15"),
    ("fn=conv_backward&step=999", "conv_backward", 24, "Step 25 of 25"),
    ("fn=conv_backward&step=700&case=exercise", "conv_backward", 60,
     "Step 701 of 1280 (image 6 of 10)"),
])
def test_deep_link_opens_the_function_at_the_step(make_page, query, fn, step, label):
    page, _ = make_page()
    open_learn(page, query)
    assert state(page)["fn"] == fn and state(page)["step"] == str(step)
    assert page.locator("#step-label").inner_text().startswith(label)
    assert page.locator(f'#fn-list a[data-fn="{fn}"]').get_attribute("aria-current") == "step"


def test_bad_deep_link_is_a_clear_422(make_page):
    page, _ = make_page()
    res = page.request.get("/learn?fn=conv_fwd")
    assert res.status == 422
    assert res.json()["detail"][0]["loc"] == ["query", "fn"]


def test_arrow_keys_step_after_clicking_a_function(make_page):
    page, _ = make_page()
    open_learn(page)
    page.click('#fn-list a[data-fn="pool_forward"]')
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert state(page)["fn"] == "pool_forward" and state(page)["step"] == "2"
    page.keyboard.press("ArrowLeft")
    assert state(page)["step"] == "1"


def test_more_folds_the_extras_and_reloads_the_lesson(make_page):
    page, _ = make_page()
    open_learn(page, "fn=pool_backward&step=3")
    assert not page.locator("#tie").is_visible()
    page.click("#more summary")
    page.select_option("#tie", "first")
    page.wait_for_url("**tie=first**")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    assert state(page)["fn"] == "pool_backward" and state(page)["step"] == "3"
    code = page.locator("#code").inner_text()
    assert "np.argmax(a_prev_slice)" in code and "create_mask_from_window" not in code
    _, pcache = core.pool_forward(A_PREV, POOL, mode="max")
    press(page, "End")
    expected = core.pool_backward(DA_POOL, pcache, mode="max", tie_rule="first")
    np.testing.assert_array_equal(table(page, "dA_prev"), expected[0, :, :, 0])


def test_phone_view_and_player_first_no_sideways_scroll(make_page):
    page, log = make_page(width=390, height=844)
    for fn in FUNCTIONS:
        open_learn(page, f"fn={fn}&step=1")
        top = {sel: page.locator(sel).bounding_box()["y"] for sel in
               ("#view", "#player", ".explain", ".lsettings")}
        assert top["#player"] < top[".explain"] < top[".lsettings"], fn
        assert top["#view"] < top[".explain"], fn
        sw, cw = scroll_widths(page)
        assert sw <= cw, f"{fn}: {sw} > {cw}"
    # the player is on the first screen
    assert page.locator("#btn-next").bounding_box()["y"] < 844
    assert not log.console_errors and not log.page_errors


def test_play_walks_slowly_and_pause_holds_the_step(make_page):
    page, log = make_page()
    open_learn(page, "fn=pool_forward")
    page.click("#more summary")
    page.select_option("#speed", "3")
    page.click("#btn-play")
    assert page.locator("#btn-play").inner_text() == "Pause"
    wait_until(page, "Number(document.querySelector('#main').dataset.step) >= 2")
    page.click("#btn-play")
    held = state(page)["step"]
    page.wait_for_timeout(800)
    assert state(page)["step"] == held and page.locator("#btn-play").inner_text() == "Play"
    # the panel follows the counter: the arithmetic is that step's
    k = int(held)
    assert f"i = 0, h = {k // 5}, w = {k % 5}, c = 0" in arith(page)
    assert not log.console_errors and not log.page_errors


def test_last_step_offers_the_next_function(make_page):
    page, _ = make_page()
    open_learn(page, "fn=conv_single_step")
    press(page, "End")
    page.click("#next-fn button")
    assert state(page)["fn"] == "conv_forward" and state(page)["step"] == "0"


def test_average_pool_backward_adds_distribute_value_as_the_code_writes_it(make_page):
    """In average mode the added grid is distribute_value(da, shape), da already shared over
    the window (da / 9 in every cell), beside an arithmetic line that says the same; no grid
    of 1/9 is labelled with the function's name (issue 17 §4)."""
    page, _ = make_page()
    open_learn(page, "fn=pool_backward&mode=average&step=4")
    da = DA_POOL_AVERAGE[np.unravel_index(4, DA_POOL_AVERAGE.shape)]
    assert page.locator('#view table[data-field="route"]').count() == 0
    np.testing.assert_allclose(table(page, "added"), np.full((3, 3), da / 9), rtol=1e-12)
    assert "distribute_value(da, shape)" in page.locator("#view").inner_text()
    assert f"* {int(da)}" not in page.locator("#view").inner_text()
    assert any(f"average = da / (n_H * n_W) = {int(da)} / 9" in t
               for t in page.eval_on_selector_all("#view .arr-note, #view p",
                                                  "ns => ns.map(n => n.textContent)"))
    assert any("+= distribute_value(da, shape)" in line for line in arith(page))


def test_zero_pad_marks_the_row_copied_and_the_row_written_as_the_maps_do(make_page):
    """Learn's grids are the kit's number tables with a map's overlay items: the row of X
    that row 2 of X_pad copies and row 2 itself outlined as windows, the padding as a map's
    `inner` (the border cells), the rows below not written yet."""
    page, log = make_page()
    open_learn(page, "fn=zero_pad&step=2")
    assert marked(page, "X", "inwin") == [(1, c) for c in range(7)]
    assert marked(page, "X_pad", "inwin") == [(2, c) for c in range(9)]
    pad = set(marked(page, "X_pad", "pad"))
    assert {(0, 0), (2, 0), (2, 8), (6, 4)} <= pad and (2, 1) not in pad
    assert len(pad) == 7 * 9 - 5 * 7
    assert {r for r, _ in marked(page, "X_pad", "unreached")} == {3, 4, 5, 6}
    np.testing.assert_array_equal(table(page, "X_pad")[:3], core.zero_pad(A_PREV, 1)[0, :3, :, 0])
    assert not log.console_errors and not log.page_errors


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_mistake_picker_and_next_function_on_the_first_screen(make_page, width, height):
    """Issue 17 §4: the mistake picker is beside the function's title (it was about 900 px
    down, under the settings) and, at a function's last step, the next function's button is
    in the player, both on the first screen without scrolling."""
    page, log = make_page(width=width, height=height)
    for n, fn in enumerate(FUNCTIONS):
        open_learn(page, f"fn={fn}")
        wait_until(page, "!document.querySelector('#mistake-field').hidden")
        assert page.evaluate("window.scrollY") == 0
        pick = page.locator("#mistake").bounding_box()
        assert pick["y"] + pick["height"] <= height, (fn, pick)
        assert page.locator("#next-fn").is_hidden()
        press(page, "End")
        assert page.evaluate("window.scrollY") == 0
        button = page.locator("#next-fn button, #next-fn a").first
        b = button.bounding_box()
        assert b["y"] >= 0 and b["y"] + b["height"] <= height, (fn, b)
        if n + 1 < len(FUNCTIONS):
            assert FUNCTIONS[n + 1] in button.inner_text()
        else:
            assert button.get_attribute("href") == "/explore"
    assert not log.console_errors and not log.page_errors


def test_images_are_counted_from_one_beside_the_steps_and_the_hint_is_the_cases(make_page):
    """Beside "Step 701 of 1280 (image 6 of 10)" the arrays say image 6 too (with i = 5), not
    "image 0 of 10" or "image i = 5 of 10"; the pad setting's hint gives the biases the page
    adds (b = (0.5, -1), read from the case, issue 17 §4)."""
    page, log = make_page()
    open_learn(page, "fn=conv_backward&step=700&case=exercise")
    assert "(image 6 of 10)" in page.locator("#step-label").inner_text()
    view = page.locator("#view").inner_text()
    assert "the upstream gradient (image 6 of 10, i = 5)" in view
    assert " of 10)" not in view.replace("(image 6 of 10, i = 5)", "")
    open_learn(page, "fn=conv_forward")
    hint = page.locator("#pad-hint").inner_text()
    biases = [float(x) for x in hint.split("b = (")[1].rstrip(")").split(", ")]
    assert biases == [float(x) for x in B.reshape(-1)] == [0.5, -1.0]
    for c, bias in enumerate(biases):  # step c is Z[0, 0, 0, c]: its line adds b[c]
        page.fill("#scrub", str(c))
        b_text = f"({bias:g})" if bias < 0 else f"{bias:g}"
        assert any(f"+ b[0, 0, 0, {c}] = " in line and f" + {b_text} = " in line
                   for line in arith(page)), arith(page)
    assert not log.console_errors and not log.page_errors


def test_the_lines_a_step_runs_are_on_the_first_screen(make_page):
    """At 1280 x 800 the explanation column ends inside the window (its code box scrolls on
    its own), so the code's marked lines are on screen: for the loops they were at 790-990 px."""
    page, log = make_page(width=1280, height=800)
    for fn in FUNCTIONS:
        open_learn(page, f"fn={fn}&step=3")
        marked_lines = page.locator("#code .cl.hl")
        top = marked_lines.first.bounding_box()
        bottom = marked_lines.last.bounding_box()
        assert top["y"] >= 0 and bottom["y"] + bottom["height"] <= 800, (fn, top, bottom)
        explain = page.locator(".explain").bounding_box()
        assert explain["y"] + explain["height"] <= 800, (fn, explain)
    assert not log.console_errors and not log.page_errors
