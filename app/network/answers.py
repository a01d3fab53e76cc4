"""The network routes' heavy answers, each admitted by its cost before it runs: a weight
upload checked and evaluated, a run (forward and backward) of a digit or a photo, a layer's
step page. Each one resolves its weight set, prices its work (service.*_cost, plus the
parsed body a JSON route holds) and runs it in a heavy slot (app/platform/heavy.py), so
that app/network/routes.py only parses, calls one of these and returns.
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from app.network import service
from app.network.schemas import (
    NetPhotoSettings,
    NetRunIn,
    NetRunOut,
    NetStepsIn,
    NetStepsOut,
    NetUploadOut,
)
from app.network.store import client_of
from app.platform.config import Settings
from app.platform.heavy import heavy
from app.platform.network_config import NetworkLimits
from app.platform.shared import call
from app.platform.weights import weight_set
from core.data import load_digits
from core.train import evaluate


def _held(request: Request) -> int:
    """What the parsed JSON body holds while the work runs (json_body's parse cost)."""
    return getattr(request.state, "body_cost", 0)


def _json(model, answer: dict) -> Response:
    """The answer validated and written as JSON in the worker thread, within its cost."""
    return Response(model.model_validate(answer).model_dump_json(),
                    media_type="application/json")


async def upload(request: Request, data: bytes, filename: str, limits: NetworkLimits,
                 state: service.NetworkState) -> NetUploadOut:
    """A weight file read as a weight set (the shipped values where it holds none), its
    held-out accuracy, kept for this client."""
    def work():
        ws = weight_set(data, service.shipped_params(), filename)
        _, accuracy = evaluate(ws.params, *load_digits().split("test"))
        return ws, accuracy

    ws, accuracy = await heavy(request, work, cost=service.upload_cost(data),
                               what="this weight upload")
    await call(state.weights.put(ws, accuracy, client_of(request), limits))
    return NetUploadOut(id=ws.id, source=ws.source, replaced=list(ws.replaced),
                        kept=list(ws.kept), test_accuracy=accuracy)


async def run(request: Request, body: NetRunIn, limits: NetworkLimits,
              state: service.NetworkState) -> Response:
    """NetRunOut of a digit given as pixels, a drawing, strokes or a held-out index."""
    params = await service.resolve_weights(body.weights, state)
    cost = _held(request) + service.run_cost(body.input, limits)

    def work():
        digit = service.digit_input(body.input, limits)
        return _json(NetRunOut, {"weights": body.weights, **service.run(
            params, digit, body.target, body.backward)})

    return await heavy(request, work, cost=cost, what="this run")


async def run_photo(request: Request, data: bytes, s: NetPhotoSettings, limits: Settings,
                    net_limits: NetworkLimits, state: service.NetworkState) -> Response:
    """NetRunOut of a photo of a digit, priced from its header before it is decoded."""
    params = await service.resolve_weights(s.weights, state)
    cost = await run_in_threadpool(service.photo_cost, data, net_limits, limits.max_pixels,
                                   limits.max_decode_bytes)

    def work():
        digit = service.photo_input(data, net_limits, limits.max_pixels,
                                    limits.max_decode_bytes)
        return _json(NetRunOut, {"weights": s.weights, **service.run(
            params, digit, s.target, s.backward)})

    return await heavy(request, work, cost=cost, what="this photo")


async def steps(request: Request, body: NetStepsIn, limits: NetworkLimits,
                state: service.NetworkState) -> Response:
    """NetStepsOut: a page of one layer's step records on the digit's real input."""
    params = await service.resolve_weights(body.weights, state)
    cost = _held(request) + service.steps_cost(body.input, body.layer, body.limit, limits)

    def work():
        digit = service.digit_input(body.input, limits)
        return _json(NetStepsOut, service.step_page(
            params, digit, body.target, body.layer, body.direction, body.offset, body.limit,
            body.position))

    return await heavy(request, work, cost=cost, what="this step page")
