"""What the exercise says each function returns beyond the numbers the probes compare, and
NumPy's own pitfalls that a learner's line can fall into. Both are the checker's diagnosis
(the mistakes of core/mistakes.py are about the numbers).

The contract: conv_forward returns (Z, cache) with cache = (A_prev, W, b, hparameters), and
pool_forward (A, cache) with cache = (A_prev, hparameters); conv_backward and pool_backward
read those caches. A forward function that returns Z alone, or caches the padded A_prev,
computes the right numbers and still breaks the backward pass.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import numpy as np

from core.probes import OUTPUTS

# What each forward function's cache holds: its own arguments, in this order.
CACHES = {"conv_forward": ("A_prev", "W", "b", "hparameters"),
          "pool_forward": ("A_prev", "hparameters")}
READER = {"conv_forward": "conv_backward", "pool_forward": "pool_backward"}


def _what(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return "None" if value is None else f"a {type(value).__name__}"


def _same(value, given) -> bool:
    if value is given:
        return True
    if isinstance(given, np.ndarray):
        try:
            v = np.asarray(value)
        except Exception:  # a learner's object NumPy cannot read
            return False
        return v.shape == given.shape and bool(np.array_equal(v, given))
    return bool(value == given) if isinstance(given, dict) else False


def contract_gap(function: str, args: tuple, result) -> str | None:
    """What the return of `function` called on `args` leaves out of the exercise's contract
    (one sentence, 'returns Z alone; ...'), or None when it keeps it."""
    names = CACHES.get(function)
    if names is None:
        return None
    out = OUTPUTS[function][0]
    want = (f"the exercise returns ({out}, cache) with cache = ({', '.join(names)}), which "
            f"{READER[function]} reads")
    if not isinstance(result, tuple | list):
        return f"returns {out} alone; {want}: end with `return {out}, cache`"
    if len(result) != 2:
        return f"returns {_what(result)} values; {want}"
    cache = result[1]
    if not isinstance(cache, tuple | list) or len(cache) != len(names):
        return f"returns ({out}, {_what(cache)}) as the cache; {want}"
    for k, (name, value, given) in enumerate(zip(names, cache, args, strict=False)):
        if not _same(value, given):
            return (f"its cache[{k}] is {_what(value)}, not the {name} it was given "
                    f"({_what(given)}); {want}")
    return None


@dataclass(frozen=True)
class Pitfall:
    """A NumPy behaviour that breaks a line the course taught: its id, what happens, and the
    fix applied to the learner's own line."""

    id: str
    title: str
    explanation: str
    errors: tuple[str, ...]  # the start of the error text it raises
    code: re.Pattern  # what the learner's line holds
    fix: str  # code.sub's replacement

    def matches(self, error: str, line: str) -> bool:
        return error.startswith(self.errors) and bool(self.code.search(line or ""))

    def suggestion(self, line: str) -> str:
        return self.code.sub(self.fix, line)

    def wrapped(self, width: int = 92) -> list[str]:
        return textwrap.wrap(self.explanation, width)


PITFALLS = (
    Pitfall(
        id="float_of_array",
        title="float() of an array raises TypeError on NumPy 2",
        explanation="The course's hint `Z = Z + float(b)` was written for NumPy 1, which "
                    "turned a one-element array into a number (with a warning since 1.25). "
                    "NumPy 2 refuses: b has shape (1, 1, 1), and float() of an array with "
                    "dimensions raises TypeError. Take the one number out with b.item() (or "
                    "np.squeeze(b), or b[0, 0, 0]).",
        errors=("TypeError: only 0-dimensional arrays can be converted",
                "TypeError: only length-1 arrays can be converted",
                "TypeError: only size-1 arrays can be converted"),
        code=re.compile(r"\bfloat\(\s*([A-Za-z_][\w.]*(?:\[[^\]]*\])?)\s*\)"),
        fix=r"\1.item()",
    ),
)


def pitfall_of(error: str, line: str) -> Pitfall | None:
    """The pitfall that an error raised on the learner's `line` is, if any."""
    return next((p for p in PITFALLS if p.matches(error, line)), None)
