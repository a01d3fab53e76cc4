"""Learn's "Check your own output": the learner saves their function's output on the shown
probe case with np.save and uploads it; the page shows the server's diagnosis (right, or
the mistake it matches, the differing cells marked) and the refusals in its status line.
The outputs uploaded here are computed by core (right) and core.mistakes (buggy)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from playwright.sync_api import expect

import core
from core.mistakes import MISTAKES, variant
from core.probes import arguments, get_case
from tests.browser.pagetools import wait_until

SHOTS = Path(os.environ.get("CONVSTEP_SCREENSHOT_DIR")
             or Path(tempfile.gettempdir()) / "convstep-screenshots")


def open_learn(page, query: str) -> None:
    page.goto(f"/learn?{query}")
    wait_until(page, "document.querySelector('#main').dataset.ready === '1'")
    expect(page.locator("#upload-field")).to_be_visible()


def npy(tmp_path: Path, name: str, array) -> Path:
    path = tmp_path / name
    np.save(path, np.asarray(array))
    return path


def upload(page, path: Path, state: str) -> None:
    page.set_input_files("#upload-file", str(path))
    expect(page.locator("#upload-field")).to_have_attribute("data-state", state)


def table(page, field: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A diagnosis table's values (data-v) and the cells marked as differing."""
    sel = f'#diagnosis table[data-field="{field}"]'
    values = page.eval_on_selector(
        sel, "t => [...t.tBodies[0].rows].map(r => [...r.cells].filter(c => c.tagName === 'TD')"
             ".map(c => Number(c.dataset.v)))")
    marked = page.eval_on_selector_all(
        f"{sel} td.differs", "cs => cs.map(c => [Number(c.dataset.r), Number(c.dataset.c)])")
    return np.array(values, dtype=float), sorted(tuple(x) for x in marked)


def only_refusals(log) -> bool:
    """The console holds nothing but the browser's own lines for the refused uploads."""
    return all("status of 422" in e for e in log.console_errors) and not log.page_errors


def test_a_right_and_a_buggy_conv_forward_output(make_page, tmp_path):
    page, log = make_page()
    open_learn(page, "fn=conv_forward")
    # the path's pad-1 walk is probe case gray_s2_p1: the form offers it, with its lines
    assert page.locator("#upload-case").input_value() == "gray_s2_p1"
    assert page.locator("#upload-output").is_hidden()  # one output: nothing to choose
    code = page.locator("#save-code").inner_text()
    assert 'Z, cache = conv_forward(*arguments(get_case("conv_forward", "gray_s2_p1")))' in code
    assert 'np.save("Z.npy", Z)' in code
    case = get_case("conv_forward", "gray_s2_p1")
    right, _ = core.conv_forward(*arguments(case))

    upload(page, npy(tmp_path, "Z.npy", right), "right")
    assert page.locator("#diag-verdict").inner_text() == 'Your Z is right on case "gray_s2_p1".'
    assert "shape (1, 3, 4, 2)" in page.locator("#upload-status").inner_text()
    got, marked = table(page, "yours-Z")
    np.testing.assert_array_equal(got, right[0, :, :, 0])
    assert marked == []

    buggy, _ = variant("conv_forward", "stride_missing")(*arguments(case))
    upload(page, npy(tmp_path, "Z_buggy.npy", buggy), "wrong")
    title = MISTAKES["stride_missing"].title
    assert title in page.locator("#diag-verdict").inner_text()
    assert "vert_start = h * stride" in page.locator("#diagnosis .ld-right").inner_text()
    # the differing cells marked in both tables, on the slice of the first difference
    first_cell = np.argwhere(~np.isclose(buggy, right))[0]
    i, c = first_cell[0], first_cell[3]
    want = sorted(map(tuple, np.argwhere(~np.isclose(buggy[i, :, :, c], right[i, :, :, c]))))
    got, marked_yours = table(page, "yours-Z")
    exp, marked_right = table(page, "right-Z")
    np.testing.assert_array_equal(got, buggy[i, :, :, c])
    np.testing.assert_array_equal(exp, right[i, :, :, c])
    assert marked_yours == marked_right == want and want
    assert "They first differ after step" in page.locator("#diag-first").inner_text()
    # the link opens mistake mode on that variant and step
    q = parse_qs(urlsplit(page.locator("#diag-link").get_attribute("href")).query)
    assert (q["mistake"], q["flavour"], q["case"]) == (
        ["stride_missing"], ["stride_missing"], ["gray_s2_p1"])
    page.click("#diag-link")
    wait_until(page, "document.querySelector('#main').dataset.mistake === 'stride_missing'")
    assert page.locator("#main").get_attribute("data-step") == q["step"][0]
    assert not log.console_errors and not log.page_errors


def test_conv_backward_output_choice_and_refusals(make_page, tmp_path):
    page, log = make_page()
    open_learn(page, "fn=conv_backward&pad=0")
    assert page.locator("#upload-case").input_value() == "gray_s2_p0"
    page.select_option("#upload-output", "dW")
    code = page.locator("#save-code").inner_text()
    assert 'dA_prev, dW, db = conv_backward(*arguments(get_case("conv_backward", ' \
           '"gray_s2_p0")))' in code and 'np.save("dW.npy", dW)' in code
    # dW with `=` for `+=`: the flavour assign_not_accumulate/dW
    case = get_case("conv_backward", "gray_s2_p0")
    v = variant("conv_backward", "assign_not_accumulate", "assign_not_accumulate/dW")
    _, dW, _ = v(*arguments(case))
    upload(page, npy(tmp_path, "dW.npy", dW), "wrong")
    assert MISTAKES["assign_not_accumulate"].title in page.locator("#diag-verdict").inner_text()
    q = parse_qs(urlsplit(page.locator("#diag-link").get_attribute("href")).query)
    assert q["flavour"] == ["assign_not_accumulate/dW"] and q["case"] == ["gray_s2_p0"]
    _, marked = table(page, "yours-dW")
    assert marked

    # refusals go to the status line and clear the diagnosis
    status = page.locator("#upload-status")
    text = tmp_path / "notes.npy"
    text.write_text("dW = [[1, 2], [3, 4]]\n")
    upload(page, text, "refused")
    assert "is not a .npy file" in status.inner_text()
    assert page.locator("#diagnosis").is_hidden()
    upload(page, npy(tmp_path, "dW_cut.npy", dW[:, :, :, :1]), "refused")
    assert "expected (3, 3, 1, 2)" in status.inner_text()
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"dW": 1}], dtype=object), allow_pickle=True)
    upload(page, pickled, "refused")
    assert "dtype object" in status.inner_text()
    # another case resets the form and its lines
    page.select_option("#upload-case", "exercise")
    assert 'get_case("conv_backward", "exercise")' in page.locator("#save-code").inner_text()
    assert status.inner_text() == ""
    assert only_refusals(log) and len(log.console_errors) == 3


def test_upload_screenshots(make_page, tmp_path):
    """The diagnosis of a buggy pool_backward at 1280 and 390 px (look at them)."""
    case = get_case("pool_backward", "gray_f3_s1_max")
    v = variant("pool_backward", "assign_not_accumulate")
    buggy = v(*arguments(case))
    path = npy(tmp_path, "dA_prev.npy", buggy)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("learn-upload", (1280, 1000)), ("learn-upload-phone", (390, 844))):
        page, log = make_page(*size)
        open_learn(page, "fn=pool_backward")
        upload(page, path, "wrong")
        page.evaluate("document.querySelector('#upload-field').scrollIntoView()")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size[0], f"{name}: the page scrolls sideways ({width} px)"
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=size[0] < 500)
        assert not log.console_errors and not log.page_errors
