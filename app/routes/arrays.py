"""One route per seed function: the exercise over JSON, with full float64 precision.

Backward routes take what the forward cache holds (inputs, weights, hparameters) plus the
upstream gradient, so the server keeps no state between calls.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends

import core
from app.config import Settings, get_settings
from app.schemas import (
    ConvBackwardIn,
    ConvBackwardOut,
    ConvForwardIn,
    ConvForwardOut,
    ConvSingleStepIn,
    ConvSingleStepOut,
    CreateMaskIn,
    CreateMaskOut,
    DistributeValueIn,
    DistributeValueOut,
    ErrorOut,
    PoolBackwardIn,
    PoolBackwardOut,
    PoolForwardIn,
    PoolForwardOut,
    StepsQuery,
    ZeroPadIn,
    ZeroPadOut,
)
from app.work import (
    check_conv_work,
    check_elements,
    check_pool_work,
    heavy_slot,
    page_limit,
    to_array,
)

ERRORS = {
    413: {"model": ErrorOut, "description": "An array or the body is over a limit."},
    422: {"description": "A field is invalid (FastAPI's list of errors), or the geometry "
                         "cannot work ({detail, code: 'geometry'}, core's message)."},
    503: {"model": ErrorOut, "description": "Busy: try again after Retry-After seconds."},
}

router = APIRouter(prefix="/api", tags=["arrays: the exercise's functions"], responses=ERRORS)
SettingsDep = Annotated[Settings, Depends(get_settings)]
# The routes are plain functions: FastAPI runs them in its thread pool, off the event loop,
# once heavy_slot has a slot for them (503 with Retry-After when none comes soon).
HeavySlot = Annotated[None, Depends(heavy_slot)]


def _pad_value(v: float | list[float]) -> float | tuple[float, float]:
    return tuple(v) if isinstance(v, list) else v


def _steps(steps: StepsQuery | None, settings: Settings) -> dict | None:
    if steps is None:
        return None
    limit = page_limit("steps.limit", steps.limit, "limit" in steps.model_fields_set, settings)
    return {"offset": steps.offset, "limit": limit}


def _pool_setup(A_prev: np.ndarray, hp: dict, settings: Settings, where: str) -> None:
    """Check the pooling's geometry (core's message) and its work bound before any work."""
    if A_prev.ndim == 4:
        m, n_H_prev, n_W_prev, n_C = A_prev.shape
        g = core.pool_geometry(n_H_prev, n_W_prev, hp["f"], stride=hp["stride"])
        check_pool_work(where, m, g.n_H, g.n_W, n_C, g.f, settings)


def _conv_setup(body: ConvForwardIn | ConvBackwardIn, settings: Settings, where: str):
    """Arrays and the geometry of a conv request, every size checked before any work."""
    A_prev = to_array("A_prev", body.A_prev, settings)
    W = to_array("W", body.W, settings)
    b = to_array("b", body.b, settings)
    hp = body.hparameters.model_dump()
    kw = {"pad_mode": body.pad_mode, "pad_value": _pad_value(body.pad_value),
          "dilation": body.dilation}
    # core checks every shape and names the numbers; a mistake ends as a 422 "geometry".
    setup = core.conv.prepare_conv(A_prev, W, b, hp, **kw)
    g = setup.geometry
    m, n_C_prev, n_C = A_prev.shape[0], A_prev.shape[3], W.shape[3]
    check_elements("Z (the output)", m * g.n_H * g.n_W * n_C, settings)
    check_conv_work(where, m, g.n_H, g.n_W, g.f, n_C_prev, settings)
    return A_prev, W, b, hp, kw


@router.post("/zero_pad", summary="zero_pad(X, pad): pad height and width")
def zero_pad(body: ZeroPadIn, settings: SettingsDep, _: HeavySlot) -> ZeroPadOut:
    X = to_array("X", body.X, settings)
    if X.ndim == 4:
        m, n_H, n_W, n_C = X.shape
        check_elements("X_pad (the output)", m * (n_H + 2 * body.pad) * (n_W + 2 * body.pad)
                       * n_C, settings)
    X_pad = core.zero_pad(X, body.pad, pad_mode=body.pad_mode,
                          pad_value=_pad_value(body.pad_value))
    return ZeroPadOut(X_pad=X_pad.tolist())


@router.post("/conv_single_step", summary="conv_single_step(a_slice_prev, W, b)")
def conv_single_step(body: ConvSingleStepIn, settings: SettingsDep,
                     _: HeavySlot) -> ConvSingleStepOut:
    a = to_array("a_slice_prev", body.a_slice_prev, settings)
    W = to_array("W", body.W, settings)
    b = to_array("b", body.b, settings)
    return ConvSingleStepOut(Z=core.conv_single_step(a, W, b))


@router.post("/conv_forward", summary="conv_forward(A_prev, W, b, hparameters)")
def conv_forward(body: ConvForwardIn, settings: SettingsDep, _: HeavySlot) -> ConvForwardOut:
    A_prev, W, b, hp, kw = _conv_setup(body, settings, "conv_forward")
    where = _steps(body.steps, settings)
    Z, _cache = core.conv_forward(A_prev, W, b, hp, **kw)
    out: dict = {"Z": Z.tolist()}
    if where is not None:
        out["steps"] = core.conv_forward_trace(A_prev, W, b, hp, **kw, **where).to_dict()
    return ConvForwardOut(**out)


@router.post("/conv_backward", summary="conv_backward(dZ, cache)")
def conv_backward(body: ConvBackwardIn, settings: SettingsDep,
                  _: HeavySlot) -> ConvBackwardOut:
    A_prev, W, b, hp, kw = _conv_setup(body, settings, "conv_backward")
    dZ = to_array("dZ", body.dZ, settings)
    where = _steps(body.steps, settings)
    # The cache as conv_forward builds it: (A_prev, W, b, hparameters) with the extensions
    # stored inside hparameters.
    cache = (A_prev, W, b, {**hp, **kw})
    dA_prev, dW, db = core.conv_backward(dZ, cache)
    out: dict = {"dA_prev": dA_prev.tolist(), "dW": dW.tolist(), "db": db.tolist()}
    if where is not None:
        out["steps"] = core.conv_backward_trace(dZ, cache, **where).to_dict()
    return ConvBackwardOut(**out)


@router.post("/pool_forward", summary="pool_forward(A_prev, hparameters, mode)")
def pool_forward(body: PoolForwardIn, settings: SettingsDep, _: HeavySlot) -> PoolForwardOut:
    A_prev = to_array("A_prev", body.A_prev, settings)
    hp = body.hparameters.model_dump()
    _pool_setup(A_prev, hp, settings, "pool_forward")
    where = _steps(body.steps, settings)
    A, _cache = core.pool_forward(A_prev, hp, mode=body.mode)
    out: dict = {"A": A.tolist()}
    if where is not None:
        out["steps"] = core.pool_forward_trace(A_prev, hp, mode=body.mode,
                                               tie_rule=body.tie_rule, **where).to_dict()
    return PoolForwardOut(**out)


@router.post("/pool_backward", summary="pool_backward(dA, cache, mode)")
def pool_backward(body: PoolBackwardIn, settings: SettingsDep,
                  _: HeavySlot) -> PoolBackwardOut:
    A_prev = to_array("A_prev", body.A_prev, settings)
    dA = to_array("dA", body.dA, settings)
    hp = body.hparameters.model_dump()
    _pool_setup(A_prev, hp, settings, "pool_backward")
    where = _steps(body.steps, settings)
    cache = (A_prev, hp)
    dA_prev = core.pool_backward(dA, cache, mode=body.mode, tie_rule=body.tie_rule)
    out: dict = {"dA_prev": dA_prev.tolist()}
    if where is not None:
        out["steps"] = core.pool_backward_trace(dA, cache, mode=body.mode,
                                                tie_rule=body.tie_rule, **where).to_dict()
    return PoolBackwardOut(**out)


@router.post("/create_mask_from_window", summary="create_mask_from_window(x): x == max(x)")
def create_mask_from_window(body: CreateMaskIn, settings: SettingsDep,
                            _: HeavySlot) -> CreateMaskOut:
    x = to_array("x", body.x, settings)
    return CreateMaskOut(mask=np.asarray(core.create_mask_from_window(x)).tolist())


@router.post("/distribute_value", summary="distribute_value(dz, shape): dz / (n_H * n_W) each")
def distribute_value(body: DistributeValueIn, settings: SettingsDep,
                     _: HeavySlot) -> DistributeValueOut:
    n_H, n_W = body.shape
    check_elements("shape (the output)", n_H * n_W, settings)
    return DistributeValueOut(a=core.distribute_value(body.dz, (n_H, n_W)).tolist())
