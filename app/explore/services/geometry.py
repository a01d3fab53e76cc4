"""POST /api/geometry's work: would /api/image accept these settings on this image, and
if not, why (the 4xx it would answer) and what would fit (core.geometry.fit_limits).

The page asks this before /api/image, so a setting that does not fit is never sent (a
browser logs every 4xx answer as a console error). It runs /api/image's own checks, in its
order, on the image's shape: check_settings, make_plan (the LayerPlan of
app/explore/services/plan.py) and the plan's check_work; the numbers and the advice are
the plan's, worded here with the page's names (a working size instead of the input's side).
"""

from __future__ import annotations

from pydantic import ValidationError

from app.explore.schemas.geometry import GeometryCheckIn, GeometryCheckOut, LimitOut
from app.explore.schemas.image import ImageSettings
from app.explore.services.plan import LayerGeometryError, check_settings, make_plan
from app.platform.config import Settings
from app.platform.errors import ApiError
from app.platform.imaging import working_size
from app.platform.samples import sample_info
from core.geometry import Limit

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


def _advice(exc: LayerGeometryError, source: tuple[int, int],
            limits: Settings) -> list[LimitOut]:
    """The layer's Limits that the settings break, in the page's names."""
    out = []
    for lim in exc.broken:
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


def _message(exc: LayerGeometryError, advice: list[LimitOut]) -> str:
    """/api/image's message with the layer's advice: core's "Use ..." names one function's
    settings, so it is worded again for the layer's; reflect's stays, with the Limits it
    does not name added."""
    if exc.rewordable:
        return f"{exc.problem} {_advice_sentence(advice)}".strip()
    said = {(lim.setting, lim.op, lim.value) for lim in exc.said}
    missing = [a.text for a in advice if (a.setting, a.op, a.value) not in said]
    return str(exc) + (f" Or use {' or '.join(missing)}." if missing else "")


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
    try:
        make_plan(s, (H, W, s.channels)).check_work(limits)
    except LayerGeometryError as exc:
        advice = _advice(exc, source, limits)
        return _refusal(422, "geometry", _message(exc, advice), advice, shape)
    except ApiError as exc:
        return _refusal(exc.status, exc.code, exc.detail, None, shape)
    return GeometryCheckOut(fits=True, message=None, status=None, code=None, advice=[],
                            n_H_prev=H, n_W_prev=W)
