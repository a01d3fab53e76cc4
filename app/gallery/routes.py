"""GET /api/animation: a step animation of one op as an animated GIF or APNG (the work is
app/gallery/service.py's; what each frame shows is core/animation.py's)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.gallery import service
from app.gallery.deps import BOUNDS, AnimationQueryDep
from app.gallery.schemas import STEP_EXISTS, AnimationPlanOut
from app.platform.deps import SettingsDep
from app.platform.nav import nav
from app.platform.schemas.common import ErrorOut, rules

router = APIRouter(prefix="/api", tags=["animations: pictures to take away"])
page_router = APIRouter()

ERRORS = {
    413: {"model": ErrorOut, "description": "More frames (max_animation_frames), frame "
                                            "pixels (max_animation_pixels) or bytes "
                                            "(max_animation_bytes) than the server draws."},
    422: {"description": "A field out of range or not allowed for the op (FastAPI's list, "
                         "`loc` names the field), or geometry that cannot work ({detail, "
                         "code: 'geometry'}, core's message naming f, pad, h and w)."},
    503: {"model": ErrorOut, "description": "Busy: try again after Retry-After seconds."},
}
IMAGES = {200: {"content": {"image/gif": {}, "image/apng": {}},
                "description": "The animation: one frame per step, looping."}}




@router.get("/animation", response_class=Response, responses={**IMAGES, **ERRORS},
            summary="A step animation as an animated GIF or APNG")
async def animation(request: Request, limits: SettingsDep, q: AnimationQueryDep) -> Response:
    """One frame per step of the op's loop on a one-channel example: per output window
    position for conv_forward and pool_forward and their backward passes (dZ's cell and
    the window of dA_prev it adds into), per input cell for conv_transpose (the window of
    the output it spreads into), per output cell for conv_transpose_direct (the same
    transposed convolution as a stride-1 convolution over the input with stride - 1 zeros
    inserted between its cells, the kernel turned 180 degrees). With `numbers=true` the
    example is A_prev[r, c] = (3r + c) mod 4, W[p, q] = (p + 2q + 1) mod 3, the upstream
    gradient 1 + (h + 2w) mod 3, b = 0, max pooling (ties: the first maximum)."""
    data = await service.animation(request, q, limits)
    return Response(data, media_type=service.MEDIA[q.format], headers={
        "Content-Disposition": f'inline; filename="{q.filename()}"',
        "Cache-Control": "public, max-age=86400"})


FRAME_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


@router.get("/animation/frame.{ext}", response_class=Response, responses={
    200: {"content": {"image/png": {}, "image/svg+xml": {}},
          "description": "One frame of the animation."}, **ERRORS},
    summary="One frame of a step animation, as PNG or SVG")
async def animation_frame(request: Request, limits: SettingsDep, q: AnimationQueryDep,
                          ext: Literal["png", "svg"],
                          step: Annotated[int, Query(
                              ge=0, le=1_000_000, json_schema_extra=rules(STEP_EXISTS),
                              description="The step shown, from 0. " + STEP_EXISTS.says)] = 0
                          ) -> Response:
    """Frame `step` of /api/animation's animation for the same query (`format` and
    `delay_ms` do not matter here): PNG, or SVG (vector shapes and text)."""
    data = await service.frame(request, q, step, ext, limits)
    name = q.filename("gif").removesuffix(".gif") + f"-step{step + 1}.{ext}"
    return Response(data, media_type=FRAME_MEDIA[ext], headers={
        "Content-Disposition": f'inline; filename="{name}"',
        "Cache-Control": "public, max-age=86400"})


@router.get("/animation/plan", responses=ERRORS,
            summary="What /api/animation would draw, or why it would not (200 either way "
                    "once the fields are in range)")
async def animation_plan(limits: SettingsDep, q: AnimationQueryDep) -> AnimationPlanOut:
    """The same query as /api/animation, checked the same way, answered without drawing:
    the number of frames, the two grids, the output-size formula with the numbers filled
    in, the frame size in pixels and the file names; or `fits: false` with the refusal
    /api/animation would answer (geometry, a limit, a field the op does not take). A field
    out of its range is still FastAPI's 422."""
    return AnimationPlanOut(**service.describe(q, limits))


@page_router.get("/gallery", response_class=HTMLResponse, include_in_schema=False)
async def gallery_page(request: Request) -> HTMLResponse:
    """The gallery: conv_arithmetic's set, redrawn for any numbers, each downloadable."""
    boot = {"entries": list(service.GALLERY),
            "bounds": {k: {"min": lo, "max": hi} for k, (lo, hi) in BOUNDS.items()}}
    return request.app.state.templates.TemplateResponse(
        request, "gallery.html", {"boot": boot, "nav": nav(request, "gallery")})
