"""The work behind the Learn routes: core's mistakes and probe cases made JSON-ready, and a
learner's uploaded .npy output diagnosed as the checker does (core/mistakes.py decides).

The server never runs learner code: an upload is an array, read with
np.load(allow_pickle=False) after its .npy header has been checked (version, dtype, shape,
byte count) so that a header cannot ask for more memory than the upload holds.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np

from app.platform.errors import ApiError
from app.platform.multipart import FileLimit
from app.platform.npy import shape_problem
from cli.links import flavour_of, page_link
from cli.tracer import page_trace, trace_call
from core.mistakes import (
    LOOPED,
    MISTAKES,
    Outcome,
    compare_outcomes,
    default_case,
    diagnose,
    first_step_difference,
    loop_shape,
    mistakes_of,
    right_outcome,
    showing_cases,
    variant,
    variant_outcome,
    variants_of,
)
from core.probes import FUNCTIONS, OUTPUTS, ProbeCase, cases_of, get_case

# The largest right output of any probe case is 960 float64 values (7.7 KB); an upload of a
# probe output is far below this (the diagnosis route reads at most this file: read_upload).
NPY_MAX_BYTES = 64 * 1024
NPY_LIMIT = FileLimit(NPY_MAX_BYTES, f"{NPY_MAX_BYTES} bytes, the most a probe output's .npy "
                      "needs (the largest is 7.7 KB)")


def _array(a) -> dict:
    a = np.asarray(a)
    values = a.tolist() if a.dtype == bool else a.astype(np.float64).tolist()
    return {"shape": list(a.shape), "values": values}


def _input(value):
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _outcome(outcome: Outcome) -> dict:
    if not outcome.ok:
        return {"outputs": None, "error": outcome.error}
    return {"outputs": {k: _array(v) for k, v in outcome.arrays.items()}, "error": None}


def _variant(v) -> dict:
    return {**{k: val for k, val in v.to_dict().items() if k != "mistake"},
            "default_case": default_case(v.function, v.mistake, v.flavour),
            "showing_cases": list(showing_cases(v.function, v.mistake, v.flavour))}


def mistake_list() -> dict:
    """Every mistake with its variants, and each function's outputs and probe cases."""
    return {
        "functions": list(FUNCTIONS),
        "outputs": {f: list(OUTPUTS[f]) for f in FUNCTIONS},
        "cases": {f: [c.name for c in cases_of(f)] for f in FUNCTIONS},
        "mistakes": [{**{k: v for k, v in m.to_dict().items() if k != "variants"},
                      "variants": [_variant(v) for v in m.variants]}
                     for m in MISTAKES.values()],
    }


def _case(case: ProbeCase) -> dict:
    shape = loop_shape(case.function, case.name)
    shows = [m.id for m in mistakes_of(case.function)
             if any(case.name in showing_cases(case.function, m.id, v.flavour)
                    for v in m.variants_of(case.function))]
    return {"function": case.function, "name": case.name, "title": case.title,
            "inputs": {k: _input(v) for k, v in case.inputs.items()},
            "outputs": _outcome(right_outcome(case.function, case.name))["outputs"],
            "loop_shape": list(shape) if shape else None,
            "total_steps": math.prod(shape) if shape else None, "shows": shows}


def cases(function: str) -> dict:
    return {"function": function, "cases": [_case(c) for c in cases_of(function)]}


def _probe(function: str, case_name: str) -> ProbeCase:
    try:
        return get_case(function, case_name)
    except KeyError as exc:
        raise ApiError(422, "unknown_case", exc.args[0]) from None


def mistake_run(function: str, mistake: str, case_name: str | None,
                flavour: str | None) -> dict:
    """A mistake's variant on a probe case beside the right code: both outcomes, the
    differing cells, and the first step where the loops part."""
    try:
        v = variant(function, mistake, flavour)
    except KeyError as exc:
        code = "unknown_flavour" if flavour and mistake in MISTAKES and MISTAKES[
            mistake].variants_of(function) else "mistake_not_in_function"
        raise ApiError(422, code, exc.args[0]) from None
    case = _probe(function, case_name or default_case(function, mistake, v.flavour))
    right, buggy = right_outcome(function, case.name), variant_outcome(v, case.name)
    compared = compare_outcomes(function, case.name, right, buggy)
    differs = {name: (None if d["differs"] is None else _array(d["differs"]))
               for name, d in compared["outputs"].items()}
    if not buggy.ok:
        differs = dict.fromkeys(OUTPUTS[function])
    first = (None if compared["same"]
             else first_step_difference(function, case.name, {v.flavour}))
    position = (first or {}).get("position") or [0, 0, 0, 0]
    return {"function": function, "mistake": mistake, "title": MISTAKES[mistake].title,
            "variant": _variant(v), "case": _case(case), "right": _outcome(right),
            "buggy": _outcome(buggy), "differs": differs, "first_difference": first,
            "buggy_steps": _buggy_steps(function, mistake, v.flavour, case.name,
                                        int(position[0]))}


# The variant's first reads and writes only: the first image of the largest probe case (the
# exercise's 10 images) is about 1,400 of its 14,000; the whole case took 6 s on one core.
TRACE_EVENTS = 1500


@lru_cache(maxsize=128)
def _buggy_steps(function: str, mistake: str, flavour: str, case_name: str,
                 image: int) -> dict | None:
    """The variant's own steps on a probe case (the project's code, not a learner's: the
    checker's tracer run here on core's variant), so that mistake mode draws the buggy
    window and value beside the right ones. Cached: a few hundred probe runs at most."""
    if function not in LOOPED:
        return None
    with np.errstate(all="ignore"):
        trace = trace_call(variant(function, mistake, flavour), function, case_name, None,
                           max_events=TRACE_EVENTS)
    return page_trace(function, trace, [image, 0, 0, 0])


def read_npy(data: bytes, what: str, expected: str = "") -> np.ndarray:
    """A .npy upload (at most NPY_MAX_BYTES: the route's read_upload) as an array, refusing
    (4xx) what np.load should never be asked to read: not .npy, a pickled (object) dtype, a
    non-numeric dtype, a header whose shape NumPy cannot build (app/platform/npy.py:
    negative or boolean dimensions, 0 times a huge one) or does not match the bytes that
    follow. `expected` ends each message (the shape and dtype the right output has)."""
    if not data:
        raise ApiError(422, "empty_file", f"The upload for {what} is empty: send the .npy file "
                       "that np.save wrote." + expected)
    fp = io.BytesIO(data)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        reader = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(
            version)
        if reader is None:
            raise ValueError(f"npy format version {version[0]}.{version[1]} is not read here "
                             "(np.save writes 1.0)")
        shape, _fortran, dtype = reader(fp)
    except ValueError as exc:
        raise ApiError(422, "not_npy", f"The upload for {what} is not a .npy file ({exc}); "
                       "save your array with np.save('out.npy', array)." + expected) from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise ApiError(422, "wrong_dtype", f"The upload for {what} has dtype {dtype}; send "
                       "numbers (float64 as the exercise computes, or int/bool)." + expected)
    if (problem := shape_problem(shape, dtype)) is not None:
        raise ApiError(422, "not_npy", f"The upload for {what} says {problem}: not an array "
                       "np.save could have written." + expected)
    expected_bytes = math.prod(shape) * dtype.itemsize
    if len(data) - fp.tell() != expected_bytes:
        raise ApiError(422, "not_npy", f"The upload for {what} says shape {tuple(shape)} of "
                       f"{dtype} ({expected_bytes} bytes) but holds {len(data) - fp.tell()} "
                       "bytes of data: a truncated or altered file." + expected)
    return np.load(io.BytesIO(data), allow_pickle=False)


def diagnose_upload(function: str, case_name: str, output: str | None, data: bytes) -> dict:
    """An uploaded output of `function` on a probe case, diagnosed like the checker: is it
    right, which mistakes give exactly it, where it first differs."""
    case = _probe(function, case_name)
    names = OUTPUTS[function]
    output = output or names[0]
    if output not in names:
        raise ApiError(422, "unknown_output", f"{function} has no output {output!r}; its "
                       f"outputs are {', '.join(names)}.")
    right = right_outcome(function, case.name)
    expected = right.arrays[output]
    what = f"{output} of {function} on case {case.name}"
    wanted = (f" Expected: {output} as numbers (float64, as the exercise computes) of shape "
              f"{tuple(expected.shape)}.")
    got = read_npy(data, what, wanted)
    if got.dtype.kind == "f" and not np.all(np.isfinite(got)):
        raise ApiError(422, "not_finite", f"The upload for {what} holds NaN or infinity; the "
                       "right output is finite everywhere." + wanted)
    known = {tuple(expected.shape)} | {
        tuple(o.arrays[output].shape) for v in variants_of(function)
        if (o := variant_outcome(v, case.name)).ok}
    if tuple(got.shape) not in known:
        raise ApiError(422, "wrong_shape", f"The upload for {what} has shape {got.shape}; "
                       f"expected {tuple(expected.shape)} (save the whole {output}, e.g. "
                       f"np.save('{output}.npy', {output})).")
    learner = Outcome(arrays={output: got})
    d = diagnose(function, {case.name: learner}, names=(output,))
    compared = compare_outcomes(function, case.name, right, learner, names=(output,))
    out = compared["outputs"][output]
    first = d["first_difference"]
    mistake = d["mistakes"][0] if d["mistakes"] else None
    step = first["step"] if first else None
    return {"function": function, "case": case.name, "output": output, "ok": d["ok"],
            "mistakes": d["mistakes"], "variants": d["variants"],
            "expected_shape": list(expected.shape), "got_shape": list(got.shape),
            "expected": _array(expected), "got": _array(got),
            "differs": None if out["differs"] is None else _array(out["differs"]),
            "count": out["count"], "first_difference": first,
            "link": page_link("", function, mistake, step, case.name,
                              flavour_of(function, mistake, d["variants"]))}
