"""cli.check (python -m core.check, convstep check): the learner's checker, on learner files
(one per mistake, written as a learner writes the exercise with that one bug), a correct
file, files that raise, loop forever or return a wrong shape, the --json output and
check(globals())."""

import difflib
import html
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest

from cli.check import check, check_file, describe_difference, format_report, load_file
from cli.links import flavour_of, page_link
from cli.report import format_html
from core.mistakes import MISTAKE_IDS, default_case, variant
from core.probes import FUNCTIONS, cases_of

FILES = Path(__file__).parent / "learner_files"
ROOT = Path(__file__).resolve().parents[2]

# Where each file's one mistake shows: the functions it changes (directly, or through the
# learner's own helper: conv_forward calls the learner's conv_single_step and zero_pad).
EXPECTED = {
    "stride_missing": ("conv_forward", "conv_backward", "pool_forward", "pool_backward"),
    "bias_per_element": ("conv_single_step", "conv_forward"),
    "height_width_swapped": ("conv_forward", "conv_backward", "pool_forward", "pool_backward"),
    "pad_all_axes": ("zero_pad", "conv_forward"),
    "unpadded_slice": ("conv_forward", "conv_backward"),
    "assign_not_accumulate": ("conv_backward", "pool_backward"),
    "distribute_without_dz": ("distribute_value", "pool_backward"),
    "crop_minus_pad": ("conv_backward",),
    "mask_not_max": ("create_mask_from_window", "pool_backward"),
    "dW_without_slice": ("conv_backward",),
}
OTHERS = ["correct", "raises", "loops_forever", "wrong_shape"]


@pytest.fixture(scope="module")
def reports():
    """Every learner file checked once, each in its own child process (three at a time)."""
    names = list(EXPECTED) + OTHERS
    with ThreadPoolExecutor(3) as pool:
        done = pool.map(lambda n: check_file(FILES / f"{n}.py", timeout=3), names)
        return dict(zip(names, done, strict=True))


def test_there_is_one_learner_file_per_mistake():
    assert set(EXPECTED) == set(MISTAKE_IDS)
    for mistake in MISTAKE_IDS:
        text = (FILES / f"{mistake}.py").read_text()
        right = (FILES / "correct.py").read_text()
        diff = difflib.unified_diff(right.splitlines()[4:], text.splitlines()[4:], n=0,
                                    lineterm="")
        changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        assert 1 <= len(changed) <= 16, mistake  # the exercise's code with the one bug


@pytest.mark.slow  # the learner files checked in child processes: 9 s
@pytest.mark.parametrize("mistake", MISTAKE_IDS)
def test_the_checker_names_the_mistake_of_each_learner_file(reports, mistake):
    report = reports[mistake]
    assert list(report["functions"]) == list(FUNCTIONS)
    for function, r in report["functions"].items():
        if function in EXPECTED[mistake]:
            assert (r["ok"], r["status"], r["mistakes"]) == (False, "mistake", [mistake]), (
                function, r["message"])
            d = r["first_difference"]
            # the link names the variant that matched, so the page opens its steps
            flavour = parse_qs(urlsplit(r["link"]).query)["flavour"][0]
            assert flavour in r["variants"]
            assert variant(function, mistake, flavour).mistake == mistake
            assert d["case"] == default_case(function, mistake, flavour)
            step = d["step"] if d["step"] is not None else 0
            assert r["link"] == (f"http://127.0.0.1:8000/learn?fn={function}&mistake="
                                 f"{mistake}&{urlencode({'flavour': flavour})}&step={step}"
                                 f"&case={d['case']}")
        elif mistake == "pad_all_axes" and function == "conv_backward":
            # conv_backward with an every-axis zero_pad only raises: no variant of its own.
            assert r["status"] == "raises" and "broadcast" in r["message"]
            assert r["hint"] == "it calls your zero_pad, which is wrong: fix that first"
        else:
            assert r["ok"] and r["status"] == "correct", (function, r["message"])


@pytest.mark.slow  # the learner files checked in child processes: 9 s
def test_a_correct_file_is_correct_everywhere(reports):
    report = reports["correct"]
    assert all(r["ok"] and r["status"] == "correct" for r in report["functions"].values())
    assert report["missing"] == []
    assert report["notes"]["stubbed"] == ["matplotlib_not_installed_here"]
    assert report["notes"]["import_error"] is None


@pytest.mark.slow  # the learner files checked in child processes: 9 s
def test_a_file_that_raises_gets_its_line(reports):
    report = reports["raises"]
    r = report["functions"]["conv_single_step"]
    assert r["status"] == "raises"
    assert r["message"] == ("raises on case exercise: NameError: name 'bias' is not defined "
                            "(raises.py, line 19, in conv_single_step: `Z = Z + bias`)")
    assert report["functions"]["conv_forward"]["hint"].startswith(
        "it calls your conv_single_step")
    # Its top level calls conv_forward and raises too: that statement is skipped, the rest runs.
    skipped = report["notes"]["skipped"]  # the call, then the print and plot of its Z
    assert [s["error"] for s in skipped] == ["NameError: name 'bias' is not defined"] + [
        "NameError: name 'Z' is not defined"] * 2
    assert skipped[0]["where"] == "raises.py, line 149"
    assert skipped[0]["code"] == ('Z, cache_conv = conv_forward(A_prev, W, b, {"pad": 1, '
                                  '"stride": 2})')
    assert report["notes"]["import_error"] is None
    assert report["notes"]["definitions_only"] is False
    assert report["functions"]["conv_backward"]["ok"]


@pytest.mark.slow  # the learner files checked in child processes: 9 s
def test_a_file_that_loops_forever_gets_its_line_and_the_rest_is_checked(reports):
    report = reports["loops_forever"]
    r = report["functions"]["pool_forward"]
    first = cases_of("pool_forward")[0].name
    assert (r["status"], r["message"]) == (
        "timeout", f"did not return within 3 s on case {first} (an infinite loop?)")
    assert r["first_difference"]["kind"] == "timeout"
    # The child was restarted: the functions after it are checked.
    assert report["functions"]["create_mask_from_window"]["ok"]
    assert report["functions"]["pool_backward"]["ok"]


@pytest.mark.slow  # the learner files checked in child processes: 9 s
def test_a_wrong_shape_gets_a_line_naming_the_expected_shape(reports):
    r = reports["wrong_shape"]["functions"]["zero_pad"]
    assert r["status"] == "shape"
    assert r["message"] == ("returns X_pad of shape (4, 7, 3, 2) on case exercise; expected "
                            "shape (4, 7, 7, 2)")


@pytest.mark.slow  # the learner files checked in child processes: 9 s
def test_the_text_report_of_a_mistake(reports):
    text = format_report(reports["stride_missing"])
    assert "FAIL conv_forward: matches stride_missing: Window corners without the stride" in text
    assert "     yours: vert_start = h\n" in text
    assert "     right: vert_start = h * stride\n" in text
    assert ("first difference: case gray_s2_p1, step 3 of 24 (i, h, w, c) = (0, 0, 1, 0): "
            "Z[0, 0, 1, 0] is 7.5, should be 5.5") in text
    assert "ok   zero_pad: correct on all 3 probe cases" in text
    assert "Traceback" not in format_report(reports["raises"])


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "core.check", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_json_has_every_function_found_as_a_key():
    done = _cli(FILES / "crop_minus_pad.py", "--json", "--base-url", "http://localhost:9000/")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)  # nothing else on stdout: the file's prints went nowhere
    assert set(report["functions"]) == set(FUNCTIONS)
    r = report["functions"]["conv_backward"]
    assert (r["ok"], r["mistakes"]) == (False, ["crop_minus_pad"])
    d = r["first_difference"]
    assert (d["kind"], d["phase"], d["case"]) == ("error", "crop", "gray_s2_p0")
    assert d["error"] == ("ValueError: could not broadcast input array from shape (0,0,1) into "
                          "shape (5,7,1)")
    assert r["link"] == ("http://localhost:9000/learn?fn=conv_backward&mistake=crop_minus_pad"
                         f"&flavour=crop_minus_pad&step={d['step']}&case=gray_s2_p0")
    assert report["functions"]["conv_forward"] == {**report["functions"]["conv_forward"],
                                                   "ok": True, "mistakes": []}


def test_cli_exit_codes_and_a_missing_file(tmp_path):
    assert _cli(FILES / "correct.py").returncode == 0
    done = _cli(tmp_path / "nope.py")
    assert done.returncode == 2 and "no such file" in done.stderr


@pytest.mark.slow  # waits out a hanging top level
def test_a_subset_of_functions_with_magics_stubs_and_a_hanging_top_level(tmp_path):
    source = (FILES / "correct.py").read_text().split("def conv_forward")[0]
    path = tmp_path / "notebook_export.py"
    path.write_text("%matplotlib inline\n!pip install nothing\nfrom public_tests import *\n"
                    + source + "\nwhile True:\n    pass\n")
    report = check_file(path, timeout=3, import_timeout=3)
    assert list(report["functions"]) == ["zero_pad", "conv_single_step"]
    assert all(r["ok"] for r in report["functions"].values())
    assert report["missing"] == [f for f in FUNCTIONS if f not in report["functions"]]
    assert "did not finish" in report["notes"]["import_error"]
    assert "public_tests" in report["notes"]["stubbed"]


def test_two_mistakes_in_one_function_are_both_named(tmp_path):
    text = (FILES / "correct.py").read_text()
    conv_b = text.index("def conv_backward")
    head, tail = text[:conv_b], text[conv_b:]
    tail = tail.replace("vert_start = h * stride", "vert_start = h", 1).replace(
        "horiz_start = w * stride", "horiz_start = w", 1).replace(
        "da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
        "da_prev_pad[pad:-pad, pad:-pad, :]")
    path = tmp_path / "two.py"
    path.write_text(head + tail)
    ns, _ = load_file(path)
    report = check({name: ns[name] for name in ("conv_backward", "zero_pad")}, quiet=True)
    r = report["functions"]["conv_backward"]
    assert r["mistakes"] == ["stride_missing", "crop_minus_pad"]
    assert r["status"] == "mistake"


def test_check_globals_prints_the_report_and_returns_it(capsys):
    ns, _ = load_file(FILES / "mask_not_max.py")  # as a notebook would hold them

    def pool_forward(A_prev, hparameters, mode="max"):
        while True:  # a notebook cell's infinite loop: the SIGALRM limit stops it
            pass

    ns["pool_forward"] = pool_forward
    report = check(ns, timeout=0.5)
    out = capsys.readouterr().out
    assert out.startswith("Checking globals(): 8 of the exercise's 8 functions found.")
    assert report["source"] == "globals()"
    assert report["functions"]["create_mask_from_window"]["mistakes"] == ["mask_not_max"]
    assert report["functions"]["pool_backward"]["mistakes"] == ["mask_not_max"]
    assert report["functions"]["pool_forward"]["status"] == "timeout"
    assert report["functions"]["conv_forward"]["ok"]
    assert "FAIL create_mask_from_window: matches mask_not_max" in out


def test_check_globals_ignores_other_names_and_wrong_returns(capsys):
    def zero_pad(X, pad):
        return None  # forgot the return value

    report = check({"zero_pad": zero_pad, "np": np, "x": 3}, quiet=True)
    assert list(report["functions"]) == ["zero_pad"]
    r = report["functions"]["zero_pad"]
    assert r["status"] == "raises"
    assert "returned None for X_pad (a missing return?)" in r["message"]
    assert capsys.readouterr().out == ""


def test_describe_difference_of_a_scalar_and_of_nothing():
    assert describe_difference(None) == ""
    d = {"kind": "value", "case": "exercise", "step": None, "position": None, "phase": None,
         "output": "Z", "cell": [], "expected": 1.5, "got": 2.0, "basis": "output"}
    assert describe_difference(d) == "case exercise: Z is 2, should be 1.5"


def test_a_notebook_is_read_cell_by_cell(tmp_path):
    code = (FILES / "stride_missing.py").read_text().split("def conv_backward")[0]
    cells = [{"cell_type": "markdown", "source": ["# Convolutional Model: Step by Step"]},
             {"cell_type": "code", "source": ["import numpy as np\n", "%matplotlib inline\n"]},
             {"cell_type": "code", "source": code.replace("import numpy as np\n", "")}]
    path = tmp_path / "Convolution_model_Step_by_Step.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4}))
    ns, notes = load_file(path)
    assert notes["import_error"] is None
    report = check({k: ns[k] for k in ("zero_pad", "conv_forward")}, quiet=True)
    assert report["functions"]["conv_forward"]["mistakes"] == ["stride_missing"]
    (tmp_path / "broken.ipynb").write_text("{")
    assert load_file(tmp_path / "broken.ipynb")[1]["syntax_errors"] == [
        "broken.ipynb: not a readable notebook (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1))"]


def test_a_function_that_ends_the_process_gets_its_line(tmp_path):
    path = tmp_path / "exits.py"
    path.write_text("import os\n\ndef distribute_value(dz, shape):\n    print('x' * 10**6)\n"
                    "    os._exit(3)\n\ndef zero_pad(X, pad):\n    import numpy as np\n"
                    "    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))\n")
    report = check_file(path, timeout=5)
    r = report["functions"]["distribute_value"]
    assert (r["status"], r["message"]) == ("raises", "ended the process (exit code 3) on case "
                                                     "exercise")
    assert report["functions"]["zero_pad"]["ok"]


# The other flavours, each written into the right file as a learner would (checked in this
# process: the child-process path is covered above).
FLAVOURS = [
    ("assign_not_accumulate/dW", "conv_backward",
     "dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, :, c] = a_slice * dZ[i, h, w, c]"),
    ("assign_not_accumulate/db", "conv_backward",
     "db[:, :, :, c] += dZ[i, h, w, c]", "db[:, :, :, c] = dZ[i, h, w, c]"),
    ("dW_without_slice/dZ", "conv_backward",
     "dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, :, c] += dZ[i, h, w, c]"),
    ("distribute_without_dz/sum", "distribute_value",
     "average = dz / (n_H * n_W)", "average = dz / (n_H + n_W)"),
    ("mask_not_max/scalar", "create_mask_from_window",
     "mask = x == np.max(x)", "mask = np.max(x)"),
    ("mask_not_max/argmax", "create_mask_from_window", "mask = x == np.max(x)",
     "mask = np.zeros(x.shape, dtype=bool)\n"
     "    mask[np.unravel_index(np.argmax(x), x.shape)] = True"),
]


@pytest.mark.parametrize("flavour, function, right, buggy", FLAVOURS)
def test_every_other_flavour_written_by_a_learner_is_named(tmp_path, flavour, function, right,
                                                          buggy):
    text = (FILES / "correct.py").read_text()
    assert text.count(right) == 1
    path = tmp_path / "learner.py"
    path.write_text(text.replace(right, buggy))
    ns, notes = load_file(path)
    assert notes["import_error"] is None
    report = check(ns, quiet=True)
    r = report["functions"][function]
    assert (r["status"], r["mistakes"]) == ("mistake", [flavour.split("/")[0]])
    assert flavour in r["variants"]
    if function in ("distribute_value", "create_mask_from_window"):
        assert report["functions"]["pool_backward"]["mistakes"] == [flavour.split("/")[0]]


def test_page_link_names_the_flavour_and_flavour_of_picks_the_mistakes_own():
    assert page_link("http://h:1/", "conv_backward", "assign_not_accumulate", 4, "gray_s2_p1",
                     "assign_not_accumulate/dW") == (
        "http://h:1/learn?fn=conv_backward&mistake=assign_not_accumulate"
        "&flavour=assign_not_accumulate%2FdW&step=4&case=gray_s2_p1")
    # no mistake (a wrong output no variant explains): no mistake, no flavour
    assert page_link("", "pool_forward", None, None, "gray_f3_s1_max", "x") == (
        "/learn?fn=pool_forward&step=0&case=gray_f3_s1_max")
    # a pair of mistakes: each mistake's link takes its own flavour, whatever the order
    pair = ["stride_missing", "assign_not_accumulate/db"]
    assert flavour_of("conv_backward", "assign_not_accumulate", pair) == "assign_not_accumulate/db"
    assert flavour_of("conv_backward", "stride_missing", pair) == "stride_missing"
    assert flavour_of("conv_backward", "crop_minus_pad", pair) is None
    assert flavour_of("conv_backward", None, pair) is None


def test_a_top_level_that_ends_the_process_is_said_and_the_functions_still_checked():
    report = check_file(FILES / "exits_at_import.py", timeout=3)
    assert report["notes"]["import_error"] == (
        "the file's top-level code ended the process (exit code 3); its functions were checked "
        "without it (its imports, definitions and constants only)")
    assert report["functions"]["zero_pad"]["ok"]


# A mistake in any of its forms (issue 17 §3): in one branch, one axis, one channel loop or
# one vectorised line, the output's size swapped, another mask rule. Each learner file has
# that one form; every function not named is right (the checker never gives a false
# verdict). function -> (status, mistake, flavour, the part's lines, the verdict's words).
FORMS = {
    "assign_max_branch_only": {"pool_backward": (
        "partial", "assign_not_accumulate", "assign_not_accumulate/pool", ["addmax"],
        "matches assign_not_accumulate in max mode, not in average mode (the nearest known "
        "mistake: = instead of +=)")},
    "assign_average_vectorised": {"pool_backward": (
        "partial", "assign_not_accumulate", "assign_not_accumulate/pool", ["addavg"],
        "matches assign_not_accumulate in average mode, not in max mode (the nearest known "
        "mistake: = instead of +=)")},
    "stride_rows_only": {fn: (
        "partial", "stride_missing", "stride_missing", ["vs"],
        "matches stride_missing on the rows, not on the columns (the nearest known mistake: "
        "Window corners without the stride)")
        for fn in ("conv_forward", "conv_backward", "pool_forward", "pool_backward")},
    "stride_max_channel_loop": {"pool_backward": (
        "partial", "stride_missing", "stride_missing", None,
        "matches stride_missing in max mode (gray_f3_s2_max, gray_f2_s2_max), not in average "
        "mode (gray_f2_s2_average) (the nearest known mistake: Window corners without the "
        "stride)")},
    "size_swapped": {fn: (
        "mistake", "height_width_swapped", "height_width_swapped/size", None,
        "matches height_width_swapped: Height and width swapped")
        for fn in ("conv_forward", "pool_forward")},
    "mask_positive": {fn: (
        "mistake", "mask_not_max", "mask_not_max/positive", None,
        "matches mask_not_max: A mask that is not x == max(x)")
        for fn in ("create_mask_from_window", "pool_backward")},
    "size_swapped_own_names": {fn: (
        "mistake", "height_width_swapped", "height_width_swapped/size", None,
        "matches height_width_swapped: Height and width swapped")
        for fn in ("conv_forward", "pool_forward")},
    "stride_columns_vectorised": {"pool_forward": (
        "partial", "stride_missing", "stride_missing", ["hs"],
        "matches stride_missing on the columns, not on the rows (the nearest known mistake: "
        "Window corners without the stride)")},
    "mask_positive_vectorised": {"pool_backward": (
        "mistake", "mask_not_max", "mask_not_max/positive", None,
        "matches mask_not_max: A mask that is not x == max(x)")},
    "assign_dW_channel_loop": {"conv_backward": (
        "mistake", "assign_not_accumulate", "assign_not_accumulate/dW", None,
        "matches assign_not_accumulate: = instead of +=")},
    "mask_min_vectorised": {"pool_backward": (
        "mistake", "mask_not_max", "mask_not_max/min", None,
        "matches mask_not_max: A mask that is not x == max(x)")},
    "pad_int": {fn: ("mistake", "pad_all_axes", "pad_all_axes", None,
                     "matches pad_all_axes: Padding the batch and channel axes")
                for fn in ("zero_pad", "conv_forward")},
}


@pytest.fixture(scope="module")
def form_reports():
    with ThreadPoolExecutor(3) as pool:
        done = pool.map(lambda n: check_file(FILES / f"{n}.py", timeout=3), FORMS)
        return dict(zip(FORMS, done, strict=True))


@pytest.mark.slow  # twelve learner files checked: 4 s
@pytest.mark.parametrize("name", FORMS)
def test_a_mistake_in_any_of_its_forms_is_named_with_its_evidence(form_reports, name):
    report = form_reports[name]
    for function, r in report["functions"].items():
        if function not in FORMS[name]:
            # pad_int's conv_backward raises on its every-axis zero_pad (see pad_all_axes)
            assert r["ok"] or (name, function) == ("pad_int", "conv_backward"), (
                function, r["message"])
            continue
        status, mistake, flavour, lines, message = FORMS[name][function]
        assert (r["ok"], r["status"], r["message"]) == (False, status, message), function
        assert r["variants"] == [flavour]
        query = parse_qs(urlsplit(r["link"]).query)
        assert (query["mistake"], query["flavour"]) == ([mistake], [flavour])
        if status == "partial":  # no whole match: the nearest, with its evidence
            assert r["mistakes"] == []
            n = r["nearest"]
            assert (n["mistake"], n["flavour"], n["lines"]) == (mistake, flavour, lines)
            assert n["cases"] and n["not_cases"] and n["evidence"] in message
            assert set(n["cases"]) | set(n["not_cases"]) <= set(r["cases"])
        else:
            assert (r["mistakes"], r["nearest"]) == ([mistake], None)
        assert [x["mistake_id"] for x in r["lines"]] == [mistake]


@pytest.mark.slow  # twelve learner files checked: 4 s
def test_a_vectorised_learners_own_line_in_a_channel_loop_is_quoted(form_reports):
    r = form_reports["assign_dW_channel_loop"]["functions"]["conv_backward"]
    assert r["lines"][0]["yours"] == [{"place": "assign_dW_channel_loop.py, line 24",
                                       "code": "dW[:, :, :, c] = patch * dZ[img, r, q, c]"}]


@pytest.mark.slow  # twelve learner files checked: 4 s
def test_the_nearest_mistake_shows_the_learners_line_and_the_parts_right_line(form_reports):
    text = format_report(form_reports["stride_rows_only"])
    assert ("FAIL conv_forward: matches stride_missing on the rows, not on the columns "
            "(the nearest known mistake: Window corners without the stride)") in text
    assert "     yours: vert_start = h\n     right: vert_start = h * stride\n" in text
    assert "(yours: stride_rows_only.py, line 37)" in text
    assert "horiz_start = w\n" not in text  # the columns are right: not shown as wrong


YOURS_PAD = "X_pad = np.pad(X, pad, mode='constant',\n               constant_values=0)"
STANDARD_PAD = "X_pad = np.pad(X, ((pad, pad), (pad, pad), (pad, pad), (pad, pad)),"


@pytest.mark.slow  # the checker in a child process, three reports
def test_yours_quotes_the_learners_own_line_in_json_text_and_html():
    done = _cli(FILES / "pad_int.py", "--json")
    report = json.loads(done.stdout)
    for function in ("zero_pad", "conv_forward"):  # conv_forward: in its helper zero_pad
        (said,) = report["functions"][function]["lines"]
        assert said["yours"] == [{"place": "pad_int.py, line 12", "code": YOURS_PAD}]
        assert said["mistake"].startswith(STANDARD_PAD)  # the exercise's form, kept apart
        assert said["right"].startswith("X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad)")
    text = _cli(FILES / "pad_int.py").stdout
    assert ("     yours: X_pad = np.pad(X, pad, mode='constant',\n"
            "                           constant_values=0)\n") in text
    assert STANDARD_PAD not in text
    assert "(yours: pad_int.py, line 12)" in text
    page = format_html(report)
    assert html.escape(YOURS_PAD.split("\n")[0]) in page
    assert html.escape(STANDARD_PAD) not in page


@pytest.mark.slow  # twelve learner files checked: 4 s
def test_without_a_line_alike_the_mistake_is_shown_as_the_exercise_writes_it(form_reports):
    r = form_reports["assign_average_vectorised"]["functions"]["pool_backward"]
    (said,) = r["lines"]
    assert said["yours"] is None  # its vectorised line is not alike enough to quote
    text = format_report(form_reports["assign_average_vectorised"])
    assert ("     like:  dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] = "
            "distribute_value(da, shape)") in text
    assert "yours:" not in text
