"""The Pad stage has a player, as every stage: one step per row of A_prev_pad, saying where
the row comes from (a padding row, or a row of A_prev between pad cells) with its numbers,
which are the server's padded array, and the same numbers np.pad gives."""

from __future__ import annotations

import numpy as np
import pytest
from pagetools import DEFAULT_QUERY, DEFAULT_SETTINGS, decode, open_page, post_image, table_values

from core.padding import zero_pad


def query(pad: int, mode: str) -> str:
    return (DEFAULT_QUERY.replace("pad=1", f"pad={pad}").replace("pad_mode=constant",
                                                                 f"pad_mode={mode}")
            + "&stage=pad&step=0")


@pytest.mark.parametrize(("pad", "mode", "value"), [(2, "constant", 0.0), (2, "reflect", None),
                                                     (1, "edge", None), (0, "constant", 0.0)])
def test_pad_player_steps_through_the_padded_rows(page_and_log, pad, mode, value):
    page, log = page_and_log
    open_page(page, query(pad, mode))
    settings = {**DEFAULT_SETTINGS, "pad": pad, "pad_mode": mode}
    api = post_image(page, settings)
    x = decode(api["arrays"]["input"]).astype(np.float64)  # (64, 96, 3)
    want = zero_pad(x[None], pad, pad_mode=mode)[0]
    rows = 64 + 2 * pad
    assert page.locator("#player-buttons").is_visible()
    assert page.locator("#step-label").inner_text() == f"step 1 of {rows} · row 0"
    shown = min(96 + 2 * pad, pad + 4)
    for r in sorted({0, pad, pad + 1, rows - 1}):
        page.locator("#scrub").fill(str(r))
        label = page.locator("#step-label")
        assert label.inner_text() == f"step {r + 1} of {rows} · row {r}"
        where = page.locator("#view .pad-row .where").inner_text()
        got = np.array(table_values(page, "pad_row")).reshape(3, shown)
        np.testing.assert_allclose(got, want[r, :shown, :].T, rtol=0, atol=1e-7)
        if pad <= r < pad + 64:
            assert f"is row {r - pad} of A_prev" in where
        elif mode == "constant":
            assert f"padding row: all {96 + 2 * pad} cells are {value:g}" in where
        else:
            assert "padding row: it copies row" in where
    # the keys step the Pad stage too, and the step is in the URL
    page.locator("#scrub").fill("0")
    page.locator("#btn-fwd").click()
    assert page.locator("#step-label").inner_text() == f"step 2 of {rows} · row 1"
    page.locator("#btn-back").click()
    page.locator("#btn-last").click()
    assert page.evaluate("document.body.dataset.step") == str(rows - 1)
    assert log.console_errors == [] and log.page_errors == []


def test_pad_rows_say_which_input_row_a_reflected_row_copies(page_and_log):
    page, log = page_and_log
    open_page(page, query(2, "reflect"))
    # reflect without repeating the edge: padded row 0 is input row 2, row 1 is input row 1
    where = page.locator("#view .pad-row .where")
    assert "copies row 2 of A_prev (reflect)" in where.inner_text()
    page.locator("#btn-fwd").click()
    assert "copies row 1 of A_prev (reflect)" in where.inner_text()
    assert log.page_errors == []
