"""What a function gave on a probe case, and when two such outcomes count as equal.

    from core.learn.outcomes import right_outcome, exercise_outcome, outputs_agree
    outputs_agree(right_outcome("conv_forward", "gray_s2_p1"),
                  exercise_outcome("conv_forward", "gray_s2_p1", frozenset({"stride_missing"})))

Why apart: the checker (a learner's function run in a child process), an upload (one array)
and a variant (the exercise's code with a bug) all end as an `Outcome` (outputs by name, or
the error raised), and one rule compares them. The right outcome is core's (the fast
functions; pool_backward with the exercise's tie rule "all": x == np.max(x)).

Comparison rules (the exercise's): outputs are equal when np.isclose holds cell by cell
(rtol 1e-5, atol 1e-6 times the largest magnitude: float32 rounding passes, every mistake is
far outside); masks compare as 0/1; two errors agree when their types do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial

import numpy as np

from .. import conv, padding, pool
from ..probes import OUTPUTS, ProbeCase, arguments, get_case
from .exercise import Exercise
from .variants import Variant


@dataclass(frozen=True)
class Outcome:
    """Outputs by OUTPUTS name (arrays; a scalar is a 0-d array), or the error raised."""

    arrays: dict[str, np.ndarray] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def error_text(exc: BaseException) -> str:
    """'ValueError: could not broadcast ...' (one line, at most 300 characters)."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= 300 else text[:297] + "..."


def outcome_of(function: str, result) -> Outcome:
    """A seed function's return value as an Outcome (or an error naming what was expected).

    conv_forward and pool_forward return (output, cache): the output is taken (a bare array
    is accepted too); conv_backward returns (dA_prev, dW, db).
    """
    names = OUTPUTS[function]
    if function in ("conv_forward", "pool_forward") and isinstance(result, tuple | list):
        if not result:
            return Outcome(error=f"returned an empty {type(result).__name__}; expected "
                                 f"({names[0]}, cache)")
        result = result[0]
    if len(names) > 1:
        if not isinstance(result, tuple | list) or len(result) != len(names):
            return Outcome(error=f"returned {_describe(result)}; expected a tuple "
                                 f"({', '.join(names)})")
        values = list(result)
    else:
        values = [result]
    arrays = {}
    for name, value in zip(names, values, strict=True):
        if value is None:
            return Outcome(error=f"returned None for {name} (a missing return?)")
        try:
            array = np.asarray(value)
        except Exception as exc:  # a learner's object that NumPy cannot read
            return Outcome(error=f"{name} is not an array: {error_text(exc)}")
        if array.dtype.kind not in "biuf":
            return Outcome(error=f"{name} is not a numeric array (dtype {array.dtype})")
        arrays[name] = array
    return Outcome(arrays=arrays)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} values"
    return f"a {type(value).__name__}"


# core's function for each of the exercise's eight (pool_backward with the exercise's tie
# rule "all": create_mask_from_window's x == np.max(x))
_CORE_FUNCTIONS: dict[str, Callable] = {
    "zero_pad": padding.zero_pad,
    "conv_single_step": conv.conv_single_step,
    "conv_forward": conv.conv_forward,
    "conv_backward": conv.conv_backward,
    "pool_forward": pool.pool_forward,
    "create_mask_from_window": pool.create_mask_from_window,
    "distribute_value": pool.distribute_value,
    "pool_backward": partial(pool.pool_backward, tie_rule="all"),
}


def right_result(case: ProbeCase):
    """core's answer on a probe case (pool_backward with the exercise's tie rule "all")."""
    return _CORE_FUNCTIONS[case.function](*arguments(case))


@cache
def right_outcome(function: str, case_name: str) -> Outcome:
    """The right outputs of a probe case (cached; the arrays are read-only)."""
    return _frozen(outcome_of(function, right_result(get_case(function, case_name))))


@cache
def exercise_outcome(function: str, case_name: str, bugs: frozenset = frozenset()) -> Outcome:
    """What the exercise's code with `bugs` gives on a probe case (cached, read-only)."""
    return _run_outcome(Exercise(bugs), function, case_name)


@cache
def edits_outcome(function: str, case_name: str, edits: tuple) -> Outcome:
    """What the exercise's code with these edits of named lines gives on a probe case (a
    part of a variant: some of its edits; cached, read-only)."""
    return _run_outcome(Exercise(edits=edits), function, case_name)


def _run_outcome(exercise: Exercise, function: str, case_name: str) -> Outcome:
    case = get_case(function, case_name)
    with np.errstate(all="ignore"):
        try:
            result = exercise.function(function)(*arguments(case))
        except Exception as exc:  # the bug's own failure is its outcome
            return Outcome(error=error_text(exc))
    return _frozen(outcome_of(function, result))


def variant_outcome(v: Variant, case_name: str) -> Outcome:
    return exercise_outcome(v.function, case_name, frozenset({v.flavour}))


def _frozen(outcome: Outcome) -> Outcome:
    if outcome.arrays is not None:
        for a in outcome.arrays.values():
            a.setflags(write=False)
    return outcome


def close(expected, got) -> np.ndarray:
    """Cell-by-cell equality under the exercise's tolerance (masks compare as 0/1).

    rtol 1e-5 and atol 1e-6 times the largest magnitude of the expected array (at least 1),
    so a float32 computation passes; NaN is never equal. Arrays of the same shape only.
    """
    e = np.asarray(expected, dtype=np.float64)
    g = np.asarray(got, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    return np.isclose(g, e, rtol=1e-5, atol=1e-6 * scale)


def outputs_agree(expected: Outcome, got: Outcome, names=None) -> bool:
    """Same errors (by type) or the same outputs (shape and values); `names` limits the
    comparison to some outputs (an upload brings one)."""
    if not expected.ok or not got.ok:
        if expected.ok or got.ok:
            return False
        return expected.error.split(":")[0] == got.error.split(":")[0]
    for name in names or expected.arrays:
        e, g = expected.arrays[name], got.arrays[name]
        if e.shape != g.shape or not bool(np.all(close(e, g))):
            return False
    return True


