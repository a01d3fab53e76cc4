"""A change of geometry keeps the output position (h, w, c) the player shows, clamped to
the new output, on every stage with steps: never the raw step number ("3072 of 3072")."""

from __future__ import annotations

import pytest
from pagetools import DEFAULT_QUERY, open_page, renders, wait_ready


def step_label(page) -> str:
    return page.locator("#step-label").inner_text()


def change(page, selector: str, value: str) -> None:
    n = renders(page)
    page.locator(selector).fill(value)
    wait_ready(page, n + 1)


def test_conv_step_keeps_its_position_when_the_stride_changes(page_and_log):
    page, log = page_and_log
    # chelsea 64 x 96, 2 filters: step 4700 = (24 * 96 + 46) * 2 + 0
    open_page(page, DEFAULT_QUERY + "&stage=conv_forward&step=4700")
    assert step_label(page) == "step 4701 of 12288 · h 24, w 46, c 0"
    change(page, "#stride", "2")  # Z 32 x 48: the same (24, 46, 0) is step 2396
    assert step_label(page) == "step 2397 of 3072 · h 24, w 46, c 0"
    assert page.evaluate("document.body.dataset.step") == "2396"
    change(page, "#stride", "4")  # Z 16 x 24: clamped to (15, 23, 0)
    assert step_label(page) == "step 767 of 768 · h 15, w 23, c 0"
    assert log.console_errors == [] and log.page_errors == []


@pytest.mark.parametrize(("stage", "step", "where", "selector", "value", "after"), [
    # pooled 32 x 48 x 2: (20, 40, 1) = (20 * 48 + 40) * 2 + 1; pool stride 1 -> 63 x 95
    ("pool_forward", 2001, "h 20, w 40, c 1", "#pool-stride", "1",
     "step 3882 of 11970 · h 20, w 40, c 1"),
    ("pool_backward", 2001, "h 20, w 40, c 1", "#pool-f", "4",  # pooled 31 x 47: (20, 40, 1)
     "step 1962 of 2914 · h 20, w 40, c 1"),
    # Z 64 x 96 x 2: (60, 90, 1); f 9 with pad 1 -> Z 58 x 90: clamped to (57, 89, 1)
    ("conv_backward", (60 * 96 + 90) * 2 + 1, "h 60, w 90, c 1", "#f", "9",
     "step 10440 of 10440 · h 57, w 89, c 1"),
])
def test_every_stage_keeps_its_position(page_and_log, stage, step, where, selector, value,
                                        after):
    page, log = page_and_log
    open_page(page, DEFAULT_QUERY + f"&stage={stage}&step={step}")
    assert step_label(page).endswith(where)
    change(page, selector, value)
    assert step_label(page) == after
    assert log.console_errors == [] and log.page_errors == []
