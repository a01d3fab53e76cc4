"""The page's routes: POST /api/image (one image, one set of settings, everything the page
draws) and POST /api/steps (more step records of any stage, by range or position)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app import imaging, layer
from app.cache import LruCache
from app.config import Settings, get_settings
from app.errors import ApiError
from app.image_models import (
    FIRST_PAGE,
    STAGES_WITH_STEPS,
    ImageOut,
    ImageSettings,
    StepsIn,
    StepsOut,
)
from app.limits import body_limit
from app.multipart import boundary_of, parse, read_body
from app.samples import SAMPLE_NAMES, sample_bytes
from app.schemas import ErrorOut
from app.work import check_conv_work, heavy, page_limit
from core import conv_geometry

router = APIRouter(prefix="/api", tags=["image: what the page runs on"])
SettingsDep = Annotated[Settings, Depends(get_settings)]

IMAGE_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["settings"],
            "properties": {
                "settings": {"$ref": "#/components/schemas/ImageSettings"},
                "file": {"type": "string", "format": "binary",
                         "description": f"Optional image: {imaging.ACCEPTED}, at most "
                                        "max_upload_bytes. Without it, settings.sample is used."},
            },
        },
        "encoding": {"settings": {"contentType": "application/json"}},
    }},
}
IMAGE_ERRORS = {
    404: {"model": ErrorOut, "description": "Unknown sample."},
    413: {"model": ErrorOut, "description": "Body, file or decoded pixels over a limit."},
    415: {"model": ErrorOut, "description": "Not multipart/form-data, or not an image."},
    422: {"description": "Invalid settings, a broken image, or geometry that cannot work."},
    503: {"model": ErrorOut, "description": "Busy: try again after Retry-After seconds."},
}


def _settings_error(exc: ValidationError) -> RequestValidationError:
    errors = []
    for e in exc.errors(include_url=False):
        e = dict(e)
        e["loc"] = ("body", "settings", *e["loc"])
        ctx = e.get("ctx")
        if ctx:
            e["ctx"] = {k: str(v) for k, v in ctx.items()}
        errors.append(e)
    return RequestValidationError(errors)


def parse_settings(raw: bytes | str) -> ImageSettings:
    try:
        return ImageSettings.model_validate_json(raw)
    except ValidationError as exc:
        raise _settings_error(exc) from None


def check_settings(s: ImageSettings, limits: Settings) -> ImageSettings:
    """The settings within the server's limits: a default size is capped at max_size; a
    size or a number of filters the client chose beyond a limit is a 422."""
    if "size" not in s.model_fields_set and s.size > limits.max_size:
        s = s.model_copy(update={"size": limits.max_size})
    if s.size > limits.max_size:
        raise ApiError(422, "over_limit", f"settings.size is {s.size}; the limit is max_size = "
                       f"{limits.max_size} (CONVSTEP_MAX_SIZE).")
    if len(s.filters) > limits.max_filters:
        raise ApiError(422, "over_limit", f"settings.filters has {len(s.filters)} filters; the "
                       f"limit is max_filters = {limits.max_filters} (CONVSTEP_MAX_FILTERS).")
    return s


def working_image(cache: LruCache, source: str, data: bytes | None, s: ImageSettings,
                  limits: Settings) -> tuple[str, object]:
    """(id, (H, W, C) uint8) of the source at the settings' size and colour, decoded once."""
    alias = ("alias", source, s.size, s.color)
    image_id = cache.get(alias)
    if image_id is not None:
        image = cache.get(("image", image_id))
        if image is not None:
            return image_id, image
    image = imaging.decode(data if data is not None else b"", size=s.size, color=s.color,
                           max_pixels=limits.max_pixels)
    image_id = imaging.image_id(image)
    cache.put(("image", image_id), image, image.nbytes + 256)
    cache.put(alias, image_id, 256, keep=(("image", image_id),))
    return image_id, image


def check_work(image, s: ImageSettings, limits: Settings) -> None:
    """Geometry (core's message on failure) and the conv's size, before any work."""
    H, W, C = image.shape
    g = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
    check_conv_work("settings", 1, g.n_H, g.n_W, s.f, C, limits)


def image_answer(cache: LruCache, source: str, data: bytes | None, s: ImageSettings,
                 limits: Settings) -> dict:
    t0 = time.perf_counter()
    image_id, image = working_image(cache, source, data, s, limits)
    t1 = time.perf_counter()
    check_work(image, s, limits)
    result = layer.run(image, s)
    cache.put(("trace", image_id, s.layer_key()), result.trace, result.trace.nbytes,
              keep=(("image", image_id),))
    first = min(FIRST_PAGE, limits.max_steps_per_page)
    steps = {stage: layer.step_page(result.trace, s, stage, limit=first)
             for stage in STAGES_WITH_STEPS if stage in result.stages}
    arrays = {name: layer.encode(a) for name, a in result.arrays.items()}
    t2 = time.perf_counter()
    return {"id": image_id, "settings": s, "arrays": arrays, "geometry": result.geometry,
            "stages": result.stages, "steps": steps,
            "timing_ms": {"decode": round((t1 - t0) * 1000, 3),
                          "compute": round((t2 - t1) * 1000, 3)}}


@router.post("/image", openapi_extra={"requestBody": IMAGE_BODY}, responses=IMAGE_ERRORS,
             summary="Run the layer on an upload or a sample: every array, geometry, first "
                     "step pages")
async def image(request: Request, limits: SettingsDep) -> ImageOut:
    """multipart/form-data: `settings` (JSON text, ImageSettings) and an optional `file`.

    Without a file, `settings.sample` names a built-in sample. The answer's `id` lets
    /api/steps fetch further step pages without sending the image again.
    """
    boundary = boundary_of(request.headers.get("content-type"))
    limit, what = body_limit(limits, request.url.path)
    parts = parse(await read_body(request, limit, what), boundary)
    unknown = sorted(set(parts) - {"settings", "file"})
    if unknown:
        raise ApiError(422, "bad_multipart", f"Unknown form field(s) {unknown}: send 'settings' "
                       "(JSON text) and optionally 'file'.")
    if "settings" not in parts:
        raise RequestValidationError([{"type": "missing", "loc": ("body", "settings"),
                                       "msg": "Field required", "input": None}])
    s = check_settings(parse_settings(bytes(parts["settings"].data)), limits)
    upload = parts.get("file")
    if upload is not None and (upload.data or upload.filename):
        if len(upload.data) > limits.max_upload_bytes:
            raise ApiError(413, "file_too_large", f"file is {len(upload.data)} bytes; the limit "
                           f"is max_upload_bytes = {limits.max_upload_bytes} "
                           "(CONVSTEP_MAX_UPLOAD_BYTES).")
        data = bytes(upload.data)
        source = "upload:" + imaging.source_digest(data)
        s = s.model_copy(update={"sample": None})
    elif s.sample is not None:
        data = sample_bytes(s.sample)
        source = "sample:" + s.sample
    else:
        raise ApiError(422, "no_image", "settings.sample: name a built-in sample ("
                       f"{', '.join(SAMPLE_NAMES)}) or upload a 'file'.")
    cache = request.app.state.cache
    return await heavy(request, image_answer, cache, source, data, s, limits)


def _trace_for(cache: LruCache, body: StepsIn):
    image = cache.get(("image", body.id))
    if image is None:
        return None, None
    return image, cache.get(("trace", body.id, body.settings.layer_key()))


def steps_answer(cache: LruCache, body: StepsIn, limit: int, image, trace,
                 limits: Settings) -> dict:
    s = body.settings
    if trace is None:
        check_work(image, s, limits)
        trace = layer.run(image, s).trace
        cache.put(("trace", body.id, s.layer_key()), trace, trace.nbytes,
                  keep=(("image", body.id),))
    position = None if body.position is None else tuple(body.position)
    page = layer.step_page(trace, s, body.stage, offset=body.offset, limit=limit,
                           position=position)
    out = {**page, "id": body.id, "stage": body.stage}
    if body.totals_at is not None:
        out["totals"] = layer.totals(trace, s, body.stage, body.totals_at)
    return out


@router.post("/steps", responses={**IMAGE_ERRORS, 404: {
    "model": ErrorOut, "description": "code 'unknown_image': the id is not in this server's "
    "cache (evicted, restarted, another worker); send the image to /api/image again."}},
    summary="More step records of one stage, by range or by output position")
async def steps(body: StepsIn, request: Request, limits: SettingsDep) -> StepsOut:
    limit = page_limit("limit", body.limit, "limit" in body.model_fields_set, limits)
    s = check_settings(body.settings, limits)
    body = body.model_copy(update={"settings": s})
    if body.stage.startswith("pool") and s.pool is None:
        raise ApiError(422, "no_such_stage", f"stage '{body.stage}' needs pooling, but "
                       "settings.pool is null.")
    if body.totals_at is not None and not body.stage.endswith("backward"):
        raise ApiError(422, "no_totals", "totals_at: running totals exist for the backward "
                       f"stages (conv_backward, pool_backward), not for '{body.stage}'.")
    cache: LruCache = request.app.state.cache
    image, trace = _trace_for(cache, body)
    if image is None:
        raise ApiError(404, "unknown_image", f"id {body.id} is not in this server's cache "
                       "(evicted, restarted or another worker): send the image to /api/image "
                       "again.")
    H, W, C = image.shape
    if max(H, W) != s.size or s.channels != C:
        raise ApiError(404, "unknown_image", f"id {body.id} is a {W} x {H} image with {C} "
                       f"channel(s), not one of size {s.size} in '{s.color}': send the image "
                       "to /api/image again with these settings.")
    if trace is not None:
        # Everything is computed already: a page costs only its own steps.
        return await run_in_threadpool(steps_answer, cache, body, limit, image, trace,
                                      limits)
    return await heavy(request, steps_answer, cache, body, limit, image, trace,
                                      limits)
