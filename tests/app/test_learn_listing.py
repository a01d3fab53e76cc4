"""The exercise's code on the Learn page: served by the server (derived from
core/learn/source.py, never retyped in JS), teaching what NumPy 2 accepts, and passing the
checker exactly as the page shows it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_lesson_page import boot_of

from core.learn.listing import listing
from core.learn.source import option_edits
from core.mistakes import MISTAKES
from core.probes import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]


def page_code(client, url: str = "/") -> dict[str, list[dict]]:
    r = client.get(url)
    assert r.status_code == 200
    return boot_of(r.text)["lesson"]["code"]


def test_the_code_the_page_teaches_passes_the_checker(client, tmp_path):
    code = page_code(client)
    assert sorted(code) == sorted(FUNCTIONS)  # in the order the page lists them below
    text = "import numpy as np\n\n\n" + "\n\n\n".join(
        "\n".join(line["text"] for line in code[name]) for name in FUNCTIONS) + "\n"
    path = tmp_path / "as_the_page_shows_it.py"
    path.write_text(text)
    done = subprocess.run([sys.executable, "-m", "core.check", str(path), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    report = json.loads(done.stdout)
    status = {name: report["functions"][name]["status"] for name in FUNCTIONS}
    assert status == dict.fromkeys(FUNCTIONS, "correct"), done.stdout[-2000:]


def test_the_listing_uses_b_item_and_says_why_float_b_fails(client):
    lines = [line["text"] for line in page_code(client)["conv_single_step"]]
    assert "    Z = Z + b.item()" in lines
    code = [t for t in lines if not t.strip().startswith("#")]
    assert not any("float(b)" in t for t in code)
    (why,) = [t for t in lines if t.strip().startswith("#")]
    assert "float(b)" in why and "TypeError" in why and "(1, 1, 1)" in why
    with pytest.raises(TypeError):  # the comment's claim holds on the NumPy we install
        float(np.zeros((1, 1, 1)))


def test_mistake_mode_shows_the_listing_lines_it_names(client):
    """Every mark of every variant names lines of the listing the page shows, and its right
    line is the listing's text; a probe case's page carries the listing too."""
    code = page_code(client)
    for m in MISTAKES.values():
        for v in m.variants:
            ids = {line["id"] for line in code[v.function]}
            shown = "\n".join(line["text"] for line in code[v.shown_in])
            for mark in v.marks():
                assert set(mark["lines"]) <= ids, (v.flavour, mark)
            for right in v.right_line.split("\n"):
                assert right.strip() in shown, (v.flavour, right)
    r = client.get("/learn?fn=conv_forward&mistake=stride_missing")
    assert boot_of(r.text)["case"]["code"]["conv_forward"] == code["conv_forward"]


def test_the_extras_change_the_lines_they_name(client):
    plain = page_code(client)
    dilated = page_code(client, "/learn?dilation=2")
    assert any("[vert_start:vert_end:dilation, horiz_start:horiz_end:dilation, :]"
               in line["text"] for line in dilated["conv_forward"])
    reflect = page_code(client, "/learn?pad_mode=reflect")["zero_pad"]
    assert [line["id"] for line in reflect] == ["def", "pad", "ret"]
    assert "mode='reflect'" in reflect[1]["text"]
    first = page_code(client, "/learn?tie=first")["pool_backward"]
    assert [line["id"] for line in first].count("mask2") == 1
    assert dilated["pool_forward"] == plain["pool_forward"]


def test_no_listing_is_typed_in_the_page_scripts():
    """The exercise's listing reaches the page only from the server: no Learn script holds a
    function's header or loop lines (the arithmetic panel quotes single lines with their
    numbers; a retyped listing would carry these)."""
    headers = {x.text.strip() for fn in listing().values() for x in fn
               if x.id == "def" or x.text.strip().startswith("for ")}
    assert len(headers) == len(FUNCTIONS) + 4
    for js in (ROOT / "static" / "js" / "learn").glob("*.js"):
        text = js.read_text()
        assert not [line for line in headers if line in text], js.name


def test_every_line_the_lessons_highlight_is_a_line_of_the_listing():
    """The step views name the lines a step runs by id (static/js/learn/lessons.js); each id
    is a line of the served listing (with the extras' lines: mask2 for the tie rules)."""
    ids = {x.id for edits in ((), option_edits(dilation=2, pad_mode="reflect", tie_rule="first"))
           for fn in listing(edits).values() for x in fn}
    text = (ROOT / "static" / "js" / "learn" / "lessons.js").read_text()
    named = set()
    for group in re.findall(r"ids: \[([^\]]*)\]|ids\.push\(([^)]*)\)", text):
        named |= set(re.findall(r'"(\w+)"', "".join(group)))
    named -= {"product"}  # conv_single_step's step kind, shown on its line "s"
    assert len(named) > 20
    assert named <= ids, named - ids
