"""The page's routes: POST /api/image (one image, one set of settings, everything the page
draws) and POST /api/steps (more step records of any stage, by range or position)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
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
    ArraysIn,
    ArraysOut,
    ImageOut,
    ImageSettings,
    StepsIn,
    StepsOut,
)
from app.limits import body_limit
from app.multipart import boundary_of, parse, read_body
from app.responses import JSONChunks, accepts_gzip, maybe_gzip
from app.samples import SAMPLE_NAMES, sample_bytes
from app.schemas import ErrorOut
from app.work import check_conv_work, check_pool_work, heavy, page_limit
from core import conv_geometry, pool_geometry

router = APIRouter(prefix="/api", tags=["image: what the page runs on"])
SettingsDep = Annotated[Settings, Depends(get_settings)]
ArraysQuery = Annotated[str | None, Query(
    max_length=200, pattern=r"^[A-Za-z_]+(,[A-Za-z_]+)*$",
    description="Only these arrays, comma-separated (default: all of them), e.g. "
                "`input,padded,W,b,Z`. The others can be fetched later from /api/arrays.",
    examples=["input,padded,W,b,Z,A"])]
EncodingQuery = Annotated[Literal["float32", "display"], Query(
    description="How the image-shaped arrays travel. `float32` (default): every ARR is "
                "base64 float32. `display`: every array but W, b, dW, db is one byte per "
                "value, value ~= offset + q * scale (ARR fields `dtype` \"uint8\", "
                "`encoding` \"display\", `offset`, `scale`, `exact`): within half a "
                "step, a quarter of the bytes, enough for 256-colour drawing; ask for "
                "`float32` (e.g. from /api/arrays) where exact numbers are shown.")]

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
    if s.pool is not None:
        p = pool_geometry(g.n_H, g.n_W, s.pool.f, stride=s.pool.stride)
        check_pool_work("settings.pool", 1, p.n_H, p.n_W, len(s.filters), p.f, limits)


def get_result(cache: LruCache, image_id: str, image, s: ImageSettings,
               limits: Settings) -> layer.LayerResult:
    """The layer's result for this image and these settings: from the cache, or computed
    (geometry and work bound checked first) and cached next to its image."""
    key = ("result", image_id, s.layer_key())
    result = cache.get(key)
    if result is None:
        check_work(image, s, limits)
        result = layer.run(image, s)
        cache.put(key, result, result.nbytes, keep=(("image", image_id),))
    return result


def parse_names(raw: str | None) -> tuple[str, ...] | None:
    """`arrays=input,Z,dW` -> ("input", "Z", "dW"); None means every array."""
    if raw is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [n for n in names if n not in layer.ARRAY_NAMES]
    if unknown:
        raise ApiError(422, "no_such_array", f"arrays: unknown name(s) {', '.join(unknown)}; "
                       f"choose from {', '.join(layer.ARRAY_NAMES)}.")
    return names


def image_answer(cache: LruCache, source: str, data: bytes | None, s: ImageSettings,
                 names: tuple[str, ...] | None, limits: Settings, encoding: str = "float32",
                 gzip: bool = False) -> tuple[list[bytes], str | None]:
    """The JSON answer of /api/image (ImageOut) as byte chunks, gzipped when `gzip`, with
    its content encoding."""
    t0 = time.perf_counter()
    image_id, image = working_image(cache, source, data, s, limits)
    t1 = time.perf_counter()
    result = get_result(cache, image_id, image, s, limits)
    first = min(FIRST_PAGE, limits.max_steps_per_page)
    steps = {stage: layer.step_page(result.trace, s, stage, limit=first)
             for stage in STAGES_WITH_STEPS if stage in result.stages}
    arrays = result.arrays_json(names, encoding)
    t2 = time.perf_counter()
    rest = json.dumps({
        "id": image_id, "settings": s.model_dump(mode="json"), "geometry": result.geometry,
        "stages": result.stages, "steps": steps,
        "timing_ms": {"decode": round((t1 - t0) * 1000, 3),
                      "compute": round((t2 - t1) * 1000, 3)}})
    chunks = [rest[:-1].encode() + b', "arrays": ', *arrays, b"}"]
    del arrays  # gzip frees each plain chunk once it is compressed
    return maybe_gzip(chunks, gzip, limits.gzip_level)


@router.post("/image", openapi_extra={"requestBody": IMAGE_BODY}, responses=IMAGE_ERRORS,
             summary="Run the layer on an upload or a sample: every array, geometry, first "
                     "step pages")
async def image(request: Request, limits: SettingsDep,
                arrays: ArraysQuery = None, encoding: EncodingQuery = "float32") -> ImageOut:
    """multipart/form-data: `settings` (JSON text, ImageSettings) and an optional `file`.

    Without a file, `settings.sample` names a built-in sample. The answer's `id` lets
    /api/steps and /api/arrays fetch step pages and arrays without sending the image again.
    """
    names = parse_names(arrays)
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
    answer, content_encoding = await heavy(
        request, image_answer, cache, source, data, s, names, limits, encoding,
        accepts_gzip(request.headers.get("accept-encoding")))
    return JSONChunks(answer, content_encoding=content_encoding)  # type: ignore[return-value]


def find_image(cache: LruCache, image_id: str, s: ImageSettings):
    """The cached working image of `image_id`, or 404 unknown_image (also when it does not
    fit the settings' size and colour)."""
    image = cache.get(("image", image_id))
    if image is None:
        raise ApiError(404, "unknown_image", f"id {image_id} is not in this server's cache "
                       "(evicted, restarted or another worker): send the image to /api/image "
                       "again.")
    H, W, C = image.shape
    if max(H, W) != s.size or s.channels != C:
        raise ApiError(404, "unknown_image", f"id {image_id} is a {W} x {H} image with {C} "
                       f"channel(s), not one of size {s.size} in '{s.color}': send the image "
                       "to /api/image again with these settings.")
    return image


async def with_result(request: Request, fn, image_id: str, image, s: ImageSettings,
                      limits: Settings, *args):
    """fn(result, *args) in the thread pool: at once when the result is cached (a page
    costs only its own steps), else in a heavy slot that computes it first."""
    cache: LruCache = request.app.state.cache
    result = cache.get(("result", image_id, s.layer_key()))
    if result is not None:
        return await run_in_threadpool(fn, result, *args)

    def compute_then():
        return fn(get_result(cache, image_id, image, s, limits), *args)

    return await heavy(request, compute_then)


def steps_answer(result: layer.LayerResult, body: StepsIn, limit: int) -> dict:
    s = body.settings
    position = None if body.position is None else tuple(body.position)
    page = layer.step_page(result.trace, s, body.stage, offset=body.offset, limit=limit,
                           position=position)
    out = {**page, "id": body.id, "stage": body.stage}
    if body.totals_at is not None:
        out["totals"] = layer.totals(result.trace, s, body.stage, body.totals_at)
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
    image = find_image(request.app.state.cache, body.id, s)
    return await with_result(request, steps_answer, body.id, image, s, limits, body, limit)


def arrays_answer(result: layer.LayerResult, body: ArraysIn, encoding: str, gzip: bool,
                  level: int) -> tuple[list[bytes], str | None]:
    return maybe_gzip([b'{"id": ' + json.dumps(body.id).encode() + b', "arrays": ',
                       *result.arrays_json(tuple(body.names), encoding), b"}"], gzip, level)


@router.post("/arrays", responses={**IMAGE_ERRORS, 404: {
    "model": ErrorOut, "description": "code 'unknown_image': send the image to /api/image "
    "again."}}, summary="Some arrays of an image answer, without sending the image again")
async def arrays(body: ArraysIn, request: Request, limits: SettingsDep,
                 encoding: EncodingQuery = "float32") -> ArraysOut:
    """The ARRs named in `names` for the image `id` under `settings` (arrays that do not
    exist for these settings, such as `pooled` without pooling, are left out)."""
    s = check_settings(body.settings, limits)
    body = body.model_copy(update={"settings": s})
    image = find_image(request.app.state.cache, body.id, s)
    answer, content_encoding = await with_result(
        request, arrays_answer, body.id, image, s, limits, body, encoding,
        accepts_gzip(request.headers.get("accept-encoding")), limits.gzip_level)
    return JSONChunks(answer, content_encoding=content_encoding)  # type: ignore[return-value]
