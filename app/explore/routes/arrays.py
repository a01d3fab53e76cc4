"""One route per seed function: POST /api/<name>, the exercise over JSON, with full float64
precision. The work is app/explore/services/arrays.py's; this module only declares the routes.

Backward routes take what the forward cache holds (inputs, weights, hparameters) plus the
upstream gradient, so the server keeps no state between calls.
"""

# No `from __future__ import annotations` here: the route functions are made in a loop and
# FastAPI must see their real parameter and return types.

from collections.abc import Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.explore.schemas import arrays as m
from app.explore.services import arrays as service
from app.platform.config import Settings
from app.platform.deps import SettingsDep
from app.platform.heavy import admitted
from app.platform.json_body import StrictJSONBodyRoute
from app.platform.schemas.common import ErrorOut

ERRORS = {
    413: {"model": ErrorOut, "description": "An array or the body is over a limit."},
    422: {"description": "A field is invalid (FastAPI's list of errors), or the geometry "
                         "cannot work ({detail, code: 'geometry'}, core's message)."},
    503: {"model": ErrorOut, "description": "Busy: try again after Retry-After seconds."},
}

# Strict JSON: a number is a JSON number ("1", true or "3" are refused), parsed off the
# event loop within the memory budget (app/platform/json_body.py).
router = APIRouter(prefix="/api", tags=["arrays: the exercise's functions"], responses=ERRORS,
                   route_class=StrictJSONBodyRoute)

# (the service function, named as the seed function and its route, request, answer, summary)
ROUTES: list[tuple[Callable[..., dict], type[BaseModel], type[BaseModel], str]] = [
    (service.zero_pad, m.ZeroPadIn, m.ZeroPadOut, "zero_pad(X, pad): pad height and width"),
    (service.conv_single_step, m.ConvSingleStepIn, m.ConvSingleStepOut,
     "conv_single_step(a_slice_prev, W, b)"),
    (service.conv_forward, m.ConvForwardIn, m.ConvForwardOut,
     "conv_forward(A_prev, W, b, hparameters)"),
    (service.conv_backward, m.ConvBackwardIn, m.ConvBackwardOut, "conv_backward(dZ, cache)"),
    (service.pool_forward, m.PoolForwardIn, m.PoolForwardOut,
     "pool_forward(A_prev, hparameters, mode)"),
    (service.pool_backward, m.PoolBackwardIn, m.PoolBackwardOut,
     "pool_backward(dA, cache, mode)"),
    (service.create_mask_from_window, m.CreateMaskIn, m.CreateMaskOut,
     "create_mask_from_window(x): x == max(x)"),
    (service.distribute_value, m.DistributeValueIn, m.DistributeValueOut,
     "distribute_value(dz, shape): dz / (n_H * n_W) each"),
    (service.conv_transpose, m.ConvTransposeIn, m.ConvTransposeOut,
     "conv_transpose(A_prev, W, b, hparameters): the transposed convolution"),
]


def _route(run: Callable[[BaseModel, Settings], dict], body_type: type[BaseModel],
           answer_type: type[BaseModel]) -> Callable:
    """A route: the body parsed (strict, off the loop), its cost bounded from the shapes
    before anything is allocated, then the service in the thread pool once that cost is
    admitted (light calls pass at once; heavy ones queue; over the budget a 413)."""
    name = run.__name__

    async def route(body: BaseModel, request: Request, settings: SettingsDep) -> BaseModel:
        held = getattr(request.state, "body_cost", 0)  # the parsed body, still alive
        cost = held + service.cost(name, body, settings)
        async with admitted(request, cost, name):
            return answer_type(**await run_in_threadpool(run, body, settings))

    route.__annotations__ = {"body": body_type, "request": Request, "settings": SettingsDep,
                             "return": answer_type}
    route.__name__ = route.__qualname__ = run.__name__
    route.__doc__ = body_type.__doc__
    return route


def _answer_example(run: Callable[[BaseModel, Settings], dict],
                    body_type: type[BaseModel]) -> dict:
    """/docs' example answer: the service run on the request's first example (computed by
    core when the app is built, never written by hand)."""
    request = body_type.model_config["json_schema_extra"]["examples"][0]
    answer = run(body_type.model_validate(request), Settings())
    return {200: {"content": {"application/json": {"example": answer}}}}


for _run, _body, _answer, _summary in ROUTES:
    router.add_api_route(f"/{_run.__name__}", _route(_run, _body, _answer), methods=["POST"],
                         summary=_summary, responses=_answer_example(_run, _body))
