"""The network routes (/api/network...): the architecture and weights, a forward and backward
pass on a digit, layer step pages, training jobs and weight uploads. HTTP only (parse, call,
return): the work is app/network/answers.py's (each heavy answer priced and admitted),
service.py's, training.py's (the training jobs' start, progress, events and control) and
jobs.py's, the maths core's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import ValidationError

from app.network import answers, service, training
from app.network.deps import SinceQuery, StateDep, TokenDep, WeightsQuery
from app.network.schemas import (
    JobId,
    NetDigitsOut,
    NetJobOut,
    NetJobStartOut,
    NetPaceIn,
    NetPhotoSettings,
    NetRunIn,
    NetRunOut,
    NetStepsIn,
    NetStepsOut,
    NetTrainIn,
    NetUploadOut,
    NetWeightsOut,
    NetworkOut,
)
from app.network.store import client_of
from app.platform.deps import NetLimitsDep, SettingsDep
from app.platform.errors import UPLOAD_ERRORS as ERRORS
from app.platform.json_body import StrictJSONBodyRoute
from app.platform.multipart import file_body, read_upload, upload_limit, weights_limit
from app.platform.nav import nav
from app.platform.schemas.common import ErrorOut

# JSON bodies (a drawing may be 512 x 512 numbers) parsed off the event loop at a cost
router = APIRouter(prefix="/api/network", tags=["network: a whole small CNN"],
                   route_class=StrictJSONBodyRoute)
page_router = APIRouter()


@router.get("", summary="The architecture: layers, shapes, parameters, the shipped weights' "
                        "accuracy, the data's source and licence")
async def architecture(limits: NetLimitsDep) -> NetworkOut:
    return NetworkOut.model_validate(service.architecture(limits))


@router.get("/digits", summary="The 360 held-out digits (pixels 0..16) and their labels")
async def digits() -> NetDigitsOut:
    return NetDigitsOut.model_validate(service.held_out_digits())


@router.get("/weights", responses=ERRORS, summary="Every parameter of a weight set")
async def weights(state: StateDep, weights: WeightsQuery = "shipped"
                  ) -> NetWeightsOut:
    params = await service.resolve_weights(weights, state)
    return NetWeightsOut(id=weights, params={k: v.tolist() for k, v in params.items()})


@router.post("/weights", status_code=201, responses=ERRORS,
             openapi_extra={"requestBody": file_body(
                 "A .safetensors file or an .npz archive of the network's tensors (any "
                 "subset): exercise layout or PyTorch's, see the route's description.",
                 limit="max_weights_bytes")},
             summary="Upload weights (.safetensors or .npz; never a pickle)")
async def upload_weights(request: Request, net_limits: NetLimitsDep,
                         state: StateDep) -> NetUploadOut:
    """multipart/form-data with a `file`. Names: conv1.W, conv1.b, conv2.W, conv2.b,
    dense.W, dense.b (exercise layout: W (f, f, n_C_prev, n_C), dense W (64, 10) over the
    (h, w, c) flatten), or PyTorch's conv1.weight (8, 1, 3, 3), ..., fc.weight (10, 64) over
    the (c, h, w) flatten, or an nn.Sequential's <index>.weight. Tensors the file does not
    hold keep the shipped values. The answer's `id` goes in `weights` of /run and /steps;
    nothing changes for anyone else."""
    upload = (await read_upload(request, weights_limit(net_limits), {"file": True}))["file"]
    return await answers.upload(request, bytes(upload.data), upload.filename or "upload",
                                net_limits, state)


@router.post("/run", responses=ERRORS, response_model=NetRunOut,
             summary="Forward and backward pass of one digit: every layer's maps and "
                     "gradients, the probabilities, the saliency map")
async def run(body: NetRunIn, request: Request, limits: NetLimitsDep, state: StateDep
              ) -> Response:
    """`input` is the 8 x 8 pixels, a drawing (ink 0..255 a pixel, preprocessed as the data
    was: `ink` as nested rows, or `ink_base64`, one uint8 a pixel row after row, with its
    `shape`; both give the same answer), a drawing as `strokes` (the pen's path, drawn with
    a pen a share of the digit's size, as the page sends it) or a held-out digit by index.
    The backward pass starts from the loss -log p[target] (default: the true label of a
    held-out digit, else the prediction). `digit_like` says whether the input looks like a
    digit at all (its distance to the digits; over the threshold the answer means little)."""
    return await answers.run(request, body, limits, state)


@router.post("/run/photo", responses=ERRORS, response_model=NetRunOut,
             openapi_extra={"requestBody": file_body(
                 "A photo or scan of one digit (PNG, JPEG, GIF, WebP, BMP or TIFF).",
                 NetPhotoSettings, limit="max_upload_bytes")},
             summary="Forward and backward pass of an uploaded photo of a digit (gray, "
                     "cropped to the ink, scaled to 8 x 8 like the data)")
async def run_photo(request: Request, limits: SettingsDep, net_limits: NetLimitsDep,
                    state: StateDep) -> Response:
    """multipart/form-data: `file`, and optionally `settings` (JSON: target, weights,
    backward). The answer's input.pixels is the preprocessed 8 x 8 digit, input.preprocess
    where the ink was found."""
    parts = await read_upload(request, upload_limit(limits), {"file": True, "settings": False})
    data = bytes(parts["file"].data)
    try:
        s = NetPhotoSettings.model_validate_json(bytes(parts["settings"].data), strict=True) \
            if "settings" in parts else NetPhotoSettings()
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", "settings", *e["loc"]),
                                       "ctx": {k: str(v) for k, v in e.get("ctx", {}).items()}}
                                      for e in exc.errors(include_url=False)]) from None
    return await answers.run_photo(request, data, s, limits, net_limits, state)


@router.post("/steps", responses=ERRORS, response_model=NetStepsOut,
             summary="Step records of one conv or pool layer on its real input, forward or "
                     "backward, with the layer's arrays")
async def steps(body: NetStepsIn, request: Request, limits: NetLimitsDep,
                state: StateDep) -> Response:
    return await answers.steps(request, body, limits, state)


# ---------------------------------------------------------------- training jobs


@router.post("/train", status_code=201, responses={**ERRORS, 201: {"description": (
    "The job, and its `control_token`: send it as X-Control-Token to pause, resume, stop "
    "or delete the job. Watching needs only the id.")}},
    summary="Start a training job from random weights (503 past max_jobs or client_jobs)")
async def train_start(body: NetTrainIn, request: Request, limits: NetLimitsDep,
                      state: StateDep) -> NetJobStartOut:
    """The job holds its bytes of the memory budget while it runs or is paused: 503 when
    they do not fit beside the work in flight. It runs in this worker."""
    return await training.start(state, body, client_of(request), request.app.state.limiter,
                                limits)


@router.get("/train/{job_id}", responses=ERRORS,
            summary="A training job's progress: state, curves (points from `since`), conv1's "
                    "filters")
async def train_progress(job_id: JobId, state: StateDep, request: Request,
                         limits: NetLimitsDep,
                         since: SinceQuery = 0,
                         wait: Annotated[float, Query(ge=0, le=20, description=
                                         "Long poll: wait up to this many seconds for a "
                                         "new point or a change of state.")] = 0) -> NetJobOut:
    return await training.progress(state, job_id, since, wait, client_of(request), limits)


@router.get("/train/{job_id}/events", responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description":
                    "Server-sent events: `progress` (a NetJobOut with the new points) after each "
                    "point or change of state, then `end` when the job has ended."}},
    response_class=StreamingResponse, summary="A training job's progress as server-sent events")
async def train_events(job_id: JobId, state: StateDep, limits: NetLimitsDep, request: Request,
                       since: SinceQuery = 0) -> StreamingResponse:
    stream = await training.events(state, job_id, since, client_of(request), limits)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/train/{job_id}/pace", responses={**ERRORS, 403: {
    "model": ErrorOut, "description": "No X-Control-Token, or not this job's (not_owner)."},
    409: {"model": ErrorOut, "description": "The job has ended."}},
    summary="Change a training job's pace (minibatches a second) while it runs (its "
            "starter only: X-Control-Token)")
async def train_pace(job_id: JobId, body: NetPaceIn, state: StateDep,
                     token: TokenDep = None) -> NetJobOut:
    return await training.pace(state, job_id, body.steps_per_second, token)


@router.post("/train/{job_id}/{action}", responses={**ERRORS, 403: {
    "model": ErrorOut, "description": "No X-Control-Token, or not this job's (not_owner)."},
    409: {"model": ErrorOut, "description": "The job has ended."}},
    summary="Pause, resume or stop a training job (its starter only: X-Control-Token)")
async def train_control(job_id: JobId, action: Literal["pause", "resume", "stop"],
                        state: StateDep, token: TokenDep = None) -> NetJobOut:
    return await training.control(state, job_id, action, token)


@router.delete("/train/{job_id}", status_code=204, responses={**ERRORS, 403: {
    "model": ErrorOut, "description": "No X-Control-Token, or not this job's (not_owner)."}},
    summary="Stop and forget a training job (the page's reset; its starter only)")
async def train_delete(job_id: JobId, state: StateDep, token: TokenDep = None) -> Response:
    await training.delete(state, job_id, token)
    return Response(status_code=204)


# ---------------------------------------------------------------- the page


@page_router.get("/network", response_class=HTMLResponse, include_in_schema=False)
async def network_page(request: Request, limits: NetLimitsDep) -> HTMLResponse:
    """The network page: draw a digit, watch every layer, the backward pass, training."""
    boot = {"architecture": service.architecture(limits)}
    return request.app.state.templates.TemplateResponse(
        request, "network.html", {"boot": boot, "nav": nav(request, "network")})
