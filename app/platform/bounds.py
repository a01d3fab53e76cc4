"""The server's limits checked before any work: array sizes, window reads, page lengths,
and what a request costs in bytes (the Explore layer's own checks and cost: the LayerPlan of
app/explore/services/plan.py).

Each check raises ApiError (413 over a size or work limit, 422 over a field's server limit)
whose message names the field, the numbers, the limit and its CONVSTEP_* variable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.platform.config import Settings
from app.platform.errors import ApiError


def _limit_words(settings: Settings, field: str) -> str:
    """`the limit is max_size = 512 (CONVSTEP_MAX_SIZE)`."""
    return f"the limit is {field} = {getattr(settings, field)} (CONVSTEP_{field.upper()})"


def over_limit(what: str, settings: Settings, field: str) -> ApiError:
    """422 over_limit: `what` (e.g. "settings.size is 600") is over the setting `field`."""
    return ApiError(422, "over_limit", f"{what}; {_limit_words(settings, field)}.")


def to_array(name: str, nested: Any, settings: Settings) -> np.ndarray:
    """A nested JSON list as a float64 array; 422 when ragged, 413 when too big."""
    try:
        a = np.asarray(nested, dtype=np.float64)
    except ValueError:
        raise ApiError(422, "ragged_array",
                       f"{name}: every row must have the same length (a nested list of "
                       f"numbers with one shape), but the lists differ in length.") from None
    check_elements(name, a.size, settings)
    return a


def check_elements(name: str, n: int, settings: Settings) -> None:
    if n > settings.max_array_elements:
        raise ApiError(413, "too_many_elements", f"{name} has {n} elements; "
                       f"{_limit_words(settings, 'max_array_elements')}.")


def _check_work(n: int, reads: str, advice: str, settings: Settings) -> None:
    """413 too_much_work when `n` window reads (spelled out in `reads`) are over the limit."""
    if n > settings.max_work_elements:
        raise ApiError(413, "too_much_work", f"{reads}; "
                       f"{_limit_words(settings, 'max_work_elements')}. {advice}")


def check_conv_work(where: str, m: int, n_H: int, n_W: int, f: int, n_C_prev: int,
                    settings: Settings) -> None:
    """Refuse a convolution whose window matrix (m*n_H*n_W, f*f*n_C_prev) is too big."""
    n = m * n_H * n_W * f * f * n_C_prev
    _check_work(n, f"{where}: this convolution copies m*n_H*n_W*f*f*n_C_prev = {m}*{n_H}*"
                   f"{n_W}*{f}*{f}*{n_C_prev} = {n} numbers out of the input",
                "Use a smaller image or f.", settings)


def check_pool_work(where: str, m: int, n_H: int, n_W: int, n_C: int, f: int,
                    settings: Settings) -> None:
    """Refuse a pooling whose f*f window offsets each touch every output (m*n_H*n_W*n_C)."""
    n = m * n_H * n_W * n_C * f * f
    _check_work(n, f"{where}: this pooling reads m*n_H*n_W*n_C*f*f = {m}*{n_H}*{n_W}*{n_C}"
                   f"*{f}*{f} = {n} numbers", "Use a smaller pooling window.", settings)


def page_limit(name: str, limit: int, given: bool, settings: Settings,
               per_step: int = 1) -> int:
    """The steps `limit` to use: the client's (422 over max_steps_per_page, or over
    max_page_numbers when its steps carry `per_step` numbers each), or when the client
    gave none, the default capped by both."""
    most = max(1, settings.max_page_numbers // max(1, per_step))
    if not given:
        return max(1, min(limit, settings.max_steps_per_page, most))
    if limit > settings.max_steps_per_page:
        raise over_limit(f"{name} is {limit}", settings, "max_steps_per_page")
    if limit > most:
        raise over_limit(f"{name} is {limit} steps of {per_step} numbers each = "
                         f"{limit * per_step} numbers (at most {most} steps fit)", settings,
                         "max_page_numbers")
    return limit


# --- what a request costs: an upper bound of the bytes it holds at its peak ------------------
# (app/platform/heavy.py admits it within memory_budget_bytes; tests/hardening measures it)

# A float64 of an answer: the Python float, its slot in a list (tolist) and its JSON text.
ANSWER_BYTES_PER_NUMBER = 96
# Python objects of a step record besides its numbers (the dict, its keys, small ints).
STEP_RECORD_BYTES = 2048
FIXED_BYTES = 256 * 1024  # one request's small objects


def step_numbers(stage: str, f: int, n_C_prev: int) -> int:
    """Numbers one step record carries: a convolution's three f x f x n_C_prev windows
    (a_slice, weights, products / da_add, dw_add), a pooling's three f x f ones."""
    return 3 * f * f * (n_C_prev if stage.startswith("conv") else 1)


def page_cost(limit: int, per_step: int) -> int:
    """Bytes of a page of `limit` step records of `per_step` numbers, as dicts and JSON."""
    return limit * (per_step * ANSWER_BYTES_PER_NUMBER + STEP_RECORD_BYTES)


def nested_list_bytes(shape: tuple[int, ...]) -> int:
    """Bytes of a nested Python list of floats of `shape` (a parsed body, a tolist answer):
    every list (64 bytes plus 8 per item, rounded up) and every float (24 bytes)."""
    lists, total, n = 1, 0, 1
    for d in shape:
        total += lists * (72 + 9 * d)
        lists *= d
        n *= d
    return total + 24 * n


def shape_of(nested: Any, depth: int) -> tuple[int, ...]:
    """The shape of a nested list read along its first items (a ragged one is refused
    later, by to_array, before anything of its size is allocated)."""
    shape = []
    x = nested
    for _ in range(depth):
        if not isinstance(x, list) or not x:
            break
        shape.append(len(x))
        x = x[0]
    return tuple(shape)


def answer_cost(*shapes: tuple[int, ...]) -> int:
    """Bytes of the answer arrays: float64 results, their lists and their JSON text."""
    return sum(8 * _prod(sh) + nested_list_bytes(sh) + 32 * _prod(sh) for sh in shapes)


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def inputs_cost(*shapes: tuple[int, ...]) -> int:
    """Bytes of the inputs as float64 arrays (to_array)."""
    return sum(8 * _prod(sh) for sh in shapes) + FIXED_BYTES
