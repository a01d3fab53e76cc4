"""show(fn) without a kernel: the widget's state, the inlined front end, the messages.

- cli/esm.py: the kit's modules inlined into one ES module (aliases, multi-line imports,
  export lists, dependency order) and a clear error for anything it cannot inline;
- widget_state: both traces of a learner's conv_forward without the stride, lined up by
  output cell, the first difference where the checker found it; a right function's; a
  backward function's running totals; a windowless function's two arrays;
- show(): outside Jupyter a text summary with the page's link and --open; in Jupyter
  without anywidget one line saying how to install it (no traceback);
The wheel's copy (the module inlined from the installed files) is tested in
test_wheel_install.py.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

import cli.notebook as notebook
from cli.esm import inline_modules
from cli.learner import load_file
from cli.notebook import INSTALL, show, widget_esm, widget_state
from core.loops import conv_forward_loop, pool_backward_loop
from core.probes import FUNCTIONS

FILES = Path(__file__).parent / "learner_files"


@pytest.fixture(scope="module")
def learner():
    """Learners' files of the checker's tests: conv_forward without the stride (and a right
    zero_pad), zero_pad that pads every axis."""
    ns = load_file(str(FILES / "stride_missing.py"), False)[0]
    return {**ns, "pad_everything": load_file(str(FILES / "pad_all_axes.py"), False)[0][
        "zero_pad"]}


# ---------------------------------------------------------------------------------------------
# cli/esm.py

def _write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def test_inline_modules_orders_and_binds(tmp_path):
    _write(tmp_path, {
        "kit/a.js": "export const ONE = 1;\nfunction hidden() { return 2; }\n"
                    "export { hidden as two };\n",
        "kit/b.js": 'import {\n  ONE,\n  two as deux,\n} from "./a.js";\n'
                    "export function three() { return ONE + deux(); }\n",
        "w/main.js": 'import { three } from "../kit/b.js";\nimport { ONE } from "../kit/a.js";\n'
                     "export default { render: () => three() + ONE };\n",
    })
    out = inline_modules(tmp_path / "w" / "main.js")
    assert out.index("// ---- kit/a.js") < out.index("// ---- kit/b.js") < out.index(
        "// ---- w/main.js")
    assert out.count("// ---- kit/a.js") == 1  # imported twice, inlined once
    assert "const { ONE, two: deux } = __kit_a;" in out
    assert "return { two: hidden, ONE };" in out
    assert "export default { render: () => three() + ONE };" in out
    assert "import " not in out and "export const" not in out


@pytest.mark.parametrize(("files", "said"), [
    ({"w/main.js": 'import x from "../kit/a.js";\n', "kit/a.js": ""}, "cannot inline"),
    ({"w/main.js": 'import { x } from "../kit/a.js";\n', "kit/a.js": "export let x = 1;\n"},
     "cannot inline 'export let x"),
    ({"w/main.js": 'import { y } from "../kit/a.js";\n', "kit/a.js": "export const x = 1;\n"},
     "does not export it"),
    ({"w/main.js": 'import { x } from "../kit/a.js";\n',
      "kit/a.js": 'import { y } from "./b.js";\nexport const x = 1;\n',
      "kit/b.js": 'import { x } from "./a.js";\nexport const y = 2;\n'}, "import cycle"),
    ({"w/main.js": 'import { x } from "../kit/gone.js";\n'}, "no such module"),
    ({"w/main.js": 'const m = import("../kit/a.js");\n', "kit/a.js": ""}, "cannot inline"),
])
def test_inline_modules_refuses_what_it_cannot_inline(tmp_path, files, said):
    _write(tmp_path, files)
    with pytest.raises(ValueError, match=said):
        inline_modules(tmp_path / "w" / "main.js")


def test_the_widget_module_is_whole():
    """The shipped module: the kit inlined, no import left, the anywidget entry point."""
    esm = widget_esm()
    for kit in ("kit/dom.js", "kit/grid.js", "kit/player.js", "kit/colors.js"):
        assert f"// ---- {kit}" in esm
    assert "\nimport " not in esm and "export default { render };" in esm


# ---------------------------------------------------------------------------------------------
# widget_state

def test_state_of_a_loop_without_the_stride(learner):
    s = widget_state(learner["conv_forward"])
    assert (s["function"], s["status"], s["case"]) == ("conv_forward", "mistake", "gray_s2_p1")
    assert s["kind"] == "loop" and len(s["steps"]) == len(s["yours"]) == 24
    assert s["first"] == s["start"] == 2
    for row in s["steps"]:  # each exercise step lines up with the learner's at that cell
        t = s["yours"][row["yours"]]
        assert t["position"] == row["position"]
        h, w = row["position"][1:3]
        assert t["window"] == [[h, h + 3], [w, w + 3]]  # the learner's: no stride
        assert row["window"] == [[2 * h, 2 * h + 3], [2 * w, 2 * w + 3]]
        assert row["differs"] == (t["window"] != row["window"])
    first = s["steps"][2]
    assert first["lines"][-1].endswith("= 5 + 0.5 = 5.5") and first["value"] == 5.5
    assert s["yours"][first["yours"]]["value"] == 7.5
    assert np.asarray(s["grid"]["values"]).shape == (7, 9)  # a_prev_pad of the 5 x 7 image


def test_state_of_right_loops(learner):
    """core's loop twins (core/loops.py, the exercise's loops): every step lines up."""
    s = widget_state(conv_forward_loop, "conv_forward")
    # right numbers; its cache is core's (with more settings), which the checker says
    assert s["status"] == "contract" and s["first"] is None
    assert len(s["yours"]) == 24 and not any(r["differs"] for r in s["steps"])
    b = widget_state(functools.partial(pool_backward_loop, tie_rule="all"), "pool_backward")
    assert b["ok"] and b["backward"] and b["first"] is None and b["link"] is None
    assert all(r["grid"]["values"] for r in b["steps"])  # the running dA_prev per step
    assert all(b["yours"][r["yours"]]["window"] == r["window"] for r in b["steps"])
    # its running dA_prev replayed from its writes is the exercise's after every step
    assert not any(np.any(r["yours_grid"]["differs"]) for r in b["steps"])
    last = b["steps"][-1]
    assert np.array_equal(np.array(last["yours_grid"]["values"], dtype=float),
                          np.array(last["grid"]["values"]))
    z = widget_state(learner["zero_pad"])
    assert z["kind"] == "arrays" and z["ok"] and not np.any(z["differs"])


def test_state_of_a_windowless_mistake(learner):
    s = widget_state(learner["pad_everything"], "zero_pad")
    assert s["status"] == "mistake" and s["differs"] is None
    assert "shape" in s["note"] and s["yours"]["shape"] != s["right"]["shape"]


def test_a_hanging_function_is_not_run_again():
    """A loop that never ends is stopped by the check's time limit, and not traced after."""
    ns = load_file(str(FILES / "loops_forever.py"), False)[0]
    s = widget_state(ns["pool_forward"], timeout=0.5)
    assert s["status"] == "timeout" and s["yours"] == []
    assert s["trace_note"].startswith("Your function did not return within 0.5 s")
    assert all(r["yours"] is None and r["differs"] for r in s["steps"])


def test_show_takes_only_the_exercises_functions():
    with pytest.raises(ValueError, match="one of the exercise's functions"):
        widget_state(print)
    assert set(notebook.GRID) == set(notebook.LOOPED) and set(notebook.LOOPED) <= set(FUNCTIONS)


# ---------------------------------------------------------------------------------------------
# show()

def test_show_outside_jupyter_prints_a_summary(learner, capsys):
    assert show(learner["conv_forward"]) is None
    out = capsys.readouterr().out
    assert out.startswith("FAIL conv_forward: matches stride_missing")
    assert "right: rows 0:3, columns 2:5" in out and "yours: rows 0:3, columns 1:4" in out
    assert "/learn?fn=conv_forward&mistake=stride_missing" in out and "--open" in out


def test_show_in_jupyter_without_anywidget(learner, capsys, monkeypatch):
    monkeypatch.setattr(notebook, "in_jupyter", lambda: True)
    monkeypatch.setitem(sys.modules, "anywidget", None)  # `import anywidget` fails
    notebook._widget_class.cache_clear()
    try:
        assert show(learner["conv_forward"]) is None
    finally:
        notebook._widget_class.cache_clear()
    err = capsys.readouterr().err
    assert err == INSTALL + "\n" and "Traceback" not in err
    assert 'pip install "convstep[notebook]"' in INSTALL


def test_show_in_jupyter_returns_the_widget(learner, monkeypatch):
    monkeypatch.setattr(notebook, "in_jupyter", lambda: True)
    w = show(learner["conv_forward"])
    assert w.data["function"] == "conv_forward" and w._esm == widget_esm()


def test_the_dev_extra_installs_the_notebook_extra():
    """scripts/setup.sh --dev installs the dev extra (make test): it must hold the notebook
    extra's anywidget, pinned alike, for the widget's tests to run."""
    import tomllib

    extras = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(
        encoding="utf-8"))["project"]["optional-dependencies"]
    assert set(extras["notebook"]) <= set(extras["dev"])
