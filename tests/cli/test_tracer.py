"""The tracer (cli/tracer.py): the window a learner's loop read, measured from its array reads,
equals what the loop really read (each learner file logs its own reads in READS), whatever
its names or style; and the --json report carries yours_window beside right_window."""

from pathlib import Path

import numpy as np
import pytest

from cli.check import check_file
from cli.learner import load_file
from cli.tracer import in_padded, page_trace, trace_call, window_at
from core.probes import arguments, cases_of, get_case
from core.trace import conv_forward_trace

FILES = Path(__file__).parent / "learner_files"

STYLES = [  # (file, function): the exercise's names, names of its own, vectorised
    ("trace_exercise_names.py", "conv_forward"),
    ("trace_other_names.py", "conv_forward"),
    ("trace_other_names.py", "pool_forward"),
    ("trace_vectorised.py", "conv_forward"),
    ("size_swapped_own_names.py", "conv_forward"),  # windows past the edge, cut short
    ("size_swapped_own_names.py", "pool_forward"),  # every channel at once
    ("stride_columns_vectorised.py", "pool_forward"),
]


@pytest.mark.parametrize(("name", "function"), STYLES)
def test_traced_window_is_what_the_loop_read(name, function):
    path = str(FILES / name)
    ns, _ = load_file(path)
    for case in cases_of(function)[:3]:
        ns["READS"].clear()
        trace = trace_call(ns[function], function, case.name, path)
        assert not trace["truncated"]
        reads = list(ns["READS"])
        if trace["error"] is not None:  # a window cut too short to multiply by W raised:
            assert name == "size_swapped_own_names.py" and "broadcast" in trace["error"]
            reads = reads[:-1]  # that step wrote nothing (the exercise's code raises too)
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


def _page(name, function, case, position=(0, 0, 0, 0)):
    path = str(FILES / name)
    ns, _ = load_file(path)
    return page_trace(function, trace_call(ns[function], function, case, path), list(position))


def test_a_conv_steps_arithmetic_is_what_the_loop_read_beside_cores():
    page = _page("stride_missing.py", "conv_forward", "gray_s2_p1")
    case = get_case("conv_forward", "gray_s2_p1")
    right = conv_forward_trace(*arguments(case), limit=24).steps
    for step, rec in zip(page["steps"], right, strict=True):
        a = step["arithmetic"]
        assert a["right"]["value"] == pytest.approx(rec.z)
        assert a["right"]["terms"] == np.stack([rec.a_slice.ravel(), rec.weights.ravel()],
                                               1).tolist()
        # yours: the window the loop read (its a_slice, channel 0 of a gray image) and W[..., c]
        read = np.asarray(step["a_slice"]).ravel()
        assert [t[0] for t in a["yours"]["terms"]] == read.tolist()
        assert [t[1] for t in a["yours"]["terms"]] == case.inputs["W"][..., rec.c].ravel().tolist()
        assert a["yours"]["value"] == step["value"] and a["yours"]["adds_up"]
        assert a["yours"]["total"] + a["yours"]["bias"] == pytest.approx(step["value"])
        assert a["differs"] == [x != y for x, y in zip(a["yours"]["terms"],
                                                       a["right"]["terms"], strict=True)]
    assert any(any(s["arithmetic"]["differs"]) for s in page["steps"])


def test_a_bias_added_to_every_product_does_not_add_up():
    page = _page("bias_per_element.py", "conv_forward", "gray_s2_p1")
    a = page["steps"][0]["arithmetic"]
    assert a["differs"] == [False] * 9  # the same window and weights ...
    assert not a["yours"]["adds_up"] and a["right"]["adds_up"]  # ... but b on each product
    assert a["yours"]["value"] == pytest.approx(a["yours"]["total"] + 9 * a["yours"]["bias"])


def test_a_pool_steps_arithmetic_is_its_window_and_the_mean():
    page = _page("stride_missing.py", "pool_forward", "gray_f3_s2_average")
    step = next(s for s in page["steps"] if s["position"] == [0, 0, 1, 0])
    a = step["arithmetic"]
    assert (a["yours"]["op"], a["right"]["op"]) == ("mean", "mean")
    assert a["yours"]["value"] == pytest.approx(np.mean(a["yours"]["terms"]), rel=1e-5)
    assert a["right"]["value"] == pytest.approx(np.mean(a["right"]["terms"]), rel=1e-5)
    assert a["yours"]["terms"] == np.asarray(step["a_slice"]).ravel().tolist()
    assert any(a["differs"])


def test_backward_steps_and_the_trace_calls_fields_stay_as_they_were():
    page = _page("correct.py", "conv_backward", "gray_s2_p1")
    assert "arithmetic" not in page["steps"][0]  # only the forward steps carry it
    path = str(FILES / "correct.py")
    ns, _ = load_file(path)
    trace = trace_call(ns["conv_forward"], "conv_forward", "gray_s2_p1", path)
    assert set(trace) == {"function", "case", "error", "truncated", "events", "steps"}
    assert {"position", "cells", "value", "window", "source", "a_slice", "weights", "names",
            "line", "code", "window_code", "window_line"} <= set(trace["steps"][0])
    assert trace["steps"][0]["bias"] == 0.5  # the b[:, :, :, 0] it read


def test_a_bias_read_past_the_tracer_is_not_said_to_be_missing(tmp_path):
    # np.asarray(b) is a plain array: the tracer does not see that read, so the step's
    # arithmetic has no bias and does not claim the sum fails to add up
    text = (FILES / "correct.py").read_text().replace(
        "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
        "Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c]) + np.asarray(b).ravel()[c]")
    assert "np.asarray(b)" in text
    path = tmp_path / "learner.py"
    path.write_text(text)
    ns, _ = load_file(path)
    trace = trace_call(ns["conv_forward"], "conv_forward", "gray_s2_p1", str(path))
    a = page_trace("conv_forward", trace, [0, 0, 0, 0])["steps"][0]["arithmetic"]
    assert a["yours"]["bias"] is None and a["yours"]["adds_up"] is None
    assert a["yours"]["value"] == a["right"]["value"] and a["differs"] == [False] * 9
