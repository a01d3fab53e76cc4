"""Shared route helpers: limits checked before any work, and heavy work off the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import numpy as np
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import ApiError

T = TypeVar("T")


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
        raise ApiError(413, "too_many_elements",
                       f"{name} has {n} elements; the limit is max_array_elements = "
                       f"{settings.max_array_elements} (CONVSTEP_MAX_ARRAY_ELEMENTS).")


def check_conv_work(where: str, m: int, n_H: int, n_W: int, f: int, n_C_prev: int,
                    settings: Settings) -> None:
    """Refuse a convolution whose window matrix (m*n_H*n_W, f*f*n_C_prev) is too big."""
    n = m * n_H * n_W * f * f * n_C_prev
    if n > settings.max_work_elements:
        raise ApiError(413, "too_much_work",
                       f"{where}: this convolution copies m*n_H*n_W*f*f*n_C_prev = {m}*{n_H}*"
                       f"{n_W}*{f}*{f}*{n_C_prev} = {n} numbers out of the input; the limit is "
                       f"max_work_elements = {settings.max_work_elements} "
                       "(CONVSTEP_MAX_WORK_ELEMENTS). Use a smaller image or f.")


def check_pool_work(where: str, m: int, n_H: int, n_W: int, n_C: int, f: int,
                    settings: Settings) -> None:
    """Refuse a pooling whose f*f window offsets each touch every output (m*n_H*n_W*n_C)."""
    n = m * n_H * n_W * n_C * f * f
    if n > settings.max_work_elements:
        raise ApiError(413, "too_much_work",
                       f"{where}: this pooling reads m*n_H*n_W*n_C*f*f = {m}*{n_H}*{n_W}*{n_C}"
                       f"*{f}*{f} = {n} numbers; the limit is max_work_elements = "
                       f"{settings.max_work_elements} (CONVSTEP_MAX_WORK_ELEMENTS). Use a "
                       "smaller pooling window.")


def page_limit(name: str, limit: int, given: bool, settings: Settings) -> int:
    """The steps `limit` to use: the client's (422 over max_steps_per_page), or when the
    client gave none, the default capped at max_steps_per_page."""
    if not given:
        return min(limit, settings.max_steps_per_page)
    if limit > settings.max_steps_per_page:
        raise ApiError(422, "over_limit",
                       f"{name} is {limit}; the limit is max_steps_per_page = "
                       f"{settings.max_steps_per_page} (CONVSTEP_MAX_STEPS_PER_PAGE).")
    return limit


async def heavy_slot(request: Request) -> AsyncIterator[None]:
    """A dependency that holds a heavy slot while the route runs."""
    async with request.app.state.limiter.slot():
        yield


async def heavy(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` in the thread pool once a heavy slot is free (503 if none comes soon)."""
    async with request.app.state.limiter.slot():
        return await run_in_threadpool(fn, *args)
