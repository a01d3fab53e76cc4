"""The tracer (cli/tracer.py): the window a learner's loop read, measured from its array reads,
equals what the loop really read (each learner file logs its own reads in READS), whatever
its names or style; and the --json report carries yours_window beside right_window."""

from pathlib import Path

import pytest

from cli.check import check_file
from cli.learner import load_file
from cli.tracer import in_padded, trace_call, window_at
from core.probes import cases_of

FILES = Path(__file__).parent / "learner_files"

STYLES = [  # (file, function): the exercise's names, names of its own, vectorised
    ("trace_exercise_names.py", "conv_forward"),
    ("trace_other_names.py", "conv_forward"),
    ("trace_other_names.py", "pool_forward"),
    ("trace_vectorised.py", "conv_forward"),
]


@pytest.mark.parametrize(("name", "function"), STYLES)
def test_traced_window_is_what_the_loop_read(name, function):
    path = str(FILES / name)
    ns, _ = load_file(path)
    for case in cases_of(function)[:3]:
        ns["READS"].clear()
        trace = trace_call(ns[function], function, case.name, path)
        assert trace["error"] is None and not trace["truncated"]
        reads = list(ns["READS"])
        assert reads, "the file logged no reads"
        for position, read in reads:
            step = window_at(trace, position, backward=False)
            assert step is not None, (case.name, position)
            assert step["window"] == read, (case.name, position)
            assert step["position"] is None or step["position"][1:3] == list(position[1:3]) \
                or name == "trace_vectorised.py"


def test_loop_names_and_lines_are_the_learners():
    path = str(FILES / "trace_exercise_names.py")
    ns, _ = load_file(path)
    trace = trace_call(ns["conv_forward"], "conv_forward", "gray_s2_p1", path)
    step = window_at(trace, [0, 1, 2, 1], backward=False)
    assert {k: step["names"][k] for k in ("i", "h", "w", "c", "vert_start", "horiz_end")} == {
        "i": 0, "h": 1, "w": 2, "c": 1, "vert_start": 1, "horiz_end": 5}
    assert step["source"] == "A_prev_pad"
    assert step["window_code"].startswith("a_slice_prev = a_prev_pad[vert_start:vert_end")
    assert step["code"].startswith("Z[i, h, w, c] = conv_single_step(")
    assert len(trace["steps"]) == 24


def test_backward_steps_are_the_upstream_cells():
    path = str(FILES / "correct.py")
    ns, _ = load_file(path)
    trace = trace_call(ns["conv_backward"], "conv_backward", "gray_s2_p1", path)
    assert [s["position"] for s in trace["steps"][:3]] == [[0, 0, 0, 0], [0, 0, 0, 1],
                                                           [0, 0, 1, 0]]
    assert trace["steps"][2]["window"] == [[0, 3], [2, 5]]
    assert trace["steps"][2]["source"] == "dA_prev_pad"


def test_json_report_has_both_windows():
    report = check_file(FILES / "trace_other_names.py")
    for function, right in (("conv_forward", [[0, 3], [2, 5]]),
                            ("pool_forward", [[0, 3], [4, 7]])):
        first = report["functions"][function]["first_difference"]
        h, w = first["position"][1:3]
        f = 3
        assert first["right_window"] == right
        assert first["yours_window"] == [[h, h + f], [w, w + f]]  # no stride: what it read
        assert first["yours_code"].startswith(("patch = padded[", "block = A_prev["))


def test_unpadded_read_is_drawn_in_padded_coordinates():
    report = check_file(FILES / "unpadded_slice.py")
    first = report["functions"]["conv_forward"]["first_difference"]
    assert first["yours_source"] == "A_prev" and first["yours_read"] == [[0, 3], [0, 3]]
    assert first["yours_window"] == [[1, 4], [1, 4]]
    assert first["right_window"] == [[0, 3], [0, 3]]


def test_a_function_without_a_window_has_null_windows():
    report = check_file(FILES / "pad_all_axes.py")
    first = report["functions"]["zero_pad"]["first_difference"]
    assert first["yours_window"] is None and first["right_window"] is None


def test_in_padded_keeps_a_padded_read():
    step = {"window": [[0, 3], [2, 5]], "source_shape": [1, 7, 9, 1]}
    assert in_padded("conv_forward", "gray_s2_p1", step) == [[0, 3], [2, 5]]


def test_open_writes_the_trace_and_opens_the_page_on_it(tmp_path, monkeypatch):
    import base64
    import json
    import shutil

    from cli import check as check_module

    learner = tmp_path / "mine.py"
    shutil.copy(FILES / "trace_other_names.py", learner)
    opened = []
    monkeypatch.setattr(check_module.webbrowser, "open", opened.append)
    assert check_module.main([str(learner), "--open", "--base-url", "http://x:1"]) == 1
    written = json.loads((tmp_path / "convstep-trace.json").read_text())
    link, = opened
    page, fragment = link.split("#trace=")
    assert page.startswith("http://x:1/learn?fn=conv_forward&mistake=stride_missing")
    sent = json.loads(base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4)))
    assert sent == written
    assert written["function"] == "conv_forward" and written["case"] == "gray_s2_p1"
    assert len(written["steps"]) == 24  # one per output cell, not the hand padding's write
    step = next(s for s in written["steps"] if s["position"] == [0, 1, 2, 1])
    assert step["window"] == [[1, 4], [2, 5]] and step["source"] == "padded"
    assert step["code"] == "patch = padded[img, top:top + k, left:left + k, :]"
