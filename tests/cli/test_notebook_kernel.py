"""check(globals()) and show(conv_forward) in a real Jupyter kernel (issue 17 §2).

A notebook built here (nbformat) defines a learner's conv_forward that forgets the stride,
then runs `check(globals())` and `show(conv_forward)`; nbclient executes it in an ipykernel
started from this venv's python (a kernelspec written under tmp_path, found through
JUPYTER_PATH; the kernel's runtime and IPython folders are under tmp_path too, so nothing is
left behind). The outputs must be: the report as HTML and no echoed dict, then a widget view
(application/vnd.jupyter.widget-view+json) whose model state, as nbclient stores it in the
notebook, carries both traces: the exercise's steps and the learner's.

Slow: a kernel start and the widget's import take a few seconds.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

# a learner's file of the checker's tests: conv_forward without the stride
STRIDE_MISSING = Path(__file__).parent / "learner_files" / "stride_missing.py"


def learner_cell() -> str:
    """The file's zero_pad, conv_single_step and conv_forward, as a learner's notebook cell."""
    text = STRIDE_MISSING.read_text(encoding="utf-8")
    wanted = ("zero_pad", "conv_single_step", "conv_forward")
    defs = [ast.get_source_segment(text, node) for node in ast.parse(text).body
            if isinstance(node, ast.FunctionDef) and node.name in wanted]
    assert len(defs) == len(wanted)
    return "import numpy as np\n\n\n" + "\n\n\n".join(defs)


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec for this venv's python under tmp_path, and Jupyter's and IPython's
    folders there too."""
    spec = tmp_path / "jupyter" / "kernels" / "convstep-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "convstep test", "language": "python",
        "env": {"PYTHONPATH": str(ROOT), "IPYTHONDIR": str(tmp_path / "ipython")},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return "convstep-test"


def test_check_and_show_in_a_kernel(tmp_path, kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(learner_cell()),
                nbformat.v4.new_code_cell("from core.check import check, show\n"
                                          "check(globals())"),
                nbformat.v4.new_code_cell("show(conv_forward)")]
    path = tmp_path / "learner.ipynb"
    nbformat.write(nb, path)
    client = NotebookClient(nbformat.read(path, as_version=4), timeout=120,
                            kernel_name=kernel_env, resources={"metadata": {"path": str(tmp_path)}})
    done = client.execute()
    nbformat.write(done, path)  # the run notebook, as a learner would save it

    report, widget = done.cells[1].outputs, done.cells[2].outputs
    assert [o["output_type"] for o in report] == ["display_data"]  # no echoed dict
    html = report[0]["data"]["text/html"]
    assert "conv_forward" in html and "stride_missing" in html and "FAIL" in html
    assert "text/plain" not in report[0]["data"] or "{" not in report[0]["data"]["text/plain"]
    assert not any(o["output_type"] == "error" for c in done.cells for o in c.outputs)

    (view,) = [o for o in widget if "application/vnd.jupyter.widget-view+json" in
               o.get("data", {})]
    model_id = view["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    states = done.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    state = states[model_id]["state"]
    data = state["data"]
    assert data["function"] == "conv_forward" and data["status"] == "mistake"
    assert len(data["steps"]) == 24 and len(data["yours"]) == 24  # both traces
    first = data["steps"][data["first"]]
    assert first["window"] == [[0, 3], [2, 5]]
    assert data["yours"][first["yours"]]["window"] == [[0, 3], [1, 4]]
    assert data["yours"][first["yours"]]["code"] == (
        "a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]")
    # the front end travels with the model: one module, no import of a file left in it
    assert "export default { render }" in state["_esm"]
    assert 'from "../' not in state["_esm"] and 'from "./' not in state["_esm"]
