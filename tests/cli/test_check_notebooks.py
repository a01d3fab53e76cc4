"""The checker on the code learners really have (issue 17 §2-§3): the course notebook as it
is, syntax errors, a notebook cell's error, forward functions without their cache, the
course's `float(b)` on NumPy 2, and the report as HTML in Jupyter. One learner file per case
in learner_files/."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cli.check import Report, check, check_file
from cli.learner import load_file
from cli.report import format_html, format_report

FILES = Path(__file__).parent / "learner_files"
ROOT = Path(__file__).resolve().parents[2]


def _cli(path, *args):
    return subprocess.run([sys.executable, "-m", "cli", "check", str(path), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_course_notebook_as_it_is():
    # h5py and matplotlib imports, %matplotlib inline, plt.rcParams[...] = ..., plots, the
    # course's test helpers and datasets, the course's float(b): every function is found.
    report = check_file(FILES / "course_notebook.ipynb", timeout=5)
    assert list(report["functions"]) == ["zero_pad", "conv_single_step", "conv_forward",
                                         "conv_backward", "pool_forward",
                                         "create_mask_from_window", "distribute_value",
                                         "pool_backward"]
    notes = report["notes"]
    assert notes["stubbed"] == ["h5py", "matplotlib.pyplot", "public_tests"]
    assert notes["syntax_errors"] == [] and notes["import_error"] is None
    first = notes["skipped"][0]
    assert first == {"where": "course_notebook.ipynb, code cell 3, line 9",
                     "code": "fig, axarr = plt.subplots(1, 2)",
                     "error": "ValueError: not enough values to unpack (expected 2, got 0)"}
    dataset = [s for s in notes["skipped"] if "load_dataset()" in s["code"]]
    assert dataset[0]["error"] == "NameError: name 'load_dataset' is not defined"
    text = format_report(report)
    skipped_lines = [line for line in text.splitlines() if "skipped" in line]
    assert len(skipped_lines) == 1 and skipped_lines[0].startswith(
        f"  note: skipped {len(notes['skipped'])} top-level statements that cannot run here")
    status = {f: r["status"] for f, r in report["functions"].items()}
    assert status.pop("conv_single_step") == "pitfall"
    assert status.pop("conv_forward") == "raises"
    assert set(status.values()) == {"correct"}


def test_float_of_b_is_named_explained_and_fixed_on_the_learners_line():
    report = check_file(FILES / "float_of_array.py", timeout=5)
    r = report["functions"]["conv_single_step"]
    assert (r["ok"], r["status"], r["pitfall"]) == (False, "pitfall", "float_of_array")
    assert r["message"] == (
        "raises on case exercise: float_of_array: float() of an array raises TypeError on "
        "NumPy 2 (float_of_array.py, line 19, in conv_single_step: `Z = Z + float(b)`)")
    text = format_report(report)
    assert "     yours: Z = Z + float(b)\n     right: Z = Z + b.item()\n" in text
    assert "NumPy 2 refuses: b has shape (1, 1, 1)" in " ".join(text.split())
    caller = report["functions"]["conv_forward"]
    assert caller["message"].startswith(
        "raises on case gray_s2_p1: float_of_array in your conv_single_step (")
    assert caller["hint"] == "it calls your conv_single_step, which is wrong: fix that first"


@pytest.mark.slow  # the checker in a child process
def test_a_forward_function_without_its_cache_is_not_right():
    report = check_file(FILES / "no_cache.py", timeout=5)
    conv, pool = report["functions"]["conv_forward"], report["functions"]["pool_forward"]
    assert (conv["ok"], conv["status"]) == (False, "contract")
    assert conv["message"] == (
        "Z is right on all 6 probe cases, but it returns Z alone; the exercise returns (Z, "
        "cache) with cache = (A_prev, W, b, hparameters), which conv_backward reads: end with "
        "`return Z, cache`")
    assert (pool["ok"], pool["status"]) == (False, "contract")
    assert "returns (A, None) as the cache; the exercise returns (A, cache) with cache = " \
           "(A_prev, hparameters)" in pool["message"]
    assert report["functions"]["conv_backward"]["ok"]
    assert _cli(FILES / "no_cache.py").returncode == 1


def test_a_cache_of_the_padded_input_is_named():
    report = check_file(FILES / "cache_padded.py", timeout=5)
    r = report["functions"]["conv_forward"]
    assert (r["ok"], r["status"]) == (False, "contract")
    assert "its cache[0] is an array of shape (1, 7, 9, 1), not the A_prev it was given " \
           "(an array of shape (1, 5, 7, 1))" in r["message"]
    assert report["functions"]["conv_backward"]["ok"]  # it reads the probe's own cache


@pytest.mark.slow  # the checker in a child process
def test_a_syntax_error_fails_loudly_with_file_and_line():
    done = _cli(FILES / "syntax_error.py")
    assert done.returncode == 2
    said = ("SyntaxError: expected ':' (syntax_error.py, line 31: `for i in range(m)`)")
    assert f"convstep check: cannot check that code: {said}" in done.stderr
    assert f"  error: cannot check that code: {said}; fix it and check again." in done.stdout
    assert json.loads(_cli(FILES / "syntax_error.py", "--json").stdout)["notes"][
        "syntax_errors"] == [said]


def test_a_notebook_cell_that_does_not_parse_is_quoted_and_the_other_cells_are_checked():
    done = _cli(FILES / "syntax_error_cell.ipynb", "--json")
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["notes"]["syntax_errors"] == [
        "SyntaxError: '(' was never closed (syntax_error_cell.ipynb, code cell 3, line 3: "
        "`Z = np.sum(s`)"]
    assert {f: r["ok"] for f, r in report["functions"].items()} == {"zero_pad": True,
                                                                   "pool_forward": True}


def test_a_notebooks_error_quotes_the_cells_code_not_the_files_json():
    report = check_file(FILES / "notebook_raises.ipynb", timeout=5)
    assert report["functions"]["conv_single_step"]["message"] == (
        "raises on case exercise: NameError: name 'bias' is not defined (notebook_raises.ipynb, "
        "code cell 3, line 4, in conv_single_step: `Z = Z + bias`)")


@pytest.fixture
def jupyter(monkeypatch):
    """A stand-in for IPython in a Jupyter kernel: what check() displays is collected."""
    shown = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    display = types.ModuleType("IPython.display")
    display.HTML = lambda text: ("html", text)
    display.display = shown.append
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return shown


def test_check_globals_in_jupyter_shows_html_and_returns_nothing_jupyter_echoes(jupyter,
                                                                                capsys):
    ns, _ = load_file(FILES / "stride_missing.py")
    report = check(ns)
    assert capsys.readouterr().out == ""  # no text: the report went to Jupyter as HTML
    ((kind, html),) = jupyter
    assert kind == "html" and html == format_html(report)
    assert "<strong>Checking globals(): 8 of the exercise&#x27;s 8 functions found." in html
    link = report["functions"]["conv_forward"]["link"].replace("&", "&amp;")
    assert f'<a href="{link}" target="_blank" rel="noopener">{link}</a>' in html
    assert '<pre style="margin: 0.1em 0 0.1em 1.5em">yours: vert_start = h\n' in html
    # Jupyter echoes a cell's value through _ipython_display_: the report's shows nothing
    assert isinstance(report, Report) and report._ipython_display_() is None
    assert repr(report) == "<convstep check of globals(): 4 of 8 right>"
    assert report["functions"]["conv_forward"]["mistakes"] == ["stride_missing"]


def test_check_globals_outside_jupyter_prints_text(capsys):
    ns, _ = load_file(FILES / "correct.py")
    check(ns)
    out = capsys.readouterr().out
    assert out.startswith("Checking globals(): 8 of the exercise's 8 functions found.")
    assert "<" not in out
