"""An animation as GIF or APNG bytes: checked and bounded before anything is drawn, drawn
(app/gallery/draw.py) and encoded (app/gallery/encode.py) in the thread pool once its cost
is admitted, and kept in the steps cache (the same query gives the same bytes).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from app.gallery import draw, encode, svg
from app.platform.config import Settings
from app.platform.errors import ApiError
from app.platform.heavy import admitted
from core import GeometryError
from core.animation import POOL_OPS, TRANSPOSE_OPS, animation_size, plan_animation
from core.transpose import transposed_counterpart

MEDIA = {"gif": "image/gif", "apng": "image/apng"}
EXTENSION = {"gif": "gif", "apng": "png"}
FIXED_BYTES = 4 * 1024 * 1024  # the traces, the fonts, Pillow's and the encoder's small objects


@dataclass(frozen=True)
class AnimationQuery:
    """The route's query, validated field by field (app/gallery/routes.py)."""

    op: str
    h: int
    w: int
    f: int
    stride: int
    pad: int
    dilation: int
    output_padding: int
    format: str
    numbers: bool
    delay_ms: int | None

    def filename(self, format: str | None = None) -> str:
        """conv_forward-5x5-f3-s1-p1-d1.gif (numbers: -numbers before the extension;
        conv_transpose with output padding: -op1)."""
        name = f"{self.op}-{self.h}x{self.w}-f{self.f}-s{self.stride}"
        if self.op not in POOL_OPS:
            name += f"-p{self.pad}-d{self.dilation}"
        if self.output_padding:
            name += f"-op{self.output_padding}"
        return (name + ("-numbers" if self.numbers else "") + "."
                + EXTENSION[format or self.format])

    def geometry(self) -> dict:
        return {"stride": self.stride, "pad": self.pad, "dilation": self.dilation,
                "output_padding": self.output_padding}


def default_delay_ms(n_frames: int) -> int:
    """Each frame's time when the query gives none: the loop lasts about 15 s, each frame
    between 100 and 700 ms (25 frames: 600 ms; 784 frames: 100 ms)."""
    return max(100, min(700, round(15_000 / n_frames / 10) * 10))


def _field_error(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": message,
                                    "type": "value_error", "input": None}])


@dataclass(frozen=True)
class Plan:
    n_frames: int
    layout: draw.Layout
    cost: int
    sizes: tuple[int, ...]  # rows and columns of the left grid, then of the right one


def check(q: AnimationQuery, limits: Settings) -> Plan:
    """The frames and pixels of the answer, before anything is drawn: 422 for a field that
    cannot work (naming it), 413 over max_animation_frames or max_animation_pixels."""
    if q.op in POOL_OPS:
        for field, value, default in (("pad", q.pad, 0), ("dilation", q.dilation, 1)):
            if value != default:
                raise _field_error(field, f"{q.op} has no {field}: pooling windows are never "
                                          f"padded or dilated; leave {field} out (it is "
                                          f"{value}).")
    if q.op not in TRANSPOSE_OPS and q.output_padding:
        raise _field_error("output_padding", f"output_padding is conv_transpose's; {q.op} has "
                                             f"none: leave it out (it is {q.output_padding}).")
    try:
        n_frames, *sizes = animation_size(q.op, q.h, q.w, q.f, **q.geometry())
    except GeometryError as exc:
        raise ApiError(422, "geometry", f"{exc} (Here n_H_prev is h = {q.h} and n_W_prev is "
                                        f"w = {q.w}.)") from None
    lay = draw.layout(tuple(sizes), q.numbers)
    if n_frames > limits.max_animation_frames:
        raise ApiError(413, "too_many_frames", f"This animation has {n_frames} frames (one "
                       f"per step); the limit is max_animation_frames = "
                       f"{limits.max_animation_frames} (CONVSTEP_MAX_ANIMATION_FRAMES). Use "
                       "a smaller h or w, a larger stride, or less padding.")
    total = n_frames * lay.pixels
    if total > limits.max_animation_pixels:
        raise ApiError(413, "animation_too_large", f"This animation is {n_frames} frames of "
                       f"{lay.width} x {lay.height} pixels = {total} frame pixels; the limit "
                       f"is max_animation_pixels = {limits.max_animation_pixels} "
                       "(CONVSTEP_MAX_ANIMATION_PIXELS). Use a smaller h or w"
                       + (", or numbers=false (smaller cells)." if q.numbers else "."))
    # At its peak: the frame being drawn, its copy, the frame before, the delta and its
    # encoding, and the answer growing up to max_animation_bytes.
    cost = 6 * lay.pixels + limits.max_animation_bytes + FIXED_BYTES
    return Plan(n_frames, lay, cost, tuple(sizes))


def render(q: AnimationQuery, plan: Plan, limits: Settings) -> bytes:
    """The GIF or APNG bytes (encode.TooLargeError past max_animation_bytes)."""
    anim = plan_animation(q.op, q.h, q.w, q.f, **q.geometry())
    frames = draw.render(anim, plan.layout, q.numbers)
    delay = q.delay_ms or default_delay_ms(anim.n_frames)
    if q.format == "gif":
        return encode.gif(frames, draw.PALETTE, draw.UNCHANGED, delay,
                          limits.max_animation_bytes)
    return encode.apng(frames, anim.n_frames, draw.PALETTE, draw.UNCHANGED, delay,
                       limits.max_animation_bytes)


def render_frame(q: AnimationQuery, plan: Plan, step: int, ext: str) -> bytes:
    """Frame `step` alone as PNG (Pillow) or SVG (app/gallery/svg.py)."""
    anim = plan_animation(q.op, q.h, q.w, q.f, **q.geometry())
    if ext == "svg":
        return svg.frame_svg(anim, plan.layout, q.numbers, step).encode()
    buf = io.BytesIO()
    draw.frame_image(anim, plan.layout, q.numbers, step).save(buf, "PNG", optimize=False)
    return buf.getvalue()


async def frame(request: Request, q: AnimationQuery, step: int, ext: str,
                limits: Settings) -> bytes:
    """One frame, checked like the animation (the step too: 422 naming it past the last)."""
    plan = check(q, limits)
    if step >= plan.n_frames:
        raise _field_error("step", f"step {step} does not exist: this animation has "
                                   f"{plan.n_frames} steps (0-{plan.n_frames - 1}).")
    cost = 8 * plan.layout.pixels + FIXED_BYTES
    async with admitted(request, cost, "this frame"):
        return await run_in_threadpool(render_frame, q, plan, step, ext)


def describe(q: AnimationQuery, limits: Settings) -> dict:
    """What GET /api/animation would draw for q (checked the same way): frames, grids, the
    output-size formula with the numbers, the frame size and the file names; or, when
    /api/animation would refuse it, `fits` false and the refusal (its status, code, message
    and field), so a page can ask without a 4xx reaching its console."""
    try:
        plan = check(q, limits)
    except ApiError as exc:
        return _refused(q, exc.status, exc.code, exc.detail, None)
    except RequestValidationError as exc:
        e = exc.errors()[0]
        return _refused(q, 422, "validation", f"{e['loc'][-1]}: {e['msg']}", e["loc"][-1])
    anim = plan_animation(q.op, q.h, q.w, q.f, **q.geometry())
    transposed = None
    if q.op == "conv_forward":
        t = transposed_counterpart(q.h, q.w, q.f, stride=q.stride, pad=q.pad,
                                   dilation=q.dilation)
        rows, cols = t["output_padding"]
        if rows == cols:  # the route takes one output_padding for both axes
            transposed = {"op": "conv_transpose", "h": t["n_H_prev"], "w": t["n_W_prev"],
                          "f": q.f, "stride": q.stride, "pad": q.pad, "dilation": q.dilation,
                          "output_padding": rows}
    return {"op": q.op, "fits": True, "refusal": None, "frames": plan.n_frames,
            "formula": anim.formula,
            "grids": [{"name": g.name, "n_rows": g.n_rows, "n_cols": g.n_cols, "pad": g.pad}
                      for g in anim.grids],
            "width": plan.layout.width, "height": plan.layout.height,
            "filenames": {f: q.filename(f) for f in EXTENSION}, "transposed": transposed}


def _refused(q: AnimationQuery, status: int, code: str, message: str,
             field: str | None) -> dict:
    return {"op": q.op, "fits": False, "refusal": {"status": status, "code": code,
                                                   "message": message, "field": field},
            "frames": None, "formula": None, "grids": None, "width": None, "height": None,
            "filenames": None, "transposed": None}


# The well-known set (conv_arithmetic's, Dumoulin & Visin 2016), redrawn here for any
# numbers: each with its convolution and the transposed convolution that gives its input
# size back. `pad_rule`: "half" (pad = floor(f / 2)) or "full" (pad = f - 1) keeps the name
# true when f changes; None lets pad be set.
GALLERY = (
    {"key": "no_padding_no_strides", "title": "No padding, no strides",
     "note": "The window visits every position that fits inside the input.",
     "h": 4, "f": 3, "stride": 1, "pad": 0, "dilation": 1, "pad_rule": None},
    {"key": "arbitrary_padding", "title": "Arbitrary padding, no strides",
     "note": "Rings of zeros around the input let the window hang over the edge.",
     "h": 5, "f": 4, "stride": 1, "pad": 2, "dilation": 1, "pad_rule": None},
    {"key": "half_padding", "title": "Half (same) padding",
     "note": "pad = floor(f / 2): for odd f the output keeps the input's size.",
     "h": 5, "f": 3, "stride": 1, "pad": 1, "dilation": 1, "pad_rule": "half"},
    {"key": "full_padding", "title": "Full padding",
     "note": "pad = f - 1: every partial overlap counts, so the output grows by f - 1.",
     "h": 5, "f": 3, "stride": 1, "pad": 2, "dilation": 1, "pad_rule": "full"},
    {"key": "no_padding_strides", "title": "No padding, strides",
     "note": "The window jumps by stride cells: the output shrinks about stride times.",
     "h": 5, "f": 3, "stride": 2, "pad": 0, "dilation": 1, "pad_rule": None},
    {"key": "padding_strides", "title": "Padding, strides",
     "note": "Padding and stride together (a 5 x 5 input gives 3 x 3).",
     "h": 5, "f": 3, "stride": 2, "pad": 1, "dilation": 1, "pad_rule": None},
    {"key": "padding_strides_odd", "title": "Padding, strides (odd)",
     "note": "The floor drops the last row and column; the transposed convolution gives "
             "them back with output_padding.",
     "h": 6, "f": 3, "stride": 2, "pad": 1, "dilation": 1, "pad_rule": None},
    {"key": "dilation", "title": "Dilation",
     "note": "The window's cells are dilation apart: a wider view with the same f x f "
             "weights.",
     "h": 7, "f": 3, "stride": 1, "pad": 0, "dilation": 2, "pad_rule": None},
)


async def animation(request: Request, q: AnimationQuery, limits: Settings) -> bytes:
    """Checked, then from the cache or drawn within the memory budget (413 / 503)."""
    plan = check(q, limits)
    cache = request.app.state.cache
    key = ("animation", q)
    data = cache.get(key)
    if data is not None:
        return data
    async with admitted(request, plan.cost, "this animation"):
        try:
            data = await run_in_threadpool(render, q, plan, limits)
        except encode.TooLargeError:
            raise ApiError(413, "animation_too_large", f"This animation grew past "
                           f"max_animation_bytes = {limits.max_animation_bytes} bytes "
                           "(CONVSTEP_MAX_ANIMATION_BYTES) while it was encoded. Use a "
                           "smaller h or w, or numbers=false.") from None
    cache.put(key, data, len(data) + 512)
    return data
