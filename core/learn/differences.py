"""Where two outcomes first differ: the first step of the loops, or the first cell.

    from core.learn.differences import first_step_difference, compare_outcomes
    first_step_difference("conv_forward", "gray_s2_p1", {"stride_missing"})
    # {"kind": "value", "step": 1, "position": [0, 0, 0, 1], "output": "Z", ...}

Why: a learner needs the first place their code goes wrong, not only that it does. The
looped functions' step generators (core/learn/exercise.py) are run side by side, the right
code and the code with bugs, and their running accumulators compared after every step (step
k is np.unravel_index(k, (m, n_H, n_W, n_C)), core/trace.py's order). A learner's final
output (checker, upload) gives the first differing cell, and for the backward functions the
first step that writes it.
"""

from __future__ import annotations

import math

import numpy as np

from ..probes import OUTPUTS, arguments, get_case
from .exercise import LOOPED, Exercise
from .outcomes import Outcome, close, error_text, exercise_outcome, right_outcome

ACCUMULATORS = {
    "conv_forward": ("Z",),
    "conv_backward": ("dA_prev_pad", "dW", "db"),
    "pool_forward": ("A",),
    "pool_backward": ("dA_prev",),
}


def loop_shape(function: str, case_name: str) -> tuple[int, int, int, int] | None:
    """(m, n_H, n_W, n_C) of a looped function's steps on a probe case (None if no loops):
    step k is np.unravel_index(k, shape), as in core/trace.py."""
    if function not in LOOPED:
        return None
    case = get_case(function, case_name)
    if function == "conv_backward":
        return tuple(int(n) for n in case.inputs["dZ"].shape)
    if function == "pool_backward":
        return tuple(int(n) for n in case.inputs["dA"].shape)
    return tuple(int(n) for n in right_outcome(function, case_name).arrays[OUTPUTS[function][0]]
                 .shape)


def _difference(kind: str, case_name: str, **fields) -> dict:
    """The `first_difference` dict: every key always present (None when it does not apply)."""
    out = {"kind": kind, "case": case_name, "basis": None, "output": None, "step": None,
           "position": None, "phase": None, "cell": None, "expected": None, "got": None,
           "expected_shape": None, "got_shape": None, "error": None, "total_steps": None}
    out.update(fields)
    return out


def _first_cell(expected: np.ndarray, got: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first cell (C order) where the arrays differ, or None."""
    bad = ~close(expected, got)
    if not bad.any():
        return None
    return tuple(int(x) for x in np.unravel_index(int(np.argmax(bad.reshape(-1))), bad.shape))


def _value(a: np.ndarray, cell) -> float:
    return float(np.asarray(a, dtype=np.float64)[cell])


def _step_fields(shape, k: int) -> dict:
    return {"step": int(k), "position": [int(x) for x in np.unravel_index(k, shape)],
            "total_steps": math.prod(shape)}


def first_step_difference(function: str, case_name: str, bugs) -> dict | None:
    """Run the right code and the code with `bugs` side by side on a probe case and return
    the first point where they part (None if they never do).

    Looped functions: after every step (i, h, w, c) their running accumulators (Z; A;
    dA_prev_pad, dW, db; dA_prev) are compared; the answer names the step (its index k in
    loop order, core/trace.py's), the accumulator, its first differing cell (C order) and
    both values (basis "running"). conv_backward's per-image crop is a phase of its own
    ("crop", at the image's last step). A bug that raises gives kind "error" at the step
    where it raised. Other functions: the first differing cell of the output ("output").
    """
    bugs = frozenset(bugs)
    if function not in LOOPED:
        return compare_outcomes(function, case_name, right_outcome(function, case_name),
                                exercise_outcome(function, case_name, bugs))["first_difference"]
    case = get_case(function, case_name)
    shape = loop_shape(function, case_name)
    names = ACCUMULATORS[function]
    right = Exercise().steps(function)(*arguments(case))
    wrong = Exercise(bugs).steps(function)(*arguments(case))
    k = -1
    with np.errstate(all="ignore"):
        while True:
            try:
                label, expected = next(right)
            except StopIteration:
                label = None
            k_now = k + 1 if label == "step" else max(k, 0)
            phase = label or "return"
            try:
                got_label, got = next(wrong)
            except StopIteration:
                if label is None:
                    return None  # both done, accumulators equal at every step
                return _difference("error", case_name, basis="running", phase=phase,
                                   error="the loops ended early",
                                   **_step_fields(shape, min(k_now, math.prod(shape) - 1)))
            except Exception as exc:
                return _difference("error", case_name, basis="running", phase=phase,
                                   error=error_text(exc),
                                   **_step_fields(shape, min(k_now, math.prod(shape) - 1)))
            if label is None:
                return None
            if label == "step":
                k += 1
            if got_label != label:
                return _difference("error", case_name, basis="running", phase=phase,
                                   error="the loops run a different number of steps",
                                   **_step_fields(shape, max(k, 0)))
            acc_names = ("dA_prev",) if label == "crop" else names
            for name, e, g in zip(acc_names, expected, got, strict=True):
                if e.shape != g.shape:
                    return _difference("shape", case_name, basis="running", phase=label,
                                       output=name, expected_shape=list(e.shape),
                                       got_shape=list(g.shape), **_step_fields(shape, max(k, 0)))
                cell = _first_cell(e, g)
                if cell is not None:
                    return _difference("value", case_name, basis="running", phase=label,
                                       output=name, cell=list(cell), expected=_value(e, cell),
                                       got=_value(g, cell), **_step_fields(shape, max(k, 0)))


def _regions(function: str, case_name: str, output: str):
    """For a learner's final output: yield (k, index expression) of what step k writes in
    `output`, in loop order (backward functions)."""
    case = get_case(function, case_name)
    shape = loop_shape(function, case_name)
    hp = case.inputs["hparameters"]
    stride = hp["stride"]
    if function == "conv_backward":
        f = case.inputs["W"].shape[0]
        pad = hp["pad"]
    else:
        f, pad = hp["f"], 0
    for k in range(math.prod(shape)):
        i, h, w, c = np.unravel_index(k, shape)
        if output in ("dW", "db"):
            yield k, (Ellipsis, c)
            continue
        vs, hs = h * stride - pad, w * stride - pad  # in unpadded coordinates
        rows = slice(max(vs, 0), max(vs + f, 0))
        cols = slice(max(hs, 0), max(hs + f, 0))
        yield k, ((i, rows, cols, slice(None)) if function == "conv_backward"
                  else (i, rows, cols, c))


def compare_outcomes(function: str, case_name: str, expected: Outcome, got: Outcome,
                     names=None) -> dict:
    """Compare a got outcome (a learner's, an upload's, a variant's) with the right one.

    Returns {"same": bool, "outputs": {name: {"expected_shape", "got_shape", "differs"
    (bool array of the shape, or None when the shapes differ), "count"}}, "first_difference":
    dict or None}. The first difference is read from the final outputs (basis "output"):
    conv_forward and pool_forward: the first differing cell in C order is the step of that
    index; conv_backward and pool_backward: the first step (loop order) that writes a cell
    where the outputs differ; other functions: no step. `names` limits the comparison.
    """
    if not expected.ok:
        raise ValueError(f"the right outcome of {function} on {case_name} is an error")
    names = tuple(names or expected.arrays)
    outputs = {}
    if not got.ok:
        return {"same": False, "outputs": {}, "first_difference": _difference(
            "error", case_name, basis="output", error=got.error)}
    first = None
    for name in names:
        e, g = expected.arrays[name], got.arrays[name]
        if e.shape != g.shape:
            outputs[name] = {"expected_shape": list(e.shape), "got_shape": list(g.shape),
                             "differs": None, "count": None}
            first = first or _difference("shape", case_name, basis="output", output=name,
                                         expected_shape=list(e.shape), got_shape=list(g.shape))
            continue
        differs = ~close(e, g)
        outputs[name] = {"expected_shape": list(e.shape), "got_shape": list(g.shape),
                         "differs": differs, "count": int(differs.sum())}
        if first is None and differs.any():
            first = _output_difference(function, case_name, name, e, g, differs)
    return {"same": first is None, "outputs": outputs, "first_difference": first}


def _output_difference(function, case_name, name, e, g, differs) -> dict:
    fields = {"basis": "output", "output": name}
    if function in ("conv_forward", "pool_forward"):
        cell = _first_cell(e, g)
        return _difference("value", case_name, cell=list(cell), expected=_value(e, cell),
                           got=_value(g, cell),
                           **_step_fields(e.shape, int(np.ravel_multi_index(cell, e.shape))),
                           phase="step", **fields)
    if function in ("conv_backward", "pool_backward"):
        shape = loop_shape(function, case_name)
        for k, where in _regions(function, case_name, name):
            region = differs[where]
            if region.any():
                local = np.unravel_index(int(np.argmax(region.reshape(-1))), region.shape)
                cell = _cell_in(where, local, differs.shape)
                return _difference("value", case_name, cell=list(cell),
                                   expected=_value(e, cell), got=_value(g, cell),
                                   phase="step", **_step_fields(shape, k), **fields)
        # differs only where no step writes (cannot happen for a real learner's loops)
    cell = _first_cell(e, g)
    return _difference("value", case_name, cell=list(cell), expected=_value(e, cell),
                       got=_value(g, cell), **fields)


def _cell_in(where, local, shape) -> tuple[int, ...]:
    """Full index of `local` (an index into differs[where]) in an array of `shape`."""
    full = []
    it = iter(local)
    where = where if isinstance(where, tuple) else (where,)
    if where and where[0] is Ellipsis:  # (..., c): the last axis fixed
        return (*(int(x) for x in local), int(where[1]))
    for w in where:
        if isinstance(w, slice):
            start = w.start or 0
            full.append(start + int(next(it)))
        else:
            full.append(int(w))
    full.extend(int(x) for x in it)
    assert len(full) == len(shape)
    return tuple(full)


