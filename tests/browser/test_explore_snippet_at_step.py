""""Use it yourself" at the step the page shows: the core snippet prints that step's
numbers, and the curl snippet prints one readable answer (that step's record, or the row
or cell the view shows) ending in a newline. Both are run here, the Python one against core
in a subprocess, the curl one against the test server, and their output holds the numbers
on the page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pagetools import open_page

ROOT = Path(__file__).resolve().parents[2]
QUERY = ("sample=coffee&size=24&color=rgb&f=3&stride=2&pad=1&pad_mode=constant&pad_value=0"
         "&dilation=1&k0=sobel_x&b0=0.25&k1=w:0.5,-1,0.25,0,1,-0.5,2,0,-2&b1=0.1&relu=1"
         "&pool=max&pool_f=2&pool_stride=1&tie=first&up=random&seed=3")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")

# stage, step, the fields of the detail panel that show numbers, the tolerance (step
# records are float64, the Pad and ReLU views read the float32 arrays)
CASES = [
    ("conv_forward", 37, ["z", "total", "bias", "a_slice", "weights", "products"], 1e-12),
    ("relu", 41, ["z", "a"], 1e-6),
    ("pool_forward", 23, ["value", "window"], 1e-12),
    ("pool_backward", 17, ["da"], 1e-12),
    ("conv_backward", 29, ["dz", "da_add", "dw_add"], 1e-12),
    ("pad", 3, ["pad_row"], 1e-6),
    ("backward_transpose", 53, ["z", "a_slice", "weights", "products"], 1e-12),
]


def shown_numbers(page, fields: list[str]) -> list[float]:
    out = []
    for field in fields:
        sel = f'#view [data-field="{field}"]'
        page.wait_for_selector(sel)
        vals = page.eval_on_selector_all(
            sel, """els => els.flatMap(e => e.tagName === 'TABLE'
                ? [...e.querySelectorAll('td')].map(td => Number(td.dataset.v))
                : [Number(e.dataset.v)])""")
        assert vals, field
        out += vals
    return out


def assert_printed(text: str, shown: list[float], rtol: float) -> None:
    printed = np.array([float(x) for x in NUMBER.findall(text)])
    for v in shown:
        assert np.isclose(printed, v, rtol=rtol, atol=1e-12).any(), (v, text[-2000:])


def snippet(page, kind: str) -> str:
    page.click(f'#snippet-tabs [data-kind="{kind}"]')
    return page.locator("#snippet-code").inner_text()


def open_at(page, stage: str, step: int) -> None:
    open_page(page, QUERY + f"&stage={stage}&step={step}")
    assert page.evaluate("document.body.dataset.step") == str(step)


@pytest.mark.parametrize(("stage", "step", "fields", "rtol"), CASES)
def test_python_snippet_prints_the_shown_step(page_and_log, stage, step, fields, rtol):
    page, log = page_and_log
    open_at(page, stage, step)
    shown = shown_numbers(page, fields)
    code = snippet(page, "python")
    assert "print(" in code
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
    assert_printed(out.stdout, shown, rtol)
    assert log.console_errors == [] and log.page_errors == []


def run_curl(code: str) -> str:
    out = subprocess.run(["bash", "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("python3") is None,
                    reason="the curl snippet needs curl and python3 on the machine")
@pytest.mark.parametrize(("stage", "step", "fields", "rtol"), CASES)
def test_curl_snippet_prints_one_readable_answer_for_the_shown_step(page_and_log, stage, step,
                                                                     fields, rtol):
    page, log = page_and_log
    open_at(page, stage, step)
    shown = shown_numbers(page, fields)
    out = run_curl(snippet(page, "curl"))
    assert out.endswith("\n")
    answer = json.loads(out)  # one JSON answer, not two run together
    assert len(out) < 20_000, len(out)  # readable: no image of base64
    assert "\n  " in out or "\n " in out  # pretty-printed
    assert_printed(out, shown, max(rtol, 1e-7) if stage in ("pad", "relu") else rtol)
    if stage not in ("pad", "relu"):
        assert answer["stage"] == stage and answer["offset"] == step
        assert len(answer["steps"]) == 1
    assert log.console_errors == [] and log.page_errors == []


def test_snippets_follow_the_player(page_and_log):
    page, _ = page_and_log
    open_at(page, "conv_forward", 0)
    assert "h, w, c = 0, 0, 0" in snippet(page, "python")
    page.locator("#btn-fwd").click()
    page.locator("#btn-fwd").click()
    page.locator("#btn-fwd").click()  # step 3: (0, 1, 1) on a 12 x 12 x 2 output
    assert "h, w, c = 0, 1, 1" in snippet(page, "python")
    assert '"position":[0,1,1]' in snippet(page, "curl")
