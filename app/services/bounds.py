"""The server's limits checked before any work: array sizes, window reads, page lengths.

Each check raises ApiError (413 over a size or work limit, 422 over a field's server limit)
whose message names the field, the numbers, the limit and its CONVSTEP_* variable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.config import Settings
from app.errors import ApiError
from app.schemas.image import ImageSettings
from core import conv_geometry, pool_geometry


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


def page_limit(name: str, limit: int, given: bool, settings: Settings) -> int:
    """The steps `limit` to use: the client's (422 over max_steps_per_page), or when the
    client gave none, the default capped at max_steps_per_page."""
    if not given:
        return min(limit, settings.max_steps_per_page)
    if limit > settings.max_steps_per_page:
        raise over_limit(f"{name} is {limit}", settings, "max_steps_per_page")
    return limit


def check_settings(s: ImageSettings, limits: Settings) -> ImageSettings:
    """The settings within the server's limits: a default size is capped at max_size; a
    size or a number of filters the client chose beyond a limit is a 422."""
    if "size" not in s.model_fields_set and s.size > limits.max_size:
        s = s.model_copy(update={"size": limits.max_size})
    if s.size > limits.max_size:
        raise over_limit(f"settings.size is {s.size}", limits, "max_size")
    if len(s.filters) > limits.max_filters:
        raise over_limit(f"settings.filters has {len(s.filters)} filters", limits,
                         "max_filters")
    return s


def check_layer_work(image: np.ndarray, s: ImageSettings, limits: Settings) -> None:
    """Geometry (core's message on failure) and the layer's window reads, before any work."""
    H, W, C = image.shape
    g = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
    check_conv_work("settings", 1, g.n_H, g.n_W, s.f, C, limits)
    if s.pool is not None:
        p = pool_geometry(g.n_H, g.n_W, s.pool.f, stride=s.pool.stride)
        check_pool_work("settings.pool", 1, p.n_H, p.n_W, len(s.filters), p.f, limits)
