"""Explore's transposed-convolution op: POST /api/explore/transpose (one transposed
convolution on an upload or a sample: the input, the output, the kernel, the geometry, the
first steps) and POST /api/explore/transpose/steps (more steps). HTTP only: the work is
app/explore/services/transpose.py's."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.explore.routes.image import IMAGE_BODY, IMAGE_ERRORS, UNKNOWN_IMAGE, read_form
from app.explore.schemas.transpose import (
    TransposeOpOut,
    TransposeOpSettings,
    TransposeStepsIn,
    TransposeStepsOut,
)
from app.explore.services import transpose as service
from app.platform.deps import SettingsDep
from app.platform.json_body import JSONBodyRoute
from app.platform.schemas.common import server_limit

router = APIRouter(prefix="/api/explore", tags=["image: what the page runs on"],
                   route_class=JSONBodyRoute)

BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "additionalProperties": False, "properties": {
        "settings": {"$ref": "#/components/schemas/TransposeOpSettings",
                     "description": "The op's settings as JSON text; every one has a "
                                    "default. Without a file, `sample` is required."},
        "file": {"type": "string", "format": "binary", "description": "Optional image, at "
                 "most max_upload_bytes bytes (maxLength).",
                 **server_limit(maxLength="max_upload_bytes")}},
        # an image to run on: the uploaded file, or else the sample the settings name
        "anyOf": IMAGE_BODY["content"]["multipart/form-data"]["schema"]["anyOf"]},
    "encoding": {"settings": {"contentType": "application/json"}}}}}


@router.post("/transpose", openapi_extra={"requestBody": BODY}, responses=IMAGE_ERRORS,
             response_model=TransposeOpOut,
             summary="A transposed convolution on an upload or a sample (each channel "
                     "upsampled by one kernel), with its first steps")
async def transpose(request: Request, limits: SettingsDep) -> dict:
    """multipart/form-data: `settings` (TransposeOpSettings as JSON text) and an optional
    `file`. The output's size (n_H_full x n_W_full x C) and the spread's work are checked
    from the image's header before anything is decoded or allocated (413 naming them); a
    geometry that cannot work is core's 422 (output_padding >= max(stride, dilation), an
    empty output)."""
    s, source, data = await read_form(request, limits, TransposeOpSettings,
                                      service.check_op_settings)
    return await service.run(request, source, data, s, limits)


@router.post("/transpose/steps", responses={**IMAGE_ERRORS, **UNKNOWN_IMAGE},
             response_model=TransposeStepsOut,
             summary="More steps of the transposed-convolution op, one per input cell and "
                     "channel")
async def transpose_steps(body: TransposeStepsIn, request: Request,
                          limits: SettingsDep) -> dict:
    """`limit` step records from step `offset` (loop order h, w, c over the input) for the
    image `id` under `settings`: conv_transpose's records (the input cell's value `a`, the
    kernel `weights` it multiplies, the `spread` it adds) with the canvas window `before`
    and `after` the addition."""
    return await service.steps(request, body, limits)
