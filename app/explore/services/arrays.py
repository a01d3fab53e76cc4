"""The work behind the array routes: each seed function run on a request's JSON arrays.

Every array and the work it asks for are checked against the limits before core runs
(app/platform/bounds.py); core checks every shape and names the numbers (a GeometryError
becomes a 422 "geometry"). Each function returns the answer's fields as plain lists.
"""

from __future__ import annotations

import numpy as np

import core
from app.explore.schemas.arrays import (
    ConvBackwardIn,
    ConvForwardIn,
    ConvSingleStepIn,
    ConvTransposeIn,
    CreateMaskIn,
    DistributeValueIn,
    PoolBackwardIn,
    PoolForwardIn,
    StepsQuery,
    ZeroPadIn,
)
from app.platform.bounds import (
    FIXED_BYTES,
    answer_cost,
    check_conv_work,
    check_elements,
    check_pool_work,
    inputs_cost,
    page_cost,
    page_limit,
    shape_of,
    step_numbers,
    to_array,
)
from app.platform.config import Settings
from core import workspace


def _pad_value(v: float | list[float]) -> float | tuple[float, float]:
    return tuple(v) if isinstance(v, list) else v


def _steps(steps: StepsQuery | None, settings: Settings, per_step: int) -> dict | None:
    """core's page arguments {offset, limit} for a request's `steps` whose records carry
    `per_step` numbers each, or None."""
    if steps is None:
        return None
    limit = page_limit("steps.limit", steps.limit, "limit" in steps.model_fields_set, settings,
                       per_step)
    return {"offset": steps.offset, "limit": limit}


def _with_steps(out: dict, where: dict | None, page) -> dict:
    """`out` plus "steps": page(**where).to_dict() when the request asked for steps."""
    if where is not None:
        out["steps"] = page(**where).to_dict()
    return out


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


def zero_pad(body: ZeroPadIn, settings: Settings) -> dict:
    X = to_array("X", body.X, settings)
    if X.ndim == 4:
        m, n_H, n_W, n_C = X.shape
        check_elements("X_pad (the output)", m * (n_H + 2 * body.pad) * (n_W + 2 * body.pad)
                       * n_C, settings)
    X_pad = core.zero_pad(X, body.pad, pad_mode=body.pad_mode,
                          pad_value=_pad_value(body.pad_value))
    return {"X_pad": X_pad.tolist()}


def conv_single_step(body: ConvSingleStepIn, settings: Settings) -> dict:
    a = to_array("a_slice_prev", body.a_slice_prev, settings)
    W = to_array("W", body.W, settings)
    b = to_array("b", body.b, settings)
    return {"Z": core.conv_single_step(a, W, b)}


def conv_forward(body: ConvForwardIn, settings: Settings) -> dict:
    A_prev, W, b, hp, kw = _conv_setup(body, settings, "conv_forward")
    where = _steps(body.steps, settings, step_numbers("conv", W.shape[0], W.shape[2]))
    Z, _cache = core.conv_forward(A_prev, W, b, hp, **kw)
    return _with_steps({"Z": Z.tolist()}, where,
                       lambda **w: core.conv_forward_trace(A_prev, W, b, hp, **kw, **w))


def conv_backward(body: ConvBackwardIn, settings: Settings) -> dict:
    A_prev, W, b, hp, kw = _conv_setup(body, settings, "conv_backward")
    dZ = to_array("dZ", body.dZ, settings)
    where = _steps(body.steps, settings, step_numbers("conv", W.shape[0], W.shape[2]))
    # The cache as conv_forward builds it: (A_prev, W, b, hparameters) with the extensions
    # stored inside hparameters.
    cache = (A_prev, W, b, {**hp, **kw})
    dA_prev, dW, db = core.conv_backward(dZ, cache)
    return _with_steps({"dA_prev": dA_prev.tolist(), "dW": dW.tolist(), "db": db.tolist()},
                       where, lambda **w: core.conv_backward_trace(dZ, cache, **w))


def pool_forward(body: PoolForwardIn, settings: Settings) -> dict:
    A_prev = to_array("A_prev", body.A_prev, settings)
    hp = body.hparameters.model_dump()
    _pool_setup(A_prev, hp, settings, "pool_forward")
    where = _steps(body.steps, settings, step_numbers("pool", hp["f"], 1))
    A, _cache = core.pool_forward(A_prev, hp, mode=body.mode)
    return _with_steps({"A": A.tolist()}, where, lambda **w: core.pool_forward_trace(
        A_prev, hp, mode=body.mode, tie_rule=body.tie_rule, **w))


def pool_backward(body: PoolBackwardIn, settings: Settings) -> dict:
    A_prev = to_array("A_prev", body.A_prev, settings)
    dA = to_array("dA", body.dA, settings)
    hp = body.hparameters.model_dump()
    _pool_setup(A_prev, hp, settings, "pool_backward")
    where = _steps(body.steps, settings, step_numbers("pool", hp["f"], 1))
    cache = (A_prev, hp)
    dA_prev = core.pool_backward(dA, cache, mode=body.mode, tie_rule=body.tie_rule)
    return _with_steps({"dA_prev": dA_prev.tolist()}, where, lambda **w: core.pool_backward_trace(
        dA, cache, mode=body.mode, tie_rule=body.tie_rule, **w))


def create_mask_from_window(body: CreateMaskIn, settings: Settings) -> dict:
    x = to_array("x", body.x, settings)
    return {"mask": np.asarray(core.create_mask_from_window(x)).tolist()}


def _transpose_setup(A, W, b, body: ConvTransposeIn, settings: Settings):
    """core's shape checks and the output's size, on arrays or zero-stride stand-ins of the
    shapes (nothing of their size allocated): the setup, the canvas (m, n_H_full, n_W_full,
    n_C) and the work, each within the limits."""
    s = core.transpose.prepare_transpose(A, W, b, body.hparameters.model_dump(),
                                         output_padding=_pair(body.output_padding),
                                         dilation=body.dilation)
    g = s.geometry
    m, n_C = s.A_prev.shape[0], s.W.shape[2]
    check_elements("Z (the output)", m * g.n_H * g.n_W * n_C, settings)
    check_elements("the canvas (the output before the crop of pad)",
                   m * g.n_H_full * g.n_W_full * n_C, settings)
    # each input cell spreads f*f*n_C numbers
    check_conv_work("conv_transpose", m, s.A_prev.shape[1], s.A_prev.shape[2], g.f, n_C,
                    settings)
    return s, (m, g.n_H_full, g.n_W_full, n_C)


def _pair(output_padding):
    return tuple(output_padding) if isinstance(output_padding, list) else output_padding


def conv_transpose(body: ConvTransposeIn, settings: Settings) -> dict:
    A_prev = to_array("A_prev", body.A_prev, settings)
    W = to_array("W", body.W, settings)
    b = to_array("b", body.b, settings)
    _transpose_setup(A_prev, W, b, body, settings)
    hp = body.hparameters.model_dump()
    kw = {"output_padding": _pair(body.output_padding), "dilation": body.dilation}
    where = _steps(body.steps, settings, step_numbers("conv", W.shape[0], W.shape[2]))
    Z, _cache = core.conv_transpose(A_prev, W, b, hp, **kw)
    return _with_steps({"Z": Z.tolist()}, where,
                       lambda **w: core.conv_transpose_trace(A_prev, W, b, hp, **kw, **w))


def distribute_value(body: DistributeValueIn, settings: Settings) -> dict:
    n_H, n_W = body.shape
    check_elements("shape (the output)", n_H * n_W, settings)
    return {"a": core.distribute_value(body.dz, (n_H, n_W)).tolist()}


# --- what each route costs, from the shapes alone, before anything is allocated ----------------


def _page(steps: StepsQuery | None, per_step: int, settings: Settings) -> int:
    if steps is None:
        return 0
    limit = page_limit("steps.limit", steps.limit, "limit" in steps.model_fields_set, settings,
                       per_step)
    return page_cost(limit, per_step)


def _conv_cost(body: ConvForwardIn | ConvBackwardIn, settings: Settings,
               backward: bool) -> int:
    A, W, b = shape_of(body.A_prev, 4), shape_of(body.W, 4), shape_of(body.b, 4)
    if len(A) != 4 or len(W) != 4:
        return inputs_cost(A, W, b)  # core refuses the shapes before any work
    hp = body.hparameters.model_dump()
    kw = {"pad_mode": body.pad_mode, "dilation": body.dilation}
    _check_inputs(settings, A_prev=A, W=W, b=b)
    # core's own shape checks and messages, on zero-stride stand-ins of the shapes (views of
    # one number: nothing of the arrays' size is allocated)
    g = core.conv.prepare_conv(*(np.broadcast_to(0.0, sh) for sh in (A, W, b)), hp,
                               pad_mode=body.pad_mode, pad_value=_pad_value(body.pad_value),
                               dilation=body.dilation).geometry
    where = "conv_backward" if backward else "conv_forward"
    check_elements("Z (the output)", A[0] * g.n_H * g.n_W * W[3], settings)
    check_conv_work(where, A[0], g.n_H, g.n_W, W[0], A[3], settings)
    # core/workspace.py's bound of the layer function's peak (its results included); a
    # GeometryError here is the same 422 core would give
    if backward:
        work = workspace.conv_backward_bytes(A, W, hp, **kw)
        out = answer_cost(A, W, (1, 1, 1, W[3]))
        extra = inputs_cost(shape_of(body.dZ, 4))
    else:
        work = workspace.conv_forward_bytes(A, W, hp, **kw)
        out = answer_cost((A[0], g.n_H, g.n_W, W[3]))
        extra = 0
    return (inputs_cost(A, W, b) + extra + work + out
            + _page(body.steps, step_numbers("conv", W[0], W[2]), settings))


def _pool_cost(body: PoolForwardIn | PoolBackwardIn, settings: Settings,
               backward: bool) -> int:
    A = shape_of(body.A_prev, 4)
    if len(A) != 4:
        return inputs_cost(A)
    hp = body.hparameters.model_dump()
    _check_inputs(settings, A_prev=A)
    g = core.pool_geometry(A[1], A[2], hp["f"], stride=hp["stride"])
    check_pool_work("pool_backward" if backward else "pool_forward", A[0], g.n_H, g.n_W, A[3],
                    g.f, settings)
    if backward:
        work = workspace.pool_backward_bytes(A, hp, body.mode, tie_rule=body.tie_rule)
        out = answer_cost(A) + inputs_cost(shape_of(body.dA, 4))
    else:
        work = workspace.pool_forward_bytes(A, hp, body.mode)
        out = answer_cost((A[0], g.n_H, g.n_W, A[3]))
    return inputs_cost(A) + work + out + _page(body.steps, step_numbers("pool", hp["f"], 1),
                                                 settings)


def _transpose_cost(body: ConvTransposeIn, settings: Settings) -> int:
    A, W, b = shape_of(body.A_prev, 4), shape_of(body.W, 4), shape_of(body.b, 4)
    if len(A) != 4 or len(W) != 4:
        return inputs_cost(A, W, b)  # core refuses the shapes before any work
    _check_inputs(settings, A_prev=A, W=W, b=b)
    setup, canvas = _transpose_setup(*(np.broadcast_to(0.0, sh) for sh in (A, W, b)), body,
                                     settings)
    g = setup.geometry
    # the canvas, one (m, n_H_prev, n_W_prev, n_C) product per kernel offset, Z with the bias
    work = 8 * (canvas[0] * canvas[1] * canvas[2] * canvas[3] + A[0] * A[1] * A[2] * W[2]
                + A[0] * g.n_H * g.n_W * W[2])
    return (inputs_cost(A, W, b) + work + answer_cost((A[0], g.n_H, g.n_W, W[2]))
            + _page(body.steps, step_numbers("conv", W[0], W[2]), settings))


def _check_inputs(settings: Settings, **shapes: tuple[int, ...]) -> None:
    """max_array_elements for each input, from its shape, before the memory bound."""
    for name, shape in shapes.items():
        n = 1
        for d in shape:
            n *= d
        check_elements(name, n, settings)


def _zero_pad_cost(body: ZeroPadIn, settings: Settings) -> int:
    X = shape_of(body.X, 4)
    if len(X) != 4:
        return inputs_cost(X)
    _check_inputs(settings, X=X)
    out = (X[0], X[1] + 2 * body.pad, X[2] + 2 * body.pad, X[3])
    check_elements("X_pad (the output)", out[0] * out[1] * out[2] * out[3], settings)
    return inputs_cost(X) + answer_cost(out)


def _distribute_cost(body: DistributeValueIn, settings: Settings) -> int:
    n_H, n_W = body.shape
    check_elements("shape (the output)", n_H * n_W, settings)
    return FIXED_BYTES + answer_cost((n_H, n_W))


COSTS = {
    "zero_pad": _zero_pad_cost,
    "conv_single_step": lambda body, _s: 3 * inputs_cost(shape_of(body.a_slice_prev, 3)),
    "conv_forward": lambda body, s: _conv_cost(body, s, backward=False),
    "conv_backward": lambda body, s: _conv_cost(body, s, backward=True),
    "pool_forward": lambda body, s: _pool_cost(body, s, backward=False),
    "pool_backward": lambda body, s: _pool_cost(body, s, backward=True),
    "create_mask_from_window": lambda body, _s: (inputs_cost(shape_of(body.x, 2))
                                                 + answer_cost(shape_of(body.x, 2))),
    "distribute_value": _distribute_cost,
    "conv_transpose": _transpose_cost,
}


def cost(name: str, body, settings: Settings) -> int:
    """An upper bound of the bytes the route `name` holds at its peak for `body`."""
    return COSTS[name](body, settings)
