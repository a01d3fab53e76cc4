"""POST /api/geometry's work: would /api/image accept these settings on this image, and
if not, why (the 4xx it would answer) and what would fit (core.geometry.fit_limits).

The page asks this before /api/image, so a setting that does not fit is never sent (a
browser logs every 4xx answer as a console error); the numbers and the advice are core's.
"""

from __future__ import annotations

import numpy as np
from pydantic import ValidationError

from app.explore.schemas.geometry import GeometryCheckIn, GeometryCheckOut, LimitOut
from app.explore.schemas.image import ImageSettings
from app.explore.services.bounds import check_layer_work, check_settings
from app.platform.config import Settings
from app.platform.errors import ApiError
from app.platform.imaging import working_size
from app.platform.samples import sample_info
from core.geometry import (
    GeometryError,
    Limit,
    conv_geometry,
    fit_limits,
    pad_limit_check,
    pool_geometry,
)

PAGE_NAMES = {"pool_f": "pool f"}


def _refusal(status: int, code: str, message: str, advice: list[LimitOut] | None = None,
             shape: tuple[int, int] | None = None) -> GeometryCheckOut:
    return GeometryCheckOut(fits=False, message=message, status=status, code=code,
                            advice=advice or [], n_H_prev=shape[0] if shape else None,
                            n_W_prev=shape[1] if shape else None)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"settings.{loc}: {msg}" if loc else f"settings: {msg}")
    return " ".join(parts)


def _working_shape(body: GeometryCheckIn, s: ImageSettings) -> tuple[tuple[int, int] | None,
                                                                     tuple[int, int] | None]:
    """((n_H_prev, n_W_prev), (width, height) of the source) as well as known."""
    if body.source is not None:
        w, h = body.source
        ww, hh = working_size(w, h, s.size)
        return (hh, ww), (w, h)
    if body.shape is not None:
        return (body.shape[0], body.shape[1]), (body.shape[1], body.shape[0])
    if s.sample is not None:
        info = sample_info(s.sample)
        ww, hh = working_size(info["width"], info["height"], s.size)
        return (hh, ww), (info["width"], info["height"])
    return None, None


def _size_limit(lim: Limit, source: tuple[int, int], max_size: int) -> LimitOut | None:
    """min(n_H_prev, n_W_prev) >= n as the smallest working size (longest side) that
    gives it, by the server's own resize rule; None when no size up to max_size does."""
    w, h = source
    for size in range(1, max_size + 1):
        if min(working_size(w, h, size)) >= lim.value:
            return LimitOut(setting="size", op=">=", value=size, text=f"size >= {size}")
    return None


def _advice(shape: tuple[int, int], source: tuple[int, int], s: ImageSettings,
            limits: Settings) -> list[LimitOut]:
    """The Limits the settings break, in the page's names."""
    H, W = shape
    current = {"f": s.f, "pad": s.pad, "dilation": s.dilation, "stride": s.stride,
               "pool_f": s.pool.f if s.pool else None, "n_prev": min(H, W)}
    out = []
    for lim in fit_limits(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation,
                          pool_f=s.pool.f if s.pool else None, pad_mode=s.pad_mode):
        if lim.allows(current[lim.setting]):
            continue
        if lim.setting == "n_prev":
            size = _size_limit(lim, source, limits.max_size)
            if size is not None:
                out.append(size)
            continue
        name = PAGE_NAMES.get(lim.setting, lim.setting)
        out.append(LimitOut(setting=lim.setting, op=lim.op, value=lim.value,
                            text=f"{name} {lim.op} {lim.value}"))
    return out


def _advice_sentence(advice: list[LimitOut]) -> str:
    texts = [a.text for a in advice]
    if not texts:
        return ""
    return "Use " + (texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " or "
                     + texts[-1]) + "."


def check(body: GeometryCheckIn, limits: Settings) -> GeometryCheckOut:
    """What /api/image would say about these settings on this image, without doing its work."""
    try:
        s = check_settings(ImageSettings.model_validate(body.settings), limits)
    except ValidationError as exc:
        return _refusal(422, "validation", _validation_message(exc))
    except ApiError as exc:
        return _refusal(exc.status, exc.code, exc.detail)
    shape, source = _working_shape(body, s)
    if shape is None or source is None:
        return _refusal(422, "no_image", "settings.sample: name a built-in sample, or give the "
                        "uploaded image's `source` size.")
    H, W = shape
    where = ""
    try:
        pad_limit_check(H, W, s.pad, s.pad_mode)
        g = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
        if s.pool is not None:
            where = f"Pooling over Z ({g.n_H} x {g.n_W}): "
            pool_geometry(g.n_H, g.n_W, s.pool.f, stride=s.pool.stride)
        # the work bound reads only the image's shape: a broadcast view, no pixels
        check_layer_work(np.broadcast_to(np.uint8(0), (H, W, s.channels)), s, limits)
    except GeometryError as exc:
        advice = _advice(shape, source, s, limits)
        message = str(exc)
        if exc.advice:  # core's "Use ..." names one function's settings: the layer's instead
            message = f"{where}{exc.problem} {_advice_sentence(advice)}".strip()
        else:
            missing = [a.text for a in advice if a.text not in message]
            if missing:
                message += f" Or use {' or '.join(missing)}."
        return _refusal(422, "geometry", message, advice, shape)
    except ApiError as exc:
        return _refusal(exc.status, exc.code, exc.detail, None, shape)
    return GeometryCheckOut(fits=True, message=None, status=None, code=None, advice=[],
                            n_H_prev=H, n_W_prev=W)
