"""Your loop beside the right one: the Learn page opened by `convstep check FILE --open` draws
the learner's traced window (cli/tracer.py) beside the exercise's on a_prev_pad, their output
filling in beside the right one, their own line, and the first step where they part."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli.check import check_file, describe_difference
from cli.tracer import trace_fragment
from tests.browser.pagetools import wait_until

FILES = Path(__file__).parents[1] / "cli" / "learner_files"
# CONVSTEP_SCREENSHOT_DIR=docs/screenshots (as `make screenshots` sets it) refreshes the README's
SHOTS = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
             or Path(tempfile.gettempdir()) / "convstep-screenshots")


@pytest.fixture(scope="module")
def traced():
    """The checker's report of a learner file with names of its own (stride_missing)."""
    report = check_file(FILES / "trace_other_names.py")
    r = report["functions"]["conv_forward"]
    trace = report.traces["conv_forward"]
    url = urlsplit(r["link"])
    return {"path": f"{url.path}?{url.query}", "trace": trace, "first": r["first_difference"],
            "fragment": trace_fragment(json.dumps(trace, separators=(",", ":")))}


def cells(page, field: str, cls: str) -> list[tuple[int, int]]:
    return sorted(tuple(x) for x in page.eval_on_selector_all(
        f'table[data-field="{field}"] td.{cls}',
        "els => els.map(e => [e.parentElement.rowIndex - 1, e.cellIndex - 1])"))


def box(rows_cols) -> list[tuple[int, int]]:
    (r0, r1), (c0, c1) = rows_cols
    return sorted((r, c) for r in range(r0, r1) for c in range(c0, c1))


@pytest.mark.parametrize("width", [1280, 390])
def test_your_window_beside_the_right_one(make_page, traced, width):
    page, log = make_page(width=width, height=800)
    page.goto(f"{traced['path']}#trace={traced['fragment']}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, "!!document.querySelector('table[data-field=\"yours-Z\"]')")
    first = traced["first"]
    # the step the link opens is the first difference: both windows, as the report says
    assert cells(page, "a_prev_pad", "yin") == box(first["yours_window"])
    assert cells(page, "a_prev_pad", "inwin") == box(first["right_window"])
    assert first["yours_window"] != first["right_window"]
    legend = page.inner_text(".win-legend")
    assert "the right window" in legend and "your window" in legend
    lines = page.inner_text(".yours-lines")
    assert "patch = padded[img, top:top + k, left:left + k, :]" in lines  # the learner's own
    assert "out[img, r, q, f] = float(" in lines
    assert "rows 0:3, columns 1:4" in lines and "rows 0:3, columns 2:5" in lines
    assert page.inner_text(".yours-first.here").startswith("Here your loop first parts")
    # the values your loop read, beside the right slice: a_prev_pad's cells in each window
    def grid(field, rows_cols):
        (r0, r1), (c0, c1) = rows_cols
        texts = page.eval_on_selector_all(f'table[data-field="{field}"] td',
                                          "els => els.map(e => e.textContent.trim())")
        pad = page.eval_on_selector_all('table[data-field="a_prev_pad"] tr',
                                        "rs => rs.slice(1).map(r => [...r.querySelectorAll('td')]"
                                        ".map(e => e.textContent.trim()))")
        return texts, [pad[r][c] for r in range(r0, r1) for c in range(c0, c1)]
    mine, expected = grid("yours-slice", first["yours_window"])
    assert mine == expected
    right, expected = grid("right-slice", first["right_window"])
    assert right == expected
    # your output, filled in your loop's order up to this step: the differing cell is marked
    assert (0, 1) in cells(page, "yours-Z", "differs") or cells(page, "yours-Z", "current")
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not log.page_errors and not log.console_errors
    assert not any("trace" in u.split("#")[0] for u in log.requests)  # never sent anywhere
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#view").screenshot(path=str(SHOTS / f"learn-yours-{width}.png"))


def test_a_trace_of_another_function_changes_nothing(make_page, traced):
    page, log = make_page(width=1280, height=800)
    page.goto(f"/learn?fn=pool_forward&step=0#trace={traced['fragment']}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    assert page.query_selector(".yours-group") is None
    assert page.query_selector("td.yin") is None
    assert not log.page_errors


def in_view(page, selector: str) -> bool:
    return page.evaluate(f"""(() => {{
      const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }})()""")


def test_mistake_mode_draws_the_buggy_window_and_value(make_page):
    """Without a trace, mistake mode draws the buggy code's own steps beside the right ones."""
    page, log = make_page(width=1280, height=800)
    page.goto("/learn?fn=conv_forward&mistake=stride_missing&flavour=stride_missing&step=0"
              "&case=gray_s2_p1")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, "!!document.querySelector('#jump-diff')")
    page.click("#jump-diff")
    wait_until(page, "!!document.querySelector('.yours-first.here')")
    assert cells(page, "a_prev_pad", "yin") == box([[0, 3], [1, 4]])  # vert_start = h
    assert cells(page, "a_prev_pad", "inwin") == box([[0, 3], [2, 5]])  # h * stride
    lines = page.inner_text(".yours-lines")
    assert "vert_start = h" in lines and "= 7.5" in lines and "= 5.5" in lines
    assert "the buggy window" in page.inner_text(".win-legend")
    assert cells(page, "yours-Z", "differs") == [(0, 1)]  # filled up to this step
    # after the jump, the stage with both windows and the buggy line are in view (1280 x 800)
    assert in_view(page, 'table[data-field="a_prev_pad"]')
    assert in_view(page, ".yours-lines .ld-yours")
    page.screenshot(path=str(SHOTS / "learn-mistake-buggy-window-1280.png"))
    assert not log.page_errors and not log.console_errors


@pytest.mark.parametrize(("fn", "mistake", "buggy", "right"), [
    ("conv_backward", "stride_missing", [[0, 3], [1, 4]], [[0, 3], [2, 5]]),
    ("pool_backward", "stride_missing", [[0, 3], [1, 4]], [[0, 3], [2, 5]]),
])
def test_mistake_mode_draws_the_buggy_window_backward(make_page, fn, mistake, buggy, right):
    page, log = make_page(width=1280, height=800)
    page.goto(f"/learn?fn={fn}&mistake={mistake}&flavour={mistake}&step=0")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, "!!document.querySelector('#jump-diff')")
    page.click("#jump-diff")
    wait_until(page, "!!document.querySelector('.yours-first.here')")
    field = "da_prev_pad" if fn == "conv_backward" else "dA_prev"
    assert cells(page, field, "yin") == box(buggy)
    assert cells(page, field, "inwin") == box(right)
    assert "vert_start = h" in page.inner_text(".yours-lines")
    assert not log.page_errors and not log.console_errors


@pytest.mark.parametrize("width", [1280, 390])
def test_your_arithmetic_beside_the_right_one(make_page, traced, width):
    """The step's arithmetic as the learner's loop did it (read through the tracer), beside
    the right step's (core's), the differing terms marked: numbers the checker computed."""
    page, log = make_page(width=width, height=900)
    page.goto(f"{traced['path']}#trace={traced['fragment']}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, "!!document.querySelector('.ar-row')")
    first = traced["first"]
    step = next(s for s in traced["trace"]["steps"] if s["position"] == first["position"])
    arithmetic = step["arithmetic"]
    yours = page.inner_text('.ar-row[data-side="yours"]')
    right = page.inner_text('.ar-row[data-side="right"]')
    assert yours.lower().startswith("your σ")
    assert right.lower().startswith("right σ")
    assert yours.endswith(" = 7 + 0.5 = 7.5") and right.endswith(" = 5 + 0.5 = 5.5")
    assert arithmetic["yours"]["value"] == first["got"] == 7.5
    assert arithmetic["right"]["value"] == first["expected"] == 5.5
    assert "1·2 + 3·1" in yours and "3·2 + 2·1" in right  # a·w as each loop read them
    assert "0·(-1)" in yours or "0·(−1)" in yours  # negatives in brackets
    marked = page.eval_on_selector_all('.ar-row[data-side="yours"] mark.ar-diff',
                                       "els => els.map(e => e.textContent)")
    assert len(marked) == sum(arithmetic["differs"]) > 0
    assert page.eval_on_selector_all('.ar-row[data-side="right"] mark.ar-diff',
                                     "els => els.length") == len(marked)
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not log.page_errors and not log.console_errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#view").screenshot(path=str(SHOTS / f"learn-yours-arith-{width}.png"))


def test_a_pool_steps_arithmetic_is_the_window_and_its_max_or_mean(make_page):
    """Mistake mode (no trace): the buggy code's step, traced by the server, has its window's
    values and their mean beside the right ones."""
    page, log = make_page(width=1280, height=900)
    page.goto("/learn?fn=pool_forward&mistake=stride_missing&flavour=stride_missing&step=0"
              "&case=gray_f3_s2_average")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    wait_until(page, "!!document.querySelector('#jump-diff')")
    page.click("#jump-diff")
    wait_until(page, "!!document.querySelector('.ar-row')")
    buggy = page.inner_text('.ar-row[data-side="yours"]')
    right = page.inner_text('.ar-row[data-side="right"]')
    assert buggy.lower().startswith("buggy mean") and "mean(" in buggy
    assert right.lower().startswith("right mean") and "mean(" in right
    assert page.query_selector('.ar-row[data-side="yours"] mark.ar-diff') is not None
    assert not log.page_errors and not log.console_errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#view").screenshot(path=str(SHOTS / "learn-pool-arith-1280.png"))


def test_step_numbers_agree_between_the_report_its_link_and_the_page(make_page, traced):
    """The report says step k of N counted from 1, the link's step= is the page's own URL
    value (from 0), and the page labels that step 'Step k of N'."""
    first = traced["first"]
    report_step = f"step {first['step'] + 1} of {first['total_steps']}"
    assert report_step in describe_difference(first)
    assert f"&step={first['step']}&" in traced["path"]
    page, log = make_page(width=1280, height=800)
    page.goto(traced["path"])
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    assert page.inner_text("#step-label").startswith(f"S{report_step[1:]}:")
    assert not log.page_errors


def test_step_numbers_agree_on_a_case_of_several_images(make_page):
    # height_width_swapped's conv_backward shows only on the exercise's case (10 images)
    report = check_file(FILES / "height_width_swapped.py")
    r = report["functions"]["conv_backward"]
    first = r["first_difference"]
    assert first["case"] == "exercise" and first["position"][0] >= 0
    url = urlsplit(r["link"])
    page, log = make_page(width=1280, height=800)
    page.goto(f"{url.path}?{url.query}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    label = page.inner_text("#step-label")
    assert label.startswith(f"Step {first['step'] + 1} of {first['total_steps']} (image "
                            f"{first['position'][0] + 1} of 10)"), label
    assert f"step {first['step'] + 1} of {first['total_steps']}" in describe_difference(first)
    assert not log.page_errors
