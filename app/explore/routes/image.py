"""The page's routes: POST /api/image (one image, one set of settings, everything the page
draws), POST /api/steps (more step records of any stage, by range or position) and POST
/api/arrays (arrays of an answer, fetched later). The work is app/explore/services/image.py's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from app.explore.schemas.image import ArraysIn, ArraysOut, ImageOut, ImageSettings, StepsIn
from app.explore.services import image as service
from app.explore.services import steps as steps_service
from app.explore.services.plan import check_settings
from app.platform import imaging
from app.platform.config import Settings
from app.platform.deps import ArraysQuery, EncodingQuery, SettingsDep
from app.platform.errors import ApiError
from app.platform.json_body import JSONBodyRoute
from app.platform.multipart import read_upload, upload_limit
from app.platform.responses import JSONChunks, accepts_gzip
from app.platform.samples import SAMPLE_NAMES, sample_bytes
from app.platform.schemas.common import ErrorOut, server_limit
from app.platform.schemas.steps import StepsOut

# JSON bodies (/api/steps, /api/arrays) parsed off the event loop within the memory budget
# (app/platform/json_body.py); /api/image reads its multipart body itself.
router = APIRouter(prefix="/api", tags=["image: what the page runs on"],
                   route_class=JSONBodyRoute)

IMAGE_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {
            "type": "object",
            "additionalProperties": False,
            # an image to run on: the uploaded file, or else the sample the settings name
            "anyOf": [{"required": ["file"]},
                      {"required": ["settings"],
                       "properties": {"settings": {
                           "type": "object", "required": ["sample"],
                           "properties": {"sample": {"enum": list(SAMPLE_NAMES)}}}}}],
            "properties": {
                "settings": {"$ref": "#/components/schemas/ImageSettings",
                             "description": "The layer's settings as JSON text; every one "
                                            "has a default. Without a file, `sample` is "
                                            "required."},
                "file": {"type": "string", "format": "binary",
                         "description": f"Optional image: {imaging.ACCEPTED}, at most "
                                        "max_upload_bytes bytes (maxLength). Without it, "
                                        "settings.sample is used.",
                         **server_limit(maxLength="max_upload_bytes")},
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


M = TypeVar("M", bound=BaseModel)

UNKNOWN_IMAGE = {404: {"model": ErrorOut, "description": "code 'unknown_image': the id is not "
                       "in this server's cache (evicted, restarted, another worker); send the "
                       "image to /api/image again."}}


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


def parse_settings(raw: bytes | str, model: type[M] = ImageSettings) -> M:
    """The form's `settings` JSON text as `model` (ImageSettings, or the transposed op's;
    422 with FastAPI's list shape, each error located under body.settings)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise _settings_error(exc) from None


async def read_form(request: Request, limits: Settings, model: type[M] = ImageSettings,
                    check: Callable[[M, Settings], M] = check_settings) -> tuple[M, str, bytes]:
    """(settings within the limits, source key, image bytes) from the multipart body: the
    uploaded `file`, or else the sample that `settings.sample` names. `model` and `check`
    are the layer's (ImageSettings) or the transposed op's."""
    parts = await read_upload(request, upload_limit(limits), {"settings": False, "file": False})
    # Every setting has a default: without the field, the defaults are the settings.
    raw = bytes(parts["settings"].data) if "settings" in parts else b"{}"
    s = check(parse_settings(raw, model), limits)
    upload = parts.get("file")
    if upload is not None and (upload.data or upload.filename):
        data = bytes(upload.data)
        return s.model_copy(update={"sample": None}), "upload:" + imaging.source_digest(data), data
    if s.sample is not None:
        return s, "sample:" + s.sample, sample_bytes(s.sample)
    raise ApiError(422, "no_image", "settings.sample: name a built-in sample ("
                   f"{', '.join(SAMPLE_NAMES)}) or upload a 'file'.")


def _gzip(request: Request) -> bool:
    return accepts_gzip(request.headers.get("accept-encoding"))


@router.post("/image", openapi_extra={"requestBody": IMAGE_BODY}, responses=IMAGE_ERRORS,
             response_model=ImageOut,
             summary="Run the layer on an upload or a sample: every array, geometry, first "
                     "step pages")
async def image(request: Request, limits: SettingsDep,
                arrays: ArraysQuery = None, encoding: EncodingQuery = "float32") -> Response:
    """multipart/form-data: an optional `settings` (JSON text, ImageSettings; every setting
    has a default) and an optional `file`, e.g. `curl -F file=@photo.jpg .../api/image`.

    Without a file, `settings.sample` names a built-in sample. The answer's `id` lets
    /api/steps and /api/arrays fetch step pages and arrays without sending the image again.
    """
    names = service.parse_names(arrays)
    s, source, data = await read_form(request, limits)
    answer, content_encoding = await service.image_answer(
        request, source, data, s, names, limits, encoding, _gzip(request))
    return JSONChunks(answer, content_encoding=content_encoding)


@router.post("/steps", responses={**IMAGE_ERRORS, **UNKNOWN_IMAGE, 200: {"content": {
    "application/json": {"example": steps_service.docs_example()}}}},
             response_model=StepsOut,
             summary="More step records of one stage, by range or by output position")
async def steps(body: StepsIn, request: Request, limits: SettingsDep) -> dict:
    """`limit` step records of `stage` from step `offset`, or from the step of output
    `position` [h, w, c], for the image `id` under `settings`; with `totals_at` (backward
    stages), the running totals after steps 0..totals_at. The answer is the page of that
    stage's kind (`kind` says which record the steps are) plus `id`, `stage` and `totals`.
    """
    return await service.steps_answer(request, body, limits)


@router.post("/arrays", responses={**IMAGE_ERRORS, **UNKNOWN_IMAGE}, response_model=ArraysOut,
             summary="Some arrays of an image answer, without sending the image again")
async def arrays(body: ArraysIn, request: Request, limits: SettingsDep,
                 encoding: EncodingQuery = "float32") -> Response:
    """The ARRs named in `names` for the image `id` under `settings` (arrays that do not
    exist for these settings, such as `pooled` without pooling, are left out)."""
    answer, content_encoding = await service.arrays_answer(request, body, limits, encoding,
                                                           _gzip(request))
    return JSONChunks(answer, content_encoding=content_encoding)
