"""The network routes (/api/network...): the architecture and weights, a forward and backward
pass on a digit, layer step pages, training jobs and weight uploads. HTTP only: the work is
app/network/service.py's and jobs.py's, the maths core's."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.network import service as service
from app.network.schemas import (
    Class,
    NetDigitsOut,
    NetJobOut,
    NetPaceIn,
    NetRunIn,
    NetRunOut,
    NetStepsIn,
    NetStepsOut,
    NetTrainIn,
    NetUploadOut,
    NetWeightsOut,
    NetworkOut,
    WeightsId,
)
from app.platform.deps import NetLimitsDep, SettingsDep
from app.platform.errors import UPLOAD_ERRORS as ERRORS
from app.platform.errors import ApiError
from app.platform.heavy import heavy, release_when_done
from app.platform.json_body import JSONBodyRoute
from app.platform.multipart import file_body, form_file
from app.platform.nav import nav
from app.platform.schemas.common import ErrorOut, Strict
from app.platform.weights import weight_set
from core.data import load_digits
from core.train import TrainConfig, evaluate

# JSON bodies (a drawing may be 512 x 512 numbers) parsed off the event loop at a cost
router = APIRouter(prefix="/api/network", tags=["network: a whole small CNN"],
                   route_class=JSONBodyRoute)
page_router = APIRouter()

StateDep = Annotated[service.NetworkState, Depends(service.network_state)]
JobId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[0-9a-f-]+$")]

def _held(request: Request) -> int:
    """What the parsed JSON body holds while the work runs (json_body's parse cost)."""
    return getattr(request.state, "body_cost", 0)


def _json(model, answer: dict) -> Response:
    """The answer validated and written as JSON in the worker thread, within its cost."""
    return Response(model.model_validate(answer).model_dump_json(),
                    media_type="application/json")


@router.get("", summary="The architecture: layers, shapes, parameters, the shipped weights' "
                        "accuracy, the data's source and licence")
async def architecture(limits: NetLimitsDep) -> NetworkOut:
    return service.architecture(limits)  # type: ignore[return-value]


@router.get("/digits", summary="The 360 held-out digits (pixels 0..16) and their labels")
async def digits() -> NetDigitsOut:
    return service.held_out_digits()  # type: ignore[return-value]


@router.get("/weights", responses=ERRORS, summary="Every parameter of a weight set")
async def weights(state: StateDep, weights: Annotated[WeightsId, Query()] = "shipped"
                  ) -> NetWeightsOut:
    params = service.resolve_weights(weights, state)
    return {"id": weights, "params": {k: v.tolist() for k, v in params.items()}}  # type: ignore[return-value]


@router.post("/weights", status_code=201, responses=ERRORS,
             openapi_extra={"requestBody": file_body(
                 "A .safetensors file or an .npz archive of the network's tensors (any "
                 "subset): exercise layout or PyTorch's, see the route's description.")},
             summary="Upload weights (.safetensors or .npz; never a pickle)")
async def upload_weights(request: Request, limits: SettingsDep, net_limits: NetLimitsDep,
                         state: StateDep) -> NetUploadOut:
    """multipart/form-data with a `file`. Names: conv1.W, conv1.b, conv2.W, conv2.b,
    dense.W, dense.b (exercise layout: W (f, f, n_C_prev, n_C), dense W (64, 10) over the
    (h, w, c) flatten), or PyTorch's conv1.weight (8, 1, 3, 3), ..., fc.weight (10, 64) over
    the (c, h, w) flatten, or an nn.Sequential's <index>.weight. Tensors the file does not
    hold keep the shipped values. The answer's `id` goes in `weights` of /run and /steps;
    nothing changes for anyone else."""
    data, filename, _ = await form_file(request, net_limits.max_weights_bytes, limits,
                                         {"file"})

    def work():
        ws = weight_set(data, service.shipped_params(), filename)
        _, accuracy = evaluate(ws.params, *load_digits().split("test"))
        return ws, accuracy

    ws, accuracy = await heavy(request, work, cost=service.upload_cost(data),
                               what="this weight upload")
    state.weights.put(ws)
    return {"id": ws.id, "source": ws.source, "replaced": list(ws.replaced),  # type: ignore[return-value]
            "kept": list(ws.kept), "test_accuracy": accuracy}


@router.post("/run", responses=ERRORS,
             summary="Forward and backward pass of one digit: every layer's maps and "
                     "gradients, the probabilities, the saliency map")
async def run(body: NetRunIn, request: Request, limits: NetLimitsDep, state: StateDep) -> NetRunOut:
    """`input` is the 8 x 8 pixels, a drawing (ink 0..255 a pixel, preprocessed as the data
    was: `ink` as nested rows, or `ink_base64`, one uint8 a pixel row after row, with its
    `shape`; both give the same answer), a drawing as `strokes` (the pen's path, drawn with
    a pen a share of the digit's size, as the page sends it) or a held-out digit by index.
    The backward pass starts from the loss -log p[target] (default: the true label of a
    held-out digit, else the prediction). `digit_like` says whether the input looks like a
    digit at all (its distance to the digits; over the threshold the answer means little)."""
    params = service.resolve_weights(body.weights, state)
    cost = _held(request) + service.run_cost(body.input, limits)

    def work():
        digit = service.digit_input(body.input, limits)
        return _json(NetRunOut, {"weights": body.weights, **service.run(
            params, digit, body.target, body.backward)})

    return await heavy(request, work, cost=cost, what="this run")  # type: ignore[return-value]


class NetPhotoSettings(Strict):
    target: Class | None = None
    weights: WeightsId = "shipped"
    backward: bool = True


@router.post("/run/photo", responses=ERRORS,
             openapi_extra={"requestBody": file_body(
                 "A photo or scan of one digit (PNG, JPEG, GIF, WebP, BMP or TIFF).",
                 "NetPhotoSettings")},
             summary="Forward and backward pass of an uploaded photo of a digit (gray, "
                     "cropped to the ink, scaled to 8 x 8 like the data)")
async def run_photo(request: Request, limits: SettingsDep, net_limits: NetLimitsDep,
                    state: StateDep) -> NetRunOut:
    """multipart/form-data: `file`, and optionally `settings` (JSON: target, weights,
    backward). The answer's input.pixels is the preprocessed 8 x 8 digit, input.preprocess
    where the ink was found."""
    data, _, parts = await form_file(request, limits.max_upload_bytes, limits,
                                      {"file", "settings"})
    try:
        s = NetPhotoSettings.model_validate_json(bytes(parts["settings"].data)) \
            if "settings" in parts else NetPhotoSettings()
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", "settings", *e["loc"]),
                                       "ctx": {k: str(v) for k, v in e.get("ctx", {}).items()}}
                                      for e in exc.errors(include_url=False)]) from None
    params = service.resolve_weights(s.weights, state)
    cost = await run_in_threadpool(service.photo_cost, data, net_limits, limits.max_pixels,
                                   limits.max_decode_bytes)

    def work():
        digit = service.photo_input(data, net_limits, limits.max_pixels,
                                    limits.max_decode_bytes)
        return _json(NetRunOut, {"weights": s.weights, **service.run(
            params, digit, s.target, s.backward)})

    return await heavy(request, work, cost=cost, what="this photo")  # type: ignore[return-value]


@router.post("/steps", responses=ERRORS,
             summary="Step records of one conv or pool layer on its real input, forward or "
                     "backward, with the layer's arrays")
async def steps(body: NetStepsIn, request: Request, limits: NetLimitsDep,
                state: StateDep) -> NetStepsOut:
    params = service.resolve_weights(body.weights, state)
    cost = _held(request) + service.steps_cost(body.input, body.layer, body.limit, limits)

    def work():
        digit = service.digit_input(body.input, limits)
        return _json(NetStepsOut, service.step_page(
            params, digit, body.target, body.layer, body.direction, body.offset, body.limit,
            body.position))

    return await heavy(request, work, cost=cost, what="this step page")  # type: ignore[return-value]


# ---------------------------------------------------------------- training jobs


@router.post("/train", status_code=201, responses=ERRORS,
             summary="Start a training job from random weights (503 past max_jobs)")
async def train_start(body: NetTrainIn, request: Request, limits: NetLimitsDep,
                      state: StateDep) -> NetJobOut:
    """The job holds its bytes (service.job_cost) of the memory budget while it runs or is
    paused: 503 when they do not fit beside the work in flight."""
    if body.epochs > limits.max_job_epochs:
        raise ApiError(422, "over_limit", f"epochs is {body.epochs}; the limit is "
                       f"max_job_epochs = {limits.max_job_epochs} (CONVSTEP_NET_MAX_JOB_EPOCHS).")
    config = TrainConfig(epochs=body.epochs, batch_size=body.batch_size, lr=body.lr,
                         lr_final=body.lr_final, seed=body.seed, shift=body.shift)
    release = request.app.state.limiter.hold(service.job_cost(body.batch_size),
                                             "a training job")
    try:
        job = await asyncio.to_thread(state.jobs.start, config, service.job_limits(limits),
                                      body.steps_per_second)
    except BaseException:
        release()
        raise
    release_when_done(job.thread, release)
    return job.snapshot()  # type: ignore[return-value]


@router.get("/train/{job_id}", responses=ERRORS,
            summary="A training job's progress: state, curves (points from `since`), conv1's "
                    "filters")
async def train_progress(job_id: JobId, state: StateDep,
                         since: Annotated[int, Query(ge=0, le=10**6)] = 0,
                         wait: Annotated[float, Query(ge=0, le=20, description=
                                         "Long poll: wait up to this many seconds for a "
                                         "new point or a change of state.")] = 0) -> NetJobOut:
    job = state.jobs.get(job_id)
    if wait:
        await asyncio.to_thread(job.wait, since, wait)
    return job.snapshot(since)  # type: ignore[return-value]


@router.get("/train/{job_id}/events", responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description":
                    "Server-sent events: `progress` (a NetJobOut with the new points) after each "
                    "point or change of state, then `end` when the job has ended."}},
    response_class=StreamingResponse, summary="A training job's progress as server-sent events")
async def train_events(job_id: JobId, state: StateDep, limits: NetLimitsDep,
                       since: Annotated[int, Query(ge=0, le=10**6)] = 0) -> StreamingResponse:
    job = state.jobs.get(job_id)
    deadline = time.monotonic() + limits.max_job_seconds + limits.max_pause_seconds + 30

    async def events():
        seen, last_state = since, None
        while time.monotonic() < deadline:
            snap = job.snapshot(seen)
            if snap["points"] or snap["state"] != last_state:
                seen, last_state = snap["points_total"], snap["state"]
                yield f"event: progress\ndata: {json.dumps(snap)}\n\n"
            if snap["state"] not in ("running", "paused"):
                yield f"event: end\ndata: {json.dumps({'state': snap['state']})}\n\n"
                return
            await asyncio.to_thread(job.wait, seen, 5.0)
            yield ": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/train/{job_id}/pace", responses={**ERRORS, 409: {
    "model": ErrorOut, "description": "The job has ended."}},
    summary="Change a training job's pace (minibatches a second) while it runs")
async def train_pace(job_id: JobId, body: NetPaceIn, state: StateDep) -> NetJobOut:
    job = state.jobs.get(job_id)
    job.set_pace(body.steps_per_second)
    return job.snapshot(10**9)  # type: ignore[return-value]


@router.post("/train/{job_id}/{action}", responses={**ERRORS, 409: {
    "model": ErrorOut, "description": "The job has ended."}},
    summary="Pause, resume or stop a training job")
async def train_control(job_id: JobId, action: Literal["pause", "resume", "stop"],
                        state: StateDep) -> NetJobOut:
    job = state.jobs.get(job_id)
    job.control(action)
    want = {"pause": "paused", "resume": "running", "stop": None}[action]
    for _ in range(40):  # the thread acts between two minibatches: a few ms
        snap = job.snapshot(10**9)
        if (want and snap["state"] == want) or (want is None and snap["state"] not in
                                               ("running", "paused")):
            break
        await asyncio.to_thread(job.wait, 10**9, 0.05)
    return job.snapshot()  # type: ignore[return-value]


@router.delete("/train/{job_id}", status_code=204, responses=ERRORS,
               summary="Stop and forget a training job (the page's reset)")
async def train_delete(job_id: JobId, state: StateDep) -> Response:
    await asyncio.to_thread(state.jobs.delete, job_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- the page


@page_router.get("/network", response_class=HTMLResponse, include_in_schema=False)
async def network_page(request: Request, limits: NetLimitsDep) -> HTMLResponse:
    """The network page: draw a digit, watch every layer, the backward pass, training."""
    boot = {"architecture": service.architecture(limits)}
    return request.app.state.templates.TemplateResponse(
        request, "network.html", {"boot": boot, "nav": nav(request, "network")})
